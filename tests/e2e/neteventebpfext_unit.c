/* neteventebpfext_unit: the end-to-end test of the original, in C against the user API: export
 * the program information, start netevent_sim and neteventebpfext, load and attach
 * NetEventMonitor, read events from its ring buffer, detach and unload. `-d yes` prints every
 * event. Further tests: reloads with the program attached, two programs, capture filtering,
 * attach parameter errors, test-run, detach idempotence, and that nothing is lost uncounted. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <dlfcn.h>

#include "ebpf_api.h"
#include "ebpf_map.h"
#include "ebpf_netevent_hooks.h"
#include "ebpf_netevent_program_attach_type_guids.h"
#include "ebpf_platform.h"
#include "ebpf_store.h"
#include "netevent_decode.h"
#include "netevent_ext_program_info.h"
#include "netevent_sim.h"
#include "netevent_types.h"
#include "neteventebpfext.h"

#define EVENTS_REQUIRED 1000
/* The simulator pushes 8 events every 100 µs: about 80,000 events/s. */
#define SIM_PARAMETERS "NetEventInterval=100;NetEventBurst=8"

static bool display_events;
/* The monitor program: the BPF object, or its native module (-o). */
static const char *monitor_object = NETEVENT_MONITOR_OBJECT;

/* ---- what a program saw ---- */

typedef struct event_log {
    _Atomic uint64_t events;
    _Atomic uint64_t flows;
    _Atomic uint64_t drops;
    _Atomic uint64_t malformed;
    _Atomic uint32_t last_sequence;
} event_log_t;

static int record_event(void *context, void *data, size_t size)
{
    event_log_t *log = context;
    netevent_decoded_t decoded;

    if (netevent_decode(data, size, &decoded) != 0) {
        atomic_fetch_add(&log->malformed, 1);
        return 0;
    }
    if (decoded.kind == NETEVENT_KIND_FLOW)
        atomic_fetch_add(&log->flows, 1);
    else if (decoded.kind == NETEVENT_KIND_DROP)
        atomic_fetch_add(&log->drops, 1);
    atomic_store(&log->last_sequence, decoded.sequence);
    atomic_fetch_add(&log->events, 1);
    if (display_events) {
        char line[NETEVENT_FORMAT_TEXT_MAX];
        netevent_format_text(&decoded, line, sizeof(line));
        printf("%s\n", line);
    }
    return 0;
}

/* Waits (bounded) until the log holds at least count events. */
static bool wait_for_events(event_log_t *log, uint64_t count, unsigned seconds)
{
    for (unsigned i = 0; i < seconds * 1000 && atomic_load(&log->events) < count; i++)
        usleep(1000);
    return atomic_load(&log->events) >= count;
}

/* ---- the pieces ---- */

static void export_program_info(void)
{
    ebpf_store_t *store;
    assert_int_equal(ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store), 0);
    assert_int_equal(ebpf_store_update_program_info(store, &netevent_program_info), 0);
    assert_int_equal(
        ebpf_store_update_section_info(store, netevent_section_info, netevent_section_info_count),
        0);
    ebpf_store_close(store);
}

static ebpf_driver_t *load_driver(const char *name, const char *parameters)
{
    ebpf_driver_t *driver = NULL;
    int rc = ebpf_driver_load(name, parameters, &driver);
    if (rc != 0)
        fail_msg("loading %s: %d %s", name, rc, ebpf_last_error());
    return driver;
}

typedef struct monitor {
    struct bpf_object *object;
    struct bpf_program *program;
    struct bpf_link *link;
    struct ring_buffer *ring;
    event_log_t log;
} monitor_t;

/* Opens and loads NetEventMonitor; attaches it (with options when capture != 0) and starts a
 * ring buffer reader that calls back by itself, as the original test does. */
