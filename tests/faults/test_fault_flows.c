/* Fault injection over whole flows (registrar, core, extension, end to end): every allocation
 * site failed in turn and the Nth allocation for a sweep of N; each failure must give a negative
 * errno with a message, leak nothing, crash nothing, and leave a system that works again. */
#include <dlfcn.h>
#include <spawn.h>
#include <sys/wait.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core_test_type.h"
#include "ebpf_api.h"
#include "ebpf_elf.h"
#include "ebpf_object.h"
#include "ebpf_platform.h"
#include "netevent_test_host.h"
#include "netevent_types.h"
#include "nmr.h"

#define SITES_MAX 1024
/* Points of the Nth-allocation sweep per flow unless EBPF_FAULT_FULL=1 asks for every N. */
#define SWEEP_POINTS 1000

/* ---- checking one step ---- */

/* A step that failed must have said so: a negative errno and a message. Returns rc == 0. */
static bool step_succeeded(int rc, const char *step)
{
    if (rc == 0)
        return true;
    if (rc > 0)
        fail_msg("%s: returned %d, not a negative errno", step, rc);
    if (ebpf_last_error()[0] == '\0')
        fail_msg("%s: failed with %d and left no message", step, rc);
    return false;
}

/* Same for libbpf functions that return a pointer and set errno. */
static bool pointer_step_succeeded(const void *pointer, const char *step)
{
    int error = errno;
    if (pointer != NULL)
        return true;
    return step_succeeded(error > 0 ? -error : (error == 0 ? 1 : error), step);
}

/* ---- the registrar flow: the test provider and a minimal netevent client ---- */

static _Atomic uint64_t client_pushes;

static int client_push_event(const netevent_event_info_t *event)
{
    atomic_fetch_add(&client_pushes, 1);
    return 0;
}

static const netevent_client_dispatch_t registrar_client_dispatch = {
    EBPF_EXTENSION_HEADER(NETEVENT_CLIENT_DISPATCH_VERSION, netevent_client_dispatch_t),
    1,
    {(const void *)client_push_event},
};
static const nmr_module_id_t registrar_client_id = {0x7e57c11e, 1, 2, {3, 4, 5, 6, 7, 8, 9, 10}};

static int registrar_client_attach(nmr_binding_t *binding, void *client_context,
                                   const nmr_registration_instance_t *provider)
{
    void *provider_binding_context;
    const void *provider_dispatch;
    return nmr_client_attach_provider(binding, client_context, &registrar_client_dispatch,
                                      &provider_binding_context, &provider_dispatch);
}

static int registrar_client_detach(void *client_binding_context)
{
    return 0;
}

static const nmr_client_characteristics_t registrar_client = {
    .version = NMR_CHARACTERISTICS_VERSION,
    .size = sizeof(nmr_client_characteristics_t),
    .attach_provider = registrar_client_attach,
    .detach_provider = registrar_client_detach,
    .registration_instance = {NMR_REGISTRATION_INSTANCE_VERSION,
                              sizeof(nmr_registration_instance_t), &NETEVENT_NPI_ID,
                              &registrar_client_id, 0, NULL},
};

static bool run_registrar_flow(bool strict)
{
    netevent_test_provider_t provider = {0};
    nmr_client_t *client = NULL;
    uint8_t event[64];
    size_t size = netevent_test_build_event(event, sizeof(event), NETEVENT_EVENT_TYPE_FLOW, 1, 16);
    bool ok = true;

    atomic_store(&client_pushes, 0);
    ebpf_error_clear();
    ok &= step_succeeded(nmr_register_client(&registrar_client, NULL, &client), "register client");
    ebpf_error_clear();
    ok &= step_succeeded(netevent_test_provider_register(&provider, 1), "register provider");
    /* A binding that could not form leaves both registered and unbound: pushes say so. */
    for (int i = 0; i < 3; i++) {
        int rc = netevent_test_provider_push(&provider, event, size);
        assert_true(rc == 0 || rc == -ENOLINK);
    }
    bool bound = atomic_load(&provider.attaches) == 1;
    assert_int_equal(atomic_load(&client_pushes), bound ? 3 : 0);
    netevent_test_provider_deregister(&provider);
    if (client != NULL) {
        int rc = nmr_deregister_client(client);
        assert_true(rc == 0 || rc == NMR_PENDING);
        assert_int_equal(nmr_wait_for_client_deregister_complete(client), 0);
    }
    assert_int_equal(atomic_load(&provider.detaches), atomic_load(&provider.attaches));
    assert_int_equal(atomic_load(&provider.cleanups), atomic_load(&provider.attaches));
    assert_int_equal(atomic_load(&provider.callbacks_after_deregister), 0);
    if (strict) {
        assert_true(ok);
        assert_true(bound);
    }
    return ok && bound;
}

