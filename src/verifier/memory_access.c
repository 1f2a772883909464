/* Memory accesses: loads, stores and atomics through every kind of pointer, and the stack model. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ebpf_platform.h"
#include "verifier_private.h"

#define MODE_MEMSX 0x80

static unsigned size_of(uint8_t code)
{
    switch (BPF_SIZE(code)) {
    case BPF_B:
        return 1;
    case BPF_H:
        return 2;
    case BPF_W:
        return 4;
    default:
        return 8;
    }
}

/* ---- the stack ---- */

static stack_slot_t *slot_at(frame_t *frame, int64_t off)
{
    return &frame->slots[(-off - 1) / 8];
}

static unsigned byte_in_slot(int64_t off)
{
    int64_t index = (-off - 1) / 8;
    return (unsigned)(off + 8 * (index + 1));
}

static bool slot_has_spill(const stack_slot_t *slot)
{
    for (int i = 0; i < 8; i++)
        if (slot->bytes[i] == STACK_SPILL)
            return true;
    return false;
}

/* A spill partly overwritten is gone: the rest of a scalar is some value, the rest of a pointer
 * must never be read (it would leak the pointer's bits). */
static void destroy_spill(stack_slot_t *slot)
{
    uint8_t rest = slot->spill.type == REG_SCALAR ? STACK_MISC : STACK_POINTER_PART;
    for (int i = 0; i < 8; i++)
        if (slot->bytes[i] == STACK_SPILL)
            slot->bytes[i] = rest;
    memset(&slot->spill, 0, sizeof(slot->spill));
}

static void stack_set_bytes(frame_t *frame, int64_t start, unsigned size, uint8_t kind)
{
    for (int64_t off = start; off < start + (int64_t)size; off++) {
        stack_slot_t *slot = slot_at(frame, off);
        unsigned byte = byte_in_slot(off);
        if (slot->bytes[byte] == STACK_SPILL)
            destroy_spill(slot);
        slot->bytes[byte] = kind;
    }
}

static void note_stack_depth(verifier_t *verifier, const frame_t *frame, int64_t lowest)
{
    function_info_t *function = &verifier->functions[frame->function];
    if ((uint64_t)-lowest > function->stack_depth)
        function->stack_depth = (uint32_t)-lowest;
}

/* The byte range [min, max) a pointer access may touch, from the pointer's offsets. */
typedef struct span {
    int64_t min, max;
    bool bounded;
} span_t;

static span_t access_span(const reg_t *reg, int64_t insn_off, uint64_t size)
{
    span_t span = {0, 0, false};
    if (reg->value.smin < -VERIFIER_MAX_POINTER_OFFSET ||
        reg->value.smax > VERIFIER_MAX_POINTER_OFFSET || size > (1u << 29))
        return span;
    span.min = reg->off + insn_off + reg->value.smin;
    span.max = reg->off + insn_off + reg->value.smax + (int64_t)size;
    span.bounded = true;
    return span;
}

static bool variable_offset(const reg_t *reg)
{
    return !scalar_is_constant(&reg->value);
}

static int check_stack_bounds(verifier_t *verifier, uint32_t pc, const char *what, unsigned regno,
                              const reg_t *reg, int64_t insn_off, uint64_t size, span_t *span)
{
    *span = access_span(reg, insn_off, size);
    if (!span->bounded)
        return verifier_reject(verifier, pc,
                               "%sstack access out of bounds: r%u has an unbounded offset into "
                               "the stack",
                               what, regno);
    if (span->min < -VERIFIER_FRAME_SIZE || span->max > 0) {
        if (span->min + (int64_t)size == span->max)
            return verifier_reject(verifier, pc,
                                   "%sstack access out of bounds: %" PRIu64 " bytes at fp%+" PRId64
                                   " are outside the %d-byte frame",
                                   what, size, span->min, VERIFIER_FRAME_SIZE);
        return verifier_reject(verifier, pc,
                               "%sstack access out of bounds: %" PRIu64 " bytes at fp%+" PRId64
                               "..fp%+" PRId64 " may be outside the %d-byte frame",
                               what, size, span->min, span->max - (int64_t)size,
                               VERIFIER_FRAME_SIZE);
    }
    return 0;
}

