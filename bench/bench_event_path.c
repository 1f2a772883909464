/* Event path scenarios: events pushed through neteventebpfext into netevent_monitor (native)
 * and its ring buffer, drained in another thread or in the same one; fan-out over several
 * programs; attach and detach while events flow. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "ebpf_api.h"
#include "ebpf_map.h"
#include "ebpf_platform.h"
#include "netevent_types.h"

#define MONITOR_RING_SIZE (512 * 1024)
/* Bytes one event takes in the ring: 8-byte record header, payload rounded up to 8. */
#define RING_RECORD_BYTES(size) (8 + (((size) + 7) & ~(size_t)7))

/* netevent_monitor and the reader of its ring. */
typedef struct monitor {
    bench_program_t program;
    struct ring_buffer *ring;
    ebpf_ring_buffer_t *ring_map; /* for the drop count */
    ebpf_map_t *map;
    /* Written only by the thread that drains the ring; others read it. */
    _Atomic uint64_t consumed;
} monitor_t;

static int count_record(void *context, void *data, size_t size)
{
    monitor_t *monitor = context;
    atomic_store_explicit(&monitor->consumed,
                          atomic_load_explicit(&monitor->consumed, memory_order_relaxed) + 1,
                          memory_order_release);
    return 0;
}

static void monitor_close(monitor_t *monitor)
{
    ring_buffer__free(monitor->ring);
    if (monitor->map != NULL)
        ebpf_map_release(monitor->map);
    bench_program_close(&monitor->program);
    memset(monitor, 0, sizeof(*monitor));
}

static int monitor_open(monitor_t *monitor, const char *object)
{
    int rc;

    memset(monitor, 0, sizeof(*monitor));
    rc = bench_program_load(&monitor->program, bench_object_path(object), "NetEventMonitor");
    if (rc != 0)
        return rc;
    int map_fd = bpf_object__find_map_fd_by_name(monitor->program.object, "netevent_events_map");
    rc = map_fd < 0 ? map_fd : ebpf_map_from_fd(map_fd, &monitor->map);
    if (rc == 0) {
        monitor->ring_map = ebpf_map_get_ring_buffer(monitor->map);
        monitor->ring = ring_buffer__new(map_fd, count_record, monitor, NULL);
        if (monitor->ring == NULL)
            rc = ebpf_error_prefix(-ENOMEM, "ring_buffer__new: ");
    }
    if (rc == 0)
        rc = bench_program_attach(&monitor->program);
    if (rc != 0)
        monitor_close(monitor);
    return rc;
}

static uint64_t monitor_dropped(const monitor_t *monitor)
{
    return ebpf_ring_buffer_dropped(monitor->ring_map);
}

/* Times producers woke the sleeping consumer (eventfd writes). */
static uint64_t monitor_wakeups(const monitor_t *monitor)
{
    return ebpf_ring_buffer_wakeups(monitor->ring_map);
}

/* ---- the consumer thread ---- */

typedef struct consumer {
    monitor_t *monitor;
    pthread_t thread;
    atomic_bool stop;    /* set once by the main thread; the consumer exits at its next wake-up */
    atomic_bool running; /* set once by the consumer when it starts polling */
} consumer_t;

static void *consume_events(void *context)
{
    consumer_t *consumer = context;
    atomic_store(&consumer->running, true);
    while (!atomic_load(&consumer->stop)) {
        /* Sleeps only when the ring stayed empty for the adaptive spin: the producer wakes it
         * with one eventfd write. */
        ring_buffer__poll(consumer->monitor->ring, 20);
    }
    return NULL;
}

static int consumer_start(consumer_t *consumer, monitor_t *monitor)
{
    consumer->monitor = monitor;
    atomic_store(&consumer->stop, false);
    atomic_store(&consumer->running, false);
    int rc = pthread_create(&consumer->thread, NULL, consume_events, consumer);
    if (rc != 0)
        return ebpf_error(-rc, "cannot start the consumer thread");
    /* The measurement starts with the consumer polling, not while its thread is created. */
    while (!atomic_load(&consumer->running))
        sched_yield();
    return 0;
}

