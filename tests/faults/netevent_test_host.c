/* Test host for the netevent robustness suites: private store, in-process provider, events. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebpf_api.h"
#include "ebpf_platform.h"
#include "ebpf_store.h"
#include "netevent_ext_program_info.h"
#include "netevent_test_host.h"
#include "netevent_types.h"

/* Set once by prepare when it created the store itself, so exit removes it. */
static char temporary_store[64];

static int remove_entry(const char *path, const struct stat *status, int flag, struct FTW *walk)
{
    return remove(path);
}

static void remove_temporary_store(void)
{
    if (temporary_store[0] != '\0')
        nftw(temporary_store, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int netevent_test_host_prepare(void)
{
    ebpf_store_t *store;
    int rc;

    if (getenv("EBPF_DRIVER_PATH") == NULL)
        setenv("EBPF_DRIVER_PATH", EBPF_TEST_MODULE_DIR, 1);
    if (getenv("EBPF_STORE_DIR") == NULL && temporary_store[0] == '\0') {
        snprintf(temporary_store, sizeof(temporary_store), "/tmp/netevent_test_store.XXXXXX");
        if (mkdtemp(temporary_store) == NULL) {
            temporary_store[0] = '\0';
            return ebpf_error(-errno, "cannot create a private store: %s", strerror(errno));
        }
        setenv("EBPF_STORE_DIR", temporary_store, 1);
        atexit(remove_temporary_store);
    }
    rc = ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store);
    if (rc != 0)
        return rc;
    rc = ebpf_store_update_program_info(store, &netevent_program_info);
    if (rc == 0)
        rc = ebpf_store_update_section_info(store, netevent_section_info,
                                            netevent_section_info_count);
    ebpf_store_close(store);
    return rc;
}

const char *netevent_test_object_path(const char *object_name)
{
    /* One caller at a time is enough for tests: setup code, not producers. */
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", EBPF_TEST_BPF_OBJECT_DIR, object_name);
    return path;
}

/* ---- the provider ---- */

static void note_callback(netevent_test_provider_t *provider)
{
    if (atomic_load(&provider->deregistered))
        atomic_fetch_add(&provider->callbacks_after_deregister, 1);
}

static int provider_attach_client(nmr_binding_t *binding, void *provider_context,
                                  const nmr_registration_instance_t *client,
                                  void *client_binding_context, const void *client_dispatch,
                                  void **provider_binding_context, const void **provider_dispatch)
{
    netevent_test_provider_t *provider = provider_context;
    const netevent_client_dispatch_t *dispatch = client_dispatch;

    note_callback(provider);
    if (dispatch == NULL || dispatch->helper_function_count < 1 ||
        dispatch->helper_function_address[0] == NULL)
        return ebpf_error(-EINVAL, "test provider: client dispatch without push_event");
    /* One extension exists; a second client at once would be a registrar bug. */
    const netevent_client_dispatch_t *expected = NULL;
    if (!atomic_compare_exchange_strong(&provider->dispatch, &expected, dispatch))
        return ebpf_error(-EBUSY, "test provider: bound already");
    atomic_fetch_add(&provider->attaches, 1);
    *provider_binding_context = provider;
    *provider_dispatch = NULL;
    return 0;
}

static int provider_detach_client(void *provider_binding_context)
{
    netevent_test_provider_t *provider = provider_binding_context;

    note_callback(provider);
    ebpf_epoch_publish(&provider->dispatch, NULL);
    /* A producer that read the dispatch may still be inside push_event: wait it out, so the
     * extension is never called once this returns. */
    ebpf_epoch_synchronize();
    atomic_fetch_add(&provider->detaches, 1);
    return 0;
}

static void provider_cleanup(void *provider_binding_context)
{
    netevent_test_provider_t *provider = provider_binding_context;
    note_callback(provider);
    atomic_fetch_add(&provider->cleanups, 1);
}

int netevent_test_provider_register(netevent_test_provider_t *provider, uint32_t number)
{
    provider->module_id = (nmr_module_id_t){
        0x7e570000 + number, 0x1234, 0x5678, {0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33, 0x44}};
    provider->characteristics = (nmr_provider_characteristics_t){
        .version = NMR_CHARACTERISTICS_VERSION,
        .size = sizeof(nmr_provider_characteristics_t),
        .attach_client = provider_attach_client,
        .detach_client = provider_detach_client,
        .cleanup_binding_context = provider_cleanup,
        .registration_instance = {NMR_REGISTRATION_INSTANCE_VERSION,
                                  sizeof(nmr_registration_instance_t), &NETEVENT_NPI_ID,
                                  &provider->module_id, number, NULL},
    };
    atomic_store(&provider->deregistered, false);
    int rc = nmr_register_provider(&provider->characteristics, provider, &provider->registration);
    if (rc != 0)
        provider->registration = NULL;
    return rc;
}

void netevent_test_provider_deregister(netevent_test_provider_t *provider)
{
    if (provider->registration == NULL)
        return;
    if (nmr_deregister_provider(provider->registration) >= 0)
        nmr_wait_for_provider_deregister_complete(provider->registration);
    provider->registration = NULL;
    atomic_store(&provider->deregistered, true);
}

bool netevent_test_provider_bound(netevent_test_provider_t *provider)
{
    return atomic_load(&provider->dispatch) != NULL;
}

int netevent_test_provider_push(netevent_test_provider_t *provider, const void *event, size_t size)
{
    netevent_event_info_t info = {event, (const uint8_t *)event + size};
    int rc = -ENOLINK;

    atomic_fetch_add_explicit(&provider->produced, 1, memory_order_relaxed);
    ebpf_epoch_enter();
    const netevent_client_dispatch_t *dispatch = ebpf_epoch_dereference(&provider->dispatch);
    if (dispatch != NULL)
        rc = netevent_push_event(dispatch, &info);
    ebpf_epoch_exit();
    if (rc == 0)
        atomic_fetch_add_explicit(&provider->accepted, 1, memory_order_relaxed);
    else if (rc == -EINVAL)
        atomic_fetch_add_explicit(&provider->malformed, 1, memory_order_relaxed);
    else if (rc == -ENOLINK)
        atomic_fetch_add_explicit(&provider->unbound, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&provider->failed, 1, memory_order_relaxed);
    return rc;
}

int netevent_test_provider_push_events(netevent_test_provider_t *provider,
                                       const netevent_event_info_t *events, uint32_t count)
{
    int rc = -ENOLINK;

    atomic_fetch_add_explicit(&provider->produced, count, memory_order_relaxed);
    ebpf_epoch_enter();
    const netevent_client_dispatch_t *dispatch = ebpf_epoch_dereference(&provider->dispatch);
    if (dispatch != NULL)
        rc = netevent_push_events(dispatch, events, count);
    ebpf_epoch_exit();
    if (rc >= 0) {
        atomic_fetch_add_explicit(&provider->accepted, (uint64_t)rc, memory_order_relaxed);
        /* The extension counted each of the others as malformed or failed; so do we, as
         * malformed (the tests that batch send no event that could fail otherwise). */
        atomic_fetch_add_explicit(&provider->malformed, count - (uint32_t)rc, memory_order_relaxed);
    } else if (rc == -ENOLINK) {
        atomic_fetch_add_explicit(&provider->unbound, count, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&provider->failed, count, memory_order_relaxed);
    }
    return rc;
}

/* ---- events and statistics ---- */

size_t netevent_test_build_event(uint8_t *buffer, size_t capacity, uint8_t type, uint32_t sequence,
                                 uint32_t payload_size)
{
    netevent_event_header_t header = {
        .type = type,
        .version = NETEVENT_EVENT_HEADER_VERSION,
        .header_length = sizeof(header),
        .component = NETEVENT_COMPONENT_SIM,
        .original_length = payload_size,
        .captured_length = payload_size,
        .sequence = sequence,
    };
    size_t size = sizeof(header) + payload_size;

    if (size > capacity)
        return 0;
    memcpy(buffer, &header, sizeof(header));
    for (uint32_t i = 0; i < payload_size; i++)
        buffer[sizeof(header) + i] = (uint8_t)(sequence + i);
    return size;
}

int netevent_test_read_statistics(int statistics_fd, netevent_ext_statistics_t *total)
{
    int cpus = libbpf_num_possible_cpus();
    uint32_t zero = 0;

    if (cpus <= 0)
        return cpus < 0 ? cpus : -EINVAL;
    /* calloc, not the platform allocator: the reading must not be hit by fault injection. */
    netevent_ext_statistics_t *per_cpu = calloc((size_t)cpus, sizeof(*per_cpu));
    if (per_cpu == NULL)
        return -ENOMEM;
    int rc = bpf_map_lookup_elem(statistics_fd, &zero, per_cpu);
    memset(total, 0, sizeof(*total));
    for (int cpu = 0; rc == 0 && cpu < cpus; cpu++)
        netevent_test_add_statistics(total, &per_cpu[cpu]);
    free(per_cpu);
    return rc;
}

void netevent_test_add_statistics(netevent_ext_statistics_t *sum,
                                  const netevent_ext_statistics_t *part)
{
    sum->received += part->received;
    sum->malformed += part->malformed;
    sum->delivered += part->delivered;
    sum->program_errors += part->program_errors;
    sum->filtered += part->filtered;
    sum->helper_pushed += part->helper_pushed;
    sum->helper_dropped += part->helper_dropped;
    sum->unattached += part->unattached;
}
