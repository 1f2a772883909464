/* Interpreter tests: jumps, local calls, helpers, callx, tail calls, budgets and traces. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec_test_program.h"

#define R0  BPF_REG_0
#define R1  BPF_REG_1
#define R2  BPF_REG_2
#define R3  BPF_REG_3
#define R4  BPF_REG_4
#define R5  BPF_REG_5
#define R6  BPF_REG_6
#define R7  BPF_REG_7
#define R8  BPF_REG_8
#define R9  BPF_REG_9
#define R10 BPF_REG_10

typedef struct jump_case {
    uint8_t jump_class; /* BPF_JMP or BPF_JMP32 */
    uint8_t operation;
    bool register_source;
    uint64_t left;
    uint64_t right; /* a register value, or imm (truncated to 32 bits) */
    bool taken;
} jump_case_t;

/* r0 = 1 when the jump is taken, 0 otherwise. */
static void run_jump_case(const jump_case_t *c)
{
    uint8_t code = c->jump_class | c->operation | (c->register_source ? BPF_X : BPF_K);
    ebpf_exec_result_t result;
    int err = test_program_run(PROGRAM(MOV64_IMM(R0, 0), LDDW(R1, c->left), LDDW(R2, c->right),
                                       INSN(code, R1, c->register_source ? R2 : 0, 1,
                                            c->register_source ? 0 : (int32_t)c->right),
                                       EXIT(), MOV64_IMM(R0, 1), EXIT()),
                               NULL, 0, &result);

    if (err)
        fail_msg("jump 0x%02x failed: %s", code, ebpf_last_error());
    if (result.r0 != (c->taken ? 1u : 0u))
        fail_msg("jump 0x%02x on 0x%llx, 0x%llx: expected %s", code, (unsigned long long)c->left,
                 (unsigned long long)c->right, c->taken ? "taken" : "not taken");
}

static void test_64_bit_jumps_at_boundaries(void **state)
{
    const uint64_t minus_one = UINT64_MAX;
    const uint64_t int64_min = 0x8000000000000000ull;
    const jump_case_t cases[] = {
        {BPF_JMP, BPF_JEQ, true, 5, 5, true},
        {BPF_JMP, BPF_JEQ, true, 0x100000005ull, 5, false},
        {BPF_JMP, BPF_JNE, true, 0x100000005ull, 5, true},
        {BPF_JMP, BPF_JNE, true, 7, 7, false},
        {BPF_JMP, BPF_JGT, true, minus_one, 1, true},
        {BPF_JMP, BPF_JSGT, true, minus_one, 1, false},
        {BPF_JMP, BPF_JGE, true, 9, 9, true},
        {BPF_JMP, BPF_JGE, true, int64_min, 0, true},
        {BPF_JMP, BPF_JSGE, true, int64_min, 0, false},
        {BPF_JMP, BPF_JSGE, true, 0, 0, true},
        {BPF_JMP, BPF_JLT, true, 1, minus_one, true},
        {BPF_JMP, BPF_JSLT, true, 1, minus_one, false},
        {BPF_JMP, BPF_JSLT, true, minus_one, 1, true},
        {BPF_JMP, BPF_JLE, true, 3, 3, true},
        {BPF_JMP, BPF_JLE, true, 4, 3, false},
        {BPF_JMP, BPF_JSLE, true, int64_min, minus_one, true},
        {BPF_JMP, BPF_JSLE, true, 0, minus_one, false},
        {BPF_JMP, BPF_JSET, true, 0x100000000ull, 0x100000000ull, true},
        {BPF_JMP, BPF_JSET, true, 0x100000000ull, 1, false},
        /* The immediate is sign-extended to 64 bits. */
        {BPF_JMP, BPF_JEQ, false, minus_one, (uint32_t)-1, true},
        {BPF_JMP, BPF_JEQ, false, 0xffffffffull, (uint32_t)-1, false},
        {BPF_JMP, BPF_JGT, false, 0x80000000ull, (uint32_t)-1, false},
        {BPF_JMP, BPF_JSGT, false, 0x80000000ull, (uint32_t)-1, true},
        {BPF_JMP, BPF_JLT, false, 0x80000000ull, (uint32_t)-1, true},
        {BPF_JMP, BPF_JSET, false, 0x100000000ull, (uint32_t)-1, true},
        {BPF_JMP, BPF_JSLE, false, minus_one, (uint32_t)-1, true},
        {BPF_JMP, BPF_JSLT, false, minus_one, (uint32_t)-1, false},
    };

    for (size_t i = 0; i < EBPF_ARRAY_SIZE(cases); i++)
        run_jump_case(&cases[i]);
}