static void consumer_stop(consumer_t *consumer)
{
    atomic_store(&consumer->stop, true);
    pthread_join(consumer->thread, NULL);
}

/* Waits (bounded: 5 s) until the consumer has read expected records. */
static bool wait_consumed(monitor_t *monitor, uint64_t expected)
{
    uint64_t deadline = bench_now_ns() + 5000000000ull;
    while (atomic_load_explicit(&monitor->consumed, memory_order_acquire) < expected) {
        if (bench_now_ns() > deadline)
            return false;
        sched_yield();
    }
    return true;
}

/* ---- one run of each event path variant ---- */

typedef struct path_run {
    double events_per_second; /* delivered to the reader */
    double drops;
    double push_ns; /* producer's time per push */
    double wakeups_per_burst;
} path_run_t;

static int run_cross_thread(monitor_t *monitor, const uint8_t *event, size_t size, uint64_t count,
                            path_run_t *run)
{
    consumer_t consumer;
    uint64_t consumed = atomic_load(&monitor->consumed), dropped = monitor_dropped(monitor);
    int rc = consumer_start(&consumer, monitor);
    if (rc != 0)
        return rc;
    uint64_t start = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        bench_push(event, size);
    uint64_t pushed = bench_now_ns();
    uint64_t drops = monitor_dropped(monitor) - dropped;
    bool complete = wait_consumed(monitor, consumed + count - drops);
    uint64_t end = bench_now_ns();
    consumer_stop(&consumer);
    if (!complete)
        return ebpf_error(-ETIMEDOUT, "the consumer did not read every event");
    run->events_per_second = (double)(count - drops) * 1e9 / (double)(end - start);
    run->drops = (double)drops;
    run->push_ns = (double)(pushed - start) / (double)count;
    return 0;
}

/* per_call 1: one push_event per event; more: push_events of per_call events (the netevent
 * NPI's batch entry), at most PUSH_BATCH_MAX. */
#define PUSH_BATCH_MAX 256

static int run_same_thread(monitor_t *monitor, const uint8_t *event, size_t size, uint64_t count,
                           uint32_t per_call, path_run_t *run)
{
    netevent_event_info_t infos[PUSH_BATCH_MAX];
    if (per_call < 1 || per_call > PUSH_BATCH_MAX)
        return ebpf_error(-EINVAL, "same thread: %u events per call", per_call);
    for (uint32_t i = 0; i < per_call; i++)
        infos[i] = (netevent_event_info_t){event, event + size};
    /* A batch fills at most half the ring, so nothing is dropped. */
    uint64_t batch = MONITOR_RING_SIZE / 2 / RING_RECORD_BYTES(size);
    uint64_t consumed = atomic_load(&monitor->consumed), dropped = monitor_dropped(monitor);
    if (batch > 4096)
        batch = 4096;
    uint64_t start = bench_now_ns(), push_time = 0;
    for (uint64_t done = 0; done < count; done += batch) {
        uint64_t n = count - done < batch ? count - done : batch;
        uint64_t batch_start = bench_now_ns();
        if (per_call == 1) {
            for (uint64_t i = 0; i < n; i++)
                bench_push(event, size);
        } else {
            for (uint64_t i = 0; i < n; i += per_call)
                bench_push_events(infos, (uint32_t)(n - i < per_call ? n - i : per_call));
        }
        push_time += bench_now_ns() - batch_start;
        ring_buffer__consume(monitor->ring);
    }
    uint64_t end = bench_now_ns();
    uint64_t delivered = atomic_load(&monitor->consumed) - consumed;
    run->events_per_second = (double)delivered * 1e9 / (double)(end - start);
    run->drops = (double)(monitor_dropped(monitor) - dropped);
    run->push_ns = (double)push_time / (double)count;
    if (delivered + (uint64_t)run->drops != count)
        return ebpf_error(-EIO, "same thread: %llu pushed, %llu read, %llu dropped",
                          (unsigned long long)count, (unsigned long long)delivered,
                          (unsigned long long)run->drops);
    return 0;
}

/* Waits (bounded: 5 s) until the consumer has announced that it sleeps. */
static bool wait_asleep(monitor_t *monitor)
{
    uint64_t deadline = bench_now_ns() + 5000000000ull;
    while (!ebpf_ring_buffer_consumer_waiting(monitor->ring_map)) {
        if (bench_now_ns() > deadline)
            return false;
        sched_yield();
    }
    return true;
}