/* ---- the core flow: load tests/core's object, test-run two programs ---- */

static bool run_core_flow(bool strict)
{
    ebpf_elf_object_t *elf = NULL;
    ebpf_object_t *object = NULL;
    bool ok;

    ebpf_error_clear();
    ok = step_succeeded(ebpf_elf_open_file(CORE_PROGRAMS_OBJECT, &elf), "open core_programs.o");
    if (ok) {
        ebpf_error_clear();
        ok = step_succeeded(core_test_load_object(elf, false, &object), "load core_programs");
    }
    if (ok) {
        uint8_t packet[64], out[64];
        uint32_t sum = 0;
        for (unsigned i = 0; i < sizeof(packet); i++) {
            packet[i] = (uint8_t)(3 * i + 1);
            sum += packet[i];
        }
        core_test_context_t context_in = {0}, context_out = {0};
        ebpf_test_run_options_t options = {
            .data_in = packet,
            .data_size_in = sizeof(packet),
            .data_out = out,
            .data_size_out = sizeof(out),
            .ctx_in = &context_in,
            .ctx_size_in = sizeof(context_in),
            .ctx_out = &context_out,
            .ctx_size_out = sizeof(context_out),
        };
        ebpf_program_t *sum_packet = ebpf_object_find_program(object, elf, "sum_packet");
        assert_non_null(sum_packet);
        ebpf_error_clear();
        if (step_succeeded(ebpf_program_test_run(sum_packet, &options), "test-run sum_packet")) {
            assert_int_equal(options.retval, sum);
            assert_int_equal(context_out.value, sizeof(packet));
        } else {
            ok = false;
        }
        ebpf_program_t *map_operations = ebpf_object_find_program(object, elf, "map_operations");
        assert_non_null(map_operations);
        ebpf_test_run_options_t map_options = {
            .data_in = packet,
            .data_size_in = 1,
            .ctx_in = &context_in,
            .ctx_size_in = sizeof(context_in),
        };
        ebpf_error_clear();
        if (step_succeeded(ebpf_program_test_run(map_operations, &map_options),
                           "test-run map_operations")) {
            /* Under injection a map update inside the program may fail: a code, no crash. */
            if (strict)
                assert_int_equal(map_options.retval, 0);
            ok &= map_options.retval == 0;
        } else {
            ok = false;
        }
    }
    ebpf_object_unload(object);
    ebpf_elf_free(elf);
    if (strict)
        assert_true(ok);
    return ok;
}

/* ---- the extension flow: load, attach, push, read the ring, detach, unload ---- */

static int count_record(void *context, void *data, size_t size)
{
    size_t *records = context;
    (*records)++;
    return 0;
}

#define EXTENSION_EVENTS 8

