/* Interpreter tests: arithmetic, logic, shifts, sign extension, byte swaps and LDDW (RFC 9669). */
#include "exec_test_program.h"

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2

static void test_add_sub_mul_64(void **state)
{
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 0x7fffffff), ALU64_IMM(BPF_ADD, R0, 1), EXIT()),
                   0x80000000ull);
    test_expect_r0(PROGRAM(LDDW(R0, UINT64_MAX), ALU64_IMM(BPF_ADD, R0, 1), EXIT()), 0);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 5), ALU64_IMM(BPF_SUB, R0, 7), EXIT()),
                   0xfffffffffffffffeull);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, -3), ALU64_IMM(BPF_MUL, R0, 7), EXIT()), (uint64_t)-21);
    test_expect_r0(PROGRAM(MOV64_IMM(R1, 6), MOV64_IMM(R0, 7), ALU64_REG(BPF_MUL, R0, R1), EXIT()),
                   42);
    test_expect_r0(PROGRAM(LDDW(R0, 0x100000000ull), ALU64_REG(BPF_MUL, R0, R0), EXIT()), 0);
    test_expect_r0(PROGRAM(MOV64_IMM(R1, 9), MOV64_IMM(R0, 4), ALU64_REG(BPF_SUB, R0, R1), EXIT()),
                   (uint64_t)-5);
}

static void test_32_bit_operations_zero_extend(void **state)
{
    test_expect_r0(PROGRAM(LDDW(R0, 0xffffffff00000001ull), ALU32_IMM(BPF_ADD, R0, 1), EXIT()), 2);
    test_expect_r0(PROGRAM(MOV32_IMM(R0, -1), EXIT()), 0xffffffffull);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, -1), EXIT()), UINT64_MAX);
    test_expect_r0(PROGRAM(MOV64_IMM(R1, -1), MOV32_REG(R0, R1), EXIT()), 0xffffffffull);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 0), ALU32_IMM(BPF_SUB, R0, 1), EXIT()), 0xffffffffull);
    test_expect_r0(PROGRAM(MOV32_IMM(R0, 0x10000), ALU32_IMM(BPF_MUL, R0, 0x10000), EXIT()), 0);
    test_expect_r0(PROGRAM(LDDW(R0, 0x123456789ull), ALU32_IMM(BPF_OR, R0, 0), EXIT()),
                   0x23456789ull);
    test_expect_r0(PROGRAM(LDDW(R0, 0x1234567890abcdefull), ALU32_IMM(BPF_AND, R0, -1), EXIT()),
                   0x90abcdefull);
    test_expect_r0(PROGRAM(LDDW(R0, 0xff000000ffull), LDDW(R1, 0xff0000000full),
                           ALU32_REG(BPF_XOR, R0, R1), EXIT()),
                   0xf0);
    test_expect_r0(PROGRAM(LDDW(R0, 0xffffffff80000000ull), LDDW(R1, 0x180000000ull),
                           ALU32_REG(BPF_ADD, R0, R1), EXIT()),
                   0);
}

static void test_unsigned_division_and_modulo(void **state)
{
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 100), ALU64_IMM(BPF_DIV, R0, 7), EXIT()), 14);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 100), ALU64_IMM(BPF_MOD, R0, 7), EXIT()), 2);
    /* ALU64: imm is sign-extended, then unsigned: 100 / 0xffffffffffffffff. */
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 100), ALU64_IMM(BPF_DIV, R0, -1), EXIT()), 0);
    test_expect_r0(PROGRAM(LDDW(R0, 0xfffffffffffffffeull), ALU64_IMM(BPF_DIV, R0, -2), EXIT()), 1);
    test_expect_r0(PROGRAM(LDDW(R0, 0xfffffffffffffff0ull), ALU64_IMM(BPF_MOD, R0, -1), EXIT()),
                   0xfffffffffffffff0ull);
    /* ALU: imm is an unsigned 32-bit value. */
    test_expect_r0(PROGRAM(MOV32_IMM(R0, -1), ALU32_IMM(BPF_DIV, R0, 0x10), EXIT()), 0x0fffffff);
    test_expect_r0(PROGRAM(MOV32_IMM(R0, 100), ALU32_IMM(BPF_DIV, R0, -1), EXIT()), 0);
    test_expect_r0(PROGRAM(LDDW(R0, 0x100000064ull), ALU32_IMM(BPF_DIV, R0, 10), EXIT()), 10);
    test_expect_r0(
        PROGRAM(LDDW(R1, 0x100000002ull), MOV64_IMM(R0, 9), ALU32_REG(BPF_DIV, R0, R1), EXIT()), 4);
    test_expect_r0(PROGRAM(LDDW(R0, 0x100000009ull), ALU32_IMM(BPF_MOD, R0, 4), EXIT()), 1);
    test_expect_r0(PROGRAM(LDDW(R0, 0x8000000000000000ull), MOV64_IMM(R1, 3),
                           ALU64_REG(BPF_DIV, R0, R1), EXIT()),
                   0x2aaaaaaaaaaaaaaaull);
}

