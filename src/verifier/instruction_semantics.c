/* What each instruction does to the abstract state: arithmetic, branches, calls and exits. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "verifier_private.h"

#define OP_GOTOL (BPF_JMP32 | BPF_JA | BPF_K)

static const char *operation_symbol(uint8_t op)
{
    static const char *const symbols[16] = {"+=",  "-=", "*=", "/=", "|=",   "&=",  "<<=", ">>=",
                                            "neg", "%=", "^=", "=",  "s>>=", "end", "?",   "?"};
    return symbols[op >> 4];
}

static bool is_pointer(const reg_t *reg)
{
    return reg->type != REG_NOT_INIT && reg->type != REG_SCALAR;
}

static bool is_packet_family(const reg_t *reg)
{
    return reg->type == REG_PACKET || reg->type == REG_PACKET_META || reg->type == REG_PACKET_END;
}

static int reject_uninit(verifier_t *verifier, uint32_t pc, unsigned regno, const reg_t *reg)
{
    switch (reg->uninit_reason) {
    case UNINIT_CLOBBERED_BY_CALL:
        return verifier_reject(verifier, pc,
                               "r%u is uninitialized: calls clobber r0-r5 (keep values in r6-r9 "
                               "or on the stack)",
                               regno);
    case UNINIT_RELEASED:
        return verifier_reject(verifier, pc,
                               "r%u is uninitialized: the ring buffer record it pointed to was "
                               "already released (submitted or discarded)",
                               regno);
    case UNINIT_PACKET_CHANGED:
        return verifier_reject(verifier, pc,
                               "r%u is uninitialized: a helper that can move the packet "
                               "invalidated this packet pointer; load it from the context again",
                               regno);
    default:
        return verifier_reject(verifier, pc, "r%u is uninitialized", regno);
    }
}

int verifier_check_readable(verifier_t *verifier, const state_t *state, uint32_t pc, unsigned regno)
{
    const reg_t *reg = &state_top(state)->regs[regno];
    if (reg->type == REG_NOT_INIT)
        return reject_uninit(verifier, pc, regno, reg);
    return 0;
}

/* ---- arithmetic ---- */

