/* Interpreter tests: instruction builders, test helpers and run/expect shorthands. */
#ifndef EXEC_TEST_PROGRAM_H
#define EXEC_TEST_PROGRAM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "ebpf_exec.h"
#include "ebpf_platform.h"

/* One instruction from its raw fields. */
#define INSN(code_, dst_, src_, off_, imm_)                                                        \
    ((struct bpf_insn){.code = (code_),                                                            \
                       .dst_reg = (dst_),                                                          \
                       .src_reg = (src_),                                                          \
                       .off = (int16_t)(off_),                                                     \
                       .imm = (int32_t)(imm_)})

#define ALU64_IMM(op, dst, imm)         INSN(BPF_ALU64 | (op) | BPF_K, dst, 0, 0, imm)
#define ALU64_REG(op, dst, src)         INSN(BPF_ALU64 | (op) | BPF_X, dst, src, 0, 0)
#define ALU32_IMM(op, dst, imm)         INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define ALU32_REG(op, dst, src)         INSN(BPF_ALU | (op) | BPF_X, dst, src, 0, 0)
#define SALU64_IMM(op, dst, imm)        INSN(BPF_ALU64 | (op) | BPF_K, dst, 0, EBPF_OFFSET_SIGNED, imm)
#define SALU64_REG(op, dst, src)        INSN(BPF_ALU64 | (op) | BPF_X, dst, src, EBPF_OFFSET_SIGNED, 0)
#define SALU32_IMM(op, dst, imm)        INSN(BPF_ALU | (op) | BPF_K, dst, 0, EBPF_OFFSET_SIGNED, imm)
#define SALU32_REG(op, dst, src)        INSN(BPF_ALU | (op) | BPF_X, dst, src, EBPF_OFFSET_SIGNED, 0)
#define MOV64_IMM(dst, imm)             ALU64_IMM(BPF_MOV, dst, imm)
#define MOV64_REG(dst, src)             ALU64_REG(BPF_MOV, dst, src)
#define MOV32_IMM(dst, imm)             ALU32_IMM(BPF_MOV, dst, imm)
#define MOV32_REG(dst, src)             ALU32_REG(BPF_MOV, dst, src)
#define MOVSX64(dst, src, bits)         INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, bits, 0)
#define MOVSX32(dst, src, bits)         INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, bits, 0)
#define NEG64(dst)                      INSN(BPF_ALU64 | BPF_NEG, dst, 0, 0, 0)
#define NEG32(dst)                      INSN(BPF_ALU | BPF_NEG, dst, 0, 0, 0)
#define TO_LE(dst, bits)                INSN(BPF_ALU | BPF_END | BPF_TO_LE, dst, 0, 0, bits)
#define TO_BE(dst, bits)                INSN(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bits)
#define BSWAP(dst, bits)                INSN(EBPF_OP_BSWAP, dst, 0, 0, bits)
#define LDX(size, dst, src, off)        INSN(BPF_LDX | BPF_MEM | (size), dst, src, off, 0)
#define LDXSX(size, dst, src, off)      INSN(BPF_LDX | EBPF_MODE_MEMSX | (size), dst, src, off, 0)
#define ST(size, dst, off, imm)         INSN(BPF_ST | BPF_MEM | (size), dst, 0, off, imm)
#define STX(size, dst, src, off)        INSN(BPF_STX | BPF_MEM | (size), dst, src, off, 0)
#define ATOMIC(size, op, dst, src, off) INSN(BPF_STX | BPF_ATOMIC | (size), dst, src, off, op)
/* Two slots. */
#define LDDW(dst, value)                                                                           \
    INSN(BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, (uint32_t)(uint64_t)(value)),                       \
        INSN(0, 0, 0, 0, (uint32_t)((uint64_t)(value) >> 32))
