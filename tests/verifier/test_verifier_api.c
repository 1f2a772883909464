/* Tests of the verifier API: arguments, the rejection log, options, results and memory failures. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ebpf_platform.h"
#include "ebpf_verifier.h"
#include "verifier_corpus.h"

static int verify(const struct bpf_insn *instructions, uint32_t count, corpus_program_type_t type,
                  const ebpf_verifier_options_t *extra, ebpf_verifier_result_t *result)
{
    ebpf_verifier_options_t options;

    corpus_verifier_options(type, &options);
    if (extra != NULL) {
        options.instruction_budget = extra->instruction_budget;
        options.verbose = extra->verbose;
        options.line_info = extra->line_info;
    }
    memset(result, 0, sizeof(*result));
    return ebpf_verify_program(instructions, count, corpus_program_info(type), corpus_maps,
                               CORPUS_MAP_COUNT, &options, result);
}

static const struct bpf_insn accepted_program[] = {
    LOOKUP_KEY0(CORPUS_MAP_ARRAY8),
    RETURN_IF_ZERO(R0),
    LDX_MEM(BPF_DW, R0, R0, 0),
    EXIT(),
};

/* Rejected at instruction 7 (the read of the unchecked lookup result). */
static const struct bpf_insn rejected_program[] = {
    MOV64_IMM(R0, 0),
    LOOKUP_KEY0(CORPUS_MAP_ARRAY8),
    LDX_MEM(BPF_DW, R0, R0, 0),
    EXIT(),
};
#define REJECTED_INSTRUCTION 7

static const struct bpf_insn counted_loop[] = {
    MOV64_IMM(R1, 0),
    ALU64_IMM(BPF_ADD, R1, 1),
    JMP_IMM(BPF_JLT, R1, 1000, -2),
    RETURN_IMM(0),
};

static void test_bad_arguments(void **state)
{
    ebpf_verifier_options_t options;
    ebpf_verifier_result_t result;
    const ebpf_program_info_t *info = corpus_program_info(CORPUS_TYPE_TEST);
    uint32_t count = EBPF_ARRAY_SIZE(accepted_program);

    corpus_verifier_options(CORPUS_TYPE_TEST, &options);
    memset(&result, 0, sizeof(result));
    ebpf_error_clear();
    assert_int_equal(
        ebpf_verify_program(NULL, count, info, corpus_maps, CORPUS_MAP_COUNT, &options, &result),
        -EINVAL);
    assert_true(ebpf_last_error()[0] != '\0');
    assert_int_equal(ebpf_verify_program(accepted_program, 0, info, corpus_maps, CORPUS_MAP_COUNT,
                                         &options, &result),
                     -EINVAL);
    assert_int_equal(ebpf_verify_program(accepted_program, count, NULL, corpus_maps,
                                         CORPUS_MAP_COUNT, &options, &result),
                     -EINVAL);
    assert_int_equal(ebpf_verify_program(accepted_program, count, info, NULL, CORPUS_MAP_COUNT,
                                         &options, &result),
                     -EINVAL);
    assert_int_equal(ebpf_verify_program(accepted_program, count, info, corpus_maps,
                                         CORPUS_MAP_COUNT, &options, NULL),
                     -EINVAL);
    /* Nothing was filled in: freeing the zeroed result is harmless. */
    assert_null(result.log);
    ebpf_verifier_result_free(&result);
}

static void test_accepted_result(void **state)
{
    ebpf_verifier_result_t result;

    assert_int_equal(verify(accepted_program, EBPF_ARRAY_SIZE(accepted_program), CORPUS_TYPE_TEST,
                            NULL, &result),
                     0);
    assert_true(result.accepted);
    assert_true(result.processed_instructions >= EBPF_ARRAY_SIZE(accepted_program) - 3);
    assert_true(result.max_stack_depth >= 4 && result.max_stack_depth <= 512);
    assert_false(result.writes_packet);
    ebpf_verifier_result_free(&result);
}

static void test_rejection_log(void **state)
{
    ebpf_verifier_result_t result;
    char prefix[32];

    assert_int_equal(verify(rejected_program, EBPF_ARRAY_SIZE(rejected_program), CORPUS_TYPE_TEST,
                            NULL, &result),
                     -EACCES);
    assert_false(result.accepted);
    assert_int_equal(result.error_instruction, REJECTED_INSTRUCTION);
    assert_non_null(result.log);
    snprintf(prefix, sizeof(prefix), "instruction %d:", REJECTED_INSTRUCTION);
    assert_memory_equal(result.log, prefix, strlen(prefix));
    /* The instruction in assembly, then the reason. */
    assert_non_null(strstr(result.log, "r0 = *(u64 *)(r0 + 0)"));
    assert_non_null(strstr(result.log, "may be NULL"));
    assert_non_null(strstr(ebpf_last_error(), "may be NULL"));
    ebpf_verifier_result_free(&result);
}

