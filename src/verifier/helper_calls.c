/* Helper calls: arguments checked against the prototype, then the effects of the call. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "verifier_private.h"

/* Sizes a helper may be given, so a size cannot overflow an offset computation. */
#define MAX_HELPER_SIZE (1u << 29)

const char *verifier_helper_name(const verifier_t *verifier, uint32_t id, char *buffer, size_t size)
{
    const ebpf_helper_prototype_t *prototype = verifier_find_helper(verifier, id);
    if (prototype && prototype->name)
        return prototype->name;
    snprintf(buffer, size, "helper %u", id);
    return buffer;
}

static const char *map_type_name(uint32_t type)
{
    switch (type) {
    case BPF_MAP_TYPE_HASH:
        return "a hash map";
    case BPF_MAP_TYPE_ARRAY:
        return "an array map";
    case BPF_MAP_TYPE_PROG_ARRAY:
        return "a program array";
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
        return "a perf event array";
    case BPF_MAP_TYPE_PERCPU_HASH:
        return "a per-CPU hash map";
    case BPF_MAP_TYPE_PERCPU_ARRAY:
        return "a per-CPU array";
    case BPF_MAP_TYPE_STACK_TRACE:
        return "a stack trace map";
    case BPF_MAP_TYPE_LRU_HASH:
        return "an LRU hash map";
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
        return "a per-CPU LRU hash map";
    case BPF_MAP_TYPE_LPM_TRIE:
        return "an LPM trie";
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
        return "an array of maps";
    case BPF_MAP_TYPE_HASH_OF_MAPS:
        return "a hash of maps";
    case BPF_MAP_TYPE_QUEUE:
        return "a queue";
    case BPF_MAP_TYPE_STACK:
        return "a stack map";
    case BPF_MAP_TYPE_RINGBUF:
        return "a ring buffer";
    default:
        return "a map of this type";
    }
}

/* Which maps the Linux helpers that take one may be given, and which helpers the special map
 * types accept (the kernel's check_map_func_compatibility). */
static bool helper_accepts_map(uint32_t helper, uint32_t type)
{
    switch (type) {
    case BPF_MAP_TYPE_RINGBUF:
        return helper == BPF_FUNC_ringbuf_output || helper == BPF_FUNC_ringbuf_reserve ||
               helper == BPF_FUNC_ringbuf_query;
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
        return helper == BPF_FUNC_perf_event_output || helper == BPF_FUNC_perf_event_read ||
               helper == BPF_FUNC_perf_event_read_value || helper == BPF_FUNC_skb_output ||
               helper == BPF_FUNC_xdp_output;
    case BPF_MAP_TYPE_PROG_ARRAY:
        return helper == BPF_FUNC_tail_call;
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
        return helper == BPF_FUNC_map_push_elem || helper == BPF_FUNC_map_pop_elem ||
               helper == BPF_FUNC_map_peek_elem;
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
    case BPF_MAP_TYPE_HASH_OF_MAPS:
        return helper == BPF_FUNC_map_lookup_elem;
    case BPF_MAP_TYPE_STACK_TRACE:
        return helper == BPF_FUNC_get_stackid;
    case BPF_MAP_TYPE_CGROUP_ARRAY:
        return helper == BPF_FUNC_skb_under_cgroup || helper == BPF_FUNC_current_task_under_cgroup;
    default:
        break;
    }
    switch (helper) {
    case BPF_FUNC_ringbuf_output:
    case BPF_FUNC_ringbuf_reserve:
    case BPF_FUNC_ringbuf_query:
    case BPF_FUNC_perf_event_output:
    case BPF_FUNC_perf_event_read:
    case BPF_FUNC_perf_event_read_value:
    case BPF_FUNC_tail_call:
    case BPF_FUNC_map_pop_elem:
    case BPF_FUNC_get_stackid:
    case BPF_FUNC_skb_under_cgroup:
    case BPF_FUNC_current_task_under_cgroup:
        return false;
    case BPF_FUNC_map_push_elem:
    case BPF_FUNC_map_peek_elem:
        return type == BPF_MAP_TYPE_BLOOM_FILTER;
    case BPF_FUNC_redirect_map:
        return type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_DEVMAP_HASH ||
               type == BPF_MAP_TYPE_CPUMAP || type == BPF_MAP_TYPE_XSKMAP;
    default:
        return true;
    }
}