/* Bursts of single pushes; between bursts the producer waits until the consumer has read
 * everything and has gone to sleep in ring_buffer__poll (after its spin), so every burst
 * starts with a sleeping consumer. The waits are not counted in the rate. */
static int run_bursts(monitor_t *monitor, const uint8_t *event, size_t size, uint64_t count,
                      uint64_t burst, path_run_t *run)
{
    consumer_t consumer;
    uint64_t consumed = atomic_load(&monitor->consumed), dropped = monitor_dropped(monitor);
    uint64_t wakeups = monitor_wakeups(monitor), waited = 0;
    int rc = consumer_start(&consumer, monitor);
    if (rc != 0)
        return rc;
    uint64_t bursts = (count + burst - 1) / burst;
    uint64_t start = bench_now_ns();
    bool complete = true;
    for (uint64_t b = 0; b < bursts && complete; b++) {
        uint64_t asleep = bench_now_ns();
        complete = wait_asleep(monitor);
        waited += bench_now_ns() - asleep;
        for (uint64_t i = 0; i < burst; i++)
            bench_push(event, size);
        complete = complete && wait_consumed(monitor, consumed + (b + 1) * burst -
                                                          (monitor_dropped(monitor) - dropped));
    }
    uint64_t end = bench_now_ns() - waited;
    consumer_stop(&consumer);
    if (!complete)
        return ebpf_error(-ETIMEDOUT, "bursts: the consumer did not read every event");
    uint64_t delivered = atomic_load(&monitor->consumed) - consumed;
    run->events_per_second = (double)delivered * 1e9 / (double)(end - start);
    run->drops = (double)(monitor_dropped(monitor) - dropped);
    run->wakeups_per_burst = (double)(monitor_wakeups(monitor) - wakeups) / (double)bursts;
    return 0;
}

/* ---- scenarios ---- */

static const size_t event_sizes[] = {64, 256, 1500};

static void report_path(const char *variant, size_t size, const path_run_t *runs, unsigned count,
                        bool with_drops, bool with_wakeups)
{
    double rate[BENCH_RUNS_MAX], drops[BENCH_RUNS_MAX], ns[BENCH_RUNS_MAX], wakeups[BENCH_RUNS_MAX];
    char name[96];
    for (unsigned i = 0; i < count; i++) {
        rate[i] = runs[i].events_per_second;
        drops[i] = runs[i].drops;
        ns[i] = runs[i].push_ns;
        wakeups[i] = runs[i].wakeups_per_burst;
    }
    snprintf(name, sizeof(name), "event_path.%s.%zuB", variant, size);
    bench_report(name, "events/s", rate, count);
    if (with_drops) {
        snprintf(name, sizeof(name), "event_path.%s.%zuB.drops", variant, size);
        bench_report(name, "count", drops, count);
    }
    if (with_wakeups) {
        snprintf(name, sizeof(name), "event_path.%s.%zuB.wakeups_per_burst", variant, size);
        bench_report(name, "count", wakeups, count);
    } else {
        snprintf(name, sizeof(name), "event_path.%s.%zuB.push_ns", variant, size);
        bench_report(name, "ns/event", ns, count);
    }
}

