/* The event path: providers push events through the netevent NPI; each is checked, copied into
 * a per-thread buffer and handed to every attached program whose capture type wants it. */
#include <errno.h>
#include <string.h>

#include "netevent_npi.h"
#include "netevent_types.h"
#include "netevent_ext_private.h"

/* Event classes (ebpf_ext_hook_snapshot_invoke_classes): a bit per kind of event. */
#define CLASS_DROP  (UINT64_C(1) << 0)
#define CLASS_FLOW  (UINT64_C(1) << 1)
#define CLASS_OTHER (UINT64_C(1) << 2) /* a type this extension does not name */

static uint64_t class_of_event(uint8_t type)
{
    return type == NETEVENT_EVENT_TYPE_DROP   ? CLASS_DROP
           : type == NETEVENT_EVENT_TYPE_FLOW ? CLASS_FLOW
                                              : CLASS_OTHER;
}

/* The classes a link of this capture type wants, asked once when it attaches. */
uint64_t netevent_link_classes(void *context, const void *link_state)
{
    const netevent_link_state_t *link = link_state;

    switch (link->capture_type) {
    case NeteventCapture_All:
        return UINT64_MAX;
    case NeteventCapture_Flow:
        return CLASS_FLOW;
    case NeteventCapture_Drop:
        return CLASS_DROP;
    default:
        return 0;
    }
}

typedef struct delivery {
    netevent_ext_statistics_t *statistics;
    uint32_t cpu; /* the push's CPU claim */
    uint32_t links_wanting;
} delivery_t;

static void count_result(void *result_context, void *link_state, int rc, uint64_t result)
{
    delivery_t *delivery = result_context;
    const netevent_link_state_t *link = link_state;
    netevent_ext_link_statistics_t *counters =
        netevent_link_statistics_of(delivery->cpu, link->slot);

    delivery->links_wanting++;
    if (rc == 0) {
        delivery->statistics->delivered++;
        counters->delivered++;
    } else {
        delivery->statistics->program_errors++;
        counters->errors++;
    }
}

/* Checks the bytes of an event against the header's own claims. */
static bool well_formed(const uint8_t *start, const uint8_t *end)
{
    netevent_event_header_t header;
    size_t size;

    if (start == NULL || end == NULL || end <= start)
        return false;
    size = (size_t)(end - start);
    if (size < sizeof(header) || size > NETEVENT_EVENT_MAX_SIZE)
        return false;
    memcpy(&header, start, sizeof(header));
    return header.version >= NETEVENT_EVENT_HEADER_VERSION &&
           header.header_length >= sizeof(header) && header.header_length <= size &&
           header.captured_length <= size - header.header_length;
}

/* One event, inside the push's epoch section and CPU claim, against its snapshot of links. */
static int deliver(netevent_extension_t *extension, netevent_ext_statistics_t *statistics,
                   uint32_t cpu, const ebpf_ext_hook_snapshot_t *links,
                   const netevent_event_info_t *event)
{
    statistics->received++;
    if (event == NULL || !well_formed(event->event_data_start, event->event_data_end)) {
        statistics->malformed++;
        return -EINVAL;
    }
    size_t size = (size_t)(event->event_data_end - event->event_data_start);
    /* The provider's bytes are read-only to us. When the verifier proved that no attached
     * program writes the event, they run on those bytes; otherwise every program gets the same
     * private copy. */
    uint8_t *bytes = (uint8_t *)(uintptr_t)event->event_data_start;
    if (links->writers != 0) {
        bytes = ebpf_thread_scratch_get(extension->event_copies, size);
        if (bytes == NULL) {
            statistics->program_errors++;
            return -ENOMEM;
        }
        memcpy(bytes, event->event_data_start, size);
        statistics->copied++;
    }
    netevent_event_md_t context = {bytes, bytes + size};
    delivery_t delivery = {statistics, cpu, 0};
    ebpf_ext_hook_snapshot_invoke_classes(links, &context, class_of_event(bytes[0]), count_result,
                                          &delivery);
    if (links->attached == 0)
        statistics->unattached++;
    else if (links->attached > delivery.links_wanting)
        statistics->filtered += links->attached - delivery.links_wanting;
    return 0;
}

