/* State pruning and precision tracking: a path is cut short only when a finished state covers
 * everything it relies on, so pruning never hides an unsafe path, and keeps branchy code
 * tractable. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ebpf_platform.h"
#include "ebpf_verifier.h"
#include "verifier_tool_support.h"

#define INSN(code_, dst_, src_, off_, imm_)                                                        \
    ((struct bpf_insn){                                                                            \
        .code = (code_), .dst_reg = (dst_), .src_reg = (src_), .off = (off_), .imm = (imm_)})
#define MOV_IMM(d, i)            INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV_REG(d, s)            INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD_IMM(d, i)            INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define ADD_REG(d, s)            INSN(BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0)
#define SUB_REG(d, s)            INSN(BPF_ALU64 | BPF_SUB | BPF_X, d, s, 0, 0)
#define AND_IMM(d, i)            INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define LOAD(size, d, s, o)      INSN(BPF_LDX | BPF_MEM | (size), d, s, o, 0)
#define STORE(size, d, s, o)     INSN(BPF_STX | BPF_MEM | (size), d, s, o, 0)
#define STORE_IMM(size, d, o, i) INSN(BPF_ST | BPF_MEM | (size), d, 0, o, i)
#define JUMP_IMM(op, d, i, o)    INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define JUMP_REG(op, d, s, o)    INSN(BPF_JMP | (op) | BPF_X, d, s, o, 0)
#define GOTO(o)                  INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define CALL(id)                 INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define CALL_LOCAL(o)            INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, o)
#define EXIT()                   INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define MAP_FD(d, index)                                                                           \
    INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, index), INSN(0, 0, 0, 0, 0)
/* Instructions that keep a path busy long enough for a checkpoint at the next join. */
#define FILLER()                                                                                   \
    MOV_IMM(8, 0), ADD_IMM(8, 1), ADD_IMM(8, 1), ADD_IMM(8, 1), ADD_IMM(8, 1), ADD_IMM(8, 1),      \
        ADD_IMM(8, 1), ADD_IMM(8, 1), ADD_IMM(8, 1)
/* r0 = a value of the 16-byte array (r6 keeps the context); returns 0 when there is none. */
#define LOOKUP_VALUE()                                                                             \
    MOV_REG(6, 1), STORE_IMM(BPF_W, 10, -4, 0), MAP_FD(1, 0), MOV_REG(2, 10), ADD_IMM(2, -4),      \
        CALL(BPF_FUNC_map_lookup_elem), JUMP_IMM(BPF_JNE, 0, 0, 2), MOV_IMM(0, 0), EXIT()

static const ebpf_verifier_map_t maps[] = {
    {.type = BPF_MAP_TYPE_ARRAY,
     .key_size = 4,
     .value_size = 16,
     .max_entries = 1,
     .name = "array16"},
};

static int verify(const struct bpf_insn *program, size_t count, ebpf_verifier_result_t *result)
{
    ebpf_verifier_options_t options = {.find_helper = core_test_find_helper};
    return ebpf_verify_program(program, (uint32_t)count, &core_test_program_info, maps,
                               EBPF_ARRAY_SIZE(maps), &options, result);
}

static void expect_rejected(const struct bpf_insn *program, size_t count, const char *reason)
{
    ebpf_verifier_result_t result;
    int rc = verify(program, count, &result);
    if (rc != -EACCES || !strstr(result.log, reason))
        fail_msg("expected a rejection (%s), got %d: %s", reason, rc,
                 result.log ? result.log : "(accepted)");
    ebpf_verifier_result_free(&result);
}

static uint64_t expect_accepted(const struct bpf_insn *program, size_t count)
{
    ebpf_verifier_result_t result;
    int rc = verify(program, count, &result);
    if (rc != 0)
        fail_msg("expected acceptance, got %d: %s", rc, result.log);
    uint64_t processed = result.processed_instructions;
    ebpf_verifier_result_free(&result);
    return processed;
}

/* The safe path (offset 4) runs first and reaches the join with a checkpoint; the other path
 * (offset 40) comes to the join later. It must not be pruned there, because the safe path relied
 * on the offset's exact value. */
static void test_offset_set_on_two_paths(void **state)
{
    const struct bpf_insn program[] = {
        LOOKUP_VALUE(), LOAD(BPF_DW, 7, 6, 16),
        MOV_IMM(3, 40), JUMP_IMM(BPF_JGT, 7, 5, 10),
        MOV_IMM(3, 4),  FILLER(),
        ADD_REG(0, 3),  LOAD(BPF_B, 0, 0, 0),
        EXIT(),
    };
    expect_rejected(program, EBPF_ARRAY_SIZE(program), "out of bounds");
}

/* The same through a spill: the slot's value is what was relied on. */
static void test_offset_through_the_stack(void **state)
{
    const struct bpf_insn program[] = {
        LOOKUP_VALUE(),
        LOAD(BPF_DW, 7, 6, 16),
        MOV_IMM(3, 16),
        STORE(BPF_DW, 10, 3, -16),
        JUMP_IMM(BPF_JGT, 7, 5, 11),
        MOV_IMM(3, 2),
        STORE(BPF_DW, 10, 3, -16),
        FILLER(),
        LOAD(BPF_DW, 4, 10, -16),
        ADD_REG(0, 4),
        LOAD(BPF_B, 0, 0, 0),
        EXIT(),
    };
    expect_rejected(program, EBPF_ARRAY_SIZE(program), "out of bounds");
}

