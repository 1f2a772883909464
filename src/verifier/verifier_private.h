/* The verifier's abstract machine: value domains, registers, stack, states and the analysis. */
#ifndef VERIFIER_PRIVATE_H
#define VERIFIER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpf_verifier.h"

/* The interpreter's limits (include/ebpf_exec.h): each call level owns a 512-byte frame and a
 * program has at most 8 levels. Repeated here because the verifier layer depends on nothing. */
#define VERIFIER_FRAME_SIZE     512
#define VERIFIER_MAX_FRAMES     8
#define VERIFIER_STACK_SLOTS    (VERIFIER_FRAME_SIZE / 8)
#define VERIFIER_MAX_REFERENCES 32
#define VERIFIER_REGISTER_COUNT 11
/* Pointer offsets stay within this bound so offset arithmetic never overflows (the kernel's
 * BPF_MAX_VAR_OFF). */
#define VERIFIER_MAX_POINTER_OFFSET (1ll << 29)
/* Packet offsets a comparison with the end pointer can prove (the kernel's MAX_PACKET_OFF). */
#define VERIFIER_MAX_PACKET_OFFSET 0xffff

/* ------------------------------------------------------------------------------------------
 * Scalars: unsigned and signed ranges in 64 and 32 bits, and known bits (value/mask: a bit set
 * in mask is unknown, every other bit is the one in value).
 * ------------------------------------------------------------------------------------------ */

typedef struct scalar {
    uint64_t umin, umax;
    int64_t smin, smax;
    uint32_t u32min, u32max;
    int32_t s32min, s32max;
    uint64_t value, mask;
} scalar_t;

void scalar_unknown(scalar_t *scalar);
void scalar_constant(scalar_t *scalar, uint64_t value);
/* An unknown value of the low `bytes` bytes, zero- or sign-extended. */
void scalar_unknown_of_size(scalar_t *scalar, unsigned bytes, bool sign_extend);
bool scalar_is_constant(const scalar_t *scalar);
bool scalar_is_constant_32(const scalar_t *scalar);
bool scalar_is_unknown(const scalar_t *scalar);
/* Tightens every field from the others; false when the value set is empty. */
bool scalar_sync(scalar_t *scalar);
/* The value of a load of `bytes` bytes of a stored scalar. */
void scalar_truncate(scalar_t *scalar, unsigned bytes, bool sign_extend);
/* dst = dst op src (BPF_OP codes; off selects signed division and sign-extending moves). */
void scalar_alu(scalar_t *dst, const scalar_t *src, uint8_t op, bool alu64, int16_t off);
/* Branch conditions on two scalars, at 64 or 32 bits. */
typedef enum branch_outcome {
    BRANCH_UNKNOWN = 0,
    BRANCH_ALWAYS,
    BRANCH_NEVER,
} branch_outcome_t;
branch_outcome_t scalar_branch_outcome(const scalar_t *a, const scalar_t *b, uint8_t op,
                                       bool is_jmp32);
/* Narrows a and b to the values where `a op b` holds (taken) or fails; false when impossible. */
bool scalar_refine(scalar_t *a, scalar_t *b, uint8_t op, bool is_jmp32, bool taken);
/* True when every value of inner is a value of outer. */
bool scalar_included(const scalar_t *outer, const scalar_t *inner);
/* The branch `a op k` (is_jmp32: on the low 32 bits) came out `taken` for every value of a:
 * writes into bound a box of values that all decide it the same way and that holds a (bound
 * may be wider than a). False when no such box is worth keeping. */
bool scalar_decision_bound(const scalar_t *a, uint64_t k, uint8_t op, bool is_jmp32, bool taken,
                           scalar_t *bound);
bool scalar_equal(const scalar_t *a, const scalar_t *b);
/* Writes a short form ("5", "[0, 255]", "unknown") into text. */
int scalar_describe(const scalar_t *scalar, char *text, size_t size);

/* ------------------------------------------------------------------------------------------
 * Registers and the stack.
 * ------------------------------------------------------------------------------------------ */