int bench_event_path(void)
{
    monitor_t monitor;
    path_run_t runs[BENCH_RUNS_MAX];
    uint8_t *event = ebpf_allocate(NETEVENT_EVENT_MAX_SIZE);
    unsigned n = bench_options.runs;
    int rc;

    if (event == NULL)
        return bench_fail(-ENOMEM, "event path");
    rc = bench_netevent_start();
    if (rc != 0) {
        ebpf_free(event);
        return bench_fail(rc, "event path: starting the extension");
    }
    rc = monitor_open(&monitor, "netevent_monitor.so");
    if (rc == 0 && !bench_provider_bound())
        rc = ebpf_error(-ENOLINK, "the extension did not bind to the benchmark's provider");
    if (rc != 0) {
        bench_fail(rc, "event path: netevent_monitor.so");
        goto out;
    }
    for (size_t s = 0; s < EBPF_ARRAY_SIZE(event_sizes) && rc == 0; s++) {
        size_t size = event_sizes[s];
        bench_build_event(event, size, 1);
        /* Warm-up: per-thread buffers, page faults in the ring. */
        rc = run_same_thread(&monitor, event, size, bench_scaled(20000, 200), 1, &runs[0]);
        for (unsigned i = 0; i < n && rc == 0; i++)
            rc = run_cross_thread(&monitor, event, size,
                                  bench_scaled(size < 1000 ? 1000000 : 300000, 2000), &runs[i]);
        if (rc == 0)
            report_path("cross_thread", size, runs, n, true, false);
        for (unsigned i = 0; i < n && rc == 0; i++)
            rc = run_same_thread(&monitor, event, size,
                                 bench_scaled(size < 1000 ? 2000000 : 500000, 2000), 1, &runs[i]);
        if (rc == 0)
            report_path("same_thread", size, runs, n, false, false);
    }
    /* The same with the provider handing events over 64 at a time (push_events). */
    bench_build_event(event, 64, 1);
    for (unsigned i = 0; i < n && rc == 0; i++)
        rc = run_same_thread(&monitor, event, 64, bench_scaled(2000000, 2000), 64, &runs[i]);
    if (rc == 0)
        report_path("same_thread_batch64", 64, runs, n, false, false);
    bench_build_event(event, 64, 1);
    for (unsigned i = 0; i < n && rc == 0; i++)
        rc = run_bursts(&monitor, event, 64, bench_scaled(500000, 2560), 256, &runs[i]);
    if (rc == 0)
        report_path("burst256_sleeping_consumer", 64, runs, n, true, true);
    for (unsigned i = 0; i < n && rc == 0; i++)
        rc = run_bursts(&monitor, event, 64, bench_scaled(5000, 50), 1, &runs[i]);
    if (rc == 0)
        report_path("burst1_sleeping_consumer", 64, runs, n, true, true);
    if (rc != 0)
        bench_fail(rc, "event path");
    monitor_close(&monitor);
out:
    bench_netevent_stop();
    ebpf_free(event);
    return rc;
}

/* Least-squares slope of y over x. */
static double slope(const double *x, const double *y, unsigned count)
{
    double mean_x = 0, mean_y = 0, covariance = 0, variance = 0;
    for (unsigned i = 0; i < count; i++) {
        mean_x += x[i] / count;
        mean_y += y[i] / count;
    }
    for (unsigned i = 0; i < count; i++) {
        covariance += (x[i] - mean_x) * (y[i] - mean_y);
        variance += (x[i] - mean_x) * (x[i] - mean_x);
    }
    return covariance / variance;
}

#define FANOUT_MAX 8

/* ns per event with programs[0..count) attached, pushed from this thread (no ring to drain). */
static double time_pushes(const uint8_t *event, size_t size, uint64_t events)
{
    uint64_t start = bench_now_ns();
    for (uint64_t i = 0; i < events; i++)
        bench_push(event, size);
    return (double)(bench_now_ns() - start) / (double)events;
}

