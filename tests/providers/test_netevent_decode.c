/* Tests of the event decoder and its text and JSON output: every kind of event, every
 * truncation, malformed headers, JSON that parses back with stable keys. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "netevent_decode.h"
#include "netevent_types.h"
#include "sim_event.h"

/* 2026-11-24T21:57:32.123456789Z */
#define EXAMPLE_TIME_NS (1795557452ull * 1000000000ull + 123456789ull)

typedef struct event_builder {
    uint8_t bytes[2048];
    size_t size; /* header + packet so far */
} event_builder_t;

static void put16(uint8_t *p, uint16_t value)
{
    p[0] = (uint8_t)(value >> 8);
    p[1] = (uint8_t)value;
}

static uint8_t *begin(event_builder_t *b, uint8_t type, uint32_t reason, uint8_t direction)
{
    netevent_event_header_t header = {0};
    memset(b, 0, sizeof(*b));
    header.type = type;
    header.version = NETEVENT_EVENT_HEADER_VERSION;
    header.header_length = sizeof(header);
    header.drop_reason = reason;
    header.component = NETEVENT_COMPONENT_SIM;
    header.direction = direction;
    header.timestamp_ns = EXAMPLE_TIME_NS;
    header.sequence = 17;
    memcpy(b->bytes, &header, sizeof(header));
    b->size = sizeof(header);
    return b->bytes + b->size;
}

static void ethernet(event_builder_t *b, uint16_t ethertype)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    memcpy(b->bytes + b->size, macs, 12);
    put16(b->bytes + b->size + 12, ethertype);
    b->size += 14;
}

static void vlan(event_builder_t *b, uint16_t tpid, uint16_t tci, uint16_t inner)
{
    /* Rewrites the last ethertype into a tag. */
    put16(b->bytes + b->size - 2, tpid);
    put16(b->bytes + b->size, tci);
    put16(b->bytes + b->size + 2, inner);
    b->size += 4;
}

static void ipv4(event_builder_t *b, uint8_t protocol, const uint8_t src[4], const uint8_t dst[4],
                 uint16_t payload_length)
{
    uint8_t *ip = b->bytes + b->size;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + payload_length));
    ip[8] = 64;
    ip[9] = protocol;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    b->size += 20;
}

static void ipv6(event_builder_t *b, uint8_t next, uint16_t payload_length)
{
    uint8_t *ip = b->bytes + b->size;
    ip[0] = 0x60;
    put16(ip + 4, payload_length);
    ip[6] = next;
    ip[7] = 255;
    ip[8] = 0x20;
    ip[9] = 0x01;
    ip[10] = 0x0d;
    ip[11] = 0xb8;
    ip[23] = 1; /* 2001:db8::1 */
    ip[24] = 0xfe;
    ip[25] = 0x80;
    ip[39] = 2; /* fe80::2 */
    b->size += 40;
}

static void tcp(event_builder_t *b, uint16_t src, uint16_t dst, uint8_t flags, size_t length)
{
    uint8_t *t = b->bytes + b->size;
    put16(t, src);
    put16(t + 2, dst);
    t[12] = (uint8_t)((length / 4) << 4);
    t[13] = flags;
    b->size += length;
}

static void udp(event_builder_t *b, uint16_t src, uint16_t dst, size_t payload)
{
    uint8_t *u = b->bytes + b->size;
    put16(u, src);
    put16(u + 2, dst);
    put16(u + 4, (uint16_t)(8 + payload));
    b->size += 8 + payload;
}

/* Sets the lengths in the header from what was built. */
static void end(event_builder_t *b)
{
    netevent_event_header_t header;
    memcpy(&header, b->bytes, sizeof(header));
    header.captured_length = (uint32_t)(b->size - sizeof(header));
    header.original_length = header.captured_length;
    memcpy(b->bytes, &header, sizeof(header));
}

static void set_header(event_builder_t *b, size_t offset, const void *value, size_t size)
{
    memcpy(b->bytes + offset, value, size);
}

