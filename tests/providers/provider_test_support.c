/* Test support for provider modules: dlopen-based loading and validating netevent clients. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ebpf_platform.h"
#include "netevent_decode.h"
#include "netevent_types.h"
#include "provider_test_support.h"

int test_module_load(const char *path, test_module_t *module)
{
    memset(module, 0, sizeof(*module));
    module->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (module->handle == NULL) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        return -ENOENT;
    }
    module->descriptor = dlsym(module->handle, EBPF_MODULE_ENTRY_SYMBOL);
    if (module->descriptor == NULL ||
        module->descriptor->header.version != EBPF_MODULE_DESCRIPTOR_VERSION) {
        fprintf(stderr, "%s has no module entry\n", path);
        dlclose(module->handle);
        module->handle = NULL;
        return -EINVAL;
    }
    return 0;
}

void *test_module_symbol(const test_module_t *module, const char *name)
{
    return dlsym(module->handle, name);
}

void test_module_unload(test_module_t *module)
{
    if (module->handle != NULL)
        dlclose(module->handle);
    memset(module, 0, sizeof(*module));
}

uint64_t test_monotonic_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

bool test_ipv4_checksum_ok(const uint8_t *header, size_t length)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < length; i += 2)
        sum += (uint32_t)(header[i] << 8 | header[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

static test_client_t clients[TEST_CLIENT_COUNT];

static void problem(test_client_t *client, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(test_client_t *client, const char *fmt, ...)
{
    atomic_fetch_add(&client->problems, 1);
    if (atomic_exchange(&client->problem_recorded, true))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(client->first_problem, sizeof(client->first_problem), fmt, ap);
    va_end(ap);
    fprintf(stderr, "client %d: %s\n", (int)(client - clients), client->first_problem);
}

/* Everything netevent_sim promises about one event. */
static void validate_sim_event(test_client_t *client, const uint8_t *event, size_t size,
                               const netevent_decoded_t *decoded)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;

    if (decoded->version != NETEVENT_EVENT_HEADER_VERSION || decoded->header_length != 32)
        problem(client, "version %u header_length %u", decoded->version, decoded->header_length);
    if (decoded->component != NETEVENT_COMPONENT_SIM)
        problem(client, "component %u", decoded->component);
    if (decoded->kind == NETEVENT_KIND_DROP) {
        atomic_fetch_add(&client->drops, 1);
        if (decoded->drop_reason < 1 || decoded->drop_reason > NETEVENT_DROP_REASON_MAX)
            problem(client, "drop reason %u", decoded->drop_reason);
    } else if (decoded->kind == NETEVENT_KIND_FLOW) {
        atomic_fetch_add(&client->flows, 1);
        if (decoded->drop_reason != 0)
            problem(client, "flow event with drop reason %u", decoded->drop_reason);
    } else {
        problem(client, "event type %u", decoded->type);
    }
    if (decoded->direction > NETEVENT_DIRECTION_OUTBOUND)
        problem(client, "direction %u", decoded->direction);
    if (decoded->timestamp_ns + 3600ull * 1000000000ull < now_ns ||
        decoded->timestamp_ns > now_ns + 3600ull * 1000000000ull)
        problem(client, "timestamp %llu far from now", (unsigned long long)decoded->timestamp_ns);
    if (decoded->captured_length != decoded->original_length || decoded->trailing_length != 0 ||
        size != 32u + decoded->captured_length)
        problem(client, "lengths: original %u captured %u event %zu", decoded->original_length,
                decoded->captured_length, size);
    uint32_t want = NETEVENT_LAYER_ETHERNET | NETEVENT_LAYER_IPV4 | NETEVENT_LAYER_PORTS;
    if ((decoded->layers & want) != want || decoded->packet_truncated || decoded->packet_malformed)
        problem(client, "packet layers 0x%x: %s", decoded->layers, decoded->error);
    if (decoded->layers & NETEVENT_LAYER_VLAN)
        atomic_fetch_add(&client->vlan, 1);
    if (decoded->protocol == 6) {
        atomic_fetch_add(&client->tcp, 1);
        if (!(decoded->layers & NETEVENT_LAYER_TCP_FLAGS) || decoded->tcp_flags == 0)
            problem(client, "TCP without flags");
    } else if (decoded->protocol == 17) {
        atomic_fetch_add(&client->udp, 1);
    } else {
        problem(client, "protocol %u", decoded->protocol);
    }
    /* The IPv4 header sits after Ethernet and the optional tag; its checksum must hold, and
     * the payload must start with the sequence number. */
    size_t ip = 32 + 14 + ((decoded->layers & NETEVENT_LAYER_VLAN) ? 4 : 0);
    if (size < ip + 20 || !test_ipv4_checksum_ok(event + ip, 20)) {
        problem(client, "IPv4 header checksum wrong (sequence %u)", decoded->sequence);
    } else {
        size_t payload = ip + 20 + (decoded->protocol == 6 ? 20 : 8);
        uint32_t carried = size >= payload + 4
                               ? (uint32_t)event[payload] << 24 |
                                     (uint32_t)event[payload + 1] << 16 |
                                     (uint32_t)event[payload + 2] << 8 | event[payload + 3]
                               : 0;
        if (carried != decoded->sequence)
            problem(client, "payload carries %u, header sequence %u", carried, decoded->sequence);
    }
    uint32_t last = atomic_exchange(&client->last_sequence, decoded->sequence);
    if (decoded->sequence <= last)
        problem(client, "sequence %u after %u", decoded->sequence, last);
    else if (decoded->sequence != last + 1)
        atomic_fetch_add(&client->sequence_gaps, 1);
}