int bench_fanout(void)
{
    static const unsigned counts[] = {1, 2, 4, 8};
    bench_program_t programs[FANOUT_MAX];
    double per_count[EBPF_ARRAY_SIZE(counts)][BENCH_RUNS_MAX], slopes[BENCH_RUNS_MAX];
    uint8_t event[64];
    unsigned n = bench_options.runs, loaded = 0;
    uint64_t events = bench_scaled(1000000, 1000);
    int rc = bench_netevent_start();

    if (rc != 0)
        return bench_fail(rc, "fanout: starting the extension");
    bench_build_event(event, sizeof(event), 1);
    for (; loaded < FANOUT_MAX && rc == 0; loaded++)
        rc = bench_program_load(&programs[loaded], bench_object_path("bench_count.so"),
                                "BenchCount");
    if (rc != 0) {
        loaded--;
        bench_fail(rc, "fanout: bench_count.so");
        goto out;
    }
    /* Runs alternate over the counts so drift on a shared machine spreads over all of them. */
    for (unsigned run = 0; run < n && rc == 0; run++) {
        double x[EBPF_ARRAY_SIZE(counts)], y[EBPF_ARRAY_SIZE(counts)];
        unsigned attached = 0;
        for (size_t c = 0; c < EBPF_ARRAY_SIZE(counts) && rc == 0; c++) {
            while (attached < counts[c] && rc == 0)
                rc = bench_program_attach(&programs[attached++]);
            if (rc != 0)
                break;
            time_pushes(event, sizeof(event), events / 10 + 1); /* warm-up */
            x[c] = counts[c];
            y[c] = per_count[c][run] = time_pushes(event, sizeof(event), events);
        }
        for (unsigned i = 0; i < attached; i++)
            bench_program_detach(&programs[i]);
        if (rc == 0)
            slopes[run] = slope(x, y, EBPF_ARRAY_SIZE(counts));
    }
    if (rc != 0) {
        bench_fail(rc, "fanout");
        goto out;
    }
    for (size_t c = 0; c < EBPF_ARRAY_SIZE(counts); c++) {
        char name[64];
        snprintf(name, sizeof(name), "fanout.programs_%u.64B", counts[c]);
        bench_report(name, "ns/event", per_count[c], n);
    }
    bench_report("fanout.extra_program", "ns/event", slopes, n);
out:
    for (unsigned i = 0; i < loaded; i++)
        bench_program_close(&programs[i]);
    bench_netevent_stop();
    return rc;
}

/* ---- registrar: attach and detach while events flow ---- */

typedef struct producer {
    pthread_t thread;
    const uint8_t *event;
    size_t size;
    atomic_bool stop;          /* set once by the main thread */
    _Atomic uint64_t pushed;   /* written by the producer only */
    _Atomic uint64_t failures; /* pushes that returned an error; written by the producer only */
} producer_t;