static void test_division_and_modulo_by_zero(void **state)
{
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 10), MOV64_IMM(R1, 0), ALU64_REG(BPF_DIV, R0, R1), EXIT()),
                   0);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 10), ALU64_IMM(BPF_DIV, R0, 0), EXIT()), 0);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 10), MOV64_IMM(R1, 0), ALU64_REG(BPF_MOD, R0, R1), EXIT()),
                   10);
    test_expect_r0(PROGRAM(LDDW(R0, 0xffffffff00000005ull), MOV64_IMM(R1, 0),
                           ALU64_REG(BPF_MOD, R0, R1), EXIT()),
                   0xffffffff00000005ull);
    test_expect_r0(PROGRAM(LDDW(R0, 0xffffffff00000005ull), MOV64_IMM(R1, 0),
                           ALU32_REG(BPF_DIV, R0, R1), EXIT()),
                   0);
    /* 32-bit modulo by zero keeps the dividend but zeroes the upper half. */
    test_expect_r0(PROGRAM(LDDW(R0, 0xffffffff00000005ull), MOV64_IMM(R1, 0),
                           ALU32_REG(BPF_MOD, R0, R1), EXIT()),
                   5);
    /* The divisor's upper half does not count in 32 bits: 0x100000000 is 0. */
    test_expect_r0(
        PROGRAM(MOV64_IMM(R0, 7), LDDW(R1, 0x100000000ull), ALU32_REG(BPF_MOD, R0, R1), EXIT()), 7);
    test_expect_r0(
        PROGRAM(MOV64_IMM(R0, -7), MOV64_IMM(R1, 0), SALU64_REG(BPF_DIV, R0, R1), EXIT()), 0);
    test_expect_r0(
        PROGRAM(MOV64_IMM(R0, -7), MOV64_IMM(R1, 0), SALU64_REG(BPF_MOD, R0, R1), EXIT()),
        (uint64_t)-7);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, -7), SALU32_IMM(BPF_MOD, R0, 0), EXIT()), 0xfffffff9ull);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, -7), SALU32_IMM(BPF_DIV, R0, 0), EXIT()), 0);
}

static void test_signed_division_and_modulo_64(void **state)
{
    const uint64_t int64_min = 0x8000000000000000ull;

    test_expect_r0(PROGRAM(LDDW(R0, int64_min), SALU64_IMM(BPF_DIV, R0, -1), EXIT()), int64_min);
    test_expect_r0(
        PROGRAM(LDDW(R0, int64_min), MOV64_IMM(R1, -1), SALU64_REG(BPF_DIV, R0, R1), EXIT()),
        int64_min);
    test_expect_r0(PROGRAM(LDDW(R0, int64_min), SALU64_IMM(BPF_MOD, R0, -1), EXIT()), 0);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, -13), SALU64_IMM(BPF_DIV, R0, 3), EXIT()), (uint64_t)-4);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, -13), SALU64_IMM(BPF_MOD, R0, 3), EXIT()), (uint64_t)-1);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 13), SALU64_IMM(BPF_MOD, R0, -3), EXIT()), 1);
    test_expect_r0(
        PROGRAM(MOV64_IMM(R0, -13), MOV64_IMM(R1, -3), SALU64_REG(BPF_MOD, R0, R1), EXIT()),
        (uint64_t)-1);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 13), SALU64_IMM(BPF_DIV, R0, -3), EXIT()), (uint64_t)-4);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 100), SALU64_IMM(BPF_DIV, R0, -10), EXIT()),
                   (uint64_t)-10);
    /* The unsigned flavour of the same bits differs. */
    test_expect_r0(PROGRAM(MOV64_IMM(R0, -13), ALU64_IMM(BPF_DIV, R0, 3), EXIT()),
                   0x5555555555555551ull);
}