typedef struct memory_argument {
    bool active;
    unsigned regno;
    reg_t reg;
    memory_use_t use;
    bool is_null;
    char what[128];
} memory_argument_t;

typedef struct written_memory {
    reg_t reg;
    int64_t start, end;
} written_memory_t;

typedef struct call_context {
    verifier_t *verifier;
    state_t *state;
    uint32_t pc;
    const ebpf_helper_prototype_t *prototype;
    const ebpf_verifier_map_t *map;
    bool has_alloc_size;
    uint64_t alloc_size;
    const reg_t *released;
    memory_argument_t memory;
    written_memory_t written[5];
    uint32_t written_count;
} call_context_t;

static int reject_argument(call_context_t *call, unsigned argument, const char *expected,
                           const reg_t *reg)
{
    char description[128];
    reg_describe(call->verifier, reg, description, sizeof(description));
    return verifier_reject(call->verifier, call->pc, "argument %u of %s must %s: r%u is %s",
                           argument, call->prototype->name, expected, argument, description);
}

static bool is_memory_pointer(const reg_t *reg)
{
    return reg->type == REG_STACK || reg->type == REG_MAP_VALUE || reg->type == REG_PACKET ||
           reg->type == REG_PACKET_META || reg->type == REG_ALLOC_MEM;
}

static void remember_write(call_context_t *call, const reg_t *reg, uint64_t size)
{
    if (reg->type != REG_STACK || size == 0 || call->written_count == 5)
        return;
    written_memory_t *written = &call->written[call->written_count++];
    written->reg = *reg;
    written->start = reg->off + reg->value.smin;
    written->end = reg->off + reg->value.smax + (int64_t)size;
}

/* A pointer to memory of a known size (map key or value). */
static int check_sized_memory(call_context_t *call, unsigned argument, const reg_t *reg,
                              const char *expected, uint64_t size, memory_use_t use)
{
    char what[160];
    if (reg->maybe_null || !is_memory_pointer(reg)) {
        if (reg->maybe_null) {
            snprintf(what, sizeof(what), "argument %u of %s: ", argument, call->prototype->name);
            return verifier_check_helper_memory(call->verifier, call->state, call->pc, what,
                                                argument, reg, size, use);
        }
        return reject_argument(call, argument, expected, reg);
    }
    snprintf(what, sizeof(what), "argument %u of %s (%s): ", argument, call->prototype->name,
             expected + strlen("point to "));
    int err = verifier_check_helper_memory(call->verifier, call->state, call->pc, what, argument,
                                           reg, size, use);
    if (!err && use == MEMORY_WRITE)
        remember_write(call, reg, size);
    return err;
}

static int check_size_argument(call_context_t *call, unsigned argument, const reg_t *reg,
                               bool zero_allowed)
{
    verifier_t *verifier = call->verifier;
    char range[96];

    if (reg->type != REG_SCALAR)
        return reject_argument(call, argument, "be a size", reg);
    verifier_mark_precise(verifier, call->state, (uint16_t)(1u << argument));
    scalar_describe(&reg->value, range, sizeof(range));
    if (reg->value.smin < 0)
        return verifier_reject(verifier, call->pc,
                               "argument %u of %s must be a size: r%u (%s) may be negative; "
                               "check it first",
                               argument, call->prototype->name, argument, range);
    if (reg->value.umax > MAX_HELPER_SIZE)
        return verifier_reject(verifier, call->pc,
                               "argument %u of %s must be a bounded size: r%u (%s) is "
                               "unbounded; check it against a limit first",
                               argument, call->prototype->name, argument, range);
    if (!zero_allowed && reg->value.umin == 0)
        return verifier_reject(verifier, call->pc,
                               "argument %u of %s must be a size greater than 0: r%u (%s) may "
                               "be 0",
                               argument, call->prototype->name, argument, range);
    memory_argument_t *memory = &call->memory;
    if (!memory->active)
        return 0;
    memory->active = false;
    if (memory->is_null) {
        if (reg->value.umax != 0)
            return verifier_reject(verifier, call->pc,
                                   "argument %u of %s is NULL, so its size (argument %u) must be "
                                   "0",
                                   memory->regno, call->prototype->name, argument);
        return 0;
    }
    const reg_t *pointer = &memory->reg;
    if (pointer->type == REG_PACKET && !pointer->maybe_null && reg->packet_distance &&
        reg->distance_id == pointer->id && pointer->off >= 0 && pointer->off <= reg->distance_off &&
        pointer->value.smin >= 0) {
        /* The size is "end - p" for p at or after this pointer: the memory ends at or before
         * the packet's end. */
        if (memory->use == MEMORY_WRITE)
            verifier->writes_packet = true;
        return 0;
    }
    int err =
        verifier_check_helper_memory(verifier, call->state, call->pc, memory->what, memory->regno,
                                     &memory->reg, reg->value.umax, memory->use);
    if (!err && memory->use == MEMORY_WRITE)
        remember_write(call, &memory->reg, reg->value.umax);
    return err;
}