static void *produce_events(void *context)
{
    producer_t *producer = context;
    uint64_t pushed = 0, failures = 0;
    while (!atomic_load_explicit(&producer->stop, memory_order_relaxed)) {
        for (int i = 0; i < 64; i++) {
            if (bench_push(producer->event, producer->size) != 0)
                failures++;
        }
        pushed += 64;
        atomic_store_explicit(&producer->pushed, pushed, memory_order_release);
        atomic_store_explicit(&producer->failures, failures, memory_order_relaxed);
    }
    return NULL;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int bench_registrar(void)
{
    enum { CYCLES = 50 };
    monitor_t monitor;
    bench_program_t extra;
    consumer_t consumer;
    producer_t producer;
    uint8_t event[64];
    double attach_us[BENCH_RUNS_MAX], detach_us[BENCH_RUNS_MAX], lost[BENCH_RUNS_MAX],
        rate[BENCH_RUNS_MAX], worst_us[BENCH_RUNS_MAX], failed[BENCH_RUNS_MAX];
    uint64_t attach_ns[CYCLES], detach_ns[CYCLES];
    unsigned n = bench_options.runs;
    unsigned cycles = (unsigned)bench_scaled(CYCLES, 3);
    int rc = bench_netevent_start();

    if (cycles > CYCLES)
        cycles = CYCLES;
    if (rc != 0)
        return bench_fail(rc, "registrar: starting the extension");
    bench_build_event(event, sizeof(event), 1);
    rc = monitor_open(&monitor, "netevent_monitor.so");
    if (rc != 0) {
        bench_fail(rc, "registrar: netevent_monitor.so");
        goto out;
    }
    rc = bench_program_load(&extra, bench_object_path("bench_count.so"), "BenchCount");
    if (rc != 0) {
        bench_fail(rc, "registrar: bench_count.so");
        monitor_close(&monitor);
        goto out;
    }
    for (unsigned run = 0; run < n && rc == 0; run++) {
        uint64_t consumed = atomic_load(&monitor.consumed), dropped = monitor_dropped(&monitor);
        memset(&producer, 0, sizeof(producer));
        producer.event = event;
        producer.size = sizeof(event);
        rc = consumer_start(&consumer, &monitor);
        if (rc != 0)
            break;
        int created = pthread_create(&producer.thread, NULL, produce_events, &producer);
        if (created != 0) {
            consumer_stop(&consumer);
            rc = ebpf_error(-created, "cannot start the producer thread");
            break;
        }
        uint64_t start = bench_now_ns(), worst = 0;
        for (unsigned i = 0; i < cycles && rc == 0; i++) {
            uint64_t t0 = bench_now_ns();
            rc = bench_program_attach(&extra);
            uint64_t t1 = bench_now_ns();
            bench_program_detach(&extra);
            uint64_t t2 = bench_now_ns();
            attach_ns[i] = t1 - t0;
            detach_ns[i] = t2 - t1;
            worst = attach_ns[i] > worst ? attach_ns[i] : worst;
            worst = detach_ns[i] > worst ? detach_ns[i] : worst;
        }
        atomic_store(&producer.stop, true);
        pthread_join(producer.thread, NULL);
        uint64_t end = bench_now_ns();
        uint64_t pushed = atomic_load(&producer.pushed);
        uint64_t drops = monitor_dropped(&monitor) - dropped;
        wait_consumed(&monitor, consumed + pushed - drops);
        consumer_stop(&consumer);
        if (rc != 0)
            break;
        uint64_t delivered = atomic_load(&monitor.consumed) - consumed;
        qsort(attach_ns, cycles, sizeof(uint64_t), compare_u64);
        qsort(detach_ns, cycles, sizeof(uint64_t), compare_u64);
        attach_us[run] = (double)attach_ns[cycles / 2] / 1000.0;
        detach_us[run] = (double)detach_ns[cycles / 2] / 1000.0;
        worst_us[run] = (double)worst / 1000.0;
        /* Every push either reached the reader or was counted as a ring drop (the base program
         * stays attached throughout). */
        lost[run] = (double)pushed - (double)delivered - (double)drops;
        failed[run] = (double)atomic_load(&producer.failures);
        rate[run] = (double)delivered * 1e9 / (double)(end - start);
    }
    if (rc != 0) {
        bench_fail(rc, "registrar");
    } else {
        bench_report("registrar.attach_latency", "us", attach_us, n);
        bench_report("registrar.detach_latency", "us", detach_us, n);
        bench_report("registrar.worst_latency", "us", worst_us, n);
        bench_report("registrar.events_during_churn", "events/s", rate, n);
        bench_report("registrar.events_lost", "count", lost, n);
        bench_report("registrar.push_failures", "count", failed, n);
    }
    bench_program_close(&extra);
    monitor_close(&monitor);
out:
    bench_netevent_stop();
    return rc;
}

/* ---- execution on the event path: the same program interpreted and native ---- */

int bench_exec_event_path(void)
{
    static const char *const objects[2] = {"netevent_monitor.o", "netevent_monitor.so"};
    double ns[2][BENCH_RUNS_MAX], ratio[BENCH_RUNS_MAX];
    uint8_t event[64];
    unsigned n = bench_options.runs;
    uint64_t count = bench_scaled(500000, 1000);
    int rc = bench_netevent_start();

    if (rc != 0)
        return bench_fail(rc, "exec: starting the extension");
    bench_build_event(event, sizeof(event), 1);
    for (unsigned run = 0; run < n && rc == 0; run++) {
        for (int kind = 0; kind < 2 && rc == 0; kind++) {
            monitor_t monitor;
            path_run_t result;
            rc = monitor_open(&monitor, objects[kind]);
            if (rc != 0)
                break;
            rc = run_same_thread(&monitor, event, sizeof(event), count / 10 + 1, 1, &result);
            if (rc == 0)
                rc = run_same_thread(&monitor, event, sizeof(event), count, 1, &result);
            ns[kind][run] = 1e9 / result.events_per_second;
            monitor_close(&monitor);
        }
        ratio[run] = ns[0][run] / ns[1][run];
    }
    if (rc != 0) {
        bench_fail(rc, "exec: event path");
    } else {
        bench_report("exec.event_path.interpreter.64B", "ns/event", ns[0], n);
        bench_report("exec.event_path.native.64B", "ns/event", ns[1], n);
        bench_report("exec.event_path.native_over_interpreter", "ratio", ratio, n);
    }
    bench_netevent_stop();
    return rc;
}