/* pointer op= scalar (or scalar += pointer), with the result in *dst. */
static int pointer_arithmetic(verifier_t *verifier, uint32_t pc, reg_t *dst, const reg_t *src,
                              unsigned dst_regno, unsigned src_regno, bool source_register,
                              uint8_t op, bool alu64)
{
    char name[64];

    if (!alu64)
        return verifier_reject(verifier, pc,
                               "pointer arithmetic in 32 bits is prohibited (r%u %s r%u as "
                               "w-registers truncates a pointer)",
                               dst_regno, operation_symbol(op), src_regno);
    if (is_pointer(dst) && is_pointer(src)) {
        if (op == BPF_SUB && is_packet_family(dst) && is_packet_family(src)) {
            reg_t pointer = *src;
            bool distance = dst->type == REG_PACKET_END && src->type == REG_PACKET;
            reg_mark_unknown(dst);
            if (distance) {
                /* end - p: at least what comparisons proved to lie after p. */
                dst->packet_distance = true;
                dst->distance_id = pointer.id;
                dst->distance_off = pointer.off;
                if ((int64_t)pointer.range > pointer.off && pointer.value.smin >= 0 &&
                    pointer.value.smax <= VERIFIER_MAX_PACKET_OFFSET) {
                    dst->value.smin = (int64_t)pointer.range - pointer.off - pointer.value.smax;
                    if (dst->value.smin < 0)
                        dst->value.smin = 0;
                    scalar_sync(&dst->value);
                }
            }
            return 0;
        }
        return verifier_reject(verifier, pc,
                               "pointer arithmetic between two pointers is prohibited: r%u (%s) "
                               "%s r%u (%s); only packet pointers may be subtracted",
                               dst_regno, reg_type_name(dst), operation_symbol(op), src_regno,
                               reg_type_name(src));
    }
    const reg_t *pointer = is_pointer(dst) ? dst : src;
    const reg_t *scalar = is_pointer(dst) ? src : dst;
    unsigned pointer_regno = is_pointer(dst) ? dst_regno : src_regno;
    unsigned scalar_regno = is_pointer(dst) ? src_regno : dst_regno;
    bool scalar_is_register = is_pointer(dst) ? source_register : true;

    if (op != BPF_ADD && !(op == BPF_SUB && pointer == dst))
        return verifier_reject(verifier, pc,
                               "pointer arithmetic with %s on pointer r%u (%s) is prohibited: "
                               "only adding or subtracting a scalar is allowed",
                               operation_symbol(op), pointer_regno, reg_type_name(pointer));
    if (pointer->maybe_null)
        return verifier_reject(verifier, pc,
                               "pointer arithmetic on r%u is prohibited while it may be NULL: "
                               "compare it with 0 first",
                               pointer_regno);
    switch (pointer->type) {
    case REG_PACKET_END:
        return verifier_reject(verifier, pc,
                               "pointer arithmetic on the packet end pointer r%u is prohibited",
                               pointer_regno);
    case REG_MAP_PTR:
        return verifier_reject(verifier, pc,
                               "pointer arithmetic on r%u, which points to map %s, is prohibited",
                               pointer_regno, verifier_map_name(pointer->map, name, sizeof(name)));
    default:
        break;
    }

    /* The offset moves by the scalar's exact value. */
    if (scalar_is_register)
        verifier_mark_precise(verifier, verifier->current, (uint16_t)(1u << scalar_regno));
    reg_t result = *pointer;
    const scalar_t *amount = &scalar->value;
    int64_t delta = (int64_t)amount->value;
    bool small = scalar_is_constant(amount) && delta >= -VERIFIER_MAX_POINTER_OFFSET &&
                 delta <= VERIFIER_MAX_POINTER_OFFSET;
    /* Only a small amount is added here: a huge one (INT64_MIN) would overflow. */
    int64_t moved = !small          ? 0
                    : op == BPF_ADD ? (int64_t)result.off + delta
                                    : (int64_t)result.off - delta;
    if (small && moved >= -VERIFIER_MAX_POINTER_OFFSET && moved <= VERIFIER_MAX_POINTER_OFFSET) {
        result.off = (int32_t)moved;
    } else {
        if (pointer->type == REG_CTX)
            return verifier_reject(verifier, pc,
                                   "pointer arithmetic with a variable offset (r%u) into the "
                                   "context is prohibited",
                                   scalar_regno);
        /* Any amount is allowed here; an access through the result must then stay within
         * what it points to, which an unbounded offset cannot. */
        scalar_alu(&result.value, amount, op, true, 0);
        if (result.type == REG_PACKET || result.type == REG_PACKET_META) {
            /* A new variable part: what earlier comparisons proved does not carry over. */
            result.id = verifier_new_id(verifier);
            result.range = 0;
        }
    }
    *dst = result;
    return 0;
}

static void byte_swap(reg_t *reg, const struct bpf_insn *insn)
{
    bool alu64 = BPF_CLASS(insn->code) == BPF_ALU64;
    unsigned bits = (unsigned)insn->imm;
    bool to_big = BPF_SRC(insn->code) == BPF_TO_BE;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    bool swap = alu64 || to_big;
#else
    bool swap = alu64 || !to_big;
#endif
    uint64_t value = reg->value.value;

    reg->id = 0;
    reg->packet_distance = false;
    if (!swap) {
        scalar_truncate(&reg->value, bits / 8, false);
        return;
    }
    if (!scalar_is_constant(&reg->value)) {
        scalar_unknown_of_size(&reg->value, bits / 8, false);
        return;
    }
    if (bits == 16)
        value = __builtin_bswap16((uint16_t)value);
    else if (bits == 32)
        value = __builtin_bswap32((uint32_t)value);
    else
        value = __builtin_bswap64(value);
    scalar_constant(&reg->value, value);
}