static void monitor_start(monitor_t *monitor, netevent_capture_type_t capture)
{
    memset(monitor, 0, sizeof(*monitor));
    monitor->object = bpf_object__open(monitor_object);
    assert_non_null(monitor->object);
    if (bpf_object__load(monitor->object) != 0)
        fail_msg("loading netevent_monitor: %s", ebpf_last_error());
    monitor->program = bpf_object__find_program_by_name(monitor->object, "NetEventMonitor");
    assert_non_null(monitor->program);
    if (capture == 0) {
        monitor->link = bpf_program__attach(monitor->program);
        assert_non_null(monitor->link);
    } else {
        netevent_attach_opts_t options = {capture};
        assert_int_equal(
            ebpf_program_attach(monitor->program, NULL, &options, sizeof(options), &monitor->link),
            0);
    }
    int map_fd = bpf_object__find_map_fd_by_name(monitor->object, "netevent_events_map");
    assert_true(map_fd >= 0);
    struct ebpf_ring_buffer_opts options = {sizeof(options), EBPF_RINGBUF_FLAG_AUTO_CALLBACK};
    monitor->ring = ebpf_ring_buffer__new(map_fd, record_event, &monitor->log, &options);
    assert_non_null(monitor->ring);
}

static void monitor_stop(monitor_t *monitor)
{
    if (monitor->link != NULL)
        assert_int_equal(bpf_link__destroy(monitor->link), 0);
    ring_buffer__free(monitor->ring);
    bpf_object__close(monitor->object);
}

static netevent_ext_statistics_t extension_statistics(void)
{
    netevent_ext_statistics_t total = {0};
    int fd = bpf_obj_get(NETEVENT_STATISTICS_PIN_NAME);
    uint32_t zero = 0, cpus = (uint32_t)libbpf_num_possible_cpus();
    netevent_ext_statistics_t *per_cpu = calloc(cpus, sizeof(*per_cpu));

    assert_true(fd >= 0);
    assert_int_equal(bpf_map_lookup_elem(fd, &zero, per_cpu), 0);
    for (uint32_t cpu = 0; cpu < cpus; cpu++) {
        total.received += per_cpu[cpu].received;
        total.malformed += per_cpu[cpu].malformed;
        total.delivered += per_cpu[cpu].delivered;
        total.program_errors += per_cpu[cpu].program_errors;
        total.filtered += per_cpu[cpu].filtered;
        total.unattached += per_cpu[cpu].unattached;
        total.copied += per_cpu[cpu].copied;
    }
    free(per_cpu);
    ebpf_close_fd(fd);
    return total;
}

