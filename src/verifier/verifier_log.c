/* Words for the log: registers, states and maps described for people. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ebpf_platform.h"
#include "verifier_private.h"

const char *verifier_map_name(const ebpf_verifier_map_t *map, char *buffer, size_t size)
{
    if (map && map->name && map->name[0])
        return map->name;
    snprintf(buffer, size, "(unnamed)");
    return buffer;
}

const char *reg_type_name(const reg_t *reg)
{
    switch (reg->type) {
    case REG_NOT_INIT:
        return "nothing";
    case REG_SCALAR:
        return "scalar";
    case REG_CTX:
        return "context pointer";
    case REG_STACK:
        return "stack pointer";
    case REG_PACKET:
        return "packet pointer";
    case REG_PACKET_META:
        return "packet metadata pointer";
    case REG_PACKET_END:
        return "packet end pointer";
    case REG_MAP_PTR:
        return reg->maybe_null ? "map pointer or NULL" : "map pointer";
    case REG_MAP_VALUE:
        return reg->maybe_null ? "map value pointer or NULL" : "map value pointer";
    case REG_ALLOC_MEM:
        return reg->maybe_null ? "ring buffer record pointer or NULL"
                               : "ring buffer record pointer";
    default:
        return "?";
    }
}

/* " + offset" for a pointer: the constant part, then the variable one. */
static int describe_offset(const reg_t *reg, char *text, size_t size)
{
    char variable[96];
    if (scalar_is_constant(&reg->value))
        return snprintf(text, size, "%+" PRId64, (int64_t)reg->off + (int64_t)reg->value.value);
    scalar_describe(&reg->value, variable, sizeof(variable));
    return snprintf(text, size, "%+d+%s", reg->off, variable);
}

int reg_describe(const verifier_t *verifier, const reg_t *reg, char *text, size_t size)
{
    char value[96], offset[128], name[64];

    switch (reg->type) {
    case REG_NOT_INIT:
        return snprintf(text, size, "uninitialized");
    case REG_SCALAR:
        scalar_describe(&reg->value, value, sizeof(value));
        return snprintf(text, size, "a scalar (%s)", value);
    case REG_CTX:
        if (reg->off)
            return snprintf(text, size, "a pointer %d bytes into the context", reg->off);
        return snprintf(text, size, "the context pointer");
    case REG_STACK:
        describe_offset(reg, offset, sizeof(offset));
        return snprintf(text, size, "a pointer to the stack (fp%s)", offset);
    case REG_PACKET:
    case REG_PACKET_META:
        describe_offset(reg, offset, sizeof(offset));
        return snprintf(text, size, "a %s (data%s, %u bytes proven)",
                        reg->type == REG_PACKET ? "packet pointer" : "packet metadata pointer",
                        offset, reg->range);
    case REG_PACKET_END:
        return snprintf(text, size, "the packet end pointer");
    case REG_MAP_PTR:
        return snprintf(text, size, "map %s%s", verifier_map_name(reg->map, name, sizeof(name)),
                        reg->maybe_null ? " or NULL" : "");
    case REG_MAP_VALUE:
        describe_offset(reg, offset, sizeof(offset));
        return snprintf(text, size, "a pointer to a value of map %s (offset %s)%s",
                        verifier_map_name(reg->map, name, sizeof(name)), offset,
                        reg->maybe_null ? " that may be NULL" : "");
    case REG_ALLOC_MEM:
        describe_offset(reg, offset, sizeof(offset));
        return snprintf(text, size, "a pointer to a %u-byte ring buffer record (offset %s)%s",
                        reg->mem_size, offset, reg->maybe_null ? " that may be NULL" : "");
    default:
        return snprintf(text, size, "?");
    }
}

