/* Tests of the core over a clang-built object: each program run through test-run, its maps
 * read back from user space. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core_test_type.h"
#include "ebpf_core.h"
#include "ebpf_map.h"
#include "ebpf_object.h"
#include "ebpf_platform.h"

/* ---- the core_test program type ---- */

static int refuse(void *unused, const char *section, const ebpf_program_data_t **data)
{
    return ebpf_error(-ENOENT, "no program type for section %s", section);
}

/* ---- fixture ---- */

typedef struct fixture {
    ebpf_elf_object_t *elf;
    ebpf_object_t *object;
} fixture_t;

static int setup(void **state)
{
    fixture_t *fixture = calloc(1, sizeof(*fixture));
    if (ebpf_elf_open_file(CORE_PROGRAMS_OBJECT, &fixture->elf) != 0 ||
        core_test_load_object(fixture->elf, false, &fixture->object) != 0) {
        fprintf(stderr, "setup: %s\n", ebpf_last_error());
        return -1;
    }
    *state = fixture;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fixture = *state;
    ebpf_object_unload(fixture->object);
    ebpf_elf_free(fixture->elf);
    free(fixture);
    ebpf_epoch_drain();
    return 0;
}

static ebpf_program_t *program(void **state, const char *name)
{
    fixture_t *fixture = *state;
    ebpf_program_t *found = ebpf_object_find_program(fixture->object, fixture->elf, name);
    assert_non_null(found);
    return found;
}

static ebpf_map_t *map(void **state, const char *name)
{
    fixture_t *fixture = *state;
    ebpf_map_t *found = ebpf_object_find_map(fixture->object, fixture->elf, name);
    assert_non_null(found);
    return found;
}

static uint32_t run(ebpf_program_t *p, const void *data, uint32_t size, core_test_context_t *ctx)
{
    core_test_context_t in = ctx ? *ctx : (core_test_context_t){0}, out = {0};
    uint8_t data_out[512];
    ebpf_test_run_options_t options = {
        .data_in = data,
        .data_size_in = size,
        .data_out = data_out,
        .data_size_out = sizeof(data_out),
        .ctx_in = &in,
        .ctx_size_in = sizeof(in),
        .ctx_out = &out,
        .ctx_size_out = sizeof(out),
    };
    int rc = ebpf_program_test_run(p, &options);
    if (rc != 0)
        fail_msg("test run of %s failed: %d %s", ebpf_program_get_name(p), rc, ebpf_last_error());
    assert_int_equal(options.data_size_out, size);
    assert_int_equal(options.ctx_size_out, sizeof(out));
    if (ctx)
        *ctx = out;
    return options.retval;
}

/* ---- tests ---- */

static void test_packet_sum_and_context_out(void **state)
{
    uint8_t packet[100];
    core_test_context_t context = {0};
    uint32_t expected = 0;
    for (int i = 0; i < 100; i++) {
        packet[i] = (uint8_t)(i * 7);
        expected += packet[i];
    }
    assert_int_equal(run(program(state, "sum_packet"), packet, sizeof(packet), &context), expected);
    assert_int_equal(context.value, 100);
    /* An empty packet sums to 0. */
    uint8_t one = 9;
    assert_int_equal(run(program(state, "sum_packet"), &one, 1, &context), 9);
}

static void test_map_operations_from_programs(void **state)
{
    core_test_context_t context = {.value = 77};
    uint8_t byte = 0;
    assert_int_equal(run(program(state, "map_operations"), &byte, 1, &context), 0);

    uint32_t key = 1;
    uint64_t value;
    assert_int_equal(ebpf_map_lookup_user(map(state, "counters"), &key, &value, 0), 0);
    assert_int_equal(value, 5);
    assert_int_equal(ebpf_map_lookup_user(map(state, "table"), &key, &value, 0), 0);
    assert_int_equal(value, 77); /* written through the looked-up pointer */

    /* The per-CPU counter went up on exactly one CPU. */
    uint32_t cpus = ebpf_cpu_count(), zero = 0;
    uint64_t *all = calloc(cpus, sizeof(uint64_t));
    assert_int_equal(ebpf_map_lookup_user(map(state, "per_cpu"), &zero, all, 0), 0);
    uint64_t total = 0;
    for (uint32_t i = 0; i < cpus; i++)
        total += all[i];
    assert_int_equal(total, 1);
    free(all);

    /* A second run finds the hash entry (BPF_NOEXIST fails with a code). */
    assert_int_equal(run(program(state, "map_operations"), &byte, 1, &context), 2);
}

