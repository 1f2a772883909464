/* Precision tracking: which scalars the proof relied on exactly, found by walking a path back. */
#include <string.h>

#include "ebpf_platform.h"
#include "verifier_private.h"

/* What is still to be found on the way back: registers and stack slots per call level whose
 * exact ranges were relied on, and at most one scalar that only decided branches, followed with
 * the bound of values that decide them alike. The bounded scalar is followed through copies
 * only (moves, 8-byte spills and fills, arguments and results of calls): there its value is the
 * same, so the bound says the same of it. Where an instruction computes it from something else
 * it becomes exact, because a bound on the result says nothing simple about the operands. */
typedef struct backtrack {
    uint32_t frame; /* the call level the walk is in */
    uint16_t registers[VERIFIER_MAX_FRAMES];
    uint64_t slots[VERIFIER_MAX_FRAMES];
    bool bounded;        /* a bounded scalar is followed */
    uint8_t bound_frame; /* its call level */
    int8_t bound_slot;   /* the stack slot holding it, or -1: register bound_regno */
    uint8_t bound_regno;
    scalar_t bound;
} backtrack_t;

static bool backtrack_empty(const backtrack_t *backtrack)
{
    if (backtrack->bounded)
        return false;
    for (uint32_t f = 0; f <= backtrack->frame; f++)
        if (backtrack->registers[f] || backtrack->slots[f])
            return false;
    return true;
}

static bool bound_in_register(const backtrack_t *backtrack, uint32_t frame, unsigned regno)
{
    return backtrack->bounded && backtrack->bound_slot < 0 && backtrack->bound_frame == frame &&
           backtrack->bound_regno == regno;
}

static void bound_move_to_register(backtrack_t *backtrack, uint32_t frame, unsigned regno)
{
    backtrack->bound_frame = (uint8_t)frame;
    backtrack->bound_slot = -1;
    backtrack->bound_regno = (uint8_t)regno;
}

/* From here back the bounded scalar is searched exactly. */
static void bound_to_exact(backtrack_t *backtrack)
{
    if (!backtrack->bounded)
        return;
    if (backtrack->bound_slot < 0)
        backtrack->registers[backtrack->bound_frame] |= (uint16_t)(1u << backtrack->bound_regno);
    else
        backtrack->slots[backtrack->bound_frame] |= 1ull << backtrack->bound_slot;
    backtrack->bounded = false;
}

static bool slot_holds_scalar_spill(const frame_t *frame, uint32_t slot)
{
    if (slot >= frame->slot_count || frame->slots[slot].spill.type != REG_SCALAR)
        return false;
    for (int i = 0; i < 8; i++)
        if (frame->slots[slot].bytes[i] == STACK_SPILL)
            return true;
    return false;
}

static bool slot_holds_zeros(const frame_t *frame, uint32_t slot)
{
    if (slot >= frame->slot_count)
        return false;
    for (int i = 0; i < 8; i++)
        if (frame->slots[slot].bytes[i] == STACK_ZERO)
            return true;
    return false;
}

/* The slots a stack access of the node touched (bit n: slot n). */
static uint64_t node_slots(const history_node_t *node)
{
    if (node->stack_slot < 0)
        return 0;
    uint64_t bits = 1ull << node->stack_slot;
    return node->stack_span ? bits | bits >> 1 : bits;
}

/* The access wrote or read one whole slot: an aligned 8-byte access. */
static bool node_whole_slot(const struct bpf_insn *insn, const history_node_t *node)
{
    return node->stack_slot >= 0 && node->stack_span == 0 && BPF_SIZE(insn->code) == BPF_DW;
}

