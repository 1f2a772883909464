/* Execution, map and verifier scenarios: programs run through test-run (repeat=N, timed around
 * the whole call so the per-run figure keeps sub-ns precision), interpreted and native, against
 * the same logic in plain C; the verifier on every bundled program and a generated large one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "bpf/bench_maps.h"
#include "ebpf_api.h"
#include "ebpf_core.h"
#include "ebpf_elf.h"
#include "ebpf_platform.h"
#include "ebpf_verifier.h"
#include "netevent_ext_program_info.h"
#include "netevent_types.h"

/* ns per run of program over data, in one test-run of repeat runs (retval: the last run's). */
static int time_test_run(struct bpf_program *program, const uint8_t *data, size_t size,
                         uint32_t repeat, double *ns, uint32_t *retval)
{
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = data, .data_size_in = (uint32_t)size,
                .repeat = repeat);
    uint64_t start = bench_now_ns();
    int rc = bpf_prog_test_run_opts(bpf_program__fd(program), &options);
    uint64_t elapsed = bench_now_ns() - start;
    if (rc != 0)
        return ebpf_error_prefix(rc, "test run of %s: ", bpf_program__name(program));
    *ns = (double)elapsed / (double)repeat;
    if (retval != NULL)
        *retval = options.retval;
    return 0;
}

/* ---- execution ---- */

static volatile int checksum_sink; /* keeps the plain C loop from being optimised away */

int bench_execution(void)
{
    bench_program_t interpreted, native;
    double interpreter_ns[BENCH_RUNS_MAX], native_ns[BENCH_RUNS_MAX], c_ns[BENCH_RUNS_MAX],
        ratio[BENCH_RUNS_MAX], native_over_c[BENCH_RUNS_MAX];
    uint8_t event[1500];
    unsigned n = bench_options.runs;
    uint32_t interpreter_repeat = (uint32_t)bench_scaled(3000, 10);
    uint32_t native_repeat = (uint32_t)bench_scaled(50000, 100);
    uint32_t result_interpreted = 0, result_native = 0;

    bench_exec_event_path();
    int rc = bench_netevent_start();
    if (rc != 0)
        return bench_fail(rc, "exec: starting the extension");
    bench_build_event(event, sizeof(event), 1);
    rc = bench_program_load(&interpreted, bench_object_path("bench_checksum.o"), "BenchChecksum");
    if (rc != 0) {
        bench_fail(rc, "exec: bench_checksum.o");
        goto out;
    }
    rc = bench_program_load(&native, bench_object_path("bench_checksum.so"), "BenchChecksum");
    if (rc != 0) {
        bench_fail(rc, "exec: bench_checksum.so");
        bench_program_close(&interpreted);
        goto out;
    }
    for (unsigned run = 0; run < n && rc == 0; run++) {
        rc = time_test_run(interpreted.program, event, sizeof(event), interpreter_repeat,
                           &interpreter_ns[run], &result_interpreted);
        if (rc == 0)
            rc = time_test_run(native.program, event, sizeof(event), native_repeat, &native_ns[run],
                               &result_native);
        uint64_t repeat = native_repeat, start = bench_now_ns();
        for (uint64_t i = 0; i < repeat; i++)
            checksum_sink = bench_checksum_c(event, event + sizeof(event));
        c_ns[run] = (double)(bench_now_ns() - start) / (double)repeat;
        ratio[run] = interpreter_ns[run] / native_ns[run];
        native_over_c[run] = native_ns[run] / c_ns[run];
    }
    if (rc == 0 && (result_interpreted != result_native ||
                    result_native != (uint32_t)bench_checksum_c(event, event + sizeof(event))))
        rc = ebpf_error(-EIO, "checksums differ: interpreter %08x, native %08x, C %08x",
                        result_interpreted, result_native,
                        (uint32_t)bench_checksum_c(event, event + sizeof(event)));
    if (rc != 0) {
        bench_fail(rc, "exec: checksum");
    } else {
        bench_report("exec.checksum_1500B.interpreter", "ns/run", interpreter_ns, n);
        bench_report("exec.checksum_1500B.native", "ns/run", native_ns, n);
        bench_report("exec.checksum_1500B.plain_c", "ns/run", c_ns, n);
        bench_report("exec.native_over_interpreter", "ratio", ratio, n);
        bench_report("exec.native_over_plain_c", "ratio", native_over_c, n);
    }
    bench_program_close(&native);
    bench_program_close(&interpreted);
out:
    bench_netevent_stop();
    return rc;
}

