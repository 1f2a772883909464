/* Event decoding: the header, then the packet layer by layer, every read bounds-checked. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "netevent_decode.h"
#include "netevent_types.h"

#define ETHERTYPE_IPV4      0x0800
#define ETHERTYPE_IPV6      0x86dd
#define ETHERTYPE_VLAN      0x8100
#define ETHERTYPE_QINQ      0x88a8
#define ETHERNET_HEADER_LEN 14
#define VLAN_TAG_LEN        4
#define IPV4_MIN_HEADER_LEN 20
#define IPV6_HEADER_LEN     40
#define UDP_HEADER_LEN      8
#define TCP_MIN_HEADER_LEN  20

#define PROTOCOL_ICMP    1
#define PROTOCOL_TCP     6
#define PROTOCOL_UDP     17
#define PROTOCOL_ICMPV6  58
#define IPV6_HOP_BY_HOP  0
#define IPV6_ROUTING     43
#define IPV6_FRAGMENT    44
#define IPV6_AH          51
#define IPV6_NO_NEXT     59
#define IPV6_DESTINATION 60
/* Bounds the walk over IPv6 extension headers so a crafted chain cannot loop long. */
#define IPV6_MAX_EXTENSIONS 8

static const char *const drop_reason_names[] = {
    [NETEVENT_DROP_NONE] = "none",
    [NETEVENT_DROP_FILTERED] = "filtered",
    [NETEVENT_DROP_CHECKSUM] = "checksum",
    [NETEVENT_DROP_NO_ROUTE] = "no_route",
    [NETEVENT_DROP_TTL_EXPIRED] = "ttl_expired",
    [NETEVENT_DROP_QUEUE_FULL] = "queue_full",
    [NETEVENT_DROP_MALFORMED] = "malformed",
};

const char *netevent_drop_reason_name(uint32_t drop_reason)
{
    if (drop_reason < sizeof(drop_reason_names) / sizeof(drop_reason_names[0]))
        return drop_reason_names[drop_reason];
    return "unknown";
}

const char *netevent_component_name(uint16_t component)
{
    switch (component) {
    case NETEVENT_COMPONENT_UNKNOWN:
        return "unknown";
    case NETEVENT_COMPONENT_NIC:
        return "nic";
    case NETEVENT_COMPONENT_IP:
        return "ip";
    case NETEVENT_COMPONENT_TCP:
        return "tcp";
    case NETEVENT_COMPONENT_UDP:
        return "udp";
    case NETEVENT_COMPONENT_FILTER:
        return "filter";
    case NETEVENT_COMPONENT_SIM:
        return "sim";
    default:
        return "unknown";
    }
}

const char *netevent_direction_name(uint8_t direction)
{
    switch (direction) {
    case NETEVENT_DIRECTION_INBOUND:
        return "in";
    case NETEVENT_DIRECTION_OUTBOUND:
        return "out";
    default:
        return "unknown";
    }
}

const char *netevent_protocol_name(uint8_t protocol)
{
    switch (protocol) {
    case PROTOCOL_ICMP:
        return "ICMP";
    case 2:
        return "IGMP";
    case PROTOCOL_TCP:
        return "TCP";
    case PROTOCOL_UDP:
        return "UDP";
    case 47:
        return "GRE";
    case 50:
        return "ESP";
    case IPV6_AH:
        return "AH";
    case PROTOCOL_ICMPV6:
        return "ICMPv6";
    case 132:
        return "SCTP";
    default:
        return NULL;
    }
}

static void set_error(netevent_decoded_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(netevent_decoded_t *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof(out->error), fmt, ap);
    va_end(ap);
}

static uint16_t read_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* The capture ended inside a header: not an error of the event (snaplen), but decoding
 * stops there. */
static void truncated(netevent_decoded_t *out, const char *layer, size_t have, size_t need)
{
    out->packet_truncated = true;
    set_error(out, "packet truncated in the %s header (%zu of %zu bytes)", layer, have, need);
}

