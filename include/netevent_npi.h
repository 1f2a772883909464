/* The netevent NPI: how an event provider hands events to neteventebpfext through the registrar.
 * A provider written against this header needs nothing else. */
#ifndef NETEVENT_NPI_H
#define NETEVENT_NPI_H

#include <errno.h>
#include <stdint.h>

#include "ebpf_extension_header.h"
#include "nmr.h"

/* 2227e81a-8d8b-11d4-abad-009027719e09, as in the original. */
#define NETEVENT_NPI_ID_GUID                                                                       \
    {                                                                                              \
        0x2227e81a, 0x8d8b, 0x11d4,                                                                \
        {                                                                                          \
            0xab, 0xad, 0x00, 0x90, 0x27, 0x71, 0x9e, 0x09                                         \
        }                                                                                          \
    }
static const nmr_npi_id_t NETEVENT_NPI_ID = NETEVENT_NPI_ID_GUID;

/* One event: [event_data_start, event_data_end) holds a netevent_event_header_t and the
 * captured packet (include/netevent_types.h). The bytes need only live for the call. */
typedef struct netevent_event_info {
    const uint8_t *event_data_start;
    const uint8_t *event_data_end;
} netevent_event_info_t;

/* Returns 0 when the event reached the extension (delivered to every interested program),
 * -EINVAL when it was malformed (dropped and counted). Callable from any thread, many at once,
 * while the binding lasts. */
typedef int (*netevent_push_event_fn)(const netevent_event_info_t *event);

/* Entry 1 (when helper_function_count >= 2): count events at once, as push_event would take
 * them one after the other, for a provider that has several (a capture's batch). One snapshot
 * of the attached programs serves the whole batch. Returns how many events reached the
 * programs (the others were malformed or failed, each counted by the extension), or -ENOLINK
 * when the extension is not bound, -E2BIG for more than NETEVENT_PUSH_EVENTS_MAX events (none
 * taken), -EINVAL for events NULL with count > 0. */
typedef int (*netevent_push_events_fn)(const netevent_event_info_t *events, uint32_t count);
/* A batch holds the extension's read section and CPU claim for its whole length: bounded so
 * that a batch cannot hold back a detach or another producer for long. */
#define NETEVENT_PUSH_EVENTS_MAX 4096u

/* The dispatch table the extension (the client) gives each provider. Entry 0 is push_event;
 * entry 1, if the count says it is there, push_events. */
typedef struct netevent_client_dispatch {
    ebpf_extension_header_t header; /* NETEVENT_CLIENT_DISPATCH_VERSION */
    uint32_t helper_function_count;
    const void *helper_function_address[2];
} netevent_client_dispatch_t;
#define NETEVENT_CLIENT_DISPATCH_VERSION 1

/* Convenience for providers: push through a bound dispatch table. */
static inline int netevent_push_event(const netevent_client_dispatch_t *dispatch,
                                      const netevent_event_info_t *event)
{
    return ((netevent_push_event_fn)dispatch->helper_function_address[0])(event);
}

/* push_events through a bound dispatch table, or one push_event after the other when the
 * client has no entry 1; the same result either way. */
static inline int netevent_push_events(const netevent_client_dispatch_t *dispatch,
                                       const netevent_event_info_t *events, uint32_t count)
{
    if (dispatch->helper_function_count >= 2 && dispatch->helper_function_address[1] != NULL)
        return ((netevent_push_events_fn)dispatch->helper_function_address[1])(events, count);
    if (count > NETEVENT_PUSH_EVENTS_MAX)
        return -E2BIG;
    if (events == NULL && count > 0)
        return -EINVAL;
    int delivered = 0;
    for (uint32_t i = 0; i < count; i++) {
        int rc = netevent_push_event(dispatch, &events[i]);
        if (rc == -ENOLINK && i == 0)
            return rc; /* not bound: nothing was taken */
        delivered += rc == 0;
    }
    return delivered;
}

#endif /* NETEVENT_NPI_H */