/* Every byte of [start, end) holds a value a read may see. */
static int check_stack_initialized(verifier_t *verifier, uint32_t pc, const char *what,
                                   frame_t *frame, int64_t start, int64_t end)
{
    for (int64_t off = start; off < end; off++) {
        uint32_t index = (uint32_t)((-off - 1) / 8);
        if (index >= frame->slot_count)
            return verifier_reject(verifier, pc, "%sstack slot fp%" PRId64 " is uninitialized",
                                   what, off);
        stack_slot_t *slot = &frame->slots[index];
        uint8_t kind = slot->bytes[byte_in_slot(off)];
        if (kind == STACK_INVALID)
            return verifier_reject(verifier, pc, "%sstack slot fp%" PRId64 " is uninitialized",
                                   what, off);
        if (kind == STACK_SPILL && slot->spill.type != REG_SCALAR)
            return verifier_reject(verifier, pc,
                                   "%sreading fp%" PRId64
                                   " as plain bytes leaks a pointer: it holds a spilled %s",
                                   what, off, reg_type_name(&slot->spill));
        if (kind == STACK_POINTER_PART)
            return verifier_reject(verifier, pc,
                                   "%sreading fp%" PRId64
                                   " leaks a pointer: it holds what remains of a spilled pointer "
                                   "that a smaller store partly overwrote",
                                   what, off);
    }
    return 0;
}

static int load_stack(verifier_t *verifier, state_t *state, uint32_t pc, unsigned regno,
                      const reg_t *reg, int64_t insn_off, unsigned size, bool sign_extend,
                      reg_t *out)
{
    frame_t *frame = state->frames[reg->frame];
    span_t span;
    int err;

    if ((err = check_stack_bounds(verifier, pc, "", regno, reg, insn_off, size, &span)) != 0)
        return err;
    note_stack_depth(verifier, frame, span.min);
    verifier_note_stack_read(verifier, reg->frame, span.min, span.max);
    if (variable_offset(reg)) {
        if ((err = check_stack_initialized(verifier, pc, "", frame, span.min, span.max)) != 0)
            return err;
        reg_mark_unknown(out);
        scalar_unknown_of_size(&out->value, size, sign_extend);
        return 0;
    }

    int64_t start = span.min;
    uint32_t index = (uint32_t)((-start - 1) / 8);
    unsigned first = byte_in_slot(start);
    verifier_note_stack_slot(verifier, reg->frame, start, size);
    if (index < frame->slot_count && first + size <= 8) {
        stack_slot_t *slot = &frame->slots[index];
        if (slot_has_spill(slot)) {
            unsigned spill_first = 8, spill_end = 0;
            for (unsigned i = 0; i < 8; i++) {
                if (slot->bytes[i] == STACK_SPILL) {
                    if (i < spill_first)
                        spill_first = i;
                    spill_end = i + 1;
                }
            }
            bool inside = first >= spill_first && first + size <= spill_end;
            if (slot->spill.type != REG_SCALAR) {
                if (inside && size == 8) {
                    *out = slot->spill;
                    return 0;
                }
                if (inside || (first < spill_end && first + size > spill_first))
                    return verifier_reject(verifier, pc,
                                           "reading %u bytes at fp%" PRId64
                                           " reads part of a spilled %s: that leaks a pointer",
                                           size, start, reg_type_name(&slot->spill));
            } else if (inside) {
                *out = slot->spill;
                if (size != 8 || first != spill_first) {
                    out->id = 0;
                    out->packet_distance = false;
                }
                if (first > spill_first) {
                    scalar_t shift;
                    scalar_constant(&shift, 8 * (first - spill_first));
                    scalar_alu(&out->value, &shift, BPF_RSH, true, 0);
                }
                scalar_truncate(&out->value, size, sign_extend);
                return 0;
            }
        }
    }
    if ((err = check_stack_initialized(verifier, pc, "", frame, start, start + size)) != 0)
        return err;
    bool all_zero = true;
    for (int64_t off = start; off < start + (int64_t)size; off++)
        all_zero &= slot_at(frame, off)->bytes[byte_in_slot(off)] == STACK_ZERO;
    if (all_zero) {
        reg_mark_constant(out, 0);
        return 0;
    }
    reg_mark_unknown(out);
    scalar_unknown_of_size(&out->value, size, sign_extend);
    return 0;
}