static void test_32_bit_jumps_compare_the_low_halves(void **state)
{
    const jump_case_t cases[] = {
        {BPF_JMP32, BPF_JEQ, false, 0x100000005ull, 5, true},
        {BPF_JMP32, BPF_JEQ, true, 0x100000005ull, 0x200000005ull, true},
        {BPF_JMP32, BPF_JNE, true, 0x100000005ull, 5, false},
        {BPF_JMP32, BPF_JGT, true, 0x100000000ull, 1, false},
        {BPF_JMP, BPF_JGT, true, 0x100000000ull, 1, true},
        {BPF_JMP32, BPF_JSGT, true, 0x80000000ull, 0, false},
        {BPF_JMP, BPF_JSGT, true, 0x80000000ull, 0, true},
        {BPF_JMP32, BPF_JSLT, true, 0x80000000ull, 0, true},
        {BPF_JMP32, BPF_JLT, true, 0xffffffffull, 1, false},
        {BPF_JMP32, BPF_JSLT, true, 0xffffffffull, 1, true},
        {BPF_JMP32, BPF_JGE, false, 0x1fffffffeull, (uint32_t)-2, true},
        {BPF_JMP32, BPF_JSGE, false, 0x7fffffffull, (uint32_t)0x80000000, true},
        {BPF_JMP32, BPF_JLE, false, 0xffffffff00000001ull, 1, true},
        {BPF_JMP32, BPF_JSLE, false, 0x80000000ull, (uint32_t)-1, true},
        {BPF_JMP32, BPF_JSLE, false, 0, (uint32_t)-1, false},
        {BPF_JMP32, BPF_JSET, false, 0x100000000ull, (uint32_t)-1, false},
        {BPF_JMP32, BPF_JSET, true, 0x100000001ull, 0x1ull, true},
    };

    for (size_t i = 0; i < EBPF_ARRAY_SIZE(cases); i++)
        run_jump_case(&cases[i]);
}

static void test_unconditional_jumps_and_gotol(void **state)
{
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 1), JA(1), MOV64_IMM(R0, 2), EXIT()), 1);
    test_expect_r0(
        PROGRAM(MOV64_IMM(R0, 0), ALU64_IMM(BPF_ADD, R0, 1), JMP_IMM(BPF_JLT, R0, 10, -2), EXIT()),
        10);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 1), GOTOL(2), MOV64_IMM(R0, 2), EXIT(),
                           JMP_IMM(BPF_JEQ, R0, 3, -2), MOV64_IMM(R0, 3), GOTOL(-3)),
                   3);
    /* A jump across the whole 0 offset is to the next instruction. */
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 4), JA(0), EXIT()), 4);
}

static void test_gotol_reaches_beyond_16_bit_offsets(void **state)
{
    enum { SKIPPED = 40000 };
    uint32_t count = SKIPPED + 3;
    struct bpf_insn *program = calloc(count, sizeof(*program));
    ebpf_exec_result_t result;

    assert_non_null(program);
    program[0] = MOV64_IMM(R0, 0);
    program[1] = GOTOL(SKIPPED);
    for (uint32_t i = 2; i < count - 1; i++)
        program[i] = ALU64_IMM(BPF_ADD, R0, 1);
    program[count - 1] = EXIT();
    assert_int_equal(test_program_run(program, count, NULL, 0, &result), 0);
    assert_int_equal(result.r0, 0);
    assert_int_equal(result.instructions, 3);

    program[1] = GOTOL(SKIPPED - 2);
    assert_int_equal(test_program_run(program, count, NULL, 0, &result), 0);
    assert_int_equal(result.r0, 2);
    free(program);
}

