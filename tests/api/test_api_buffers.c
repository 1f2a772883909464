/* Tests of the ring and perf buffer consumers, fed by programs run through test-run: poll,
 * consume, the epoll fd, and buffers that call back by themselves. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include <cmocka.h>

#include "api_test_support.h"
#include "bpf/libbpf.h"
#include "ebpf_api.h"
#include "ebpf_map.h"
#include "ebpf_platform.h"

static struct bpf_object *object;

static int quiet(enum libbpf_print_level level, const char *format, va_list args)
{
    return 0;
}

static int group_setup(void **state)
{
    libbpf_set_print(quiet);
    api_test_store_export();
    api_test_program_info_register();
    object = bpf_object__open(api_test_object("api_programs"));
    if (object == NULL || bpf_object__load(object) != 0) {
        fprintf(stderr, "setup: %s\n", ebpf_last_error());
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    bpf_object__close(object);
    ebpf_unpin("/sys/fs/bpf/shared");
    api_test_program_info_unregister();
    ebpf_epoch_drain();
    return 0;
}

static int program_fd(const char *name)
{
    return bpf_program__fd(bpf_object__find_program_by_name(object, name));
}

static int map_fd(const char *name)
{
    return bpf_object__find_map_fd_by_name(object, name);
}

/* Runs a program repeat times on an 8-byte packet starting with tag, with the context value
 * given; returns the last run's result. */
static int run(const char *name, uint8_t tag, uint64_t value, int repeat)
{
    uint8_t packet[8] = {tag, 1, 2, 3, 4, 5, 6, 7};
    api_test_context_t context = {.value = value};
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = packet, .data_size_in = sizeof(packet),
                .ctx_in = &context, .ctx_size_in = sizeof(context), .repeat = repeat);
    if (bpf_prog_test_run_opts(program_fd(name), &options) != 0)
        fail_msg("run %s: %s", name, ebpf_last_error());
    return (int)options.retval;
}

/* Waits (bounded) until *counter reaches target; the sleep is only to yield, never asserted. */
static bool wait_for(_Atomic int *counter, int target)
{
    for (int i = 0; i < 20000; i++) {
        if (atomic_load(counter) >= target)
            return true;
        struct timespec pause = {0, 500000};
        nanosleep(&pause, NULL);
    }
    return atomic_load(counter) >= target;
}

/* ---- ring buffer ---- */

typedef struct records {
    _Atomic int count;
    uint8_t tags[64];
    int stop_after; /* return -1 from the callback after this many; 0: never */
} records_t;

static int collect(void *context, void *data, size_t size)
{
    records_t *records = context;
    int index = atomic_load(&records->count);
    if (size != 8)
        return -EIO;
    if (index < (int)sizeof(records->tags))
        records->tags[index] = *(uint8_t *)data;
    atomic_fetch_add(&records->count, 1);
    if (records->stop_after != 0 && index + 1 >= records->stop_after)
        return -1;
    return 0;
}

static void test_ring_buffer_poll_and_consume(void **state)
{
    records_t records = {0};
    struct ring_buffer *rb = ring_buffer__new(map_fd("events"), collect, &records, NULL);
    assert_non_null(rb);

    /* Nothing there: consume finds nothing, poll times out with 0. */
    assert_int_equal(ring_buffer__consume(rb), 0);
    assert_int_equal(ring_buffer__poll(rb, 10), 0);

    assert_int_equal(run("ring_writer", 1, 0, 1), 0);
    assert_int_equal(run("ring_writer", 2, 0, 1), 0);
    assert_int_equal(run("ring_writer", 3, 0, 1), 0);
    assert_int_equal(ring_buffer__consume(rb), 3);
    assert_int_equal(records.count, 3);
    assert_memory_equal(records.tags, ((uint8_t[]){1, 2, 3}), 3);

    run("ring_writer", 4, 0, 1);
    assert_int_equal(ring_buffer__poll(rb, 5000), 1);
    assert_int_equal(records.tags[3], 4);

    /* A callback's error stops the consumption and comes back. */
    records.stop_after = 5;
    run("ring_writer", 5, 0, 1);
    run("ring_writer", 6, 0, 1);
    assert_int_equal(ring_buffer__consume(rb), -1);
    assert_int_equal(records.count, 5);
    records.stop_after = 0;
    assert_int_equal(ring_buffer__consume(rb), 1);
    assert_int_equal(records.tags[5], 6);
    ring_buffer__free(rb);
    ring_buffer__free(NULL);
}