static int store_stack(verifier_t *verifier, state_t *state, uint32_t pc, unsigned regno,
                       const reg_t *reg, int64_t insn_off, unsigned size, const reg_t *value,
                       unsigned value_regno)
{
    frame_t *frame = state->frames[reg->frame];
    span_t span;
    int err;

    if ((err = check_stack_bounds(verifier, pc, "", regno, reg, insn_off, size, &span)) != 0)
        return err;
    note_stack_depth(verifier, frame, span.min);
    frame_grow(frame, (int32_t)span.min);
    bool is_pointer = value->type != REG_SCALAR;

    if (variable_offset(reg)) {
        if (is_pointer)
            return verifier_reject(verifier, pc,
                                   "storing pointer r%u at a variable stack offset is not "
                                   "allowed: a pointer is spilled with an 8-byte store at a "
                                   "fixed, aligned offset",
                                   value_regno);
        /* Whether it may is decided by what the slots hold, and the bytes it leaves depend on
         * what they held: for liveness this is a read. */
        verifier_note_stack_read(verifier, reg->frame, span.min, span.max);
        for (int64_t off = span.min; off < span.max; off++) {
            stack_slot_t *slot = slot_at(frame, off);
            uint8_t kind = slot->bytes[byte_in_slot(off)];
            if (kind == STACK_SPILL && slot->spill.type != REG_SCALAR)
                return verifier_reject(verifier, pc,
                                       "a store with a variable offset may overwrite the %s "
                                       "spilled at fp%" PRId64,
                                       reg_type_name(&slot->spill), off);
        }
        /* Which bytes it writes is unknown: none becomes initialised, all become some value. */
        for (int64_t off = span.min; off < span.max; off++) {
            stack_slot_t *slot = slot_at(frame, off);
            unsigned byte = byte_in_slot(off);
            if (slot->bytes[byte] == STACK_SPILL)
                destroy_spill(slot);
            if (slot->bytes[byte] != STACK_INVALID && slot->bytes[byte] != STACK_POINTER_PART)
                slot->bytes[byte] = STACK_MISC;
        }
        return 0;
    }

    int64_t start = span.min;
    unsigned first = byte_in_slot(start);
    bool aligned = first % size == 0 && first + size <= 8;
    verifier_note_stack_slot(verifier, reg->frame, start, size);
    /* Only a whole slot hides what was there: what a smaller store leaves depends on it. */
    if (size == 8 && first == 0)
        verifier_note_slot_written(verifier, reg->frame, (uint32_t)((-start - 1) / 8));
    if (is_pointer) {
        if (size != 8 || !aligned)
            return verifier_reject(verifier, pc,
                                   "a %u-byte store of pointer r%u at fp%" PRId64
                                   " leaks a pointer: spill pointers with 8-byte stores at "
                                   "8-byte aligned offsets",
                                   size, value_regno, start);
    }
    if (value->type == REG_SCALAR && scalar_is_constant(&value->value) &&
        (size == 8 ? value->value.value : value->value.value & ((1ull << (size * 8)) - 1)) == 0) {
        stack_set_bytes(frame, start, size, STACK_ZERO);
        return 0;
    }
    if (!aligned) {
        stack_set_bytes(frame, start, size, STACK_MISC);
        return 0;
    }
    stack_slot_t *slot = slot_at(frame, start);
    if (slot_has_spill(slot))
        destroy_spill(slot);
    for (unsigned i = first; i < first + size; i++)
        slot->bytes[i] = STACK_SPILL;
    slot->spill = *value;
    if (size < 8) {
        slot->spill.id = 0;
        slot->spill.packet_distance = false;
        scalar_truncate(&slot->spill.value, size, false);
    }
    return 0;
}

void verifier_stack_mark_written(state_t *state, const reg_t *reg, int64_t start, int64_t end)
{
    frame_t *frame = state->frames[reg->frame];
    if (start >= end)
        return;
    frame_grow(frame, (int32_t)start);
    bool exact = !variable_offset(reg);
    for (int64_t off = start; off < end; off++) {
        stack_slot_t *slot = slot_at(frame, off);
        unsigned byte = byte_in_slot(off);
        if (slot->bytes[byte] == STACK_SPILL)
            destroy_spill(slot);
        /* With a variable offset, which bytes were written is unknown. */
        if (exact ||
            (slot->bytes[byte] != STACK_INVALID && slot->bytes[byte] != STACK_POINTER_PART))
            slot->bytes[byte] = STACK_MISC;
    }
}