/* ---- maps and helpers ---- */

static const char *const map_programs[] = {
    "ArrayLookup",      "ArrayUpdate",      "HashLookup",        "HashUpdate",
    "LruHashLookup",    "LruHashUpdate",    "PercpuArrayLookup", "PercpuArrayUpdate",
    "PercpuHashLookup", "PercpuHashUpdate", "RingbufOutput",     "RingbufReserveSubmit",
};

static int discard_record(void *context, void *data, size_t size)
{
    return 0;
}

/* Fills the hash maps so lookups find their keys and updates replace. */
static int fill_maps(struct bpf_object *object)
{
    static const char *const maps[] = {"bench_hash", "bench_lru_hash", "bench_percpu_hash"};
    int cpus = libbpf_num_possible_cpus();
    uint64_t values[256] = {0};

    if (cpus <= 0 || cpus > 256)
        return ebpf_error(-EINVAL, "unexpected CPU count %d", cpus);
    for (size_t m = 0; m < EBPF_ARRAY_SIZE(maps); m++) {
        int fd = bpf_object__find_map_fd_by_name(object, maps[m]);
        if (fd < 0)
            return ebpf_error(fd, "no map %s", maps[m]);
        /* Half full: Linux replaces in a full hash map too, but a map at its limit is not
         * what this measures. */
        for (uint32_t key = 0; key < BENCH_MAP_ENTRIES / 2; key++) {
            int rc = bpf_map_update_elem(fd, &key, values, BPF_ANY);
            if (rc != 0)
                return ebpf_error_prefix(rc, "filling %s: ", maps[m]);
        }
    }
    return 0;
}

static int run_map_programs(const char *object_name, const char *kind)
{
    enum { PROGRAMS = EBPF_ARRAY_SIZE(map_programs) };
    struct bpf_object *object = bpf_object__open(bench_object_path(object_name));
    struct bpf_program *programs[PROGRAMS], *empty;
    struct ring_buffer *ring = NULL;
    double ns[PROGRAMS][BENCH_RUNS_MAX], empty_ns[BENCH_RUNS_MAX];
    uint8_t event[64];
    unsigned n = bench_options.runs;
    /* Ring records of one test-run call must fit the ring: no drops, no consumer running. */
    uint32_t ring_repeat = BENCH_RING_SIZE / 2 / ((BENCH_RING_RECORD_SIZE + 8) * BENCH_MAP_OPS);
    uint32_t repeat = (uint32_t)bench_scaled(strcmp(kind, "native") == 0 ? 100000 : 20000, 50);
    int rc = 0;

    if (object == NULL)
        return ebpf_error_prefix(-ENOENT, "opening %s: ", object_name);
    if (bpf_object__load(object) != 0) {
        rc = ebpf_error_prefix(-EINVAL, "loading %s: ", object_name);
        goto out;
    }
    for (size_t p = 0; p < PROGRAMS && rc == 0; p++) {
        programs[p] = bpf_object__find_program_by_name(object, map_programs[p]);
        if (programs[p] == NULL)
            rc = ebpf_error(-ENOENT, "%s has no program %s", object_name, map_programs[p]);
    }
    empty = bpf_object__find_program_by_name(object, "BenchEmpty");
    if (rc == 0 && empty == NULL)
        rc = ebpf_error(-ENOENT, "%s has no program BenchEmpty", object_name);
    if (rc == 0)
        rc = fill_maps(object);
    if (rc == 0) {
        ring = ring_buffer__new(bpf_object__find_map_fd_by_name(object, "bench_ring"),
                                discard_record, NULL, NULL);
        if (ring == NULL)
            rc = ebpf_error_prefix(-ENOMEM, "ring_buffer__new: ");
    }
    if (ring_repeat > repeat)
        ring_repeat = repeat;
    bench_build_event(event, sizeof(event), 1);
    for (unsigned run = 0; run < n && rc == 0; run++) {
        rc = time_test_run(empty, event, sizeof(event), repeat, &empty_ns[run], NULL);
        for (size_t p = 0; p < PROGRAMS && rc == 0; p++) {
            bool ring_program = strncmp(map_programs[p], "Ringbuf", 7) == 0;
            uint32_t failures = 0;
            /* One test-run holds one read section over all its runs: hash updates replace
             * keys through the CPU claim's spare element (map_hash.c). */
            rc = time_test_run(programs[p], event, sizeof(event),
                               ring_program ? ring_repeat : repeat, &ns[p][run], &failures);
            /* Lookups return the sum of what they found; the others, their failures. */
            if (rc == 0 && strstr(map_programs[p], "Lookup") == NULL && failures != 0)
                rc = ebpf_error(-EIO, "%s: %u operations failed", map_programs[p], failures);
            if (ring_program)
                ring_buffer__consume(ring);
            ns[p][run] = (ns[p][run] - empty_ns[run]) / BENCH_MAP_OPS;
        }
    }
    if (rc == 0) {
        char name[96];
        snprintf(name, sizeof(name), "maps.%s.test_run_overhead", kind);
        bench_report(name, "ns/run", empty_ns, n);
        for (size_t p = 0; p < PROGRAMS; p++) {
            snprintf(name, sizeof(name), "maps.%s.%s", kind, map_programs[p]);
            bench_report(name, "ns/op", ns[p], n);
        }
    }
out:
    ring_buffer__free(ring);
    bpf_object__close(object);
    return rc;
}