static netevent_sim_statistics_t simulator_statistics(ebpf_driver_t *simulator)
{
    netevent_sim_statistics_t statistics = {
        .header =
            EBPF_EXTENSION_HEADER(NETEVENT_SIM_STATISTICS_VERSION, netevent_sim_statistics_t)};
    /* The module is loaded already: RTLD_NOLOAD hands back its handle, for dlsym. */
    void *module = dlopen(ebpf_driver_path(simulator), RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(module);
    netevent_sim_get_statistics_fn get =
        (netevent_sim_get_statistics_fn)dlsym(module, NETEVENT_SIM_STATISTICS_SYMBOL);
    assert_non_null(get);
    assert_int_equal(get(&statistics), 0);
    dlclose(module);
    return statistics;
}

/* ---- tests ---- */

static int setup(void **state)
{
    export_program_info();
    return 0;
}

/* The original's steps. */
static void test_end_to_end(void **state)
{
    monitor_t monitor;
    ebpf_driver_t *simulator = load_driver("netevent_sim", SIM_PARAMETERS);
    ebpf_driver_t *extension = load_driver("neteventebpfext", NULL);

    monitor_start(&monitor, 0);
    assert_true(wait_for_events(&monitor.log, EVENTS_REQUIRED, 20));
    assert_int_equal(atomic_load(&monitor.log.malformed), 0);
    assert_true(atomic_load(&monitor.log.flows) > 0);
    assert_true(atomic_load(&monitor.log.drops) > 0);
    monitor_stop(&monitor);
    assert_int_equal(ebpf_driver_unload(extension), 0);
    assert_int_equal(ebpf_driver_unload(simulator), 0);
    print_message("end to end: %llu events (%llu flow, %llu drop)\n",
                  (unsigned long long)atomic_load(&monitor.log.events),
                  (unsigned long long)atomic_load(&monitor.log.flows),
                  (unsigned long long)atomic_load(&monitor.log.drops));
}

/* Unload and reload the provider under an attached program: events resume, no re-attach. */
static void test_provider_reload(void **state)
{
    monitor_t monitor;
    ebpf_driver_t *simulator = load_driver("netevent_sim", SIM_PARAMETERS);
    ebpf_driver_t *extension = load_driver("neteventebpfext", NULL);

    monitor_start(&monitor, 0);
    assert_true(wait_for_events(&monitor.log, 100, 20));
    assert_int_equal(ebpf_driver_unload(simulator), 0);
    usleep(50000); /* let the reader drain what was in the ring */
    uint64_t before = atomic_load(&monitor.log.events);
    usleep(50000);
    assert_int_equal(atomic_load(&monitor.log.events), before); /* no provider, no events */
    simulator = load_driver("netevent_sim", SIM_PARAMETERS);
    assert_true(wait_for_events(&monitor.log, before + 100, 20));
    monitor_stop(&monitor);
    assert_int_equal(ebpf_driver_unload(extension), 0);
    assert_int_equal(ebpf_driver_unload(simulator), 0);
}

/* Unload and reload the extension under a loaded, attached program: it binds again by itself. */
static void test_extension_reload(void **state)
{
    monitor_t monitor;
    ebpf_driver_t *simulator = load_driver("netevent_sim", SIM_PARAMETERS);
    ebpf_driver_t *extension = load_driver("neteventebpfext", NULL);

    monitor_start(&monitor, 0);
    assert_true(wait_for_events(&monitor.log, 100, 20));
    assert_int_equal(ebpf_driver_unload(extension), 0);
    usleep(50000);
    uint64_t before = atomic_load(&monitor.log.events);
    usleep(50000);
    assert_int_equal(atomic_load(&monitor.log.events), before);
    extension = load_driver("neteventebpfext", NULL);
    assert_true(wait_for_events(&monitor.log, before + 100, 20));
    monitor_stop(&monitor);
    assert_int_equal(ebpf_driver_unload(extension), 0);
    assert_int_equal(ebpf_driver_unload(simulator), 0);
}

/* Two programs attached at once each see every event. */
static void test_two_programs_see_every_event(void **state)
{
    monitor_t first, second;
    ebpf_driver_t *extension = load_driver("neteventebpfext", NULL);

    monitor_start(&first, 0);
    monitor_start(&second, 0);
    /* Attach both before any event exists, then produce a known number of events. */
    ebpf_driver_t *simulator =
        load_driver("netevent_sim", "NetEventInterval=1000;NetEventBurst=50");
    assert_true(wait_for_events(&first.log, 2000, 20));
    assert_int_equal(ebpf_driver_unload(simulator), 0);
    netevent_ext_statistics_t statistics = extension_statistics();
    /* Every received event reached both programs (the rings are large enough: no drops). */
    assert_true(wait_for_events(&first.log, statistics.received, 5));
    assert_true(wait_for_events(&second.log, statistics.received, 5));
    assert_int_equal(atomic_load(&first.log.events), statistics.received);
    assert_int_equal(atomic_load(&second.log.events), statistics.received);
    assert_int_equal(statistics.delivered, 2 * statistics.received);
    monitor_stop(&first);
    monitor_stop(&second);
    assert_int_equal(ebpf_driver_unload(extension), 0);
}

/* Capture types filter per link, never for all. */
static void test_capture_type_filtering(void **state)
{
    monitor_t flows, drops, everything, nothing;
    ebpf_driver_t *extension = load_driver("neteventebpfext", NULL);

    monitor_start(&flows, NeteventCapture_Flow);
    monitor_start(&drops, NeteventCapture_Drop);
    monitor_start(&everything, NeteventCapture_All);
    monitor_start(&nothing, NeteventCapture_None);
    ebpf_driver_t *simulator = load_driver("netevent_sim", SIM_PARAMETERS);
    assert_true(wait_for_events(&everything.log, 2000, 20));
    assert_int_equal(ebpf_driver_unload(simulator), 0);
    netevent_ext_statistics_t statistics = extension_statistics();
    assert_true(wait_for_events(&everything.log, statistics.received, 5));
    uint64_t flow_events = atomic_load(&everything.log.flows);
    uint64_t drop_events = atomic_load(&everything.log.drops);
    assert_true(wait_for_events(&flows.log, flow_events, 5));
    assert_true(wait_for_events(&drops.log, drop_events, 5));
    assert_int_equal(atomic_load(&flows.log.events), flow_events);
    assert_int_equal(atomic_load(&flows.log.drops), 0);
    assert_int_equal(atomic_load(&drops.log.events), drop_events);
    assert_int_equal(atomic_load(&drops.log.flows), 0);
    assert_int_equal(atomic_load(&nothing.log.events), 0);
    monitor_stop(&flows);
    monitor_stop(&drops);
    monitor_stop(&everything);
    monitor_stop(&nothing);
    assert_int_equal(ebpf_driver_unload(extension), 0);
}

static void test_attach_parameter_errors(void **state)
{
    ebpf_driver_t *extension = load_driver("neteventebpfext", NULL);
    struct bpf_object *object = bpf_object__open(monitor_object);
    struct bpf_link *link = NULL;
    assert_non_null(object);
    assert_int_equal(bpf_object__load(object), 0);
    struct bpf_program *program = bpf_object__find_program_by_name(object, "NetEventMonitor");

    uint64_t too_big[2] = {NeteventCapture_All, 0};
    assert_int_equal(ebpf_program_attach(program, NULL, too_big, sizeof(too_big), &link), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "attach parameters are 16 bytes"));
    netevent_attach_opts_t unknown = {(netevent_capture_type_t)7};
    assert_int_equal(ebpf_program_attach(program, NULL, &unknown, sizeof(unknown), &link), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "unknown capture type 7"));
    assert_null(link);
    /* A wrong attach type: no such hook. */
    const ebpf_guid_t other = {1, 2, 3, {4, 5, 6, 7, 8, 9, 10, 11}};
    assert_int_equal(ebpf_program_attach(program, &other, NULL, 0, &link), -ENOENT);

    bpf_object__close(object);
    assert_int_equal(ebpf_driver_unload(extension), 0);
}

