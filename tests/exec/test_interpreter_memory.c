/* Interpreter tests: loads, stores, atomics and the memory checks around them. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "exec_test_program.h"

#define R0  BPF_REG_0
#define R1  BPF_REG_1
#define R2  BPF_REG_2
#define R3  BPF_REG_3
#define R4  BPF_REG_4
#define R10 BPF_REG_10

static void test_stack_loads_and_stores_of_each_size(void **state)
{
    const uint64_t value = 0x1122334455667788ull;

    test_expect_r0(
        PROGRAM(LDDW(R1, value), STX(BPF_DW, R10, R1, -8), LDX(BPF_B, R0, R10, -8), EXIT()), 0x88);
    test_expect_r0(
        PROGRAM(LDDW(R1, value), STX(BPF_DW, R10, R1, -8), LDX(BPF_H, R0, R10, -8), EXIT()),
        0x7788);
    test_expect_r0(
        PROGRAM(LDDW(R1, value), STX(BPF_DW, R10, R1, -8), LDX(BPF_W, R0, R10, -8), EXIT()),
        0x55667788);
    test_expect_r0(
        PROGRAM(LDDW(R1, value), STX(BPF_DW, R10, R1, -8), LDX(BPF_DW, R0, R10, -8), EXIT()),
        value);
    test_expect_r0(
        PROGRAM(LDDW(R1, value), STX(BPF_DW, R10, R1, -8), LDX(BPF_B, R0, R10, -1), EXIT()), 0x11);
    /* Narrow stores write only their bytes. */
    test_expect_r0(PROGRAM(ST(BPF_DW, R10, -8, 0), MOV64_IMM(R1, 0x1ff), STX(BPF_B, R10, R1, -8),
                           LDX(BPF_DW, R0, R10, -8), EXIT()),
                   0xff);
    test_expect_r0(PROGRAM(ST(BPF_DW, R10, -8, 0), MOV64_IMM(R1, -1), STX(BPF_H, R10, R1, -6),
                           LDX(BPF_DW, R0, R10, -8), EXIT()),
                   0xffff0000ull);
    test_expect_r0(PROGRAM(ST(BPF_DW, R10, -8, 0), MOV64_IMM(R1, -1), STX(BPF_W, R10, R1, -4),
                           LDX(BPF_DW, R0, R10, -8), EXIT()),
                   0xffffffff00000000ull);
}

static void test_stores_of_immediates(void **state)
{
    test_expect_r0(PROGRAM(ST(BPF_W, R10, -4, -1), LDX(BPF_W, R0, R10, -4), EXIT()), 0xffffffffull);
    /* The 64-bit store sign-extends imm. */
    test_expect_r0(PROGRAM(ST(BPF_DW, R10, -8, -1), LDX(BPF_DW, R0, R10, -8), EXIT()), UINT64_MAX);
    test_expect_r0(PROGRAM(ST(BPF_H, R10, -2, 0x12345), LDX(BPF_H, R0, R10, -2), EXIT()), 0x2345);
    test_expect_r0(PROGRAM(ST(BPF_B, R10, -1, 0x1ab), LDX(BPF_B, R0, R10, -1), EXIT()), 0xab);
}

static void test_sign_extending_loads(void **state)
{
    test_expect_r0(PROGRAM(ST(BPF_B, R10, -1, 0x80), LDXSX(BPF_B, R0, R10, -1), EXIT()),
                   0xffffffffffffff80ull);
    test_expect_r0(PROGRAM(ST(BPF_B, R10, -1, 0x7f), LDXSX(BPF_B, R0, R10, -1), EXIT()), 0x7f);
    test_expect_r0(PROGRAM(ST(BPF_H, R10, -2, 0x8001), LDXSX(BPF_H, R0, R10, -2), EXIT()),
                   0xffffffffffff8001ull);
    test_expect_r0(PROGRAM(ST(BPF_W, R10, -4, 0x80000000), LDXSX(BPF_W, R0, R10, -4), EXIT()),
                   0xffffffff80000000ull);
    test_expect_r0(PROGRAM(ST(BPF_W, R10, -4, 0x7fffffff), LDXSX(BPF_W, R0, R10, -4), EXIT()),
                   0x7fffffff);
    /* The plain load of the same bytes zero-extends. */
    test_expect_r0(PROGRAM(ST(BPF_W, R10, -4, 0x80000000), LDX(BPF_W, R0, R10, -4), EXIT()),
                   0x80000000ull);
}