static const uint8_t address_a[4] = {10, 0, 1, 5};
static const uint8_t address_b[4] = {192, 168, 1, 20};

/* The example of the documentation: a dropped SYN-ACK with TCP options, 74 bytes. */
static void build_example(event_builder_t *b)
{
    begin(b, NETEVENT_EVENT_TYPE_DROP, NETEVENT_DROP_CHECKSUM, NETEVENT_DIRECTION_INBOUND);
    ethernet(b, 0x0800);
    ipv4(b, 6, address_a, address_b, 40);
    tcp(b, 443, 51234, 0x12, 40);
    end(b);
}

/* A decode into an exactly sized heap copy, so any read past the end is caught (ASan). */
static int decode_exact(const uint8_t *bytes, size_t size, netevent_decoded_t *out)
{
    uint8_t *copy = malloc(size ? size : 1);
    assert_non_null(copy);
    memcpy(copy, bytes, size);
    int rc = netevent_decode(copy, size, out);
    free(copy);
    return rc;
}

static void test_decode_and_print_example(void **state)
{
    event_builder_t b;
    netevent_decoded_t d;
    char line[NETEVENT_FORMAT_TEXT_MAX];

    build_example(&b);
    assert_int_equal(b.size, 32 + 74);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    assert_true(d.header_valid);
    assert_int_equal(d.kind, NETEVENT_KIND_DROP);
    assert_string_equal(d.drop_reason_name, "checksum");
    assert_string_equal(d.component_name, "sim");
    assert_string_equal(d.direction_name, "in");
    assert_int_equal(d.ip_version, 4);
    assert_int_equal(d.protocol, 6);
    assert_int_equal(d.ttl, 64);
    assert_int_equal(d.src_port, 443);
    assert_int_equal(d.dst_port, 51234);
    assert_int_equal(d.tcp_flags, 0x12);
    assert_int_equal(d.ethertype, 0x0800);
    assert_int_equal(d.src_mac[5], 0x02);
    assert_int_equal(d.dst_mac[5], 0x01);
    assert_string_equal(d.error, "");
    int n = netevent_format_text(&d, line, sizeof(line));
    assert_string_equal(line, "2026-11-24T21:57:32.123456Z drop reason=checksum(2) comp=sim "
                              "dir=in 10.0.1.5:443 -> 192.168.1.20:51234 TCP [SA] len=74 seq=17");
    assert_int_equal(n, (int)strlen(line));
}

