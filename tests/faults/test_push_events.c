/* push_events, the netevent NPI's batch entry: every event of a batch reaches the program as
 * push_event would deliver it, malformed ones are counted and skipped, bad batches are refused
 * whole, and a client without the entry gets the same result one push at a time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf/bpf.h"
#include "bpf/libbpf.h"
#include "ebpf_api.h"
#include "ebpf_platform.h"
#include "netevent_test_host.h"
#include "netevent_types.h"
#include "neteventebpfext.h"

#define BATCH      100
#define EVENT_SIZE 64

typedef struct fixture {
    ebpf_driver_t *extension;
    netevent_test_provider_t provider;
    struct bpf_object *object;
    struct bpf_link *link;
    struct ring_buffer *ring;
    int statistics_fd;
    uint32_t sequences[BATCH + 8]; /* of the records read, in order */
    uint32_t records;
    uint8_t events[BATCH][EVENT_SIZE];
    netevent_event_info_t batch[BATCH];
} fixture_t;

static int read_record(void *context, void *data, size_t size)
{
    fixture_t *f = context;
    netevent_event_header_t header;
    if (size < sizeof(header) || f->records == BATCH + 8)
        return -EIO;
    memcpy(&header, data, sizeof(header));
    f->sequences[f->records++] = header.sequence;
    return 0;
}

static int setup(void **state)
{
    static fixture_t f;

    memset(&f, 0, sizeof(f));
    if (netevent_test_host_prepare() != 0 ||
        ebpf_driver_load("neteventebpfext", NULL, &f.extension) != 0 ||
        netevent_test_provider_register(&f.provider, 7) != 0) {
        fprintf(stderr, "setup: %s\n", ebpf_last_error());
        return -1;
    }
    f.object = bpf_object__open(netevent_test_object_path("netevent_monitor.o"));
    if (f.object == NULL || bpf_object__load(f.object) != 0) {
        fprintf(stderr, "setup: loading netevent_monitor: %s\n", ebpf_last_error());
        return -1;
    }
    f.ring = ring_buffer__new(bpf_object__find_map_fd_by_name(f.object, "netevent_events_map"),
                              read_record, &f, NULL);
    f.statistics_fd = bpf_obj_get(NETEVENT_STATISTICS_PIN_NAME);
    if (f.ring == NULL || f.statistics_fd < 0)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    bpf_link__destroy(f->link);
    ring_buffer__free(f->ring);
    bpf_object__close(f->object);
    ebpf_close_fd(f->statistics_fd);
    netevent_test_provider_deregister(&f->provider);
    ebpf_driver_unload(f->extension);
    return 0;
}

static netevent_ext_statistics_t statistics(const fixture_t *f)
{
    netevent_ext_statistics_t total;
    assert_int_equal(netevent_test_read_statistics(f->statistics_fd, &total), 0);
    return total;
}

/* Events 0..BATCH-1 with sequence i; the ones in malformed are cut to 8 bytes. */
static void build_batch(fixture_t *f, const uint32_t *malformed, size_t malformed_count)
{
    for (uint32_t i = 0; i < BATCH; i++) {
        size_t size = netevent_test_build_event(
            f->events[i], EVENT_SIZE, i % 2 ? NETEVENT_EVENT_TYPE_FLOW : NETEVENT_EVENT_TYPE_DROP,
            i, EVENT_SIZE - sizeof(netevent_event_header_t));
        assert_int_equal(size, EVENT_SIZE);
        for (size_t m = 0; m < malformed_count; m++)
            if (malformed[m] == i)
                size = 8;
        f->batch[i] = (netevent_event_info_t){f->events[i], f->events[i] + size};
    }
}

static void test_batches(void **state)
{
    fixture_t *f = *state;
    static const uint32_t malformed[] = {10, 50, 99};

    build_batch(f, malformed, 3);
    /* No program attached: the extension is not bound to providers, nothing is taken. */
    assert_int_equal(netevent_test_provider_push_events(&f->provider, f->batch, BATCH), -ENOLINK);

    assert_int_equal(
        ebpf_program_attach(bpf_object__find_program_by_name(f->object, "NetEventMonitor"), NULL,
                            NULL, 0, &f->link),
        0);
    /* The extension binds to providers when its first link attaches (bounded wait). */
    for (int i = 0; i < 5000 && !netevent_test_provider_bound(&f->provider); i++)
        usleep(1000);
    assert_true(netevent_test_provider_bound(&f->provider));
    netevent_ext_statistics_t before = statistics(f);

    /* Every well-formed event, in order; the malformed ones counted and skipped. */
    assert_int_equal(netevent_test_provider_push_events(&f->provider, f->batch, BATCH), BATCH - 3);
    assert_int_equal(ring_buffer__consume(f->ring), BATCH - 3);
    for (uint32_t i = 0, expected = 0; i < f->records; i++, expected++) {
        while (expected == 10 || expected == 50 || expected == 99)
            expected++;
        assert_int_equal(f->sequences[i], expected);
    }
    netevent_ext_statistics_t after = statistics(f);
    assert_int_equal(after.received - before.received, BATCH);
    assert_int_equal(after.malformed - before.malformed, 3);
    assert_int_equal(after.delivered - before.delivered, BATCH - 3);

    /* Refused whole: too many, or no events; an empty batch takes nothing. */
    assert_int_equal(
        netevent_test_provider_push_events(&f->provider, f->batch, NETEVENT_PUSH_EVENTS_MAX + 1),
        -E2BIG);
    assert_int_equal(netevent_test_provider_push_events(&f->provider, NULL, 1), -EINVAL);
    assert_int_equal(netevent_test_provider_push_events(&f->provider, f->batch, 0), 0);
    netevent_ext_statistics_t unchanged = statistics(f);
    assert_int_equal(unchanged.received, after.received);
    assert_int_equal(ring_buffer__consume(f->ring), 0);
}

/* A client whose table has no entry 1: netevent_push_events pushes one event at a time. */
static uint32_t single_pushes;

static int single_push(const netevent_event_info_t *event)
{
    single_pushes++;
    return event->event_data_end - event->event_data_start < 32 ? -EINVAL : 0;
}

static void test_client_without_the_batch_entry(void **state)
{
    fixture_t *f = *state;
    static const uint32_t malformed[] = {3};
    const netevent_client_dispatch_t old_client = {
        EBPF_EXTENSION_HEADER(NETEVENT_CLIENT_DISPATCH_VERSION, netevent_client_dispatch_t),
        1,
        {(const void *)single_push, NULL},
    };

    build_batch(f, malformed, 1);
    single_pushes = 0;
    assert_int_equal(netevent_push_events(&old_client, f->batch, 8), 7);
    assert_int_equal(single_pushes, 8);
    assert_int_equal(netevent_push_events(&old_client, f->batch, NETEVENT_PUSH_EVENTS_MAX + 1),
                     -E2BIG);
    assert_int_equal(netevent_push_events(&old_client, NULL, 2), -EINVAL);
    assert_int_equal(single_pushes, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_client_without_the_batch_entry),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