static bool add_bound(checkpoint_t *checkpoint, const backtrack_t *backtrack)
{
    if (checkpoint->bound_count == checkpoint->bound_capacity) {
        uint32_t capacity = checkpoint->bound_capacity ? checkpoint->bound_capacity * 2 : 4;
        scalar_bound_t *grown =
            ebpf_reallocate(checkpoint->bounds, capacity * sizeof(*checkpoint->bounds));
        if (!grown)
            return false;
        checkpoint->bounds = grown;
        checkpoint->bound_capacity = capacity;
    }
    checkpoint->bounds[checkpoint->bound_count++] = (scalar_bound_t){
        .frame = backtrack->bound_frame,
        .slot = backtrack->bound_slot,
        .regno = backtrack->bound_slot < 0 ? backtrack->bound_regno : 0,
        .bound = backtrack->bound,
    };
    return true;
}

/* Gives the checkpoint the bound of the bounded scalar. A bound it already has that is as
 * narrow, or a precise scalar, was followed further back by an earlier walk over the same path
 * (which made the same registers exact on the way): the search for it ends here. A bound that
 * would narrow becomes exact instead: each narrowing walks back to where the value was made,
 * while an exact mark ends the later walks at once, so a chain of checks that each narrow the
 * value a little (x != 0, x != 1, ...) would walk the whole path every time. The bounds that pay
 * off, the first check below a join deciding the joined value, are set once. */
static void bound_in_checkpoint(checkpoint_t *checkpoint, backtrack_t *backtrack)
{
    state_t *state = checkpoint->state;
    reg_t *reg = NULL;

    if (backtrack->bound_frame >= state->frame_count) {
        backtrack->bounded = false;
        return;
    }
    frame_t *frame = state->frames[backtrack->bound_frame];
    if (backtrack->bound_slot < 0) {
        reg = &frame->regs[backtrack->bound_regno];
    } else if (slot_holds_scalar_spill(frame, (uint32_t)backtrack->bound_slot)) {
        reg = &frame->slots[backtrack->bound_slot].spill;
    } else {
        /* Not a spill here (zeros, say): the exact search knows where such bytes come from. */
        bound_to_exact(backtrack);
        return;
    }
    if (reg->type != REG_SCALAR || reg->precise) {
        backtrack->bounded = false;
        return;
    }
    if (reg->bounded) {
        scalar_bound_t *kept = (scalar_bound_t *)checkpoint_find_bound(
            checkpoint, backtrack->bound_frame, backtrack->bound_slot, backtrack->bound_regno);
        if (kept) {
            if (scalar_included(&backtrack->bound, &kept->bound))
                backtrack->bounded = false;
            else
                bound_to_exact(backtrack); /* marked precise below, with the exact search */
            return;
        }
    }
    if (add_bound(checkpoint, backtrack)) {
        reg->bounded = true;
        return;
    }
    /* No memory for the bound: exact is stricter, so still sound (marked precise below, and
     * followed further back, by the exact search). */
    bound_to_exact(backtrack);
}

/* Marks what is searched in a checkpoint's state. What is already marked there was followed
 * further back by an earlier walk: the search for it ends here. */
static void mark_in_checkpoint(checkpoint_t *checkpoint, backtrack_t *backtrack)
{
    state_t *state = checkpoint->state;

    if (backtrack->bounded)
        bound_in_checkpoint(checkpoint, backtrack);
    for (uint32_t f = 0; f <= backtrack->frame && f < state->frame_count; f++) {
        frame_t *frame = state->frames[f];
        for (uint32_t bits = backtrack->registers[f]; bits; bits &= bits - 1) {
            int r = __builtin_ctz(bits);
            reg_t *reg = &frame->regs[r];
            if (reg->type != REG_SCALAR || reg->precise)
                backtrack->registers[f] &= (uint16_t) ~(1u << r);
            else
                reg->precise = true;
        }
        for (uint64_t bits = backtrack->slots[f]; bits; bits &= bits - 1) {
            uint32_t s = (uint32_t)__builtin_ctzll(bits);
            if (slot_holds_scalar_spill(frame, s)) {
                if (frame->slots[s].spill.precise)
                    backtrack->slots[f] &= ~(1ull << s);
                else
                    frame->slots[s].spill.precise = true;
            } else if (!slot_holds_zeros(frame, s)) {
                /* Some value or nothing: a read of it is unknown, it relied on nothing. */
                backtrack->slots[f] &= ~(1ull << s);
            } else if (checkpoint->zeros_relied[f] & (1ull << s)) {
                backtrack->slots[f] &= ~(1ull << s);
            } else {
                /* Zeros read as the constant 0, which the stores that wrote them made (a
                 * register that was 0, say): the comparison of the zero bytes covers this
                 * checkpoint, the search goes on to those stores. */
                checkpoint->zeros_relied[f] |= 1ull << s;
            }
        }
    }
}