static void *produce_later(void *argument)
{
    struct timespec pause = {0, 20 * 1000000};
    nanosleep(&pause, NULL);
    *(int *)argument = run("ring_writer", 9, 0, 1);
    return NULL;
}

static void test_ring_buffer_poll_wakes_on_a_record(void **state)
{
    records_t records = {0};
    struct ring_buffer *rb = ring_buffer__new(map_fd("events"), collect, &records, NULL);
    pthread_t producer;
    int produced = -1;

    assert_non_null(rb);
    assert_int_equal(pthread_create(&producer, NULL, produce_later, &produced), 0);
    /* Sleeps until the producer's record wakes it (or gives up after a minute). */
    int consumed = 0;
    for (int i = 0; i < 60 && consumed == 0; i++)
        consumed = ring_buffer__poll(rb, 1000);
    pthread_join(producer, NULL);
    assert_int_equal(produced, 0);
    assert_int_equal(consumed, 1);
    assert_int_equal(records.tags[0], 9);
    ring_buffer__free(rb);
}

static void test_ring_buffer_epoll_fd_and_two_rings(void **state)
{
    records_t records = {0}, more = {0};
    struct ring_buffer *rb = ring_buffer__new(map_fd("events"), collect, &records, NULL);
    struct epoll_event event;

    assert_non_null(rb);
    assert_int_equal(ring_buffer__add(rb, map_fd("more_events"), collect, &more), 0);
    int epoll_fd = ring_buffer__epoll_fd(rb);
    assert_true(epoll_fd >= 0);
    assert_int_equal(epoll_wait(epoll_fd, &event, 1, 0), 0);

    /* A record makes the epoll fd readable, for the application's own loop. */
    run("ring_writer", 7, 1 /* more_events */, 1);
    assert_int_equal(epoll_wait(epoll_fd, &event, 1, 5000), 1);
    assert_int_equal(ring_buffer__consume(rb), 1);
    assert_int_equal(more.count, 1);
    assert_int_equal(more.tags[0], 7);
    assert_int_equal(records.count, 0);
    assert_int_equal(epoll_wait(epoll_fd, &event, 1, 0), 0);

    /* Both rings in one poll. */
    run("ring_writer", 8, 0, 1);
    run("ring_writer", 9, 1, 1);
    int consumed = ring_buffer__poll(rb, 5000);
    if (consumed == 1)
        consumed += ring_buffer__poll(rb, 5000);
    assert_int_equal(consumed, 2);
    assert_int_equal(records.tags[0], 8);
    assert_int_equal(more.tags[1], 9);

    /* Records that arrived while nobody consumed keep the epoll fd readable. */
    run("ring_writer", 10, 0, 1);
    assert_int_equal(epoll_wait(epoll_fd, &event, 1, 5000), 1);
    assert_int_equal(epoll_wait(epoll_fd, &event, 1, 0), 1);
    assert_int_equal(ring_buffer__consume(rb), 1);
    ring_buffer__free(rb);
}

/* An application that polls first and only then asks for the epoll fd finds it readable once a
 * record arrives: asking arms the rings (polls alone leave them unarmed between calls). */
static void test_ring_buffer_epoll_fd_after_polls(void **state)
{
    records_t records = {0};
    struct ring_buffer *rb = ring_buffer__new(map_fd("events"), collect, &records, NULL);
    struct epoll_event event;

    assert_non_null(rb);
    run("ring_writer", 1, 0, 1);
    assert_int_equal(ring_buffer__poll(rb, 5000), 1);
    assert_int_equal(ring_buffer__poll(rb, 0), 0);
    run("ring_writer", 2, 0, 1);
    int epoll_fd = ring_buffer__epoll_fd(rb);
    assert_int_equal(epoll_wait(epoll_fd, &event, 1, 5000), 1);
    assert_int_equal(ring_buffer__consume(rb), 1);
    /* Armed from now on: the next record wakes the fd too. */
    assert_int_equal(epoll_wait(epoll_fd, &event, 1, 0), 0);
    run("ring_writer", 3, 0, 1);
    assert_int_equal(epoll_wait(epoll_fd, &event, 1, 5000), 1);
    assert_int_equal(ring_buffer__poll(rb, 0), 1);
    assert_int_equal(records.count, 3);
    assert_int_equal(records.tags[2], 3);
    ring_buffer__free(rb);
}