static void test_local_calls_pass_arguments_and_preserve_callee_saved(void **state)
{
    /* The shape of the conformance suite's call_local test, written from the RFC. */
    test_expect_r0(
        PROGRAM(MOV64_IMM(R1, 1), MOV64_IMM(R2, 2), MOV64_IMM(R3, 3), MOV64_IMM(R4, 4),
                MOV64_IMM(R5, 5), MOV64_IMM(R6, 6), MOV64_IMM(R7, 7), MOV64_IMM(R8, 8),
                MOV64_IMM(R9, 9), ST(BPF_DW, R10, -8, 0x1234), CALL_LOCAL(11),
                /* r0 = sum of arguments, r6..r9 intact, stack intact */
                JMP_IMM(BPF_JNE, R0, 15, 8), JMP_IMM(BPF_JNE, R6, 6, 7), JMP_IMM(BPF_JNE, R7, 7, 6),
                JMP_IMM(BPF_JNE, R8, 8, 5), JMP_IMM(BPF_JNE, R9, 9, 4), LDX(BPF_DW, R1, R10, -8),
                JMP_IMM(BPF_JNE, R1, 0x1234, 2), MOV64_IMM(R0, 1), EXIT(), MOV64_IMM(R0, -1),
                EXIT(),
                /* callee: own frame at r10 - 512 .. r10 */
                MOV64_REG(R0, R1), ALU64_REG(BPF_ADD, R0, R2), ALU64_REG(BPF_ADD, R0, R3),
                ALU64_REG(BPF_ADD, R0, R4), ALU64_REG(BPF_ADD, R0, R5), ST(BPF_DW, R10, -8, 0x99),
                MOV64_IMM(R6, 0), MOV64_IMM(R7, 0), MOV64_IMM(R8, 0), MOV64_IMM(R9, 0), EXIT()),
        1);
}

static void test_callee_reaches_caller_stack_through_pointers(void **state)
{
    test_expect_r0(PROGRAM(ST(BPF_DW, R10, -8, 42), MOV64_REG(R1, R10), ALU64_IMM(BPF_ADD, R1, -8),
                           CALL_LOCAL(1), EXIT(),
                           /* callee */
                           LDX(BPF_DW, R0, R1, 0), ST(BPF_DW, R1, 0, 43), EXIT()),
                   42);
    test_expect_r0(PROGRAM(ST(BPF_DW, R10, -8, 42), MOV64_REG(R1, R10), ALU64_IMM(BPF_ADD, R1, -8),
                           CALL_LOCAL(2), LDX(BPF_DW, R0, R10, -8), EXIT(),
                           /* callee */
                           ST(BPF_DW, R1, 0, 43), EXIT()),
                   43);
    /* Each level's r10 sits one frame below its caller's. */
    test_expect_r0(PROGRAM(MOV64_REG(R6, R10), CALL_LOCAL(3), ALU64_REG(BPF_SUB, R6, R0),
                           MOV64_REG(R0, R6), EXIT(), MOV64_REG(R0, R10), EXIT()),
                   EBPF_EXEC_FRAME_SIZE);
}

/* main plus `levels` nested functions, each adding 1 to r0. */
static struct bpf_insn *nested_calls(uint32_t levels, uint32_t *count)
{
    struct bpf_insn *program = calloc(3 + 3 * (size_t)levels, sizeof(*program));
    uint32_t n = 0;

    assert_non_null(program);
    program[n++] = MOV64_IMM(R0, 0);
    program[n++] = CALL_LOCAL(1);
    program[n++] = EXIT();
    for (uint32_t level = 1; level <= levels; level++) {
        program[n++] = ALU64_IMM(BPF_ADD, R0, 1);
        if (level < levels) {
            program[n++] = CALL_LOCAL(1);
        }
        program[n++] = EXIT();
    }
    *count = n;
    return program;
}

