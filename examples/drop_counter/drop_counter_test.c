/* Runs the drop_counter example next to netevent_monitor and checks that its per-reason counts
 * add up to the drop events netevent_monitor saw. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebpf_api.h"
#include "ebpf_platform.h"
#include "ebpf_store.h"
#include "netevent_ext_program_info.h"
#include "netevent_types.h"

typedef struct drops_seen {
    _Atomic uint64_t events;
    _Atomic uint64_t drops;
    _Atomic uint64_t by_reason[NETEVENT_DROP_REASON_MAX + 1];
} drops_seen_t;

static int count_event(void *context, void *data, size_t size)
{
    drops_seen_t *seen = context;
    netevent_event_header_t header;
    if (size < sizeof(header))
        return 0;
    memcpy(&header, data, sizeof(header));
    atomic_fetch_add(&seen->events, 1);
    if (header.type == NETEVENT_EVENT_TYPE_DROP) {
        atomic_fetch_add(&seen->drops, 1);
        if (header.drop_reason <= NETEVENT_DROP_REASON_MAX)
            atomic_fetch_add(&seen->by_reason[header.drop_reason], 1);
    }
    return 0;
}

static void test_drop_counts_match_the_events(void **state)
{
    ebpf_store_t *store;
    ebpf_driver_t *extension, *simulator;
    drops_seen_t seen = {0};

    assert_int_equal(ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store), 0);
    assert_int_equal(ebpf_store_update_program_info(store, &netevent_program_info), 0);
    assert_int_equal(
        ebpf_store_update_section_info(store, netevent_section_info, netevent_section_info_count),
        0);
    ebpf_store_close(store);
    assert_int_equal(ebpf_driver_load("neteventebpfext", NULL, &extension), 0);

    struct bpf_object *counter = bpf_object__open(DROP_COUNTER_OBJECT);
    struct bpf_object *monitor = bpf_object__open(NETEVENT_MONITOR_OBJECT);
    assert_non_null(counter);
    assert_non_null(monitor);
    assert_int_equal(bpf_object__load(counter), 0);
    assert_int_equal(bpf_object__load(monitor), 0);
    struct bpf_link *counter_link =
        bpf_program__attach(bpf_object__find_program_by_name(counter, "CountDrops"));
    struct bpf_link *monitor_link =
        bpf_program__attach(bpf_object__find_program_by_name(monitor, "NetEventMonitor"));
    assert_non_null(counter_link);
    assert_non_null(monitor_link);
    struct ring_buffer *ring = ring_buffer__new(
        bpf_object__find_map_fd_by_name(monitor, "netevent_events_map"), count_event, &seen, NULL);
    assert_non_null(ring);

    assert_int_equal(
        ebpf_driver_load("netevent_sim", "NetEventInterval=1000;NetEventBurst=5", &simulator), 0);
    while (atomic_load(&seen.drops) < 500)
        assert_true(ring_buffer__poll(ring, 1000) >= 0);
    /* Stop the provider while both are attached, so they saw exactly the same events. */
    assert_int_equal(ebpf_driver_unload(simulator), 0);
    assert_int_equal(bpf_link__destroy(counter_link), 0);
    assert_int_equal(bpf_link__destroy(monitor_link), 0);
    while (ring_buffer__consume(ring) > 0)
        ;

    int counts_fd = bpf_object__find_map_fd_by_name(counter, "drops_by_reason");
    uint32_t key, *previous = NULL;
    uint64_t total = 0;
    while (bpf_map_get_next_key(counts_fd, previous, &key) == 0) {
        uint64_t count;
        assert_int_equal(bpf_map_lookup_elem(counts_fd, &key, &count), 0);
        assert_true(key <= NETEVENT_DROP_REASON_MAX);
        assert_int_equal(count, atomic_load(&seen.by_reason[key]));
        total += count;
        previous = &key;
    }
    assert_int_equal(total, atomic_load(&seen.drops));
    print_message("drop_counter: %llu drops over %llu events\n", (unsigned long long)total,
                  (unsigned long long)atomic_load(&seen.events));

    ring_buffer__free(ring);
    bpf_object__close(counter);
    bpf_object__close(monitor);
    assert_int_equal(ebpf_driver_unload(extension), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_counts_match_the_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
