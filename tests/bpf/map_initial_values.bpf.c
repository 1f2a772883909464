/* Test object: map-in-map and prog-array definitions whose slots are filled in the object. */
#include "bpf_helpers.h"

struct inner_counter {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 1);
};

struct inner_counter inner_first SEC(".maps");
struct inner_counter inner_second SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, struct inner_counter);
} outer_array SEC(".maps") = {
    .values = {[0] = &inner_first, [2] = &inner_second},
};

SEC("netevent_monitor/tail")
int tail_target(void *context)
{
    return 42;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int(void *));
} jump_table SEC(".maps") = {
    .values = {[1] = (void *)&tail_target},
};

SEC("netevent_monitor")
int dispatch(void *context)
{
    __u32 key = 2;
    void *inner = bpf_map_lookup_elem(&outer_array, &key);
    if (!inner)
        return 0;
    bpf_tail_call(context, &jump_table, 1);
    return 1;
}

char _license[] SEC("license") = "GPL";