static void test_call_depth_limit(void **state)
{
    uint32_t count;
    struct bpf_insn *program = nested_calls(EBPF_EXEC_MAX_CALL_FRAMES - 1, &count);
    ebpf_exec_result_t result;

    assert_int_equal(test_program_run(program, count, NULL, 0, &result), 0);
    assert_int_equal(result.r0, EBPF_EXEC_MAX_CALL_FRAMES - 1);
    free(program);

    program = nested_calls(EBPF_EXEC_MAX_CALL_FRAMES, &count);
    assert_int_equal(test_program_run(program, count, NULL, 0, &result), -EOVERFLOW);
    test_expect_message("local call exceeds 8 call levels");
    free(program);

    test_expect_run_error(PROGRAM(CALL_LOCAL(-1), EXIT()), NULL, 0, -EOVERFLOW,
                          "instruction 0: local call exceeds");

    /* A smaller stack allows fewer levels. */
    _Alignas(16) uint8_t stack[2 * EBPF_EXEC_FRAME_SIZE];
    ebpf_exec_environment_t env = {.stack = stack, .stack_size = sizeof(stack)};
    program = nested_calls(1, &count);
    assert_int_equal(test_program_run(program, count, &env, 0, &result), 0);
    assert_int_equal(result.r0, 1);
    free(program);
    program = nested_calls(2, &count);
    assert_int_equal(test_program_run(program, count, &env, 0, &result), -EOVERFLOW);
    free(program);
}

static void test_callee_frame_bounds(void **state)
{
    /* A callee may not reach below its own frame. */
    test_expect_run_error(PROGRAM(CALL_LOCAL(1), EXIT(), ST(BPF_DW, R10, -520, 1), EXIT()), NULL, 0,
                          -EFAULT, "instruction 2: write of 8 bytes at r10-520");
    /* After returning, the callee's frame is dead: the caller may not reach into it. */
    test_expect_run_error(
        PROGRAM(CALL_LOCAL(2), LDX(BPF_DW, R0, R10, -520), EXIT(), ST(BPF_DW, R10, -8, 1), EXIT()),
        NULL, 0, -EFAULT, "below the current stack frame");
}

static void test_helpers_are_called_with_registers(void **state)
{
    test_helper_calls_reset();
    test_expect_r0(
        PROGRAM(MOV64_IMM(R1, 40), MOV64_IMM(R2, 2), CALL_HELPER(TEST_HELPER_ADD), EXIT()), 42);
    assert_int_equal(test_helper_calls(TEST_HELPER_ADD), 1);
    /* r6..r9 survive a helper call. */
    test_expect_r0(PROGRAM(MOV64_IMM(R6, 1), MOV64_IMM(R7, 2), MOV64_IMM(R8, 3), MOV64_IMM(R9, 4),
                           MOV64_IMM(R1, 10), MOV64_IMM(R2, 20), CALL_HELPER(TEST_HELPER_ADD),
                           ALU64_REG(BPF_ADD, R0, R6), ALU64_REG(BPF_ADD, R0, R7),
                           ALU64_REG(BPF_ADD, R0, R8), ALU64_REG(BPF_ADD, R0, R9), EXIT()),
                   40);
    /* The conformance suite's helper 5 returns its first argument. */
    test_expect_r0(PROGRAM(LDDW(R1, 0x123456789abcull), CALL_HELPER(TEST_HELPER_IDENTITY), EXIT()),
                   0x123456789abcull);
}