static void test_unaligned_plain_access_is_allowed(void **state)
{
    test_expect_r0(PROGRAM(LDDW(R1, 0x1122334455667788ull), STX(BPF_DW, R10, R1, -8),
                           LDX(BPF_W, R0, R10, -6), EXIT()),
                   0x33445566);
    test_expect_r0(PROGRAM(ST(BPF_DW, R10, -16, 0), ST(BPF_DW, R10, -8, 0), MOV64_IMM(R1, -1),
                           STX(BPF_DW, R10, R1, -11), LDX(BPF_DW, R0, R10, -16), EXIT()),
                   0xffffff0000000000ull);
}

static void test_context_region(void **state)
{
    uint64_t context[2] = {0x1111, 0x2222};
    ebpf_exec_region_t region = {context, sizeof(context), false};
    ebpf_exec_environment_t env = {.regions = &region, .region_count = 1};

    test_expect_r0_env(PROGRAM(LDX(BPF_DW, R0, R1, 8), EXIT()), &env, (uintptr_t)context, 0x2222);
    test_expect_r0_env(PROGRAM(LDX(BPF_W, R0, R1, 0), EXIT()), &env, (uintptr_t)context, 0x1111);
    test_expect_run_error(PROGRAM(ST(BPF_DW, R1, 0, 5), MOV64_IMM(R0, 0), EXIT()), &env,
                          (uintptr_t)context, -EFAULT, "read-only");
    test_expect_run_error(PROGRAM(MOV64_IMM(R0, 0), LDX(BPF_DW, R0, R1, 12), EXIT()), &env,
                          (uintptr_t)context, -EFAULT, "instruction 1: read of 8 bytes");
    test_expect_message("runs past the end of region 0");
    test_expect_run_error(PROGRAM(LDX(BPF_B, R0, R1, -1), EXIT()), &env, (uintptr_t)context,
                          -EFAULT, "read of 1 bytes");

    region.writable = true;
    test_expect_r0_env(PROGRAM(ST(BPF_DW, R1, 0, 5), LDX(BPF_DW, R0, R1, 0), EXIT()), &env,
                       (uintptr_t)context, 5);
    assert_int_equal(context[0], 5);
    assert_int_equal(context[1], 0x2222);
}

static void test_packet_region_behind_context(void **state)
{
    uint8_t packet[6] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5};
    struct {
        uint64_t data;
        uint64_t data_end;
    } context = {(uintptr_t)packet, (uintptr_t)(packet + sizeof(packet))};
    ebpf_exec_region_t regions[2] = {{&context, sizeof(context), false},
                                     {packet, sizeof(packet), true}};
    ebpf_exec_environment_t env = {.regions = regions, .region_count = 2};

    test_expect_r0_env(PROGRAM(LDX(BPF_DW, R2, R1, 0), LDX(BPF_B, R0, R2, 3), EXIT()), &env,
                       (uintptr_t)&context, 0xa3);
    /* Bounds-checked the way programs do it: data + 8 > data_end, so return 0. */
    test_expect_r0_env(PROGRAM(LDX(BPF_DW, R2, R1, 0), LDX(BPF_DW, R3, R1, 8), MOV64_REG(R4, R2),
                               ALU64_IMM(BPF_ADD, R4, 8), JMP_REG(BPF_JGT, R4, R3, 2),
                               LDX(BPF_DW, R0, R2, 0), EXIT(), MOV64_IMM(R0, 0), EXIT()),
                       &env, (uintptr_t)&context, 0);
    test_expect_run_error(PROGRAM(LDX(BPF_DW, R2, R1, 0), LDX(BPF_W, R0, R2, 4), EXIT()), &env,
                          (uintptr_t)&context, -EFAULT, "runs past the end of region 1");
    test_expect_r0_env(
        PROGRAM(LDX(BPF_DW, R2, R1, 0), ST(BPF_B, R2, 5, 0x55), LDX(BPF_B, R0, R2, 5), EXIT()),
        &env, (uintptr_t)&context, 0x55);
    assert_int_equal(packet[5], 0x55);
}

typedef struct map_value_checker {
    const void *value;
    size_t size;
    unsigned calls;
} map_value_checker_t;

static bool check_map_value(void *cookie, const void *address, size_t size, bool write)
{
    map_value_checker_t *checker = cookie;
    uintptr_t start = (uintptr_t)checker->value;

    checker->calls++;
    return !write && (uintptr_t)address >= start &&
           (uintptr_t)address + size <= start + checker->size;
}

