/* Abstract states: the working state, compact copies kept for later, and state inclusion. */
#include <errno.h>
#include <string.h>

#include "ebpf_platform.h"
#include "verifier_private.h"

uint32_t verifier_new_id(verifier_t *verifier)
{
    return ++verifier->next_id;
}

void reg_mark_not_init(reg_t *reg, uninit_reason_t reason)
{
    memset(reg, 0, sizeof(*reg));
    reg->type = REG_NOT_INIT;
    reg->uninit_reason = (uint8_t)reason;
}

void reg_mark_unknown(reg_t *reg)
{
    memset(reg, 0, sizeof(*reg));
    reg->type = REG_SCALAR;
    scalar_unknown(&reg->value);
}

void reg_mark_constant(reg_t *reg, uint64_t value)
{
    memset(reg, 0, sizeof(*reg));
    reg->type = REG_SCALAR;
    scalar_constant(&reg->value, value);
}

void frame_grow(frame_t *frame, int32_t off)
{
    uint32_t index = (uint32_t)((-(int64_t)off - 1) / 8);
    if (index < frame->slot_count)
        return;
    memset(&frame->slots[frame->slot_count], 0,
           (index + 1 - frame->slot_count) * sizeof(stack_slot_t));
    frame->slot_count = index + 1;
}

int state_reserve_frame(verifier_t *verifier, state_t *state, uint32_t index)
{
    if (state->frames[index])
        return 0;
    frame_t *frame = ebpf_allocate(sizeof(*frame) + VERIFIER_STACK_SLOTS * sizeof(stack_slot_t));
    if (!frame)
        return verifier_out_of_memory(verifier);
    frame->slots = (stack_slot_t *)(frame + 1);
    state->frames[index] = frame;
    return 0;
}

/* The working state gets its frames as calls need them; they stay until the end, so any
 * state copied from it fits back in. */
int state_create_working(verifier_t *verifier, state_t **out)
{
    state_t *state = ebpf_allocate(sizeof(*state));
    if (!state)
        return verifier_out_of_memory(verifier);
    if (state_reserve_frame(verifier, state, 0) != 0) {
        ebpf_free(state);
        return -ENOMEM;
    }
    *out = state;
    return 0;
}

void state_destroy_working(state_t *state)
{
    if (!state)
        return;
    for (uint32_t i = 0; i < VERIFIER_MAX_FRAMES; i++)
        ebpf_free(state->frames[i]);
    ebpf_free(state);
}

/* One allocation: the state, then its frames, then each frame's slots. */
state_t *state_copy_compact(verifier_t *verifier, const state_t *source)
{
    size_t size = sizeof(state_t) + source->frame_count * sizeof(frame_t);
    for (uint32_t i = 0; i < source->frame_count; i++)
        size += source->frames[i]->slot_count * sizeof(stack_slot_t);
    uint8_t *block = ebpf_allocate(size);
    if (!block) {
        verifier_out_of_memory(verifier);
        return NULL;
    }
    state_t *copy = (state_t *)block;
    frame_t *frames = (frame_t *)(copy + 1);
    stack_slot_t *slots = (stack_slot_t *)(frames + source->frame_count);
    copy->frame_count = source->frame_count;
    copy->reference_count = source->reference_count;
    memcpy(copy->references, source->references,
           source->reference_count * sizeof(source->references[0]));
    for (uint32_t i = 0; i < source->frame_count; i++) {
        const frame_t *from = source->frames[i];
        frame_t *to = &frames[i];
        memcpy(to->regs, from->regs, sizeof(to->regs));
        to->callsite = from->callsite;
        to->function = from->function;
        to->slot_count = from->slot_count;
        to->slots = slots;
        memcpy(slots, from->slots, from->slot_count * sizeof(stack_slot_t));
        slots += from->slot_count;
        copy->frames[i] = to;
    }
    return copy;
}

void state_copy_into(state_t *destination, const state_t *source)
{
    destination->frame_count = source->frame_count;
    destination->reference_count = source->reference_count;
    memcpy(destination->references, source->references,
           source->reference_count * sizeof(source->references[0]));
    for (uint32_t i = 0; i < source->frame_count; i++) {
        const frame_t *from = source->frames[i];
        frame_t *to = destination->frames[i];
        memcpy(to->regs, from->regs, sizeof(to->regs));
        to->callsite = from->callsite;
        to->function = from->function;
        to->slot_count = from->slot_count;
        memcpy(to->slots, from->slots, from->slot_count * sizeof(stack_slot_t));
    }
}