static void decode_transport(netevent_decoded_t *out, const uint8_t *p, size_t length)
{
    switch (out->protocol) {
    case PROTOCOL_TCP:
        if (length < 4) {
            truncated(out, "TCP", length, TCP_MIN_HEADER_LEN);
            return;
        }
        out->src_port = read_be16(p);
        out->dst_port = read_be16(p + 2);
        out->layers |= NETEVENT_LAYER_PORTS;
        if (length < 14) {
            truncated(out, "TCP", length, TCP_MIN_HEADER_LEN);
            return;
        }
        out->tcp_flags = p[13];
        out->layers |= NETEVENT_LAYER_TCP_FLAGS;
        if ((p[12] >> 4) < 5) {
            out->packet_malformed = true;
            set_error(out, "TCP data offset %u is below 5 words", p[12] >> 4);
        }
        return;
    case PROTOCOL_UDP:
        if (length < 4) {
            truncated(out, "UDP", length, UDP_HEADER_LEN);
            return;
        }
        out->src_port = read_be16(p);
        out->dst_port = read_be16(p + 2);
        out->layers |= NETEVENT_LAYER_PORTS;
        if (length < UDP_HEADER_LEN)
            truncated(out, "UDP", length, UDP_HEADER_LEN);
        return;
    case PROTOCOL_ICMP:
    case PROTOCOL_ICMPV6:
        if (length < 2) {
            truncated(out, out->protocol == PROTOCOL_ICMP ? "ICMP" : "ICMPv6", length, 4);
            return;
        }
        out->icmp_type = p[0];
        out->icmp_code = p[1];
        out->layers |= NETEVENT_LAYER_ICMP;
        return;
    default:
        return;
    }
}

static void decode_ipv4(netevent_decoded_t *out, const uint8_t *p, size_t length)
{
    if (length < IPV4_MIN_HEADER_LEN) {
        truncated(out, "IPv4", length, IPV4_MIN_HEADER_LEN);
        return;
    }
    if ((p[0] >> 4) != 4) {
        out->packet_malformed = true;
        set_error(out, "IPv4 packet with version field %u", p[0] >> 4);
        return;
    }
    size_t header_length = (size_t)(p[0] & 0x0f) * 4;
    if (header_length < IPV4_MIN_HEADER_LEN) {
        out->packet_malformed = true;
        set_error(out, "IPv4 header length %zu is below 20 bytes (IHL %u)", header_length,
                  p[0] & 0x0f);
        return;
    }
    out->ip_version = 4;
    out->ttl = p[8];
    out->protocol = p[9];
    memcpy(out->src_ip, p + 12, 4);
    memcpy(out->dst_ip, p + 16, 4);
    out->layers |= NETEVENT_LAYER_IPV4;

    size_t total_length = read_be16(p + 2);
    if (total_length < header_length) {
        out->packet_malformed = true;
        set_error(out, "IPv4 total length %zu is below its header length %zu", total_length,
                  header_length);
        return;
    }
    if (length < header_length) {
        truncated(out, "IPv4 options of the", length, header_length);
        return;
    }
    if ((read_be16(p + 6) & 0x1fff) != 0) {
        out->ip_fragment = true; /* later fragments carry no transport header */
        return;
    }
    /* The transport header ends where the IP packet says, or where the capture ends. */
    size_t available = (total_length < length ? total_length : length) - header_length;
    decode_transport(out, p + header_length, available);
}

static void decode_ipv6(netevent_decoded_t *out, const uint8_t *p, size_t length)
{
    if (length < IPV6_HEADER_LEN) {
        truncated(out, "IPv6", length, IPV6_HEADER_LEN);
        return;
    }
    if ((p[0] >> 4) != 6) {
        out->packet_malformed = true;
        set_error(out, "IPv6 packet with version field %u", p[0] >> 4);
        return;
    }
    out->ip_version = 6;
    out->ttl = p[7];
    memcpy(out->src_ip, p + 8, 16);
    memcpy(out->dst_ip, p + 24, 16);
    out->layers |= NETEVENT_LAYER_IPV6;

    size_t payload_length = read_be16(p + 4);
    size_t end =
        IPV6_HEADER_LEN + payload_length < length ? IPV6_HEADER_LEN + payload_length : length;
    size_t offset = IPV6_HEADER_LEN;
    uint8_t next = p[6];
    for (int i = 0; i <= IPV6_MAX_EXTENSIONS; i++) {
        size_t extension_length;
        switch (next) {
        case IPV6_HOP_BY_HOP:
        case IPV6_ROUTING:
        case IPV6_DESTINATION:
        case IPV6_FRAGMENT:
        case IPV6_AH:
            if (i == IPV6_MAX_EXTENSIONS) {
                out->packet_malformed = true;
                set_error(out, "more than %d IPv6 extension headers", IPV6_MAX_EXTENSIONS);
                out->protocol = next;
                return;
            }
            if (end - offset < 8) {
                out->protocol = next;
                truncated(out, "IPv6 extension", end - offset, 8);
                return;
            }
            if (next == IPV6_FRAGMENT) {
                extension_length = 8;
                if ((read_be16(p + offset + 2) & 0xfff8) != 0) {
                    out->protocol = p[offset];
                    out->ip_fragment = true;
                    return;
                }
            } else if (next == IPV6_AH) {
                extension_length = ((size_t)p[offset + 1] + 2) * 4;
            } else {
                extension_length = ((size_t)p[offset + 1] + 1) * 8;
            }
            if (end - offset < extension_length) {
                out->protocol = next;
                truncated(out, "IPv6 extension", end - offset, extension_length);
                return;
            }
            next = p[offset];
            offset += extension_length;
            break;
        default:
            out->protocol = next;
            if (next != IPV6_NO_NEXT)
                decode_transport(out, p + offset, end - offset);
            return;
        }
    }
}