/* The same through a function's result: 1 on the path explored first, 17 on the other. */
static void test_offset_from_a_function(void **state)
{
    const struct bpf_insn program[] = {
        LOOKUP_VALUE(),
        MOV_REG(9, 0),
        LOAD(BPF_DW, 1, 6, 16),
        CALL_LOCAL(3),
        ADD_REG(9, 0),
        LOAD(BPF_B, 0, 9, 0),
        EXIT(),
        /* the function */
        MOV_IMM(0, 17),
        JUMP_IMM(BPF_JGT, 1, 5, 10),
        MOV_IMM(0, 1),
        FILLER(),
        EXIT(),
    };
    expect_rejected(program, EBPF_ARRAY_SIZE(program), "out of bounds");
}

/* A comparison through a linked copy narrows the original; the path where the copy was not
 * narrowed enough is still explored. */
static void test_linked_copy(void **state)
{
    const struct bpf_insn safe[] = {
        LOOKUP_VALUE(), LOAD(BPF_DW, 7, 6, 16), MOV_REG(2, 7), JUMP_IMM(BPF_JGT, 2, 15, 3),
        ADD_REG(0, 7),  LOAD(BPF_B, 0, 0, 0),   EXIT(),        MOV_IMM(0, 0),
        EXIT(),
    };
    const struct bpf_insn unsafe[] = {
        LOOKUP_VALUE(), LOAD(BPF_DW, 7, 6, 16), MOV_REG(2, 7), JUMP_IMM(BPF_JGT, 2, 16, 3),
        ADD_REG(0, 7),  LOAD(BPF_B, 0, 0, 0),   EXIT(),        MOV_IMM(0, 0),
        EXIT(),
    };
    expect_accepted(safe, EBPF_ARRAY_SIZE(safe));
    expect_rejected(unsafe, EBPF_ARRAY_SIZE(unsafe), "out of bounds");
}

/* Twenty independent branches that each change a value nothing checks: without pruning of
 * imprecise values the paths would double twenty times. */
static void test_independent_branches_stay_linear(void **state)
{
    struct bpf_insn program[4 + 20 * 3 + 2];
    size_t n = 0;
    program[n++] = LOAD(BPF_DW, 7, 1, 16);
    program[n++] = MOV_IMM(6, 0);
    program[n++] = MOV_IMM(8, 0);
    program[n++] = MOV_IMM(9, 0);
    for (int i = 0; i < 20; i++) {
        program[n++] = INSN(BPF_JMP | BPF_JSET | BPF_K, 7, 0, 1, 1 << i);
        program[n++] = ADD_IMM(6, i + 1);
        program[n++] = ADD_REG(9, 6);
    }
    program[n++] = MOV_REG(0, 9);
    program[n++] = EXIT();
    assert_int_equal(n, EBPF_ARRAY_SIZE(program));
    uint64_t processed = expect_accepted(program, n);
    assert_true(processed < 20 * 3 * 4);
}

/* A length computed as end - data bounds the memory a helper reads from data, not from any
 * other place in the packet. */
static void test_packet_distance(void **state)
{
    const struct bpf_insn one_byte_later[] = {
        LOAD(BPF_DW, 2, 1, 0),
        LOAD(BPF_DW, 3, 1, 8),
        MOV_REG(5, 3),
        SUB_REG(5, 2),
        JUMP_IMM(BPF_JGT, 5, 1024, 7),
        ADD_IMM(2, 1),
        /* bpf_csum_diff(NULL, 0, data + 1, end - data, 0) */
        MOV_REG(3, 2),
        MOV_REG(4, 5),
        MOV_IMM(1, 0),
        MOV_IMM(2, 0),
        MOV_IMM(5, 0),
        CALL(BPF_FUNC_csum_diff),
        MOV_IMM(0, 0),
        EXIT(),
    };
    const struct bpf_insn from_data[] = {
        LOAD(BPF_DW, 2, 1, 0),
        LOAD(BPF_DW, 3, 1, 8),
        MOV_REG(5, 3),
        SUB_REG(5, 2),
        JUMP_IMM(BPF_JGT, 5, 1024, 6),
        MOV_REG(3, 2),
        MOV_REG(4, 5),
        MOV_IMM(1, 0),
        MOV_IMM(2, 0),
        MOV_IMM(5, 0),
        CALL(BPF_FUNC_csum_diff),
        MOV_IMM(0, 0),
        EXIT(),
    };
    expect_accepted(from_data, EBPF_ARRAY_SIZE(from_data));
    expect_rejected(one_byte_later, EBPF_ARRAY_SIZE(one_byte_later), "out of bounds");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offset_set_on_two_paths),
        cmocka_unit_test(test_offset_through_the_stack),
        cmocka_unit_test(test_offset_from_a_function),
        cmocka_unit_test(test_linked_copy),
        cmocka_unit_test(test_independent_branches_stay_linear),
        cmocka_unit_test(test_packet_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
