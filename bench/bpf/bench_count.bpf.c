/* bench_count: the cheapest useful netevent_monitor program (one per-CPU counter increment),
 * for measuring what each extra attached program costs the event path. */
#include "bpf_helpers.h"
#include "ebpf_netevent_hooks.h"

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, uint32_t);
    __type(value, uint64_t);
    __uint(max_entries, 1);
} bench_count_map SEC(".maps");

SEC("netevent_monitor")
int BenchCount(netevent_event_md_t *ctx)
{
    uint32_t zero = 0;
    uint64_t *count = bpf_map_lookup_elem(&bench_count_map, &zero);
    if (count != NULL)
        *count += 1;
    return 0;
}

char LICENSE[] SEC("license") = "MIT";