static int check_argument(call_context_t *call, unsigned argument, ebpf_argument_type_t type)
{
    verifier_t *verifier = call->verifier;
    const reg_t *reg = &state_top(call->state)->regs[argument];
    char name[64];
    int err;

    if (type == EBPF_ARG_DONTCARE)
        return 0;
    /* The values bpf_trace_printk prints are optional: Linux declares only the format and its
     * size, so a call with fewer values leaves the rest unset. */
    if (call->prototype->id == BPF_FUNC_trace_printk && argument > 2 && type == EBPF_ARG_ANYTHING)
        return 0;
    if (reg->type == REG_NOT_INIT)
        return verifier_reject(verifier, call->pc, "argument %u of %s: r%u is uninitialized",
                               argument, call->prototype->name, argument);
    switch (type) {
    case EBPF_ARG_ANYTHING:
        return 0;
    case EBPF_ARG_CONST_SIZE:
    case EBPF_ARG_CONST_SIZE_OR_ZERO:
        return check_size_argument(call, argument, reg, type == EBPF_ARG_CONST_SIZE_OR_ZERO);
    case EBPF_ARG_PTR_TO_CTX:
        if (reg->type != REG_CTX || reg->off != 0)
            return reject_argument(call, argument, "be the context the program was given", reg);
        return 0;
    case EBPF_ARG_CONST_PTR_TO_MAP:
        if (reg->type != REG_MAP_PTR)
            return reject_argument(call, argument, "be a map", reg);
        if (reg->maybe_null)
            return verifier_check_helper_memory(verifier, call->state, call->pc, "", argument, reg,
                                                0, MEMORY_READ);
        if (call->prototype->id < EBPF_GENERAL_EXTRA_HELPER_BASE &&
            !helper_accepts_map(call->prototype->id, reg->map->type))
            return verifier_reject(verifier, call->pc,
                                   "argument %u of %s: map %s is %s, which this helper cannot "
                                   "use",
                                   argument, call->prototype->name,
                                   verifier_map_name(reg->map, name, sizeof(name)),
                                   map_type_name(reg->map->type));
        if ((reg->map->map_flags & BPF_F_RDONLY_PROG) &&
            (call->prototype->id == BPF_FUNC_map_update_elem ||
             call->prototype->id == BPF_FUNC_map_delete_elem ||
             call->prototype->id == BPF_FUNC_map_push_elem ||
             call->prototype->id == BPF_FUNC_map_pop_elem))
            return verifier_reject(verifier, call->pc,
                                   "argument %u of %s: map %s is read-only for programs, which "
                                   "cannot change it",
                                   argument, call->prototype->name,
                                   verifier_map_name(reg->map, name, sizeof(name)));
        call->map = reg->map;
        return 0;
    case EBPF_ARG_PTR_TO_MAP_KEY:
    case EBPF_ARG_PTR_TO_MAP_VALUE:
    case EBPF_ARG_PTR_TO_UNINIT_MAP_VALUE: {
        if (!call->map)
            return verifier_reject(verifier, call->pc,
                                   "the prototype of %s has a map key or value argument without "
                                   "a map argument before it",
                                   call->prototype->name);
        bool key = type == EBPF_ARG_PTR_TO_MAP_KEY;
        return check_sized_memory(
            call, argument, reg, key ? "point to a map key" : "point to a map value",
            key ? call->map->key_size : call->map->value_size,
            type == EBPF_ARG_PTR_TO_UNINIT_MAP_VALUE ? MEMORY_WRITE : MEMORY_READ);
    }
    case EBPF_ARG_PTR_TO_READABLE_MEM:
    case EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL:
    case EBPF_ARG_PTR_TO_WRITABLE_MEM: {
        bool nullable = type == EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL;
        bool is_null =
            reg->type == REG_SCALAR && scalar_is_constant(&reg->value) && reg->value.value == 0;
        if (nullable && is_null)
            verifier_mark_precise(verifier, call->state, (uint16_t)(1u << argument));
        if (!(nullable && is_null) && !reg->maybe_null && !is_memory_pointer(reg))
            return reject_argument(call, argument,
                                   type == EBPF_ARG_PTR_TO_WRITABLE_MEM
                                       ? "point to writable memory"
                                       : "point to readable memory",
                                   reg);
        if (reg->maybe_null &&
            (err = verifier_check_helper_memory(verifier, call->state, call->pc, "", argument, reg,
                                                0, MEMORY_READ)) != 0)
            return err;
        memory_argument_t *memory = &call->memory;
        memory->active = true;
        memory->regno = argument;
        memory->reg = *reg;
        memory->is_null = is_null;
        memory->use = type == EBPF_ARG_PTR_TO_WRITABLE_MEM ? MEMORY_WRITE : MEMORY_READ;
        snprintf(memory->what, sizeof(memory->what), "argument %u of %s (%s memory): ", argument,
                 call->prototype->name, memory->use == MEMORY_WRITE ? "writable" : "readable");
        return 0;
    }
    case EBPF_ARG_PTR_TO_ALLOC_MEM: {
        if (reg->type != REG_ALLOC_MEM)
            return reject_argument(call, argument,
                                   "be a ring buffer record from bpf_ringbuf_reserve", reg);
        if (reg->maybe_null)
            return verifier_check_helper_memory(verifier, call->state, call->pc, "", argument, reg,
                                                0, MEMORY_READ);
        if (reg->off != 0 || !scalar_is_constant(&reg->value) || reg->value.value != 0)
            return verifier_reject(verifier, call->pc,
                                   "argument %u of %s must be the record bpf_ringbuf_reserve "
                                   "returned, unmodified: r%u points %d bytes into it",
                                   argument, call->prototype->name, argument, reg->off);
        call->released = reg;
        return 0;
    }
    case EBPF_ARG_CONST_ALLOC_SIZE_OR_ZERO:
        if (reg->type != REG_SCALAR || !scalar_is_constant(&reg->value))
            return reject_argument(call, argument, "be a known constant size", reg);
        verifier_mark_precise(verifier, call->state, (uint16_t)(1u << argument));
        if (reg->value.value > MAX_HELPER_SIZE)
            return verifier_reject(verifier, call->pc,
                                   "argument %u of %s: size %" PRIu64 " is too large", argument,
                                   call->prototype->name, reg->value.value);
        call->has_alloc_size = true;
        call->alloc_size = reg->value.value;
        return 0;
    case EBPF_ARG_PTR_TO_CONST_STR:
        if (reg->type != REG_MAP_VALUE || reg->maybe_null ||
            !(reg->map->map_flags & BPF_F_RDONLY_PROG) || !scalar_is_constant(&reg->value) ||
            reg->off < 0 || (uint64_t)reg->off + reg->value.value >= reg->map->value_size)
            return reject_argument(call, argument,
                                   "point to a constant string in read-only data (.rodata)", reg);
        return 0;
    default:
        return verifier_reject(verifier, call->pc,
                               "the prototype of %s has an unknown argument kind %d",
                               call->prototype->name, (int)type);
    }
}

