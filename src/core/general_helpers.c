/* The general helpers every program type gets: Linux ids and semantics, plus the eBPF for
 * Windows memory helpers. Helpers run on the event path: no allocation after warm-up, no
 * locks, no logging except trace_printk. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core_private.h"

#define U64(x) ((uint64_t)(uintptr_t)(x))
#define PTR(x) ((void *)(uintptr_t)(x))

/* A map argument of a checked run must be one the program names or one a map-in-map lookup
 * gave it in this run; a native (verified) run has no run record to consult here. */
static bool map_argument_ok(ebpf_map_t *map)
{
    if (map == NULL)
        return false;
    if (!core_run_checks_arguments() || core_run_knows_map(core_run_current(), map))
        return true;
    (void)ebpf_exec_check_access(map, 1, false); /* marks the run faulted with a message */
    return false;
}

static bool key_ok(ebpf_map_t *map, const void *key)
{
    return !core_run_checks_arguments() ||
           ebpf_exec_check_access(key, ebpf_map_get_definition(map)->key_size, false);
}

static bool value_ok(ebpf_map_t *map, const void *value, bool write)
{
    return !core_run_checks_arguments() ||
           ebpf_exec_check_access(value, ebpf_map_get_definition(map)->value_size, write);
}

static uint64_t map_lookup_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_map_t *map = PTR(r1);
    void *value;

    if (!map_argument_ok(map) || !key_ok(map, PTR(r2)))
        return 0;
    value = ebpf_map_lookup_program(map, PTR(r2));
    if (value != NULL) {
        uint32_t type = ebpf_map_get_definition(map)->type;
        /* An inner map becomes a map the program may pass to helpers in this run. */
        if ((type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS) &&
            !core_run_note_map(value))
            return 0;
    }
    return U64(value);
}

static uint64_t map_update_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_map_t *map = PTR(r1);
    if (!map_argument_ok(map) || !key_ok(map, PTR(r2)) || !value_ok(map, PTR(r3), false))
        return (uint64_t)-EINVAL;
    return (uint64_t)(int64_t)ebpf_map_update_program(map, PTR(r2), PTR(r3), r4);
}

static uint64_t map_delete_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_map_t *map = PTR(r1);
    if (!map_argument_ok(map) || !key_ok(map, PTR(r2)))
        return (uint64_t)-EINVAL;
    return (uint64_t)(int64_t)ebpf_map_delete_program(map, PTR(r2));
}

static uint64_t map_push_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_map_t *map = PTR(r1);
    if (!map_argument_ok(map) || !value_ok(map, PTR(r2), false))
        return (uint64_t)-EINVAL;
    return (uint64_t)(int64_t)ebpf_map_push(map, PTR(r2), r3);
}

static uint64_t map_pop_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_map_t *map = PTR(r1);
    if (!map_argument_ok(map) || !value_ok(map, PTR(r2), true))
        return (uint64_t)-EINVAL;
    return (uint64_t)(int64_t)ebpf_map_pop(map, PTR(r2));
}

static uint64_t map_peek_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_map_t *map = PTR(r1);
    if (!map_argument_ok(map) || !value_ok(map, PTR(r2), true))
        return (uint64_t)-EINVAL;
    return (uint64_t)(int64_t)ebpf_map_peek(map, PTR(r2));
}

static uint64_t ktime_get_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    return ebpf_clock_monotonic_ns();
}

static uint64_t ktime_get_boot_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    return ebpf_clock_boot_ns();
}