static void test_rejection_is_deterministic(void **state)
{
    ebpf_verifier_result_t first, second;

    verify(rejected_program, EBPF_ARRAY_SIZE(rejected_program), CORPUS_TYPE_TEST, NULL, &first);
    verify(rejected_program, EBPF_ARRAY_SIZE(rejected_program), CORPUS_TYPE_TEST, NULL, &second);
    assert_non_null(first.log);
    assert_non_null(second.log);
    assert_string_equal(first.log, second.log);
    ebpf_verifier_result_free(&first);
    ebpf_verifier_result_free(&second);
}

static void test_line_info_in_log(void **state)
{
    ebpf_verifier_line_info_t lines[EBPF_ARRAY_SIZE(rejected_program)];
    ebpf_verifier_options_t options = {0};
    ebpf_verifier_result_t result;

    memset(lines, 0, sizeof(lines));
    lines[REJECTED_INSTRUCTION] = (ebpf_verifier_line_info_t){
        .file_name = "probe.c", .line_text = "return *value;", .line = 42, .column = 5};
    options.line_info = lines;
    assert_int_equal(verify(rejected_program, EBPF_ARRAY_SIZE(rejected_program), CORPUS_TYPE_TEST,
                            &options, &result),
                     -EACCES);
    assert_non_null(strstr(result.log, "probe.c:42"));
    assert_non_null(strstr(result.log, "return *value;"));
    ebpf_verifier_result_free(&result);
}

static void test_verbose_log_shows_more(void **state)
{
    ebpf_verifier_options_t options = {.verbose = true};
    ebpf_verifier_result_t quiet, verbose;

    assert_int_equal(
        verify(rejected_program, EBPF_ARRAY_SIZE(rejected_program), CORPUS_TYPE_TEST, NULL, &quiet),
        -EACCES);
    assert_int_equal(verify(rejected_program, EBPF_ARRAY_SIZE(rejected_program), CORPUS_TYPE_TEST,
                            &options, &verbose),
                     -EACCES);
    assert_true(strlen(verbose.log) > strlen(quiet.log));
    assert_non_null(strstr(verbose.log, "may be NULL"));
    ebpf_verifier_result_free(&quiet);
    ebpf_verifier_result_free(&verbose);
}

static void test_instruction_budget_option(void **state)
{
    ebpf_verifier_options_t options = {.instruction_budget = 100};
    ebpf_verifier_result_t result;

    assert_int_equal(
        verify(counted_loop, EBPF_ARRAY_SIZE(counted_loop), CORPUS_TYPE_PLAIN, NULL, &result), 0);
    /* A thousand iterations of two instructions: no state can be pruned (r1 differs). */
    assert_true(result.processed_instructions >= 1000);
    assert_true(result.processed_instructions <= EBPF_VERIFIER_DEFAULT_INSTRUCTION_BUDGET);
    ebpf_verifier_result_free(&result);

    assert_int_equal(
        verify(counted_loop, EBPF_ARRAY_SIZE(counted_loop), CORPUS_TYPE_PLAIN, &options, &result),
        -EACCES);
    assert_non_null(strstr(result.log, "instruction budget"));
    assert_true(result.processed_instructions < 1000);
    ebpf_verifier_result_free(&result);
}

static void test_stack_depth_over_frames(void **state)
{
    static const struct bpf_insn two_frames[] = {
        ST_MEM(BPF_DW, R10, -256, 0), CALL_LOCAL(1), EXIT(),
        ST_MEM(BPF_DW, R10, -256, 0), RETURN_IMM(0),
    };
    static const struct bpf_insn no_stack[] = {RETURN_IMM(0)};
    ebpf_verifier_result_t result;

    assert_int_equal(
        verify(two_frames, EBPF_ARRAY_SIZE(two_frames), CORPUS_TYPE_PLAIN, NULL, &result), 0);
    assert_int_equal(result.max_stack_depth, 512);
    ebpf_verifier_result_free(&result);
    assert_int_equal(verify(no_stack, EBPF_ARRAY_SIZE(no_stack), CORPUS_TYPE_PLAIN, NULL, &result),
                     0);
    assert_int_equal(result.max_stack_depth, 0);
    ebpf_verifier_result_free(&result);
}