static bool is_local_call(const struct bpf_insn *insn)
{
    return insn->code == (BPF_JMP | BPF_CALL) && insn->src_reg == BPF_PSEUDO_CALL;
}

/* Undoes one instruction of the walk's call level for the bounded scalar: where its value was
 * before, or that it was made here (the search ends), or that it becomes exact. */
static void backtrack_bound(const struct bpf_insn *insn, const history_node_t *node,
                            backtrack_t *backtrack)
{
    uint32_t f = node->frame;
    bool in_dst = bound_in_register(backtrack, f, insn->dst_reg);
    bool in_slot = backtrack->bound_slot >= 0 && backtrack->bound_frame == node->stack_frame &&
                   (node_slots(node) >> backtrack->bound_slot) & 1;
    bool whole = node_whole_slot(insn, node);
    uint8_t op = BPF_OP(insn->code);

    switch (BPF_CLASS(insn->code)) {
    case BPF_LD:
        if (in_dst)
            backtrack->bounded = false; /* a constant or a map: made here */
        break;
    case BPF_LDX:
        if (!in_dst)
            break;
        if (node->stack_slot < 0) {
            backtrack->bounded = false; /* loaded from memory other than the stack */
        } else if (whole && BPF_MODE(insn->code) == BPF_MEM) {
            /* An 8-byte fill: the spill's value. */
            backtrack->bound_frame = node->stack_frame;
            backtrack->bound_slot = node->stack_slot;
        } else {
            bound_to_exact(backtrack);
        }
        break;
    case BPF_ST:
        if (in_slot && whole)
            backtrack->bounded = false; /* a constant stored here */
        else if (in_slot)
            bound_to_exact(backtrack); /* part of it: the rest comes from before */
        break;
    case BPF_STX:
        if (BPF_MODE(insn->code) == BPF_ATOMIC) {
            if ((insn->imm == BPF_CMPXCHG && bound_in_register(backtrack, f, BPF_REG_0)) ||
                ((insn->imm & BPF_FETCH) && bound_in_register(backtrack, f, insn->src_reg)))
                backtrack->bounded = false; /* fetched from memory */
            break;
        }
        if (!in_slot)
            break;
        if (whole)
            bound_move_to_register(backtrack, f, insn->src_reg); /* an 8-byte spill */
        else
            bound_to_exact(backtrack);
        break;
    case BPF_ALU:
    case BPF_ALU64:
        if (!in_dst)
            break;
        if (op == BPF_MOV && BPF_SRC(insn->code) == BPF_K)
            backtrack->bounded = false; /* a constant */
        else if (op == BPF_MOV && BPF_CLASS(insn->code) == BPF_ALU64 && insn->off == 0)
            bound_move_to_register(backtrack, f, insn->src_reg); /* a copy */
        else
            bound_to_exact(backtrack);
        break;
    default:
        if (op == BPF_CALL && insn->src_reg != BPF_PSEUDO_CALL) {
            /* r0 is the helper's result, r1-r5 hold nothing after it. */
            if (backtrack->bounded && backtrack->bound_slot < 0 && backtrack->bound_frame == f &&
                backtrack->bound_regno <= BPF_REG_5)
                backtrack->bounded = false;
        } else if (node->linked && backtrack->bounded && backtrack->bound_slot < 0 &&
                   backtrack->bound_frame == f && (node->linked & (1u << backtrack->bound_regno))) {
            /* The comparison narrowed the scalar with the others: its range below depends on
             * theirs exactly (the scalar's own range inside the checkpoint's is enough for
             * pruning only when they match too). Its values, which the bound is about, do not
             * change. */
            backtrack->registers[f] |=
                (uint16_t)(node->linked & ~(1u << backtrack->bound_regno) & 0x3ff);
        }
        break;
    }
}