static uint64_t get_prandom_u32(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    /* xorshift64* per thread, seeded once from the kernel's entropy. */
    static _Thread_local uint64_t state;
    if (state == 0) {
        if (getrandom(&state, sizeof(state), GRND_NONBLOCK) != sizeof(state) || state == 0)
            state = ebpf_clock_monotonic_ns() | 1;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (uint32_t)((state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint64_t get_smp_processor_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                     uint64_t r5)
{
    uint32_t cpu = ebpf_cpu_claimed();
    return cpu == UINT32_MAX ? ebpf_cpu_current() : cpu;
}

static uint64_t get_current_pid_tgid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                     uint64_t r5)
{
    static _Thread_local uint64_t cached;
    if (cached == 0)
        cached = (uint64_t)getpid() << 32 | (uint32_t)gettid();
    return cached;
}

/* bpf_trace_printk: the kernel's subset of printf (%d %i %u %x %X %ld %lu %lx %lld %llu %llx
 * %p %c %%, at most three arguments), written to the log at info level. */
static uint64_t trace_printk(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    const char *format = PTR(r1);
    uint32_t size = (uint32_t)r2;
    const uint64_t arguments[3] = {r3, r4, r5};
    char out[512];
    size_t used = 0;
    int next = 0;

    if (size == 0 || memchr(format, '\0', size) == NULL)
        return (uint64_t)-EINVAL;
    for (const char *p = format; *p != '\0' && used < sizeof(out) - 1; p++) {
        char piece[64];
        int length = 0;
        if (*p != '%') {
            out[used++] = *p;
            continue;
        }
        p++;
        int longs = 0;
        while (*p == 'l' && longs < 2) {
            longs++;
            p++;
        }
        if (*p == '%' && longs == 0) {
            out[used++] = '%';
            continue;
        }
        if (next >= 3 || strchr("diuxXpc", *p) == NULL || *p == '\0')
            return (uint64_t)-EINVAL; /* the kernel refuses such formats too */
        uint64_t value = arguments[next++];
        switch (*p) {
        case 'd':
        case 'i':
            length = snprintf(piece, sizeof(piece), "%lld",
                              longs ? (long long)value : (long long)(int32_t)value);
            break;
        case 'u':
            length =
                snprintf(piece, sizeof(piece), "%llu",
                         longs ? (unsigned long long)value : (unsigned long long)(uint32_t)value);
            break;
        case 'x':
        case 'X':
            length =
                snprintf(piece, sizeof(piece), *p == 'x' ? "%llx" : "%llX",
                         longs ? (unsigned long long)value : (unsigned long long)(uint32_t)value);
            break;
        case 'p':
            length = snprintf(piece, sizeof(piece), "0x%llx", (unsigned long long)value);
            break;
        case 'c':
            length = snprintf(piece, sizeof(piece), "%c", (char)value);
            break;
        }
        for (int i = 0; i < length && used < sizeof(out) - 1; i++)
            out[used++] = piece[i];
    }
    out[used] = '\0';
    ebpf_log(EBPF_LOG_INFO, "trace: %s", out);
    return used;
}

static uint64_t tail_call(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_map_t *map = PTR(r2);
    core_run_t *run = core_run_current();
    const ebpf_program_t *target;

    if (!map_argument_ok(map) || ebpf_map_get_definition(map)->type != BPF_MAP_TYPE_PROG_ARRAY)
        return (uint64_t)-EINVAL;
    target = ebpf_map_get_program(map, (uint32_t)r3);
    if (target == NULL)
        return (uint64_t)-ENOENT;
    /* A tail call stays within one program type (the context means the same thing). */
    if (run != NULL && !ebpf_guid_equal(&target->program_type, &run->program->program_type))
        return (uint64_t)-EINVAL;
    return (uint64_t)(int64_t)ebpf_exec_tail_call_request(target);
}

/* Appends the first n bytes of the packet to a perf sample (BPF_F_CTXLEN_MASK). */
static ebpf_thread_scratch_t *_Atomic perf_scratch;

static uint64_t perf_event_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_map_t *map = PTR(r2);
    uint64_t flags = r3, size = r5;
    uint64_t context_length = (flags & BPF_F_CTXLEN_MASK) >> 32;
    core_run_t *run = core_run_current();

    if (!map_argument_ok(map))
        return (uint64_t)-EINVAL;
    if (context_length == 0)
        return (uint64_t)(int64_t)ebpf_map_perf_event_output(map, flags, PTR(r4), size);

    /* Packet bytes follow the sample, as for skb programs on Linux. */
    if (run == NULL || run->context == NULL || run->program->context_descriptor.data < 0)
        return (uint64_t)-EINVAL;
    uintptr_t data, end;
    memcpy(&data, (uint8_t *)run->context + run->program->context_descriptor.data, sizeof(data));
    memcpy(&end, (uint8_t *)run->context + run->program->context_descriptor.end, sizeof(end));
    if (end < data || context_length > end - data || size + context_length > 0xffff)
        return (uint64_t)-EFAULT;
    ebpf_thread_scratch_t *scratch = atomic_load(&perf_scratch);
    if (scratch == NULL) {
        ebpf_thread_scratch_t *created;
        if (ebpf_thread_scratch_create(&created) != 0)
            return (uint64_t)-ENOMEM;
        if (!atomic_compare_exchange_strong(&perf_scratch, &scratch, created))
            ebpf_thread_scratch_destroy(created);
        else
            scratch = created;
    }
    uint8_t *sample = ebpf_thread_scratch_get(scratch, size + context_length);
    if (sample == NULL)
        return (uint64_t)-ENOMEM;
    memcpy(sample, PTR(r4), size);
    memcpy(sample + size, PTR(data), context_length);
    return (uint64_t)(int64_t)ebpf_map_perf_event_output(map, flags & ~BPF_F_CTXLEN_MASK, sample,
                                                         size + context_length);
}

/* One's-complement sum of 32-bit words, folded to 32 bits (what csum_partial returns). */
static uint64_t add_words(uint64_t sum, const uint8_t *bytes, uint32_t size, bool negate)
{
    for (uint32_t i = 0; i < size; i += 4) {
        uint32_t word;
        memcpy(&word, bytes + i, 4);
        sum += negate ? (uint32_t)~word : word;
    }
    return sum;
}

static uint64_t csum_diff(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    uint32_t from_size = (uint32_t)r2, to_size = (uint32_t)r4;
    uint64_t sum = (uint32_t)r5;

    /* Linux: sizes are multiples of 4, at most 512 bytes of diff. */
    if ((from_size | to_size) % 4 != 0 || from_size + (uint64_t)to_size > 512 ||
        (from_size && r1 == 0) || (to_size && r3 == 0))
        return (uint64_t)-EINVAL;
    sum = add_words(sum, PTR(r1), from_size, true);
    sum = add_words(sum, PTR(r3), to_size, false);
    while (sum >> 32)
        sum = (sum & 0xffffffffu) + (sum >> 32);
    return sum;
}

static ebpf_ring_buffer_t *ring_of_map(ebpf_map_t *map)
{
    if (!map_argument_ok(map))
        return NULL;
    return ebpf_map_get_ring_buffer(map);
}

static uint64_t ringbuf_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_ring_buffer_t *ring = ring_of_map(PTR(r1));
    if (ring == NULL)
        return (uint64_t)-EINVAL;
    return (uint64_t)(int64_t)ebpf_ring_buffer_output(ring, PTR(r2), r3, r4);
}

