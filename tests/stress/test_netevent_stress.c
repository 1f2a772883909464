/* Stress of the event path under reloads: producers push through two providers while the
 * providers and the extension are unloaded and reloaded and programs attach and detach; at the
 * end every event is accounted for (delivered or counted), no callback ran after its unload,
 * and memory is back to its starting level. EBPF_STRESS_SECONDS sets the length (default 2). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebpf_api.h"
#include "ebpf_map.h"
#include "ebpf_netevent_hooks.h"
#include "ebpf_platform.h"
#include "netevent_test_host.h"
#include "netevent_types.h"
#include "ring_buffer.h"

#define PROVIDERS       2
#define PRODUCERS       3
#define PROGRAMS        3 /* program 0 stays attached; the others attach and detach */
#define MALFORMED_EVERY 97
#define PRODUCER_BURST  32

/* cmocka's asserts belong to the test's thread: the other threads record what went wrong and
 * the test thread fails on it at the end. */
static _Atomic uint64_t thread_failures;
static _Atomic bool thread_failure_recorded;
static char thread_failure[256]; /* written once, by whoever set thread_failure_recorded */

#define thread_check(condition)                                                                    \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            atomic_fetch_add(&thread_failures, 1);                                                 \
            if (!atomic_exchange(&thread_failure_recorded, true))                                  \
                snprintf(thread_failure, sizeof(thread_failure), "%s:%d: %s", __FILE__, __LINE__,  \
                         #condition);                                                              \
        }                                                                                          \
    } while (0)

/* ---- what each program saw ---- */

typedef struct program_under_test {
    struct bpf_object *object;
    struct bpf_program *program;
    struct ring_buffer *ring;
    int invocations_fd;
    /* Records its ring reader got; written by the reader thread, read at the end. */
    _Atomic uint64_t records;
    /* Reader callbacks after ring_buffer__free returned (must stay 0). */
    _Atomic bool ring_freed;
    _Atomic uint64_t records_after_free;
} program_under_test_t;

static int count_record(void *context, void *data, size_t size)
{
    program_under_test_t *program = context;
    if (atomic_load(&program->ring_freed))
        atomic_fetch_add(&program->records_after_free, 1);
    thread_check(size == sizeof(netevent_event_header_t));
    atomic_fetch_add(&program->records, 1);
    return 0;
}

static uint64_t program_invocations(program_under_test_t *program, uint32_t index)
{
    uint64_t value = 0;
    int rc = bpf_map_lookup_elem(program->invocations_fd, &index, &value);
    thread_check(rc == 0);
    return value;
}

static uint64_t program_ring_drops(program_under_test_t *program)
{
    ebpf_map_t *map;
    int fd = bpf_object__find_map_fd_by_name(program->object, "headers");
    assert_int_equal(ebpf_map_from_fd(fd, &map), 0);
    uint64_t drops = ebpf_ring_buffer_dropped(ebpf_map_get_ring_buffer(map));
    ebpf_map_release(map);
    return drops;
}

/* ---- shared state of one run ---- */

typedef struct stress_run {
    netevent_test_provider_t providers[PROVIDERS];
    program_under_test_t programs[PROGRAMS];
    struct bpf_link *permanent_link;
    _Atomic bool stop;
    /* Statistics of every extension life, read through an fd kept across its unload. Only the
     * control thread touches them. */
    ebpf_driver_t *extension;
    int statistics_fd;
    netevent_ext_statistics_t totals;
    uint64_t extension_reloads, provider_reloads;
    /* The churn thread's counts. */
    _Atomic uint64_t attaches, attach_failures, detaches;
    /* A program with no link ran: after bpf_link__destroy, or after an attach that failed. */
    _Atomic uint64_t invocations_after_detach, invocations_after_failed_attach;
} stress_run_t;

static stress_run_t run;

static void extension_load(void)
{
    int rc = ebpf_driver_load("neteventebpfext", NULL, &run.extension);
    if (rc != 0)
        fail_msg("loading neteventebpfext: %d %s", rc, ebpf_last_error());
    run.statistics_fd = bpf_obj_get(NETEVENT_STATISTICS_PIN_NAME);
    assert_true(run.statistics_fd >= 0);
}