typedef enum reg_type {
    REG_NOT_INIT = 0,
    REG_SCALAR,
    REG_CTX,
    REG_STACK,
    REG_PACKET,
    REG_PACKET_META,
    REG_PACKET_END,
    REG_MAP_PTR,
    REG_MAP_VALUE,
    REG_ALLOC_MEM,
} reg_type_t;

/* Why a register holds nothing usable, for the message when it is read. */
typedef enum uninit_reason {
    UNINIT_NEVER_WRITTEN = 0,
    UNINIT_CLOBBERED_BY_CALL,
    UNINIT_RELEASED,
    UNINIT_PACKET_CHANGED,
} uninit_reason_t;

typedef struct reg {
    uint8_t type;    /* reg_type_t */
    bool maybe_null; /* MAP_PTR, MAP_VALUE, ALLOC_MEM: not null-checked yet */
    /* SCALAR in a checkpoint: some path below relied on its exact range, so only states with
     * a range inside it may be pruned by it. Otherwise any scalar will do, unless bounded. */
    bool precise;
    /* SCALAR in a checkpoint, not precise: paths below decided branches on it, and its
     * checkpoint keeps a scalar_bound_t with the values that decide them all the same way. A
     * state whose range is inside that bound, or inside this one, may be pruned by it. */
    bool bounded;
    uint8_t frame;         /* STACK: the call level whose frame it points into */
    uint8_t uninit_reason; /* NOT_INIT: uninit_reason_t */
    int32_t off;           /* pointers: the constant part of the offset */
    /* maybe_null pointers: shared by the copies of one helper result, which a null check
     * refines together; packets: the identity of the variable part of the offset; scalars:
     * copies made by a move, which a comparison refines together. 0: none. */
    uint32_t id;
    uint32_t ref_id;   /* ALLOC_MEM: the reference every path must release */
    uint32_t range;    /* PACKET, PACKET_META: bytes proven inside the packet */
    uint32_t mem_size; /* ALLOC_MEM: bytes of the record */
    uint32_t origin;   /* maybe_null pointers: the call that returned it (messages) */
    /* SCALAR that is "packet end - p" for the packet pointer p with variable part
     * distance_id and constant offset distance_off: what netevent programs pass as the size
     * of the data they copy out. A comparison bounding it from below proves bytes at p. */
    bool packet_distance;
    int32_t distance_off;
    uint32_t distance_id;
    const ebpf_verifier_map_t *map; /* MAP_PTR, MAP_VALUE */
    scalar_t value; /* SCALAR: the value; pointers: the variable part of the offset */
} reg_t;

/* What one byte of a stack slot holds. */
typedef enum stack_byte {
    STACK_INVALID = 0, /* never written: reads are rejected */
    STACK_MISC,        /* some value */
    STACK_ZERO,        /* zero */
    STACK_SPILL,       /* part of the register spilled in the slot */
    STACK_POINTER_PART /* what remains of a partly overwritten spilled pointer: never read */
} stack_byte_t;

/* Eight bytes of stack: slot i covers [-8(i+1), -8i) from the frame pointer. */
typedef struct stack_slot {
    uint8_t bytes[8];
    reg_t spill; /* the register whose bytes are STACK_SPILL */
} stack_slot_t;

typedef struct frame {
    reg_t regs[VERIFIER_REGISTER_COUNT];
    uint32_t callsite;   /* the call that created the frame; UINT32_MAX for the main one */
    uint32_t function;   /* index in the program's functions */
    uint32_t slot_count; /* slots in use, from the frame pointer down */
    stack_slot_t *slots;
} frame_t;

typedef struct reference {
    uint32_t id;
    uint32_t pc; /* where it was acquired */
} reference_t;

typedef struct state {
    uint32_t frame_count;
    uint32_t reference_count;
    reference_t references[VERIFIER_MAX_REFERENCES];
    frame_t *frames[VERIFIER_MAX_FRAMES];
} state_t;

static inline frame_t *state_top(const state_t *state)
{
    return state->frames[state->frame_count - 1];
}

/* ------------------------------------------------------------------------------------------
 * The program's shape, found before the analysis.
 * ------------------------------------------------------------------------------------------ */

