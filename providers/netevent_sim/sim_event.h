/* The simulator's event synthesis: a demo event as a pure function of its sequence number. */
#ifndef NETEVENT_SIM_EVENT_H
#define NETEVENT_SIM_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* Largest event sim_event_build writes: header, Ethernet, VLAN tag, IPv4, TCP, payload. */
#define SIM_EVENT_MAX_SIZE 160

/* Writes the event numbered sequence into buffer (at least SIM_EVENT_MAX_SIZE bytes) and
 * returns its size. Flow and drop events, TCP and UDP, addresses over a few subnets, ports,
 * flags and drop reasons all vary with sequence; the payload carries sequence. */
size_t sim_event_build(uint8_t *buffer, uint32_t sequence, uint64_t timestamp_ns);

#endif /* NETEVENT_SIM_EVENT_H */