static int collect_record(void *context, void *data, size_t size)
{
    uint64_t *records = context;
    assert_int_equal(size, 8);
    memcpy(&records[1 + records[0]++], data, 8);
    return 0;
}

static void test_ring_buffer_helpers(void **state)
{
    uint8_t packet[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t records[8] = {0};
    uint32_t available = run(program(state, "ring_writer"), packet, sizeof(packet), NULL);
    /* Three 16-byte records (8-byte header each) are unconsumed; the discarded one counts
     * until the consumer passes it, as on Linux. */
    assert_int_equal(available, 48);
    ebpf_ring_buffer_t *ring = ebpf_map_get_ring_buffer(map(state, "events"));
    assert_non_null(ring);
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect_record, records), 2);
    assert_int_equal(records[0], 2);
    assert_memory_equal(&records[1], packet, 8);
    assert_int_equal(records[2], 0x1122334455667788ull); /* the discarded record is skipped */
}

static void test_queue_stack_and_tail_calls(void **state)
{
    uint8_t byte = 0;
    assert_int_equal(run(program(state, "queue_and_stack"), &byte, 1, NULL), 13);

    core_test_context_t context = {.value = 2};
    assert_int_equal(run(program(state, "tail_caller"), &byte, 1, &context), 42);
    context.value = 3; /* empty slot: the tail call fails and the program goes on */
    assert_int_equal(run(program(state, "tail_caller"), &byte, 1, &context), 7);
    context.value = 1000; /* out of range */
    assert_int_equal(run(program(state, "tail_caller"), &byte, 1, &context), 7);
}

static void test_global_data(void **state)
{
    uint8_t packet[5] = {0};
    assert_int_equal(run(program(state, "use_globals"), packet, 5, NULL), 6);
    assert_int_equal(run(program(state, "use_globals"), packet, 5, NULL), 9);
    uint32_t zero = 0;
    uint64_t data_value[1], bss_value[1];
    assert_int_equal(ebpf_map_lookup_user(map(state, ".data"), &zero, data_value, 0), 0);
    assert_int_equal(data_value[0], 3); /* calls */
    assert_int_equal(ebpf_map_lookup_user(map(state, ".bss"), &zero, bss_value, 0), 0);
    assert_int_equal(bss_value[0], 5); /* last_length */
    /* .rodata is frozen: user space cannot change the constant. */
    uint64_t changed = 9;
    assert_int_equal(ebpf_map_update_user(map(state, ".rodata"), &zero, &changed, 0), -EPERM);
}

static void test_inner_map_through_map_in_map(void **state)
{
    uint8_t byte = 0;
    assert_int_equal(run(program(state, "inner_map_lookup"), &byte, 1, NULL), 100);
    assert_int_equal(run(program(state, "inner_map_lookup"), &byte, 1, NULL), 200);
    uint32_t zero = 0;
    uint64_t value;
    assert_int_equal(ebpf_map_lookup_user(map(state, "inner"), &zero, &value, 0), 0);
    assert_int_equal(value, 200);
}