/* Undoes one instruction: what was searched after it becomes what is searched before it. */
static void backtrack_instruction(const verifier_t *verifier, const history_node_t *node,
                                  backtrack_t *backtrack)
{
    const struct bpf_insn *insn = &verifier->insns[node->pc];
    uint32_t f = node->frame;
    uint16_t dst = (uint16_t)(1u << insn->dst_reg), src = (uint16_t)(1u << insn->src_reg);

    if (backtrack->frame > f) {
        /* The call into the function the walk was in: its arguments were the caller's. */
        uint32_t callee = backtrack->frame;
        backtrack->registers[f] |= backtrack->registers[callee] & 0x3e;
        backtrack->registers[callee] = 0;
        backtrack->slots[callee] = 0;
        backtrack->frame = f;
        if (backtrack->bounded && backtrack->bound_frame == callee) {
            if (backtrack->bound_slot < 0 && backtrack->bound_regno >= BPF_REG_1 &&
                backtrack->bound_regno <= BPF_REG_5)
                backtrack->bound_frame = (uint8_t)f;
            else
                backtrack->bounded = false; /* the callee's own: it held nothing at entry */
        }
        return;
    }
    if (backtrack->frame < f) {
        /* The exit of a function the caller's r0 came from. */
        uint32_t caller = backtrack->frame;
        bool result = backtrack->registers[caller] & 1;
        backtrack->registers[caller] &= (uint16_t)~1u;
        backtrack->registers[f] = result ? 1 : 0;
        backtrack->slots[f] = 0;
        backtrack->frame = f;
        if (bound_in_register(backtrack, caller, BPF_REG_0))
            backtrack->bound_frame = (uint8_t)f;
        return;
    }

    if (backtrack->bounded)
        backtrack_bound(insn, node, backtrack);

    uint16_t *registers = &backtrack->registers[f];
    uint64_t slot_bits = node_slots(node);
    /* Only a store of a whole slot made all of it: after a smaller one the rest of the slot (a
     * zero a later read relied on, say) comes from before, so the search for it goes on. */
    uint64_t made = node_whole_slot(insn, node) ? slot_bits : 0;
    uint64_t *slots = &backtrack->slots[node->stack_frame];
    switch (BPF_CLASS(insn->code)) {
    case BPF_LD:
        *registers &= (uint16_t)~dst;
        break;
    case BPF_LDX:
        if (*registers & dst) {
            *registers &= (uint16_t)~dst;
            *slots |= slot_bits;
        }
        break;
    case BPF_ST:
        *slots &= ~made;
        break;
    case BPF_STX:
        if (BPF_MODE(insn->code) == BPF_ATOMIC) {
            if (insn->imm == BPF_CMPXCHG)
                *registers &= (uint16_t)~1u;
            else if (insn->imm & BPF_FETCH)
                *registers &= (uint16_t)~src;
            break;
        }
        if (*slots & slot_bits) {
            *slots &= ~made;
            *registers |= src;
        }
        break;
    case BPF_ALU:
    case BPF_ALU64:
        if (!(*registers & dst))
            break;
        if (BPF_OP(insn->code) == BPF_MOV) {
            *registers &= (uint16_t)~dst;
            if (BPF_SRC(insn->code) == BPF_X)
                *registers |= src;
        } else if (BPF_SRC(insn->code) == BPF_X && BPF_OP(insn->code) != BPF_END) {
            *registers |= src;
        }
        break;
    default:
        if (BPF_OP(insn->code) == BPF_CALL && !is_local_call(insn)) {
            *registers &= (uint16_t)~0x3fu; /* r0 from the helper, r1-r5 clobbered */
        } else if (node->linked && (*registers & node->linked)) {
            /* The comparison narrowed a searched register using the others. */
            *registers |= node->linked;
        }
        break;
    }
    *registers &= 0x3ff;
    /* Searched exactly as well (a comparison linked it to an exact register): exact wins. */
    if (backtrack->bounded &&
        (backtrack->bound_slot < 0
             ? (backtrack->registers[backtrack->bound_frame] >> backtrack->bound_regno) & 1
             : (backtrack->slots[backtrack->bound_frame] >> backtrack->bound_slot) & 1))
        backtrack->bounded = false;
}