static void test_embedder_memory_callback(void **state)
{
    uint64_t map_value[2] = {0xabcdef, 0x123456};
    map_value_checker_t checker = {map_value, sizeof(map_value), 0};
    ebpf_exec_environment_t env = {.check_memory = check_map_value,
                                   .check_memory_cookie = &checker};

    test_expect_r0_env(PROGRAM(LDX(BPF_DW, R0, R1, 8), EXIT()), &env, (uintptr_t)map_value,
                       0x123456);
    assert_int_equal(checker.calls, 1);
    /* Stack accesses never reach the callback. */
    test_expect_r0_env(PROGRAM(ST(BPF_DW, R10, -8, 3), LDX(BPF_DW, R0, R10, -8), EXIT()), &env, 0,
                       3);
    assert_int_equal(checker.calls, 1);
    test_expect_run_error(PROGRAM(ST(BPF_DW, R1, 0, 1), MOV64_IMM(R0, 0), EXIT()), &env,
                          (uintptr_t)map_value, -EFAULT, "write of 8 bytes");
    assert_int_equal(checker.calls, 2);
}

static void test_out_of_bounds_accesses_stop_the_program(void **state)
{
    test_expect_run_error(PROGRAM(ST(BPF_DW, R10, -520, 1), MOV64_IMM(R0, 0), EXIT()), NULL, 0,
                          -EFAULT, "below the current stack frame (stack overflow)");
    test_expect_message("r10-520");
    test_expect_run_error(PROGRAM(LDX(BPF_DW, R0, R10, 0), EXIT()), NULL, 0, -EFAULT,
                          "runs past the top of the stack");
    test_expect_run_error(PROGRAM(LDX(BPF_DW, R0, R10, -4), EXIT()), NULL, 0, -EFAULT,
                          "runs past the top of the stack");
    test_expect_run_error(PROGRAM(ST(BPF_W, R10, 8, 1), MOV64_IMM(R0, 0), EXIT()), NULL, 0, -EFAULT,
                          "write of 4 bytes");
    test_expect_run_error(PROGRAM(MOV64_IMM(R1, 0), LDX(BPF_W, R0, R1, 0), EXIT()), NULL, 0,
                          -EFAULT, "instruction 1: read of 4 bytes at 0x0: NULL pointer");
    test_expect_run_error(PROGRAM(LDX(BPF_W, R0, R1, 16), EXIT()), NULL, 0, -EFAULT,
                          "NULL pointer");
    test_expect_run_error(PROGRAM(LDDW(R1, 0x123456780000ull), LDX(BPF_B, R0, R1, 0), EXIT()), NULL,
                          0, -EFAULT, "instruction 2: read of 1 bytes at 0x123456780000");
    test_expect_message("outside the stack and every region");
    /* A host pointer the environment never declared is refused too. */
    static uint64_t host = 7;
    test_expect_run_error(PROGRAM(LDX(BPF_DW, R0, R1, 0), EXIT()), NULL, (uintptr_t)&host, -EFAULT,
                          "outside the stack and every region");
    /* Address arithmetic that wraps around does not sneak past the checks. */
    test_expect_run_error(PROGRAM(MOV64_REG(R1, R10), LDDW(R2, 0x8000000000000000ull),
                                  ALU64_REG(BPF_ADD, R1, R2), LDX(BPF_B, R0, R1, 0), EXIT()),
                          NULL, 0, -EFAULT, "instruction 4");
}

static void test_result_reports_instructions_and_no_tail_call(void **state)
{
    ebpf_exec_result_t result;

    assert_int_equal(test_program_run(PROGRAM(MOV64_IMM(R0, 0), ALU64_IMM(BPF_ADD, R0, 1),
                                              JMP_IMM(BPF_JLT, R0, 10, -2), EXIT()),
                                      NULL, 0, &result),
                     0);
    assert_int_equal(result.r0, 10);
    assert_int_equal(result.instructions, 22);
    assert_null(result.tail_call_target);
}

/* Which value an atomic case checks. */
typedef struct atomic_case {
    uint8_t size;
    int32_t operation;
    uint64_t memory;  /* initial */
    uint64_t operand; /* in r4 */
    uint64_t r0;      /* initial */
    uint64_t expect_memory;
    uint64_t expect_operand; /* r4 afterwards */
    uint64_t expect_r0;
} atomic_case_t;

