/* drop_counter: an example netevent_monitor program of one's own. It keeps no event, only a
 * count of drop events per drop reason in a hash map that user space reads. */
#include "bpf_helpers.h"
#include "ebpf_netevent_hooks.h"
#include "netevent_types.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, uint32_t);   /* drop reason */
    __type(value, uint64_t); /* drop events seen with it */
} drops_by_reason SEC(".maps");

SEC("netevent_monitor")
int CountDrops(netevent_event_md_t *ctx)
{
    netevent_event_header_t *header = (netevent_event_header_t *)ctx->event_data_start;

    if ((uint8_t *)(header + 1) > ctx->event_data_end)
        return -1;
    if (header->type != NETEVENT_EVENT_TYPE_DROP)
        return 0;
    uint32_t reason = header->drop_reason;
    uint64_t *count = bpf_map_lookup_elem(&drops_by_reason, &reason);
    if (count != NULL) {
        __sync_fetch_and_add(count, 1);
    } else {
        uint64_t first = 1;
        /* Another CPU may have inserted it meanwhile: then add to its count. */
        if (bpf_map_update_elem(&drops_by_reason, &reason, &first, BPF_NOEXIST) != 0) {
            count = bpf_map_lookup_elem(&drops_by_reason, &reason);
            if (count != NULL)
                __sync_fetch_and_add(count, 1);
        }
    }
    return 0;
}

char LICENSE[] SEC("license") = "MIT";
