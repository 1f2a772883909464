/* Tests of the netevent_sim module loaded in-process: events, intervals, parameters, several
 * clients, rebinding, unload while pushing, statistics and allocation failures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebpf_platform.h"
#include "netevent_sim.h"
#include "provider_test_support.h"

static test_module_t sim_module;
static netevent_sim_get_statistics_fn get_statistics;
static char store_dir[512];

static netevent_sim_statistics_t statistics(void)
{
    netevent_sim_statistics_t s;
    memset(&s, 0, sizeof(s));
    s.header.version = NETEVENT_SIM_STATISTICS_VERSION;
    s.header.size = sizeof(s);
    assert_int_equal(get_statistics(&s), 0);
    return s;
}

static int sim_start(const char *parameters)
{
    int rc = sim_module.descriptor->start(parameters);
    if (rc != 0)
        print_message("start(\"%s\"): %s\n", parameters ? parameters : "", ebpf_last_error());
    return rc;
}

static void sim_stop(void)
{
    sim_module.descriptor->stop();
}

/* Every statistic agrees with what one client bound throughout saw. */
static void assert_consistent_with(const test_client_t *client)
{
    netevent_sim_statistics_t s = statistics();
    assert_int_equal(s.events_produced, s.events_pushed + s.events_refused);
    assert_int_equal(s.events_produced, atomic_load(&client->events));
    assert_int_equal(s.events_refused, atomic_load(&client->refused));
}

static void assert_no_problems(const test_client_t *client)
{
    if (atomic_load(&client->problems) != 0)
        fail_msg("client saw %llu problems, first: %s",
                 (unsigned long long)atomic_load(&client->problems), client->first_problem);
    assert_int_equal(atomic_load(&client->after_stop), 0);
}

static void write_store_parameters(const char *json)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/Parameters", store_dir);
    mkdir(store_dir, 0755);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/Parameters/netevent_sim.json", store_dir);
    if (json == NULL) {
        unlink(path);
        return;
    }
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(json, file);
    fclose(file);
}

static int setup(void **state)
{
    unsetenv(NETEVENT_SIM_ENVIRONMENT_INTERVAL);
    unsetenv(NETEVENT_SIM_ENVIRONMENT_BURST);
    write_store_parameters(NULL);
    return 0;
}

/* After a failed test: nothing left running for the next one. */
static int teardown(void **state)
{
    sim_stop();
    test_clients_deregister_all();
    return 0;
}

static void test_module_exports(void **state)
{
    netevent_sim_statistics_t s;

    assert_string_equal(sim_module.descriptor->name, "netevent_sim");
    assert_non_null(get_statistics);
    assert_int_equal(get_statistics(NULL), -EINVAL);
    memset(&s, 0, sizeof(s));
    s.header.size = 2; /* smaller than a header */
    assert_int_equal(get_statistics(&s), -EINVAL);
    /* An older caller with a shorter struct gets only the fields it knows. */
    memset(&s, 0xff, sizeof(s));
    s.header.size = offsetof(netevent_sim_statistics_t, events_pushed);
    assert_int_equal(sim_start(NULL), 0);
    assert_int_equal(get_statistics(&s), 0);
    assert_int_equal(s.events_produced, 0);
    assert_int_equal(s.events_pushed, UINT64_MAX);
    s = statistics();
    assert_int_equal(s.interval_us, NETEVENT_SIM_DEFAULT_INTERVAL_US);
    assert_int_equal(s.burst, NETEVENT_SIM_DEFAULT_BURST);
    assert_int_equal(s.clients_bound, 0);
    assert_int_equal(sim_start(NULL), -EALREADY);
    sim_stop();
    sim_stop(); /* a second stop is harmless */
}