static void test_signed_division_and_modulo_32(void **state)
{
    test_expect_r0(PROGRAM(MOV32_IMM(R0, 0x80000000), SALU32_IMM(BPF_DIV, R0, -1), EXIT()),
                   0x80000000ull);
    test_expect_r0(
        PROGRAM(MOV32_IMM(R0, 0x80000000), MOV64_IMM(R1, -1), SALU32_REG(BPF_MOD, R0, R1), EXIT()),
        0);
    test_expect_r0(PROGRAM(MOV32_IMM(R0, -13), SALU32_IMM(BPF_DIV, R0, 3), EXIT()), 0xfffffffcull);
    test_expect_r0(PROGRAM(MOV32_IMM(R0, -13), SALU32_IMM(BPF_MOD, R0, 3), EXIT()), 0xffffffffull);
    test_expect_r0(PROGRAM(LDDW(R0, 0x1fffffff3ull), SALU32_IMM(BPF_DIV, R0, 3), EXIT()),
                   0xfffffffcull);
    test_expect_r0(
        PROGRAM(MOV32_IMM(R0, 13), MOV32_IMM(R1, -3), SALU32_REG(BPF_DIV, R0, R1), EXIT()),
        0xfffffffcull);
}

static void test_shifts_mask_their_count(void **state)
{
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 1), MOV64_IMM(R1, 64), ALU64_REG(BPF_LSH, R0, R1), EXIT()),
                   1);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 1), MOV64_IMM(R1, 65), ALU64_REG(BPF_LSH, R0, R1), EXIT()),
                   2);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 1), ALU64_IMM(BPF_LSH, R0, 63), EXIT()),
                   0x8000000000000000ull);
    test_expect_r0(PROGRAM(LDDW(R0, 0x8000000000000000ull), ALU64_IMM(BPF_RSH, R0, 63), EXIT()), 1);
    test_expect_r0(
        PROGRAM(MOV32_IMM(R0, 0x80000000), MOV64_IMM(R1, 32), ALU32_REG(BPF_RSH, R0, R1), EXIT()),
        0x80000000ull);
    test_expect_r0(PROGRAM(MOV32_IMM(R0, 1), MOV64_IMM(R1, 33), ALU32_REG(BPF_LSH, R0, R1), EXIT()),
                   2);
    test_expect_r0(PROGRAM(MOV32_IMM(R0, 0x80000001), ALU32_IMM(BPF_LSH, R0, 1), EXIT()), 2);
    test_expect_r0(PROGRAM(LDDW(R0, 0xffffffff00000010ull), ALU32_IMM(BPF_RSH, R0, 4), EXIT()), 1);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, -16), ALU64_IMM(BPF_ARSH, R0, 2), EXIT()), (uint64_t)-4);
    test_expect_r0(
        PROGRAM(MOV64_IMM(R0, -16), MOV64_IMM(R1, 65), ALU64_REG(BPF_ARSH, R0, R1), EXIT()),
        (uint64_t)-8);
    test_expect_r0(PROGRAM(MOV32_IMM(R0, -16), ALU32_IMM(BPF_ARSH, R0, 2), EXIT()), 0xfffffffcull);
    test_expect_r0(PROGRAM(MOV32_IMM(R0, 0x80000000), ALU32_IMM(BPF_ARSH, R0, 31), EXIT()),
                   0xffffffffull);
    test_expect_r0(
        PROGRAM(MOV32_IMM(R0, -16), MOV64_IMM(R1, 33), ALU32_REG(BPF_ARSH, R0, R1), EXIT()),
        0xfffffff8ull);
    /* A logical shift of the same negative value brings in zeroes. */
    test_expect_r0(PROGRAM(MOV64_IMM(R0, -16), ALU64_IMM(BPF_RSH, R0, 60), EXIT()), 0xf);
}

static void test_negation(void **state)
{
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 5), NEG64(R0), EXIT()), (uint64_t)-5);
    test_expect_r0(PROGRAM(LDDW(R0, 0x8000000000000000ull), NEG64(R0), EXIT()),
                   0x8000000000000000ull);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 5), NEG32(R0), EXIT()), 0xfffffffbull);
    test_expect_r0(PROGRAM(LDDW(R0, 0x100000000ull), NEG32(R0), EXIT()), 0);
}

static void test_bitwise_operations(void **state)
{
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 0), ALU64_IMM(BPF_OR, R0, -1), EXIT()), UINT64_MAX);
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 0xff), ALU64_IMM(BPF_AND, R0, 0x0f), EXIT()), 0x0f);
    test_expect_r0(
        PROGRAM(LDDW(R0, UINT64_MAX), ALU64_IMM(BPF_AND, R0, (int32_t)0x80000000), EXIT()),
        0xffffffff80000000ull);
    test_expect_r0(
        PROGRAM(MOV64_IMM(R0, 0xf0), MOV64_IMM(R1, 0xff), ALU64_REG(BPF_XOR, R0, R1), EXIT()),
        0x0f);
    test_expect_r0(PROGRAM(LDDW(R0, 0xf0f0f0f000000000ull), LDDW(R1, 0x0f0f0f0f00000000ull),
                           ALU64_REG(BPF_OR, R0, R1), EXIT()),
                   0xffffffff00000000ull);
}