static uint64_t ringbuf_reserve(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_ring_buffer_t *ring = ring_of_map(PTR(r1));
    if (ring == NULL)
        return 0;
    return U64(ebpf_ring_buffer_reserve(ring, r2, r3));
}

/* The ring a reserved record belongs to: among the maps the run may use. */
static ebpf_ring_buffer_t *ring_of_record(const void *record)
{
    core_run_t *run = core_run_current();
    if (run == NULL)
        return NULL;
    for (uint32_t i = 0; i < run->program->map_count + run->extra_map_count; i++) {
        ebpf_map_t *map = i < run->program->map_count
                              ? run->program->maps[i]
                              : run->extra_maps[i - run->program->map_count];
        ebpf_ring_buffer_t *ring = ebpf_map_get_ring_buffer(map);
        if (ring != NULL && ebpf_ring_buffer_contains(ring, record, 1))
            return ring;
    }
    return NULL;
}

static uint64_t ringbuf_submit(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_ring_buffer_t *ring = ring_of_record(PTR(r1));
    if (ring != NULL)
        ebpf_ring_buffer_submit(ring, PTR(r1), r2);
    else
        (void)ebpf_exec_check_access(PTR(r1), 1, true);
    return 0;
}

static uint64_t ringbuf_discard(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_ring_buffer_t *ring = ring_of_record(PTR(r1));
    if (ring != NULL)
        ebpf_ring_buffer_discard(ring, PTR(r1), r2);
    else
        (void)ebpf_exec_check_access(PTR(r1), 1, true);
    return 0;
}

static uint64_t ringbuf_query(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_ring_buffer_t *ring = ring_of_map(PTR(r1));
    return ring == NULL ? 0 : ebpf_ring_buffer_query(ring, r2);
}

/* eBPF for Windows memory helpers: sizes travel with the pointers. */
static uint64_t memory_copy(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    if (r4 > r2)
        return 0; /* the source does not fit: nothing copied, NULL returned */
    memcpy(PTR(r1), PTR(r3), r4);
    return r1;
}

