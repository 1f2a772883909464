/* Test object: a netevent_monitor program that copies each event into a ring buffer. */
#include "bpf_helpers.h"

/* Same layout as netevent_event_md_t of include/ebpf_netevent_hooks.h, spelled here so the
 * loader's test objects do not depend on the extension's headers. */
struct netevent_event_context {
    __u8 *event_data_start;
    __u8 *event_data_end;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} netevent_events SEC(".maps");

SEC("netevent_monitor")
int netevent_monitor_capture(struct netevent_event_context *context)
{
    __u8 *start = context->event_data_start;
    __u8 *end = context->event_data_end;
    __u64 size = (__u64)(end - start);

    if (start >= end || size > 1024)
        return 0;
    bpf_ringbuf_output(&netevent_events, start, size, 0);
    return 0;
}

char _license[] SEC("license") = "MIT";