static void test_helper_memory_arguments_are_checked(void **state)
{
    uint8_t read_only[4] = {1, 2, 3, 4};
    ebpf_exec_region_t region = {read_only, sizeof(read_only), false};
    ebpf_exec_environment_t env = {.regions = &region, .region_count = 1};

    test_helper_calls_reset();
    test_expect_r0(PROGRAM(LDDW(R1, 0x0101010101010101ull), STX(BPF_DW, R10, R1, -8),
                           MOV64_REG(R1, R10), ALU64_IMM(BPF_ADD, R1, -8), MOV64_IMM(R2, 8),
                           CALL_HELPER(TEST_HELPER_SUM_MEMORY), EXIT()),
                   8);
    test_expect_r0_env(PROGRAM(MOV64_IMM(R2, 4), CALL_HELPER(TEST_HELPER_SUM_MEMORY), EXIT()), &env,
                       (uintptr_t)read_only, 10);
    assert_int_equal(test_helper_calls(TEST_HELPER_SUM_MEMORY), 2);

    /* Too long for the stack: refused before the helper runs. */
    test_expect_run_error(PROGRAM(MOV64_REG(R1, R10), ALU64_IMM(BPF_ADD, R1, -8), MOV64_IMM(R2, 16),
                                  CALL_HELPER(TEST_HELPER_SUM_MEMORY), EXIT()),
                          NULL, 0, -EFAULT,
                          "instruction 3: helper test_sum_memory (id 2) argument r1: read of 16");
    /* Writable memory declared read-only. */
    test_expect_run_error(PROGRAM(MOV64_IMM(R2, 4), MOV64_IMM(R3, 0xee),
                                  CALL_HELPER(TEST_HELPER_FILL_MEMORY), EXIT()),
                          &env, (uintptr_t)read_only, -EFAULT, "read-only");
    /* Host memory the program was never given. */
    static uint8_t host[8];
    test_expect_run_error(PROGRAM(MOV64_IMM(R2, 8), CALL_HELPER(TEST_HELPER_SUM_MEMORY), EXIT()),
                          NULL, (uintptr_t)host, -EFAULT, "argument r1");
    assert_int_equal(test_helper_calls(TEST_HELPER_SUM_MEMORY), 2);
    assert_int_equal(test_helper_calls(TEST_HELPER_FILL_MEMORY), 0);
    assert_int_equal(read_only[0], 1);

    test_expect_r0(PROGRAM(MOV64_REG(R1, R10), ALU64_IMM(BPF_ADD, R1, -16), MOV64_IMM(R2, 16),
                           MOV64_IMM(R3, 0x11), CALL_HELPER(TEST_HELPER_FILL_MEMORY),
                           LDX(BPF_DW, R0, R10, -8), EXIT()),
                   0x1111111111111111ull);
    assert_int_equal(test_helper_calls(TEST_HELPER_FILL_MEMORY), 1);
}

static void test_optional_and_string_arguments(void **state)
{
    test_helper_calls_reset();
    /* NULL is fine where the prototype allows it, whatever the size. */
    test_expect_r0(
        PROGRAM(MOV64_IMM(R1, 0), MOV64_IMM(R2, 5), CALL_HELPER(TEST_HELPER_OPTIONAL), EXIT()), 0);
    test_expect_r0(PROGRAM(MOV64_REG(R1, R10), ALU64_IMM(BPF_ADD, R1, -4), MOV64_IMM(R2, 4),
                           CALL_HELPER(TEST_HELPER_OPTIONAL), EXIT()),
                   4);
    test_expect_run_error(
        PROGRAM(MOV64_IMM(R1, 0x2000), MOV64_IMM(R2, 4), CALL_HELPER(TEST_HELPER_OPTIONAL), EXIT()),
        NULL, 0, -EFAULT, "argument r1");
    assert_int_equal(test_helper_calls(TEST_HELPER_OPTIONAL), 2);

    /* "abc\0" on the stack. */
    test_expect_r0(PROGRAM(ST(BPF_W, R10, -4, 0x00636261), MOV64_REG(R1, R10),
                           ALU64_IMM(BPF_ADD, R1, -4), CALL_HELPER(TEST_HELPER_STRLEN), EXIT()),
                   3);
    /* "abcd" without its terminator runs off the stack. */
    test_expect_run_error(PROGRAM(ST(BPF_W, R10, -4, 0x64636261), MOV64_REG(R1, R10),
                                  ALU64_IMM(BPF_ADD, R1, -4), CALL_HELPER(TEST_HELPER_STRLEN),
                                  EXIT()),
                          NULL, 0, -EFAULT, "helper test_strlen (id 8) argument r1: string");
    assert_int_equal(test_helper_calls(TEST_HELPER_STRLEN), 1);
}