typedef struct release_context {
    uint32_t ref_id;
} release_context_t;

static void invalidate_released(reg_t *reg, void *context)
{
    const release_context_t *release = context;
    if (reg->type == REG_ALLOC_MEM && reg->ref_id == release->ref_id)
        reg_mark_not_init(reg, UNINIT_RELEASED);
}

static void invalidate_packet(reg_t *reg, void *context)
{
    if (reg->type == REG_PACKET || reg->type == REG_PACKET_META || reg->type == REG_PACKET_END)
        reg_mark_not_init(reg, UNINIT_PACKET_CHANGED);
    reg->packet_distance = false;
}

int verifier_check_helper_call(verifier_t *verifier, state_t *state, uint32_t pc,
                               uint32_t helper_id)
{
    const ebpf_helper_prototype_t *prototype = verifier_find_helper(verifier, helper_id);
    const ebpf_program_type_descriptor_t *type = verifier->info->program_type_descriptor;
    frame_t *frame = state_top(state);
    int err;

    if (!prototype)
        return verifier_reject(verifier, pc,
                               "unknown helper %u: the program type %s does not offer it",
                               helper_id, type && type->name ? type->name : "(unnamed)");
    call_context_t call = {.verifier = verifier, .state = state, .pc = pc, .prototype = prototype};
    ebpf_helper_prototype_t named;
    if (!prototype->name) {
        named = *prototype;
        named.name = "the helper";
        call.prototype = &named;
    }
    for (unsigned i = 0; i < 5; i++)
        if ((err = check_argument(&call, i + 1, prototype->arguments[i])) != 0)
            return err;
    if (call.memory.active) {
        /* A memory argument without a size argument: the helper knows the size. */
        call.memory.active = false;
    }
    if (prototype->is_tail_call && state->reference_count)
        return verifier_reject(verifier, pc,
                               "unreleased reference: %s would leave the ring buffer record "
                               "reserved at instruction %u neither submitted nor discarded",
                               call.prototype->name, state->references[0].pc);

    for (uint32_t i = 0; i < call.written_count; i++)
        verifier_stack_mark_written(state, &call.written[i].reg, call.written[i].start,
                                    call.written[i].end);
    if (call.released) {
        release_context_t release = {call.released->ref_id};
        for (uint32_t i = 0; i < state->reference_count; i++) {
            if (state->references[i].id == release.ref_id) {
                memmove(&state->references[i], &state->references[i + 1],
                        (state->reference_count - i - 1) * sizeof(state->references[0]));
                state->reference_count--;
                break;
            }
        }
        state_for_each_reg(state, invalidate_released, &release);
    }
    for (int r = BPF_REG_1; r <= BPF_REG_5; r++)
        reg_mark_not_init(&frame->regs[r], UNINIT_CLOBBERED_BY_CALL);
    if (prototype->changes_packet)
        state_for_each_reg(state, invalidate_packet, NULL);

    reg_t *r0 = &frame->regs[BPF_REG_0];
    switch (prototype->return_type) {
    case EBPF_RET_VOID:
        reg_mark_not_init(r0, UNINIT_CLOBBERED_BY_CALL);
        break;
    case EBPF_RET_PTR_TO_MAP_VALUE_OR_NULL: {
        char name[64];
        if (!call.map)
            return verifier_reject(verifier, pc,
                                   "the prototype of %s returns a map value but takes no map",
                                   call.prototype->name);
        memset(r0, 0, sizeof(*r0));
        scalar_constant(&r0->value, 0);
        r0->maybe_null = true;
        r0->id = verifier_new_id(verifier);
        r0->origin = pc;
        if (call.map->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
            call.map->type == BPF_MAP_TYPE_HASH_OF_MAPS) {
            if (!call.map->inner_map)
                return verifier_reject(verifier, pc,
                                       "map %s holds maps, but what its inner maps are is not "
                                       "known",
                                       verifier_map_name(call.map, name, sizeof(name)));
            r0->type = REG_MAP_PTR;
            r0->map = call.map->inner_map;
        } else {
            r0->type = REG_MAP_VALUE;
            r0->map = call.map;
        }
        break;
    }
    case EBPF_RET_PTR_TO_ALLOC_MEM_OR_NULL:
        if (!call.has_alloc_size)
            return verifier_reject(verifier, pc,
                                   "the prototype of %s returns memory but takes no size",
                                   call.prototype->name);
        if (state->reference_count == VERIFIER_MAX_REFERENCES)
            return verifier_reject(verifier, pc,
                                   "too many unreleased references: more than %d ring buffer "
                                   "records are held at once",
                                   VERIFIER_MAX_REFERENCES);
        memset(r0, 0, sizeof(*r0));
        scalar_constant(&r0->value, 0);
        r0->type = REG_ALLOC_MEM;
        r0->maybe_null = true;
        r0->id = verifier_new_id(verifier);
        r0->ref_id = verifier_new_id(verifier);
        r0->mem_size = (uint32_t)call.alloc_size;
        r0->origin = pc;
        state->references[state->reference_count++] = (reference_t){r0->ref_id, pc};
        break;
    default:
        reg_mark_unknown(r0);
        break;
    }
    return 0;
}