static int check_alu(verifier_t *verifier, state_t *state, uint32_t pc)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    frame_t *frame = state_top(state);
    bool alu64 = BPF_CLASS(insn->code) == BPF_ALU64, source_register = BPF_SRC(insn->code) == BPF_X;
    uint8_t op = BPF_OP(insn->code);
    reg_t *dst = &frame->regs[insn->dst_reg];
    reg_t immediate;
    const reg_t *src = &immediate;
    int err;

    if (op == BPF_END) {
        if ((err = verifier_check_readable(verifier, state, pc, insn->dst_reg)) != 0)
            return err;
        if (dst->type != REG_SCALAR)
            return verifier_reject(verifier, pc,
                                   "pointer arithmetic: byte-swapping pointer r%u is prohibited",
                                   insn->dst_reg);
        byte_swap(dst, insn);
        return 0;
    }
    if (source_register) {
        if ((err = verifier_check_readable(verifier, state, pc, insn->src_reg)) != 0)
            return err;
        src = &frame->regs[insn->src_reg];
    } else {
        reg_mark_constant(&immediate, (uint64_t)(int64_t)insn->imm);
    }

    if (op == BPF_MOV) {
        if (is_pointer(src)) {
            if (!alu64)
                return verifier_reject(verifier, pc,
                                       "pointer arithmetic: a 32-bit move of pointer r%u "
                                       "truncates it",
                                       insn->src_reg);
            if (insn->off != 0)
                return verifier_reject(verifier, pc,
                                       "pointer arithmetic: sign-extending pointer r%u is "
                                       "prohibited",
                                       insn->src_reg);
            *dst = *src;
            return 0;
        }
        if (alu64 && insn->off == 0) {
            reg_t *source = &frame->regs[insn->src_reg];
            if (source_register && !scalar_is_constant(&source->value)) {
                /* Copies are linked: a comparison of one narrows the other. */
                if (source->id == 0)
                    source->id = verifier_new_id(verifier);
                *dst = *source;
            } else {
                *dst = *src;
                dst->id = 0;
            }
            return 0;
        }
        reg_t result;
        reg_mark_unknown(&result);
        result.value = src->value;
        scalar_alu(&result.value, &src->value, BPF_MOV, alu64, insn->off);
        *dst = result;
        return 0;
    }

    if ((err = verifier_check_readable(verifier, state, pc, insn->dst_reg)) != 0)
        return err;
    if (op == BPF_NEG && is_pointer(dst))
        return verifier_reject(
            verifier, pc, "pointer arithmetic: negating pointer r%u is prohibited", insn->dst_reg);
    if (is_pointer(dst) || is_pointer(src))
        return pointer_arithmetic(verifier, pc, dst, src, insn->dst_reg,
                                  source_register ? insn->src_reg : 0, source_register, op, alu64);
    scalar_t operand = src->value;
    scalar_alu(&dst->value, &operand, op, alu64, insn->off);
    dst->id = 0;
    dst->packet_distance = false;
    return 0;
}

/* ---- ld_imm64 ---- */

static void load_immediate(verifier_t *verifier, state_t *state, uint32_t pc)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    reg_t *dst = &state_top(state)->regs[insn->dst_reg];

    switch (insn->src_reg) {
    case BPF_PSEUDO_MAP_FD:
        memset(dst, 0, sizeof(*dst));
        dst->type = REG_MAP_PTR;
        dst->map = &verifier->maps[insn->imm];
        scalar_constant(&dst->value, 0);
        break;
    case BPF_PSEUDO_MAP_VALUE:
        memset(dst, 0, sizeof(*dst));
        dst->type = REG_MAP_VALUE;
        dst->map = &verifier->maps[insn->imm];
        dst->off = insn[1].imm;
        scalar_constant(&dst->value, 0);
        break;
    default:
        reg_mark_constant(dst,
                          (uint64_t)(uint32_t)insn->imm | ((uint64_t)(uint32_t)insn[1].imm << 32));
        break;
    }
}

/* ---- branches ---- */

static void prove_packet_range(state_t *state, const reg_t *pointer, bool strict);

/* Copies linked to a narrowed register get its range; only in the same call level, so that
 * walking back over the comparison (precision) knows every register it narrowed. */