static void decode_packet(netevent_decoded_t *out, const uint8_t *p, size_t length)
{
    if (length == 0)
        return; /* a header-only event: nothing captured */
    if (length < ETHERNET_HEADER_LEN) {
        truncated(out, "Ethernet", length, ETHERNET_HEADER_LEN);
        return;
    }
    memcpy(out->dst_mac, p, 6);
    memcpy(out->src_mac, p + 6, 6);
    out->layers |= NETEVENT_LAYER_ETHERNET;
    size_t offset = ETHERNET_HEADER_LEN;
    uint16_t ethertype = read_be16(p + 12);
    /* At most two tags (802.1ad outer, 802.1Q inner); the outermost is reported. */
    for (int tags = 0; tags < 2 && (ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ);
         tags++) {
        if (length - offset < VLAN_TAG_LEN) {
            out->ethertype = ethertype;
            truncated(out, "VLAN", length - offset, VLAN_TAG_LEN);
            return;
        }
        uint16_t tci = read_be16(p + offset);
        if (!(out->layers & NETEVENT_LAYER_VLAN)) {
            out->vlan_id = tci & 0x0fff;
            out->vlan_priority = (uint8_t)(tci >> 13);
            out->layers |= NETEVENT_LAYER_VLAN;
        }
        ethertype = read_be16(p + offset + 2);
        offset += VLAN_TAG_LEN;
    }
    out->ethertype = ethertype;
    if (ethertype == ETHERTYPE_IPV4)
        decode_ipv4(out, p + offset, length - offset);
    else if (ethertype == ETHERTYPE_IPV6)
        decode_ipv6(out, p + offset, length - offset);
}

int netevent_decode(const void *event, size_t size, netevent_decoded_t *out)
{
    netevent_event_header_t header;
    const uint8_t *bytes = event;

    if (out == NULL)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    out->drop_reason_name = netevent_drop_reason_name(0);
    out->component_name = netevent_component_name(0);
    out->direction_name = netevent_direction_name(0);
    if (event == NULL && size != 0) {
        set_error(out, "no event bytes");
        return -EINVAL;
    }
    if (size == 0) {
        set_error(out, "empty event");
        return -EINVAL;
    }
    out->type = bytes[0];
    out->kind = out->type == NETEVENT_EVENT_TYPE_DROP   ? NETEVENT_KIND_DROP
                : out->type == NETEVENT_EVENT_TYPE_FLOW ? NETEVENT_KIND_FLOW
                                                        : NETEVENT_KIND_UNKNOWN;
    if (size < sizeof(header)) {
        set_error(out, "event of %zu bytes is shorter than the %zu-byte event header", size,
                  sizeof(header));
        return -EINVAL;
    }
    memcpy(&header, bytes, sizeof(header)); /* the event may be unaligned */
    out->version = header.version;
    out->header_length = header.header_length;
    if (header.version == 0) {
        set_error(out, "unknown event header version 0");
        return -EINVAL;
    }
    if (header.header_length < sizeof(header)) {
        set_error(out, "header_length %u is shorter than the %zu-byte version 1 header",
                  header.header_length, sizeof(header));
        return -EINVAL;
    }
    if (header.header_length > size) {
        set_error(out, "header_length %u exceeds the event size %zu", header.header_length, size);
        return -EINVAL;
    }
    size_t after_header = size - header.header_length;
    if (header.captured_length > after_header) {
        set_error(out, "captured_length %u exceeds the %zu bytes after the header",
                  header.captured_length, after_header);
        return -EINVAL;
    }
    if (header.captured_length > header.original_length) {
        set_error(out, "captured_length %u exceeds original_length %u", header.captured_length,
                  header.original_length);
        return -EINVAL;
    }
    out->header_valid = true;
    out->drop_reason = header.drop_reason;
    out->drop_reason_name = netevent_drop_reason_name(header.drop_reason);
    out->component = header.component;
    out->component_name = netevent_component_name(header.component);
    out->direction = header.direction;
    out->direction_name = netevent_direction_name(header.direction);
    out->timestamp_ns = header.timestamp_ns;
    out->original_length = header.original_length;
    out->captured_length = header.captured_length;
    out->sequence = header.sequence;
    out->trailing_length = (uint32_t)(after_header - header.captured_length);
    decode_packet(out, bytes + header.header_length, header.captured_length);
    return 0;
}