/* ---- the context ---- */

static const char *context_pointer_name(int kind)
{
    switch (kind) {
    case EBPF_CONTEXT_FIELD_DATA:
        return "data";
    case EBPF_CONTEXT_FIELD_DATA_END:
        return "data end";
    default:
        return "data meta";
    }
}

static void packet_pointer_from_field(reg_t *out, int kind)
{
    memset(out, 0, sizeof(*out));
    scalar_constant(&out->value, 0);
    out->type = kind == EBPF_CONTEXT_FIELD_DATA       ? REG_PACKET
                : kind == EBPF_CONTEXT_FIELD_DATA_END ? REG_PACKET_END
                                                      : REG_PACKET_META;
}

/* The field of an exact context layout holding [off, off + size), or NULL. */
static const ebpf_verifier_context_field_t *
find_context_field(const verifier_t *verifier, int64_t off, unsigned size, uint32_t *element_start)
{
    const ebpf_verifier_options_t *options = verifier->options;
    for (uint32_t i = 0; i < options->context_field_count; i++) {
        const ebpf_verifier_context_field_t *field = &options->context_fields[i];
        uint32_t count = field->count ? field->count : 1;
        if (field->size == 0 || off < field->offset ||
            off >= (int64_t)field->offset + (int64_t)field->size * count)
            continue;
        uint32_t element = (uint32_t)((off - field->offset) / field->size);
        uint32_t start = field->offset + element * field->size;
        if (off + size > (int64_t)start + field->size)
            return NULL;
        *element_start = start;
        return field;
    }
    return NULL;
}

static int access_context_exact(verifier_t *verifier, uint32_t pc, int64_t off, unsigned size,
                                bool write, const reg_t *value, unsigned value_regno, reg_t *out)
{
    uint32_t start;
    const ebpf_verifier_context_field_t *field = find_context_field(verifier, off, size, &start);

    if (!field)
        return verifier_reject(verifier, pc,
                               "invalid context access: %u bytes at offset %" PRId64
                               " are not a field of the context",
                               size, off);
    const char *name = field->name ? field->name : "?";
    if (write) {
        if (!(field->access & EBPF_CONTEXT_FIELD_WRITE))
            return verifier_reject(verifier, pc,
                                   "the context field %s is read-only for this program type", name);
        if (size != field->size || off != start)
            return verifier_reject(verifier, pc,
                                   "invalid context access: the field %s is written with %u-byte "
                                   "stores, not %u",
                                   name, field->size, size);
        if (value && value->type != REG_SCALAR)
            return verifier_reject(verifier, pc,
                                   "storing r%u (%s) into the context field %s leaks a pointer",
                                   value_regno, reg_type_name(value), name);
        return 0;
    }
    bool whole = size == field->size && off == start;
    if (whole ? !(field->access & (EBPF_CONTEXT_FIELD_READ | EBPF_CONTEXT_FIELD_NARROW_READ))
              : !(field->access & EBPF_CONTEXT_FIELD_NARROW_READ) || (off - start) % size != 0)
        return verifier_reject(verifier, pc,
                               "invalid context access: the field %s cannot be read with %u "
                               "bytes at offset %" PRId64,
                               name, size, off);
    if (field->kind != EBPF_CONTEXT_FIELD_SCALAR) {
        if (!whole)
            return verifier_reject(verifier, pc,
                                   "invalid context access: the %s pointer field %s must be read "
                                   "whole (%u bytes)",
                                   context_pointer_name(field->kind), name, field->size);
        packet_pointer_from_field(out, field->kind);
        return 0;
    }
    reg_mark_unknown(out);
    scalar_unknown_of_size(&out->value, size, false);
    return 0;
}