static uint16_t refine_linked(frame_t *frame, uint32_t id, const scalar_t *value)
{
    uint16_t narrowed = 0;
    for (int r = 0; r < BPF_REG_10; r++) {
        reg_t *reg = &frame->regs[r];
        if (reg->type == REG_SCALAR && reg->id == id) {
            reg->value = *value;
            narrowed |= (uint16_t)(1u << r);
        }
    }
    return narrowed;
}

/* A distance "end - p" known to be at least smin proves smin bytes at p. */
static void prove_range_from_distance(state_t *state, const reg_t *distance)
{
    if (!distance->packet_distance || distance->value.smin <= 0)
        return;
    int64_t range = (int64_t)distance->distance_off + distance->value.smin;
    if (distance->distance_off < 0 || range > VERIFIER_MAX_PACKET_OFFSET)
        return;
    reg_t pointer;
    memset(&pointer, 0, sizeof(pointer));
    pointer.type = REG_PACKET;
    pointer.id = distance->distance_id;
    pointer.off = (int32_t)range;
    prove_packet_range(state, &pointer, false);
}

/* Narrows the compared scalars, and every copy linked to them, to one side of the branch. */
static bool refine_scalars(verifier_t *verifier, state_t *state, const struct bpf_insn *insn,
                           bool taken)
{
    frame_t *frame = state_top(state);
    bool source_register = BPF_SRC(insn->code) == BPF_X;
    bool jmp32 = BPF_CLASS(insn->code) == BPF_JMP32;
    reg_t *dst = &frame->regs[insn->dst_reg];
    scalar_t a = dst->value, b;

    if (source_register)
        b = frame->regs[insn->src_reg].value;
    else
        scalar_constant(&b, (uint64_t)(int64_t)insn->imm);
    if (!scalar_refine(&a, &b, BPF_OP(insn->code), jmp32, taken))
        return false;
    uint16_t narrowed = (uint16_t)(1u << insn->dst_reg);
    dst->value = a;
    if (dst->id)
        narrowed |= refine_linked(frame, dst->id, &a);
    if (source_register) {
        reg_t *src = &frame->regs[insn->src_reg];
        src->value = b;
        narrowed |= (uint16_t)(1u << insn->src_reg);
        if (src->id)
            narrowed |= refine_linked(frame, src->id, &b);
        prove_range_from_distance(state, src);
    }
    prove_range_from_distance(state, dst);
    verifier_note_linked(verifier, narrowed);
    return true;
}

typedef struct null_refinement {
    uint32_t id;
    bool is_null;
} null_refinement_t;

static void refine_null(reg_t *reg, void *context)
{
    const null_refinement_t *refinement = context;
    if (!reg->maybe_null || reg->id != refinement->id)
        return;
    if (refinement->is_null) {
        reg_mark_constant(reg, 0);
        return;
    }
    reg->maybe_null = false;
    reg->id = 0;
}

static void release_reference(state_t *state, uint32_t ref_id)
{
    for (uint32_t i = 0; i < state->reference_count; i++) {
        if (state->references[i].id == ref_id) {
            memmove(&state->references[i], &state->references[i + 1],
                    (state->reference_count - i - 1) * sizeof(state->references[0]));
            state->reference_count--;
            return;
        }
    }
}

static void mark_null_or_not(state_t *state, const reg_t *pointer, bool is_null)
{
    uint32_t ref_id = pointer->ref_id;
    null_refinement_t refinement = {pointer->id, is_null};
    state_for_each_reg(state, refine_null, &refinement);
    if (is_null && ref_id)
        release_reference(state, ref_id);
}

typedef struct range_refinement {
    uint8_t type;
    uint32_t id;
    uint32_t range;
} range_refinement_t;

static void refine_range(reg_t *reg, void *context)
{
    const range_refinement_t *refinement = context;
    if (reg->type == refinement->type && reg->id == refinement->id &&
        reg->range < refinement->range)
        reg->range = refinement->range;
}

/* pointer + bytes <= limit holds: every pointer sharing its variable part may access that
 * many bytes from the variable base. */