void state_free(state_t *state)
{
    ebpf_free(state);
}

static bool slot_has_spill(const stack_slot_t *slot)
{
    for (int i = 0; i < 8; i++)
        if (slot->bytes[i] == STACK_SPILL)
            return true;
    return false;
}

void state_for_each_reg(state_t *state, void (*visit)(reg_t *reg, void *context), void *context)
{
    for (uint32_t i = 0; i < state->frame_count; i++) {
        frame_t *frame = state->frames[i];
        for (int r = 0; r < VERIFIER_REGISTER_COUNT; r++)
            visit(&frame->regs[r], context);
        for (uint32_t s = 0; s < frame->slot_count; s++)
            if (slot_has_spill(&frame->slots[s]))
                visit(&frame->slots[s].spill, context);
    }
}

/* Registers whose value matters in frame i from here on: the live ones in the top frame, and
 * in a caller the preserved registers its continuation reads. */
static uint16_t live_in_frame(const verifier_t *verifier, const state_t *state, uint32_t i,
                              uint32_t pc)
{
    if (i + 1 == state->frame_count)
        return verifier->live[pc];
    uint32_t resume = state->frames[i + 1]->callsite + 1;
    return (uint16_t)(verifier->live[resume] & 0x3c0);
}

typedef struct id_count {
    uint32_t id;
    uint32_t count;
} id_count_t;

#define LONELY_ID_CAPACITY 64

static void count_id(id_count_t *counts, uint32_t *used, const reg_t *reg)
{
    if (reg->type != REG_SCALAR || reg->id == 0)
        return;
    for (uint32_t i = 0; i < *used; i++) {
        if (counts[i].id == reg->id) {
            counts[i].count++;
            return;
        }
    }
    if (*used < LONELY_ID_CAPACITY)
        counts[(*used)++] = (id_count_t){reg->id, 1};
}

static void clear_if_lonely(const id_count_t *counts, uint32_t used, reg_t *reg)
{
    if (reg->type != REG_SCALAR || reg->id == 0)
        return;
    for (uint32_t i = 0; i < used; i++) {
        if (counts[i].id == reg->id) {
            if (counts[i].count == 1)
                reg->id = 0;
            return;
        }
    }
}

void state_drop_lonely_ids(verifier_t *verifier, state_t *state, uint32_t pc)
{
    id_count_t counts[LONELY_ID_CAPACITY];
    uint32_t used = 0;

    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < state->frame_count; i++) {
            frame_t *frame = state->frames[i];
            uint16_t live = live_in_frame(verifier, state, i, pc);
            for (int r = 0; r < BPF_REG_10; r++) {
                reg_t *reg = &frame->regs[r];
                if (!(live & (1u << r))) {
                    if (pass == 1 && reg->type == REG_SCALAR)
                        reg->id = 0;
                    continue;
                }
                if (pass == 0)
                    count_id(counts, &used, reg);
                else
                    clear_if_lonely(counts, used, reg);
            }
            for (uint32_t s = 0; s < frame->slot_count; s++) {
                if (!slot_has_spill(&frame->slots[s]))
                    continue;
                if (pass == 0)
                    count_id(counts, &used, &frame->slots[s].spill);
                else
                    clear_if_lonely(counts, used, &frame->slots[s].spill);
            }
        }
        if (used == LONELY_ID_CAPACITY)
            return; /* too many to tell: keep them all */
        if (pass == 0 && used == 0)
            return;
    }
}

/* ---- stack liveness ---- */

void verifier_note_slots_read(verifier_t *verifier, uint32_t frame, uint64_t slots)
{
    if (verifier->replaying)
        return;
    slots &= ~verifier->slots_written[frame];
    for (checkpoint_t *checkpoint = verifier->current_checkpoint; checkpoint && slots;
         checkpoint = checkpoint->parent) {
        /* Slots it has already were passed further up when they were marked. */
        slots &= ~checkpoint->slots_read[frame];
        checkpoint->slots_read[frame] |= slots;
        slots &= ~checkpoint->slots_written[frame];
    }
}

