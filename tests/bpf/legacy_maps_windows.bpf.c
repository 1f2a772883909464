/* Test object: legacy maps in the eBPF for Windows 32-byte layout, with a map-in-map. */
#include "bpf_helpers.h"

/* eBPF for Windows' struct bpf_map_def (ebpf_map_definition_in_file_t), spelled out here
 * because our bpf_helpers.h defines the Linux layout. */
struct windows_map_definition {
    __u32 type;
    __u32 key_size;
    __u32 value_size;
    __u32 max_entries;
    __u32 inner_map_idx;
    __u32 pinning;
    __u32 id;
    __u32 inner_id;
};

#define WINDOWS_PIN_GLOBAL_NS 2

struct windows_map_definition SEC("maps") inner_template = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = 4,
    .value_size = 4,
    .max_entries = 16,
};

struct windows_map_definition SEC("maps") outer_by_index = {
    .type = BPF_MAP_TYPE_ARRAY_OF_MAPS,
    .key_size = 4,
    .value_size = 4,
    .max_entries = 2,
    .inner_map_idx = 0,
    .pinning = WINDOWS_PIN_GLOBAL_NS,
};

SEC("netevent_monitor")
int lookup_outer(void *context)
{
    __u32 key = 0;
    return bpf_map_lookup_elem(&outer_by_index, &key) != 0;
}

char _license[] SEC("license") = "MIT";