static void prove_packet_range(state_t *state, const reg_t *pointer, bool strict)
{
    int64_t range = (int64_t)pointer->off + (strict ? 1 : 0);
    if (pointer->off < 0 || range > VERIFIER_MAX_PACKET_OFFSET)
        return;
    range_refinement_t refinement = {pointer->type, pointer->id, (uint32_t)range};
    state_for_each_reg(state, refine_range, &refinement);
}

/* Which fact about "pointer vs limit" a branch side proves: 0 none, 1 pointer <= limit, 2
 * pointer < limit. pointer_is_dst says which operand is the packet pointer. */
static int packet_fact(uint8_t op, bool pointer_is_dst, bool taken)
{
    /* Normalise to "pointer OP limit". */
    if (!pointer_is_dst) {
        switch (op) {
        case BPF_JGT:
            op = BPF_JLT;
            break;
        case BPF_JGE:
            op = BPF_JLE;
            break;
        case BPF_JLT:
            op = BPF_JGT;
            break;
        case BPF_JLE:
            op = BPF_JGE;
            break;
        default:
            break;
        }
    }
    switch (op) {
    case BPF_JGT: /* pointer > limit; else pointer <= limit */
        return taken ? 0 : 1;
    case BPF_JGE: /* else pointer < limit */
        return taken ? 0 : 2;
    case BPF_JLT:
        return taken ? 2 : 0;
    case BPF_JLE:
        return taken ? 1 : 0;
    case BPF_JEQ:
        return taken ? 1 : 0;
    case BPF_JNE:
        return taken ? 0 : 1;
    default:
        return 0;
    }
}

/* Is this comparison "packet pointer vs its limit"? Sets *pointer_is_dst. */
static bool is_packet_bound_check(const reg_t *dst, const reg_t *src, bool *pointer_is_dst)
{
    if ((dst->type == REG_PACKET && src->type == REG_PACKET_END) ||
        (dst->type == REG_PACKET_META && src->type == REG_PACKET && src->id == 0 &&
         src->off == 0)) {
        *pointer_is_dst = true;
        return true;
    }
    if ((src->type == REG_PACKET && dst->type == REG_PACKET_END) ||
        (src->type == REG_PACKET_META && dst->type == REG_PACKET && dst->id == 0 &&
         dst->off == 0)) {
        *pointer_is_dst = false;
        return true;
    }
    return false;
}

static bool is_zero(const reg_t *reg)
{
    return reg->type == REG_SCALAR && scalar_is_constant(&reg->value) && reg->value.value == 0;
}

/* The comparison with the operands swapped: "k op v" is "v mirrored(op) k". */
static uint8_t mirrored_condition(uint8_t op)
{
    switch (op) {
    case BPF_JGT:
        return BPF_JLT;
    case BPF_JGE:
        return BPF_JLE;
    case BPF_JLT:
        return BPF_JGT;
    case BPF_JLE:
        return BPF_JGE;
    case BPF_JSGT:
        return BPF_JSLT;
    case BPF_JSGE:
        return BPF_JSLE;
    case BPF_JSLT:
        return BPF_JSGT;
    case BPF_JSLE:
        return BPF_JSGE;
    default:
        return op; /* JEQ, JNE, JSET */
    }
}

/* A comparison of scalars decided by their ranges. When one side is a constant, the proof below
 * relies on the other only being among the values that decide it the same way: pruning may then
 * take a state whose range is not inside the checkpoint's (the ranges of two joined arms of an
 * earlier branch), as long as it decides this the same way. The constant is relied on exactly. */