static int push_event(const netevent_event_info_t *event)
{
    netevent_extension_t *extension = &netevent_extension;
    ebpf_ext_hook_snapshot_t links;

    if (atomic_load_explicit(&extension->bound_providers, memory_order_acquire) == 0)
        return -ENOLINK;
    ebpf_epoch_enter();
    uint32_t cpu = ebpf_cpu_enter();
    ebpf_ext_hook_snapshot_begin(extension->hook_provider, &links);
    int rc = deliver(extension, netevent_statistics_of(cpu), cpu, &links, event);
    ebpf_ext_hook_snapshot_end(&links);
    ebpf_cpu_exit();
    ebpf_epoch_exit();
    return rc;
}

/* A batch: one epoch section, one CPU claim and one snapshot of the links for all of it (a link
 * that attaches meanwhile sees the next batch). */
static int push_events(const netevent_event_info_t *events, uint32_t count)
{
    netevent_extension_t *extension = &netevent_extension;
    ebpf_ext_hook_snapshot_t links;
    int delivered = 0;

    if (atomic_load_explicit(&extension->bound_providers, memory_order_acquire) == 0)
        return -ENOLINK;
    if (count > NETEVENT_PUSH_EVENTS_MAX)
        return ebpf_error(-E2BIG, "netevent: a batch of %u events (at most %u)", count,
                          NETEVENT_PUSH_EVENTS_MAX);
    if (events == NULL && count > 0)
        return ebpf_error(-EINVAL, "netevent: a batch of %u events without the events", count);
    ebpf_epoch_enter();
    uint32_t cpu = ebpf_cpu_enter();
    netevent_ext_statistics_t *statistics = netevent_statistics_of(cpu);
    ebpf_ext_hook_snapshot_begin(extension->hook_provider, &links);
    for (uint32_t i = 0; i < count; i++)
        delivered += deliver(extension, statistics, cpu, &links, &events[i]) == 0;
    ebpf_ext_hook_snapshot_end(&links);
    ebpf_cpu_exit();
    ebpf_epoch_exit();
    return delivered;
}

/* Entry 0 is push_event, entry 1 push_events: the dispatch table every provider gets. */
static const netevent_client_dispatch_t client_dispatch = {
    EBPF_EXTENSION_HEADER(NETEVENT_CLIENT_DISPATCH_VERSION, netevent_client_dispatch_t),
    2,
    {(const void *)push_event, (const void *)push_events},
};

static const nmr_module_id_t netevent_client_module_id = {
    0x5e7e0b1c, 0x3a2d, 0x4e6f, {0x9b, 0x8a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}};

static int attach_provider(nmr_binding_t *binding, void *client_context,
                           const nmr_registration_instance_t *provider)
{
    void *provider_binding_context;
    const void *provider_dispatch;
    int rc = nmr_client_attach_provider(binding, NULL, &client_dispatch, &provider_binding_context,
                                        &provider_dispatch);
    if (rc == 0)
        atomic_fetch_add_explicit(&netevent_extension.bound_providers, 1, memory_order_release);
    return rc;
}

static int detach_provider(void *client_binding_context)
{
    atomic_fetch_sub_explicit(&netevent_extension.bound_providers, 1, memory_order_release);
    /* A push that read the count before it dropped may still run: wait it out. */
    ebpf_epoch_synchronize();
    return 0;
}

int netevent_npi_client_register(void)
{
    netevent_extension.npi_characteristics = (nmr_client_characteristics_t){
        .version = NMR_CHARACTERISTICS_VERSION,
        .size = sizeof(nmr_client_characteristics_t),
        .attach_provider = attach_provider,
        .detach_provider = detach_provider,
        .registration_instance = {NMR_REGISTRATION_INSTANCE_VERSION,
                                  sizeof(nmr_registration_instance_t), &NETEVENT_NPI_ID,
                                  &netevent_client_module_id, 0, NULL},
    };
    return nmr_register_client(&netevent_extension.npi_characteristics, NULL,
                               &netevent_extension.npi_client);
}