static void test_events_are_valid_and_varied(void **state)
{
    test_client_t *client = test_client_register(0, TEST_VALIDATE_SIM);
    assert_non_null(client);
    assert_int_equal(sim_start("NetEventInterval=200"), 0);
    assert_int_equal(statistics().clients_bound, 1);
    assert_true(test_client_wait_events(client, 200) >= 200);
    sim_stop();
    atomic_store(&client->source_stopped, true);
    assert_no_problems(client);
    assert_int_equal(atomic_load(&client->sequence_gaps), 0);
    assert_int_equal(atomic_load(&client->detaches), 1);
    /* The mix: both kinds, both transports, tagged frames. */
    assert_true(atomic_load(&client->drops) > 0);
    assert_true(atomic_load(&client->flows) > atomic_load(&client->drops));
    assert_true(atomic_load(&client->tcp) > 0);
    assert_true(atomic_load(&client->udp) > 0);
    assert_true(atomic_load(&client->vlan) > 0);
    assert_consistent_with(client);
    assert_int_equal(atomic_load(&client->last_sequence), statistics().events_produced);
    assert_int_equal(statistics().clients_bound, 0);
    test_client_deregister(client);
}

static void test_interval_and_burst_are_honoured(void **state)
{
    test_client_t *client = test_client_register(0, TEST_VALIDATE_SIM);
    assert_non_null(client);
    uint64_t started = test_monotonic_us();
    assert_int_equal(sim_start("NetEventInterval=1000;NetEventBurst=2"), 0);
    usleep(100000);
    test_client_wait_events(client, 20); /* a loaded machine may need longer */
    sim_stop();
    uint64_t elapsed_us = test_monotonic_us() - started;
    atomic_store(&client->source_stopped, true);
    assert_no_problems(client);

    netevent_sim_statistics_t s = statistics();
    assert_true(s.events_produced >= 20);
    /* The timer never fires more often than its period: at most one tick per millisecond
     * elapsed (plus the one being started), two events each. */
    assert_true(s.events_produced <= 2 * (elapsed_us / 1000 + 2));
    /* Every tick with a client made a full burst; one tick may have found the module
     * stopping. */
    assert_true(s.events_produced == 2 * s.ticks || s.events_produced == 2 * (s.ticks - 1));
    assert_consistent_with(client);
    test_client_deregister(client);
}

static void test_fast_mode_bursts(void **state)
{
    test_client_t *client = test_client_register(0, TEST_VALIDATE_SIM);
    assert_non_null(client);
    assert_int_equal(sim_start("NetEventInterval=0"), 0);
    assert_int_equal(statistics().burst, NETEVENT_SIM_FAST_BURST);
    assert_true(test_client_wait_events(client, 3000) >= 3000);
    sim_stop();
    atomic_store(&client->source_stopped, true);
    assert_no_problems(client);
    netevent_sim_statistics_t s = statistics();
    assert_int_equal(s.events_produced % NETEVENT_SIM_FAST_BURST, 0);
    assert_consistent_with(client);
    test_client_deregister(client);
}

static void test_refused_events_are_counted(void **state)
{
    test_client_t *client = test_client_register(0, TEST_VALIDATE_SIM);
    assert_non_null(client);
    client->refuse_every = 3;
    assert_int_equal(sim_start("NetEventInterval=0;NetEventBurst=16"), 0);
    assert_true(test_client_wait_events(client, 300) >= 300);
    sim_stop();
    atomic_store(&client->source_stopped, true);
    assert_no_problems(client);
    netevent_sim_statistics_t s = statistics();
    assert_true(s.events_refused > 0);
    assert_int_equal(s.events_refused, s.events_produced / 3);
    assert_consistent_with(client);
    test_client_deregister(client);
}

/* Stop while events flow flat out into a slow client: stop returns only when nothing can call
 * the client any more. */
static void test_unload_while_pushing(void **state)
{
    for (int round = 0; round < 5; round++) {
        test_client_t *client = test_client_register(0, TEST_VALIDATE_SIM);
        assert_non_null(client);
        client->push_delay_us = round % 2 ? 50 : 0;
        assert_int_equal(sim_start("NetEventInterval=0"), 0);
        assert_true(test_client_wait_events(client, 500) >= 500);
        sim_stop();
        atomic_store(&client->source_stopped, true);
        usleep(5000);
        assert_no_problems(client);
        assert_int_equal(atomic_load(&client->detaches), 1);
        assert_consistent_with(client);
        test_client_deregister(client);
    }
}