static void test_helpers_check_access_themselves(void **state)
{
    test_helper_calls_reset();
    test_expect_r0(PROGRAM(MOV64_REG(R1, R10), ALU64_IMM(BPF_ADD, R1, -8), MOV64_IMM(R2, 8),
                           MOV64_IMM(R3, 1), CALL_HELPER(TEST_HELPER_CHECK_ACCESS), EXIT()),
                   1);
    test_expect_run_error(PROGRAM(MOV64_REG(R1, R10), MOV64_IMM(R2, 8), MOV64_IMM(R3, 0),
                                  CALL_HELPER(TEST_HELPER_CHECK_ACCESS), MOV64_IMM(R0, 7), EXIT()),
                          NULL, 0, -EFAULT, "instruction 3: memory given to a helper: read of 8");
    assert_int_equal(test_helper_calls(TEST_HELPER_CHECK_ACCESS), 2);
    /* Outside a run (the core calling a helper itself) everything is allowed. */
    assert_true(ebpf_exec_check_access(NULL, 8, true));
    /* So it is in a run the verifier vouched for. */
    ebpf_exec_environment_t env = {.unchecked = true};
    test_expect_r0_env(PROGRAM(MOV64_IMM(R1, 0x10), MOV64_IMM(R2, 8), MOV64_IMM(R3, 1),
                               CALL_HELPER(TEST_HELPER_CHECK_ACCESS), EXIT()),
                       &env, 0, 1);
}

static void test_callx(void **state)
{
    test_helper_calls_reset();
    /* The register is named by dst_reg. */
    test_expect_r0(
        PROGRAM(MOV64_IMM(R1, -1), MOV64_IMM(R2, TEST_HELPER_IDENTITY), CALLX(R2), EXIT()),
        UINT64_MAX);
    /* The LLVM < 19 encoding: register number in imm. */
    test_expect_r0(PROGRAM(MOV64_IMM(R1, 7), MOV64_IMM(R2, TEST_HELPER_IDENTITY),
                           INSN(EBPF_OP_CALLX, 0, 0, 0, R2), EXIT()),
                   7);
    test_expect_r0(PROGRAM(MOV64_IMM(R1, 2), MOV64_IMM(R2, 3), MOV64_IMM(R6, TEST_HELPER_ADD),
                           CALLX(R6), EXIT()),
                   5);
    assert_int_equal(test_helper_calls(TEST_HELPER_IDENTITY), 2);
    assert_int_equal(test_helper_calls(TEST_HELPER_ADD), 1);
    test_expect_run_error(PROGRAM(MOV64_IMM(R3, 1000), CALLX(R3), EXIT()), NULL, 0, -ENOENT,
                          "instruction 1: callx of unknown helper id 1000");
    test_expect_run_error(PROGRAM(LDDW(R3, 0x100000002ull), CALLX(R3), EXIT()), NULL, 0, -ENOENT,
                          "unknown helper id 4294967298");
    /* Memory arguments are checked for callx too. */
    test_expect_run_error(PROGRAM(MOV64_IMM(R1, 0x3000), MOV64_IMM(R2, 8),
                                  MOV64_IMM(R3, TEST_HELPER_SUM_MEMORY), CALLX(R3), EXIT()),
                          NULL, 0, -EFAULT, "argument r1");
    assert_int_equal(test_helper_calls(TEST_HELPER_SUM_MEMORY), 0);
}