int bench_maps(void)
{
    int rc = bench_netevent_start();
    if (rc != 0)
        return bench_fail(rc, "maps: starting the extension");
    rc = run_map_programs("bench_maps.so", "native");
    if (rc != 0)
        bench_fail(rc, "maps: native");
    int interpreted = run_map_programs("bench_maps.o", "interpreter");
    if (interpreted != 0)
        bench_fail(interpreted, "maps: interpreter");
    bench_netevent_stop();
    return rc != 0 ? rc : interpreted;
}

/* ---- verifier ---- */

static const ebpf_helper_prototype_t *find_netevent_helper(void *context, uint32_t id)
{
    const ebpf_program_info_t *info = context;
    for (uint32_t i = 0; i < info->count_of_program_type_specific_helpers; i++)
        if (info->program_type_specific_helper_prototype[i].id == id)
            return &info->program_type_specific_helper_prototype[i];
    return ebpf_core_find_general_helper(id, NULL);
}

static void describe_map(const ebpf_elf_map_t *from, ebpf_verifier_map_t *to)
{
    *to = (ebpf_verifier_map_t){
        .type = from->type,
        .key_size = from->key_size,
        .value_size = from->value_size,
        .max_entries = from->max_entries,
        .map_flags = from->map_flags | (from->read_only ? BPF_F_RDONLY_PROG : 0),
        .name = from->name,
    };
}

/* Verifies instructions repeat times; ns per verification. */
static int time_verify(const struct bpf_insn *instructions, size_t count,
                       const ebpf_verifier_map_t *maps, uint32_t map_count, unsigned repeat,
                       double *ns, uint64_t *processed)
{
    ebpf_verifier_options_t options = {
        .find_helper = find_netevent_helper,
        .find_helper_context = (void *)&netevent_program_info,
    };
    uint64_t start = bench_now_ns();
    for (unsigned i = 0; i < repeat; i++) {
        ebpf_verifier_result_t result;
        int rc = ebpf_verify_program(instructions, (uint32_t)count, &netevent_program_info, maps,
                                     map_count, &options, &result);
        if (rc != 0) {
            if (rc == -EACCES)
                ebpf_verifier_result_free(&result);
            return rc;
        }
        *processed = result.processed_instructions;
        ebpf_verifier_result_free(&result);
    }
    *ns = (double)(bench_now_ns() - start) / (double)repeat;
    return 0;
}

