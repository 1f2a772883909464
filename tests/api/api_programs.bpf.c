/* BPF programs of the user API tests: maps of every consumer kind, a pinned map, a program array
 * and programs that feed them. */
#include "api_test_type.h"
#include "bpf_helpers.h"

static long (*api_test_add_thousand)(long value) = (void *)API_TEST_HELPER_ADD_THOUSAND;

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
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 16 * 1024);
} more_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

/* Shared by every object that loads this file: load pins it, later loads reuse it. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} shared SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} jump_table SEC(".maps");

__u64 runs;

/* Adds one to the context value; returns the packet length plus the type helper's 1000. */
SEC("api_test")
int echo(api_test_context_t *context)
{
    runs++;
    context->value += 1;
    return (int)api_test_add_thousand((long)(context->data_end - context->data));
}

/* One ring buffer record per run: the first 8 packet bytes. */
SEC("api_test")
int ring_writer(api_test_context_t *context)
{
    unsigned char *data = (unsigned char *)(long)context->data;
    unsigned char *end = (unsigned char *)(long)context->data_end;
    if (data + 8 > end)
        return -1;
    if (context->value)
        return (int)bpf_ringbuf_output(&more_events, data, 8, 0);
    return (int)bpf_ringbuf_output(&events, data, 8, 0);
}

/* One perf sample per run: the context value. */
SEC("api_test")
int perf_writer(api_test_context_t *context)
{
    __u64 sample = context->value;
    return (int)bpf_perf_event_output(context, &perf, BPF_F_CURRENT_CPU, &sample, sizeof(sample));
}

/* Counts its runs in counters[0] and in the pinned map; what a hook runs. */
SEC("api_test")
int count_calls(api_test_context_t *context)
{
    __u32 key = 0;
    __u64 one = 1, *count = bpf_map_lookup_elem(&counters, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    count = bpf_map_lookup_elem(&shared, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&shared, &key, &one, BPF_ANY);
    return 0;
}

/* Jumps to slot 1 of jump_table; 7 when the slot is empty. */
SEC("api_test")
int tail_caller(api_test_context_t *context)
{
    bpf_tail_call(context, &jump_table, 1);
    return 7;
}

char LICENSE[] SEC("license") = "MIT";
