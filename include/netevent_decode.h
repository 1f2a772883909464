/* Decoding and printing of network events (include/netevent_types.h): one event's bytes to a
 * struct, and the struct to a text line or a JSON object. Safe on any input. */
#ifndef NETEVENT_DECODE_H
#define NETEVENT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum netevent_kind {
    NETEVENT_KIND_UNKNOWN = 0, /* a type byte this decoder does not know */
    NETEVENT_KIND_DROP,
    NETEVENT_KIND_FLOW,
} netevent_kind_t;

/* Which parts of the packet were decoded (bits of netevent_decoded_t.layers). */
#define NETEVENT_LAYER_ETHERNET  (1u << 0)
#define NETEVENT_LAYER_VLAN      (1u << 1)
#define NETEVENT_LAYER_IPV4      (1u << 2)
#define NETEVENT_LAYER_IPV6      (1u << 3)
#define NETEVENT_LAYER_PORTS     (1u << 4) /* src_port / dst_port (TCP or UDP) */
#define NETEVENT_LAYER_TCP_FLAGS (1u << 5)
#define NETEVENT_LAYER_ICMP      (1u << 6) /* ICMP or ICMPv6 type and code */

#define NETEVENT_DECODE_ERROR_SIZE 128

typedef struct netevent_decoded {
    /* The event header. Valid when header_valid; type is set whenever the event has a byte. */
    bool header_valid;
    uint8_t type; /* raw type byte (NETEVENT_EVENT_TYPE_*) */
    netevent_kind_t kind;
    uint8_t version;
    uint16_t header_length;
    uint32_t drop_reason;
    const char *drop_reason_name; /* "checksum"; "unknown" for numbers past the list */
    uint16_t component;
    const char *component_name; /* "sim" */
    uint8_t direction;
    const char *direction_name; /* "in", "out" or "unknown" */
    uint64_t timestamp_ns;      /* CLOCK_REALTIME */
    uint32_t original_length;
    uint32_t captured_length;
    uint32_t sequence;
    uint32_t trailing_length; /* bytes after the captured packet (ignored) */

    /* The packet: what layers says was decoded. */
    uint32_t layers; /* NETEVENT_LAYER_* */
    uint8_t dst_mac[6];
    uint8_t src_mac[6];
    uint16_t ethertype; /* of the payload, after any VLAN tags */
    uint16_t vlan_id;   /* outermost tag */
    uint8_t vlan_priority;
    uint8_t ip_version; /* 4 or 6 */
    uint8_t src_ip[16]; /* IPv4 in the first 4 bytes; network byte order */
    uint8_t dst_ip[16];
    uint8_t protocol;  /* IPv4 protocol or IPv6 last next-header */
    uint8_t ttl;       /* TTL or hop limit */
    bool ip_fragment;  /* not the first fragment: no transport header to read */
    uint16_t src_port; /* host byte order */
    uint16_t dst_port;
    uint8_t tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
    uint8_t icmp_type;
    uint8_t icmp_code;
    bool packet_truncated; /* the capture ended inside a header (normal with a short snaplen) */
    bool packet_malformed; /* a header field is impossible (IPv4 IHL < 5, ...) */

    /* What is wrong: why decode failed, or, after success, why the packet decoding stopped
     * early (empty when the whole packet decoded). */
    char error[NETEVENT_DECODE_ERROR_SIZE];
} netevent_decoded_t;

/* Decodes one event of size bytes. Never reads outside [event, event + size). Returns 0 (the
 * header is sound; packet problems are described in out->error and the packet_* flags), or
 * -EINVAL with out->error set when the event itself is unusable: shorter than its header, an
 * unknown header version (0; newer versions are read as version 1 when their header is at
 * least as long), a header length outside the event, or captured_length beyond the bytes
 * present or beyond original_length. */
int netevent_decode(const void *event, size_t size, netevent_decoded_t *out);

/* Names of header values ("checksum", "sim", "in"); "unknown" when out of range. */
const char *netevent_drop_reason_name(uint32_t drop_reason);
const char *netevent_component_name(uint16_t component);
const char *netevent_direction_name(uint8_t direction);
/* "TCP", "UDP", "ICMP", "ICMPv6", ...; NULL for numbers without a name. */
const char *netevent_protocol_name(uint8_t protocol);

/* Buffer sizes that always fit one formatted event. */
#define NETEVENT_FORMAT_TEXT_MAX 512
#define NETEVENT_FORMAT_JSON_MAX 2048

/* One line, no newline, e.g.
 * "2026-11-24T21:57:32.123456Z drop reason=checksum(2) comp=sim dir=in
 *  10.0.1.5:443 -> 192.168.1.20:51234 TCP [SA] len=74 seq=17".
 * A struct from a failed decode prints as "invalid event: <reason>". Returns the length
 * written (without the terminating NUL), -ENOSPC when buf is too small (buf then holds a
 * truncated, NUL-terminated line), or -EINVAL for NULL arguments. */
int netevent_format_text(const netevent_decoded_t *decoded, char *buf, size_t size);

/* One JSON object, no newline. Every key is always present (null when it does not apply), so
 * consumers can rely on the set of keys; strings are escaped. Same returns as above. */
int netevent_format_json(const netevent_decoded_t *decoded, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* NETEVENT_DECODE_H */