static void test_test_run(void **state)
{
    ebpf_driver_t *extension = load_driver("neteventebpfext", NULL);
    struct bpf_object *object = bpf_object__open(monitor_object);
    assert_int_equal(bpf_object__load(object), 0);
    int program_fd = bpf_program__fd(bpf_object__find_program_by_name(object, "NetEventMonitor"));

    uint8_t event[sizeof(netevent_event_header_t) + 20] = {0}, out[sizeof(event)];
    netevent_event_header_t header = {.type = NETEVENT_EVENT_TYPE_DROP,
                                      .version = NETEVENT_EVENT_HEADER_VERSION,
                                      .header_length = sizeof(header),
                                      .captured_length = 20};
    memcpy(event, &header, sizeof(header));
    netevent_event_md_t context_out;
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = event, .data_size_in = sizeof(event),
                .data_out = out, .data_size_out = sizeof(out), .ctx_out = &context_out,
                .ctx_size_out = sizeof(context_out), .repeat = 10);
    assert_int_equal(bpf_prog_test_run_opts(program_fd, &options), 0);
    assert_int_equal(options.retval, 0); /* stored in the ring */
    assert_int_equal(options.data_size_out, sizeof(event));
    assert_memory_equal(out, event, sizeof(event));
    assert_int_equal(options.ctx_size_out, sizeof(netevent_event_md_t));
    /* An event shorter than its header: the program refuses it. */
    LIBBPF_OPTS(bpf_test_run_opts, short_event, .data_in = event, .data_size_in = 8);
    assert_int_equal(bpf_prog_test_run_opts(program_fd, &short_event), 0);
    assert_int_equal((int32_t)short_event.retval, -1);
    /* A context of the wrong size is refused by the program type. */
    uint8_t bad_context[3] = {0};
    LIBBPF_OPTS(bpf_test_run_opts, bad, .data_in = event, .data_size_in = sizeof(event),
                .ctx_in = bad_context, .ctx_size_in = sizeof(bad_context));
    assert_int_equal(bpf_prog_test_run_opts(program_fd, &bad), -EINVAL);

    bpf_object__close(object);
    assert_int_equal(ebpf_driver_unload(extension), 0);
}

