/* A netevent_monitor program that writes into the event it is given (so the extension must hand
 * it a copy, never the provider's bytes). */
#include "bpf_helpers.h"
#include "ebpf_netevent_hooks.h"
#include "netevent_types.h"

SEC("netevent_monitor")
int ScribbleOnEvent(netevent_event_md_t *ctx)
{
    netevent_event_header_t *header = (netevent_event_header_t *)ctx->event_data_start;
    if ((uint8_t *)(header + 1) > ctx->event_data_end)
        return -1;
    header->reserved = 0xaa;
    return 0;
}

char LICENSE[] SEC("license") = "MIT";
