/* Stress program: counts its invocations and copies each event's header into its ring, so the
 * stress test can match what every program saw against what the extension delivered. */
#include "bpf_helpers.h"
#include "ebpf_netevent_hooks.h"
#include "netevent_types.h"

/* [0]: invocations; [1]: events whose header did not fit (never, for well-formed events). */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 2);
} invocations SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} headers SEC(".maps");

SEC("netevent_monitor")
int count_event(netevent_event_md_t *ctx)
{
    __u32 key = 0;
    __u64 *count = bpf_map_lookup_elem(&invocations, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    if (ctx->event_data_start + sizeof(netevent_event_header_t) > ctx->event_data_end) {
        key = 1;
        count = bpf_map_lookup_elem(&invocations, &key);
        if (count)
            __sync_fetch_and_add(count, 1);
        return 0;
    }
    /* A full ring drops the record and counts the drop: the test reads that count. */
    bpf_ringbuf_output(&headers, ctx->event_data_start, sizeof(netevent_event_header_t), 0);
    return 0;
}

char LICENSE[] SEC("license") = "MIT";
