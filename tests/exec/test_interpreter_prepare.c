/* Interpreter tests: what preparation rejects, and allocation failures while preparing. */
#include <errno.h>
#include <stdlib.h>

#include "exec_test_program.h"

#define R0  BPF_REG_0
#define R1  BPF_REG_1
#define R2  BPF_REG_2
#define R10 BPF_REG_10

static void test_unknown_opcodes(void **state)
{
    test_expect_rejected(PROGRAM(INSN(0x00, 0, 0, 0, 0), EXIT()),
                         "instruction 0: unknown opcode 0x00");
    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 0), INSN(0xff, 0, 0, 0, 0), EXIT()),
                         "instruction 1: unknown opcode 0xff");
    test_expect_rejected(PROGRAM(INSN(BPF_ALU64 | 0xe0 | BPF_K, 0, 0, 0, 0), EXIT()),
                         "unknown opcode 0xe7");
    test_expect_rejected(PROGRAM(INSN(BPF_ALU | BPF_NEG | BPF_X, 0, 1, 0, 0), EXIT()),
                         "NEG is only defined with the K source");
    test_expect_rejected(PROGRAM(INSN(BPF_ALU64 | BPF_END | BPF_X, 0, 0, 0, 16), EXIT()),
                         "unknown opcode 0xdf");
    test_expect_rejected(PROGRAM(INSN(BPF_JMP | 0xe0 | BPF_K, 0, 0, 0, 0), EXIT()),
                         "unknown opcode 0xe5");
    test_expect_rejected(PROGRAM(INSN(BPF_JMP32 | BPF_CALL, 0, 0, 0, 1), EXIT()),
                         "unknown opcode 0x86");
    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 0), INSN(BPF_JMP32 | BPF_EXIT, 0, 0, 0, 0)),
                         "unknown opcode 0x96");
    test_expect_rejected(PROGRAM(INSN(BPF_JMP | BPF_JA | BPF_X, 0, 0, 0, 0), EXIT()),
                         "unknown opcode 0x0d");
    test_expect_rejected(PROGRAM(INSN(BPF_LDX | 0x40 | BPF_W, 0, 1, 0, 0), EXIT()),
                         "unknown opcode 0x41");
    test_expect_rejected(PROGRAM(INSN(BPF_LDX | EBPF_MODE_MEMSX | BPF_DW, 0, 10, -8, 0), EXIT()),
                         "unknown opcode 0x99");
    test_expect_rejected(PROGRAM(INSN(BPF_ST | BPF_ATOMIC | BPF_W, 10, 0, -8, 0), EXIT()),
                         "unknown opcode 0xc2");
    test_expect_rejected(PROGRAM(ATOMIC(BPF_B, BPF_ADD, R10, R1, -8), EXIT()),
                         "atomic operations are only 32 or 64 bits wide");
    test_expect_rejected(PROGRAM(ATOMIC(BPF_DW, 0x02, R10, R1, -8), EXIT()),
                         "unknown atomic operation imm 0x2");
    test_expect_rejected(PROGRAM(INSN(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0), EXIT()),
                         "legacy packet access (opcode 0x20) is not supported");
    test_expect_rejected(PROGRAM(INSN(BPF_LD | BPF_IND | BPF_B, 0, 1, 0, 0), EXIT()),
                         "legacy packet access");
}

static void test_jump_targets_out_of_range(void **state)
{
    test_expect_rejected(PROGRAM(JA(5), MOV64_IMM(R0, 0), EXIT()),
                         "instruction 0: jump target 6 out of range (program has 3 instructions)");
    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 0), JA(-3), EXIT()),
                         "instruction 1: jump target -1 out of range");
    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 0), JMP_IMM(BPF_JEQ, R0, 0, 2), EXIT()),
                         "jump target 4 out of range");
    test_expect_rejected(PROGRAM(GOTOL(100000), EXIT()), "jump target 100001 out of range");
    test_expect_rejected(PROGRAM(CALL_LOCAL(3), EXIT()),
                         "instruction 0: call target 4 out of range");
    test_expect_rejected(PROGRAM(JA(1), LDDW(R0, 1), EXIT()),
                         "instruction 0: jump target 2 is the second half of an LDDW");
    test_expect_rejected(PROGRAM(CALL_LOCAL(1), LDDW(R0, 1), EXIT()),
                         "call target 2 is the second half of an LDDW");
}

static void test_lddw_must_be_whole(void **state)
{
    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 0), INSN(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 1)),
                         "instruction 1: LDDW is split: the program ends before its second slot");
    test_expect_rejected(
        PROGRAM(INSN(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 1), MOV64_IMM(R0, 0), EXIT()),
        "its second slot (instruction 1) must have opcode 0");
    test_expect_rejected(PROGRAM(INSN(BPF_LD | BPF_IMM | BPF_DW, 0, BPF_PSEUDO_MAP_FD, 0, 3),
                                 INSN(0, 0, 0, 0, 0), EXIT()),
                         "LDDW with src_reg 1: pseudo sources must be rewritten");
    /* The second slot is never executed, and falling into it from the end is caught. */
    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 0), LDDW(R0, 1)), "execution can fall off the end");
}