/* Runs one atomic on stack memory whose neighbouring word holds a sentinel, and reports the
 * memory (with the sentinel above it for 32-bit operations), r4 and r0 in a context buffer. */
static void run_atomic_case(const atomic_case_t *c)
{
    uint64_t out[3] = {0};
    ebpf_exec_region_t region = {out, sizeof(out), true};
    ebpf_exec_environment_t env = {.regions = &region, .region_count = 1};
    const uint64_t sentinel = 0x5a5a5a5aull;
    bool wide = c->size == BPF_DW;
    ebpf_exec_result_t result;
    int err;

    if (wide) {
        err = test_program_run(PROGRAM(LDDW(R2, c->memory), STX(BPF_DW, R10, R2, -8),
                                       LDDW(R4, c->operand), LDDW(R0, c->r0),
                                       ATOMIC(BPF_DW, c->operation, R10, R4, -8),
                                       LDX(BPF_DW, R2, R10, -8), STX(BPF_DW, R1, R2, 0),
                                       STX(BPF_DW, R1, R4, 8), STX(BPF_DW, R1, R0, 16), EXIT()),
                               &env, (uintptr_t)out, &result);
    } else {
        err = test_program_run(PROGRAM(LDDW(R2, c->memory), STX(BPF_W, R10, R2, -8),
                                       ST(BPF_W, R10, -4, sentinel), LDDW(R4, c->operand),
                                       LDDW(R0, c->r0), ATOMIC(BPF_W, c->operation, R10, R4, -8),
                                       LDX(BPF_DW, R2, R10, -8), STX(BPF_DW, R1, R2, 0),
                                       STX(BPF_DW, R1, R4, 8), STX(BPF_DW, R1, R0, 16), EXIT()),
                               &env, (uintptr_t)out, &result);
    }
    if (err)
        fail_msg("atomic 0x%x failed: %s", (unsigned)c->operation, ebpf_last_error());
    assert_int_equal(out[0], wide ? c->expect_memory : (sentinel << 32) | c->expect_memory);
    assert_int_equal(out[1], c->expect_operand);
    assert_int_equal(out[2], c->expect_r0);
}

static void test_atomic_operations_64(void **state)
{
    static const atomic_case_t cases[] = {
        {BPF_DW, BPF_ADD, 0xffffffff, 1, 0, 0x100000000ull, 1, 0},
        {BPF_DW, BPF_ADD | BPF_FETCH, 10, 5, 0, 15, 10, 0},
        {BPF_DW, BPF_OR, 0xf0ull << 32, 0x0f, 0, (0xf0ull << 32) | 0x0f, 0x0f, 0},
        {BPF_DW, BPF_OR | BPF_FETCH, 0xf0, 0x0f, 0, 0xff, 0xf0, 0},
        {BPF_DW, BPF_AND, 0xff000000ffull, 0x0f0000000full, 0, 0x0f0000000full, 0x0f0000000full, 0},
        {BPF_DW, BPF_AND | BPF_FETCH, 0xff, 0x0f, 0, 0x0f, 0xff, 0},
        {BPF_DW, BPF_XOR, 0xff, 0x0f, 0, 0xf0, 0x0f, 0},
        {BPF_DW, BPF_XOR | BPF_FETCH, UINT64_MAX, 1, 0, UINT64_MAX - 1, UINT64_MAX, 0},
        {BPF_DW, BPF_XCHG, 0x1111222233334444ull, 0x2222, 0, 0x2222, 0x1111222233334444ull, 0},
        /* cmpxchg: r0 always receives the old value; memory changes only on a match. */
        {BPF_DW, BPF_CMPXCHG, 0x700000007ull, 9, 0x700000007ull, 9, 9, 0x700000007ull},
        {BPF_DW, BPF_CMPXCHG, 0x700000007ull, 9, 7, 0x700000007ull, 9, 0x700000007ull},
    };

    for (size_t i = 0; i < EBPF_ARRAY_SIZE(cases); i++)
        run_atomic_case(&cases[i]);
}