/* Polls that do not sleep leave the rings unarmed, so producers pay no wake-up for them. */
static void test_ring_buffer_poll_without_sleep_does_not_arm(void **state)
{
    records_t records = {0};
    struct ring_buffer *rb = ring_buffer__new(map_fd("events"), collect, &records, NULL);
    ebpf_map_t *map;

    assert_non_null(rb);
    assert_int_equal(ebpf_map_from_fd(map_fd("events"), &map), 0);
    ebpf_ring_buffer_t *ring = ebpf_map_get_ring_buffer(map);
    uint64_t wakeups = ebpf_ring_buffer_wakeups(ring);
    assert_false(ebpf_ring_buffer_consumer_waiting(ring));
    assert_int_equal(ring_buffer__poll(rb, 0), 0);
    assert_int_equal(ring_buffer__consume(rb), 0);
    assert_false(ebpf_ring_buffer_consumer_waiting(ring));
    run("ring_writer", 4, 0, 1);
    assert_int_equal(ring_buffer__poll(rb, 0), 1);
    assert_int_equal(ebpf_ring_buffer_wakeups(ring), wakeups);
    /* A poll that slept (and timed out) leaves nothing armed behind either. */
    assert_int_equal(ring_buffer__poll(rb, 1), 0);
    assert_false(ebpf_ring_buffer_consumer_waiting(ring));
    ebpf_map_release(map);
    ring_buffer__free(rb);
}

typedef struct poller {
    struct ring_buffer *rb;
    atomic_bool stop;
} poller_t;

static void *poll_until_stopped(void *argument)
{
    poller_t *poller = argument;
    while (!atomic_load(&poller->stop))
        ring_buffer__poll(poller->rb, 20);
    return NULL;
}

#define BURSTS        20
#define BURST_RECORDS 100

/* Bursts of records, each starting while the consumer sleeps: the first record of a burst
 * wakes it (and its spin before sleeping again catches most of the rest). How many wake-ups a
 * burst costs depends on timing, so it is measured by the benchmark
 * (event_path.burst256_sleeping_consumer), not asserted here. */
static void run_bursts(uint64_t flags, uint64_t *wakeups_out)
{
    records_t records = {0};
    struct ebpf_ring_buffer_opts options = {.sz = sizeof(options), .flags = flags};
    poller_t poller = {.rb = ebpf_ring_buffer__new(map_fd("events"), collect, &records, &options)};
    ebpf_map_t *map;
    pthread_t thread;

    assert_non_null(poller.rb);
    assert_int_equal(ebpf_map_from_fd(map_fd("events"), &map), 0);
    ebpf_ring_buffer_t *ring = ebpf_map_get_ring_buffer(map);
    uint64_t wakeups = ebpf_ring_buffer_wakeups(ring);
    atomic_init(&poller.stop, false);
    assert_int_equal(pthread_create(&thread, NULL, poll_until_stopped, &poller), 0);
    for (int burst = 0; burst < BURSTS; burst++) {
        for (int i = 0; i < 100000 && !ebpf_ring_buffer_consumer_waiting(ring); i++)
            sched_yield();
        assert_true(ebpf_ring_buffer_consumer_waiting(ring));
        /* One test-run of BURST_RECORDS runs: records as fast as the program makes them. */
        assert_int_equal(run("ring_writer", (uint8_t)burst, 0, BURST_RECORDS), 0);
        assert_true(wait_for(&records.count, (burst + 1) * BURST_RECORDS));
    }
    atomic_store(&poller.stop, true);
    pthread_join(thread, NULL);
    *wakeups_out = ebpf_ring_buffer_wakeups(ring) - wakeups;
    assert_int_equal(records.count, BURSTS * BURST_RECORDS);
    ebpf_map_release(map);
    ring_buffer__free(poller.rb);
}

static void test_ring_buffer_bursts_cost_few_wakeups(void **state)
{
    uint64_t spinning, sleeping;

    run_bursts(0, &spinning);
    run_bursts(EBPF_RINGBUF_FLAG_NO_SPIN, &sleeping);
    print_message("%llu wake-ups for %d bursts of %d records; %llu without the spin\n",
                  (unsigned long long)spinning, BURSTS, BURST_RECORDS,
                  (unsigned long long)sleeping);
    /* Every burst found the consumer asleep: at least one wake-up each, either way, and every
     * record arrived (run_bursts checks). */
    assert_true(spinning >= BURSTS);
    assert_true(sleeping >= BURSTS);

    struct ebpf_ring_buffer_opts bad = {.sz = sizeof(bad), .flags = 4};
    records_t unused = {0};
    assert_null(ebpf_ring_buffer__new(map_fd("events"), collect, &unused, &bad));
    assert_int_equal(errno, EINVAL);
}