/* Walks the current path back from where its state is `state`, marking checkpoints. start is
 * the history node whose "before" state that is (history_count: not yet recorded). */
static void walk_back(verifier_t *verifier, backtrack_t *backtrack, uint32_t start)
{
    checkpoint_t *checkpoint = verifier->current_checkpoint;
    uint32_t node = start;

    while (!backtrack_empty(backtrack)) {
        while (checkpoint && !checkpoint->state)
            checkpoint = checkpoint->parent; /* a forgotten loop state: nothing to mark */
        if (checkpoint && checkpoint->history == node) {
            mark_in_checkpoint(checkpoint, backtrack);
            checkpoint = checkpoint->parent;
            continue;
        }
        uint32_t previous = node == verifier->history_count ? verifier->current_history
                                                            : verifier->history[node].parent;
        if (previous == UINT32_MAX)
            return;
        backtrack_instruction(verifier, &verifier->history[previous], backtrack);
        node = previous;
    }
}

void verifier_mark_precise(verifier_t *verifier, const state_t *state, uint16_t registers)
{
    backtrack_t backtrack;
    const frame_t *frame = state_top(state);

    if (verifier->replaying || verifier->current_history == UINT32_MAX)
        return;
    memset(&backtrack, 0, sizeof(backtrack));
    backtrack.frame = state->frame_count - 1;
    for (int r = 0; r < BPF_REG_10; r++)
        if ((registers & (1u << r)) && frame->regs[r].type == REG_SCALAR)
            backtrack.registers[backtrack.frame] |= (uint16_t)(1u << r);
    /* The instruction running now is the last recorded one. */
    walk_back(verifier, &backtrack, verifier->current_history);
}

void verifier_mark_bounded(verifier_t *verifier, const state_t *state, unsigned regno,
                           const scalar_t *bound)
{
    backtrack_t backtrack;

    if (verifier->replaying || verifier->current_history == UINT32_MAX)
        return;
    if (state_top(state)->regs[regno].type != REG_SCALAR)
        return;
    memset(&backtrack, 0, sizeof(backtrack));
    backtrack.frame = state->frame_count - 1;
    backtrack.bounded = true;
    bound_move_to_register(&backtrack, backtrack.frame, regno);
    backtrack.bound = *bound;
    walk_back(verifier, &backtrack, verifier->current_history);
}

/* The pruned path's scalar at (frame, slot or regno) had to stay inside what the finished
 * checkpoint allowed for its bounded scalar: its bound, or else its range. */
static void propagate_bound(verifier_t *verifier, const state_t *state,
                            const checkpoint_t *finished, const reg_t *old, const reg_t *cur,
                            uint32_t frame, int32_t slot, unsigned regno)
{
    const scalar_bound_t *kept = checkpoint_find_bound(finished, frame, slot, regno);
    backtrack_t backtrack;

    memset(&backtrack, 0, sizeof(backtrack));
    backtrack.frame = state->frame_count - 1;
    backtrack.bounded = true;
    backtrack.bound_frame = (uint8_t)frame;
    backtrack.bound_slot = (int8_t)slot;
    backtrack.bound_regno = (uint8_t)(slot < 0 ? regno : 0);
    backtrack.bound = kept && scalar_included(&kept->bound, &cur->value) ? kept->bound : old->value;
    walk_back(verifier, &backtrack, verifier->history_count);
}