/* The client leaves and comes back while the provider pushes: its detach completes from the
 * timer thread, nothing reaches it while unbound, and events resume with the sequence going on. */
static void test_rebinding(void **state)
{
    test_client_t *client = test_client_register(0, TEST_VALIDATE_SIM);
    assert_non_null(client);
    client->push_delay_us = 20;
    assert_int_equal(sim_start("NetEventInterval=0;NetEventBurst=8"), 0);
    for (int round = 0; round < 10; round++) {
        uint64_t before = atomic_load(&client->events);
        assert_true(test_client_wait_events(client, before + 50) >= before + 50);
        test_client_deregister(client);
        atomic_store(&client->source_stopped, true);
        assert_int_equal(statistics().clients_bound, 0);
        uint64_t ticks = statistics().ticks;
        usleep(2000);
        assert_int_equal(atomic_load(&client->after_stop), 0);
        /* Unbound, the timer stops (the tick that noticed may still count). */
        assert_true(statistics().ticks <= ticks + 1);
        atomic_store(&client->source_stopped, false);
        assert_int_equal(test_client_reregister(client), 0);
        assert_int_equal(statistics().clients_bound, 1);
    }
    assert_true(test_client_wait_events(client, atomic_load(&client->events) + 50) > 0);
    sim_stop();
    atomic_store(&client->source_stopped, true);
    assert_no_problems(client);
    assert_int_equal(atomic_load(&client->attaches), 11);
    assert_int_equal(atomic_load(&client->detaches), 11);
    /* Nothing is produced while nobody is bound, so the sequence has no gaps across rebinds. */
    assert_int_equal(atomic_load(&client->sequence_gaps), 0);
    assert_consistent_with(client);
    test_client_deregister(client);
}

static void test_two_clients_see_every_event(void **state)
{
    test_client_t *first = test_client_register(0, TEST_VALIDATE_SIM);
    test_client_t *second = test_client_register(1, TEST_VALIDATE_SIM);
    assert_non_null(first);
    assert_non_null(second);
    assert_int_equal(sim_start("NetEventInterval=100;NetEventBurst=4"), 0);
    assert_int_equal(statistics().clients_bound, 2);
    assert_true(test_client_wait_events(first, 200) >= 200);
    assert_true(test_client_wait_events(second, 200) >= 200);
    sim_stop();
    atomic_store(&first->source_stopped, true);
    atomic_store(&second->source_stopped, true);
    assert_no_problems(first);
    assert_no_problems(second);
    netevent_sim_statistics_t s = statistics();
    assert_int_equal(atomic_load(&first->events), s.events_produced);
    assert_int_equal(atomic_load(&second->events), s.events_produced);
    assert_int_equal(s.events_pushed + s.events_refused, 2 * s.events_produced);
    test_client_deregister(first);
    test_client_deregister(second);
}

/* A client registered after start binds, and one leaving does not disturb the other. */
static void test_clients_come_and_go(void **state)
{
    test_client_t *first = test_client_register(0, TEST_VALIDATE_SIM);
    assert_non_null(first);
    assert_int_equal(sim_start("NetEventInterval=200;NetEventBurst=2"), 0);
    assert_true(test_client_wait_events(first, 20) >= 20);
    test_client_t *second = test_client_register(1, TEST_VALIDATE_SIM);
    assert_non_null(second);
    assert_int_equal(statistics().clients_bound, 2);
    assert_true(test_client_wait_events(second, 20) >= 20);
    test_client_deregister(first);
    atomic_store(&first->source_stopped, true);
    uint64_t second_events = atomic_load(&second->events);
    assert_true(test_client_wait_events(second, second_events + 20) >= second_events + 20);
    sim_stop();
    atomic_store(&second->source_stopped, true);
    assert_no_problems(first);
    assert_no_problems(second);
    test_client_deregister(second);
}

