/* netevent_burst: the smallest example event provider. When started, it pushes a fixed burst of
 * events to every client bound at that moment, then stays registered quietly until stopped.
 * Written as a third party would, against netevent_npi.h and nmr.h only (plus the module entry
 * of ebpf_module.h and the host's error reporting). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ebpf_module.h"
#include "ebpf_platform.h"
#include "netevent_npi.h"
#include "netevent_types.h"

#define BURST_MAX_CLIENTS   8
#define BURST_DEFAULT_COUNT 16
#define BURST_MAX_COUNT     100000

/* 9b0c2d31-4a5e-4f60-8e71-3c2b1a0f9e01 */
static const nmr_module_id_t burst_module_id = {
    0x9b0c2d31, 0x4a5e, 0x4f60, {0x8e, 0x71, 0x3c, 0x2b, 0x1a, 0x0f, 0x9e, 0x01}};

/* Guards clients. Each event is pushed holding it for reading, so a detach (holding it for
 * writing) knows no push to its client is in flight once it has it; writers are preferred, so a
 * detach waits for one push at most. (A provider that must never make the registrar wait
 * answers NMR_PENDING instead: see providers/netevent_sim.) */
static pthread_rwlock_t clients_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static netevent_push_event_fn clients[BURST_MAX_CLIENTS]; /* one slot per binding; NULL = free */
static nmr_provider_t *provider;

static int burst_attach_client(nmr_binding_t *binding, void *provider_context,
                               const nmr_registration_instance_t *client,
                               void *client_binding_context, const void *client_dispatch,
                               void **provider_binding_context, const void **provider_dispatch)
{
    const netevent_client_dispatch_t *dispatch = client_dispatch;
    int rc = -ENOSPC;

    if (dispatch == NULL || dispatch->header.version < NETEVENT_CLIENT_DISPATCH_VERSION ||
        !EBPF_EXTENSION_HAS_FIELD(&dispatch->header, netevent_client_dispatch_t,
                                  helper_function_address) ||
        dispatch->helper_function_count < 1 || dispatch->helper_function_address[0] == NULL)
        return ebpf_error(-EINVAL, "netevent_burst: the client's dispatch has no push_event");
    pthread_rwlock_wrlock(&clients_lock);
    for (int slot = 0; slot < BURST_MAX_CLIENTS; slot++) {
        if (clients[slot] == NULL) {
            clients[slot] = (netevent_push_event_fn)dispatch->helper_function_address[0];
            *provider_binding_context = &clients[slot];
            *provider_dispatch = NULL;
            rc = 0;
            break;
        }
    }
    pthread_rwlock_unlock(&clients_lock);
    if (rc != 0)
        return ebpf_error(rc, "netevent_burst: more than %d clients", BURST_MAX_CLIENTS);
    return 0;
}

static int burst_detach_client(void *provider_binding_context)
{
    netevent_push_event_fn *slot = provider_binding_context;
    pthread_rwlock_wrlock(&clients_lock);
    *slot = NULL;
    pthread_rwlock_unlock(&clients_lock);
    return 0;
}

static const nmr_provider_characteristics_t burst_characteristics = {
    NMR_CHARACTERISTICS_VERSION,
    sizeof(nmr_provider_characteristics_t),
    burst_attach_client,
    burst_detach_client,
    NULL,
    {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &NETEVENT_NPI_ID,
     &burst_module_id, 0, NULL},
};

static uint16_t ipv4_checksum(const uint8_t *header)
{
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(header[i] << 8 | header[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Event number i: a UDP datagram between two documentation networks, every fourth one dropped
 * by a filter. Returns its size. */
static size_t build_event(uint8_t *event, uint32_t i)
{
    static const uint8_t frame_start[14] = {0x02, 0, 0, 0, 0,    0x01, 0x02,
                                            0,    0, 0, 0, 0x02, 0x08, 0x00};
    static const uint8_t source[4] = {198, 51, 100, 0};
    static const uint8_t destination[4] = {203, 0, 113, 7};
    uint8_t *packet = event + sizeof(netevent_event_header_t);
    uint8_t *ip = packet + 14, *udp = ip + 20;
    const size_t packet_length = 14 + 20 + 8 + 4;
    struct timespec now;

    memset(packet, 0, packet_length);
    memcpy(packet, frame_start, sizeof(frame_start));
    ip[0] = 0x45;
    ip[3] = 20 + 8 + 4; /* total length */
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, source, 4);
    ip[15] = (uint8_t)(1 + i % 200);
    memcpy(ip + 16, destination, 4);
    uint16_t checksum = ipv4_checksum(ip);
    ip[10] = (uint8_t)(checksum >> 8);
    ip[11] = (uint8_t)checksum;
    uint16_t source_port = (uint16_t)(40000 + i % 20000);
    udp[0] = (uint8_t)(source_port >> 8);
    udp[1] = (uint8_t)source_port;
    udp[2] = 8080 >> 8;
    udp[3] = 8080 & 0xff;
    udp[5] = 8 + 4;
    memcpy(udp + 8, &i, 4);

    netevent_event_header_t header = {0};
    clock_gettime(CLOCK_REALTIME, &now);
    header.type = i % 4 == 3 ? NETEVENT_EVENT_TYPE_DROP : NETEVENT_EVENT_TYPE_FLOW;
    header.version = NETEVENT_EVENT_HEADER_VERSION;
    header.header_length = sizeof(header);
    header.drop_reason = i % 4 == 3 ? NETEVENT_DROP_FILTERED : NETEVENT_DROP_NONE;
    header.component = NETEVENT_COMPONENT_NIC;
    header.direction = NETEVENT_DIRECTION_OUTBOUND;
    header.original_length = (uint32_t)packet_length;
    header.timestamp_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
    header.captured_length = (uint32_t)packet_length;
    header.sequence = i + 1;
    memcpy(event, &header, sizeof(header));
    return sizeof(header) + packet_length;
}

static int burst_start(const char *parameters)
{
    char text[16];
    unsigned long count = BURST_DEFAULT_COUNT;
    uint8_t event[sizeof(netevent_event_header_t) + 64];
    int rc;

    if (provider != NULL)
        return ebpf_error(-EALREADY, "netevent_burst: already started");
    if (ebpf_module_parameter(parameters, "Count", text, sizeof(text)) == 0) {
        char *end;
        count = strtoul(text, &end, 10);
        if (end == text || *end != '\0' || count > BURST_MAX_COUNT)
            return ebpf_error(-EINVAL, "netevent_burst: Count=\"%s\" is not a number up to %d",
                              text, BURST_MAX_COUNT);
    }
    /* Clients already registered bind before this returns. */
    rc = nmr_register_provider(&burst_characteristics, NULL, &provider);
    if (rc != 0)
        return rc;
    for (uint32_t i = 0; i < count; i++) {
        size_t size = build_event(event, i);
        const netevent_event_info_t info = {event, event + size};
        pthread_rwlock_rdlock(&clients_lock);
        for (int slot = 0; slot < BURST_MAX_CLIENTS; slot++) {
            if (clients[slot] != NULL)
                clients[slot](&info); /* a refused event is the client's business */
        }
        pthread_rwlock_unlock(&clients_lock);
    }
    return 0;
}

static void burst_stop(void)
{
    if (provider == NULL)
        return;
    if (nmr_deregister_provider(provider) >= 0)
        nmr_wait_for_provider_deregister_complete(provider);
    provider = NULL;
}

EBPF_MODULE_DEFINE("netevent_burst", burst_start, burst_stop);