static void test_r10_is_read_only(void **state)
{
    test_expect_rejected(PROGRAM(MOV64_IMM(R10, 1), EXIT()),
                         "instruction 0: writes r10, which is read-only");
    test_expect_rejected(PROGRAM(ALU64_REG(BPF_ADD, R10, R1), EXIT()), "writes r10");
    test_expect_rejected(PROGRAM(ALU32_IMM(BPF_ADD, R10, 1), EXIT()), "writes r10");
    test_expect_rejected(PROGRAM(NEG64(R10), EXIT()), "writes r10");
    test_expect_rejected(PROGRAM(TO_BE(R10, 16), EXIT()), "writes r10");
    test_expect_rejected(PROGRAM(MOVSX64(R10, R1, 8), EXIT()), "writes r10");
    test_expect_rejected(PROGRAM(LDX(BPF_DW, R10, R1, 0), EXIT()), "writes r10");
    test_expect_rejected(PROGRAM(LDDW(R10, 5), EXIT()), "writes r10");
    test_expect_rejected(PROGRAM(ATOMIC(BPF_DW, BPF_ADD | BPF_FETCH, R1, R10, 0), EXIT()),
                         "atomic fetch writes r10");
    test_expect_rejected(PROGRAM(ATOMIC(BPF_W, BPF_XCHG, R1, R10, 0), EXIT()),
                         "atomic fetch writes r10");
    /* Using r10 as a base or a source is fine. */
    test_expect_r0(PROGRAM(ST(BPF_DW, R10, -8, 1), MOV64_IMM(R1, 2),
                           ATOMIC(BPF_DW, BPF_ADD, R10, R1, -8), LDX(BPF_DW, R0, R10, -8), EXIT()),
                   3);
}

static void test_registers_beyond_r10(void **state)
{
    test_expect_rejected(PROGRAM(MOV64_IMM(11, 1), EXIT()),
                         "instruction 0: dst_reg r11 does not exist");
    test_expect_rejected(PROGRAM(MOV64_REG(R0, 12), EXIT()), "src_reg r12 does not exist");
    test_expect_rejected(PROGRAM(STX(BPF_DW, R10, 15, -8), MOV64_IMM(R0, 0), EXIT()),
                         "instruction 0: src_reg r15");
    test_expect_rejected(PROGRAM(JMP_REG(BPF_JEQ, 13, R0, 0), EXIT()), "dst_reg r13");
}

static void test_execution_must_not_fall_off_the_end(void **state)
{
    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 1)),
                         "instruction 0: execution can fall off the end of the program");
    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 0), JMP_IMM(BPF_JEQ, R0, 0, -2)),
                         "instruction 1: execution can fall off the end");
    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 0), CALL_HELPER(TEST_HELPER_IDENTITY)),
                         "fall off the end");
    /* Ending with ja is fine. */
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 6), EXIT(), JA(-3)), 6);
}

static void test_fields_that_must_be_zero_or_defined(void **state)
{
    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 0), TO_LE(R0, 8), EXIT()),
                         "instruction 1: byte swap width 8 (must be 16, 32 or 64)");
    test_expect_rejected(PROGRAM(INSN(BPF_ALU64 | BPF_DIV | BPF_K, 0, 0, 2, 3), EXIT()),
                         "offset 2 is not defined for opcode 0x37");
    test_expect_rejected(PROGRAM(MOVSX64(R0, R1, 24), EXIT()), "offset 24 is not defined");
    test_expect_rejected(PROGRAM(MOVSX32(R0, R1, 32), EXIT()), "offset 32 is not defined");
    test_expect_rejected(PROGRAM(INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 8, 1), EXIT()),
                         "offset 8 is not defined");
    test_expect_rejected(PROGRAM(INSN(BPF_ALU64 | BPF_ADD | BPF_X, 0, 1, 1, 0), EXIT()),
                         "offset 1 is not defined");
    test_expect_rejected(PROGRAM(INSN(BPF_ALU64 | BPF_ADD | BPF_K, 0, 1, 0, 5), EXIT()),
                         "src_reg 1 must be 0 when the source is the immediate");
    test_expect_rejected(PROGRAM(INSN(BPF_ALU64 | BPF_ADD | BPF_X, 0, 1, 0, 5), EXIT()),
                         "imm 5 must be 0 when the source is a register");
    test_expect_rejected(PROGRAM(INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 1)), "exit with nonzero fields");
    test_expect_rejected(PROGRAM(INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, 42), EXIT()),
                         "calls to kernel functions (src_reg 2, BTF id 42) are not supported");
    test_expect_rejected(PROGRAM(INSN(BPF_JMP | BPF_CALL, 0, 3, 0, 1), EXIT()),
                         "call with unknown src_reg 3");
    test_expect_rejected(PROGRAM(INSN(EBPF_OP_CALLX, 2, 0, 0, 2), EXIT()),
                         "callx names both dst_reg r2 and imm 2");
    test_expect_rejected(PROGRAM(INSN(EBPF_OP_CALLX, 0, 0, 0, 11), EXIT()),
                         "callx register 11 does not exist");
    test_expect_rejected(PROGRAM(INSN(BPF_JMP | BPF_JA, 0, 0, 0, 1), EXIT()),
                         "ja with nonzero imm 1");
    test_expect_rejected(PROGRAM(INSN(EBPF_OP_GOTOL, 0, 0, 1, 0), EXIT()),
                         "gotol with nonzero offset 1");
}