static void test_every_kind_of_packet(void **state)
{
    event_builder_t b;
    netevent_decoded_t d;
    char line[NETEVENT_FORMAT_TEXT_MAX];

    /* Flow, outbound, UDP inside 802.1Q. */
    begin(&b, NETEVENT_EVENT_TYPE_FLOW, 0, NETEVENT_DIRECTION_OUTBOUND);
    ethernet(&b, 0x8100);
    vlan(&b, 0x8100, (5 << 13) | 100, 0x0800);
    ipv4(&b, 17, address_b, address_a, 12);
    udp(&b, 5353, 53, 4);
    end(&b);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    assert_int_equal(d.kind, NETEVENT_KIND_FLOW);
    assert_true(d.layers & NETEVENT_LAYER_VLAN);
    assert_int_equal(d.vlan_id, 100);
    assert_int_equal(d.vlan_priority, 5);
    assert_int_equal(d.dst_port, 53);
    netevent_format_text(&d, line, sizeof(line));
    assert_non_null(strstr(line, " flow comp=sim dir=out vlan=100 192.168.1.20:5353 -> "
                                 "10.0.1.5:53 UDP len="));
    assert_null(strstr(line, "reason="));

    /* QinQ: the outer tag is reported, the inner ethertype decoded. */
    begin(&b, NETEVENT_EVENT_TYPE_FLOW, 0, 0);
    ethernet(&b, 0x88a8);
    vlan(&b, 0x88a8, 7, 0x8100);
    put16(b.bytes + b.size, 8);
    put16(b.bytes + b.size + 2, 0x0800);
    b.size += 4;
    ipv4(&b, 1, address_a, address_b, 8);
    b.bytes[b.size] = 8; /* echo request */
    b.size += 8;
    end(&b);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    assert_int_equal(d.vlan_id, 7);
    assert_int_equal(d.ethertype, 0x0800);
    assert_true(d.layers & NETEVENT_LAYER_ICMP);
    assert_int_equal(d.icmp_type, 8);
    netevent_format_text(&d, line, sizeof(line));
    assert_non_null(strstr(line, "10.0.1.5 -> 192.168.1.20 ICMP type=8 code=0"));

    /* IPv6 with a hop-by-hop extension, then TCP. */
    begin(&b, NETEVENT_EVENT_TYPE_DROP, NETEVENT_DROP_NO_ROUTE, 0);
    ethernet(&b, 0x86dd);
    ipv6(&b, 0, 8 + 20);
    b.bytes[b.size] = 6; /* next: TCP; length 0 = 8 bytes */
    b.size += 8;
    tcp(&b, 8080, 40000, 0x02, 20);
    end(&b);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    assert_int_equal(d.ip_version, 6);
    assert_int_equal(d.protocol, 6);
    assert_int_equal(d.ttl, 255);
    assert_int_equal(d.tcp_flags, 0x02);
    netevent_format_text(&d, line, sizeof(line));
    assert_non_null(strstr(line, "reason=no_route(3)"));
    assert_non_null(strstr(line, "[2001:db8::1]:8080 -> [fe80::2]:40000 TCP [S]"));

    /* ICMPv6. */
    begin(&b, NETEVENT_EVENT_TYPE_FLOW, 0, 0);
    ethernet(&b, 0x86dd);
    ipv6(&b, 58, 8);
    b.bytes[b.size] = 128;
    b.size += 8;
    end(&b);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    assert_int_equal(d.icmp_type, 128);
    netevent_format_text(&d, line, sizeof(line));
    assert_non_null(strstr(line, "2001:db8::1 -> fe80::2 ICMPv6 type=128 code=0"));

    /* ARP: Ethernet only. */
    begin(&b, NETEVENT_EVENT_TYPE_FLOW, 0, 0);
    ethernet(&b, 0x0806);
    b.size += 28;
    end(&b);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    assert_int_equal(d.layers, NETEVENT_LAYER_ETHERNET);
    netevent_format_text(&d, line, sizeof(line));
    assert_non_null(strstr(line, "02:00:00:00:00:02 -> 02:00:00:00:00:01 ethertype=0x0806"));

    /* A header without packet, and an unknown event type. */
    begin(&b, 42, 0, 7);
    end(&b);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    assert_int_equal(d.kind, NETEVENT_KIND_UNKNOWN);
    assert_int_equal(d.layers, 0);
    assert_string_equal(d.direction_name, "unknown");
    netevent_format_text(&d, line, sizeof(line));
    assert_non_null(strstr(line, " type=42 comp=sim dir=unknown no-packet len=0 seq=17"));

    /* A later IPv4 fragment has no transport header. */
    begin(&b, NETEVENT_EVENT_TYPE_FLOW, 0, 0);
    ethernet(&b, 0x0800);
    ipv4(&b, 17, address_a, address_b, 8);
    put16(b.bytes + b.size - 20 + 6, 100);
    b.size += 8;
    end(&b);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    assert_true(d.ip_fragment);
    assert_false(d.layers & NETEVENT_LAYER_PORTS);

    /* Names past the lists. */
    assert_string_equal(netevent_drop_reason_name(1000), "unknown");
    assert_string_equal(netevent_component_name(999), "unknown");
    assert_null(netevent_protocol_name(253));
}

/* Every prefix of an event: short ones fail, none is read past its end. And every capture
 * length of its packet: a shorter capture is truncation, never an error or malformation. */