enum {
    INSN_SECOND_SLOT = 1u << 0, /* the second half of an ld_imm64 */
    INSN_PRUNE_POINT = 1u << 1, /* states are compared and remembered here */
    INSN_REACHED = 1u << 2,
    INSN_FUNCTION_START = 1u << 3,
    INSN_LOOP_HEAD = 1u << 4, /* target of a backward jump */
};

typedef struct function_info {
    uint32_t start, end;  /* [start, end) */
    uint32_t stack_depth; /* deepest byte of its frame any path touched */
} function_info_t;

/* What a checkpoint requires of a bounded scalar (reg_t.bounded): the paths below used its
 * value only to decide branches, and every value inside bound decides them all the same way. */
typedef struct scalar_bound {
    uint8_t frame;
    int8_t slot;   /* the stack slot whose spill holds the scalar, or -1: register regno */
    uint8_t regno; /* when slot is -1 */
    scalar_t bound;
} scalar_bound_t;

/* A state remembered at a prune point. */
typedef struct checkpoint {
    /* The list of finished checkpoints of its instruction (only finished ones prune). */
    struct checkpoint *next_at_instruction, *previous_at_instruction;
    struct checkpoint *parent; /* the checkpoint the path passed before this one */
    struct checkpoint *previous_alive, *next_alive;
    state_t *state; /* NULL once forgotten (an old unfinished loop state) */
    uint32_t pc;
    /* Paths still being explored from this state, directly or below a child checkpoint; 0
     * when everything reachable from it was proven safe (it can then prune other paths). */
    uint32_t pending;
    uint32_t hits, misses;
    uint64_t hash;       /* state_hash at a loop head, 0 elsewhere */
    uint32_t history;    /* the history node that ran next: the state is the one before it */
    uint32_t loop_index; /* its place in the loop head's unfinished list, or UINT32_MAX */
    /* Stack liveness, per call level (bit n: slot n). slots_read: slots whose value here some
     * path below read (complete once finished: only those are compared when it prunes).
     * slots_written: slots the path overwrote whole between the parent and this checkpoint,
     * so a read below does not make the parent's slot live. */
    uint64_t slots_read[VERIFIER_MAX_FRAMES];
    uint64_t slots_written[VERIFIER_MAX_FRAMES];
    /* Slots holding zeros that some path below read as the constant 0 and relied on exactly
     * (the precise mark of a spill, for bytes that are no spill). */
    uint64_t zeros_relied[VERIFIER_MAX_FRAMES];
    /* The bounds of its bounded scalars, set while the checkpoint is unfinished (precision is
     * marked on the running path's checkpoints) and fixed once it can prune. */
    scalar_bound_t *bounds;
    uint32_t bound_count, bound_capacity;
} checkpoint_t;

/* The unfinished checkpoints of a loop head: the states the paths now running passed there,
 * kept apart and by hash so the check for a repeated state is a scan of a short array. */
typedef struct loop_entry {
    uint64_t hash;
    checkpoint_t *checkpoint;
} loop_entry_t;

typedef struct loop_head {
    loop_entry_t *entries;
    uint32_t count, capacity;
    uint32_t next_forgotten; /* round robin over the full array */
} loop_head_t;

typedef struct pending_path {
    state_t *state;
    uint32_t pc;
    checkpoint_t *checkpoint;
    uint32_t history;
    uint32_t since_checkpoint;
    uint64_t slots_written[VERIFIER_MAX_FRAMES];
} pending_path_t;

/* One processed instruction of a path: what precision tracking walks back over, and what the
 * verbose log replays. Paths share their common beginning (a tree by parent). */
typedef struct history_node {
    uint32_t pc;
    uint32_t parent;     /* UINT32_MAX: the start */
    uint8_t frame;       /* the call level it ran in */
    uint8_t stack_frame; /* a spill or fill: the call level of the stack slot */
    int8_t stack_slot;   /* that slot, or -1 */
    uint8_t stack_span;  /* an access across two slots: 1, and stack_slot - 1 is the other */
    uint16_t linked;     /* a conditional jump: registers of its level it narrowed together */
} history_node_t;

/* How a step ended for the driver. */
typedef struct step_result {
    uint32_t next_pc;
    bool path_done;  /* exit of the main function */
    state_t *branch; /* another feasible successor (a compact copy), or NULL */
    uint32_t branch_pc;
} step_result_t;