static void test_atomic_operations_32(void **state)
{
    static const atomic_case_t cases[] = {
        /* The upper half of the operand does not take part, and the word above is untouched. */
        {BPF_W, BPF_ADD, 0xffffffff, 0x100000001ull, 0, 0, 0x100000001ull, 0},
        /* Fetched values are zero-extended. */
        {BPF_W, BPF_ADD | BPF_FETCH, 0xfffffff0, 1, 0, 0xfffffff1, 0xfffffff0, 0},
        {BPF_W, BPF_OR, 0xf0, 0x0f, 0, 0xff, 0x0f, 0},
        {BPF_W, BPF_OR | BPF_FETCH, 0xf0, 0x0f, 0, 0xff, 0xf0, 0},
        {BPF_W, BPF_AND, 0xff, 0xffffffff0000000full, 0, 0x0f, 0xffffffff0000000full, 0},
        {BPF_W, BPF_AND | BPF_FETCH, 0xff, 0x0f, 0, 0x0f, 0xff, 0},
        {BPF_W, BPF_XOR, 0xff, 0x0f, 0, 0xf0, 0x0f, 0},
        {BPF_W, BPF_XOR | BPF_FETCH, 0x80000000, 0x80000001, 0, 1, 0x80000000, 0},
        {BPF_W, BPF_XCHG, 0x80000001, 0xffffffff00000002ull, 0, 2, 0x80000001, 0},
        /* cmpxchg compares the low half of r0 only. */
        {BPF_W, BPF_CMPXCHG, 5, 9, 0xffffffff00000005ull, 9, 9, 5},
        {BPF_W, BPF_CMPXCHG, 0x80000005, 9, 6, 0x80000005, 9, 0x80000005},
    };

    for (size_t i = 0; i < EBPF_ARRAY_SIZE(cases); i++)
        run_atomic_case(&cases[i]);
}

static void test_atomic_faults(void **state)
{
    test_expect_run_error(PROGRAM(ST(BPF_DW, R10, -16, 0), MOV64_IMM(R1, 1),
                                  ATOMIC(BPF_DW, BPF_ADD, R10, R1, -12), MOV64_IMM(R0, 0), EXIT()),
                          NULL, 0, -EFAULT, "instruction 2: atomic operation of 8 bytes");
    test_expect_message("is not aligned to 8 bytes");
    test_expect_run_error(
        PROGRAM(MOV64_IMM(R1, 1), ATOMIC(BPF_W, BPF_ADD, R10, R1, -6), MOV64_IMM(R0, 0), EXIT()),
        NULL, 0, -EFAULT, "not aligned to 4 bytes");
    test_expect_run_error(
        PROGRAM(MOV64_IMM(R1, 1), ATOMIC(BPF_DW, BPF_XCHG, R10, R1, 0), MOV64_IMM(R0, 0), EXIT()),
        NULL, 0, -EFAULT, "runs past the top of the stack");

    uint64_t read_only = 3;
    ebpf_exec_region_t region = {&read_only, sizeof(read_only), false};
    ebpf_exec_environment_t env = {.regions = &region, .region_count = 1};
    test_expect_run_error(PROGRAM(MOV64_IMM(R2, 1), ATOMIC(BPF_DW, BPF_ADD | BPF_FETCH, R1, R2, 0),
                                  MOV64_IMM(R0, 0), EXIT()),
                          &env, (uintptr_t)&read_only, -EFAULT, "read-only");
    assert_int_equal(read_only, 3);
}

/* Two threads add to one counter through atomics, each with its own context. */
typedef struct concurrent_runner {
    const ebpf_interpreter_program_t *program;
    uint64_t *shared_counter;
    uint64_t context;
    int failures;
} concurrent_runner_t;

enum { CONCURRENT_RUNS = 2000 };

static void *run_concurrently(void *argument)
{
    concurrent_runner_t *runner = argument;
    ebpf_exec_region_t regions[2] = {{runner->shared_counter, sizeof(uint64_t), true},
                                     {&runner->context, sizeof(runner->context), true}};
    ebpf_exec_environment_t env = {.regions = regions, .region_count = 2};

    for (int i = 0; i < CONCURRENT_RUNS; i++) {
        ebpf_exec_result_t result;
        if (ebpf_interpreter_run(runner->program, (uintptr_t)&runner->context,
                                 (uintptr_t)runner->shared_counter, &env, &result) != 0 ||
            result.r0 != 1)
            runner->failures++;
    }
    return NULL;
}