void verifier_note_stack_read(verifier_t *verifier, uint32_t frame, int64_t start, int64_t end)
{
    if (start >= end || end > 0 || start < -VERIFIER_FRAME_SIZE)
        return; /* out of the frame: rejected, nothing to mark */
    uint32_t first = (uint32_t)(-end / 8), last = (uint32_t)((-start - 1) / 8);
    uint64_t slots = (last == 63 ? UINT64_MAX : (1ull << (last + 1)) - 1) & ~((1ull << first) - 1);
    verifier_note_slots_read(verifier, frame, slots);
}

void verifier_note_slot_written(verifier_t *verifier, uint32_t frame, uint32_t index)
{
    if (!verifier->replaying)
        verifier->slots_written[frame] |= 1ull << index;
}

/* ---- inclusion ---- */

#define ID_MAP_CAPACITY 128

typedef struct id_map {
    uint32_t old_ids[ID_MAP_CAPACITY];
    uint32_t cur_ids[ID_MAP_CAPACITY];
    uint32_t count;
} id_map_t;

/* Ids of the two states must correspond one to one. */
static bool ids_match(id_map_t *map, uint32_t old_id, uint32_t cur_id)
{
    if (old_id == 0 || cur_id == 0)
        return old_id == cur_id;
    for (uint32_t i = 0; i < map->count; i++) {
        if (map->old_ids[i] == old_id)
            return map->cur_ids[i] == cur_id;
        if (map->cur_ids[i] == cur_id)
            return false;
    }
    if (map->count == ID_MAP_CAPACITY)
        return false;
    map->old_ids[map->count] = old_id;
    map->cur_ids[map->count] = cur_id;
    map->count++;
    return true;
}

static bool offsets_included(const reg_t *old, const reg_t *cur, bool exact)
{
    if (old->off != cur->off)
        return false;
    return exact ? scalar_equal(&old->value, &cur->value)
                 : scalar_included(&old->value, &cur->value);
}

/* bound: the checkpoint's bound when old is a bounded scalar, else NULL. */
static bool reg_included(const reg_t *old, const reg_t *cur, bool exact, const scalar_t *bound,
                         id_map_t *ids)
{
    if (old->type == REG_NOT_INIT)
        return !exact || cur->type == REG_NOT_INIT;
    if (old->type != cur->type || old->maybe_null != cur->maybe_null)
        return false;
    if (old->maybe_null && !ids_match(ids, old->id, cur->id))
        return false;
    switch (old->type) {
    case REG_SCALAR:
        /* Nothing below the old state relied on this value: any scalar is as good. */
        if (!exact && !old->precise && !old->bounded)
            return true;
        if (old->packet_distance &&
            (!cur->packet_distance || old->distance_off != cur->distance_off ||
             !ids_match(ids, old->distance_id, cur->distance_id)))
            return false;
        if (exact) {
            if (!scalar_equal(&old->value, &cur->value) ||
                old->packet_distance != cur->packet_distance)
                return false;
            return (old->id == 0 && cur->id == 0) || ids_match(ids, old->id, cur->id);
        }
        /* A link the old state relied on must exist in the new one too. */
        if (scalar_included(&old->value, &cur->value) &&
            (old->id == 0 || ids_match(ids, old->id, cur->id)))
            return true;
        /* A bounded scalar may also lie outside old's range: the paths below used its value
         * only to decide branches, and every value in the bound decides them all as they did,
         * whatever it is linked to. (A range inside old's relies on old's links instead, and on
         * the registers it was compared with, which were marked precise for that.) */
        return !old->precise && bound && scalar_included(bound, &cur->value);
    case REG_CTX:
        return old->off == cur->off;
    case REG_STACK:
        return old->frame == cur->frame && offsets_included(old, cur, exact);
    case REG_PACKET:
    case REG_PACKET_META:
        if (!offsets_included(old, cur, exact) || !ids_match(ids, old->id, cur->id))
            return false;
        return exact ? old->range == cur->range : cur->range >= old->range;
    case REG_PACKET_END:
        return true;
    case REG_MAP_PTR:
        return old->map == cur->map;
    case REG_MAP_VALUE:
        return old->map == cur->map && offsets_included(old, cur, exact);
    case REG_ALLOC_MEM:
        return old->mem_size == cur->mem_size && offsets_included(old, cur, exact) &&
               ids_match(ids, old->ref_id, cur->ref_id);
    default:
        return false;
    }
}