typedef struct verifier {
    const struct bpf_insn *insns;
    uint32_t count;
    const ebpf_program_info_t *info;
    const ebpf_context_descriptor_t *context; /* NULL: the type describes no context */
    const ebpf_verifier_map_t *maps;
    uint32_t map_count;
    const ebpf_verifier_options_t *options;
    uint64_t budget;
    uint64_t processed;

    uint8_t *insn_flags;
    uint16_t *live; /* registers live before each instruction (bit n: rn) */
    uint32_t *function_of;
    function_info_t *functions;
    uint32_t function_count;

    checkpoint_t **checkpoints; /* per instruction: the finished ones, newest first */
    loop_head_t *loop_heads;    /* per instruction (used at loop heads) */
    uint32_t *state_counts;     /* per instruction: checkpoints holding a state copy */
    checkpoint_t *alive;        /* every checkpoint not freed yet */
    pending_path_t *pending;
    uint32_t pending_count, pending_capacity;

    state_t *current; /* the working state: full-size frames */
    uint32_t pc;
    checkpoint_t *current_checkpoint;
    uint32_t current_history;
    uint32_t since_checkpoint; /* instructions the current path ran since its checkpoint */
    /* Stack slots the current path overwrote whole since its checkpoint, per call level. */
    uint64_t slots_written[VERIFIER_MAX_FRAMES];
    uint32_t next_id;

    bool verbose;
    bool replaying;
    history_node_t *history;
    uint32_t history_count, history_capacity;

    bool writes_packet;
    bool failed;
    int error; /* -EACCES or -ENOMEM */
    uint32_t error_pc;
    char reason[768];
} verifier_t;

/* Records the reason for rejecting the program at instruction pc (the first one wins) and
 * returns -EACCES. */
