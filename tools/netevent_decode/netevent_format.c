/* Printing decoded events: one text line or one JSON object per event. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "netevent_decode.h"

/* A bounded output buffer: once something does not fit, later appends are ignored and the
 * text stays NUL-terminated, so a caller always gets a printable (if cut) line. */
typedef struct output {
    char *buf;
    size_t size;
    size_t length;
    bool overflow;
} output_t;

static void append(output_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append(output_t *out, const char *fmt, ...)
{
    va_list ap;
    if (out->overflow)
        return;
    size_t room = out->size - out->length;
    va_start(ap, fmt);
    int n = vsnprintf(out->buf + out->length, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        out->overflow = true;
        out->length = out->size - 1;
        out->buf[out->length] = '\0';
        return;
    }
    out->length += (size_t)n;
}

static int finish(const output_t *out)
{
    return out->overflow ? -ENOSPC : (int)out->length;
}

static void format_time(uint64_t timestamp_ns, char *text, size_t size)
{
    time_t seconds = (time_t)(timestamp_ns / 1000000000ull);
    struct tm tm;
    if (gmtime_r(&seconds, &tm) == NULL) {
        snprintf(text, size, "@%llu", (unsigned long long)timestamp_ns);
        return;
    }
    snprintf(text, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(timestamp_ns % 1000000000ull / 1000));
}

static void format_mac(const uint8_t mac[6], char text[18])
{
    snprintf(text, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

static void format_ip(const netevent_decoded_t *decoded, const uint8_t *address, char *text,
                      size_t size)
{
    if (inet_ntop(decoded->ip_version == 6 ? AF_INET6 : AF_INET, address, text, (socklen_t)size) ==
        NULL)
        snprintf(text, size, "?");
}

/* Letters in the order of the flag bits, so SYN+ACK reads "SA". */
static void format_tcp_flags(uint8_t flags, char text[9])
{
    static const char letters[] = "FSRPAUEC";
    size_t n = 0;
    for (int bit = 0; bit < 8; bit++) {
        if (flags & (1u << bit))
            text[n++] = letters[bit];
    }
    text[n] = '\0';
}

static const char *kind_name(netevent_kind_t kind)
{
    switch (kind) {
    case NETEVENT_KIND_DROP:
        return "drop";
    case NETEVENT_KIND_FLOW:
        return "flow";
    default:
        return "unknown";
    }
}

static bool has(const netevent_decoded_t *decoded, uint32_t layer)
{
    return (decoded->layers & layer) != 0;
}

static bool has_ip(const netevent_decoded_t *decoded)
{
    return has(decoded, NETEVENT_LAYER_IPV4 | NETEVENT_LAYER_IPV6);
}

static void text_endpoint(output_t *out, const netevent_decoded_t *decoded, const uint8_t *ip,
                          uint16_t port)
{
    char address[INET6_ADDRSTRLEN];
    format_ip(decoded, ip, address, sizeof(address));
    if (!has(decoded, NETEVENT_LAYER_PORTS))
        append(out, "%s", address);
    else if (decoded->ip_version == 6)
        append(out, "[%s]:%u", address, port);
    else
        append(out, "%s:%u", address, port);
}

int netevent_format_text(const netevent_decoded_t *decoded, char *buf, size_t size)
{
    output_t out = {buf, size, 0, false};
    char text[64];

    if (decoded == NULL || buf == NULL)
        return -EINVAL;
    if (size == 0)
        return -ENOSPC;
    buf[0] = '\0';
    if (!decoded->header_valid) {
        append(&out, "invalid event: %s", decoded->error);
        return finish(&out);
    }
    format_time(decoded->timestamp_ns, text, sizeof(text));
    append(&out, "%s ", text);
    if (decoded->kind == NETEVENT_KIND_UNKNOWN)
        append(&out, "type=%u", decoded->type);
    else
        append(&out, "%s", kind_name(decoded->kind));
    if (decoded->kind == NETEVENT_KIND_DROP)
        append(&out, " reason=%s(%u)", decoded->drop_reason_name, decoded->drop_reason);
    append(&out, " comp=%s dir=%s", decoded->component_name, decoded->direction_name);
    if (has(decoded, NETEVENT_LAYER_VLAN))
        append(&out, " vlan=%u", decoded->vlan_id);

    if (has_ip(decoded)) {
        append(&out, " ");
        text_endpoint(&out, decoded, decoded->src_ip, decoded->src_port);
        append(&out, " -> ");
        text_endpoint(&out, decoded, decoded->dst_ip, decoded->dst_port);
        const char *protocol = netevent_protocol_name(decoded->protocol);
        if (protocol != NULL)
            append(&out, " %s", protocol);
        else
            append(&out, " proto=%u", decoded->protocol);
        if (has(decoded, NETEVENT_LAYER_TCP_FLAGS)) {
            format_tcp_flags(decoded->tcp_flags, text);
            append(&out, " [%s]", text);
        }
        if (has(decoded, NETEVENT_LAYER_ICMP))
            append(&out, " type=%u code=%u", decoded->icmp_type, decoded->icmp_code);
        if (decoded->ip_fragment)
            append(&out, " frag");
    } else if (has(decoded, NETEVENT_LAYER_ETHERNET)) {
        char source[18], destination[18];
        format_mac(decoded->src_mac, source);
        format_mac(decoded->dst_mac, destination);
        append(&out, " %s -> %s ethertype=0x%04x", source, destination, decoded->ethertype);
    } else if (decoded->captured_length == 0) {
        append(&out, " no-packet");
    }
    append(&out, " len=%u", decoded->original_length);
    if (decoded->captured_length != decoded->original_length)
        append(&out, " cap=%u", decoded->captured_length);
    append(&out, " seq=%u", decoded->sequence);
    if (decoded->packet_malformed)
        append(&out, " (malformed: %s)", decoded->error);
    else if (decoded->packet_truncated)
        append(&out, " (truncated)");
    return finish(&out);
}

/* JSON pieces. Every value writer also writes the key, with a leading comma after the first. */

typedef struct json_object {
    output_t *out;
    bool first;
} json_object_t;

static void json_key(json_object_t *object, const char *key)
{
    append(object->out, "%s\"%s\":", object->first ? "" : ",", key);
    object->first = false;
}

static void json_string(json_object_t *object, const char *key, const char *value)
{
    json_key(object, key);
    if (value == NULL) {
        append(object->out, "null");
        return;
    }
    append(object->out, "\"");
    for (const unsigned char *c = (const unsigned char *)value; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\')
            append(object->out, "\\%c", *c);
        else if (*c < 0x20 || *c >= 0x7f)
            append(object->out, "\\u%04x", *c); /* non-ASCII bytes kept as code points */
        else
            append(object->out, "%c", *c);
    }
    append(object->out, "\"");
}

static void json_number(json_object_t *object, const char *key, bool present, uint64_t value)
{
    json_key(object, key);
    if (present)
        append(object->out, "%llu", (unsigned long long)value);
    else
        append(object->out, "null");
}

static void json_bool(json_object_t *object, const char *key, bool value)
{
    json_key(object, key);
    append(object->out, "%s", value ? "true" : "false");
}

int netevent_format_json(const netevent_decoded_t *decoded, char *buf, size_t size)
{
    output_t out = {buf, size, 0, false};
    json_object_t object = {&out, true};
    char text[INET6_ADDRSTRLEN + 16];

    if (decoded == NULL || buf == NULL)
        return -EINVAL;
    if (size == 0)
        return -ENOSPC;
    buf[0] = '\0';
    bool header = decoded->header_valid;
    bool ethernet = header && has(decoded, NETEVENT_LAYER_ETHERNET);
    bool vlan = header && has(decoded, NETEVENT_LAYER_VLAN);
    bool ip = header && has_ip(decoded);
    bool ports = header && has(decoded, NETEVENT_LAYER_PORTS);
    bool flags = header && has(decoded, NETEVENT_LAYER_TCP_FLAGS);
    bool icmp = header && has(decoded, NETEVENT_LAYER_ICMP);

    append(&out, "{");
    json_bool(&object, "valid", header);
    if (header)
        format_time(decoded->timestamp_ns, text, sizeof(text));
    json_string(&object, "time", header ? text : NULL);
    json_number(&object, "timestamp_ns", header, decoded->timestamp_ns);
    json_string(&object, "type", kind_name(decoded->kind));
    json_number(&object, "type_id", true, decoded->type);
    json_number(&object, "version", header, decoded->version);
    json_number(&object, "header_length", header, decoded->header_length);
    json_string(&object, "drop_reason", header ? decoded->drop_reason_name : NULL);
    json_number(&object, "drop_reason_id", header, decoded->drop_reason);
    json_string(&object, "component", header ? decoded->component_name : NULL);
    json_number(&object, "component_id", header, decoded->component);
    json_string(&object, "direction", header ? decoded->direction_name : NULL);
    json_number(&object, "direction_id", header, decoded->direction);
    json_number(&object, "original_length", header, decoded->original_length);
    json_number(&object, "captured_length", header, decoded->captured_length);
    json_number(&object, "sequence", header, decoded->sequence);

    if (ethernet)
        format_mac(decoded->src_mac, text);
    json_string(&object, "src_mac", ethernet ? text : NULL);
    if (ethernet)
        format_mac(decoded->dst_mac, text);
    json_string(&object, "dst_mac", ethernet ? text : NULL);
    json_number(&object, "ethertype", ethernet, decoded->ethertype);
    json_number(&object, "vlan_id", vlan, decoded->vlan_id);
    json_number(&object, "vlan_priority", vlan, decoded->vlan_priority);
    json_number(&object, "ip_version", ip, decoded->ip_version);
    if (ip)
        format_ip(decoded, decoded->src_ip, text, sizeof(text));
    json_string(&object, "src_ip", ip ? text : NULL);
    if (ip)
        format_ip(decoded, decoded->dst_ip, text, sizeof(text));
    json_string(&object, "dst_ip", ip ? text : NULL);
    json_string(&object, "protocol", ip ? netevent_protocol_name(decoded->protocol) : NULL);
    json_number(&object, "protocol_id", ip, decoded->protocol);
    json_number(&object, "ttl", ip, decoded->ttl);
    json_bool(&object, "fragment", decoded->ip_fragment);
    json_number(&object, "src_port", ports, decoded->src_port);
    json_number(&object, "dst_port", ports, decoded->dst_port);
    if (flags)
        format_tcp_flags(decoded->tcp_flags, text);
    json_string(&object, "tcp_flags", flags ? text : NULL);
    json_number(&object, "tcp_flags_value", flags, decoded->tcp_flags);
    json_number(&object, "icmp_type", icmp, decoded->icmp_type);
    json_number(&object, "icmp_code", icmp, decoded->icmp_code);
    json_bool(&object, "truncated", decoded->packet_truncated);
    json_bool(&object, "malformed", decoded->packet_malformed);
    json_string(&object, "error", decoded->error[0] != '\0' ? decoded->error : NULL);
    append(&out, "}");
    return finish(&out);
}
