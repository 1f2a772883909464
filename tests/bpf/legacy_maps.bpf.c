/* Test object: legacy `struct bpf_map_def SEC("maps")` definitions and a kernel version. */
#include "bpf_helpers.h"

struct bpf_map_def SEC("maps") legacy_array = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 32,
};

struct bpf_map_def SEC("maps") legacy_hash = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = 8,
    .value_size = 16,
    .max_entries = 100,
    .map_flags = BPF_F_NO_PREALLOC,
};

struct bpf_map_def SEC("maps") legacy_ringbuf = {
    .type = BPF_MAP_TYPE_RINGBUF,
    .max_entries = 8192,
};

SEC("netevent_monitor")
int use_legacy_maps(void *context)
{
    __u32 key = 0;
    __u64 *value = bpf_map_lookup_elem(&legacy_array, &key);
    __u64 hash_key = 5;
    __u64 record[2] = {1, 2};
    if (value)
        *value += 1;
    bpf_map_update_elem(&legacy_hash, &hash_key, record, BPF_ANY);
    bpf_ringbuf_output(&legacy_ringbuf, record, sizeof(record), BPF_RB_FORCE_WAKEUP);
    return 0;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x060100;