static uint64_t memory_set(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    memset(PTR(r1), (int)r3, r2);
    return r1;
}

static uint64_t memory_compare(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    uint64_t common = r2 < r4 ? r2 : r4;
    int order = memcmp(PTR(r1), PTR(r3), common);
    if (order == 0)
        order = r2 < r4 ? -1 : r2 > r4 ? 1 : 0;
    return (uint64_t)(int64_t)(order < 0 ? -1 : order > 0 ? 1 : 0);
}

static uint64_t memory_move(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    if (r4 > r2)
        return 0;
    memmove(PTR(r1), PTR(r3), r4);
    return r1;
}

#define HEADER EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t)
#define PROTOTYPE(id_, name_, return_, ...)                                                        \
    {                                                                                              \
        .header = HEADER, .id = (id_), .name = (name_), .return_type = (return_), .arguments = {   \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }

static const ebpf_helper_prototype_t prototypes[] = {
    PROTOTYPE(BPF_FUNC_map_lookup_elem, "bpf_map_lookup_elem", EBPF_RET_PTR_TO_MAP_VALUE_OR_NULL,
              EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_PTR_TO_MAP_KEY),
    PROTOTYPE(BPF_FUNC_map_update_elem, "bpf_map_update_elem", EBPF_RET_INTEGER,
              EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_PTR_TO_MAP_KEY, EBPF_ARG_PTR_TO_MAP_VALUE,
              EBPF_ARG_ANYTHING),
    PROTOTYPE(BPF_FUNC_map_delete_elem, "bpf_map_delete_elem", EBPF_RET_INTEGER,
              EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_PTR_TO_MAP_KEY),
    PROTOTYPE(BPF_FUNC_ktime_get_ns, "bpf_ktime_get_ns", EBPF_RET_INTEGER),
    /* The three values are optional (as many as the format uses): not checked as set. */
    PROTOTYPE(BPF_FUNC_trace_printk, "bpf_trace_printk", EBPF_RET_INTEGER,
              EBPF_ARG_PTR_TO_READABLE_MEM, EBPF_ARG_CONST_SIZE, EBPF_ARG_DONTCARE,
              EBPF_ARG_DONTCARE, EBPF_ARG_DONTCARE),
    PROTOTYPE(BPF_FUNC_get_prandom_u32, "bpf_get_prandom_u32", EBPF_RET_INTEGER),
    PROTOTYPE(BPF_FUNC_get_smp_processor_id, "bpf_get_smp_processor_id", EBPF_RET_INTEGER),
    {.header = HEADER,
     .id = BPF_FUNC_tail_call,
     .name = "bpf_tail_call",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_PTR_TO_CTX, EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_ANYTHING},
     .is_tail_call = true},
    PROTOTYPE(BPF_FUNC_get_current_pid_tgid, "bpf_get_current_pid_tgid", EBPF_RET_INTEGER),
    PROTOTYPE(BPF_FUNC_perf_event_output, "bpf_perf_event_output", EBPF_RET_INTEGER,
              EBPF_ARG_PTR_TO_CTX, EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_ANYTHING,
              EBPF_ARG_PTR_TO_READABLE_MEM, EBPF_ARG_CONST_SIZE_OR_ZERO),
    PROTOTYPE(BPF_FUNC_csum_diff, "bpf_csum_diff", EBPF_RET_INTEGER,
              EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL, EBPF_ARG_CONST_SIZE_OR_ZERO,
              EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL, EBPF_ARG_CONST_SIZE_OR_ZERO, EBPF_ARG_ANYTHING),
    PROTOTYPE(BPF_FUNC_map_push_elem, "bpf_map_push_elem", EBPF_RET_INTEGER,
              EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_PTR_TO_MAP_VALUE, EBPF_ARG_ANYTHING),
    PROTOTYPE(BPF_FUNC_map_pop_elem, "bpf_map_pop_elem", EBPF_RET_INTEGER,
              EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_PTR_TO_UNINIT_MAP_VALUE),
    PROTOTYPE(BPF_FUNC_map_peek_elem, "bpf_map_peek_elem", EBPF_RET_INTEGER,
              EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_PTR_TO_UNINIT_MAP_VALUE),
    PROTOTYPE(BPF_FUNC_ktime_get_boot_ns, "bpf_ktime_get_boot_ns", EBPF_RET_INTEGER),
    PROTOTYPE(BPF_FUNC_ringbuf_output, "bpf_ringbuf_output", EBPF_RET_INTEGER,
              EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_PTR_TO_READABLE_MEM, EBPF_ARG_CONST_SIZE_OR_ZERO,
              EBPF_ARG_ANYTHING),
    PROTOTYPE(BPF_FUNC_ringbuf_reserve, "bpf_ringbuf_reserve", EBPF_RET_PTR_TO_ALLOC_MEM_OR_NULL,
              EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_CONST_ALLOC_SIZE_OR_ZERO, EBPF_ARG_ANYTHING),
    PROTOTYPE(BPF_FUNC_ringbuf_submit, "bpf_ringbuf_submit", EBPF_RET_VOID,
              EBPF_ARG_PTR_TO_ALLOC_MEM, EBPF_ARG_ANYTHING),
    PROTOTYPE(BPF_FUNC_ringbuf_discard, "bpf_ringbuf_discard", EBPF_RET_VOID,
              EBPF_ARG_PTR_TO_ALLOC_MEM, EBPF_ARG_ANYTHING),
    PROTOTYPE(BPF_FUNC_ringbuf_query, "bpf_ringbuf_query", EBPF_RET_INTEGER,
              EBPF_ARG_CONST_PTR_TO_MAP, EBPF_ARG_ANYTHING),
    PROTOTYPE(EBPF_GENERAL_EXTRA_HELPER_BASE + 0, "bpf_memcpy", EBPF_RET_INTEGER,
              EBPF_ARG_PTR_TO_WRITABLE_MEM, EBPF_ARG_CONST_SIZE, EBPF_ARG_PTR_TO_READABLE_MEM,
              EBPF_ARG_CONST_SIZE_OR_ZERO),
    PROTOTYPE(EBPF_GENERAL_EXTRA_HELPER_BASE + 1, "bpf_memset", EBPF_RET_INTEGER,
              EBPF_ARG_PTR_TO_WRITABLE_MEM, EBPF_ARG_CONST_SIZE, EBPF_ARG_ANYTHING),
    PROTOTYPE(EBPF_GENERAL_EXTRA_HELPER_BASE + 2, "bpf_memcmp", EBPF_RET_INTEGER,
              EBPF_ARG_PTR_TO_READABLE_MEM, EBPF_ARG_CONST_SIZE_OR_ZERO,
              EBPF_ARG_PTR_TO_READABLE_MEM, EBPF_ARG_CONST_SIZE_OR_ZERO),
    PROTOTYPE(EBPF_GENERAL_EXTRA_HELPER_BASE + 3, "bpf_memmove", EBPF_RET_INTEGER,
              EBPF_ARG_PTR_TO_WRITABLE_MEM, EBPF_ARG_CONST_SIZE, EBPF_ARG_PTR_TO_READABLE_MEM,
              EBPF_ARG_CONST_SIZE_OR_ZERO),
};

