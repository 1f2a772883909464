/* Test object: several programs, two of them sharing one section, with no subprograms. */
#include "bpf_helpers.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 8);
} verdicts SEC(".maps");

SEC("netevent_monitor")
int accept_all(void *context)
{
    return 0;
}

SEC("netevent_monitor")
int count_in_same_section(void *context)
{
    __u32 key = 7;
    __u32 *verdict = bpf_map_lookup_elem(&verdicts, &key);
    return verdict ? (int)*verdict : 1;
}

SEC("xdp")
int drop_all(void *context)
{
    return 1;
}

SEC("bind")
int record_bind(void *context)
{
    __u32 key = (__u32)bpf_get_prandom_u32();
    __u32 value = bpf_get_smp_processor_id();
    bpf_map_update_elem(&verdicts, &key, &value, BPF_ANY);
    return 0;
}

char _license[] SEC("license") = "MIT";
