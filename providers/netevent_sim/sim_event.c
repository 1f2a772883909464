/* Synthesized demo traffic: Ethernet / IPv4 / TCP or UDP packets inside netevent events. */
#include <stdbool.h>
#include <string.h>

#include "netevent_types.h"
#include "sim_event.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100
#define PROTOCOL_TCP   6
#define PROTOCOL_UDP   17

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* The simulated network: a few subnets, servers on well-known ports, clients on ephemeral
 * ones. Chosen so that a monitor's output shows visibly different flows. */
static const uint8_t subnets[][3] = {{10, 0, 1}, {10, 0, 2}, {192, 168, 1}, {172, 16, 5}};
static const uint16_t tcp_server_ports[] = {443, 80, 22, 8080, 3306};
static const uint16_t udp_server_ports[] = {53, 123, 5353, 4789};
static const uint8_t tcp_flag_cycle[] = {TCP_SYN,           TCP_SYN | TCP_ACK, TCP_ACK,
                                         TCP_PSH | TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void put16(uint8_t *p, uint16_t value)
{
    p[0] = (uint8_t)(value >> 8);
    p[1] = (uint8_t)value;
}

static void put32(uint8_t *p, uint32_t value)
{
    put16(p, (uint16_t)(value >> 16));
    put16(p + 2, (uint16_t)value);
}

/* The ones'-complement sum of RFC 1071, folded later by finish_checksum. */
static uint32_t checksum_add(uint32_t sum, const uint8_t *p, size_t length)
{
    for (size_t i = 0; i + 1 < length; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (length & 1)
        sum += (uint32_t)p[length - 1] << 8;
    return sum;
}

static uint16_t finish_checksum(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void address(uint8_t out[4], unsigned subnet, unsigned host)
{
    memcpy(out, subnets[subnet % COUNT(subnets)], 3);
    out[3] = (uint8_t)(1 + host % 250);
}

size_t sim_event_build(uint8_t *buffer, uint32_t sequence, uint64_t timestamp_ns)
{
    netevent_event_header_t header = {0};
    uint8_t *packet = buffer + sizeof(header);
    uint8_t *p = packet;
    uint32_t n = sequence;

    bool drop = n % 3 == 0;
    bool udp = (n / 5) % 3 == 2;
    bool tagged = n % 8 == 7;
    uint8_t direction = (n / 2) % 2 ? NETEVENT_DIRECTION_OUTBOUND : NETEVENT_DIRECTION_INBOUND;
    uint32_t reason = drop ? 1 + (n / 3) % NETEVENT_DROP_REASON_MAX : NETEVENT_DROP_NONE;

    /* Ethernet, locally administered addresses derived from the hosts. */
    uint8_t server[4], client[4];
    address(server, n / 7, n / 3);
    address(client, n / 11 + 2, n * 13);
    const uint8_t *source = direction == NETEVENT_DIRECTION_INBOUND ? server : client;
    const uint8_t *destination = direction == NETEVENT_DIRECTION_INBOUND ? client : server;
    const uint8_t dst_mac[6] = {0x02, 0x00, 0x5e, 0x10, destination[2], destination[3]};
    const uint8_t src_mac[6] = {0x02, 0x00, 0x5e, 0x20, source[2], source[3]};
    memcpy(p, dst_mac, 6);
    memcpy(p + 6, src_mac, 6);
    p += 12;
    if (tagged) {
        put16(p, ETHERTYPE_VLAN);
        put16(p + 2, (uint16_t)((n % 8) << 13 | (100 + n % 4)));
        p += 4;
    }
    put16(p, ETHERTYPE_IPV4);
    p += 2;

    /* Transport first (its length sets the IPv4 total length); the IPv4 header goes before. */
    uint8_t *ip = p;
    uint8_t *transport = ip + 20;
    size_t payload_length = 8 + (n % 5) * 8;
    size_t transport_header_length;
    uint16_t client_port = (uint16_t)(49152 + (n * 7919u) % 16384);
    uint16_t server_port;
    if (udp) {
        server_port = udp_server_ports[(n / 5) % COUNT(udp_server_ports)];
        transport_header_length = 8;
    } else {
        server_port = tcp_server_ports[(n / 5) % COUNT(tcp_server_ports)];
        transport_header_length = 20;
    }
    uint16_t source_port = direction == NETEVENT_DIRECTION_INBOUND ? server_port : client_port;
    uint16_t destination_port = direction == NETEVENT_DIRECTION_INBOUND ? client_port : server_port;
    uint8_t *payload = transport + transport_header_length;
    memset(payload, 0, payload_length);
    put32(payload, sequence); /* the running counter, readable in a capture */
    for (size_t i = 4; i < payload_length; i++)
        payload[i] = (uint8_t)('a' + (n + i) % 26);

    size_t transport_length = transport_header_length + payload_length;
    memset(transport, 0, transport_header_length);
    put16(transport, source_port);
    put16(transport + 2, destination_port);
    if (udp) {
        put16(transport + 4, (uint16_t)transport_length);
    } else {
        put32(transport + 4, n * 1103515245u); /* sequence number */
        put32(transport + 8, n * 2654435761u); /* acknowledgment number */
        transport[12] = 5 << 4;                /* data offset: 5 words */
        transport[13] = tcp_flag_cycle[n % COUNT(tcp_flag_cycle)];
        put16(transport + 14, 64240); /* window */
    }

    size_t ip_total_length = 20 + transport_length;
    ip[0] = 0x45; /* version 4, 5 words */
    ip[1] = 0;
    put16(ip + 2, (uint16_t)ip_total_length);
    put16(ip + 4, (uint16_t)n);
    put16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = reason == NETEVENT_DROP_TTL_EXPIRED ? 1 : (uint8_t)(64 - n % 8);
    ip[9] = udp ? PROTOCOL_UDP : PROTOCOL_TCP;
    put16(ip + 10, 0);
    memcpy(ip + 12, source, 4);
    memcpy(ip + 16, destination, 4);
    put16(ip + 10, finish_checksum(checksum_add(0, ip, 20)));

    /* Transport checksum over the pseudo header; a checksum drop carries a wrong one, which
     * is why it was dropped. The IPv4 header checksum is always right. */
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = ip[9];
    put16(pseudo + 10, (uint16_t)transport_length);
    uint16_t checksum =
        finish_checksum(checksum_add(checksum_add(0, pseudo, 12), transport, transport_length));
    if (udp && checksum == 0)
        checksum = 0xffff; /* 0 means "no checksum" in UDP */
    if (reason == NETEVENT_DROP_CHECKSUM)
        checksum ^= 0x5a5a;
    put16(transport + (udp ? 6 : 16), checksum);

    size_t packet_length = (size_t)(ip - packet) + ip_total_length;
    header.type = drop ? NETEVENT_EVENT_TYPE_DROP : NETEVENT_EVENT_TYPE_FLOW;
    header.version = NETEVENT_EVENT_HEADER_VERSION;
    header.header_length = sizeof(header);
    header.drop_reason = reason;
    header.component = NETEVENT_COMPONENT_SIM;
    header.direction = direction;
    header.original_length = (uint32_t)packet_length;
    header.timestamp_ns = timestamp_ns;
    header.captured_length = (uint32_t)packet_length;
    header.sequence = sequence;
    memcpy(buffer, &header, sizeof(header));
    return sizeof(header) + packet_length;
}
