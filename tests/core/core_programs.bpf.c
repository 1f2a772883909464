/* BPF programs that exercise the core's general helpers, maps, globals and tail calls. */
#include "bpf_helpers.h"
#include "core_test_type.h"

static long (*core_test_double)(long value) = (void *)CORE_TEST_HELPER_DOUBLE;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} table SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} per_cpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 8);
    __type(value, __u32);
} queue SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __uint(max_entries, 8);
    __type(value, __u32);
} stack SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct inner_map {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} inner SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner_map);
} outer SEC(".maps") = {.values = {[1] = &inner}};

int tail_target(core_test_context_t *context);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, int(core_test_context_t *));
} jump_table SEC(".maps") = {.values = {[2] = (void *)&tail_target}};

const volatile __u64 scale = 3;
__u64 calls = 1; /* nonzero: lives in .data */
__u64 last_length;

/* Sums the packet bytes with bounds checks; stores the length in the context. */
SEC("core_test")
int sum_packet(core_test_context_t *context)
{
    unsigned char *data = (unsigned char *)(long)context->data;
    unsigned char *end = (unsigned char *)(long)context->data_end;
    int sum = 0;
    for (int i = 0; i < 256; i++) {
        if (data + i + 1 > end)
            break;
        sum += data[i];
    }
    context->value = end - data;
    return sum;
}

/* Array and hash operations; returns a code that names the first failure (0 = all good). */
SEC("core_test")
int map_operations(core_test_context_t *context)
{
    __u32 key = 1;
    __u64 value = 10, *found;

    found = bpf_map_lookup_elem(&counters, &key);
    if (!found)
        return 1;
    __sync_fetch_and_add(found, 5);
    if (bpf_map_update_elem(&table, &key, &value, BPF_NOEXIST) != 0)
        return 2;
    if (bpf_map_update_elem(&table, &key, &value, BPF_NOEXIST) != -17 /* -EEXIST */)
        return 3;
    key = 2;
    if (bpf_map_update_elem(&table, &key, &value, BPF_EXIST) != -2 /* -ENOENT */)
        return 4;
    key = 1;
    found = bpf_map_lookup_elem(&table, &key);
    if (!found || *found != 10)
        return 5;
    *found = context->value;
    key = 7;
    if (bpf_map_delete_elem(&table, &key) != -2)
        return 6;
    key = 0;
    __u64 *mine = bpf_map_lookup_elem(&per_cpu, &key);
    if (!mine)
        return 7;
    *mine += 1;
    return 0;
}

/* Ring buffer output, reserve+submit and reserve+discard. */
SEC("core_test")
int ring_writer(core_test_context_t *context)
{
    unsigned char *data = (unsigned char *)(long)context->data;
    unsigned char *end = (unsigned char *)(long)context->data_end;
    if (data + 8 > end)
        return -1;
    if (bpf_ringbuf_output(&events, data, 8, 0) != 0)
        return -2;
    __u64 *record = bpf_ringbuf_reserve(&events, sizeof(__u64), 0);
    if (!record)
        return -3;
    *record = 0x1122334455667788ull;
    bpf_ringbuf_submit(record, 0);
    record = bpf_ringbuf_reserve(&events, sizeof(__u64), 0);
    if (!record)
        return -4;
    *record = 0xdead;
    bpf_ringbuf_discard(record, 0);
    return (int)bpf_ringbuf_query(&events, 0 /* BPF_RB_AVAIL_DATA */);
}

SEC("core_test")
int queue_and_stack(core_test_context_t *context)
{
    __u32 value;
    for (__u32 i = 1; i <= 3; i++) {
        bpf_map_push_elem(&queue, &i, 0);
        bpf_map_push_elem(&stack, &i, 0);
    }
    __u32 result = 0;
    if (bpf_map_pop_elem(&queue, &value) == 0)
        result = value * 10; /* 1: first in, first out */
    if (bpf_map_peek_elem(&stack, &value) == 0)
        result += value; /* 3: last in, first out */
    return result;
}

