/* The netevent_monitor program ABI: its context, hook prototype, attach options and helper, for
 * BPF programs (clang -target bpf) and for C code alike. */
#ifndef EBPF_NETEVENT_HOOKS_H
#define EBPF_NETEVENT_HOOKS_H

#include "ebpf_stdint.h"

/* The context of a netevent_monitor program: the event's bytes (a netevent_event_header_t,
 * include/netevent_types.h, then the captured packet). The verifier treats the two fields as
 * packet pointers: compare before you read. */
typedef struct _netevent_event_md {
    uint8_t *event_data_start;
    uint8_t *event_data_end;
} netevent_event_md_t;

/* The prototype of a netevent_monitor program. */
typedef int netevent_event_hook_t(netevent_event_md_t *context);

/* Which events a link receives (attach parameter). */
typedef enum _netevent_capture_type {
    NeteventCapture_All = 1,
    NeteventCapture_Flow,
    NeteventCapture_Drop,
    NeteventCapture_None,
} netevent_capture_type_t;

typedef struct _netevent_attach_opts {
    netevent_capture_type_t capture_type;
} netevent_attach_opts_t;

/* Program-type-specific helpers start right after the general range. */
#define NETEVENT_EXT_HELPER_FN_BASE 0xFFFF

typedef enum {
    BPF_FUNC_netevent_push_event = NETEVENT_EXT_HELPER_FN_BASE + 1,
} ebpf_netevent_event_helper_id_t;

/* Copies the current event into the extension's own ring buffer, which user space opens by its
 * pinned name NETEVENT_EVENTS_PIN_NAME. Returns 0, or a negative errno (-ENOSPC when the ring
 * is full: the drop is counted). */
typedef int (*bpf_netevent_push_event_t)(netevent_event_md_t *ctx);
#define bpf_netevent_push_event ((bpf_netevent_push_event_t)BPF_FUNC_netevent_push_event)

/* The pinned name of the ring buffer bpf_netevent_push_event writes to. */
#define NETEVENT_EVENTS_PIN_NAME "netevent/push_events"

#endif /* EBPF_NETEVENT_HOOKS_H */