static int push_event(test_client_t *client, const netevent_event_info_t *info)
{
    netevent_decoded_t decoded;
    uint64_t count = atomic_fetch_add(&client->events, 1) + 1;

    if (atomic_load(&client->source_stopped))
        atomic_fetch_add(&client->after_stop, 1);
    if (info == NULL || info->event_data_end < info->event_data_start) {
        problem(client, "bad event pointers");
        return -EINVAL;
    }
    size_t size = (size_t)(info->event_data_end - info->event_data_start);
    if (netevent_decode(info->event_data_start, size, &decoded) != 0)
        problem(client, "event does not decode: %s", decoded.error);
    else if (client->validation == TEST_VALIDATE_SIM)
        validate_sim_event(client, info->event_data_start, size, &decoded);
    if (client->push_delay_us != 0)
        usleep(client->push_delay_us);
    if (client->refuse_every != 0 && count % client->refuse_every == 0) {
        atomic_fetch_add(&client->refused, 1);
        return -EINVAL;
    }
    return 0;
}

static int push_event_0(const netevent_event_info_t *info)
{
    return push_event(&clients[0], info);
}

static int push_event_1(const netevent_event_info_t *info)
{
    return push_event(&clients[1], info);
}

static const netevent_client_dispatch_t dispatches[TEST_CLIENT_COUNT] = {
    {EBPF_EXTENSION_HEADER(NETEVENT_CLIENT_DISPATCH_VERSION, netevent_client_dispatch_t),
     1,
     {(const void *)push_event_0}},
    {EBPF_EXTENSION_HEADER(NETEVENT_CLIENT_DISPATCH_VERSION, netevent_client_dispatch_t),
     1,
     {(const void *)push_event_1}},
};

static const nmr_module_id_t client_module_ids[TEST_CLIENT_COUNT] = {
    {0x7e57c1e0, 0x0001, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 1}},
    {0x7e57c1e0, 0x0002, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 2}},
};

static int client_attach_provider(nmr_binding_t *binding, void *client_context,
                                  const nmr_registration_instance_t *provider)
{
    test_client_t *client = client_context;
    void *provider_binding_context;
    const void *provider_dispatch;
    int index = (int)(client - clients);

    /* Ready before binding: the provider may push as soon as it accepted. */
    atomic_fetch_add(&client->attaches, 1);
    return nmr_client_attach_provider(binding, client, &dispatches[index],
                                      &provider_binding_context, &provider_dispatch);
}

static int client_detach_provider(void *client_binding_context)
{
    test_client_t *client = client_binding_context;
    atomic_fetch_add(&client->detaches, 1);
    return 0;
}

static const nmr_client_characteristics_t client_characteristics[TEST_CLIENT_COUNT] = {
    {NMR_CHARACTERISTICS_VERSION,
     sizeof(nmr_client_characteristics_t),
     client_attach_provider,
     client_detach_provider,
     NULL,
     {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &NETEVENT_NPI_ID,
      &client_module_ids[0], 0, NULL}},
    {NMR_CHARACTERISTICS_VERSION,
     sizeof(nmr_client_characteristics_t),
     client_attach_provider,
     client_detach_provider,
     NULL,
     {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &NETEVENT_NPI_ID,
      &client_module_ids[1], 0, NULL}},
};

test_client_t *test_client_register(int index, test_validation_t validation)
{
    test_client_t *client = &clients[index];

    memset(client, 0, sizeof(*client));
    client->validation = validation;
    if (test_client_reregister(client) != 0)
        return NULL;
    return client;
}

int test_client_reregister(test_client_t *client)
{
    int index = (int)(client - clients);
    int rc = nmr_register_client(&client_characteristics[index], client, &client->registration);
    if (rc != 0)
        fprintf(stderr, "registering test client %d: %s\n", index, ebpf_last_error());
    return rc;
}

void test_client_deregister(test_client_t *client)
{
    if (client->registration == NULL)
        return;
    if (nmr_deregister_client(client->registration) >= 0)
        nmr_wait_for_client_deregister_complete(client->registration);
    client->registration = NULL;
}

void test_clients_deregister_all(void)
{
    for (int i = 0; i < TEST_CLIENT_COUNT; i++)
        test_client_deregister(&clients[i]);
}

uint64_t test_client_wait_events(test_client_t *client, uint64_t events)
{
    uint64_t deadline = test_monotonic_us() + 20000000u;
    while (atomic_load(&client->events) < events && test_monotonic_us() < deadline)
        usleep(1000);
    return atomic_load(&client->events);
}