static void mark_decided_comparison(verifier_t *verifier, state_t *state,
                                    const struct bpf_insn *insn, branch_outcome_t outcome)
{
    const frame_t *frame = state_top(state);
    bool jmp32 = BPF_CLASS(insn->code) == BPF_JMP32;
    uint8_t op = BPF_OP(insn->code);
    unsigned regno = insn->dst_reg;
    uint64_t k = (uint64_t)(int64_t)insn->imm;
    uint16_t exact = 0;

    if (BPF_SRC(insn->code) == BPF_X) {
        const scalar_t *dst = &frame->regs[insn->dst_reg].value;
        const scalar_t *src = &frame->regs[insn->src_reg].value;
        bool dst_constant = jmp32 ? scalar_is_constant_32(dst) : scalar_is_constant(dst);
        bool src_constant = jmp32 ? scalar_is_constant_32(src) : scalar_is_constant(src);
        if (src_constant) {
            k = src->value;
            exact = (uint16_t)(1u << insn->src_reg);
        } else if (dst_constant) {
            k = dst->value;
            exact = (uint16_t)(1u << insn->dst_reg);
            regno = insn->src_reg;
            op = mirrored_condition(op);
        } else {
            verifier_mark_precise(verifier, state,
                                  (uint16_t)((1u << insn->dst_reg) | (1u << insn->src_reg)));
            return;
        }
    }
    scalar_t bound;
    if (scalar_decision_bound(&frame->regs[regno].value, k, op, jmp32, outcome == BRANCH_ALWAYS,
                              &bound))
        verifier_mark_bounded(verifier, state, regno, &bound);
    else
        exact |= (uint16_t)(1u << regno);
    if (exact)
        verifier_mark_precise(verifier, state, exact);
}

static int check_conditional_jump(verifier_t *verifier, state_t *state, uint32_t pc,
                                  step_result_t *result)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    frame_t *frame = state_top(state);
    bool source_register = BPF_SRC(insn->code) == BPF_X;
    bool jmp32 = BPF_CLASS(insn->code) == BPF_JMP32;
    uint8_t op = BPF_OP(insn->code);
    uint32_t target = (uint32_t)((int64_t)pc + 1 + insn->off);
    reg_t immediate;
    const reg_t *dst = &frame->regs[insn->dst_reg], *src = &immediate;
    branch_outcome_t outcome = BRANCH_UNKNOWN;
    int err;

    if ((err = verifier_check_readable(verifier, state, pc, insn->dst_reg)) != 0)
        return err;
    if (source_register) {
        if ((err = verifier_check_readable(verifier, state, pc, insn->src_reg)) != 0)
            return err;
        src = &frame->regs[insn->src_reg];
    } else {
        reg_mark_constant(&immediate, (uint64_t)(int64_t)insn->imm);
    }

    enum { PLAIN, SCALARS, NULL_CHECK, PACKET_CHECK } kind = PLAIN;
    const reg_t *pointer = NULL;
    bool pointer_is_dst = false;
    if (dst->type == REG_SCALAR && src->type == REG_SCALAR) {
        kind = SCALARS;
        outcome = scalar_branch_outcome(&dst->value, &src->value, op, jmp32);
    } else if (!jmp32 && (op == BPF_JEQ || op == BPF_JNE) &&
               ((is_pointer(dst) && is_zero(src)) || (is_pointer(src) && is_zero(dst)))) {
        pointer = is_pointer(dst) ? dst : src;
        if (pointer->maybe_null) {
            kind = NULL_CHECK;
        } else {
            /* A pointer that cannot be NULL never equals 0. */
            outcome = op == BPF_JEQ ? BRANCH_NEVER : BRANCH_ALWAYS;
        }
    } else if (!jmp32 && is_packet_bound_check(dst, src, &pointer_is_dst)) {
        kind = PACKET_CHECK;
        pointer = pointer_is_dst ? dst : src;
    }

    /* The registers whose values decide or shape this branch. */
    uint16_t operands =
        (uint16_t)((kind == SCALARS ? 1u << insn->dst_reg : 0) |
                   (source_register && src->type == REG_SCALAR ? 1u << insn->src_reg : 0));
    if (kind != SCALARS && is_zero(dst))
        operands |= (uint16_t)(1u << insn->dst_reg);
    bool distance = kind == SCALARS && (dst->packet_distance || src->packet_distance);
    if (outcome != BRANCH_UNKNOWN && kind == SCALARS && !distance)
        mark_decided_comparison(verifier, state, insn, outcome);
    else if (outcome != BRANCH_UNKNOWN || kind == NULL_CHECK || distance)
        verifier_mark_precise(verifier, state, operands);
    if (outcome == BRANCH_ALWAYS) {
        result->next_pc = target;
        return 0;
    }
    if (outcome == BRANCH_NEVER)
        return 0;

    /* Both sides are possible: the taken side goes into a copy. */
    reg_t pointer_copy = pointer ? *pointer : immediate;
    state_t *taken = state_copy_compact(verifier, state);
    if (!taken)
        return -ENOMEM;
    bool taken_feasible = true, fallthrough_feasible = true;
    switch (kind) {
    case SCALARS:
        taken_feasible = refine_scalars(verifier, taken, insn, true);
        fallthrough_feasible = refine_scalars(verifier, state, insn, false);
        break;
    case NULL_CHECK:
        /* "pointer == 0" taken: NULL there, not NULL on the other side. */
        mark_null_or_not(taken, &pointer_copy, op == BPF_JEQ);
        mark_null_or_not(state, &pointer_copy, op != BPF_JEQ);
        break;
    case PACKET_CHECK: {
        int fact = packet_fact(op, pointer_is_dst, true);
        if (fact)
            prove_packet_range(taken, &pointer_copy, fact == 2);
        fact = packet_fact(op, pointer_is_dst, false);
        if (fact)
            prove_packet_range(state, &pointer_copy, fact == 2);
        break;
    }
    default:
        break;
    }
    if (!taken_feasible || !fallthrough_feasible)
        verifier_mark_precise(verifier, state, operands);
    if (!taken_feasible) {
        state_free(taken);
        return 0;
    }
    if (!fallthrough_feasible) {
        state_copy_into(state, taken);
        state_free(taken);
        result->next_pc = target;
        return 0;
    }
    result->branch = taken;
    result->branch_pc = target;
    return 0;
}