int verifier_reject(verifier_t *verifier, uint32_t pc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int verifier_out_of_memory(verifier_t *verifier);

/* program_structure.c */
int verifier_check_structure(verifier_t *verifier);
const ebpf_helper_prototype_t *verifier_find_helper(const verifier_t *verifier, uint32_t id);

/* abstract_state.c */
int state_create_working(verifier_t *verifier, state_t **state);
/* Gives the working state a full-size frame at index (call levels are added on demand). */
int state_reserve_frame(verifier_t *verifier, state_t *state, uint32_t index);
void state_destroy_working(state_t *state);
state_t *state_copy_compact(verifier_t *verifier, const state_t *state);
void state_copy_into(state_t *destination, const state_t *source);
void state_free(state_t *state);
void reg_mark_not_init(reg_t *reg, uninit_reason_t reason);
void reg_mark_unknown(reg_t *reg);
void reg_mark_constant(reg_t *reg, uint64_t value);
/* Makes a frame's slot count cover byte offset off (negative, from the frame pointer). */
void frame_grow(frame_t *frame, int32_t off);
/* Drops scalar links that only one live place holds, so comparisons do not see them. */
void state_drop_lonely_ids(verifier_t *verifier, state_t *state, uint32_t pc);
/* True when every concrete state cur describes is one the checkpoint's state was proven safe
 * for (exact: cur and the checkpoint's state describe the same set), looking only at what is
 * live at pc. */
bool state_included(const verifier_t *verifier, const checkpoint_t *old, const state_t *cur,
                    uint32_t pc, bool exact);
/* The bound a checkpoint keeps for the scalar in register regno (slot -1) or in a stack slot of
 * call level frame, or NULL. */
const scalar_bound_t *checkpoint_find_bound(const checkpoint_t *checkpoint, uint32_t frame,
                                            int32_t slot, uint32_t regno);
void checkpoint_free_bounds(checkpoint_t *checkpoint);
/* The current instruction reads the bytes [start, end) (offsets from the frame pointer) of call
 * level frame: their slots are live in the checkpoints of the path back to where they were last
 * overwritten whole. */
void verifier_note_stack_read(verifier_t *verifier, uint32_t frame, int64_t start, int64_t end);
/* The same for a set of slots (bit n: slot n), as a checkpoint that prunes the path reads them. */
void verifier_note_slots_read(verifier_t *verifier, uint32_t frame, uint64_t slots);
/* The current instruction overwrites slot index of call level frame whole. */
void verifier_note_slot_written(verifier_t *verifier, uint32_t frame, uint32_t index);
/* Equal for states that are exactly included in each other at pc (a quick filter). */
uint64_t state_hash(const verifier_t *verifier, const state_t *state, uint32_t pc);
uint32_t verifier_new_id(verifier_t *verifier);

/* instruction_semantics.c */
/* Rejects reading register regno of the top frame while it holds nothing. */
int verifier_check_readable(verifier_t *verifier, const state_t *state, uint32_t pc,
                            unsigned regno);
int verifier_step(verifier_t *verifier, state_t *state, uint32_t pc, step_result_t *result);

/* memory_access.c */
int verifier_check_load(verifier_t *verifier, state_t *state, uint32_t pc);
int verifier_check_store(verifier_t *verifier, state_t *state, uint32_t pc);
int verifier_check_atomic(verifier_t *verifier, state_t *state, uint32_t pc);
typedef enum memory_use {
    MEMORY_READ,  /* initialised bytes the helper reads */
    MEMORY_WRITE, /* bytes the helper writes (may be uninitialised before) */
} memory_use_t;
/* Checks a helper's memory argument: reg must point to max_size bytes it may read or write. */
int verifier_check_helper_memory(verifier_t *verifier, state_t *state, uint32_t pc,
                                 const char *what, unsigned regno, const reg_t *reg,
                                 uint64_t max_size, memory_use_t use);
/* Drops the spills and bytes of stack slots in a range that a helper wrote. */
void verifier_stack_mark_written(state_t *state, const reg_t *reg, int64_t start, int64_t end);
/* Calls visit on every register and spilled register of the state. */
void state_for_each_reg(state_t *state, void (*visit)(reg_t *reg, void *context), void *context);

/* helper_calls.c */
int verifier_check_helper_call(verifier_t *verifier, state_t *state, uint32_t pc,
                               uint32_t helper_id);
const char *verifier_helper_name(const verifier_t *verifier, uint32_t id, char *buffer,
                                 size_t size);

/* precision.c */
/* The registers (bit n: rn of the top frame) whose exact ranges the current instruction relies
 * on: marks them, back to where their values came from, in the checkpoints of the path. */
void verifier_mark_precise(verifier_t *verifier, const state_t *state, uint16_t registers);
/* A branch decided by the range of register regno of the top frame (compared with a constant):
 * the checkpoints of the path need the values that decide it that way (bound), not its exact
 * range, as long as the value reaches them through copies only. */
void verifier_mark_bounded(verifier_t *verifier, const state_t *state, unsigned regno,
                           const scalar_t *bound);
/* The path was pruned by finished: what finished relied on, the path relies on too. */
void verifier_propagate_precision(verifier_t *verifier, const state_t *state,
                                  const checkpoint_t *finished);
/* A fresh checkpoint relies on nothing yet. */
void state_clear_precision(state_t *state);
/* A spill or fill of size bytes at off by the current instruction, for walking back over it. */
void verifier_note_stack_slot(verifier_t *verifier, uint32_t frame, int64_t off, unsigned size);
/* A conditional jump narrowed these registers of the top frame together. */
void verifier_note_linked(verifier_t *verifier, uint16_t registers);

/* verifier_log.c */
const char *reg_type_name(const reg_t *reg);
/* "a scalar", "a pointer to the stack", ... */
int reg_describe(const verifier_t *verifier, const reg_t *reg, char *text, size_t size);
/* One line with every initialised register and stack slot of the top frame. */
int state_describe(const verifier_t *verifier, const state_t *state, char *text, size_t size);
const char *verifier_map_name(const ebpf_verifier_map_t *map, char *buffer, size_t size);
/* A growable log text. */
typedef struct log_buffer {
    char *text;
    size_t length, capacity;
    bool failed;
} log_buffer_t;
void log_append(log_buffer_t *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* disassembler.c */
int verifier_disassemble(const verifier_t *verifier, uint32_t index, char *text, size_t size);

#endif /* VERIFIER_PRIVATE_H */
