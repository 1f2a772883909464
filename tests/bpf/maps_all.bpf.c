/* Test object: one BTF-defined map of every supported kind, each used by the program. */
#include "bpf_helpers.h"

struct flow_key {
    __u32 source;
    __u32 destination;
    __u16 source_port;
    __u16 destination_port;
};

struct flow_stats {
    __u64 packets;
    __u64 bytes;
};

struct ipv4_prefix {
    __u32 prefix_length;
    __u8 address[4];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 16);
} array_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct flow_key);
    __type(value, struct flow_stats);
    __uint(max_entries, 1024);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} hash_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 8);
    __uint(max_entries, 4);
} percpu_array_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __type(key, __u64);
    __type(value, __u32);
    __uint(max_entries, 32);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} percpu_hash_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, __u32);
    __type(value, struct flow_stats);
    __uint(max_entries, 64);
} lru_hash_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 128);
} lru_percpu_hash_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
    __uint(max_entries, 8);
} prog_array_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __type(value, __u32);
    __uint(max_entries, 10);
} queue_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __type(value, __u64);
    __uint(max_entries, 20);
} stack_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct ipv4_prefix);
    __type(value, __u32);
    __uint(max_entries, 256);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} lpm_trie_map SEC(".maps");

struct inner_array {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 2);
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 3);
    __type(key, __u32);
    __array(values, struct inner_array);
} array_of_maps SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 5);
    __type(key, __u64);
    __array(
        values, struct {
            __uint(type, BPF_MAP_TYPE_HASH);
            __type(key, __u32);
            __type(value, __u16);
            __uint(max_entries, 7);
        });
} hash_of_maps SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} ringbuf_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} perf_event_array_map SEC(".maps");

SEC("netevent_monitor")
int use_every_map(void *context)
{
    /* Filled field by field: an aggregate initializer would make clang emit .rodata constants,
     * which would add global-data maps to an object meant to hold exactly one map per kind. */
    __u32 key = 1;
    __u64 wide_key = 2;
    struct flow_key flow;
    struct flow_stats stats;
    struct ipv4_prefix prefix;
    __u32 small = 3;
    __u64 large = 4;
    long result = 0;

    flow.source = key;
    flow.destination = small;
    flow.source_port = 80;
    flow.destination_port = 443;
    stats.packets = 1;
    stats.bytes = wide_key;
    prefix.prefix_length = 32;
    prefix.address[0] = 10;
    prefix.address[1] = 0;
    prefix.address[2] = 0;
    prefix.address[3] = 1;

    __u64 *counter = bpf_map_lookup_elem(&array_map, &key);
    if (counter)
        *counter += 1;
    bpf_map_update_elem(&hash_map, &flow, &stats, BPF_ANY);
    if (bpf_map_lookup_elem(&percpu_array_map, &key))
        result += 1;
    bpf_map_update_elem(&percpu_hash_map, &wide_key, &small, BPF_NOEXIST);
    bpf_map_update_elem(&lru_hash_map, &key, &stats, BPF_ANY);
    bpf_map_delete_elem(&lru_percpu_hash_map, &key);
    bpf_map_push_elem(&queue_map, &small, BPF_EXIST);
    bpf_map_pop_elem(&stack_map, &large);
    if (bpf_map_lookup_elem(&lpm_trie_map, &prefix))
        result += 2;
    if (bpf_map_lookup_elem(&array_of_maps, &key))
        result += 4;
    if (bpf_map_lookup_elem(&hash_of_maps, &wide_key))
        result += 8;
    bpf_ringbuf_output(&ringbuf_map, &stats, sizeof(stats), 0);
    bpf_perf_event_output(context, &perf_event_array_map, BPF_F_CURRENT_CPU, &stats, sizeof(stats));
    bpf_tail_call(context, &prog_array_map, 0);
    return (int)result;
}

char _license[] SEC("license") = "GPL";