static void extension_unload(void)
{
    netevent_ext_statistics_t life;
    assert_int_equal(ebpf_driver_unload(run.extension), 0);
    run.extension = NULL;
    /* Unloaded: no provider may still hold the extension's push_event. */
    for (int i = 0; i < PROVIDERS; i++)
        assert_false(netevent_test_provider_bound(&run.providers[i]));
    /* The map outlived the module through our fd; nothing writes it any more. */
    assert_int_equal(netevent_test_read_statistics(run.statistics_fd, &life), 0);
    netevent_test_add_statistics(&run.totals, &life);
    assert_int_equal(ebpf_close_fd(run.statistics_fd), 0);
    run.statistics_fd = -1;
}

/* ---- threads ---- */

typedef struct producer {
    pthread_t thread;
    netevent_test_provider_t *provider;
    uint32_t number;
} producer_t;

static void *produce(void *context)
{
    producer_t *producer = context;
    uint8_t event[256];
    uint32_t sequence = 0;

    while (!atomic_load(&run.stop)) {
        for (int i = 0; i < PRODUCER_BURST; i++, sequence++) {
            uint8_t type = sequence % 3 ? NETEVENT_EVENT_TYPE_FLOW : NETEVENT_EVENT_TYPE_DROP;
            size_t size =
                netevent_test_build_event(event, sizeof(event), type,
                                          producer->number << 24 | sequence, (sequence * 7) % 200);
            if (sequence % MALFORMED_EVERY == 0)
                size = 8; /* shorter than a header: must come back -EINVAL and be counted */
            int rc = netevent_test_provider_push(producer->provider, event, size);
            thread_check(rc == 0 || rc == -EINVAL || rc == -ENOLINK);
            if (size == 8)
                thread_check(rc == -EINVAL || rc == -ENOLINK);
        }
        usleep(50);
    }
    return NULL;
}

/* Attaches and detaches programs 1.. with varying capture types; checks a detached program
 * never runs until attached again. */
static void *churn(void *context)
{
    static const netevent_capture_type_t captures[] = {NeteventCapture_All, NeteventCapture_Flow,
                                                       NeteventCapture_Drop};
    struct bpf_link *links[PROGRAMS] = {0};
    uint64_t invocations_at_detach[PROGRAMS] = {0};
    bool attach_failed[PROGRAMS] = {0};
    uint32_t round = 0;

    while (!atomic_load(&run.stop)) {
        uint32_t index = 1 + round % (PROGRAMS - 1);
        program_under_test_t *program = &run.programs[index];
        if (links[index] == NULL) {
            if (program_invocations(program, 0) != invocations_at_detach[index])
                atomic_fetch_add(attach_failed[index] ? &run.invocations_after_failed_attach
                                                      : &run.invocations_after_detach,
                                 1);
            netevent_attach_opts_t options = {captures[round % EBPF_ARRAY_SIZE(captures)]};
            int rc = ebpf_program_attach(program->program, NULL, &options, sizeof(options),
                                         &links[index]);
            /* -ENOENT: the extension is being reloaded, no hook at this moment. */
            attach_failed[index] = rc != 0;
            if (rc == 0) {
                atomic_fetch_add(&run.attaches, 1);
            } else {
                atomic_fetch_add(&run.attach_failures, 1);
                links[index] = NULL;
                invocations_at_detach[index] = program_invocations(program, 0);
            }
        } else {
            thread_check(bpf_link__destroy(links[index]) == 0);
            links[index] = NULL;
            invocations_at_detach[index] = program_invocations(program, 0);
            atomic_fetch_add(&run.detaches, 1);
        }
        round++;
        usleep(2000);
    }
    for (int i = 0; i < PROGRAMS; i++)
        if (links[i] != NULL)
            thread_check(bpf_link__destroy(links[i]) == 0);
    return NULL;
}

/* ---- the test ---- */

static void load_program(program_under_test_t *program)
{
    memset(program, 0, sizeof(*program));
    program->object = bpf_object__open(netevent_test_object_path("stress_counter.o"));
    assert_non_null(program->object);
    if (bpf_object__load(program->object) != 0)
        fail_msg("loading stress_counter: %s", ebpf_last_error());
    program->program = bpf_object__find_program_by_name(program->object, "count_event");
    assert_non_null(program->program);
    program->invocations_fd = bpf_object__find_map_fd_by_name(program->object, "invocations");
    assert_true(program->invocations_fd >= 0);
    struct ebpf_ring_buffer_opts options = {sizeof(options), EBPF_RINGBUF_FLAG_AUTO_CALLBACK};
    program->ring =
        ebpf_ring_buffer__new(bpf_object__find_map_fd_by_name(program->object, "headers"),
                              count_record, program, &options);
    assert_non_null(program->ring);
}

