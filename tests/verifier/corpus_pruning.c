/* Verifier corpus: state pruning at joins never hides an unsafe path, and joined branches stay
 * within the budget. */
#include "verifier_corpus.h"

/* The first arm of a branch (the fall-through side, explored first) runs BUSY before the join,
 * so that it remembers its state there and the second arm is compared with it. */

/* 8 slots of work on r9 that nothing reads. */
#define BUSY()                                                                                     \
    MOV64_IMM(R9, 0), ALU64_IMM(BPF_ADD, R9, 1), ALU64_IMM(BPF_ADD, R9, 1),                        \
        ALU64_IMM(BPF_ADD, R9, 1), ALU64_IMM(BPF_ADD, R9, 1), ALU64_IMM(BPF_ADD, R9, 1),           \
        ALU64_IMM(BPF_ADD, R9, 1), ALU64_IMM(BPF_ADD, R9, 1)

/* 2 slots: an unknown u32 in r6 (the context's len) and one in r7 (its mark). */
#define UNKNOWN_R6_R7() LDX_MEM(BPF_W, R6, R1, CTX_LEN), LDX_MEM(BPF_W, R7, R1, CTX_MARK)

/* 2 slots: the unsafe end of a path, reading a stack slot nothing wrote. */
#define UNSAFE()      LDX_MEM(BPF_DW, R0, R10, -64), EXIT()
#define UNSAFE_REASON REJECT("uninitialized")

/* The joined-branches generator: one `if r6 > k goto +1; r7 = k` per block, the two arms
 * joining at the next block. Each arm narrows r6 differently; only a state whose r6 decides the
 * branches below the same way may be pruned. */
#define JOIN_BLOCK(k) JMP_IMM(BPF_JGT, R6, (k), 1), MOV64_IMM(R7, (k))
#define JOIN_BLOCKS_10(b)                                                                          \
    JOIN_BLOCK((b) + 0), JOIN_BLOCK((b) + 1), JOIN_BLOCK((b) + 2), JOIN_BLOCK((b) + 3),            \
        JOIN_BLOCK((b) + 4), JOIN_BLOCK((b) + 5), JOIN_BLOCK((b) + 6), JOIN_BLOCK((b) + 7),        \
        JOIN_BLOCK((b) + 8), JOIN_BLOCK((b) + 9)
#define JOIN_BLOCKS_100(b)                                                                         \
    JOIN_BLOCKS_10((b) + 0), JOIN_BLOCKS_10((b) + 10), JOIN_BLOCKS_10((b) + 20),                   \
        JOIN_BLOCKS_10((b) + 30), JOIN_BLOCKS_10((b) + 40), JOIN_BLOCKS_10((b) + 50),              \
        JOIN_BLOCKS_10((b) + 60), JOIN_BLOCKS_10((b) + 70), JOIN_BLOCKS_10((b) + 80),              \
        JOIN_BLOCKS_10((b) + 90)

/* Two interleaved chains (r6 and r8), 4 slots per block: without pruning on ranges the paths
 * are every pair of values, each running to the end. */
#define PAIR_BLOCK(k)                                                                              \
    JMP_IMM(BPF_JGT, R6, (k), 1), MOV64_IMM(R7, (k)), JMP_IMM(BPF_JGT, R8, (k), 1),                \
        MOV64_IMM(R7, (k))
#define PAIR_BLOCKS_10(b)                                                                          \
    PAIR_BLOCK((b) + 0), PAIR_BLOCK((b) + 1), PAIR_BLOCK((b) + 2), PAIR_BLOCK((b) + 3),            \
        PAIR_BLOCK((b) + 4), PAIR_BLOCK((b) + 5), PAIR_BLOCK((b) + 6), PAIR_BLOCK((b) + 7),        \
        PAIR_BLOCK((b) + 8), PAIR_BLOCK((b) + 9)
#define PAIR_BLOCKS_50(b)                                                                          \
    PAIR_BLOCKS_10((b) + 0), PAIR_BLOCKS_10((b) + 10), PAIR_BLOCKS_10((b) + 20),                   \
        PAIR_BLOCKS_10((b) + 30), PAIR_BLOCKS_10((b) + 40)

