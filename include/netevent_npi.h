/* The netevent NPI: how an event provider hands events to neteventebpfext through the registrar.
 * A provider written against this header needs nothing else. */
#ifndef NETEVENT_NPI_H
#define NETEVENT_NPI_H

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

/* The dispatch table the extension (the client) gives each provider. Entry 0 is push_event. */
typedef struct netevent_client_dispatch {
    ebpf_extension_header_t header; /* NETEVENT_CLIENT_DISPATCH_VERSION */
    uint32_t helper_function_count;
    const void *helper_function_address[1];
} netevent_client_dispatch_t;
#define NETEVENT_CLIENT_DISPATCH_VERSION 1

/* Convenience for providers: push through a bound dispatch table. */
static inline int netevent_push_event(const netevent_client_dispatch_t *dispatch,
                                      const netevent_event_info_t *event)
{
    return ((netevent_push_event_fn)dispatch->helper_function_address[0])(event);
}

#endif /* NETEVENT_NPI_H */