static int access_context(verifier_t *verifier, uint32_t pc, unsigned regno, const reg_t *reg,
                          int64_t insn_off, unsigned size, bool write, const reg_t *value,
                          unsigned value_regno, bool sign_extend, reg_t *out)
{
    const ebpf_context_descriptor_t *context = verifier->context;
    int64_t off = (int64_t)reg->off + insn_off;

    if (verifier->options->context_field_count) {
        int err = access_context_exact(verifier, pc, off, size, write, value, value_regno, out);
        if (!err && !write && sign_extend && out->type == REG_SCALAR)
            scalar_unknown_of_size(&out->value, size, true);
        return err;
    }
    int32_t context_size = context ? context->size : 0;
    if (off < 0 || off + size > (int64_t)context_size)
        return verifier_reject(verifier, pc,
                               "invalid context access: %u bytes at offset %" PRId64
                               " are outside the %d-byte context",
                               size, off, context_size);
    const struct {
        int32_t offset;
        int kind;
    } pointers[] = {
        {context ? context->data : -1, EBPF_CONTEXT_FIELD_DATA},
        {context ? context->end : -1, EBPF_CONTEXT_FIELD_DATA_END},
        {context ? context->meta : -1, EBPF_CONTEXT_FIELD_DATA_META},
    };
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(pointers); i++) {
        int64_t field = pointers[i].offset;
        if (field < 0 || off >= field + 8 || off + size <= field)
            continue;
        if (write)
            return verifier_reject(verifier, pc,
                                   "the %s pointer field of the context (offset %" PRId64
                                   ") is read-only",
                                   context_pointer_name(pointers[i].kind), field);
        if (off != field || size != 8 || sign_extend)
            return verifier_reject(verifier, pc,
                                   "invalid context access: the %s pointer field at offset "
                                   "%" PRId64 " must be read whole (8 bytes)",
                                   context_pointer_name(pointers[i].kind), field);
        packet_pointer_from_field(out, pointers[i].kind);
        return 0;
    }
    if (write) {
        if (value && value->type != REG_SCALAR)
            return verifier_reject(verifier, pc,
                                   "storing r%u (%s) into the context leaks a pointer: user "
                                   "space can read the context",
                                   value_regno, reg_type_name(value));
        return 0;
    }
    reg_mark_unknown(out);
    scalar_unknown_of_size(&out->value, size, sign_extend);
    return 0;
}

/* ---- packets, map values, ring buffer records ---- */

static int check_packet_access(verifier_t *verifier, uint32_t pc, const char *what, unsigned regno,
                               const reg_t *reg, int64_t insn_off, uint64_t size)
{
    const char *kind = reg->type == REG_PACKET_META ? "packet metadata" : "packet";
    const char *limit = reg->type == REG_PACKET_META ? "data" : "data_end";

    if (reg->value.smin < 0)
        return verifier_reject(verifier, pc,
                               "%s%s access out of bounds: the offset of r%u may be negative", what,
                               kind, regno);
    if (reg->value.umax > VERIFIER_MAX_PACKET_OFFSET)
        return verifier_reject(verifier, pc,
                               "%s%s access out of bounds: r%u has an unbounded offset into the "
                               "packet",
                               what, kind, regno);
    int64_t start = reg->off + insn_off;
    if (start < 0)
        return verifier_reject(verifier, pc,
                               "%s%s access out of bounds: r%u%+" PRId64
                               " is before the start of the %s",
                               what, kind, regno, insn_off, kind);
    if (start + (int64_t)size <= (int64_t)reg->range)
        return 0;
    if (reg->range == 0)
        return verifier_reject(verifier, pc,
                               "%s%s access out of bounds: compare against %s first (r%u%+" PRId64
                               ", %" PRIu64 " bytes, has no proven range)",
                               what, kind, limit, regno, insn_off, size);
    return verifier_reject(
        verifier, pc,
        "%s%s access out of bounds: r%u%+" PRId64 " (%" PRIu64 " bytes) reaches byte %" PRId64
        " but the comparison against %s only proves %u bytes",
        what, kind, regno, insn_off, size, start + (int64_t)size, limit, reg->range);
}

static const char *null_source(const verifier_t *verifier, const reg_t *reg, char *buffer,
                               size_t size)
{
    const struct bpf_insn *call = &verifier->insns[reg->origin];
    if (reg->origin < verifier->count && call->code == (BPF_JMP | BPF_CALL) && call->src_reg == 0)
        return verifier_helper_name(verifier, (uint32_t)call->imm, buffer, size);
    return "the helper";
}

static int reject_maybe_null(verifier_t *verifier, uint32_t pc, const char *what, unsigned regno,
                             const reg_t *reg, const char *use)
{
    char helper[64];
    return verifier_reject(verifier, pc, "%sr%u may be NULL: check the result of %s before %s it",
                           what, regno, null_source(verifier, reg, helper, sizeof(helper)), use);
}