/* Parallel to prototypes[]. */
static const ebpf_helper_function_t functions[] = {
    map_lookup_elem, map_update_elem,      map_delete_elem, ktime_get_ns,         trace_printk,
    get_prandom_u32, get_smp_processor_id, tail_call,       get_current_pid_tgid, perf_event_output,
    csum_diff,       map_push_elem,        map_pop_elem,    map_peek_elem,        ktime_get_boot_ns,
    ringbuf_output,  ringbuf_reserve,      ringbuf_submit,  ringbuf_discard,      ringbuf_query,
    memory_copy,     memory_set,           memory_compare,  memory_move,
};

_Static_assert(EBPF_ARRAY_SIZE(prototypes) == EBPF_ARRAY_SIZE(functions),
               "every general helper prototype has its function");

const ebpf_helper_prototype_t *ebpf_core_general_helpers(size_t *count)
{
    *count = EBPF_ARRAY_SIZE(prototypes);
    return prototypes;
}

const ebpf_helper_prototype_t *ebpf_core_find_general_helper(uint32_t id,
                                                             ebpf_helper_function_t *function)
{
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(prototypes); i++) {
        if (prototypes[i].id == id) {
            if (function != NULL)
                *function = functions[i];
            return &prototypes[i];
        }
    }
    return NULL;
}