static void check_truncations(event_builder_t *b)
{
    netevent_decoded_t full, d;
    assert_int_equal(decode_exact(b->bytes, b->size, &full), 0);

    for (size_t size = 0; size < b->size; size++) {
        int rc = decode_exact(b->bytes, size, &d);
        assert_int_equal(rc, -EINVAL);
        assert_true(d.error[0] != '\0');
        assert_false(d.header_valid);
    }
    size_t packet_length = b->size - sizeof(netevent_event_header_t);
    for (size_t captured = 0; captured <= packet_length; captured++) {
        event_builder_t cut = *b;
        uint32_t value = (uint32_t)captured;
        set_header(&cut, offsetof(netevent_event_header_t, captured_length), &value, 4);
        int rc = decode_exact(cut.bytes, sizeof(netevent_event_header_t) + captured, &d);
        assert_int_equal(rc, 0);
        assert_false(d.packet_malformed);
        assert_true((d.layers & ~full.layers) == 0);
        if (d.layers & NETEVENT_LAYER_PORTS) {
            assert_int_equal(d.src_port, full.src_port);
            assert_int_equal(d.dst_port, full.dst_port);
        }
        if (captured == 0)
            assert_true(d.layers == 0 && !d.packet_truncated); /* no packet: nothing cut */
        else if (captured < packet_length && d.layers != full.layers && !d.packet_truncated)
            fail_msg("captured %zu of %zu: layers 0x%x of 0x%x, not marked truncated", captured,
                     packet_length, d.layers, full.layers);
        char text[NETEVENT_FORMAT_TEXT_MAX], json[NETEVENT_FORMAT_JSON_MAX];
        assert_true(netevent_format_text(&d, text, sizeof(text)) > 0);
        assert_true(netevent_format_json(&d, json, sizeof(json)) > 0);
        json_t *parsed = json_loads(json, 0, NULL);
        assert_non_null(parsed);
        json_decref(parsed);
    }
}

static void test_truncated_at_every_length(void **state)
{
    event_builder_t b;
    uint8_t sim[SIM_EVENT_MAX_SIZE];

    build_example(&b);
    check_truncations(&b);

    begin(&b, NETEVENT_EVENT_TYPE_DROP, 1, 0);
    ethernet(&b, 0x8100);
    vlan(&b, 0x8100, 3, 0x86dd);
    ipv6(&b, 44, 8 + 8);
    b.bytes[b.size] = 17; /* fragment header, offset 0: the UDP header follows */
    b.size += 8;
    udp(&b, 1000, 2000, 0);
    end(&b);
    check_truncations(&b);

    for (uint32_t sequence = 1; sequence <= 24; sequence++) {
        b.size = sim_event_build(sim, sequence, EXAMPLE_TIME_NS);
        memcpy(b.bytes, sim, b.size);
        check_truncations(&b);
    }
}