static void test_helpers_resolve_when_prepared(void **state)
{
    ebpf_interpreter_program_t *program = NULL;

    test_expect_rejected(PROGRAM(MOV64_IMM(R0, 0), CALL_HELPER(99), EXIT()),
                         "instruction 1: unknown helper id 99");
    assert_int_equal(
        ebpf_interpreter_program_create(PROGRAM(CALL_HELPER(1), EXIT()), NULL, NULL, &program),
        -EINVAL);
    assert_null(program);
    test_expect_message("calls helper 1 but no helper resolver was given");
    /* Without helper calls, no resolver is needed. */
    assert_int_equal(
        ebpf_interpreter_program_create(PROGRAM(MOV64_IMM(R0, 3), EXIT()), NULL, NULL, &program),
        0);
    assert_int_equal(ebpf_interpreter_program_instruction_count(program), 2);
    ebpf_interpreter_program_destroy(program);
}

static void test_bad_arguments(void **state)
{
    ebpf_interpreter_program_t *program = NULL;
    struct bpf_insn exit_only = EXIT();
    ebpf_exec_result_t result;

    assert_int_equal(ebpf_interpreter_program_create(&exit_only, 0, NULL, NULL, &program), -EINVAL);
    test_expect_message("no instructions");
    assert_int_equal(ebpf_interpreter_program_create(NULL, 1, NULL, NULL, &program), -EINVAL);
    assert_int_equal(ebpf_interpreter_program_create(&exit_only, 1, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(ebpf_interpreter_program_create(&exit_only, EBPF_EXEC_MAX_INSTRUCTIONS + 1,
                                                     NULL, NULL, &program),
                     -E2BIG);
    assert_null(program);
    assert_int_equal(ebpf_interpreter_run(NULL, 0, 0, NULL, &result), -EINVAL);
    ebpf_interpreter_program_destroy(NULL);

    assert_int_equal(ebpf_interpreter_program_create(&exit_only, 1, NULL, NULL, &program), 0);
    ebpf_exec_environment_t env = {.region_count = 1};
    assert_int_equal(ebpf_interpreter_run(program, 0, 0, &env, &result), -EINVAL);
    test_expect_message("1 regions but no region array");
    ebpf_interpreter_program_destroy(program);
}

static void test_allocation_failures_while_preparing(void **state)
{
    const struct bpf_insn instructions[] = {
        MOV64_IMM(R1, 1),
        MOV64_IMM(R2, 2),
        CALL_HELPER(TEST_HELPER_ADD),
        CALL_HELPER(TEST_HELPER_IDENTITY),
        EXIT(),
    };
    int64_t outstanding = ebpf_allocation_outstanding();
    uint64_t failures_seen = 0;

    for (uint64_t nth = 1;; nth++) {
        ebpf_interpreter_program_t *program = NULL;
        int err;

        ebpf_fault_fail_nth(nth);
        err = ebpf_interpreter_program_create(instructions, EBPF_ARRAY_SIZE(instructions),
                                              test_helper_resolver, NULL, &program);
        ebpf_fault_reset();
        if (err == 0) {
            ebpf_exec_result_t result;
            assert_non_null(program);
            assert_int_equal(ebpf_interpreter_run(program, 0, 0, NULL, &result), 0);
            assert_int_equal(result.r0, 1);
            ebpf_interpreter_program_destroy(program);
            assert_int_equal(ebpf_allocation_outstanding(), outstanding);
            break;
        }
        assert_int_equal(err, -ENOMEM);
        assert_null(program);
        assert_int_equal(ebpf_allocation_outstanding(), outstanding);
        failures_seen++;
        assert_true(nth < 100);
    }
    /* The program, its two instruction arrays, the slot map and the helper table. */
    assert_int_equal(failures_seen, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_opcodes),
        cmocka_unit_test(test_jump_targets_out_of_range),
        cmocka_unit_test(test_lddw_must_be_whole),
        cmocka_unit_test(test_r10_is_read_only),
        cmocka_unit_test(test_registers_beyond_r10),
        cmocka_unit_test(test_execution_must_not_fall_off_the_end),
        cmocka_unit_test(test_fields_that_must_be_zero_or_defined),
        cmocka_unit_test(test_helpers_resolve_when_prepared),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_allocation_failures_while_preparing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