static void test_detach_idempotence(void **state)
{
    ebpf_driver_t *extension = load_driver("neteventebpfext", NULL);
    struct bpf_object *object = bpf_object__open(monitor_object);
    assert_int_equal(bpf_object__load(object), 0);
    struct bpf_program *program = bpf_object__find_program_by_name(object, "NetEventMonitor");

    struct bpf_link *link = bpf_program__attach(program);
    assert_non_null(link);
    int link_fd = bpf_link__fd(link);
    assert_int_equal(bpf_link_detach(link_fd), 0);
    assert_int_equal(bpf_link_detach(link_fd), 0);
    assert_int_equal(bpf_link__destroy(link), 0);

    link = bpf_program__attach(program);
    assert_non_null(link);
    assert_int_equal(bpf_link__detach(link), 0);
    assert_int_equal(bpf_link__destroy(link), 0);

    bpf_object__close(object);
    assert_int_equal(ebpf_driver_unload(extension), 0);
}

/* Every event the provider produced was received; every received event reached the program or
 * was counted malformed; every delivery is in the ring or counted as a ring drop. */
static void test_nothing_lost_uncounted(void **state)
{
    monitor_t monitor;
    ebpf_driver_t *extension = load_driver("neteventebpfext", NULL);
    monitor_start(&monitor, 0);
    ebpf_driver_t *simulator = load_driver("netevent_sim", "NetEventInterval=0;NetEventBurst=64");
    assert_true(wait_for_events(&monitor.log, 20000, 20));
    /* Detaching the only link lets the extension leave the provider, which stops pushing. */
    assert_int_equal(bpf_link__destroy(monitor.link), 0);
    monitor.link = NULL;
    /* The provider's counters settle once its last tick is over. */
    netevent_sim_statistics_t produced = simulator_statistics(simulator), again;
    for (int i = 0; i < 200; i++) {
        usleep(10000);
        again = simulator_statistics(simulator);
        if (again.events_pushed == produced.events_pushed &&
            again.events_refused == produced.events_refused)
            break;
        produced = again;
    }
    netevent_ext_statistics_t statistics = extension_statistics();
    print_message(
        "provider: %llu produced, %llu pushed, %llu refused; extension received %llu\n",
        (unsigned long long)produced.events_produced, (unsigned long long)produced.events_pushed,
        (unsigned long long)produced.events_refused, (unsigned long long)statistics.received);
    assert_int_equal(ebpf_driver_unload(simulator), 0);
    /* Every push the provider counted as accepted was received, none was malformed, and every
     * received event ran the program. */
    assert_int_equal(statistics.received, produced.events_pushed);
    assert_int_equal(statistics.malformed, 0);
    /* One link with capture all: every event ran it, unless it came while the link detached. */
    assert_int_equal(statistics.received,
                     statistics.delivered + statistics.program_errors + statistics.unattached);
    assert_int_equal(statistics.filtered, 0);
    /* The program's ring: what the reader got plus what the ring dropped. */
    int map_fd = bpf_object__find_map_fd_by_name(monitor.object, "netevent_events_map");
    ebpf_map_t *map;
    assert_int_equal(ebpf_map_from_fd(map_fd, &map), 0);
    uint64_t ring_drops = ebpf_ring_buffer_dropped(ebpf_map_get_ring_buffer(map));
    ebpf_map_release(map);
    wait_for_events(&monitor.log, statistics.delivered - ring_drops, 5);
    assert_int_equal(atomic_load(&monitor.log.events) + ring_drops, statistics.delivered);
    print_message("nothing lost: %llu received, %llu in the ring, %llu ring drops\n",
                  (unsigned long long)statistics.received,
                  (unsigned long long)atomic_load(&monitor.log.events),
                  (unsigned long long)ring_drops);
    print_message("provider: %llu produced, %llu pushed, %llu refused\n",
                  (unsigned long long)produced.events_produced,
                  (unsigned long long)produced.events_pushed,
                  (unsigned long long)produced.events_refused);
    monitor_stop(&monitor);
    assert_int_equal(ebpf_driver_unload(extension), 0);
}

