/* Differential test over the interpreter's own test corpus: linked into the tests/exec programs
 * (with -Wl,--wrap for the interpreter's entry points), it records every run the tests make, and
 * at exit replays each one in the interpreter and in native code built from all of them by bpf2c,
 * comparing r0, errors and the memory the program was given. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec_test_program.h"
#include "native_test_support.h"

/* A recorded run keeps at most this many regions and bytes per region. */
#define MAX_REGIONS      4
#define MAX_REGION_BYTES 65536
/* Runs recorded per created program (loops of the same program add nothing). */
#define RUNS_PER_PROGRAM 4

int __real_ebpf_interpreter_program_create(const struct bpf_insn *instructions, uint32_t count,
                                           ebpf_helper_resolver_t resolve, void *resolver_context,
                                           ebpf_interpreter_program_t **program);
void __real_ebpf_interpreter_program_destroy(ebpf_interpreter_program_t *program);
int __real_ebpf_interpreter_run(const ebpf_interpreter_program_t *program, uint64_t r1, uint64_t r2,
                                const ebpf_exec_environment_t *env, ebpf_exec_result_t *result);
int __wrap_ebpf_interpreter_program_create(const struct bpf_insn *instructions, uint32_t count,
                                           ebpf_helper_resolver_t resolve, void *resolver_context,
                                           ebpf_interpreter_program_t **program);
void __wrap_ebpf_interpreter_program_destroy(ebpf_interpreter_program_t *program);
int __wrap_ebpf_interpreter_run(const ebpf_interpreter_program_t *program, uint64_t r1, uint64_t r2,
                                const ebpf_exec_environment_t *env, ebpf_exec_result_t *result);

/* A program the tests created, while it lives. */
typedef struct created_program {
    const ebpf_interpreter_program_t *program;
    struct bpf_insn *instructions;
    uint32_t count;
    ebpf_helper_resolver_t resolve;
    void *resolver_context;
    uint32_t runs;
    struct created_program *next;
} created_program_t;

typedef struct recorded_region {
    uintptr_t start;
    size_t size;
    bool writable;
    uint8_t *before;
    uint8_t *copy; /* replay memory */
} recorded_region_t;

typedef struct recorded_run {
    struct bpf_insn *instructions; /* relocated to the replay memory at exit */
    uint32_t count;
    ebpf_helper_resolver_t resolve;
    void *resolver_context;
    uint64_t r1, r2;
    recorded_region_t regions[MAX_REGIONS];
    size_t region_count;
    int rc;
    uint64_t r0;
    /* The interpreter's replay. */
    bool replayable;
    int replay_rc;
    uint64_t replay_r0;
    uint8_t *replay_after[MAX_REGIONS];
    uint32_t module_index;
    struct recorded_run *next;
} recorded_run_t;

static created_program_t *created;
static recorded_run_t *runs, **runs_tail = &runs;
static size_t recorded_count, skipped_count;
static bool exit_handler_registered;

static bool on_main_thread(void)
{
    /* Runs from other threads race with the tests' own threads on shared memory. */
    return (pid_t)syscall(SYS_gettid) == getpid();
}

int __wrap_ebpf_interpreter_program_create(const struct bpf_insn *instructions, uint32_t count,
                                           ebpf_helper_resolver_t resolve, void *resolver_context,
                                           ebpf_interpreter_program_t **program)
{
    int rc = __real_ebpf_interpreter_program_create(instructions, count, resolve, resolver_context,
                                                    program);
    if (rc != 0 || !on_main_thread())
        return rc;
    created_program_t *entry = calloc(1, sizeof(*entry));
    if (entry == NULL || (entry->instructions = malloc(count * sizeof(*instructions))) == NULL) {
        free(entry);
        return rc;
    }
    memcpy(entry->instructions, instructions, count * sizeof(*instructions));
    entry->program = *program;
    entry->count = count;
    entry->resolve = resolve;
    entry->resolver_context = resolver_context;
    entry->next = created;
    created = entry;
    return rc;
}