#define JMP_IMM(op, dst, imm, off)   INSN(BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define JMP_REG(op, dst, src, off)   INSN(BPF_JMP | (op) | BPF_X, dst, src, off, 0)
#define JMP32_IMM(op, dst, imm, off) INSN(BPF_JMP32 | (op) | BPF_K, dst, 0, off, imm)
#define JMP32_REG(op, dst, src, off) INSN(BPF_JMP32 | (op) | BPF_X, dst, src, off, 0)
#define JA(off)                      INSN(BPF_JMP | BPF_JA, 0, 0, off, 0)
#define GOTOL(imm)                   INSN(EBPF_OP_GOTOL, 0, 0, 0, imm)
#define CALL_HELPER(id)              INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define CALL_LOCAL(imm)              INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, imm)
#define CALLX(reg)                   INSN(EBPF_OP_CALLX, reg, 0, 0, 0)
#define EXIT()                       INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* An instruction array and its length, as two arguments. */
#define PROGRAM(...)                                                                               \
    (const struct bpf_insn[]){__VA_ARGS__},                                                        \
        (uint32_t)(sizeof((const struct bpf_insn[]){__VA_ARGS__}) / sizeof(struct bpf_insn))

/* Helpers every test program may call. */
enum test_helper_id {
    TEST_HELPER_ADD = 1,          /* r1 + r2 */
    TEST_HELPER_SUM_MEMORY = 2,   /* sum of the r2 bytes at r1 (readable memory) */
    TEST_HELPER_FILL_MEMORY = 3,  /* fills the r2 bytes at r1 with r3 (writable memory) */
    TEST_HELPER_OPTIONAL = 4,     /* r2 when r1 is readable memory of r2 bytes, or NULL */
    TEST_HELPER_IDENTITY = 5,     /* r1 (the conformance suite's helper 5) */
    TEST_HELPER_CHECK_ACCESS = 6, /* ebpf_exec_check_access(r1, r2, r3): 1 or 0 */
    TEST_HELPER_TAIL_CALL = 7,    /* tail call to test_tail_call_targets[r2] */
    TEST_HELPER_STRLEN = 8,       /* strlen of the string at r1 */
};

/* Number of calls each helper received since the last reset (indexed by id). */
uint64_t test_helper_calls(enum test_helper_id id);
void test_helper_calls_reset(void);

/* Targets TEST_HELPER_TAIL_CALL passes to ebpf_exec_tail_call_request. */
extern const void *test_tail_call_targets[4];

const ebpf_helper_prototype_t *test_helper_resolver(void *context, uint32_t id,
                                                    ebpf_helper_function_t *function);

/* Creates a program with the test helpers; fails the test on error. */
ebpf_interpreter_program_t *test_program_create(const struct bpf_insn *instructions,
                                                uint32_t count);
/* Prepares and runs; returns the first error (preparation or run). */
int test_program_run(const struct bpf_insn *instructions, uint32_t count,
                     const ebpf_exec_environment_t *env, uint64_t r1, ebpf_exec_result_t *result);

/* Runs with env and r1 and asserts success and r0 == expected. */
void test_expect_r0_env(const struct bpf_insn *instructions, uint32_t count,
                        const ebpf_exec_environment_t *env, uint64_t r1, uint64_t expected);
/* Same, without environment and with r1 = 0. */
void test_expect_r0(const struct bpf_insn *instructions, uint32_t count, uint64_t expected);
/* Asserts preparation fails with -EINVAL and a message containing text. */
void test_expect_rejected(const struct bpf_insn *instructions, uint32_t count, const char *text);
/* Asserts preparation succeeds and the run fails with err and a message containing text. */
void test_expect_run_error(const struct bpf_insn *instructions, uint32_t count,
                           const ebpf_exec_environment_t *env, uint64_t r1, int err,
                           const char *text);

/* Asserts the message of the last failure on this thread contains text. */
void test_expect_message(const char *text);

#endif /* EXEC_TEST_PROGRAM_H */