/* 7 slots: r7 &= 7 indexes the 8 bytes at fp-16 (initialised first), r0 = that byte. */
#define SAFE_ACCESS_BY_R7()                                                                        \
    ALU64_IMM(BPF_AND, R7, 7), MOV64_REG(R2, R10), ALU64_IMM(BPF_ADD, R2, -16),                    \
        ALU64_REG(BPF_ADD, R2, R7), LDX_MEM(BPF_B, R0, R2, 0), EXIT()

/* A diamond whose arms set r7 and narrow r6 differently (4 slots). */
#define RANGE_DIAMOND(k) JMP_IMM(BPF_JGT, R6, (k), 2), MOV64_IMM(R7, 1), JA(1), MOV64_IMM(R7, 2)
#define RANGE_DIAMONDS_5(b)                                                                        \
    RANGE_DIAMOND(10 * (b) + 0), RANGE_DIAMOND(10 * (b) + 10), RANGE_DIAMOND(10 * (b) + 20),       \
        RANGE_DIAMOND(10 * (b) + 30), RANGE_DIAMOND(10 * (b) + 40)

/* A diamond on bit `bit` of r8 whose first arm spills r6 to a slot of its own that nothing reads
 * (4 slots): the states at the join differ only in that dead slot. */
#define SLOT_DIAMOND(bit)                                                                          \
    JMP_IMM(BPF_JSET, R8, 1 << (bit), 2), STX_MEM(BPF_DW, R10, R6, -24 - 8 * (bit)), JA(1),        \
        MOV64_IMM(R0, 0)
#define SLOT_DIAMONDS_5(b)                                                                         \
    SLOT_DIAMOND((b) + 0), SLOT_DIAMOND((b) + 1), SLOT_DIAMOND((b) + 2), SLOT_DIAMOND((b) + 3),    \
        SLOT_DIAMOND((b) + 4)

