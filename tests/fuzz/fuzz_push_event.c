/* libFuzzer target: random event bytes pushed through a loaded neteventebpfext into an attached
 * netevent_monitor program. A malformed event is refused with -EINVAL and counted; a well-formed
 * one reaches the program's ring byte for byte; nothing crashes, leaks or allocates per event.
 *
 * Input: one mode byte, then the event. Mode bit 0 repairs the header (version, lengths) so most
 * inputs get past validation into the program; bit 1 pushes a NULL event; bit 2 an inverted
 * range. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf_api.h"
#include "ebpf_platform.h"
#include "netevent_test_host.h"
#include "netevent_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MODE_REPAIR_HEADER 1
#define MODE_NULL_EVENT    2
#define MODE_INVERTED      4

static struct {
    bool ready;
    netevent_test_provider_t provider;
    ebpf_driver_t *extension;
    struct bpf_object *object;
    struct bpf_link *link;
    struct ring_buffer *ring;
    int statistics_fd;
    /* What the ring callback compares records against. */
    const uint8_t *expected;
    size_t expected_size;
    size_t records, mismatches;
} fuzz;

#define fuzz_check(condition, ...)                                                                 \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "fuzz_push_event: %s failed: ", #condition);                           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, " (%s)\n", ebpf_last_error());                                         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int check_record(void *context, void *record, size_t size)
{
    fuzz.records++;
    if (size != fuzz.expected_size || memcmp(record, fuzz.expected, size) != 0)
        fuzz.mismatches++;
    return 0;
}

static void teardown(void)
{
    if (!fuzz.ready)
        return;
    bpf_link__destroy(fuzz.link);
    ring_buffer__free(fuzz.ring);
    bpf_object__close(fuzz.object);
    netevent_test_provider_deregister(&fuzz.provider);
    ebpf_close_fd(fuzz.statistics_fd);
    ebpf_driver_unload(fuzz.extension);
    ebpf_epoch_drain();
    fuzz.ready = false;
}

static void setup_once(void)
{
    uint8_t event[NETEVENT_EVENT_MAX_SIZE];

    fuzz_check(netevent_test_host_prepare() == 0, "preparing the store");
    fuzz_check(ebpf_driver_load("neteventebpfext", NULL, &fuzz.extension) == 0,
               "loading the extension");
    fuzz_check(netevent_test_provider_register(&fuzz.provider, 1) == 0, "registering");
    fuzz.object = bpf_object__open(netevent_test_object_path("netevent_monitor.o"));
    fuzz_check(fuzz.object != NULL, "opening netevent_monitor.o");
    fuzz_check(bpf_object__load(fuzz.object) == 0, "loading netevent_monitor");
    fuzz.link =
        bpf_program__attach(bpf_object__find_program_by_name(fuzz.object, "NetEventMonitor"));
    fuzz_check(fuzz.link != NULL, "attaching");
    fuzz_check(netevent_test_provider_bound(&fuzz.provider), "binding");
    fuzz.ring =
        ring_buffer__new(bpf_object__find_map_fd_by_name(fuzz.object, "netevent_events_map"),
                         check_record, NULL, NULL);
    fuzz_check(fuzz.ring != NULL, "ring_buffer__new");
    fuzz.statistics_fd = bpf_obj_get(NETEVENT_STATISTICS_PIN_NAME);
    fuzz_check(fuzz.statistics_fd >= 0, "bpf_obj_get statistics");
    /* The largest event once, so the extension's per-thread copy has its final size and every
     * later push must allocate nothing. */
    size_t size =
        netevent_test_build_event(event, sizeof(event), NETEVENT_EVENT_TYPE_FLOW, 0,
                                  NETEVENT_EVENT_MAX_SIZE - sizeof(netevent_event_header_t));
    fuzz.expected = event;
    fuzz.expected_size = size;
    fuzz_check(netevent_test_provider_push(&fuzz.provider, event, size) == 0, "largest event");
    fuzz_check(ring_buffer__consume(fuzz.ring) == 1 && fuzz.mismatches == 0, "largest event");
    fuzz.records = 0;
    fuzz.ready = true;
    atexit(teardown);
}

/* The documented contract of a well-formed event (netevent_types.h, netevent_npi.h). */
static bool well_formed(const uint8_t *event, size_t size)
{
    netevent_event_header_t header;
    if (size < sizeof(header) || size > NETEVENT_EVENT_MAX_SIZE)
        return false;
    memcpy(&header, event, sizeof(header));
    return header.version >= NETEVENT_EVENT_HEADER_VERSION &&
           header.header_length >= sizeof(header) && header.header_length <= size &&
           header.captured_length <= size - header.header_length;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    netevent_ext_statistics_t before, after;

    if (!fuzz.ready)
        setup_once();
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    size_t event_size = size - 1;
    /* A heap copy of exactly the event's size: a read past its end shows under ASan. */
    uint8_t *event = malloc(event_size ? event_size : 1);
    fuzz_check(event != NULL, "malloc");
    memcpy(event, data + 1, event_size);
    if ((mode & MODE_REPAIR_HEADER) && event_size >= sizeof(netevent_event_header_t)) {
        netevent_event_header_t header;
        memcpy(&header, event, sizeof(header));
        header.version = NETEVENT_EVENT_HEADER_VERSION;
        if (header.header_length < sizeof(header) || header.header_length > event_size)
            header.header_length = sizeof(header);
        header.captured_length = (uint32_t)(event_size - header.header_length);
        memcpy(event, &header, sizeof(header));
    }

    fuzz_check(netevent_test_read_statistics(fuzz.statistics_fd, &before) == 0, "statistics");
    int64_t outstanding = ebpf_allocation_outstanding();
    int rc;
    bool expect_accepted = false;
    if (mode & MODE_NULL_EVENT) {
        const netevent_client_dispatch_t *dispatch = atomic_load(&fuzz.provider.dispatch);
        rc = netevent_push_event(dispatch, NULL);
    } else if ((mode & MODE_INVERTED) && event_size != 0) {
        netevent_event_info_t inverted = {event + event_size, event};
        const netevent_client_dispatch_t *dispatch = atomic_load(&fuzz.provider.dispatch);
        rc = netevent_push_event(dispatch, &inverted);
    } else {
        expect_accepted = well_formed(event, event_size);
        rc = netevent_test_provider_push(&fuzz.provider, event, event_size);
    }
    fuzz_check(ebpf_allocation_outstanding() == outstanding, "the event path allocated");
    fuzz_check(rc == 0 || rc == -EINVAL, "push_event returned %d", rc);
    fuzz_check((rc == 0) == expect_accepted, "well-formed %d but push_event returned %d",
               expect_accepted, rc);

    fuzz_check(netevent_test_read_statistics(fuzz.statistics_fd, &after) == 0, "statistics");
    fuzz_check(after.received == before.received + 1, "received not counted");
    fuzz_check(after.malformed == before.malformed + (rc == -EINVAL), "malformed miscounted");
    fuzz_check(after.delivered == before.delivered + (rc == 0), "delivered miscounted");
    fuzz_check(after.program_errors == before.program_errors, "program error");

    /* The program copied a delivered event into its ring, byte for byte. */
    fuzz.expected = event;
    fuzz.expected_size = event_size;
    fuzz.records = 0;
    fuzz_check(ring_buffer__consume(fuzz.ring) >= 0, "ring_buffer__consume");
    fuzz_check(fuzz.records == (rc == 0 ? 1u : 0u), "%zu records for rc %d", fuzz.records, rc);
    fuzz_check(fuzz.mismatches == 0, "the record differs from the event");
    free(event);
    return 0;
}