static int check_region_access(verifier_t *verifier, uint32_t pc, const char *what, unsigned regno,
                               const reg_t *reg, int64_t insn_off, uint64_t size,
                               uint64_t region_size, const char *region)
{
    span_t span = access_span(reg, insn_off, size);
    if (!span.bounded || reg->value.smin < -VERIFIER_MAX_POINTER_OFFSET)
        return verifier_reject(verifier, pc,
                               "%s%s access out of bounds: r%u has an unbounded offset; check "
                               "the index against the size first",
                               what, region, regno);
    if (span.min < 0 || span.max > (int64_t)region_size) {
        if (variable_offset(reg))
            return verifier_reject(
                verifier, pc,
                "%s%s access out of bounds: r%u%+" PRId64 " (%" PRIu64
                " bytes) may touch offsets %" PRId64 "..%" PRId64 " of a %" PRIu64 "-byte %s",
                what, region, regno, insn_off, size, span.min, span.max - 1, region_size, region);
        return verifier_reject(verifier, pc,
                               "%s%s access out of bounds: offset %" PRId64 " (%" PRIu64
                               " bytes) is outside the %" PRIu64 "-byte %s",
                               what, region, span.min, size, region_size, region);
    }
    return 0;
}

static int check_map_value_access(verifier_t *verifier, uint32_t pc, const char *what,
                                  unsigned regno, const reg_t *reg, int64_t insn_off, uint64_t size,
                                  bool write)
{
    char name[64];
    if (write && (reg->map->map_flags & BPF_F_RDONLY_PROG))
        return verifier_reject(verifier, pc,
                               "%smap %s is read-only for programs: its values cannot be written",
                               what, verifier_map_name(reg->map, name, sizeof(name)));
    return check_region_access(verifier, pc, what, regno, reg, insn_off, size, reg->map->value_size,
                               "map value");
}

/* Rejects an access through a register that is no usable pointer. */
static int reject_not_pointer(verifier_t *verifier, uint32_t pc, const char *what, unsigned regno,
                              const reg_t *reg, const char *use)
{
    char description[96], name[64];

    switch (reg->type) {
    case REG_NOT_INIT:
        return verifier_reject(verifier, pc, "%sr%u is uninitialized", what, regno);
    case REG_SCALAR:
        if (scalar_is_constant(&reg->value) && reg->value.value == 0)
            return verifier_reject(verifier, pc,
                                   "%sinvalid memory access: r%u is NULL on this path (a pointer "
                                   "that may be NULL was compared with 0)",
                                   what, regno);
        scalar_describe(&reg->value, description, sizeof(description));
        return verifier_reject(verifier, pc,
                               "%sinvalid memory access: r%u is a scalar (%s), not a pointer", what,
                               regno, description);
    case REG_PACKET_END:
        return verifier_reject(verifier, pc,
                               "%spacket access out of bounds: r%u is the packet end pointer, "
                               "which cannot be %s",
                               what, regno, use);
    case REG_MAP_PTR:
        if (reg->maybe_null)
            return reject_maybe_null(verifier, pc, what, regno, reg, "using");
        return verifier_reject(verifier, pc,
                               "%sr%u points to map %s: a map pointer can only be passed to "
                               "helpers",
                               what, regno, verifier_map_name(reg->map, name, sizeof(name)));
    default:
        return verifier_reject(verifier, pc, "%sinvalid memory access through r%u (%s)", what,
                               regno, reg_type_name(reg));
    }
}

/* ---- instructions ---- */