static void test_array_lookup_bounds(void **state)
{
    uint8_t byte = 0;
    core_test_context_t context = {.value = 3};
    ebpf_program_t *p = program(state, "array_lookup_bounds");

    /* counters has 4 entries, per_cpu 1. */
    assert_int_equal(run(p, &byte, 1, &context), 1);
    assert_int_equal(context.value, 1);
    context.value = 3;
    assert_int_equal(run(p, &byte, 1, &context), 1);
    assert_int_equal(context.value, 2);
    context.value = 0;
    assert_int_equal(run(p, &byte, 1, &context), 3);
    context.value = 4;
    assert_int_equal(run(p, &byte, 1, &context), 0);
    assert_int_equal(context.value, 4);
    context.value = UINT32_MAX;
    assert_int_equal(run(p, &byte, 1, &context), 0);
    /* The key is the low 32 bits: 1 << 32 is key 0. */
    context.value = UINT64_C(1) << 32;
    assert_int_equal(run(p, &byte, 1, &context), 3);
}

static void test_misc_helpers_and_type_helper(void **state)
{
    core_test_context_t context = {0};
    uint8_t byte = 0;
    assert_int_equal(run(program(state, "misc_helpers"), &byte, 1, &context), 42);
    /* csum_diff folded to 16 bits equals the RFC 1624 update of the changed word. */
    uint64_t sum = context.value;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint32_t old_word = 0x05060708, new_word = 0x0a0b0c0d;
    uint64_t expected = (uint16_t)~old_word + (uint16_t) ~(old_word >> 16) + (uint16_t)new_word +
                        (uint16_t)(new_word >> 16);
    while (expected >> 16)
        expected = (expected & 0xffff) + (expected >> 16);
    assert_int_equal(sum, expected);
}

typedef struct perf_seen {
    int samples;
    uint8_t bytes[32];
    uint32_t size;
} perf_seen_t;

static int perf_sample(void *context, uint32_t cpu, void *data, uint32_t size)
{
    perf_seen_t *seen = context;
    seen->samples++;
    seen->size = size;
    memcpy(seen->bytes, data, size < 32 ? size : 32);
    return 0;
}

static void test_perf_event_output_with_packet_bytes(void **state)
{
    ebpf_perf_event_array_t *array;
    uint8_t packet[6] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6};
    perf_seen_t seen = {0};

    assert_int_equal(ebpf_map_open_perf_event_array(map(state, "perf"), 4096 * 2, &array), 0);
    assert_int_equal(run(program(state, "perf_writer"), packet, sizeof(packet), NULL), 0);
    for (uint32_t cpu = 0; cpu < ebpf_cpu_count(); cpu++)
        ebpf_perf_event_array_consume(array, cpu, perf_sample, NULL, &seen);
    assert_int_equal(seen.samples, 1);
    assert_true(seen.size >= 12); /* padded to 8 as Linux */
    uint64_t sample;
    memcpy(&sample, seen.bytes, 8);
    assert_int_equal(sample, 0xabcdef);
    assert_memory_equal(seen.bytes + 8, packet, 4);
}

static void test_checked_interpreter_stops_out_of_bounds(void **state)
{
    uint8_t byte = 1;
    ebpf_test_run_options_t options = {.data_in = &byte, .data_size_in = 1};
    int rc = ebpf_program_test_run(program(state, "reads_past_packet"), &options);
    assert_int_equal(rc, -EFAULT);
    assert_non_null(strstr(ebpf_last_error(), "reads_past_packet"));
}

static void test_test_run_argument_errors(void **state)
{
    uint8_t byte = 0, small[1];
    ebpf_test_run_options_t options = {.data_in = &byte, .data_size_in = 0};
    assert_int_equal(ebpf_program_test_run(program(state, "sum_packet"), &options), -EINVAL);
    options = (ebpf_test_run_options_t){.data_in = &byte, .data_size_in = 1, .flags = 4};
    assert_int_equal(ebpf_program_test_run(program(state, "sum_packet"), &options), -EINVAL);
    /* A too-small data_out: -ENOSPC with the needed size reported. */
    uint8_t packet[4] = {1, 2, 3, 4};
    options = (ebpf_test_run_options_t){
        .data_in = packet, .data_size_in = 4, .data_out = small, .data_size_out = 1, .repeat = 3};
    assert_int_equal(ebpf_program_test_run(program(state, "sum_packet"), &options), -ENOSPC);
    assert_int_equal(options.data_size_out, 4);
    assert_int_equal(small[0], 1);
}