/* The compact form of the verbose log: "ctx", "fp-8", "map_value(counters)+4", "[0, 255]". */
static int reg_short(const reg_t *reg, char *text, size_t size)
{
    char value[96], offset[128], name[64];

    switch (reg->type) {
    case REG_SCALAR:
        scalar_describe(&reg->value, value, sizeof(value));
        return snprintf(text, size, "%s", value);
    case REG_CTX:
        return snprintf(text, size, "ctx%+d", reg->off);
    case REG_STACK:
        describe_offset(reg, offset, sizeof(offset));
        return snprintf(text, size, "fp%s", offset);
    case REG_PACKET:
    case REG_PACKET_META:
        describe_offset(reg, offset, sizeof(offset));
        return snprintf(text, size, "%s%s(r=%u)", reg->type == REG_PACKET ? "pkt" : "pkt_meta",
                        offset, reg->range);
    case REG_PACKET_END:
        return snprintf(text, size, "pkt_end");
    case REG_MAP_PTR:
        return snprintf(text, size, "map(%s)%s", verifier_map_name(reg->map, name, sizeof(name)),
                        reg->maybe_null ? "_or_null" : "");
    case REG_MAP_VALUE:
        describe_offset(reg, offset, sizeof(offset));
        return snprintf(text, size, "map_value(%s)%s%s",
                        verifier_map_name(reg->map, name, sizeof(name)),
                        reg->maybe_null ? "_or_null" : "", offset);
    case REG_ALLOC_MEM:
        describe_offset(reg, offset, sizeof(offset));
        return snprintf(text, size, "record(%u)%s%s", reg->mem_size,
                        reg->maybe_null ? "_or_null" : "", offset);
    default:
        return snprintf(text, size, "?");
    }
}

int state_describe(const verifier_t *verifier, const state_t *state, char *text, size_t size)
{
    const frame_t *frame = state_top(state);
    size_t used = 0;
    char part[256];

#define APPEND(...)                                                                                \
    do {                                                                                           \
        int written = snprintf(text + used, size > used ? size - used : 0, __VA_ARGS__);           \
        if (written > 0)                                                                           \
            used += (size_t)written;                                                               \
    } while (0)

    if (size)
        text[0] = '\0';
    if (state->frame_count > 1)
        APPEND("frame %u:", state->frame_count - 1);
    for (int r = 0; r < BPF_REG_10; r++) {
        if (frame->regs[r].type == REG_NOT_INIT)
            continue;
        reg_short(&frame->regs[r], part, sizeof(part));
        APPEND(" r%d=%s", r, part);
    }
    for (uint32_t s = 0; s < frame->slot_count; s++) {
        const stack_slot_t *slot = &frame->slots[s];
        bool spill = false, any = false;
        char bytes[9];
        for (int i = 0; i < 8; i++) {
            static const char kinds[] = {'?', 'm', '0', 'r', 'p'};
            bytes[i] = slot->bytes[i] < sizeof(kinds) ? kinds[slot->bytes[i]] : '!';
            spill |= slot->bytes[i] == STACK_SPILL;
            any |= slot->bytes[i] != STACK_INVALID;
        }
        bytes[8] = '\0';
        if (!any)
            continue;
        if (spill) {
            reg_short(&slot->spill, part, sizeof(part));
            APPEND(" fp-%u=%s", (s + 1) * 8, part);
        } else {
            APPEND(" fp-%u=%s", (s + 1) * 8, bytes);
        }
    }
    for (uint32_t i = 0; i < state->reference_count; i++)
        APPEND(" ref(insn %u)", state->references[i].pc);
#undef APPEND
    return (int)used;
}

void log_append(log_buffer_t *log, const char *fmt, ...)
{
    va_list ap;
    int needed;

    if (log->failed)
        return;
    va_start(ap, fmt);
    needed = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (needed < 0)
        return;
    if (log->length + (size_t)needed + 1 > log->capacity) {
        size_t capacity = log->capacity ? log->capacity : 256;
        while (capacity < log->length + (size_t)needed + 1)
            capacity *= 2;
        char *grown = ebpf_reallocate(log->text, capacity);
        if (!grown) {
            log->failed = true;
            return;
        }
        log->text = grown;
        log->capacity = capacity;
    }
    va_start(ap, fmt);
    vsnprintf(log->text + log->length, log->capacity - log->length, fmt, ap);
    va_end(ap);
    log->length += (size_t)needed;
}