int verifier_check_load(verifier_t *verifier, state_t *state, uint32_t pc)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    frame_t *frame = state_top(state);
    const reg_t *base = &frame->regs[insn->src_reg];
    unsigned size = size_of(insn->code), regno = insn->src_reg;
    bool sign_extend = BPF_MODE(insn->code) == MODE_MEMSX;
    reg_t loaded;
    int err = 0;

    if (base->maybe_null)
        return reject_maybe_null(verifier, pc, "", regno, base, "dereferencing");
    switch (base->type) {
    case REG_STACK:
        err = load_stack(verifier, state, pc, regno, base, insn->off, size, sign_extend, &loaded);
        break;
    case REG_CTX:
        err = access_context(verifier, pc, regno, base, insn->off, size, false, NULL, 0,
                             sign_extend, &loaded);
        break;
    case REG_PACKET:
    case REG_PACKET_META:
        err = check_packet_access(verifier, pc, "", regno, base, insn->off, size);
        if (!err) {
            reg_mark_unknown(&loaded);
            scalar_unknown_of_size(&loaded.value, size, sign_extend);
        }
        break;
    case REG_MAP_VALUE:
        err = check_map_value_access(verifier, pc, "", regno, base, insn->off, size, false);
        if (!err) {
            reg_mark_unknown(&loaded);
            scalar_unknown_of_size(&loaded.value, size, sign_extend);
        }
        break;
    case REG_ALLOC_MEM:
        err = check_region_access(verifier, pc, "", regno, base, insn->off, size, base->mem_size,
                                  "ring buffer record");
        if (!err) {
            reg_mark_unknown(&loaded);
            scalar_unknown_of_size(&loaded.value, size, sign_extend);
        }
        break;
    default:
        return reject_not_pointer(verifier, pc, "", regno, base, "dereferenced");
    }
    if (err)
        return err;
    frame->regs[insn->dst_reg] = loaded;
    return 0;
}

int verifier_check_store(verifier_t *verifier, state_t *state, uint32_t pc)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    frame_t *frame = state_top(state);
    const reg_t *base = &frame->regs[insn->dst_reg];
    unsigned size = size_of(insn->code), regno = insn->dst_reg, value_regno = insn->src_reg;
    reg_t value;

    if (BPF_CLASS(insn->code) == BPF_ST) {
        reg_mark_constant(&value, (uint64_t)(int64_t)insn->imm);
        value_regno = 0;
    } else {
        value = frame->regs[insn->src_reg];
        if (value.type == REG_NOT_INIT)
            return verifier_reject(verifier, pc, "r%u is uninitialized", insn->src_reg);
    }
    if (base->maybe_null)
        return reject_maybe_null(verifier, pc, "", regno, base, "dereferencing");
    bool pointer_value = value.type != REG_SCALAR;
    char name[64];
    switch (base->type) {
    case REG_STACK:
        return store_stack(verifier, state, pc, regno, base, insn->off, size, &value, value_regno);
    case REG_CTX:
        return access_context(verifier, pc, regno, base, insn->off, size, true,
                              BPF_CLASS(insn->code) == BPF_ST ? NULL : &value, value_regno, false,
                              NULL);
    case REG_PACKET:
    case REG_PACKET_META:
        if (pointer_value)
            return verifier_reject(verifier, pc, "storing r%u (%s) into the packet leaks a pointer",
                                   value_regno, reg_type_name(&value));
        verifier->writes_packet = true;
        return check_packet_access(verifier, pc, "", regno, base, insn->off, size);
    case REG_MAP_VALUE:
        if (pointer_value)
            return verifier_reject(verifier, pc,
                                   "storing r%u (%s) into a value of map %s leaks a pointer: user "
                                   "space can read map values",
                                   value_regno, reg_type_name(&value),
                                   verifier_map_name(base->map, name, sizeof(name)));
        return check_map_value_access(verifier, pc, "", regno, base, insn->off, size, true);
    case REG_ALLOC_MEM:
        if (pointer_value)
            return verifier_reject(verifier, pc,
                                   "storing r%u (%s) into a ring buffer record leaks a pointer: "
                                   "user space reads the record",
                                   value_regno, reg_type_name(&value));
        return check_region_access(verifier, pc, "", regno, base, insn->off, size, base->mem_size,
                                   "ring buffer record");
    default:
        return reject_not_pointer(verifier, pc, "", regno, base, "written through");
    }
}