/* ---- calls and exits ---- */

static int check_local_call(verifier_t *verifier, state_t *state, uint32_t pc,
                            step_result_t *result)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    uint32_t target = (uint32_t)((int64_t)pc + 1 + insn->imm);
    frame_t *caller = state_top(state);

    if (state->frame_count >= VERIFIER_MAX_FRAMES)
        return verifier_reject(verifier, pc,
                               "call depth: this call would make more than %d nested frames",
                               VERIFIER_MAX_FRAMES);
    if (state_reserve_frame(verifier, state, state->frame_count) != 0)
        return -ENOMEM;
    frame_t *callee = state->frames[state->frame_count];
    for (int r = 0; r < VERIFIER_REGISTER_COUNT; r++)
        reg_mark_not_init(&callee->regs[r], UNINIT_NEVER_WRITTEN);
    for (int r = BPF_REG_1; r <= BPF_REG_5; r++) {
        callee->regs[r] = caller->regs[r];
        reg_mark_not_init(&caller->regs[r], UNINIT_CLOBBERED_BY_CALL);
    }
    reg_mark_not_init(&caller->regs[BPF_REG_0], UNINIT_CLOBBERED_BY_CALL);
    reg_t *fp = &callee->regs[BPF_REG_10];
    fp->type = REG_STACK;
    fp->frame = (uint8_t)state->frame_count;
    scalar_constant(&fp->value, 0);
    callee->callsite = pc;
    callee->function = verifier->function_of[target];
    callee->slot_count = 0;
    /* A new frame: nothing read in it comes from a frame that had this level before. */
    if (!verifier->replaying)
        verifier->slots_written[state->frame_count] = UINT64_MAX;
    state->frame_count++;
    result->next_pc = target;
    return 0;
}

typedef struct frame_pointer_search {
    uint8_t frame;
    bool found;
} frame_pointer_search_t;

static void find_frame_pointer(reg_t *reg, void *context)
{
    frame_pointer_search_t *search = context;
    if (reg->type == REG_STACK && reg->frame == search->frame)
        search->found = true;
}

