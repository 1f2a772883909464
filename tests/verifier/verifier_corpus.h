/* The verifier corpus: instruction-building macros and the table format of its cases. */
#ifndef VERIFIER_CORPUS_H
#define VERIFIER_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "ebpf_exec.h"
#include "verifier_environment.h"

/* ------------------------------------------------------------------------------------------
 * Registers and the test context layout.
 * ------------------------------------------------------------------------------------------ */

enum {
    R0 = BPF_REG_0,
    R1 = BPF_REG_1,
    R2 = BPF_REG_2,
    R3 = BPF_REG_3,
    R4 = BPF_REG_4,
    R5 = BPF_REG_5,
    R6 = BPF_REG_6,
    R7 = BPF_REG_7,
    R8 = BPF_REG_8,
    R9 = BPF_REG_9,
    R10 = BPF_REG_10,
};

/* Byte offsets in corpus_test_context_t (see verifier_environment.h). */
#define CTX_DATA  0
#define CTX_END   8
#define CTX_VALUE 16
#define CTX_LEN   24
#define CTX_MARK  28

/* ------------------------------------------------------------------------------------------
 * Instructions. Each macro is one struct bpf_insn initializer, except the ld_imm64 forms,
 * which are two (the pair counts as two slots for jump offsets).
 * ------------------------------------------------------------------------------------------ */

#define INSN(code_, dst_, src_, off_, imm_)                                                        \
    {                                                                                              \
        (uint8_t)(code_), (dst_), (src_), (int16_t)(off_), (int32_t)(imm_)                         \
    }

#define ALU64_IMM(op, dst, imm) INSN(BPF_ALU64 | (op) | BPF_K, dst, 0, 0, imm)
#define ALU64_REG(op, dst, src) INSN(BPF_ALU64 | (op) | BPF_X, dst, src, 0, 0)
#define ALU32_IMM(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define ALU32_REG(op, dst, src) INSN(BPF_ALU | (op) | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm)     ALU64_IMM(BPF_MOV, dst, imm)
#define MOV64_REG(dst, src)     ALU64_REG(BPF_MOV, dst, src)
#define MOV32_IMM(dst, imm)     ALU32_IMM(BPF_MOV, dst, imm)
#define MOV32_REG(dst, src)     ALU32_REG(BPF_MOV, dst, src)
#define NEG64(dst)              INSN(BPF_ALU64 | BPF_NEG, dst, 0, 0, 0)
/* RFC 9669 sign-extending moves: 'offset' is the source width in bits (8, 16, 32). */
#define MOVSX64_REG(dst, src, bits) INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, bits, 0)
#define MOVSX32_REG(dst, src, bits) INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, bits, 0)
/* Signed division and modulo: 'offset' 1. */
#define SDIV64_IMM(dst, imm) INSN(BPF_ALU64 | BPF_DIV | BPF_K, dst, 0, EBPF_OFFSET_SIGNED, imm)
#define SMOD64_REG(dst, src) INSN(BPF_ALU64 | BPF_MOD | BPF_X, dst, src, EBPF_OFFSET_SIGNED, 0)
/* Byte swaps: BSWAP unconditional (ALU64), TO_LE / TO_BE conversions (ALU). */
#define BSWAP(dst, bits)     INSN(EBPF_OP_BSWAP, dst, 0, 0, bits)
#define ENDIAN_LE(dst, bits) INSN(BPF_ALU | BPF_END | BPF_TO_LE, dst, 0, 0, bits)
#define ENDIAN_BE(dst, bits) INSN(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bits)

/* Two slots. */
#define LD_IMM64(dst, value)                                                                       \
    INSN(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, (uint32_t)((uint64_t)(value))),                     \
        INSN(0, 0, 0, 0, (uint32_t)((uint64_t)(value) >> 32))
/* Two slots: the map at index map_index of the case's map table (corpus_maps). */
#define LD_MAP_FD(dst, map_index)                                                                  \
    INSN(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, map_index), INSN(0, 0, 0, 0, 0)