static void expect_invalid(event_builder_t *b, size_t size, const char *reason)
{
    netevent_decoded_t d;
    char line[NETEVENT_FORMAT_TEXT_MAX];
    assert_int_equal(decode_exact(b->bytes, size, &d), -EINVAL);
    if (strstr(d.error, reason) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", d.error, reason);
    netevent_format_text(&d, line, sizeof(line));
    assert_non_null(strstr(line, "invalid event: "));
}

static void expect_malformed(event_builder_t *b, const char *reason)
{
    netevent_decoded_t d;
    char line[NETEVENT_FORMAT_TEXT_MAX];
    assert_int_equal(decode_exact(b->bytes, b->size, &d), 0);
    assert_true(d.packet_malformed);
    if (strstr(d.error, reason) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", d.error, reason);
    netevent_format_text(&d, line, sizeof(line));
    assert_non_null(strstr(line, "(malformed: "));
}

static void test_malformed_events(void **state)
{
    event_builder_t b;
    netevent_decoded_t d;
    uint8_t byte;
    uint16_t word;
    uint32_t value;

    assert_int_equal(netevent_decode(NULL, 0, &d), -EINVAL);
    assert_string_equal(d.error, "empty event");
    assert_int_equal(netevent_decode(NULL, 5, &d), -EINVAL);
    assert_int_equal(netevent_decode(&b, 5, NULL), -EINVAL);

    build_example(&b);
    expect_invalid(&b, 31, "shorter than the 32-byte event header");

    byte = 0;
    set_header(&b, offsetof(netevent_event_header_t, version), &byte, 1);
    expect_invalid(&b, b.size, "version 0");
    build_example(&b);
    word = 16;
    set_header(&b, offsetof(netevent_event_header_t, header_length), &word, 2);
    expect_invalid(&b, b.size, "header_length 16");
    word = 4000;
    set_header(&b, offsetof(netevent_event_header_t, header_length), &word, 2);
    expect_invalid(&b, b.size, "exceeds the event size");

    build_example(&b);
    value = 75;
    set_header(&b, offsetof(netevent_event_header_t, captured_length), &value, 4);
    expect_invalid(&b, b.size, "captured_length 75 exceeds the 74 bytes");
    value = 0xffffffffu;
    set_header(&b, offsetof(netevent_event_header_t, captured_length), &value, 4);
    expect_invalid(&b, b.size, "captured_length");
    build_example(&b);
    value = 60;
    set_header(&b, offsetof(netevent_event_header_t, original_length), &value, 4);
    expect_invalid(&b, b.size, "exceeds original_length");

    /* A newer header version, longer: its known fields are read, the rest skipped. */
    event_builder_t newer;
    build_example(&b);
    memcpy(newer.bytes, b.bytes, 32);
    memset(newer.bytes + 32, 0xee, 8);
    memcpy(newer.bytes + 40, b.bytes + 32, b.size - 32);
    newer.size = b.size + 8;
    byte = 2;
    word = 40;
    set_header(&newer, offsetof(netevent_event_header_t, version), &byte, 1);
    set_header(&newer, offsetof(netevent_event_header_t, header_length), &word, 2);
    assert_int_equal(decode_exact(newer.bytes, newer.size, &d), 0);
    assert_int_equal(d.version, 2);
    assert_int_equal(d.src_port, 443);

    /* Bytes after the capture are ignored but reported. */
    build_example(&b);
    assert_int_equal(decode_exact(b.bytes, b.size + 6, &d), 0);
    assert_int_equal(d.trailing_length, 6);

    /* Packet-level malformations decode the header and say what is wrong. */
    build_example(&b);
    b.bytes[32 + 14] = 0x44; /* IHL 4 */
    expect_malformed(&b, "IHL 4");
    b.bytes[32 + 14] = 0x65; /* version 6 in an IPv4 ethertype */
    expect_malformed(&b, "version field 6");
    build_example(&b);
    put16(b.bytes + 32 + 14 + 2, 10); /* total length below the header */
    expect_malformed(&b, "total length 10");
    build_example(&b);
    b.bytes[32 + 14 + 20 + 12] = 0x30; /* TCP data offset 3 */
    expect_malformed(&b, "data offset 3");
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    assert_int_equal(d.src_port, 443); /* what could be read still is */

    /* An IPv6 chain of extension headers longer than the decoder follows. */
    begin(&b, NETEVENT_EVENT_TYPE_FLOW, 0, 0);
    ethernet(&b, 0x86dd);
    ipv6(&b, 60, 10 * 8);
    for (int i = 0; i < 10; i++) {
        b.bytes[b.size] = 60;
        b.size += 8;
    }
    end(&b);
    expect_malformed(&b, "extension headers");
    /* IPv4 options longer than the capture: truncated, not malformed. */
    build_example(&b);
    b.bytes[32 + 14] = 0x4f;
    put16(b.bytes + 32 + 14 + 2, 60);
    value = 14 + 30;
    set_header(&b, offsetof(netevent_event_header_t, captured_length), &value, 4);
    assert_int_equal(decode_exact(b.bytes, 32 + 44, &d), 0);
    assert_true(d.packet_truncated);
    assert_false(d.packet_malformed);
}

/* Every formatted object parses back and has the same keys. */
static void test_json_is_valid_with_stable_keys(void **state)
{
    event_builder_t b;
    netevent_decoded_t d;
    char json[NETEVENT_FORMAT_JSON_MAX];
    uint8_t sim[SIM_EVENT_MAX_SIZE];
    json_t *first = NULL;

    build_example(&b);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    assert_true(netevent_format_json(&d, json, sizeof(json)) > 0);
    json_error_t error;
    first = json_loads(json, JSON_REJECT_DUPLICATES, &error);
    if (first == NULL)
        fail_msg("%s: %s", json, error.text);
    assert_string_equal(json_string_value(json_object_get(first, "time")),
                        "2026-11-24T21:57:32.123456Z");
    assert_string_equal(json_string_value(json_object_get(first, "type")), "drop");
    assert_string_equal(json_string_value(json_object_get(first, "drop_reason")), "checksum");
    assert_int_equal(json_integer_value(json_object_get(first, "drop_reason_id")), 2);
    assert_string_equal(json_string_value(json_object_get(first, "src_ip")), "10.0.1.5");
    assert_string_equal(json_string_value(json_object_get(first, "dst_ip")), "192.168.1.20");
    assert_int_equal(json_integer_value(json_object_get(first, "src_port")), 443);
    assert_string_equal(json_string_value(json_object_get(first, "protocol")), "TCP");
    assert_string_equal(json_string_value(json_object_get(first, "tcp_flags")), "SA");
    assert_int_equal(json_integer_value(json_object_get(first, "sequence")), 17);
    assert_true(json_is_null(json_object_get(first, "vlan_id")));
    assert_true(json_is_null(json_object_get(first, "error")));
    assert_true(json_is_true(json_object_get(first, "valid")));

    /* Sim events, an invalid event and a malformed one: same keys, valid JSON. */
    for (uint32_t i = 0; i < 202; i++) {
        int rc;
        if (i < 200) {
            size_t size = sim_event_build(sim, i, EXAMPLE_TIME_NS + i);
            rc = decode_exact(sim, size, &d);
            assert_int_equal(rc, 0);
        } else if (i == 200) {
            rc = decode_exact(b.bytes, 10, &d);
            assert_int_equal(rc, -EINVAL);
        } else {
            build_example(&b);
            b.bytes[32 + 14] = 0x41;
            rc = decode_exact(b.bytes, b.size, &d);
            assert_int_equal(rc, 0);
        }
        int length = netevent_format_json(&d, json, sizeof(json));
        assert_int_equal(length, (int)strlen(json));
        json_t *object = json_loads(json, JSON_REJECT_DUPLICATES, &error);
        if (object == NULL)
            fail_msg("%s: %s", json, error.text);
        assert_int_equal(json_object_size(object), json_object_size(first));
        const char *key;
        json_t *value;
        json_object_foreach(first, key, value)
        {
            assert_non_null(json_object_get(object, key));
        }
        if (i == 200) {
            assert_true(json_is_false(json_object_get(object, "valid")));
            assert_non_null(
                strstr(json_string_value(json_object_get(object, "error")), "shorter than"));
        }
        json_decref(object);
    }
    json_decref(first);
}

static void test_escaping_and_small_buffers(void **state)
{
    netevent_decoded_t d;
    char json[NETEVENT_FORMAT_JSON_MAX];
    char text[NETEVENT_FORMAT_TEXT_MAX];
    event_builder_t b;

    /* An error text with characters JSON must escape. */
    memset(&d, 0, sizeof(d));
    snprintf(d.error, sizeof(d.error), "quote \" backslash \\ newline \n tab \t high \xe9");
    assert_true(netevent_format_json(&d, json, sizeof(json)) > 0);
    json_t *object = json_loads(json, 0, NULL);
    assert_non_null(object);
    assert_non_null(strstr(json_string_value(json_object_get(object, "error")), "quote \" "));
    json_decref(object);

    build_example(&b);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    int full = netevent_format_text(&d, text, sizeof(text));
    assert_true(full > 0);
    for (size_t size = 1; size <= (size_t)full; size++) {
        char small[NETEVENT_FORMAT_TEXT_MAX];
        assert_int_equal(netevent_format_text(&d, small, size), -ENOSPC);
        assert_int_equal(strlen(small), size - 1);
        assert_int_equal(netevent_format_json(&d, small, size < 64 ? size : 64), -ENOSPC);
    }
    assert_int_equal(netevent_format_text(&d, text, 0), -ENOSPC);
    assert_int_equal(netevent_format_text(NULL, text, sizeof(text)), -EINVAL);
    assert_int_equal(netevent_format_json(&d, NULL, 10), -EINVAL);

    /* The largest output: IPv6, tags, ports, flags and a full error still fit the maxima. */
    begin(&b, NETEVENT_EVENT_TYPE_DROP, 0xffffffffu, 1);
    ethernet(&b, 0x8100);
    vlan(&b, 0x8100, 0xffff, 0x86dd);
    ipv6(&b, 6, 20);
    memset(b.bytes + b.size - 32, 0xff, 32); /* widest addresses */
    tcp(&b, 65535, 65535, 0xff, 12);         /* data offset 3: malformed */
    end(&b);
    assert_int_equal(decode_exact(b.bytes, b.size, &d), 0);
    memset(d.error, 'x', sizeof(d.error) - 1);
    d.error[sizeof(d.error) - 1] = '\0';
    d.timestamp_ns = UINT64_MAX;
    d.sequence = UINT32_MAX;
    d.original_length = UINT32_MAX;
    assert_true(netevent_format_text(&d, text, sizeof(text)) > 0);
    assert_true(netevent_format_json(&d, json, sizeof(json)) > 0);
}

/* Sim events decode to what the simulator meant, over many sequence numbers. */
static void test_sim_events_decode(void **state)
{
    uint8_t sim[SIM_EVENT_MAX_SIZE];
    netevent_decoded_t d;
    unsigned kinds[3] = {0}, protocols[256] = {0};
    unsigned reasons[NETEVENT_DROP_REASON_MAX + 1] = {0};

    for (uint32_t sequence = 1; sequence <= 5000; sequence++) {
        size_t size = sim_event_build(sim, sequence, EXAMPLE_TIME_NS);
        assert_true(size <= SIM_EVENT_MAX_SIZE);
        assert_int_equal(decode_exact(sim, size, &d), 0);
        assert_string_equal(d.error, "");
        assert_int_equal(d.sequence, sequence);
        assert_int_equal(d.component, NETEVENT_COMPONENT_SIM);
        assert_true(d.layers & NETEVENT_LAYER_PORTS);
        kinds[d.kind]++;
        protocols[d.protocol]++;
        if (d.kind == NETEVENT_KIND_DROP)
            reasons[d.drop_reason]++;
    }
    assert_int_equal(kinds[NETEVENT_KIND_UNKNOWN], 0);
    assert_true(kinds[NETEVENT_KIND_DROP] > 1000);
    assert_true(kinds[NETEVENT_KIND_FLOW] > 1000);
    assert_true(protocols[6] > 1000 && protocols[17] > 1000);
    assert_int_equal(reasons[0], 0);
    for (int reason = 1; reason <= NETEVENT_DROP_REASON_MAX; reason++)
        assert_true(reasons[reason] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_and_print_example),
        cmocka_unit_test(test_every_kind_of_packet),
        cmocka_unit_test(test_truncated_at_every_length),
        cmocka_unit_test(test_malformed_events),
        cmocka_unit_test(test_json_is_valid_with_stable_keys),
        cmocka_unit_test(test_escaping_and_small_buffers),
        cmocka_unit_test(test_sim_events_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