static const stack_slot_t invalid_slot;

static bool slot_included(const stack_slot_t *old, const stack_slot_t *cur, bool exact,
                          const scalar_t *bound, id_map_t *ids)
{
    bool old_spill = slot_has_spill(old), cur_spill = slot_has_spill(cur);

    if (exact)
        return memcmp(old->bytes, cur->bytes, 8) == 0 &&
               (!old_spill || reg_included(&old->spill, &cur->spill, true, NULL, ids));
    if (old_spill && old->spill.type == REG_SCALAR && !old->spill.precise && !old->spill.bounded) {
        /* Some value nothing relied on: any initialised bytes that read as a scalar do. */
        for (int i = 0; i < 8; i++) {
            uint8_t c = cur->bytes[i];
            if (old->bytes[i] == STACK_SPILL &&
                (c == STACK_INVALID || c == STACK_POINTER_PART ||
                 (c == STACK_SPILL && cur->spill.type != REG_SCALAR)))
                return false;
        }
    } else if (old_spill) {
        for (int i = 0; i < 8; i++)
            if ((old->bytes[i] == STACK_SPILL) != (cur->bytes[i] == STACK_SPILL))
                return false;
        if (!reg_included(&old->spill, &cur->spill, false, bound, ids))
            return false;
    }
    for (int i = 0; i < 8; i++) {
        uint8_t o = old->bytes[i], c = cur->bytes[i];
        switch (o) {
        case STACK_INVALID:
        case STACK_POINTER_PART:
        case STACK_SPILL:
            break;
        case STACK_MISC:
            if (c == STACK_INVALID || c == STACK_POINTER_PART)
                return false;
            /* A spilled pointer reads differently from some value. */
            if (c == STACK_SPILL && (!cur_spill || cur->spill.type != REG_SCALAR))
                return false;
            break;
        case STACK_ZERO:
            if (c != STACK_ZERO)
                return false;
            break;
        default:
            return false;
        }
    }
    return true;
}

const scalar_bound_t *checkpoint_find_bound(const checkpoint_t *checkpoint, uint32_t frame,
                                            int32_t slot, uint32_t regno)
{
    for (uint32_t i = 0; i < checkpoint->bound_count; i++) {
        const scalar_bound_t *bound = &checkpoint->bounds[i];
        if (bound->frame == frame && bound->slot == slot && (slot >= 0 || bound->regno == regno))
            return bound;
    }
    return NULL;
}

void checkpoint_free_bounds(checkpoint_t *checkpoint)
{
    ebpf_free(checkpoint->bounds);
    checkpoint->bounds = NULL;
    checkpoint->bound_count = 0;
    checkpoint->bound_capacity = 0;
}

/* The bound of a bounded scalar of the checkpoint (NULL otherwise, or in exact comparisons). */
static const scalar_t *bound_of(const checkpoint_t *checkpoint, const reg_t *reg, bool exact,
                                uint32_t frame, int32_t slot, uint32_t regno)
{
    if (exact || reg->type != REG_SCALAR || !reg->bounded || reg->precise)
        return NULL;
    const scalar_bound_t *bound = checkpoint_find_bound(checkpoint, frame, slot, regno);
    return bound ? &bound->bound : NULL;
}