/* Events are copied only while a program that may write them is attached: netevent_monitor is
 * proven not to, so it runs on the provider's bytes. */
static void test_event_copied_only_for_writers(void **state)
{
    monitor_t monitor;
    ebpf_driver_t *extension = load_driver("neteventebpfext", NULL);

    monitor_start(&monitor, 0);
    ebpf_driver_t *simulator = load_driver("netevent_sim", SIM_PARAMETERS);
    assert_true(wait_for_events(&monitor.log, 500, 20));
    assert_int_equal(ebpf_driver_unload(simulator), 0);
    netevent_ext_statistics_t statistics = extension_statistics();
    assert_true(statistics.received >= 500);
    assert_int_equal(statistics.copied, 0);

    struct bpf_object *writer = bpf_object__open(EVENT_WRITER_OBJECT);
    assert_non_null(writer);
    assert_int_equal(bpf_object__load(writer), 0);
    struct bpf_link *writer_link =
        bpf_program__attach(bpf_object__find_program_by_name(writer, "ScribbleOnEvent"));
    assert_non_null(writer_link);
    uint64_t seen = atomic_load(&monitor.log.events);
    simulator = load_driver("netevent_sim", SIM_PARAMETERS);
    assert_true(wait_for_events(&monitor.log, seen + 500, 20));
    assert_int_equal(ebpf_driver_unload(simulator), 0);
    netevent_ext_statistics_t with_writer = extension_statistics();
    /* Every event of the second run was copied, none of the first. */
    assert_int_equal(with_writer.copied, with_writer.received - statistics.received);
    assert_int_equal(bpf_link__destroy(writer_link), 0);
    bpf_object__close(writer);

    monitor_stop(&monitor);
    assert_int_equal(ebpf_driver_unload(extension), 0);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            display_events = strcmp(argv[++i], "yes") == 0;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            monitor_object = argv[++i];
        } else {
            fprintf(stderr,
                    "usage: neteventebpfext_unit [-d yes|no] [-o netevent_monitor.o|.so]\n");
            return 2;
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_end_to_end),
        cmocka_unit_test(test_provider_reload),
        cmocka_unit_test(test_extension_reload),
        cmocka_unit_test(test_two_programs_see_every_event),
        cmocka_unit_test(test_capture_type_filtering),
        cmocka_unit_test(test_attach_parameter_errors),
        cmocka_unit_test(test_test_run),
        cmocka_unit_test(test_detach_idempotence),
        cmocka_unit_test(test_nothing_lost_uncounted),
        cmocka_unit_test(test_event_copied_only_for_writers),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