static bool run_extension_flow(bool strict)
{
    netevent_test_provider_t provider = {0};
    ebpf_driver_t *extension = NULL;
    struct bpf_object *object = NULL;
    struct bpf_link *link = NULL;
    struct ring_buffer *ring = NULL;
    size_t records = 0;
    bool ok;

    ebpf_error_clear();
    ok = step_succeeded(ebpf_driver_load("neteventebpfext", NULL, &extension), "load extension");
    ebpf_error_clear();
    ok &= step_succeeded(netevent_test_provider_register(&provider, 2), "register provider");
    if (ok) {
        ebpf_error_clear();
        errno = 0;
        object = bpf_object__open(netevent_test_object_path("netevent_monitor.o"));
        ok = pointer_step_succeeded(object, "open netevent_monitor.o");
    }
    if (ok) {
        ebpf_error_clear();
        ok = step_succeeded(bpf_object__load(object), "load netevent_monitor");
    }
    if (ok) {
        ebpf_error_clear();
        errno = 0;
        link = bpf_program__attach(bpf_object__find_program_by_name(object, "NetEventMonitor"));
        ok = pointer_step_succeeded(link, "attach NetEventMonitor");
    }
    if (ok) {
        int map_fd = bpf_object__find_map_fd_by_name(object, "netevent_events_map");
        assert_true(map_fd >= 0);
        ebpf_error_clear();
        errno = 0;
        ring = ring_buffer__new(map_fd, count_record, &records, NULL);
        ok = pointer_step_succeeded(ring, "ring_buffer__new");
    }
    if (ok) {
        /* Attached with a provider registered: the extension's client bound to it, unless
         * that binding's own allocation failed (then the pushes say so). */
        uint8_t event[128];
        uint64_t accepted = 0;
        for (uint32_t i = 0; i < EXTENSION_EVENTS; i++) {
            size_t size = netevent_test_build_event(
                event, sizeof(event), i % 2 ? NETEVENT_EVENT_TYPE_FLOW : NETEVENT_EVENT_TYPE_DROP,
                i, 40 + i);
            int rc = netevent_test_provider_push(&provider, event, size);
            /* -ENOMEM: the extension's copy of the event could not grow (counted). */
            assert_true(rc == 0 || rc == -ENOLINK || rc == -ENOMEM);
            accepted += rc == 0;
        }
        int consumed = ring_buffer__consume(ring);
        assert_true(consumed >= 0);
        assert_int_equal((uint64_t)consumed, records);
        assert_int_equal(records, accepted);
        ok = accepted == EXTENSION_EVENTS;
    }
    if (link != NULL)
        assert_int_equal(bpf_link__destroy(link), 0);
    /* The last link left: the extension's client is gone, so no push reaches it. */
    assert_false(netevent_test_provider_bound(&provider));
    ring_buffer__free(ring);
    bpf_object__close(object);
    netevent_test_provider_deregister(&provider);
    assert_int_equal(ebpf_driver_unload(extension), 0);
    assert_int_equal(atomic_load(&provider.detaches), atomic_load(&provider.attaches));
    assert_int_equal(atomic_load(&provider.callbacks_after_deregister), 0);
    if (strict)
        assert_true(ok);
    return ok;
}

/* ---- the end-to-end flow: store export, simulator, extension, self-driven ring reader ---- */

static int count_record_atomic(void *context, void *data, size_t size)
{
    atomic_fetch_add((_Atomic uint64_t *)context, 1);
    return 0;
}

#define E2E_EVENTS 16

/* What the sweep fails now, and the runs where every call succeeded but nothing flowed. */
static const char *current_fault = "nothing";
static size_t silent_runs;