static int check_exit(verifier_t *verifier, state_t *state, uint32_t pc, step_result_t *result)
{
    frame_t *frame = state_top(state);
    reg_t *r0 = &frame->regs[BPF_REG_0];

    if (r0->type == REG_NOT_INIT)
        return verifier_reject(verifier, pc, "r0 is not set before exit");
    if (state->frame_count == 1) {
        if (is_pointer(r0))
            return verifier_reject(verifier, pc,
                                   "returning r0 (%s) from the program leaks a pointer: the "
                                   "program must return a scalar",
                                   reg_type_name(r0));
        if (state->reference_count)
            return verifier_reject(verifier, pc,
                                   "unreleased reference: the ring buffer record reserved at "
                                   "instruction %u is neither submitted nor discarded on this "
                                   "path",
                                   state->references[0].pc);
        result->path_done = true;
        return 0;
    }
    uint8_t ending = (uint8_t)(state->frame_count - 1);
    if (r0->type == REG_STACK && r0->frame == ending)
        return verifier_reject(verifier, pc,
                               "the function returns a pointer to its own stack, which ends "
                               "with the call");
    /* Nothing that outlives the frame may point into it. */
    frame_pointer_search_t search = {ending, false};
    state->frame_count--;
    state_for_each_reg(state, find_frame_pointer, &search);
    state->frame_count++;
    if (search.found)
        return verifier_reject(verifier, pc,
                               "a pointer to the stack of the returning function is kept by a "
                               "caller, and that stack ends with the call");
    frame_t *caller = state->frames[state->frame_count - 2];
    caller->regs[BPF_REG_0] = *r0;
    for (int r = BPF_REG_1; r <= BPF_REG_5; r++)
        reg_mark_not_init(&caller->regs[r], UNINIT_CLOBBERED_BY_CALL);
    result->next_pc = frame->callsite + 1;
    state->frame_count--;
    return 0;
}

int verifier_step(verifier_t *verifier, state_t *state, uint32_t pc, step_result_t *result)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    uint8_t op = BPF_OP(insn->code);

    result->next_pc = pc + 1;
    result->path_done = false;
    result->branch = NULL;
    switch (BPF_CLASS(insn->code)) {
    case BPF_LD:
        load_immediate(verifier, state, pc);
        result->next_pc = pc + 2;
        return 0;
    case BPF_LDX:
        return verifier_check_load(verifier, state, pc);
    case BPF_ST:
        return verifier_check_store(verifier, state, pc);
    case BPF_STX:
        if (BPF_MODE(insn->code) == BPF_ATOMIC)
            return verifier_check_atomic(verifier, state, pc);
        return verifier_check_store(verifier, state, pc);
    case BPF_ALU:
    case BPF_ALU64:
        return check_alu(verifier, state, pc);
    default:
        break;
    }
    if (insn->code == (BPF_JMP | BPF_JA)) {
        result->next_pc = (uint32_t)((int64_t)pc + 1 + insn->off);
        return 0;
    }
    if (insn->code == OP_GOTOL) {
        result->next_pc = (uint32_t)((int64_t)pc + 1 + insn->imm);
        return 0;
    }
    if (op == BPF_EXIT)
        return check_exit(verifier, state, pc, result);
    if (op == BPF_CALL) {
        if (BPF_SRC(insn->code) == BPF_X) {
            unsigned regno = insn->dst_reg ? insn->dst_reg : (unsigned)insn->imm;
            const reg_t *target = &state_top(state)->regs[regno];
            int err = verifier_check_readable(verifier, state, pc, regno);
            if (err)
                return err;
            if (target->type != REG_SCALAR || !scalar_is_constant(&target->value) ||
                target->value.value > UINT32_MAX)
                return verifier_reject(verifier, pc,
                                       "callx r%u: the helper id must be a known constant", regno);
            verifier_mark_precise(verifier, state, (uint16_t)(1u << regno));
            return verifier_check_helper_call(verifier, state, pc, (uint32_t)target->value.value);
        }
        if (insn->src_reg == BPF_PSEUDO_CALL)
            return check_local_call(verifier, state, pc, result);
        return verifier_check_helper_call(verifier, state, pc, (uint32_t)insn->imm);
    }
    return check_conditional_jump(verifier, state, pc, result);
}