int verifier_check_atomic(verifier_t *verifier, state_t *state, uint32_t pc)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    frame_t *frame = state_top(state);
    const reg_t *base = &frame->regs[insn->dst_reg];
    reg_t *source = &frame->regs[insn->src_reg];
    unsigned size = size_of(insn->code), regno = insn->dst_reg;
    int err;

    if (source->type == REG_NOT_INIT)
        return verifier_reject(verifier, pc, "r%u is uninitialized", insn->src_reg);
    if (source->type != REG_SCALAR)
        return verifier_reject(verifier, pc,
                               "an atomic operation with r%u (%s) leaks a pointer into memory",
                               insn->src_reg, reg_type_name(source));
    if (insn->imm == BPF_CMPXCHG) {
        const reg_t *expected = &frame->regs[BPF_REG_0];
        if (expected->type == REG_NOT_INIT)
            return verifier_reject(verifier, pc, "r0 is uninitialized");
        if (expected->type != REG_SCALAR)
            return verifier_reject(verifier, pc,
                                   "a compare-and-exchange with r0 (%s) leaks a pointer",
                                   reg_type_name(expected));
    }
    if (base->maybe_null)
        return reject_maybe_null(verifier, pc, "", regno, base, "dereferencing");
    if (base->type != REG_STACK && base->type != REG_MAP_VALUE) {
        if (base->type == REG_NOT_INIT || base->type == REG_SCALAR)
            return reject_not_pointer(verifier, pc, "", regno, base, "written through");
        return verifier_reject(verifier, pc,
                               "atomic operations are only allowed on the stack and map values, "
                               "not through r%u (%s)",
                               regno, reg_type_name(base));
    }
    /* Alignment: the constant part, and the variable part's low bits. */
    int64_t fixed = (int64_t)base->off + insn->off;
    if (fixed % (int64_t)size != 0 || (base->value.mask & (size - 1)) != 0 ||
        (base->value.value & (size - 1)) != 0)
        return verifier_reject(verifier, pc,
                               "misaligned atomic access: r%u%+d is not a multiple of %u bytes",
                               regno, insn->off, size);
    if (base->type == REG_STACK) {
        frame_t *target = state->frames[base->frame];
        span_t span;
        if ((err = check_stack_bounds(verifier, pc, "", regno, base, insn->off, size, &span)) !=
                0 ||
            (err = check_stack_initialized(verifier, pc, "", target, span.min, span.max)) != 0)
            return err;
        verifier_note_stack_read(verifier, base->frame, span.min, span.max);
        note_stack_depth(verifier, target, span.min);
        verifier_stack_mark_written(state, base, span.min, span.max);
    } else if ((err = check_map_value_access(verifier, pc, "", regno, base, insn->off, size,
                                             true)) != 0) {
        return err;
    }
    if (insn->imm == BPF_CMPXCHG) {
        reg_mark_unknown(&frame->regs[BPF_REG_0]);
        scalar_unknown_of_size(&frame->regs[BPF_REG_0].value, size, false);
    } else if (insn->imm & BPF_FETCH) {
        reg_mark_unknown(source);
        scalar_unknown_of_size(&source->value, size, false);
    }
    return 0;
}

int verifier_check_helper_memory(verifier_t *verifier, state_t *state, uint32_t pc,
                                 const char *what, unsigned regno, const reg_t *reg,
                                 uint64_t max_size, memory_use_t use)
{
    bool write = use == MEMORY_WRITE;
    span_t span;
    int err;

    if (reg->maybe_null)
        return reject_maybe_null(verifier, pc, what, regno, reg, "passing");
    switch (reg->type) {
    case REG_STACK: {
        frame_t *frame = state->frames[reg->frame];
        if (max_size == 0)
            return 0;
        if ((err = check_stack_bounds(verifier, pc, what, regno, reg, 0, max_size, &span)) != 0)
            return err;
        note_stack_depth(verifier, frame, span.min);
        if (write)
            return 0;
        verifier_note_stack_read(verifier, reg->frame, span.min, span.max);
        /* With a variable offset every byte the range may cover must be initialised. */
        return check_stack_initialized(verifier, pc, what, frame, span.min, span.max);
    }
    case REG_MAP_VALUE:
        if (max_size == 0 && !write)
            return 0;
        return check_map_value_access(verifier, pc, what, regno, reg, 0, max_size, write);
    case REG_PACKET:
    case REG_PACKET_META:
        if (write)
            verifier->writes_packet = true;
        if (max_size == 0)
            return 0;
        return check_packet_access(verifier, pc, what, regno, reg, 0, max_size);
    case REG_ALLOC_MEM:
        if (max_size == 0)
            return 0;
        return check_region_access(verifier, pc, what, regno, reg, 0, max_size, reg->mem_size,
                                   "ring buffer record");
    default:
        return reject_not_pointer(verifier, pc, what, regno, reg, "passed as memory");
    }
}