bool state_included(const verifier_t *verifier, const checkpoint_t *checkpoint, const state_t *cur,
                    uint32_t pc, bool exact)
{
    const state_t *old = checkpoint->state;
    id_map_t ids;

    ids.count = 0;
    if (old->frame_count != cur->frame_count || old->reference_count != cur->reference_count)
        return false;
    for (uint32_t i = 0; i < old->frame_count; i++) {
        const frame_t *old_frame = old->frames[i], *cur_frame = cur->frames[i];
        if (old_frame->callsite != cur_frame->callsite)
            return false;
    }
    for (uint32_t i = 0; i < old->reference_count; i++)
        if (!ids_match(&ids, old->references[i].id, cur->references[i].id))
            return false;
    for (uint32_t i = old->frame_count; i-- > 0;) {
        const frame_t *old_frame = old->frames[i], *cur_frame = cur->frames[i];
        uint16_t live = live_in_frame(verifier, old, i, pc);
        for (int r = 0; r < BPF_REG_10; r++) {
            if (!(live & (1u << r)))
                continue;
            const reg_t *old_reg = &old_frame->regs[r];
            const scalar_t *bound = bound_of(checkpoint, old_reg, exact, i, -1, (uint32_t)r);
            if (!reg_included(old_reg, &cur_frame->regs[r], exact, bound, &ids))
                return false;
        }
        uint32_t slots = old_frame->slot_count > cur_frame->slot_count ? old_frame->slot_count
                                                                       : cur_frame->slot_count;
        for (uint32_t s = 0; s < slots; s++) {
            /* A slot no path below the checkpoint read before overwriting it may hold anything. */
            if (!exact && !(checkpoint->slots_read[i] & (1ull << s)))
                continue;
            const stack_slot_t *o =
                s < old_frame->slot_count ? &old_frame->slots[s] : &invalid_slot;
            const stack_slot_t *c =
                s < cur_frame->slot_count ? &cur_frame->slots[s] : &invalid_slot;
            const scalar_t *bound = s < old_frame->slot_count
                                        ? bound_of(checkpoint, &o->spill, exact, i, (int32_t)s, 0)
                                        : NULL;
            if (!slot_included(o, c, exact, bound, &ids))
                return false;
        }
    }
    return true;
}

/* ---- hashing for exact comparisons ---- */

static uint64_t mix(uint64_t hash, uint64_t value)
{
    hash ^= value + 0x9e3779b97f4a7c15ull + (hash << 6) + (hash >> 2);
    return hash;
}

/* What exact inclusion compares, without the ids (which only need to correspond). */
static uint64_t reg_hash(uint64_t hash, const reg_t *reg)
{
    hash = mix(hash, reg->type);
    if (reg->type == REG_NOT_INIT)
        return hash;
    const scalar_t *value = &reg->value;
    hash = mix(hash, ((uint64_t)reg->maybe_null << 8) | reg->frame);
    hash = mix(hash, (uint64_t)(uint32_t)reg->off);
    hash = mix(hash, ((uint64_t)reg->range << 32) | reg->mem_size);
    hash = mix(hash, (uint64_t)(uintptr_t)reg->map);
    hash = mix(hash, ((uint64_t)reg->packet_distance << 32) | (uint32_t)reg->distance_off);
    hash = mix(hash, value->umin);
    hash = mix(hash, value->umax);
    hash = mix(hash, (uint64_t)value->smin);
    hash = mix(hash, (uint64_t)value->smax);
    hash = mix(hash, ((uint64_t)value->u32min << 32) | value->u32max);
    hash = mix(hash, ((uint64_t)(uint32_t)value->s32min << 32) | (uint32_t)value->s32max);
    hash = mix(hash, value->value);
    return mix(hash, value->mask);
}

uint64_t state_hash(const verifier_t *verifier, const state_t *state, uint32_t pc)
{
    uint64_t hash = mix(state->frame_count, state->reference_count);

    for (uint32_t i = 0; i < state->frame_count; i++) {
        const frame_t *frame = state->frames[i];
        uint16_t live = live_in_frame(verifier, state, i, pc);
        hash = mix(hash, frame->callsite);
        for (int r = 0; r < BPF_REG_10; r++)
            if (live & (1u << r))
                hash = reg_hash(mix(hash, (uint64_t)r), &frame->regs[r]);
        for (uint32_t s = 0; s < frame->slot_count; s++) {
            const stack_slot_t *slot = &frame->slots[s];
            uint64_t bytes;
            memcpy(&bytes, slot->bytes, sizeof(bytes));
            if (bytes == 0)
                continue;
            hash = mix(mix(hash, s), bytes);
            if (slot_has_spill(slot))
                hash = reg_hash(hash, &slot->spill);
        }
    }
    return hash;
}