/* One instruction per line where jump offsets are counted. */
/* clang-format off */
const corpus_case_t corpus_pruning_cases[] = {
    /* ---- must be rejected: the second arm differs in what the first arm's proof relied on ---- */
    TEST_CASE("pruning: wider arm fails a check the narrower arm passed", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              ALU64_IMM(BPF_AND, R6, 7),        /* first arm: r6 in [0, 7] */
              BUSY(),
              JA(1),
              ALU64_IMM(BPF_AND, R6, 63),       /* second arm: r6 in [0, 63] */
              JMP_IMM(BPF_JGT, R6, 7, 2),       /* join */
              RETURN_IMM(0),
              UNSAFE()),
    TEST_CASE("pruning: narrower arm fails a check the wider arm passed", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 11),
              ALU64_IMM(BPF_AND, R6, 63),       /* first arm: r6 in [8, 63] */
              ALU64_IMM(BPF_OR, R6, 8),
              BUSY(),
              JA(1),
              ALU64_IMM(BPF_AND, R6, 7),        /* second arm: r6 in [0, 7] */
              JMP_IMM(BPF_JLT, R6, 8, 2),       /* join */
              RETURN_IMM(0),
              UNSAFE()),
    TEST_CASE("pruning: wider arm's range used as a stack offset", REJECT("out of bounds"),
              UNKNOWN_R6_R7(),
              ST_MEM(BPF_DW, R10, -8, 0),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              ALU64_IMM(BPF_AND, R6, 7),
              BUSY(),
              JA(1),
              ALU64_IMM(BPF_AND, R6, 15),
              MOV64_REG(R2, R10),               /* join */
              ALU64_IMM(BPF_ADD, R2, -8),
              ALU64_REG(BPF_ADD, R2, R6),
              LDX_MEM(BPF_B, R0, R2, 0),
              EXIT()),
    TEST_CASE("pruning: check on a value computed from the joined register", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              ALU64_IMM(BPF_AND, R6, 7),        /* r6 + 10 in [10, 17] */
              BUSY(),
              JA(1),
              ALU64_IMM(BPF_AND, R6, 15),       /* r6 + 10 in [10, 25] */
              MOV64_REG(R2, R6),                /* join */
              ALU64_IMM(BPF_ADD, R2, 10),
              JMP_IMM(BPF_JGT, R2, 17, 2),
              RETURN_IMM(0),
              UNSAFE()),
    TEST_CASE("pruning: range narrowed by a register that differs between the arms",
              UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              ALU64_IMM(BPF_AND, R6, 7),        /* the same r6 in [0, 7] on both arms */
              JMP_IMM(BPF_JGT, R7, 5, 10),
              MOV64_IMM(R8, 3),
              BUSY(),
              JA(1),
              MOV64_IMM(R8, 7),
              JMP_REG(BPF_JGT, R6, R8, 3),      /* join: r6 <= r8 below */
              JMP_IMM(BPF_JGT, R6, 3, 4),       /* never with r8 = 3, possible with r8 = 7 */
              RETURN_IMM(0),
              RETURN_IMM(1),
              UNSAFE()),
    TEST_CASE("pruning: 32-bit check passes, 64-bit check on the same register fails",
              UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              ALU64_IMM(BPF_AND, R6, 7),
              JMP_IMM(BPF_JGT, R7, 5, 9),
              BUSY(),                           /* first arm: r6 in [0, 7] */
              JA(3),
              MOV64_IMM(R8, 1),                 /* second arm: r6 in 2^32 + [0, 7] */
              ALU64_IMM(BPF_LSH, R8, 32),
              ALU64_REG(BPF_OR, R6, R8),
              JMP32_IMM(BPF_JGT, R6, 7, 3),     /* join */
              JMP_IMM(BPF_JGT, R6, 7, 2),
              RETURN_IMM(0),
              UNSAFE()),
    TEST_CASE("pruning: signed check passes, unsigned check fails", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              ALU64_IMM(BPF_AND, R6, 7),        /* first arm: r6 in [0, 7] */
              BUSY(),
              JA(1),
              MOV64_IMM(R6, -1),                /* second arm: r6 = -1 */
              JMP_IMM(BPF_JSGT, R6, 7, 3),      /* join */
              JMP_IMM(BPF_JGT, R6, 7, 2),
              RETURN_IMM(0),
              UNSAFE()),
    TEST_CASE("pruning: equality never true on the first arm, true on the second", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              MOV64_IMM(R6, 5),
              BUSY(),
              JA(1),
              MOV64_IMM(R6, 6),
              JMP_IMM(BPF_JEQ, R6, 6, 2),       /* join */
              RETURN_IMM(0),
              UNSAFE()),
    TEST_CASE("pruning: bit test never true on the first arm, true on the second", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              MOV64_IMM(R6, 4),
              BUSY(),
              JA(1),
              MOV64_IMM(R6, 6),
              JMP_IMM(BPF_JSET, R6, 2, 2),      /* join */
              RETURN_IMM(0),
              UNSAFE()),
    TEST_CASE("pruning: pointer on one arm, scalar on the other, returned", REJECT("leaks a pointer"),
              UNKNOWN_R6_R7(),
              MOV64_IMM(R6, 0),
              JMP_IMM(BPF_JGT, R7, 5, 9),
              BUSY(),
              JA(1),
              MOV64_REG(R6, R10),
              MOV64_REG(R0, R6),                /* join */
              EXIT()),
    TEST_CASE("pruning: pointer or scalar spilled to a slot read after the join",
              REJECT("leaks a pointer"),
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              STX_MEM(BPF_DW, R10, R6, -16),
              BUSY(),
              JA(1),
              STX_MEM(BPF_DW, R10, R10, -16),
              LDX_MEM(BPF_DW, R0, R10, -16),    /* join */
              EXIT()),
    TEST_CASE("pruning: slot written on one arm only, read after the join", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              STX_MEM(BPF_DW, R10, R6, -64),
              BUSY(),
              JA(1),
              MOV64_IMM(R6, 0),
              LDX_MEM(BPF_DW, R0, R10, -64),    /* join */
              EXIT()),
    TEST_CASE("pruning: spilled value decides a check after the join", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 11),
              MOV64_IMM(R6, 4),
              STX_MEM(BPF_DW, R10, R6, -8),
              BUSY(),
              JA(2),
              MOV64_IMM(R6, 40),
              STX_MEM(BPF_DW, R10, R6, -8),
              LDX_MEM(BPF_DW, R3, R10, -8),     /* join */
              JMP_IMM(BPF_JGT, R3, 16, 2),
              RETURN_IMM(0),
              UNSAFE()),
    TEST_CASE("pruning: 4-byte spill decides a check after the join", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 11),
              MOV64_IMM(R6, 4),
              STX_MEM(BPF_W, R10, R6, -8),
              BUSY(),
              JA(2),
              MOV64_IMM(R6, 40),
              STX_MEM(BPF_W, R10, R6, -8),
              LDX_MEM(BPF_W, R3, R10, -8),      /* join */
              JMP_IMM(BPF_JGT, R3, 16, 2),
              RETURN_IMM(0),
              UNSAFE()),
    TEST_CASE("pruning: argument returned by a function decides a check", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              MOV64_IMM(R1, 4),
              BUSY(),
              JA(1),
              MOV64_IMM(R1, 40),
              CALL_LOCAL(5),                    /* join */
              JMP_IMM(BPF_JGT, R0, 16, 2),
              RETURN_IMM(0),
              UNSAFE(),
              MOV64_REG(R0, R1),                /* the function: returns its argument */
              EXIT()),
    TEST_CASE("pruning: caller's slot read after the function the join is in",
              REJECT("leaks a pointer"),
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 2),
              STX_MEM(BPF_DW, R10, R6, -8),     /* a scalar here */
              JA(1),
              STX_MEM(BPF_DW, R10, R10, -8),    /* a pointer there */
              MOV64_REG(R1, R7),
              CALL_LOCAL(2),
              LDX_MEM(BPF_DW, R0, R10, -8),
              EXIT(),
              MOV64_IMM(R0, 0),                 /* the function: a branch of its own */
              JMP_IMM(BPF_JGT, R1, 3, 9),
              BUSY(),
              JA(1),
              MOV64_IMM(R0, 1),
              EXIT()),                          /* its join */
    TEST_CASE("pruning: function reads the caller's slot through a pointer after its join",
              REJECT("leaks a pointer"),
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 2),
              STX_MEM(BPF_DW, R10, R6, -8),
              JA(1),
              STX_MEM(BPF_DW, R10, R10, -8),
              MOV64_REG(R1, R10),
              ALU64_IMM(BPF_ADD, R1, -8),
              MOV64_REG(R2, R7),
              CALL_LOCAL(1),
              EXIT(),
              MOV64_IMM(R0, 0),                 /* the function */
              JMP_IMM(BPF_JGT, R2, 3, 9),
              BUSY(),
              JA(1),
              MOV64_IMM(R0, 1),
              LDX_MEM(BPF_DW, R0, R1, 0),       /* its join */
              EXIT()),
    TEST_CASE("pruning: caller's register read after the function the join is in",
              REJECT("leaks a pointer"),
              UNKNOWN_R6_R7(),
              MOV64_REG(R8, R10),
              JMP_IMM(BPF_JGT, R7, 5, 1),       /* r8 stays a pointer on the second path */
              MOV64_IMM(R8, 0),
              MOV64_REG(R1, R7),
              CALL_LOCAL(2),
              MOV64_REG(R0, R8),
              EXIT(),
              MOV64_IMM(R0, 0),                 /* the function */
              JMP_IMM(BPF_JGT, R1, 3, 9),
              BUSY(),
              JA(1),
              MOV64_IMM(R0, 1),
              EXIT()),                          /* its join */
    TEST_CASE("pruning: 4-byte store over a slot that holds a pointer on one arm",
              REJECT("leaks a pointer"),
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              STX_MEM(BPF_DW, R10, R6, -16),
              BUSY(),
              JA(1),
              STX_MEM(BPF_DW, R10, R10, -16),
              ST_MEM(BPF_W, R10, -16, 0),       /* join: half the slot stays what it was */
              LDX_MEM(BPF_DW, R0, R10, -16),
              EXIT()),
    TEST_CASE("pruning: copy linked to the checked register on one arm only", UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              ALU64_IMM(BPF_AND, R6, 15),
              MOV64_IMM(R3, 0),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              MOV64_REG(R2, R6),                /* first arm: r2 is a copy of r6 */
              BUSY(),
              JA(3),
              LDX_MEM(BPF_W, R3, R1, CTX_LEN),  /* second arm: r2 is a copy of r3 */
              ALU64_IMM(BPF_AND, R3, 15),
              MOV64_REG(R2, R3),
              JMP_IMM(BPF_JGT, R2, 7, 3),       /* join: narrows r2 and its copies */
              JMP_IMM(BPF_JGT, R6, 7, 4),       /* never on the first arm */
              MOV64_REG(R0, R3),
              EXIT(),
              RETURN_IMM(1),
              UNSAFE()),
    TEST_CASE("pruning: zero stored from a register decides a check after the join",
              UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              MOV64_IMM(R8, 0),                 /* first arm: the slot becomes zeros */
              BUSY(),
              JA(1),
              MOV64_IMM(R8, 5),                 /* second arm: a spill of 5 */
              STX_MEM(BPF_W, R10, R8, -8),      /* join */
              BUSY(),
              JA(0),
              LDX_MEM(BPF_W, R3, R10, -8),      /* a checkpoint here sees zeros, not r8 */
              JMP_IMM(BPF_JGT, R3, 3, 2),
              RETURN_IMM(0),
              UNSAFE()),
    /* The second path is pruned at the join by the first, before any check: what the first
     * relied on must reach the second path's own checkpoint (K), where the third joins it. */
    TEST_CASE("pruning: a pruned path's checkpoint keeps the bound it was pruned with",
              UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              LDX_MEM(BPF_DW, R8, R1, CTX_VALUE),
              JMP_IMM(BPF_JGT, R8, 5, 26),      /* the third path */
              ALU64_IMM(BPF_AND, R6, 7),
              JMP_IMM(BPF_JGT, R7, 5, 9),       /* the second path */
              BUSY(),                           /* the first path */
              JA(10),
              ALU64_IMM(BPF_AND, R6, 7),
              BUSY(),
              MOV64_IMM(R0, 0),                 /* K */
              JMP_IMM(BPF_JGT, R6, 7, 2),       /* the join */
              RETURN_IMM(0),
              UNSAFE(),
              ALU64_IMM(BPF_AND, R6, 63),       /* the third path: r6 in [0, 63] */
              JA(-8)),
    TEST_CASE("pruning: a pruned path's checkpoint keeps the register its zeros came from",
              UNSAFE_REASON,
              UNKNOWN_R6_R7(),
              LDX_MEM(BPF_DW, R8, R1, CTX_VALUE),
              MOV64_IMM(R4, 0),
              JMP_IMM(BPF_JGT, R8, 5, 29),      /* the third path */
              MOV64_IMM(R0, 0),
              JMP_IMM(BPF_JGT, R7, 5, 10),      /* the second path */
              ST_MEM(BPF_DW, R10, -16, 0),      /* the first path: zeros from a constant */
              BUSY(),
              JA(11),
              MOV64_IMM(R0, 0),
              BUSY(),
              MOV64_IMM(R0, 0),                 /* K */
              STX_MEM(BPF_DW, R10, R4, -16),    /* zeros from r4 */
              LDX_MEM(BPF_DW, R3, R10, -16),    /* the join */
              JMP_IMM(BPF_JGT, R3, 3, 2),
              RETURN_IMM(0),
              UNSAFE(),
              MOV64_IMM(R4, 5),                 /* the third path: r4 = 5 */
              JA(-10)),
    TEST_CASE("pruning: a pruned path's checkpoint keeps the slots read below the join",
              REJECT("leaks a pointer"),
              UNKNOWN_R6_R7(),
              LDX_MEM(BPF_DW, R8, R1, CTX_VALUE),
              STX_MEM(BPF_DW, R10, R6, -16),
              JMP_IMM(BPF_JGT, R8, 5, 23),      /* the third path */
              MOV64_IMM(R0, 0),
              JMP_IMM(BPF_JGT, R7, 5, 9),       /* the second path */
              BUSY(),                           /* the first path */
              JA(10),
              MOV64_IMM(R0, 0),
              BUSY(),
              MOV64_IMM(R0, 0),                 /* K */
              LDX_MEM(BPF_DW, R0, R10, -16),    /* the join */
              EXIT(),
              STX_MEM(BPF_DW, R10, R10, -16),   /* the third path: a pointer in the slot */
              JA(-5)),

    /* ---- must be accepted, within the budget ---- */
    TEST_CASE("pruning: narrower arm inside the bound of the check below", ACCEPT,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              ALU64_IMM(BPF_AND, R6, 3),
              BUSY(),
              JA(1),
              ALU64_IMM(BPF_AND, R6, 63),
              JMP_IMM(BPF_JGT, R6, 63, 2),      /* join */
              RETURN_IMM(0),
              UNSAFE()),
    TEST_CASE("pruning: pointer in a slot overwritten before it is read", ACCEPT,
              UNKNOWN_R6_R7(),
              JMP_IMM(BPF_JGT, R7, 5, 10),
              STX_MEM(BPF_DW, R10, R6, -16),
              BUSY(),
              JA(1),
              STX_MEM(BPF_DW, R10, R10, -16),
              ST_MEM(BPF_DW, R10, -16, 1),      /* join */
              LDX_MEM(BPF_DW, R0, R10, -16),
              EXIT()),
    /* 500 blocks keep it under the corpus's 1,024 instructions; the work is quadratic in the
     * blocks when each path runs to the end, linear when pruning takes ranges inside a bound. */
    TEST_CASE("pruning: 500 joined branches on one register", ACCEPT,
              UNKNOWN_R6_R7(),
              ST_MEM(BPF_DW, R10, -16, 0),
              MOV64_IMM(R7, 0),
              JOIN_BLOCKS_100(0),
              JOIN_BLOCKS_100(100),
              JOIN_BLOCKS_100(200),
              JOIN_BLOCKS_100(300),
              JOIN_BLOCKS_100(400),
              SAFE_ACCESS_BY_R7()),
    TEST_CASE("pruning: 250 joined branches on each of two registers", ACCEPT,
              UNKNOWN_R6_R7(),
              LDX_MEM(BPF_DW, R8, R1, CTX_VALUE),
              ST_MEM(BPF_DW, R10, -16, 0),
              MOV64_IMM(R7, 0),
              PAIR_BLOCKS_50(0),
              PAIR_BLOCKS_50(50),
              PAIR_BLOCKS_50(100),
              PAIR_BLOCKS_50(150),
              PAIR_BLOCKS_50(200),
              SAFE_ACCESS_BY_R7()),
    TEST_CASE("pruning: 20 joined diamonds narrowing one register", ACCEPT,
              UNKNOWN_R6_R7(),
              ST_MEM(BPF_DW, R10, -16, 0),
              RANGE_DIAMONDS_5(0),
              RANGE_DIAMONDS_5(5),
              RANGE_DIAMONDS_5(10),
              RANGE_DIAMONDS_5(15),
              SAFE_ACCESS_BY_R7()),
    TEST_CASE("pruning: 20 joined diamonds differing in dead stack slots", ACCEPT,
              UNKNOWN_R6_R7(),
              LDX_MEM(BPF_DW, R8, R1, CTX_VALUE),
              ST_MEM(BPF_DW, R10, -16, 0),
              SLOT_DIAMONDS_5(0),
              SLOT_DIAMONDS_5(5),
              SLOT_DIAMONDS_5(10),
              SLOT_DIAMONDS_5(15),
              SAFE_ACCESS_BY_R7()),
};
/* clang-format on */
CORPUS_GROUP_DEFINE_COUNT(pruning);