SEC("core_test")
int tail_caller(core_test_context_t *context)
{
    bpf_tail_call(context, &jump_table, (__u32)context->value);
    return 7; /* the slot was empty */
}

SEC("core_test")
int tail_target(core_test_context_t *context)
{
    return 42;
}

SEC("core_test")
int use_globals(core_test_context_t *context)
{
    calls++;
    last_length = context->data_end - context->data;
    return (int)(scale * calls);
}

SEC("core_test")
int inner_map_lookup(core_test_context_t *context)
{
    __u32 key = 1, zero = 0;
    void *inner_map = bpf_map_lookup_elem(&outer, &key);
    if (!inner_map)
        return -1;
    __u64 *value = bpf_map_lookup_elem(inner_map, &zero);
    if (!value)
        return -2;
    *value += 100;
    return (int)*value;
}

SEC("core_test")
int misc_helpers(core_test_context_t *context)
{
    __be32 from[2] = {0x01020304, 0x05060708}, to[2] = {0x01020304, 0x0a0b0c0d};
    char source[8] = "netevnt", destination[8] = {0};

    bpf_printk("misc %d %u", -5, 7);
    if (bpf_ktime_get_ns() == 0 || bpf_ktime_get_boot_ns() == 0)
        return 1;
    if (bpf_get_current_pid_tgid() == 0)
        return 2;
    if (bpf_get_smp_processor_id() > 4096)
        return 3;
    if (!bpf_memcpy(destination, sizeof(destination), source, sizeof(source)))
        return 4;
    if (bpf_memcmp(destination, sizeof(destination), source, sizeof(source)) != 0)
        return 5;
    bpf_memset(destination, sizeof(destination), 0);
    if (bpf_memcmp(destination, sizeof(destination), source, sizeof(source)) == 0)
        return 6;
    context->value = (__u64)bpf_csum_diff(from, sizeof(from), to, sizeof(to), 0);
    return (int)core_test_double(21);
}

SEC("core_test")
int perf_writer(core_test_context_t *context)
{
    __u64 sample = 0xabcdef;
    /* The sample, then the first 4 packet bytes (the context-length flag bits). */
    return bpf_perf_event_output(context, &perf, BPF_F_CURRENT_CPU | (4ull << 32), &sample,
                                 sizeof(sample));
}

/* No bounds check: reads past the packet; the checked interpreter must stop it. */
SEC("core_test")
int reads_past_packet(core_test_context_t *context)
{
    unsigned char *data = (unsigned char *)(long)context->data;
    return data[4096];
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Array lookups at the key the context gives, in range or not (native code inlines them):
 * bit 0 when counters has the key, bit 1 when per_cpu has it; each value found grows by 1 and
 * the counters value goes back in the context. */
SEC("core_test")
int array_lookup_bounds(core_test_context_t *context)
{
    __u32 key = (__u32)context->value;
    int found = 0;
    __u64 *counter = bpf_map_lookup_elem(&counters, &key);
    if (counter) {
        *counter += 1;
        context->value = *counter;
        found |= 1;
    }
    __u64 *mine = bpf_map_lookup_elem(&per_cpu, &key);
    if (mine) {
        *mine += 1;
        found |= 2;
    }
    return found;
}

/* For the concurrency test: count into a hash element that user space deletes at random. */
SEC("core_test")
int table_touch(core_test_context_t *context)
{
    __u32 key = (__u32)(context->value % 8);
    __u64 one = 1, *value = bpf_map_lookup_elem(&table, &key);
    if (value) {
        __sync_fetch_and_add(value, 1);
        return 1;
    }
    bpf_map_update_elem(&table, &key, &one, BPF_ANY);
    return 0;
}

/* For the concurrency test: one 16-byte record per run, carrying a producer tag and sequence. */
SEC("core_test")
int ring_sequence(core_test_context_t *context)
{
    __u64 *record = bpf_ringbuf_reserve(&events, 16, 0);
    if (!record)
        return -1;
    record[0] = context->value; /* producer << 32 | sequence */
    record[1] = ~context->value;
    bpf_ringbuf_submit(record, 0);
    return 0;
}