static bool run_end_to_end_flow(bool strict)
{
    ebpf_driver_t *simulator = NULL, *extension = NULL;
    struct bpf_object *object = NULL;
    struct bpf_link *link = NULL;
    struct ring_buffer *ring = NULL;
    _Atomic uint64_t records = 0;
    bool ok;

    ebpf_error_clear();
    ok = step_succeeded(netevent_test_host_prepare(), "export program information");
    if (ok) {
        ebpf_error_clear();
        ok =
            step_succeeded(ebpf_driver_load("neteventebpfext", NULL, &extension), "load extension");
    }
    if (ok) {
        ebpf_error_clear();
        ok = step_succeeded(
            ebpf_driver_load("netevent_sim", "NetEventInterval=1000;NetEventBurst=8", &simulator),
            "load netevent_sim");
    }
    if (ok) {
        ebpf_error_clear();
        errno = 0;
        object = bpf_object__open(netevent_test_object_path("netevent_monitor.o"));
        ok = pointer_step_succeeded(object, "open netevent_monitor.o");
    }
    if (ok) {
        ebpf_error_clear();
        ok = step_succeeded(bpf_object__load(object), "load netevent_monitor");
    }
    if (ok) {
        int map_fd = bpf_object__find_map_fd_by_name(object, "netevent_events_map");
        struct ebpf_ring_buffer_opts options = {sizeof(options), EBPF_RINGBUF_FLAG_AUTO_CALLBACK};
        ebpf_error_clear();
        errno = 0;
        ring = ebpf_ring_buffer__new(map_fd, count_record_atomic, &records, &options);
        ok = pointer_step_succeeded(ring, "ebpf_ring_buffer__new");
    }
    if (ok) {
        ebpf_error_clear();
        errno = 0;
        link = bpf_program__attach(bpf_object__find_program_by_name(object, "NetEventMonitor"));
        ok = pointer_step_succeeded(link, "attach NetEventMonitor");
    }
    bool stalled = false;
    if (ok) {
        /* Everything said yes: events must flow, unless the failure hit the binding of the
         * extension's client to the simulator, which the registrar forms on its own (no caller
         * to tell): that one is counted and reported, not failed. */
        int wait_ms = strict ? 3000 : 300;
        for (int i = 0; i < wait_ms && atomic_load(&records) < E2E_EVENTS; i++)
            usleep(1000);
        stalled = atomic_load(&records) < E2E_EVENTS;
    }
    /* The simulator goes first: the statistics are read once nothing writes them. */
    assert_int_equal(ebpf_driver_unload(simulator), 0);
    if (stalled) {
        netevent_ext_statistics_t statistics = {0};
        int fd = bpf_obj_get(NETEVENT_STATISTICS_PIN_NAME);
        if (fd >= 0) {
            netevent_test_read_statistics(fd, &statistics);
            ebpf_close_fd(fd);
        }
        /* Events the extension could not hand to the program are counted as program errors
         * (its per-thread copy could not grow): a counted failure. */
        if (strict || statistics.delivered != 0)
            fail_msg("failing %s: every step succeeded but only %llu events arrived (the "
                     "extension received %llu, delivered %llu, program errors %llu, "
                     "unattached %llu, malformed %llu)",
                     current_fault, (unsigned long long)atomic_load(&records),
                     (unsigned long long)statistics.received,
                     (unsigned long long)statistics.delivered,
                     (unsigned long long)statistics.program_errors,
                     (unsigned long long)statistics.unattached,
                     (unsigned long long)statistics.malformed);
        if (statistics.received == 0) {
            silent_runs++;
            print_message("end_to_end: no event flowed, no step failed, while failing %s\n",
                          current_fault);
        }
        ok = false;
    }
    if (link != NULL)
        assert_int_equal(bpf_link__destroy(link), 0);
    ring_buffer__free(ring);
    bpf_object__close(object);
    assert_int_equal(ebpf_driver_unload(extension), 0);
    if (strict)
        assert_true(ok);
    return ok;
}

/* ---- the sweeps ---- */

typedef struct flow {
    const char *name;
    bool (*run)(bool strict);
} flow_t;

static const flow_t flows[] = {
    {"registrar", run_registrar_flow},
    {"core", run_core_flow},
    {"extension", run_extension_flow},
    {"end_to_end", run_end_to_end_flow},
};

/* Registrations of the process's life (the core's general helpers provider), taken after the
 * warm-up run. */
static nmr_statistics_t registrar_start;