static void test_writes_packet(void **state)
{
    static const struct bpf_insn writer[] = {
        LOAD_PACKET(),
        MOV64_REG(R4, R2),
        ALU64_IMM(BPF_ADD, R4, 4),
        JMP_REG(BPF_JGT, R4, R3, 1),
        ST_MEM(BPF_W, R2, 0, 1),
        RETURN_IMM(0),
    };
    static const struct bpf_insn reader[] = {
        LOAD_PACKET(),
        MOV64_REG(R4, R2),
        ALU64_IMM(BPF_ADD, R4, 4),
        JMP_REG(BPF_JGT, R4, R3, 2),
        LDX_MEM(BPF_W, R0, R2, 0),
        EXIT(),
        RETURN_IMM(0),
    };
    ebpf_verifier_result_t result;

    assert_int_equal(verify(writer, EBPF_ARRAY_SIZE(writer), CORPUS_TYPE_TEST, NULL, &result), 0);
    assert_true(result.writes_packet);
    ebpf_verifier_result_free(&result);
    assert_int_equal(verify(reader, EBPF_ARRAY_SIZE(reader), CORPUS_TYPE_TEST, NULL, &result), 0);
    assert_false(result.writes_packet);
    ebpf_verifier_result_free(&result);
}

static void test_disassemble(void **state)
{
    static const struct bpf_insn load[] = {LDX_MEM(BPF_W, R1, R2, 4)};
    const char *expected = "r1 = *(u32 *)(r2 + 4)";
    char text[64], small[6];
    int length;

    length = ebpf_disassemble(load, 1, 0, text, sizeof(text));
    assert_string_equal(text, expected);
    assert_int_equal(length, (int)strlen(expected));
    /* Truncation behaves as snprintf: the full length comes back, the text is cut and ended. */
    length = ebpf_disassemble(load, 1, 0, small, sizeof(small));
    assert_int_equal(length, (int)strlen(expected));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, expected, sizeof(small) - 1);
    /* Every instruction of the corpus programs disassembles to something. */
    for (uint32_t pc = 0; pc < EBPF_ARRAY_SIZE(accepted_program); pc++) {
        length = ebpf_disassemble(accepted_program, EBPF_ARRAY_SIZE(accepted_program), pc, text,
                                  sizeof(text));
        assert_true(length > 0);
    }
}

/* Fails each allocation of a verification in turn: every run ends with the right answer or
 * -ENOMEM, and nothing stays allocated. */
static void check_allocation_failures(const struct bpf_insn *instructions, uint32_t count,
                                      corpus_program_type_t type, int expected)
{
    for (uint64_t n = 1; n < 10000; n++) {
        ebpf_verifier_result_t result;
        int64_t outstanding = ebpf_allocation_outstanding();
        int rc;

        ebpf_fault_reset();
        ebpf_fault_fail_nth(n);
        rc = verify(instructions, count, type, NULL, &result);
        bool injected = ebpf_fault_injected_count() > 0;
        ebpf_fault_reset();
        if (injected)
            assert_true(rc == expected || rc == -ENOMEM);
        else
            assert_int_equal(rc, expected);
        ebpf_verifier_result_free(&result);
        assert_int_equal(ebpf_allocation_outstanding(), outstanding);
        if (!injected) {
            print_message("%llu allocations failed one by one\n", (unsigned long long)n - 1);
            return;
        }
    }
    fail_msg("the verifier never finished without an injected failure");
}

static void test_allocation_failures(void **state)
{
    check_allocation_failures(accepted_program, EBPF_ARRAY_SIZE(accepted_program), CORPUS_TYPE_TEST,
                              0);
    check_allocation_failures(rejected_program, EBPF_ARRAY_SIZE(rejected_program), CORPUS_TYPE_TEST,
                              -EACCES);
}

/* The verifier is pure: concurrent verifications of different programs do not interfere. */
static void *verify_repeatedly(void *argument)
{
    bool *all_right = argument;

    *all_right = true;
    for (int i = 0; i < 50; i++) {
        ebpf_verifier_result_t result;
        int accepted = verify(accepted_program, EBPF_ARRAY_SIZE(accepted_program), CORPUS_TYPE_TEST,
                              NULL, &result);
        ebpf_verifier_result_free(&result);
        int rejected = verify(rejected_program, EBPF_ARRAY_SIZE(rejected_program), CORPUS_TYPE_TEST,
                              NULL, &result);
        if (accepted != 0 || rejected != -EACCES || result.log == NULL ||
            strstr(result.log, "may be NULL") == NULL)
            *all_right = false;
        ebpf_verifier_result_free(&result);
    }
    return NULL;
}

static void test_concurrent_verification(void **state)
{
    pthread_t threads[2];
    bool all_right[2] = {false, false};

    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, verify_repeatedly, &all_right[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
        assert_true(all_right[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_accepted_result),
        cmocka_unit_test(test_rejection_log),
        cmocka_unit_test(test_rejection_is_deterministic),
        cmocka_unit_test(test_line_info_in_log),
        cmocka_unit_test(test_verbose_log_shows_more),
        cmocka_unit_test(test_instruction_budget_option),
        cmocka_unit_test(test_stack_depth_over_frames),
        cmocka_unit_test(test_writes_packet),
        cmocka_unit_test(test_disassemble),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_concurrent_verification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