void __wrap_ebpf_interpreter_program_destroy(ebpf_interpreter_program_t *program)
{
    if (on_main_thread()) {
        for (created_program_t **link = &created; *link != NULL; link = &(*link)->next) {
            if ((*link)->program == program) {
                created_program_t *gone = *link;
                *link = gone->next;
                free(gone->instructions);
                free(gone);
                break;
            }
        }
    }
    __real_ebpf_interpreter_program_destroy(program);
}

static void replay_all(void);

/* Whether value points into a region (the end included: a pointer may stop there). */
static int region_of(const recorded_run_t *run, uint64_t value)
{
    for (size_t i = 0; i < run->region_count; i++) {
        if (value >= run->regions[i].start && value <= run->regions[i].start + run->regions[i].size)
            return (int)i;
    }
    return -1;
}

static void free_run(recorded_run_t *run)
{
    for (size_t i = 0; i < run->region_count; i++) {
        free(run->regions[i].before);
        free(run->regions[i].copy);
        free(run->replay_after[i]);
    }
    free(run->instructions);
    free(run);
}

int __wrap_ebpf_interpreter_run(const ebpf_interpreter_program_t *program, uint64_t r1, uint64_t r2,
                                const ebpf_exec_environment_t *env, ebpf_exec_result_t *result)
{
    created_program_t *entry = NULL;
    recorded_run_t *run = NULL;
    uint64_t check_access_calls, tail_calls;
    int rc;

    if (on_main_thread()) {
        for (entry = created; entry != NULL && entry->program != program; entry = entry->next)
            ;
    }
    /* Runs whose memory the record cannot capture: a callback decides, or a stack of the
     * caller's, or no checks at all (host pointers). */
    if (entry == NULL || entry->runs >= RUNS_PER_PROGRAM || result == NULL ||
        (env != NULL &&
         (env->check_memory != NULL || env->stack != NULL || env->unchecked ||
          env->region_count > MAX_REGIONS || (env->region_count != 0 && env->regions == NULL))))
        return __real_ebpf_interpreter_run(program, r1, r2, env, result);
    entry->runs++;
    run = calloc(1, sizeof(*run));
    if (run == NULL)
        return __real_ebpf_interpreter_run(program, r1, r2, env, result);
    for (size_t i = 0; env != NULL && i < env->region_count; i++) {
        recorded_region_t *region = &run->regions[run->region_count++];
        region->start = (uintptr_t)env->regions[i].start;
        region->size = env->regions[i].size;
        region->writable = env->regions[i].writable;
        if (region->size > MAX_REGION_BYTES || region->start == 0) {
            free_run(run);
            skipped_count++;
            return __real_ebpf_interpreter_run(program, r1, r2, env, result);
        }
        region->before = malloc(region->size ? region->size : 1);
        if (region->before == NULL) {
            free_run(run);
            return __real_ebpf_interpreter_run(program, r1, r2, env, result);
        }
        memcpy(region->before, env->regions[i].start, region->size);
    }
    check_access_calls = test_helper_calls(TEST_HELPER_CHECK_ACCESS);
    tail_calls = test_helper_calls(TEST_HELPER_TAIL_CALL);
    rc = __real_ebpf_interpreter_run(program, r1, r2, env, result);

    recorded_count++;
    bool eligible = (rc == 0 || rc == -EOVERFLOW || rc == -ENOENT) &&
                    /* check_access answers for the checked interpreter only; tail calls go to
                     * interpreter programs. */
                    test_helper_calls(TEST_HELPER_CHECK_ACCESS) == check_access_calls &&
                    test_helper_calls(TEST_HELPER_TAIL_CALL) == tail_calls &&
                    /* A pointer outside the regions cannot be replayed. */
                    (r1 < (1ull << 32) || region_of(run, r1) >= 0) &&
                    (r2 < (1ull << 32) || region_of(run, r2) >= 0) &&
                    !(rc == 0 && result->tail_call_target);
    if (!eligible) {
        free_run(run);
        skipped_count++;
        return rc;
    }
    run->instructions = malloc(entry->count * sizeof(struct bpf_insn));
    if (run->instructions == NULL) {
        free_run(run);
        return rc;
    }
    memcpy(run->instructions, entry->instructions, entry->count * sizeof(struct bpf_insn));
    run->count = entry->count;
    run->resolve = entry->resolve;
    run->resolver_context = entry->resolver_context;
    run->r1 = r1;
    run->r2 = r2;
    run->rc = rc;
    run->r0 = rc == 0 ? result->r0 : 0;
    *runs_tail = run;
    runs_tail = &run->next;
    if (!exit_handler_registered) {
        exit_handler_registered = true;
        atexit(replay_all);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Replay at exit.
 * ------------------------------------------------------------------------------------------ */

/* Moves a value pointing into a recorded region to the same place in the replay copy. */
static uint64_t relocate(const recorded_run_t *run, uint64_t value)
{
    int region = region_of(run, value);
    if (region < 0 || value < (1ull << 32))
        return value;
    return (uint64_t)(uintptr_t)run->regions[region].copy + (value - run->regions[region].start);
}

static void restore_memory(recorded_run_t *run)
{
    for (size_t i = 0; i < run->region_count; i++)
        memcpy(run->regions[i].copy, run->regions[i].before, run->regions[i].size);
}

static bool prepare_replay(recorded_run_t *run)
{
    for (size_t i = 0; i < run->region_count; i++) {
        run->regions[i].copy = aligned_alloc(16, (run->regions[i].size + 16) & ~(size_t)15);
        run->replay_after[i] = malloc(run->regions[i].size ? run->regions[i].size : 1);
        if (run->regions[i].copy == NULL || run->replay_after[i] == NULL)
            return false;
    }
    restore_memory(run);
    for (uint32_t pc = 0; pc + 1 < run->count; pc++) {
        struct bpf_insn *insn = &run->instructions[pc];
        if (insn->code != (BPF_LD | BPF_IMM | BPF_DW) || insn->src_reg != 0)
            continue;
        uint64_t value = (uint64_t)(uint32_t)insn[0].imm | (uint64_t)(uint32_t)insn[1].imm << 32;
        uint64_t moved = relocate(run, value);
        insn[0].imm = (int32_t)(uint32_t)moved;
        insn[1].imm = (int32_t)(uint32_t)(moved >> 32);
        pc++;
    }
    return true;
}

static void environment_of(const recorded_run_t *run, ebpf_exec_region_t *regions,
                           ebpf_exec_environment_t *env)
{
    for (size_t i = 0; i < run->region_count; i++)
        regions[i] = (ebpf_exec_region_t){run->regions[i].copy, run->regions[i].size,
                                          run->regions[i].writable};
    *env = (ebpf_exec_environment_t){.regions = regions, .region_count = run->region_count};
}

/* The interpreter on the replay memory: replayable when it does what the recorded run did. */
static void replay_interpreter(recorded_run_t *run)
{
    ebpf_interpreter_program_t *program = NULL;
    ebpf_exec_region_t regions[MAX_REGIONS];
    ebpf_exec_environment_t env;
    ebpf_exec_result_t result = {0};

    if (!prepare_replay(run) ||
        __real_ebpf_interpreter_program_create(run->instructions, run->count, run->resolve,
                                               run->resolver_context, &program) != 0)
        return;
    environment_of(run, regions, &env);
    run->replay_rc = __real_ebpf_interpreter_run(program, relocate(run, run->r1),
                                                 relocate(run, run->r2), &env, &result);
    run->replay_r0 = result.r0;
    __real_ebpf_interpreter_program_destroy(program);
    for (size_t i = 0; i < run->region_count; i++)
        memcpy(run->replay_after[i], run->regions[i].copy, run->regions[i].size);
    /* A result that is an address (of the stack, say) differs from run to run. */
    run->replayable = run->replay_rc == run->rc && (run->rc != 0 || run->replay_r0 == run->r0);
    restore_memory(run);
}

/* Prototypes for bpf2c come from the resolver the tests used. */
static const ebpf_helper_prototype_t *recorded_helper(void *context, uint32_t id)
{
    const recorded_run_t *run = context;
    ebpf_helper_function_t function;
    return run->resolve != NULL ? run->resolve(run->resolver_context, id, &function) : NULL;
}

static int compare_native(const recorded_run_t *run, const ebpf_native_module_t *module)
{
    ebpf_native_program_t *program = NULL;
    ebpf_exec_result_t result = {0};
    int rc = ebpf_native_program_create(module, run->module_index, run->resolve,
                                        run->resolver_context, &program);
    if (rc != 0) {
        fprintf(stderr, "exec corpus: program %u: %s\n", run->module_index, ebpf_last_error());
        return 1;
    }
    rc = ebpf_native_program_run(program, relocate(run, run->r1), relocate(run, run->r2), NULL,
                                 NULL, 0, &result);
    ebpf_native_program_destroy(program);
    if (rc != run->replay_rc || (rc == 0 && result.r0 != run->replay_r0)) {
        fprintf(stderr,
                "exec corpus: program %u differs: interpreter rc %d r0 0x%" PRIx64
                ", native rc %d r0 0x%" PRIx64 " (%s)\n",
                run->module_index, run->replay_rc, run->replay_r0, rc, result.r0,
                rc ? ebpf_last_error() : "");
        return 1;
    }
    for (size_t i = 0; i < run->region_count; i++) {
        if (memcmp(run->replay_after[i], run->regions[i].copy, run->regions[i].size) != 0) {
            fprintf(stderr, "exec corpus: program %u leaves region %zu different in native code\n",
                    run->module_index, i);
            return 1;
        }
    }
    return 0;
}

static void replay_all(void)
{
    native_test_directory_t directory;
    bpf2c_program_t *programs = NULL;
    ebpf_native_module_t *module = NULL;
    size_t replayable = 0, mismatches = 0;
    char names[64], so_path[512];
    int rc;

    for (recorded_run_t *run = runs; run != NULL; run = run->next) {
        replay_interpreter(run);
        replayable += run->replayable;
    }
    programs = calloc(replayable ? replayable : 1, sizeof(*programs));
    char(*program_names)[32] = calloc(replayable ? replayable : 1, sizeof(*program_names));
    if (programs == NULL || program_names == NULL ||
        native_test_directory_create(&directory) != 0) {
        fprintf(stderr, "exec corpus: no memory or scratch directory\n");
        _exit(1);
    }
    size_t index = 0;
    for (recorded_run_t *run = runs; run != NULL; run = run->next) {
        if (!run->replayable)
            continue;
        run->module_index = (uint32_t)index;
        snprintf(program_names[index], sizeof(program_names[index]), "run_%zu", index);
        programs[index] = (bpf2c_program_t){
            .name = program_names[index],
            .instructions = run->instructions,
            .instruction_count = run->count,
            .find_helper = recorded_helper,
            .find_helper_context = run,
            .object_index = (uint32_t)index,
        };
        index++;
    }
    snprintf(names, sizeof(names), "exec_corpus");
    bpf2c_module_t description = {
        .name = names,
        .programs = programs,
        .program_count = replayable,
        .verify = false, /* the corpus tests the interpreter's checks too: no verifier */
    };
    rc = replayable == 0
             ? -ENOENT
             : native_test_build(&description, &directory, "exec_corpus", so_path, sizeof(so_path));
    if (rc == 0)
        rc = ebpf_native_module_open(so_path, &module);
    if (rc != 0) {
        fprintf(stderr, "exec corpus: building the native module failed: %s\n", ebpf_last_error());
        _exit(1);
    }
    for (recorded_run_t *run = runs; run != NULL; run = run->next) {
        if (run->replayable)
            mismatches += (size_t)compare_native(run, module);
    }
    ebpf_native_module_close(module);
    native_test_directory_remove(&directory);
    printf("exec corpus differential: %zu runs recorded, %zu skipped (not replayable: host "
           "memory, interpreter-only helpers, faults), %zu replayed in native code, %zu differ\n",
           recorded_count, skipped_count + (recorded_count - skipped_count - replayable),
           replayable, mismatches);
    fflush(stdout);
    while (runs != NULL) {
        recorded_run_t *next = runs->next;
        free_run(runs);
        runs = next;
    }
    free(programs);
    free(program_names);
    /* Fewer than half of the runs replayed would make the comparison say little. */
    if (mismatches != 0 || replayable * 2 < recorded_count - skipped_count || replayable == 0)
        _exit(1);
}
