/* Test object: bpf-to-bpf calls, a subprogram shared by two programs and a nested call chain. */
#include "bpf_helpers.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 4);
} call_counts SEC(".maps");

/* Innermost link of the chain; also touches a map, so a relocation lands inside a
 * subprogram and must follow it into every program that links it. */
static __noinline __u64 count_call(__u32 slot)
{
    __u64 *count = bpf_map_lookup_elem(&call_counts, &slot);
    if (!count)
        return 0;
    *count += 1;
    return *count;
}

/* Calls count_call: the nested call. */
static __noinline __u64 weigh_event(__u64 size, __u32 slot)
{
    return size * 3 + count_call(slot);
}

/* A global (non-static) subprogram: clang emits its call through the function symbol instead of
 * the section symbol. */
__noinline __u64 scale_global(__u64 value)
{
    return value * 7 + 1;
}

SEC("netevent_monitor")
int first_program(void *context)
{
    return (int)weigh_event((__u64)(long)context, 1);
}

SEC("netevent_monitor/second")
int second_program(void *context)
{
    __u64 total = weigh_event(64, 2);
    return (int)(scale_global(total) + count_call(3));
}

char _license[] SEC("license") = "GPL";