static void test_parameter_precedence(void **state)
{
    /* Default, then store, then environment over store, then load parameter over both. */
    assert_int_equal(sim_start(NULL), 0);
    assert_int_equal(statistics().interval_us, 1000);
    sim_stop();

    write_store_parameters("{\"NetEventInterval\": 5000, \"NetEventBurst\": 7}");
    assert_int_equal(sim_start(""), 0);
    assert_int_equal(statistics().interval_us, 5000);
    assert_int_equal(statistics().burst, 7);
    sim_stop();

    setenv(NETEVENT_SIM_ENVIRONMENT_INTERVAL, "3000", 1);
    assert_int_equal(sim_start(NULL), 0);
    assert_int_equal(statistics().interval_us, 3000);
    assert_int_equal(statistics().burst, 7);
    sim_stop();

    setenv(NETEVENT_SIM_ENVIRONMENT_BURST, "5", 1);
    assert_int_equal(sim_start("NetEventInterval=250"), 0);
    assert_int_equal(statistics().interval_us, 250);
    assert_int_equal(statistics().burst, 5);
    sim_stop();

    assert_int_equal(sim_start("NetEventInterval=0; NetEventBurst=9"), 0);
    assert_int_equal(statistics().interval_us, 0);
    assert_int_equal(statistics().burst, 9); /* an explicit burst wins over the fast default */
    sim_stop();
}

static void test_bad_parameters_fail_start(void **state)
{
    static const char *const bad[] = {"NetEventInterval=abc", "NetEventInterval=-1",
                                      "NetEventInterval=",    "NetEventInterval=99999999999",
                                      "NetEventBurst=0",      "NetEventBurst=1x"};
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(bad); i++) {
        assert_int_equal(sim_start(bad[i]), -EINVAL);
        assert_non_null(strstr(ebpf_last_error(), "NetEvent"));
    }
    setenv(NETEVENT_SIM_ENVIRONMENT_INTERVAL, "fast", 1);
    assert_int_equal(sim_start(NULL), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), NETEVENT_SIM_ENVIRONMENT_INTERVAL));
    unsetenv(NETEVENT_SIM_ENVIRONMENT_INTERVAL);

    write_store_parameters("{\"NetEventInterval\": ");
    assert_int_equal(sim_start(NULL), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "damaged"));
    write_store_parameters("[1, 2]");
    assert_int_equal(sim_start(NULL), -EINVAL);
    write_store_parameters("{\"NetEventInterval\": \"1000\"}");
    assert_int_equal(sim_start(NULL), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "NetEventInterval"));
    write_store_parameters("{\"NetEventInterval\": 1000, \"NetEventInterval\": 2000}");
    assert_int_equal(sim_start(NULL), -EINVAL);
    /* A store file without the key, or with other keys, is fine. */
    write_store_parameters("{\"Other\": true}");
    assert_int_equal(sim_start(NULL), 0);
    assert_int_equal(statistics().interval_us, 1000);
    sim_stop();
}

/* Each allocation of start and of binding a client, failed in turn: start or the binding
 * fails cleanly, and everything is freed once stopped. */
static void test_allocation_failures(void **state)
{
    int64_t baseline = ebpf_allocation_outstanding();
    bool bound_without_failure = false;

    for (uint64_t n = 1; n < 50 && !bound_without_failure; n++) {
        test_client_t *client = NULL;
        ebpf_fault_fail_nth(n);
        int rc = sim_start("NetEventInterval=1000000");
        if (rc == 0)
            client = test_client_register(0, TEST_VALIDATE_SIM);
        bound_without_failure = ebpf_fault_injected_count() == 0;
        ebpf_fault_reset();
        if (rc != 0) {
            assert_int_equal(rc, -ENOMEM);
        } else {
            netevent_sim_statistics_t s = statistics();
            if (client != NULL)
                assert_true(s.clients_bound <= 1);
            sim_stop();
        }
        if (client != NULL)
            test_client_deregister(client);
        ebpf_epoch_barrier();
        assert_int_equal(ebpf_allocation_outstanding(), baseline);
    }
    assert_true(bound_without_failure);
}