static void test_move_with_sign_extension(void **state)
{
    test_expect_r0(PROGRAM(MOV64_IMM(R0, -2), EXIT()), 0xfffffffffffffffeull);
    test_expect_r0(PROGRAM(MOV32_IMM(R0, -2), EXIT()), 0xfffffffeull);
    test_expect_r0(PROGRAM(MOV64_IMM(R1, 0x80), MOVSX64(R0, R1, 8), EXIT()), 0xffffffffffffff80ull);
    test_expect_r0(PROGRAM(MOV64_IMM(R1, 0x7f), MOVSX64(R0, R1, 8), EXIT()), 0x7f);
    test_expect_r0(PROGRAM(MOV64_IMM(R1, 0x8000), MOVSX64(R0, R1, 16), EXIT()),
                   0xffffffffffff8000ull);
    test_expect_r0(PROGRAM(MOV32_IMM(R1, 0x80000000), MOVSX64(R0, R1, 32), EXIT()),
                   0xffffffff80000000ull);
    test_expect_r0(PROGRAM(LDDW(R1, 0xffffffff7fffffffull), MOVSX64(R0, R1, 32), EXIT()),
                   0x7fffffff);
    test_expect_r0(PROGRAM(MOV64_IMM(R1, 0xff), MOVSX32(R0, R1, 8), EXIT()), 0xffffffffull);
    test_expect_r0(PROGRAM(MOV64_IMM(R1, 0x8001), MOVSX32(R0, R1, 16), EXIT()), 0xffff8001ull);
    test_expect_r0(PROGRAM(LDDW(R1, 0xabcdef0000000080ull), MOVSX32(R0, R1, 8), EXIT()),
                   0xffffff80ull);
}

static void test_byte_swaps(void **state)
{
    const uint64_t value = 0x1122334455667788ull;

    test_expect_r0(PROGRAM(LDDW(R0, value), TO_LE(R0, 16), EXIT()), 0x7788);
    test_expect_r0(PROGRAM(LDDW(R0, value), TO_LE(R0, 32), EXIT()), 0x55667788);
    test_expect_r0(PROGRAM(LDDW(R0, value), TO_LE(R0, 64), EXIT()), value);
    test_expect_r0(PROGRAM(LDDW(R0, value), TO_BE(R0, 16), EXIT()), 0x8877);
    test_expect_r0(PROGRAM(LDDW(R0, value), TO_BE(R0, 32), EXIT()), 0x88776655);
    test_expect_r0(PROGRAM(LDDW(R0, value), TO_BE(R0, 64), EXIT()), 0x8877665544332211ull);
    test_expect_r0(PROGRAM(LDDW(R0, value), BSWAP(R0, 16), EXIT()), 0x8877);
    test_expect_r0(PROGRAM(LDDW(R0, value), BSWAP(R0, 32), EXIT()), 0x88776655);
    test_expect_r0(PROGRAM(LDDW(R0, value), BSWAP(R0, 64), EXIT()), 0x8877665544332211ull);
}

static void test_lddw(void **state)
{
    test_expect_r0(PROGRAM(LDDW(R0, 0x1122334455667788ull), EXIT()), 0x1122334455667788ull);
    test_expect_r0(PROGRAM(LDDW(R0, 0xffffffff00000000ull), EXIT()), 0xffffffff00000000ull);
    /* The low half is not sign-extended into the high half. */
    test_expect_r0(PROGRAM(LDDW(R0, 0x80000000ull), EXIT()), 0x80000000ull);
    /* A jump over both slots. */
    test_expect_r0(PROGRAM(MOV64_IMM(R0, 1), JA(2), LDDW(R0, 5), EXIT()), 1);
    test_expect_r0(PROGRAM(LDDW(R2, 7), LDDW(R0, 8), ALU64_REG(BPF_ADD, R0, R2), EXIT()), 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_sub_mul_64),
        cmocka_unit_test(test_32_bit_operations_zero_extend),
        cmocka_unit_test(test_unsigned_division_and_modulo),
        cmocka_unit_test(test_division_and_modulo_by_zero),
        cmocka_unit_test(test_signed_division_and_modulo_64),
        cmocka_unit_test(test_signed_division_and_modulo_32),
        cmocka_unit_test(test_shifts_mask_their_count),
        cmocka_unit_test(test_negation),
        cmocka_unit_test(test_bitwise_operations),
        cmocka_unit_test(test_move_with_sign_extension),
        cmocka_unit_test(test_byte_swaps),
        cmocka_unit_test(test_lddw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