static void test_tail_calls(void **state)
{
    ebpf_interpreter_program_t *target = test_program_create(PROGRAM(MOV64_IMM(R0, 0xb), EXIT()));
    ebpf_interpreter_program_t *caller = test_program_create(PROGRAM(
        MOV64_IMM(R2, 0), CALL_HELPER(TEST_HELPER_TAIL_CALL), MOV64_IMM(R0, 0xdead), EXIT()));
    ebpf_interpreter_program_t *nested =
        test_program_create(PROGRAM(CALL_LOCAL(2), MOV64_IMM(R0, 0xdead), EXIT(), MOV64_IMM(R2, 0),
                                    CALL_HELPER(TEST_HELPER_TAIL_CALL), EXIT()));
    ebpf_interpreter_program_t *missing =
        test_program_create(PROGRAM(MOV64_IMM(R2, 1), CALL_HELPER(TEST_HELPER_TAIL_CALL),
                                    MOV64_REG(R6, R0), MOV64_IMM(R0, 0x77), EXIT()));
    ebpf_exec_result_t result;

    test_tail_call_targets[0] = target;
    test_tail_call_targets[1] = NULL;

    /* One run stops at the tail call and names the target. */
    assert_int_equal(ebpf_interpreter_run(caller, 0, 0, NULL, &result), 0);
    assert_ptr_equal(result.tail_call_target, target);
    assert_int_equal(result.r0, 0);
    assert_int_equal(result.instructions, 2);

    assert_int_equal(ebpf_interpreter_run_chain(caller, 0, 0, NULL, &result), 0);
    assert_int_equal(result.r0, 0xb);
    assert_null(result.tail_call_target);
    assert_int_equal(result.instructions, 4);

    /* From inside a local call, every level ends. */
    assert_int_equal(ebpf_interpreter_run_chain(nested, 0, 0, NULL, &result), 0);
    assert_int_equal(result.r0, 0xb);

    /* A failed tail call returns an error to the program, which carries on. */
    assert_int_equal(ebpf_interpreter_run_chain(missing, 0, 0, NULL, &result), 0);
    assert_int_equal(result.r0, 0x77);

    /* No tail call outside a run. */
    assert_int_equal(ebpf_exec_tail_call_request(target), -EINVAL);

    /* The invocation already used its tail calls. */
    ebpf_exec_environment_t env = {.tail_calls_taken = EBPF_EXEC_MAX_TAIL_CALLS};
    assert_int_equal(ebpf_interpreter_run(caller, 0, 0, &env, &result), 0);
    assert_null(result.tail_call_target);
    assert_int_equal(result.r0, 0xdead);

    ebpf_interpreter_program_destroy(missing);
    ebpf_interpreter_program_destroy(nested);
    ebpf_interpreter_program_destroy(caller);
    ebpf_interpreter_program_destroy(target);
}

static void test_tail_call_chain_limit(void **state)
{
    uint64_t counter = 0;
    ebpf_exec_region_t region = {&counter, sizeof(counter), true};
    ebpf_exec_environment_t env = {.regions = &region, .region_count = 1};
    /* Counts its runs in the context, then tail-calls itself; returns the helper's error. */
    ebpf_interpreter_program_t *self = test_program_create(
        PROGRAM(LDX(BPF_DW, R2, R1, 0), ALU64_IMM(BPF_ADD, R2, 1), STX(BPF_DW, R1, R2, 0),
                MOV64_IMM(R2, 2), CALL_HELPER(TEST_HELPER_TAIL_CALL), EXIT()));
    ebpf_exec_result_t result;

    test_tail_call_targets[2] = self;
    assert_int_equal(ebpf_interpreter_run_chain(self, (uintptr_t)&counter, 0, &env, &result), 0);
    assert_int_equal(counter, 1 + EBPF_EXEC_MAX_TAIL_CALLS);
    assert_int_equal(result.r0, (uint64_t)-E2BIG);
    /* Each run stops right after its successful tail call; the last one also exits. */
    assert_int_equal(result.instructions, 5 * EBPF_EXEC_MAX_TAIL_CALLS + 6);

    /* The budget covers the whole chain. */
    counter = 0;
    env.instruction_budget = 5 * 4;
    assert_int_equal(ebpf_interpreter_run_chain(self, (uintptr_t)&counter, 0, &env, &result),
                     -ETIMEDOUT);
    assert_int_equal(counter, 4);
    test_tail_call_targets[2] = NULL;
    ebpf_interpreter_program_destroy(self);
}