void verifier_propagate_precision(verifier_t *verifier, const state_t *state,
                                  const checkpoint_t *checkpoint)
{
    const state_t *finished = checkpoint->state;
    backtrack_t backtrack;

    if (verifier->replaying)
        return;
    memset(&backtrack, 0, sizeof(backtrack));
    backtrack.frame = state->frame_count - 1;
    for (uint32_t f = 0; f < finished->frame_count && f < state->frame_count; f++) {
        const frame_t *old = finished->frames[f], *cur = state->frames[f];
        for (int r = 0; r < BPF_REG_10; r++)
            if (old->regs[r].type == REG_SCALAR && old->regs[r].precise &&
                cur->regs[r].type == REG_SCALAR)
                backtrack.registers[f] |= (uint16_t)(1u << r);
        for (uint32_t s = 0; s < old->slot_count && s < VERIFIER_STACK_SLOTS; s++) {
            if (slot_holds_scalar_spill(old, s) && old->slots[s].spill.precise &&
                slot_holds_scalar_spill(cur, s))
                backtrack.slots[f] |= 1ull << s;
            /* Zeros the paths below relied on as the constant 0: the stores that made the
             * path's zeros (of a register that was 0, say) are relied on too. */
            else if (((checkpoint->zeros_relied[f] >> s) & 1) && slot_holds_zeros(old, s))
                backtrack.slots[f] |= 1ull << s;
        }
    }
    walk_back(verifier, &backtrack, verifier->history_count);

    for (uint32_t f = 0; f < finished->frame_count && f < state->frame_count; f++) {
        const frame_t *old = finished->frames[f], *cur = state->frames[f];
        for (int r = 0; r < BPF_REG_10; r++) {
            const reg_t *reg = &old->regs[r];
            if (reg->type == REG_SCALAR && reg->bounded && !reg->precise &&
                cur->regs[r].type == REG_SCALAR)
                propagate_bound(verifier, state, checkpoint, reg, &cur->regs[r], f, -1,
                                (unsigned)r);
        }
        for (uint32_t s = 0; s < old->slot_count && s < VERIFIER_STACK_SLOTS; s++) {
            const reg_t *spill = &old->slots[s].spill;
            if (slot_holds_scalar_spill(old, s) && spill->bounded && !spill->precise &&
                slot_holds_scalar_spill(cur, s))
                propagate_bound(verifier, state, checkpoint, spill, &cur->slots[s].spill, f,
                                (int32_t)s, 0);
        }
    }
}

static void clear_precise(reg_t *reg, void *context)
{
    reg->precise = false;
    reg->bounded = false;
}

void state_clear_precision(state_t *state)
{
    state_for_each_reg(state, clear_precise, NULL);
}

void verifier_note_stack_slot(verifier_t *verifier, uint32_t frame, int64_t off, unsigned size)
{
    if (verifier->replaying || verifier->current_history == UINT32_MAX)
        return;
    history_node_t *node = &verifier->history[verifier->current_history];
    int64_t last = off + (int64_t)size - 1;
    node->stack_frame = (uint8_t)frame;
    node->stack_slot = (int8_t)((-off - 1) / 8);
    node->stack_span = (uint8_t)(node->stack_slot - (-last - 1) / 8);
}

void verifier_note_linked(verifier_t *verifier, uint16_t registers)
{
    if (verifier->replaying || verifier->current_history == UINT32_MAX)
        return;
    verifier->history[verifier->current_history].linked |= registers;
}