static void test_concurrent_runs_share_atomics(void **state)
{
    uint64_t counter = 0;
    ebpf_interpreter_program_t *program = test_program_create(
        PROGRAM(MOV64_IMM(R3, 1), ATOMIC(BPF_DW, BPF_ADD, R2, R3, 0), LDX(BPF_DW, R4, R1, 0),
                ALU64_IMM(BPF_ADD, R4, 1), STX(BPF_DW, R1, R4, 0), MOV64_IMM(R0, 1), EXIT()));
    concurrent_runner_t runners[2] = {{program, &counter, 0, 0}, {program, &counter, 0, 0}};
    pthread_t threads[2];

    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, run_concurrently, &runners[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(runners[0].failures + runners[1].failures, 0);
    assert_int_equal(runners[0].context, CONCURRENT_RUNS);
    assert_int_equal(runners[1].context, CONCURRENT_RUNS);
    assert_int_equal(__atomic_load_n(&counter, __ATOMIC_SEQ_CST), 2 * CONCURRENT_RUNS);
    ebpf_interpreter_program_destroy(program);
}

static void test_caller_provided_stack(void **state)
{
    _Alignas(16) uint8_t stack[2 * EBPF_EXEC_FRAME_SIZE + 16];
    ebpf_exec_environment_t env = {.stack = stack, .stack_size = 2 * EBPF_EXEC_FRAME_SIZE};
    uint64_t stored;

    memset(stack, 0xee, sizeof(stack));
    test_expect_r0_env(PROGRAM(LDDW(R1, 0x0102030405060708ull), STX(BPF_DW, R10, R1, -8),
                               MOV64_REG(R0, R10), EXIT()),
                       &env, 0, (uintptr_t)(stack + 2 * EBPF_EXEC_FRAME_SIZE));
    memcpy(&stored, stack + 2 * EBPF_EXEC_FRAME_SIZE - 8, sizeof(stored));
    assert_int_equal(stored, 0x0102030405060708ull);
    /* The bytes past the stack top stay out of reach unless a region declares them. */
    test_expect_run_error(PROGRAM(ST(BPF_DW, R10, 0, 1), MOV64_IMM(R0, 0), EXIT()), &env, 0,
                          -EFAULT, "past the top of the stack");
    assert_int_equal(stack[2 * EBPF_EXEC_FRAME_SIZE], 0xee);
    /* Declared over the stack and past it, as the conformance plugin does: an access may then
     * straddle the stack top. */
    ebpf_exec_region_t slack = {stack, sizeof(stack), true};
    env.regions = &slack;
    env.region_count = 1;
    test_expect_r0_env(PROGRAM(ST(BPF_DW, R10, -4, 0x44332211), LDX(BPF_W, R0, R10, -4), EXIT()),
                       &env, 0, 0x44332211);

    env.stack_size = 100;
    test_expect_run_error(PROGRAM(MOV64_IMM(R0, 0), EXIT()), &env, 0, -EINVAL,
                          "stack must be a 16-byte aligned multiple");
}

static void test_unchecked_runs_skip_checks(void **state)
{
    ebpf_exec_environment_t env = {.unchecked = true};
    uint64_t host = 0x77;

    test_expect_r0_env(PROGRAM(ST(BPF_DW, R10, -8, 40), MOV64_IMM(R1, 2),
                               ATOMIC(BPF_DW, BPF_ADD, R10, R1, -8), LDX(BPF_DW, R0, R10, -8),
                               EXIT()),
                       &env, 0, 42);
    /* Trusted: a pointer no region declares is followed (the verifier vouched for it). */
    test_expect_r0_env(PROGRAM(LDX(BPF_DW, R0, R1, 0), EXIT()), &env, (uintptr_t)&host, 0x77);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_loads_and_stores_of_each_size),
        cmocka_unit_test(test_stores_of_immediates),
        cmocka_unit_test(test_sign_extending_loads),
        cmocka_unit_test(test_unaligned_plain_access_is_allowed),
        cmocka_unit_test(test_context_region),
        cmocka_unit_test(test_packet_region_behind_context),
        cmocka_unit_test(test_embedder_memory_callback),
        cmocka_unit_test(test_out_of_bounds_accesses_stop_the_program),
        cmocka_unit_test(test_result_reports_instructions_and_no_tail_call),
        cmocka_unit_test(test_atomic_operations_64),
        cmocka_unit_test(test_atomic_operations_32),
        cmocka_unit_test(test_atomic_faults),
        cmocka_unit_test(test_concurrent_runs_share_atomics),
        cmocka_unit_test(test_caller_provided_stack),
        cmocka_unit_test(test_unchecked_runs_skip_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
