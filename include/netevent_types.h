/* The network event format shared by providers, programs and decoders. */
#ifndef NETEVENT_TYPES_H
#define NETEVENT_TYPES_H

#include "ebpf_stdint.h"

/* Event types (the first byte of every event), as in the original. */
#define NETEVENT_EVENT_TYPE_DROP 100
#define NETEVENT_EVENT_TYPE_FLOW 101

#define NETEVENT_EVENT_HEADER_VERSION 1

/* Direction of the packet at the component that reported it. */
#define NETEVENT_DIRECTION_INBOUND  0
#define NETEVENT_DIRECTION_OUTBOUND 1

/* Every event starts with this header, followed by captured_length bytes of the packet (from
 * its Ethernet header on). Fields are in host byte order; the packet is as on the wire. A
 * reader checks version and header_length and skips header fields it does not know. */
typedef struct netevent_event_header {
    uint8_t type;           /* NETEVENT_EVENT_TYPE_* */
    uint8_t version;        /* NETEVENT_EVENT_HEADER_VERSION */
    uint16_t header_length; /* sizeof(netevent_event_header_t) for version 1 */
    uint32_t drop_reason;   /* NETEVENT_DROP_*; 0 for flow events */
    uint16_t component;     /* NETEVENT_COMPONENT_* that reported it */
    uint8_t direction;      /* NETEVENT_DIRECTION_* */
    uint8_t reserved;
    uint32_t original_length; /* length of the packet on the wire */
    uint64_t timestamp_ns;    /* CLOCK_REALTIME of the event, ns */
    uint32_t captured_length; /* bytes of packet that follow */
    uint32_t sequence;        /* per-provider running counter */
} netevent_event_header_t;

_Static_assert(sizeof(netevent_event_header_t) == 32, "the event header is 32 bytes");

/* Largest event push_event accepts: header plus a jumbo frame. */
#define NETEVENT_EVENT_MAX_SIZE (sizeof(netevent_event_header_t) + 9216)

/* Components that report events. */
#define NETEVENT_COMPONENT_UNKNOWN 0
#define NETEVENT_COMPONENT_NIC     1
#define NETEVENT_COMPONENT_IP      2
#define NETEVENT_COMPONENT_TCP     3
#define NETEVENT_COMPONENT_UDP     4
#define NETEVENT_COMPONENT_FILTER  5
#define NETEVENT_COMPONENT_SIM     100

/* Drop reasons (the simulator uses these; real providers map theirs onto them). */
#define NETEVENT_DROP_NONE        0
#define NETEVENT_DROP_FILTERED    1
#define NETEVENT_DROP_CHECKSUM    2
#define NETEVENT_DROP_NO_ROUTE    3
#define NETEVENT_DROP_TTL_EXPIRED 4
#define NETEVENT_DROP_QUEUE_FULL  5
#define NETEVENT_DROP_MALFORMED   6
#define NETEVENT_DROP_REASON_MAX  6

#endif /* NETEVENT_TYPES_H */