static void test_ring_buffer_errors(void **state)
{
    records_t records = {0};
    assert_null(ring_buffer__new(map_fd("table"), collect, &records, NULL));
    assert_int_equal(errno, EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "not a ring buffer"));
    assert_null(ring_buffer__new(EBPF_FD_BASE + 60000, collect, &records, NULL));
    assert_int_equal(errno, EBADF);
    assert_null(ring_buffer__new(map_fd("events"), NULL, NULL, NULL));
    assert_int_equal(errno, EINVAL);
    LIBBPF_OPTS(ring_buffer_opts, options);
    struct ring_buffer *rb = ring_buffer__new(map_fd("events"), collect, &records, &options);
    assert_non_null(rb);
    assert_int_equal(ring_buffer__add(rb, map_fd("perf"), collect, &records), -EINVAL);
    ring_buffer__free(rb);
    struct ebpf_ring_buffer_opts unknown = {.sz = sizeof(unknown), .flags = 0x80};
    assert_null(ebpf_ring_buffer__new(map_fd("events"), collect, &records, &unknown));
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ring_buffer__poll(NULL, 0), -EINVAL);
    assert_int_equal(ring_buffer__consume(NULL), -EINVAL);
}

static void test_ring_buffer_calls_back_by_itself(void **state)
{
    records_t records = {0};
    struct ebpf_ring_buffer_opts options = {.sz = sizeof(options),
                                            .flags = EBPF_RINGBUF_FLAG_AUTO_CALLBACK};
    struct ring_buffer *rb = ebpf_ring_buffer__new(map_fd("events"), collect, &records, &options);
    assert_non_null(rb);
    /* Polling an automatic buffer is a mistake. */
    assert_int_equal(ring_buffer__poll(rb, 0), -EINVAL);
    assert_int_equal(ring_buffer__consume(rb), -EINVAL);

    for (int i = 0; i < 20; i++)
        assert_int_equal(run("ring_writer", (uint8_t)(30 + i), 0, 1), 0);
    assert_true(wait_for(&records.count, 20));
    for (int i = 0; i < 20; i++)
        assert_int_equal(records.tags[i], 30 + i);
    /* Several times what the ring holds at once (4096 records), in rounds it has room for. */
    for (int round = 1; round <= 5; round++) {
        assert_int_equal(run("ring_writer", 1, 0, 1000), 0);
        assert_true(wait_for(&records.count, 20 + 1000 * round));
    }
    assert_int_equal(atomic_load(&records.count), 20 + 5000);
    ring_buffer__free(rb);
    /* After free no callback runs: nothing counts the record. */
    int seen = atomic_load(&records.count);
    run("ring_writer", 2, 0, 1);
    assert_int_equal(atomic_load(&records.count), seen);
    /* Drain it for the next test. */
    rb = ring_buffer__new(map_fd("events"), collect, &records, NULL);
    assert_int_equal(ring_buffer__consume(rb), 1);
    ring_buffer__free(rb);
}

/* ---- perf buffer ---- */

typedef struct samples {
    _Atomic int count;
    _Atomic uint64_t lost;
    uint64_t values[64];
    int cpus[64];
} samples_t;

static void on_sample(void *context, int cpu, void *data, __u32 size)
{
    samples_t *samples = context;
    int index = atomic_load(&samples->count);
    if (index < 64 && size >= sizeof(uint64_t)) {
        memcpy(&samples->values[index], data, sizeof(uint64_t));
        samples->cpus[index] = cpu;
    }
    atomic_fetch_add(&samples->count, 1);
}

static void on_lost(void *context, int cpu, __u64 count)
{
    samples_t *samples = context;
    atomic_fetch_add(&samples->lost, count);
}