/* Nothing registered, nothing allocated beyond the starting level. */
static void assert_clean(const flow_t *flow, int64_t outstanding_before, const char *after)
{
    nmr_statistics_t statistics;

    ebpf_epoch_drain();
    nmr_get_statistics(&statistics);
    if (statistics.providers != registrar_start.providers ||
        statistics.clients != registrar_start.clients ||
        statistics.bindings != registrar_start.bindings)
        fail_msg("%s flow, %s: %llu providers, %llu clients, %llu bindings registered; %llu, "
                 "%llu, %llu at the start",
                 flow->name, after, (unsigned long long)statistics.providers,
                 (unsigned long long)statistics.clients, (unsigned long long)statistics.bindings,
                 (unsigned long long)registrar_start.providers,
                 (unsigned long long)registrar_start.clients,
                 (unsigned long long)registrar_start.bindings);
    int64_t outstanding = ebpf_allocation_outstanding();
    if (outstanding != outstanding_before)
        fail_msg("%s flow, %s: %lld allocations outstanding, %lld at the start", flow->name, after,
                 (long long)outstanding, (long long)outstanding_before);
}

/* Runs the flow clean once, so lazily created process state (fd table, per-thread records)
 * exists before the starting level is taken. */
static int64_t warm_up(const flow_t *flow)
{
    ebpf_fault_reset();
    assert_true(flow->run(true));
    ebpf_epoch_drain();
    nmr_get_statistics(&registrar_start);
    return ebpf_allocation_outstanding();
}

static void sweep_sites(const flow_t *flow)
{
    silent_runs = 0;
    static const char *recorded[SITES_MAX];
    static char *sites[SITES_MAX];
    int64_t before = warm_up(flow);
    size_t count, missed = 0, failed_runs = 0;
    char after[600];

    ebpf_fault_record_sites(true);
    assert_true(flow->run(true));
    ebpf_fault_record_sites(false);
    count = ebpf_fault_sites(recorded, SITES_MAX);
    assert_true(count > 0);
    /* Copies: a module's site names live in its code, which unloads. */
    for (size_t i = 0; i < count; i++)
        sites[i] = strdup(recorded[i]);
    assert_clean(flow, before, "the recording run");

    for (size_t i = 0; i < count; i++) {
        ebpf_fault_reset();
        ebpf_fault_fail_site(sites[i]);
        current_fault = sites[i];
        failed_runs += !flow->run(false);
        missed += ebpf_fault_injected_count() == 0;
        ebpf_fault_reset();
        snprintf(after, sizeof(after), "after failing site %s", sites[i]);
        assert_clean(flow, before, after);
        assert_true(flow->run(true));
        assert_clean(flow, before, "the run after lifting the failure");
    }
    current_fault = "nothing";
    print_message("%s: %zu allocation sites failed in turn; %zu runs saw a failure, %zu sites "
                  "were not reached again, %zu failures went unreported\n",
                  flow->name, count, failed_runs, missed, silent_runs);
    /* Most sites must have been hit again: otherwise the sweep tests nothing. */
    assert_true(missed * 2 <= count);
    for (size_t i = 0; i < count; i++)
        free(sites[i]);
}

static void sweep_nth(const flow_t *flow)
{
    silent_runs = 0;
    int64_t before = warm_up(flow);
    uint64_t start = ebpf_allocation_count(), failed_runs = 0, points = 0;
    char after[128], fault[64];

    assert_true(flow->run(true));
    uint64_t per_run = ebpf_allocation_count() - start;
    assert_true(per_run > 0);
    const char *full = getenv("EBPF_FAULT_FULL");
    uint64_t stride = (full != NULL && strcmp(full, "1") == 0) ? 1 : per_run / SWEEP_POINTS + 1;

    for (uint64_t n = 1; n <= per_run; n += stride, points++) {
        ebpf_fault_reset();
        ebpf_fault_fail_nth(n);
        snprintf(fault, sizeof(fault), "allocation %llu", (unsigned long long)n);
        current_fault = fault;
        failed_runs += !flow->run(false);
        assert_true(ebpf_fault_injected_count() <= 1);
        ebpf_fault_reset();
        snprintf(after, sizeof(after), "after failing allocation %llu", (unsigned long long)n);
        assert_clean(flow, before, after);
        assert_true(flow->run(true));
    }
    current_fault = "nothing";
    assert_clean(flow, before, "the sweep");
    print_message("%s: %llu allocations per run, %llu failed in turn (stride %llu); %llu runs "
                  "saw a failure, %zu failures went unreported\n",
                  flow->name, (unsigned long long)per_run, (unsigned long long)points,
                  (unsigned long long)stride, (unsigned long long)failed_runs, silent_runs);
    assert_true(failed_runs > 0);
}