/* Two slots: the address of byte offset of the (array) map's value at key 0. */
#define LD_MAP_VALUE(dst, map_index, offset)                                                       \
    INSN(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_VALUE, 0, map_index),                      \
        INSN(0, 0, 0, 0, offset)

/* size: BPF_B, BPF_H, BPF_W, BPF_DW. */
#define LDX_MEM(size, dst, src, off)   INSN(BPF_LDX | BPF_MEM | (size), dst, src, off, 0)
#define LDX_MEMSX(size, dst, src, off) INSN(BPF_LDX | EBPF_MODE_MEMSX | (size), dst, src, off, 0)
#define STX_MEM(size, dst, src, off)   INSN(BPF_STX | BPF_MEM | (size), dst, src, off, 0)
#define ST_MEM(size, dst, off, imm)    INSN(BPF_ST | BPF_MEM | (size), dst, 0, off, imm)
/* op: BPF_ADD, BPF_OR, BPF_AND, BPF_XOR (| BPF_FETCH), BPF_XCHG, BPF_CMPXCHG. */
#define ATOMIC(size, op, dst, src, off) INSN(BPF_STX | BPF_ATOMIC | (size), dst, src, off, op)

/* op: BPF_JEQ, BPF_JGT, ... Offsets are relative to the next instruction. */
#define JMP_IMM(op, dst, imm, off)   INSN(BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define JMP_REG(op, dst, src, off)   INSN(BPF_JMP | (op) | BPF_X, dst, src, off, 0)
#define JMP32_IMM(op, dst, imm, off) INSN(BPF_JMP32 | (op) | BPF_K, dst, 0, off, imm)
#define JMP32_REG(op, dst, src, off) INSN(BPF_JMP32 | (op) | BPF_X, dst, src, off, 0)
#define JA(off)                      INSN(BPF_JMP | BPF_JA, 0, 0, off, 0)
/* gotol: the 32-bit offset is in imm. */
#define GOTOL(imm)      INSN(EBPF_OP_GOTOL, 0, 0, 0, imm)
#define CALL_HELPER(id) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
/* bpf-to-bpf call: imm is relative to the next instruction. */
#define CALL_LOCAL(off) INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, off)
/* callx: the helper id is in register reg (the RFC 9669 encoding, register in dst_reg). */
#define CALLX(reg) INSN(EBPF_OP_CALLX, reg, 0, 0, 0)
/* The encoding of LLVM before 19: the register number in imm. */
#define CALLX_IMM(reg) INSN(EBPF_OP_CALLX, 0, 0, 0, reg)
#define EXIT()         INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* ------------------------------------------------------------------------------------------
 * Snippets used by many cases (their slot counts matter for jump offsets).
 * ------------------------------------------------------------------------------------------ */

/* 2 slots: r0 = value; exit. */
#define RETURN_IMM(value) MOV64_IMM(R0, value), EXIT()
/* 3 slots: if reg == 0, return 0. */
#define RETURN_IF_ZERO(reg) JMP_IMM(BPF_JNE, reg, 0, 2), MOV64_IMM(R0, 0), EXIT()
/* 6 slots: r0 = bpf_map_lookup_elem(map, &(u32)0 at fp-4); r1..r5 scratched. */
#define LOOKUP_KEY0(map)                                                                           \
    ST_MEM(BPF_W, R10, -4, 0), MOV64_REG(R2, R10), ALU64_IMM(BPF_ADD, R2, -4), LD_MAP_FD(R1, map), \
        CALL_HELPER(BPF_FUNC_map_lookup_elem)
/* 6 slots: the same with the 8-byte key of the hash map at fp-8. */
#define LOOKUP_HASH_KEY0(map)                                                                      \
    ST_MEM(BPF_DW, R10, -8, 0), MOV64_REG(R2, R10), ALU64_IMM(BPF_ADD, R2, -8),                    \
        LD_MAP_FD(R1, map), CALL_HELPER(BPF_FUNC_map_lookup_elem)