static void test_perf_buffer_poll_consume_and_lost(void **state)
{
    samples_t samples = {0};
    struct perf_buffer *pb =
        perf_buffer__new(map_fd("perf"), 1, on_sample, on_lost, &samples, NULL);
    struct epoll_event event;

    assert_non_null(pb);
    assert_int_equal(perf_buffer__buffer_cnt(pb), ebpf_cpu_count());
    assert_int_equal(perf_buffer__poll(pb, 10), 0);
    run("perf_writer", 0, 1234, 1);
    assert_int_equal(perf_buffer__poll(pb, 5000), 1);
    assert_int_equal(samples.count, 1);
    assert_int_equal(samples.values[0], 1234);
    assert_true(samples.cpus[0] >= 0 && samples.cpus[0] < (int)ebpf_cpu_count());

    /* The epoll fd, then consume, then one CPU's buffer. */
    run("perf_writer", 0, 99, 1);
    assert_int_equal(epoll_wait(perf_buffer__epoll_fd(pb), &event, 1, 5000), 1);
    assert_int_equal(perf_buffer__consume(pb), 1);
    assert_int_equal(samples.values[1], 99);
    for (size_t cpu = 0; cpu < perf_buffer__buffer_cnt(pb); cpu++)
        assert_int_equal(perf_buffer__consume_buffer(pb, cpu), 0);
    assert_int_equal(perf_buffer__consume_buffer(pb, ebpf_cpu_count()), -EINVAL);

    /* More samples than one page holds: the overflow is reported as lost, on the CPU that lost
     * it, before its next sample. Runs continue until every loss was reported (bounded). */
    assert_int_not_equal(run("perf_writer", 0, 5, 1000), 0);
    assert_true(perf_buffer__consume(pb) > 0);
    int extra = 0;
    while (extra < 200 && (uint64_t)atomic_load(&samples.count) + atomic_load(&samples.lost) !=
                              (uint64_t)(2 + 1000 + extra)) {
        assert_int_equal(run("perf_writer", 0, 6, 1), 0);
        extra++;
        assert_true(perf_buffer__consume(pb) > 0);
    }
    assert_true(atomic_load(&samples.lost) > 0);
    assert_int_equal((uint64_t)atomic_load(&samples.count) + atomic_load(&samples.lost),
                     2 + 1000 + extra);
    perf_buffer__free(pb);
    perf_buffer__free(NULL);
}

static void test_perf_buffer_errors(void **state)
{
    samples_t samples = {0};
    assert_null(perf_buffer__new(map_fd("perf"), 3, on_sample, NULL, &samples, NULL));
    assert_int_equal(errno, EINVAL);
    assert_null(perf_buffer__new(map_fd("events"), 1, on_sample, NULL, &samples, NULL));
    assert_int_equal(errno, EINVAL);
    assert_null(perf_buffer__new(map_fd("perf"), 1, NULL, NULL, &samples, NULL));
    assert_int_equal(errno, EINVAL);
    assert_int_equal(perf_buffer__poll(NULL, 0), -EINVAL);
}

static void test_perf_buffer_calls_back_by_itself(void **state)
{
    samples_t samples = {0};
    struct ebpf_perf_buffer_opts options = {.sz = sizeof(options),
                                            .flags = EBPF_PERFBUF_FLAG_AUTO_CALLBACK};
    struct perf_buffer *pb =
        ebpf_perf_buffer__new(map_fd("perf"), 4, on_sample, on_lost, &samples, &options);
    assert_non_null(pb);
    assert_int_equal(perf_buffer__poll(pb, 0), -EINVAL);
    uint64_t sum = 0;
    for (int i = 0; i < 10; i++)
        assert_int_equal(run("perf_writer", 0, (uint64_t)(100 + i), 1), 0);
    assert_true(wait_for(&samples.count, 10));
    /* CPUs are consumed one after the other: every value, in any order. */
    for (int i = 0; i < 10; i++)
        sum += samples.values[i];
    assert_int_equal(sum, 100 * 10 + 45);
    perf_buffer__free(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_buffer_poll_and_consume),
        cmocka_unit_test(test_ring_buffer_poll_wakes_on_a_record),
        cmocka_unit_test(test_ring_buffer_epoll_fd_and_two_rings),
        cmocka_unit_test(test_ring_buffer_epoll_fd_after_polls),
        cmocka_unit_test(test_ring_buffer_bursts_cost_few_wakeups),
        cmocka_unit_test(test_ring_buffer_poll_without_sleep_does_not_arm),
        cmocka_unit_test(test_ring_buffer_errors),
        cmocka_unit_test(test_ring_buffer_calls_back_by_itself),
        cmocka_unit_test(test_perf_buffer_poll_consume_and_lost),
        cmocka_unit_test(test_perf_buffer_errors),
        cmocka_unit_test(test_perf_buffer_calls_back_by_itself),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