void netevent_npi_client_deregister(void)
{
    if (netevent_extension.npi_client == NULL)
        return;
    if (nmr_deregister_client(netevent_extension.npi_client) >= 0)
        nmr_wait_for_client_deregister_complete(netevent_extension.npi_client);
    netevent_extension.npi_client = NULL;
}

/* ---- links ---- */

int netevent_link_attach(void *context, const ebpf_link_client_data_t *link, void **out)
{
    netevent_extension_t *extension = &netevent_extension;
    netevent_capture_type_t capture = NeteventCapture_All;
    netevent_link_state_t *state;
    int rc = 0;

    if (link->attach_parameters_size != 0) {
        netevent_attach_opts_t options;
        if (link->attach_parameters_size != sizeof(options))
            return ebpf_error(-EINVAL,
                              "netevent: attach parameters are %zu bytes; "
                              "netevent_attach_opts_t is %zu",
                              link->attach_parameters_size, sizeof(options));
        memcpy(&options, link->attach_parameters, sizeof(options));
        if (options.capture_type < NeteventCapture_All ||
            options.capture_type > NeteventCapture_None)
            return ebpf_error(-EINVAL,
                              "netevent: unknown capture type %d (expected 1 all, 2 "
                              "flow, 3 drop or 4 none)",
                              (int)options.capture_type);
        capture = options.capture_type;
    }
    state = ebpf_allocate(sizeof(*state));
    if (state == NULL)
        return ebpf_error(-ENOMEM, "netevent: out of memory attaching");
    state->capture_type = capture;

    pthread_mutex_lock(&extension->lock);
    uint32_t slot = 0;
    while (slot < NETEVENT_MAX_LINKS && extension->slot_used[slot])
        slot++;
    if (slot == NETEVENT_MAX_LINKS) {
        rc = ebpf_error(-E2BIG, "netevent: %d links are attached already", NETEVENT_MAX_LINKS);
    } else {
        /* Fresh counters and the slot's owner, for user space. */
        size_t size = ebpf_map_user_value_size(extension->link_statistics);
        void *zeros = ebpf_allocate(size);
        netevent_ext_link_slot_t owner = {link->link_id, link->program_id, capture, 0};
        if (zeros == NULL)
            rc = ebpf_error(-ENOMEM, "netevent: out of memory attaching");
        if (rc == 0)
            rc = ebpf_map_update_user(extension->link_statistics, &slot, zeros, BPF_ANY);
        if (rc == 0)
            rc = ebpf_map_update_user(extension->link_slots, &slot, &owner, BPF_ANY);
        ebpf_free(zeros);
        if (rc == 0 && extension->attached_links == 0 && extension->started)
            rc = netevent_npi_client_register();
        if (rc == 0) {
            extension->slot_used[slot] = true;
            extension->attached_links++;
            state->slot = slot;
        }
    }
    pthread_mutex_unlock(&extension->lock);
    if (rc != 0) {
        ebpf_free(state);
        return rc;
    }
    *out = state;
    return 0;
}

void netevent_link_detach(void *context, void *opaque)
{
    netevent_extension_t *extension = &netevent_extension;
    netevent_link_state_t *state = opaque;
    bool last;

    if (state == NULL)
        return;
    pthread_mutex_lock(&extension->lock);
    netevent_ext_link_slot_t free_slot = {0};
    ebpf_map_update_user(extension->link_slots, &state->slot, &free_slot, BPF_ANY);
    extension->slot_used[state->slot] = false;
    last = --extension->attached_links == 0;
    /* No program wants events any more: let the providers stop producing them. Under the lock,
     * so an attach cannot register a new client while this one goes. */
    if (last)
        netevent_npi_client_deregister();
    pthread_mutex_unlock(&extension->lock);
    ebpf_free(state);
}