/* 2 slots: r2 = ctx->data, r3 = ctx->data_end (r1 is the context). */
#define LOAD_PACKET() LDX_MEM(BPF_DW, R2, R1, CTX_DATA), LDX_MEM(BPF_DW, R3, R1, CTX_END)
/* 5 slots: r0 = bpf_ringbuf_reserve(ringbuf, size, 0). */
#define RESERVE(size)                                                                              \
    LD_MAP_FD(R1, CORPUS_MAP_RINGBUF), MOV64_IMM(R2, size), MOV64_IMM(R3, 0),                      \
        CALL_HELPER(BPF_FUNC_ringbuf_reserve)

/* ------------------------------------------------------------------------------------------
 * Cases.
 * ------------------------------------------------------------------------------------------ */

/* expected: NULL to accept, else a substring the rejection log must contain; '|' separates
 * alternatives ("instruction budget|infinite loop"), and "" accepts any reason (used only where
 * the agreed phrase list has no phrase for the failure). */
#define ACCEPT            NULL
#define REJECT(reason)    (reason)
#define REJECT_ANY_REASON ""

typedef struct corpus_case {
    const char *name;
    const struct bpf_insn *instructions;
    uint32_t count;
    corpus_program_type_t type;
    const char *expected;
} corpus_case_t;

/* One case; the instructions follow the expectation. Every case sees the map table of
 * verifier_environment.h. */
#define CORPUS_CASE(name_, type_, expected_, ...)                                                  \
    {                                                                                              \
        .name = (name_), .type = (type_), .expected = (expected_),                                 \
        .instructions = (const struct bpf_insn[]){__VA_ARGS__},                                    \
        .count =                                                                                   \
            (uint32_t)(sizeof((const struct bpf_insn[]){__VA_ARGS__}) / sizeof(struct bpf_insn)),  \
    }
/* Shorthands for the two corpus program types. */
#define TEST_CASE(name_, expected_, ...)                                                           \
    CORPUS_CASE(name_, CORPUS_TYPE_TEST, expected_, __VA_ARGS__)
#define PLAIN_CASE(name_, expected_, ...)                                                          \
    CORPUS_CASE(name_, CORPUS_TYPE_PLAIN, expected_, __VA_ARGS__)

/* Each corpus_<topic>.c defines corpus_<topic>_cases and corpus_<topic>_case_count. */
#define CORPUS_GROUP_DECLARE(topic)                                                                \
    extern const corpus_case_t corpus_##topic##_cases[];                                           \
    extern const size_t corpus_##topic##_case_count
#define CORPUS_GROUP_DEFINE_COUNT(topic)                                                           \
    const size_t corpus_##topic##_case_count =                                                     \
        sizeof(corpus_##topic##_cases) / sizeof(corpus_##topic##_cases[0])

CORPUS_GROUP_DECLARE(null);
CORPUS_GROUP_DECLARE(packet);
CORPUS_GROUP_DECLARE(map_value);
CORPUS_GROUP_DECLARE(stack);
CORPUS_GROUP_DECLARE(registers);
CORPUS_GROUP_DECLARE(leaks);
CORPUS_GROUP_DECLARE(ringbuf);
CORPUS_GROUP_DECLARE(loops);
CORPUS_GROUP_DECLARE(helpers);
CORPUS_GROUP_DECLARE(alu32);
CORPUS_GROUP_DECLARE(signedness);
CORPUS_GROUP_DECLARE(structure);
CORPUS_GROUP_DECLARE(atomics);
CORPUS_GROUP_DECLARE(context);
CORPUS_GROUP_DECLARE(extensions);
CORPUS_GROUP_DECLARE(tail_calls);
CORPUS_GROUP_DECLARE(pointer_arithmetic);
CORPUS_GROUP_DECLARE(pruning);

#endif /* VERIFIER_CORPUS_H */