static void test_registrar_sites(void **state)
{
    sweep_sites(&flows[0]);
}
static void test_registrar_nth(void **state)
{
    sweep_nth(&flows[0]);
}
static void test_core_sites(void **state)
{
    sweep_sites(&flows[1]);
}
static void test_core_nth(void **state)
{
    sweep_nth(&flows[1]);
}
static void test_extension_sites(void **state)
{
    sweep_sites(&flows[2]);
}
static void test_extension_nth(void **state)
{
    sweep_nth(&flows[2]);
}
static void test_end_to_end_sites(void **state)
{
    sweep_sites(&flows[3]);
}
static void test_end_to_end_nth(void **state)
{
    sweep_nth(&flows[3]);
}

/* First use under failure: state a process creates once (the core's general helpers provider,
 * registered on the first program load) must not stay broken when that first attempt fails. A
 * fresh process per site fails it during the flow's first run, then everything must work clean.
 * A process is costly under sanitizers, so the sites checked are those only a first run reaches,
 * plus a few of the others (all with EBPF_FAULT_FULL=1). */
#define FIRST_USE_SAMPLE 3

extern char **environ;

static int spawn_self(char **arguments)
{
    pid_t child;
    int status;
    assert_int_equal(posix_spawn(&child, "/proc/self/exe", NULL, NULL, arguments, environ), 0);
    assert_int_equal(waitpid(child, &status, 0), child);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool site_in(char **sites, size_t count, const char *site)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(sites[i], site) == 0)
            return true;
    return false;
}

static void test_first_use_sites(void **state)
{
    static const char *recorded[SITES_MAX];
    static char *warm[SITES_MAX], *first[SITES_MAX];
    const char *full_text = getenv("EBPF_FAULT_FULL");
    bool full = full_text != NULL && strcmp(full_text, "1") == 0;
    size_t broken = 0;

    for (size_t f = 1; f < EBPF_ARRAY_SIZE(flows); f++) {
        const flow_t *flow = &flows[f];
        char list[] = "/tmp/fault_first_use.XXXXXX";
        int descriptor = mkstemp(list);
        assert_true(descriptor >= 0);
        close(descriptor);

        /* The sites of a warm run here, and of a first run in a fresh process. */
        ebpf_fault_reset();
        assert_true(flow->run(true));
        ebpf_fault_record_sites(true);
        assert_true(flow->run(true));
        ebpf_fault_record_sites(false);
        size_t warm_count = ebpf_fault_sites(recorded, SITES_MAX);
        for (size_t i = 0; i < warm_count; i++)
            warm[i] = strdup(recorded[i]);
        char *record_arguments[] = {"fault_flows_test", "--record-first", (char *)flow->name, list,
                                    NULL};
        assert_int_equal(spawn_self(record_arguments), 0);
        size_t first_count = 0;
        char line[1024];
        FILE *file = fopen(list, "r");
        assert_non_null(file);
        while (first_count < SITES_MAX && fgets(line, sizeof(line), file) != NULL) {
            line[strcspn(line, "\n")] = '\0';
            first[first_count++] = strdup(line);
        }
        fclose(file);
        unlink(list);

        size_t checked = 0, first_only = 0, sampled = 0;
        for (size_t i = 0; i < first_count; i++) {
            bool only_first = !site_in(warm, warm_count, first[i]);
            if (!full && !only_first &&
                (sampled >= FIRST_USE_SAMPLE || i % (first_count / FIRST_USE_SAMPLE + 1) != 0))
                continue;
            first_only += only_first;
            sampled += !only_first;
            char *arguments[] = {"fault_flows_test", "--first-use", (char *)flow->name, first[i],
                                 NULL};
            int status = spawn_self(arguments);
            if (status != 0) {
                print_message("%s: failing %s on first use broke the process (status %d)\n",
                              flow->name, first[i], status);
                broken++;
            }
            checked++;
        }
        print_message("%s: first use checked under %zu failing sites (%zu reached only by a "
                      "first run)\n",
                      flow->name, checked, first_only);
        for (size_t i = 0; i < warm_count; i++)
            free(warm[i]);
        for (size_t i = 0; i < first_count; i++)
            free(first[i]);
    }
    assert_int_equal(broken, 0);
}

