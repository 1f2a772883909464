/* netevent_monitor: stores every network event it is given into the netevent_events_map ring
 * buffer, for user space to read (the program of the original, on Linux). */
#include "bpf_helpers.h"
#include "ebpf_netevent_hooks.h"
#include "netevent_types.h"

/* An event larger than this (header + jumbo frame) is cut to it. */
#define EVENT_SIZE_MAX ((long)sizeof(netevent_event_header_t) + 9216)

/* Ring buffer of events, 512 KiB. */
#define EVENTS_MAP_SIZE (512 * 1024)
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, EVENTS_MAP_SIZE);
} netevent_events_map SEC(".maps");

/* Checks the prototype at compile time. */
netevent_event_hook_t NetEventMonitor;

SEC("netevent_monitor")
int NetEventMonitor(netevent_event_md_t *ctx)
{
    uint8_t *start = ctx->event_data_start;
    uint8_t *end = ctx->event_data_end;

    /* Every event carries at least its header. */
    if (start + sizeof(netevent_event_header_t) > end)
        return -1;
    long size = end - start;
    if (size > EVENT_SIZE_MAX)
        size = EVENT_SIZE_MAX;
    return (int)bpf_ringbuf_output(&netevent_events_map, start, size, 0);
}

char LICENSE[] SEC("license") = "MIT";