static void test_instruction_budget(void **state)
{
    ebpf_exec_environment_t env = {.instruction_budget = 1000};
    ebpf_interpreter_program_t *loop = test_program_create(PROGRAM(JA(-1), EXIT()));
    ebpf_exec_result_t result;

    assert_int_equal(ebpf_interpreter_run(loop, 0, 0, &env, &result), -ETIMEDOUT);
    test_expect_message("instruction 0: the instruction budget of 1000 is exhausted");
    assert_int_equal(result.instructions, 1000);
    ebpf_interpreter_program_destroy(loop);

    /* Exactly enough. */
    env.instruction_budget = 3;
    test_expect_r0_env(PROGRAM(MOV64_IMM(R0, 1), ALU64_IMM(BPF_ADD, R0, 1), EXIT()), &env, 0, 2);
    env.instruction_budget = 2;
    test_expect_run_error(PROGRAM(MOV64_IMM(R0, 1), ALU64_IMM(BPF_ADD, R0, 1), EXIT()), &env, 0,
                          -ETIMEDOUT, "instruction 2: the instruction budget of 2");
}

typedef struct trace_record {
    unsigned calls;
    uint32_t last_pc;
    uint8_t last_code;
    uint64_t r0_seen_at_exit;
} trace_record_t;

static void record_trace(void *cookie, uint32_t pc, const struct bpf_insn *instruction,
                         const uint64_t registers[11])
{
    trace_record_t *record = cookie;

    record->calls++;
    record->last_pc = pc;
    record->last_code = instruction->code;
    if (instruction->code == (BPF_JMP | BPF_EXIT))
        record->r0_seen_at_exit = registers[0];
}

static void test_trace_sees_every_instruction(void **state)
{
    trace_record_t record = {0};
    ebpf_exec_environment_t env = {.trace = record_trace, .trace_cookie = &record};
    ebpf_exec_result_t result;

    assert_int_equal(test_program_run(PROGRAM(MOV64_IMM(R0, 0), ALU64_IMM(BPF_ADD, R0, 1),
                                              JMP_IMM(BPF_JLT, R0, 3, -2), EXIT()),
                                      &env, 0, &result),
                     0);
    assert_int_equal(record.calls, result.instructions);
    assert_int_equal(record.calls, 8);
    assert_int_equal(record.last_pc, 3);
    assert_int_equal(record.last_code, BPF_JMP | BPF_EXIT);
    assert_int_equal(record.r0_seen_at_exit, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_64_bit_jumps_at_boundaries),
        cmocka_unit_test(test_32_bit_jumps_compare_the_low_halves),
        cmocka_unit_test(test_unconditional_jumps_and_gotol),
        cmocka_unit_test(test_gotol_reaches_beyond_16_bit_offsets),
        cmocka_unit_test(test_local_calls_pass_arguments_and_preserve_callee_saved),
        cmocka_unit_test(test_callee_reaches_caller_stack_through_pointers),
        cmocka_unit_test(test_call_depth_limit),
        cmocka_unit_test(test_callee_frame_bounds),
        cmocka_unit_test(test_helpers_are_called_with_registers),
        cmocka_unit_test(test_helper_memory_arguments_are_checked),
        cmocka_unit_test(test_optional_and_string_arguments),
        cmocka_unit_test(test_helpers_check_access_themselves),
        cmocka_unit_test(test_callx),
        cmocka_unit_test(test_tail_calls),
        cmocka_unit_test(test_tail_call_chain_limit),
        cmocka_unit_test(test_instruction_budget),
        cmocka_unit_test(test_trace_sees_every_instruction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