/* Children of test_first_use_sites. cmocka's asserts end the process with an error outside a
 * test run, which is what the parent looks at. */
static const flow_t *flow_named(const char *name)
{
    for (size_t f = 0; f < EBPF_ARRAY_SIZE(flows); f++)
        if (strcmp(flows[f].name, name) == 0)
            return &flows[f];
    return NULL;
}

static int first_use_child(const char *flow_name, const char *site)
{
    const flow_t *flow = flow_named(flow_name);
    if (flow == NULL)
        return 2;
    ebpf_fault_fail_site(site);
    current_fault = site;
    flow->run(false);
    ebpf_fault_reset();
    return flow->run(true) ? 0 : 1;
}

static int record_first_child(const char *flow_name, const char *list)
{
    static const char *recorded[SITES_MAX];
    const flow_t *flow = flow_named(flow_name);
    if (flow == NULL)
        return 2;
    ebpf_fault_record_sites(true);
    bool ok = flow->run(true);
    ebpf_fault_record_sites(false);
    /* Written before the modules' names could go (they stay mapped: see setup). */
    size_t count = ebpf_fault_sites(recorded, SITES_MAX);
    FILE *file = fopen(list, "w");
    if (file == NULL)
        return 3;
    for (size_t i = 0; i < count; i++)
        fprintf(file, "%s\n", recorded[i]);
    fclose(file);
    return ok ? 0 : 1;
}

static void quiet_log(ebpf_log_level_t level, const char *message, void *context)
{
}

static int setup(void **state)
{
    /* Site names of the modules live in their code: keep the code mapped across unloads so a
     * recorded name stays readable (start and stop still run on every load and unload). */
    static const char *modules[] = {"neteventebpfext.so", "netevent_sim.so"};
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(modules); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", EBPF_TEST_MODULE_DIR, modules[i]);
        if (dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) == NULL) {
            fprintf(stderr, "setup: %s\n", dlerror());
            return -1;
        }
    }
    if (netevent_test_host_prepare() != 0) {
        fprintf(stderr, "setup: %s\n", ebpf_last_error());
        return -1;
    }
    /* Thousands of expected failures: their log lines would drown a real report. */
    if (getenv("EBPF_FAULT_VERBOSE") == NULL) {
        ebpf_log_set_sink(quiet_log, NULL);
        libbpf_set_print(NULL);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registrar_sites),  cmocka_unit_test(test_registrar_nth),
        cmocka_unit_test(test_core_sites),       cmocka_unit_test(test_core_nth),
        cmocka_unit_test(test_extension_sites),  cmocka_unit_test(test_extension_nth),
        cmocka_unit_test(test_end_to_end_sites), cmocka_unit_test(test_end_to_end_nth),
        cmocka_unit_test(test_first_use_sites),
    };
    if (argc == 4 &&
        (strcmp(argv[1], "--first-use") == 0 || strcmp(argv[1], "--record-first") == 0)) {
        void *unused;
        if (setup(&unused) != 0)
            return 3;
        return strcmp(argv[1], "--first-use") == 0 ? first_use_child(argv[2], argv[3])
                                                   : record_first_child(argv[2], argv[3]);
    }
    /* -f name runs one flow's two sweeps (for debugging a failure). */
    if (argc == 3 && strcmp(argv[1], "-f") == 0) {
        const char *filter = argv[2];
        char pattern[64];
        snprintf(pattern, sizeof(pattern), "test_%s_*", filter);
        cmocka_set_test_filter(pattern);
    }
    return cmocka_run_group_tests(tests, setup, NULL);
}
