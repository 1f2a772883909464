/* Test object built against Debian libbpf-dev's own <bpf/bpf_helpers.h> instead of ours. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
    __u64 timestamp;
    __u32 cpu;
    __u32 length;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 14);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 1);
} event_count SEC(".maps");

static __noinline __u32 clamp_length(__u64 length)
{
    return length > 1500 ? 1500 : (__u32)length;
}

SEC("netevent_monitor")
int record_event(void *context)
{
    __u32 zero = 0;
    __u64 *count = bpf_map_lookup_elem(&event_count, &zero);
    struct event *record;

    if (count)
        __sync_fetch_and_add(count, 1);
    record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);
    if (!record)
        return 0;
    record->timestamp = bpf_ktime_get_boot_ns();
    record->cpu = bpf_get_smp_processor_id();
    record->length = clamp_length(bpf_get_prandom_u32());
    bpf_ringbuf_submit(record, 0);
    return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
