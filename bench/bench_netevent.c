/* The netevent test bed: loads neteventebpfext, registers this process as a provider of the
 * netevent NPI (so the benchmark pushes events exactly as a provider module does), and loads and
 * attaches programs through the libbpf-style API. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "bench.h"
#include "ebpf_api.h"
#include "ebpf_platform.h"
#include "netevent_npi.h"
#include "netevent_types.h"

/* 3c1f7a52-8e4b-4d2a-9f61-b2e4c7d80a15 */
static const nmr_module_id_t bench_provider_module_id = {
    0x3c1f7a52, 0x8e4b, 0x4d2a, {0x9f, 0x61, 0xb2, 0xe4, 0xc7, 0xd8, 0x0a, 0x15}};

/* The extension's push_event while bound, NULL otherwise. Set by attach, cleared by detach; the
 * benchmark never pushes while the last link detaches (that is when the binding goes), so a
 * relaxed load on the hot path is enough and no push is in flight when detach returns. */
static _Atomic(netevent_push_event_fn) bound_push;
/* Its push_events (entry 1), or NULL when it has none; set and cleared with bound_push. */
static _Atomic(netevent_push_events_fn) bound_push_events;
static nmr_provider_t *provider;
static ebpf_driver_t *extension;

static int attach_client(nmr_binding_t *binding, void *provider_context,
                         const nmr_registration_instance_t *client, void *client_binding_context,
                         const void *client_dispatch, void **provider_binding_context,
                         const void **provider_dispatch)
{
    const netevent_client_dispatch_t *dispatch = client_dispatch;

    if (dispatch == NULL || dispatch->helper_function_count < 1 ||
        dispatch->helper_function_address[0] == NULL)
        return ebpf_error(-EINVAL, "ebpf_bench: the client's dispatch has no push_event");
    if (atomic_load(&bound_push) != NULL)
        return ebpf_error(-EBUSY, "ebpf_bench: one netevent client at a time");
    atomic_store(&bound_push_events,
                 dispatch->helper_function_count >= 2
                     ? (netevent_push_events_fn)dispatch->helper_function_address[1]
                     : NULL);
    atomic_store(&bound_push, (netevent_push_event_fn)dispatch->helper_function_address[0]);
    *provider_binding_context = NULL;
    *provider_dispatch = NULL;
    return 0;
}

static int detach_client(void *provider_binding_context)
{
    atomic_store(&bound_push, NULL);
    atomic_store(&bound_push_events, NULL);
    return 0;
}

static const nmr_provider_characteristics_t provider_characteristics = {
    NMR_CHARACTERISTICS_VERSION,
    sizeof(nmr_provider_characteristics_t),
    attach_client,
    detach_client,
    NULL,
    {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &NETEVENT_NPI_ID,
     &bench_provider_module_id, 0, NULL},
};

int bench_netevent_start(void)
{
    int rc = ebpf_driver_load("neteventebpfext", NULL, &extension);
    if (rc != 0)
        return rc;
    rc = nmr_register_provider(&provider_characteristics, NULL, &provider);
    if (rc != 0) {
        ebpf_driver_unload(extension);
        extension = NULL;
    }
    return rc;
}

void bench_netevent_stop(void)
{
    if (provider != NULL && nmr_deregister_provider(provider) >= 0)
        nmr_wait_for_provider_deregister_complete(provider);
    provider = NULL;
    ebpf_driver_unload(extension);
    extension = NULL;
}

bool bench_provider_bound(void)
{
    return atomic_load(&bound_push) != NULL;
}

int bench_push_events(const netevent_event_info_t *events, uint32_t count)
{
    netevent_push_events_fn push = atomic_load_explicit(&bound_push_events, memory_order_relaxed);
    return push != NULL ? push(events, count) : -ENOLINK;
}

int bench_push(const uint8_t *event, size_t size)
{
    netevent_push_event_fn push = atomic_load_explicit(&bound_push, memory_order_relaxed);
    const netevent_event_info_t info = {event, event + size};
    return push != NULL ? push(&info) : -ENOLINK;
}

void bench_build_event(uint8_t *event, size_t size, uint32_t sequence)
{
    netevent_event_header_t header = {
        .type = NETEVENT_EVENT_TYPE_FLOW,
        .version = NETEVENT_EVENT_HEADER_VERSION,
        .header_length = sizeof(header),
        .component = NETEVENT_COMPONENT_NIC,
        .direction = NETEVENT_DIRECTION_INBOUND,
        .original_length = (uint32_t)(size - sizeof(header)),
        .timestamp_ns = bench_now_ns(),
        .captured_length = (uint32_t)(size - sizeof(header)),
        .sequence = sequence,
    };
    /* The packet's bytes do not matter to the programs measured; a pattern keeps them
     * deterministic for the checksum. */
    for (size_t i = sizeof(header); i < size; i++)
        event[i] = (uint8_t)(i * 31 + 7);
    memcpy(event, &header, sizeof(header));
}

int bench_program_load(bench_program_t *program, const char *path, const char *function)
{
    memset(program, 0, sizeof(*program));
    program->object = bpf_object__open(path);
    if (program->object == NULL)
        return ebpf_error_prefix(-ENOENT, "opening %s: ", path);
    if (bpf_object__load(program->object) != 0) {
        int rc = ebpf_error_prefix(-EINVAL, "loading %s: ", path);
        bench_program_close(program);
        return rc;
    }
    program->program = bpf_object__find_program_by_name(program->object, function);
    if (program->program == NULL) {
        bench_program_close(program);
        return ebpf_error(-ENOENT, "%s has no program %s", path, function);
    }
    return 0;
}

int bench_program_attach(bench_program_t *program)
{
    return ebpf_program_attach(program->program, NULL, NULL, 0, &program->link);
}

void bench_program_detach(bench_program_t *program)
{
    if (program->link != NULL)
        bpf_link__destroy(program->link);
    program->link = NULL;
}

void bench_program_close(bench_program_t *program)
{
    bench_program_detach(program);
    if (program->object != NULL)
        bpf_object__close(program->object);
    memset(program, 0, sizeof(*program));
}