static const netevent_client_dispatch_t *bad_dispatch;
static _Atomic int bad_attach_result;

static int bad_client_attach(nmr_binding_t *binding, void *client_context,
                             const nmr_registration_instance_t *provider)
{
    void *provider_binding_context;
    const void *provider_dispatch;
    int rc = nmr_client_attach_provider(binding, NULL, bad_dispatch, &provider_binding_context,
                                        &provider_dispatch);
    atomic_store(&bad_attach_result, rc);
    return rc;
}

static int bad_client_detach(void *client_binding_context)
{
    return 0;
}

/* The simulator checks a client's dispatch table before keeping it. */
static void test_bad_client_dispatch_is_refused(void **state)
{
    static const netevent_client_dispatch_t no_entries = {
        EBPF_EXTENSION_HEADER(NETEVENT_CLIENT_DISPATCH_VERSION, netevent_client_dispatch_t),
        0,
        {NULL}};
    static const netevent_client_dispatch_t too_small = {
        {NETEVENT_CLIENT_DISPATCH_VERSION, 0, sizeof(ebpf_extension_header_t)}, 1, {NULL}};
    static const netevent_client_dispatch_t old_version = {
        {0, 0, sizeof(netevent_client_dispatch_t)}, 1, {NULL}};
    static const nmr_module_id_t module = {0x7e57c1e0, 0x00ff, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 9}};
    static const nmr_client_characteristics_t characteristics = {
        NMR_CHARACTERISTICS_VERSION,
        sizeof(nmr_client_characteristics_t),
        bad_client_attach,
        bad_client_detach,
        NULL,
        {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &NETEVENT_NPI_ID,
         &module, 0, NULL}};
    const netevent_client_dispatch_t *const dispatches[] = {NULL, &no_entries, &too_small,
                                                            &old_version};
    nmr_client_t *client;

    assert_int_equal(sim_start(NULL), 0);
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(dispatches); i++) {
        bad_dispatch = dispatches[i];
        atomic_store(&bad_attach_result, 0);
        assert_int_equal(nmr_register_client(&characteristics, NULL, &client), 0);
        assert_int_equal(atomic_load(&bad_attach_result), -EINVAL);
        assert_non_null(strstr(ebpf_last_error(), "push_event"));
        assert_int_equal(statistics().clients_bound, 0);
        assert_true(nmr_deregister_client(client) >= 0);
        assert_int_equal(nmr_wait_for_client_deregister_complete(client), 0);
    }
    sim_stop();
    assert_int_equal(statistics().events_produced, 0);
}

int main(void)
{
    const char *store = getenv("EBPF_STORE_DIR");
    bool private_store = store == NULL || store[0] == '\0';
    if (!private_store) {
        snprintf(store_dir, sizeof(store_dir), "%s", store);
    } else {
        snprintf(store_dir, sizeof(store_dir), "/tmp/netevent_sim_test_XXXXXX");
        if (mkdtemp(store_dir) == NULL)
            return 1;
        setenv("EBPF_STORE_DIR", store_dir, 1);
    }
    char parent[600];
    snprintf(parent, sizeof(parent), "%s", store_dir);
    char *slash = strrchr(parent, '/');
    if (slash != NULL && slash != parent) {
        *slash = '\0';
        mkdir(parent, 0755);
    }
    if (test_module_load(NETEVENT_SIM_MODULE_PATH, &sim_module) != 0)
        return 1;
    get_statistics = (netevent_sim_get_statistics_fn)test_module_symbol(
        &sim_module, NETEVENT_SIM_STATISTICS_SYMBOL);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_module_exports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_are_valid_and_varied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_and_burst_are_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_mode_bursts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_events_are_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unload_while_pushing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebinding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_clients_see_every_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clients_come_and_go, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameter_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_parameters_fail_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_client_dispatch_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_module_unload(&sim_module);
    write_store_parameters(NULL);
    if (private_store) {
        char path[700];
        snprintf(path, sizeof(path), "%s/Parameters", store_dir);
        rmdir(path);
        rmdir(store_dir);
    }
    return failed;
}