/* One short cycle of everything, so state created once per process (fd table, per-thread
 * records, the core's general helpers) exists before the starting level is taken. */
static void warm_up(void)
{
    netevent_test_provider_t provider = {0};
    program_under_test_t program;
    uint8_t event[64];

    extension_load();
    assert_int_equal(netevent_test_provider_register(&provider, 9), 0);
    load_program(&program);
    struct bpf_link *link = bpf_program__attach(program.program);
    assert_non_null(link);
    size_t size = netevent_test_build_event(event, sizeof(event), NETEVENT_EVENT_TYPE_FLOW, 1, 8);
    assert_int_equal(netevent_test_provider_push(&provider, event, size), 0);
    assert_int_equal(bpf_link__destroy(link), 0);
    ring_buffer__free(program.ring);
    bpf_object__close(program.object);
    netevent_test_provider_deregister(&provider);
    netevent_ext_statistics_t ignored = run.totals;
    extension_unload();
    run.totals = ignored;
    ebpf_epoch_drain();
}

static void test_reloads_under_load(void **state)
{
    const char *seconds_text = getenv("EBPF_STRESS_SECONDS");
    unsigned seconds = seconds_text != NULL ? (unsigned)atoi(seconds_text) : 2;
    producer_t producers[PRODUCERS];
    pthread_t churn_thread;

    if (seconds == 0)
        seconds = 2;
    memset(&run, 0, sizeof(run));
    warm_up();
    int64_t outstanding_before = ebpf_allocation_outstanding();

    extension_load();
    for (int i = 0; i < PROVIDERS; i++)
        assert_int_equal(netevent_test_provider_register(&run.providers[i], (uint32_t)i), 0);
    for (int i = 0; i < PROGRAMS; i++)
        load_program(&run.programs[i]);
    run.permanent_link = bpf_program__attach(run.programs[0].program);
    assert_non_null(run.permanent_link);
    for (int i = 0; i < PRODUCERS; i++) {
        producers[i] = (producer_t){0, &run.providers[i % PROVIDERS], (uint32_t)i};
        assert_int_equal(pthread_create(&producers[i].thread, NULL, produce, &producers[i]), 0);
    }
    assert_int_equal(pthread_create(&churn_thread, NULL, churn, NULL), 0);

    /* The control thread: reload the extension or a provider, in turn, until the time is up. */
    uint64_t deadline = ebpf_clock_monotonic_ns() + (uint64_t)seconds * 1000000000ull;
    for (uint32_t step = 0; ebpf_clock_monotonic_ns() < deadline; step++) {
        usleep(20000);
        if (step % 3 == 0) {
            extension_unload();
            usleep(2000); /* producers meet no extension for a while */
            extension_load();
            run.extension_reloads++;
        } else {
            netevent_test_provider_t *provider = &run.providers[step % PROVIDERS];
            netevent_test_provider_deregister(provider);
            assert_false(netevent_test_provider_bound(provider));
            assert_int_equal(atomic_load(&provider->callbacks_after_deregister), 0);
            assert_int_equal(netevent_test_provider_register(provider, step % PROVIDERS), 0);
            run.provider_reloads++;
        }
    }

    atomic_store(&run.stop, true);
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal(pthread_join(producers[i].thread, NULL), 0);
    assert_int_equal(pthread_join(churn_thread, NULL), 0);
    if (atomic_load(&thread_failures) != 0)
        fail_msg("%llu checks failed on other threads, the first: %s",
                 (unsigned long long)atomic_load(&thread_failures), thread_failure);
    assert_int_equal(bpf_link__destroy(run.permanent_link), 0);
    uint64_t permanent_invocations = program_invocations(&run.programs[0], 0);
    /* No link left: the extension left the providers, so no push reaches a program. */
    for (int i = 0; i < PROVIDERS; i++)
        assert_false(netevent_test_provider_bound(&run.providers[i]));
    for (int i = 0; i < PROVIDERS; i++)
        netevent_test_provider_deregister(&run.providers[i]);
    extension_unload();
    assert_int_equal(program_invocations(&run.programs[0], 0), permanent_invocations);

    /* ---- accounting ---- */
    uint64_t accepted = 0, malformed = 0, produced = 0, unbound = 0;
    for (int i = 0; i < PROVIDERS; i++) {
        netevent_test_provider_t *provider = &run.providers[i];
        assert_int_equal(atomic_load(&provider->failed), 0);
        assert_int_equal(atomic_load(&provider->produced), atomic_load(&provider->accepted) +
                                                               atomic_load(&provider->malformed) +
                                                               atomic_load(&provider->unbound));
        assert_int_equal(atomic_load(&provider->attaches), atomic_load(&provider->detaches));
        assert_int_equal(atomic_load(&provider->attaches), atomic_load(&provider->cleanups));
        assert_int_equal(atomic_load(&provider->callbacks_after_deregister), 0);
        produced += atomic_load(&provider->produced);
        accepted += atomic_load(&provider->accepted);
        malformed += atomic_load(&provider->malformed);
        unbound += atomic_load(&provider->unbound);
    }
    /* Every push that reached the extension was received; the malformed ones were counted. */
    assert_int_equal(run.totals.received, accepted + malformed);
    assert_int_equal(run.totals.malformed, malformed);
    assert_int_equal(run.totals.program_errors, 0);
    /* Every delivery ran a program, and every run of a program was a delivery. */
    uint64_t invocations = 0;
    for (int i = 0; i < PROGRAMS; i++) {
        program_under_test_t *program = &run.programs[i];
        uint64_t runs = program_invocations(program, 0);
        assert_int_equal(program_invocations(program, 1), 0);
        invocations += runs;
        /* Each run is in the program's ring, or the ring counted it dropped. */
        uint64_t drops = program_ring_drops(program);
        for (int wait = 0; wait < 5000 && atomic_load(&program->records) + drops < runs; wait++)
            usleep(1000);
        assert_int_equal(atomic_load(&program->records) + drops, runs);
        ring_buffer__free(program->ring);
        atomic_store(&program->ring_freed, true);
        print_message("program %d: %llu runs, %llu records read, %llu dropped by its ring\n", i,
                      (unsigned long long)runs, (unsigned long long)atomic_load(&program->records),
                      (unsigned long long)drops);
    }
    assert_int_equal(invocations, run.totals.delivered);
    /* Accepted events each met the links attached at that moment, or none (counted). */
    assert_true(run.totals.delivered + run.totals.unattached >= 1);
    assert_int_equal(atomic_load(&run.invocations_after_detach), 0);
    assert_int_equal(atomic_load(&run.invocations_after_failed_attach), 0);
    assert_int_equal(atomic_load(&thread_failures), 0);
    for (int i = 0; i < PROGRAMS; i++) {
        assert_int_equal(atomic_load(&run.programs[i].records_after_free), 0);
        bpf_object__close(run.programs[i].object);
    }
    ebpf_epoch_drain();
    assert_int_equal(ebpf_allocation_outstanding(), outstanding_before);

    print_message(
        "%u s: %llu events produced, %llu accepted, %llu malformed, %llu met no "
        "binding; %llu deliveries, %llu unattached, %llu filtered; %llu extension and "
        "%llu provider reloads; %llu attaches (%llu refused), %llu detaches\n",
        seconds, (unsigned long long)produced, (unsigned long long)accepted,
        (unsigned long long)malformed, (unsigned long long)unbound,
        (unsigned long long)run.totals.delivered, (unsigned long long)run.totals.unattached,
        (unsigned long long)run.totals.filtered, (unsigned long long)run.extension_reloads,
        (unsigned long long)run.provider_reloads, (unsigned long long)atomic_load(&run.attaches),
        (unsigned long long)atomic_load(&run.attach_failures),
        (unsigned long long)atomic_load(&run.detaches));
    /* The run did something: events flowed and reloads happened. */
    assert_true(accepted > 0);
    assert_true(run.extension_reloads > 0 && run.provider_reloads > 0);
}

static int setup(void **state)
{
    if (netevent_test_host_prepare() != 0) {
        fprintf(stderr, "setup: %s\n", ebpf_last_error());
        return -1;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reloads_under_load),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
