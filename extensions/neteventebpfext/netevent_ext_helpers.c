/* The program type's runtime pieces: the bpf_netevent_push_event helper and test-run contexts. */
#include <errno.h>
#include <string.h>

#include "netevent_ext_private.h"
#include "netevent_ext_program_info.h"
#include "netevent_types.h"

/* Copies the current event into the extension's ring buffer (NETEVENT_EVENTS_PIN_NAME). */
static uint64_t helper_push_event(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    const netevent_event_md_t *context = (const netevent_event_md_t *)(uintptr_t)r1;
    ebpf_ring_buffer_t *ring = ebpf_map_get_ring_buffer(netevent_extension.push_events);
    netevent_ext_statistics_t *statistics = netevent_statistics_here();
    int rc;

    if (context == NULL || context->event_data_end < context->event_data_start)
        return (uint64_t)-EINVAL;
    rc =
        ebpf_ring_buffer_output(ring, context->event_data_start,
                                (uint64_t)(context->event_data_end - context->event_data_start), 0);
    if (statistics != NULL) {
        if (rc == 0)
            statistics->helper_pushed++;
        else
            statistics->helper_dropped++;
    }
    return (uint64_t)(int64_t)rc;
}

/* Test run: the context points at a private copy of data_in. */
static int context_create(const uint8_t *data_in, size_t data_size_in, const uint8_t *context_in,
                          size_t context_size_in, void **out)
{
    netevent_event_md_t *context;

    if (context_in != NULL && context_size_in != sizeof(netevent_event_md_t))
        return ebpf_error(-EINVAL,
                          "netevent_monitor test run: ctx_in must be %zu bytes (got "
                          "%zu)",
                          sizeof(netevent_event_md_t), context_size_in);
    if (data_size_in > NETEVENT_EVENT_MAX_SIZE)
        return ebpf_error(-E2BIG, "netevent_monitor test run: %zu bytes of data (at most %zu)",
                          data_size_in, (size_t)NETEVENT_EVENT_MAX_SIZE);
    context = ebpf_allocate(sizeof(*context) + data_size_in);
    if (context == NULL)
        return ebpf_error(-ENOMEM, "netevent_monitor test run: out of memory");
    context->event_data_start = (uint8_t *)(context + 1);
    context->event_data_end = context->event_data_start + data_size_in;
    if (data_size_in != 0)
        memcpy(context->event_data_start, data_in, data_size_in);
    *out = context;
    return 0;
}

static void context_destroy(void *opaque, uint8_t *data_out, size_t *data_size_out,
                            uint8_t *context_out, size_t *context_size_out)
{
    netevent_event_md_t *context = opaque;
    size_t size = (size_t)(context->event_data_end - context->event_data_start);

    if (data_out != NULL)
        memcpy(data_out, context->event_data_start, size < *data_size_out ? size : *data_size_out);
    *data_size_out = size;
    if (context_out != NULL)
        memcpy(context_out, context,
               sizeof(*context) < *context_size_out ? sizeof(*context) : *context_size_out);
    *context_size_out = sizeof(*context);
    ebpf_free(context);
}

static const ebpf_helper_function_t helper_functions[] = {helper_push_event};
static const ebpf_helper_function_addresses_t helper_addresses = {
    EBPF_EXTENSION_HEADER(EBPF_HELPER_FUNCTION_ADDRESSES_VERSION, ebpf_helper_function_addresses_t),
    1, helper_functions};

const ebpf_program_data_t netevent_program_data = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_DATA_VERSION, ebpf_program_data_t),
    .program_info = &netevent_program_info,
    .program_type_specific_helper_function_addresses = &helper_addresses,
    .context_create = context_create,
    .context_destroy = context_destroy,
};