static void test_program_without_type_cannot_test_run(void **state)
{
    /* mov r0, 5; exit */
    const struct bpf_insn code[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 5},
        {.code = BPF_JMP | BPF_EXIT},
    };
    ebpf_program_load_parameters_t parameters = {
        .name = "plain", .instructions = code, .instruction_count = 2};
    ebpf_program_t *plain;
    uint64_t result = 0;
    assert_int_equal(ebpf_program_create(&parameters, &plain), 0);
    assert_int_equal(ebpf_program_invoke(plain, NULL, &result), 0);
    assert_int_equal(result, 5);
    ebpf_test_run_options_t options = {0};
    assert_int_equal(ebpf_program_test_run(plain, &options), -ENOTSUP);
    ebpf_program_release(plain);
}

static void test_load_errors(void **state)
{
    ebpf_program_t *loaded;
    /* An unknown helper id is refused when the program is prepared. */
    const struct bpf_insn unknown_helper[] = {
        {.code = BPF_JMP | BPF_CALL, .imm = 4000},
        {.code = BPF_JMP | BPF_EXIT},
    };
    ebpf_program_load_parameters_t parameters = {
        .name = "bad", .instructions = unknown_helper, .instruction_count = 2};
    assert_int_equal(ebpf_program_create(&parameters, &loaded) < 0, 1);
    assert_non_null(strstr(ebpf_last_error(), "bad"));
    /* A map index past the table. */
    const struct bpf_insn bad_map[] = {
        {.code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = 3},
        {.code = 0},
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT},
    };
    parameters.instructions = bad_map;
    parameters.instruction_count = 4;
    assert_int_equal(ebpf_program_create(&parameters, &loaded), -EACCES);
    assert_non_null(strstr(ebpf_last_error(), "refers to map 3 but the program has 0 maps"));
    /* The relocation refuses it too when the proof is skipped. */
    parameters.test_hook_run_unverified_in_checked_interpreter = true;
    assert_int_equal(ebpf_program_create(&parameters, &loaded), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "map index 3"));
    /* An object whose section has no program type fails as a whole. */
    ebpf_elf_object_t *elf;
    ebpf_object_t *object;
    assert_int_equal(ebpf_elf_open_file(CORE_PROGRAMS_OBJECT, &elf), 0);
    ebpf_epoch_drain(); /* earlier tests' deferred frees must not land inside the window */
    int64_t before = ebpf_allocation_outstanding();
    assert_int_equal(ebpf_object_load_elf(elf, refuse, NULL, &object), -ENOENT);
    assert_non_null(strstr(ebpf_last_error(), "no program type"));
    /* Without a program type the context is opaque: the verifier refuses the first program
     * that reads it. */
    assert_int_equal(ebpf_object_load_elf(elf, NULL, NULL, &object), -EACCES);
    assert_non_null(strstr(ebpf_last_error(), "invalid context access"));
    /* Verified as core_test, the object fails on the program written to read past the
     * packet, with the instruction and the reason. */
    assert_int_equal(core_test_load_object(elf, true, &object), -EACCES);
    assert_non_null(strstr(ebpf_last_error(), "reads_past_packet"));
    assert_non_null(strstr(ebpf_last_error(), "out of bounds"));
    ebpf_epoch_drain();
    assert_int_equal(ebpf_allocation_outstanding(), before);
    ebpf_elf_free(elf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_packet_sum_and_context_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_operations_from_programs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_buffer_helpers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_stack_and_tail_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_global_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inner_map_through_map_in_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_array_lookup_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misc_helpers_and_type_helper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_perf_event_output_with_packet_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checked_interpreter_stops_out_of_bounds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_test_run_argument_errors, setup, teardown),
        cmocka_unit_test(test_program_without_type_cannot_test_run),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