static int verify_object(const char *file)
{
    ebpf_elf_object_t *object;
    ebpf_verifier_map_t *maps = NULL;
    int rc = ebpf_elf_open_file(bench_object_path(file), &object);

    if (rc != 0)
        return rc;
    if (object->map_count > 0) {
        maps = ebpf_allocate_array(object->map_count, sizeof(*maps));
        if (maps == NULL) {
            ebpf_elf_free(object);
            return ebpf_error(-ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < object->map_count; i++)
            describe_map(&object->maps[i], &maps[i]);
    }
    for (size_t p = 0; p < object->program_count && rc == 0; p++) {
        const ebpf_elf_program_t *program = &object->programs[p];
        double ns[BENCH_RUNS_MAX];
        uint64_t processed = 0;
        unsigned repeat = (unsigned)bench_scaled(200, 1);
        for (unsigned run = 0; run < bench_options.runs && rc == 0; run++)
            rc = time_verify(program->instructions, program->instruction_count, maps,
                             (uint32_t)object->map_count, repeat, &ns[run], &processed);
        if (rc != 0) {
            rc = ebpf_error_prefix(rc, "%s/%s: ", file, program->function_name);
            break;
        }
        char name[96];
        for (unsigned run = 0; run < bench_options.runs; run++)
            ns[run] /= 1000.0;
        snprintf(name, sizeof(name), "verifier.%s.%zu_insns", program->function_name,
                 program->instruction_count);
        bench_report(name, "us", ns, bench_options.runs);
    }
    ebpf_free(maps);
    ebpf_elf_free(object);
    return rc;
}

/* A long program with a branch in every block: r6 holds a byte of the event, unknown to the
 * verifier, and each block leaves for a shared exit when it matches; every branch forks the
 * analysis, the taken side ends at once, so the work grows linearly with the size. */
static size_t generate_large_program(struct bpf_insn *code, size_t blocks)
{
    size_t n = 0;
#define EMIT(...) code[n++] = (struct bpf_insn){__VA_ARGS__}
    /* r2 = start, r3 = end; if start + 32 > end return 0 */
    EMIT(.code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 2, .src_reg = 1, .off = 0);
    EMIT(.code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 3, .src_reg = 1, .off = 8);
    EMIT(.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 4, .src_reg = 2);
    EMIT(.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 4, .imm = 32);
    EMIT(.code = BPF_JMP | BPF_JGT | BPF_X, .dst_reg = 4, .src_reg = 3, .off = 2);
    EMIT(.code = BPF_LDX | BPF_MEM | BPF_B, .dst_reg = 6, .src_reg = 2, .off = 12);
    EMIT(.code = BPF_JMP | BPF_JA, .off = 2);
    EMIT(.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0);
    EMIT(.code = BPF_JMP | BPF_EXIT);
    EMIT(.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0);
    size_t exit_at = 10 + blocks * 5 + 1; /* after the blocks and the main exit */
    for (size_t b = 0; b < blocks; b++) {
        /* r0 += b; r7 = r0 * 3; r0 ^= r7; if r6 == b % 251 goto shared exit */
        EMIT(.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 0, .imm = (int32_t)b);
        EMIT(.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 7, .src_reg = 0);
        EMIT(.code = BPF_ALU64 | BPF_MUL | BPF_K, .dst_reg = 7, .imm = 3);
        EMIT(.code = BPF_ALU64 | BPF_XOR | BPF_X, .dst_reg = 0, .src_reg = 7);
        int16_t to_exit = (int16_t)(exit_at - (n + 1));
        EMIT(.code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = 6, .imm = (int32_t)(b % 251),
             .off = to_exit);
    }
    EMIT(.code = BPF_JMP | BPF_EXIT);
    EMIT(.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1);
    EMIT(.code = BPF_JMP | BPF_EXIT);
#undef EMIT
    return n;
}

#define LARGE_PROGRAM_BLOCKS 1000

int bench_verifier(void)
{
    static const char *const objects[] = {"netevent_monitor.o", "bench_count.o", "bench_checksum.o",
                                          "bench_maps.o"};
    struct bpf_insn *code = ebpf_allocate_array(LARGE_PROGRAM_BLOCKS * 5 + 16, sizeof(*code));
    int rc = 0;

    if (code == NULL)
        return bench_fail(-ENOMEM, "verifier");
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(objects); i++) {
        int object_rc = verify_object(objects[i]);
        if (object_rc != 0)
            rc = bench_fail(object_rc, "verifier: %s", objects[i]);
    }
    size_t count = generate_large_program(code, LARGE_PROGRAM_BLOCKS);
    double ns[BENCH_RUNS_MAX], processed_samples[BENCH_RUNS_MAX];
    uint64_t processed = 0;
    int large_rc = 0;
    for (unsigned run = 0; run < bench_options.runs && large_rc == 0; run++) {
        large_rc =
            time_verify(code, count, NULL, 0, (unsigned)bench_scaled(5, 1), &ns[run], &processed);
        ns[run] /= 1000.0;
        processed_samples[run] = (double)processed;
    }
    if (large_rc != 0) {
        rc = bench_fail(large_rc, "verifier: the generated program");
    } else {
        char name[96];
        snprintf(name, sizeof(name), "verifier.generated.%zu_insns", count);
        bench_report(name, "us", ns, bench_options.runs);
        snprintf(name, sizeof(name), "verifier.generated.%zu_insns.processed", count);
        bench_report(name, "insns", processed_samples, bench_options.runs);
    }
    ebpf_free(code);
    return rc;
}
