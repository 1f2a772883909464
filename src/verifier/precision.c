/* Precision tracking: which scalars the proof relied on exactly, found by walking a path back. */
#include <string.h>

#include "verifier_private.h"

/* What is still to be found on the way back: registers and stack slots per call level. */
typedef struct backtrack {
    uint32_t frame; /* the call level the walk is in */
    uint16_t registers[VERIFIER_MAX_FRAMES];
    uint64_t slots[VERIFIER_MAX_FRAMES];
} backtrack_t;

static bool backtrack_empty(const backtrack_t *backtrack)
{
    for (uint32_t f = 0; f <= backtrack->frame; f++)
        if (backtrack->registers[f] || backtrack->slots[f])
            return false;
    return true;
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

/* Marks what is searched in a checkpoint's state. What is already marked there was followed
 * further back by an earlier walk: the search for it ends here. */
static void mark_in_checkpoint(state_t *state, backtrack_t *backtrack)
{
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
            if (!slot_holds_scalar_spill(frame, s) || frame->slots[s].spill.precise)
                backtrack->slots[f] &= ~(1ull << s);
            else
                frame->slots[s].spill.precise = true;
        }
    }
}

static bool is_local_call(const struct bpf_insn *insn)
{
    return insn->code == (BPF_JMP | BPF_CALL) && insn->src_reg == BPF_PSEUDO_CALL;
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
        return;
    }

    uint16_t *registers = &backtrack->registers[f];
    uint64_t slot_bit = node->stack_slot >= 0 ? 1ull << node->stack_slot : 0;
    uint64_t *slots = &backtrack->slots[node->stack_frame];
    switch (BPF_CLASS(insn->code)) {
    case BPF_LD:
        *registers &= (uint16_t)~dst;
        break;
    case BPF_LDX:
        if (*registers & dst) {
            *registers &= (uint16_t)~dst;
            *slots |= slot_bit;
        }
        break;
    case BPF_ST:
        *slots &= ~slot_bit;
        break;
    case BPF_STX:
        if (BPF_MODE(insn->code) == BPF_ATOMIC) {
            if (insn->imm == BPF_CMPXCHG)
                *registers &= (uint16_t)~1u;
            else if (insn->imm & BPF_FETCH)
                *registers &= (uint16_t)~src;
            break;
        }
        if (*slots & slot_bit) {
            *slots &= ~slot_bit;
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
            mark_in_checkpoint(checkpoint->state, backtrack);
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

void verifier_propagate_precision(verifier_t *verifier, const state_t *state,
                                  const state_t *finished)
{
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
        for (uint32_t s = 0; s < old->slot_count && s < VERIFIER_STACK_SLOTS; s++)
            if (slot_holds_scalar_spill(old, s) && old->slots[s].spill.precise &&
                slot_holds_scalar_spill(cur, s))
                backtrack.slots[f] |= 1ull << s;
    }
    walk_back(verifier, &backtrack, verifier->history_count);
}

static void clear_precise(reg_t *reg, void *context)
{
    reg->precise = false;
}

void state_clear_precision(state_t *state)
{
    state_for_each_reg(state, clear_precise, NULL);
}

void verifier_note_stack_slot(verifier_t *verifier, uint32_t frame, int64_t off)
{
    if (verifier->replaying || verifier->current_history == UINT32_MAX)
        return;
    history_node_t *node = &verifier->history[verifier->current_history];
    node->stack_frame = (uint8_t)frame;
    node->stack_slot = (int8_t)((-off - 1) / 8);
}

void verifier_note_linked(verifier_t *verifier, uint16_t registers)
{
    if (verifier->replaying || verifier->current_history == UINT32_MAX)
        return;
    verifier->history[verifier->current_history].linked |= registers;
}
