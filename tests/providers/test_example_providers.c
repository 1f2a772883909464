/* Tests of the example provider modules (examples/provider) loaded in-process: the burst on
 * start and the replay of a hex file, with the client validating every event. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebpf_platform.h"
#include "provider_test_support.h"

#define SAMPLE_EVENT_COUNT 9 /* lines with an event in sample_events.hex */

static test_module_t burst_module;
static test_module_t replay_module;

static void assert_clean(const test_client_t *client)
{
    if (atomic_load(&client->problems) != 0)
        fail_msg("client saw %llu problems, first: %s",
                 (unsigned long long)atomic_load(&client->problems), client->first_problem);
    assert_int_equal(atomic_load(&client->after_stop), 0);
}

/* After a failed test: nothing left running for the next one. */
static int teardown(void **state)
{
    burst_module.descriptor->stop();
    replay_module.descriptor->stop();
    test_clients_deregister_all();
    return 0;
}

static void test_burst_on_start(void **state)
{
    const ebpf_module_descriptor_t *burst = burst_module.descriptor;
    assert_string_equal(burst->name, "netevent_burst");

    /* Nobody bound: the burst goes nowhere. */
    assert_int_equal(burst->start(NULL), 0);
    assert_int_equal(burst->start(NULL), -EALREADY);
    burst->stop();

    test_client_t *first = test_client_register(0, TEST_VALIDATE_DECODES);
    test_client_t *second = test_client_register(1, TEST_VALIDATE_DECODES);
    assert_non_null(first);
    assert_non_null(second);
    assert_int_equal(burst->start("Count=40"), 0);
    /* The burst is pushed before start returns, to each client. */
    assert_int_equal(atomic_load(&first->events), 40);
    assert_int_equal(atomic_load(&second->events), 40);
    burst->stop();
    atomic_store(&first->source_stopped, true);
    atomic_store(&second->source_stopped, true);
    assert_int_equal(atomic_load(&first->detaches), 1);
    assert_clean(first);
    assert_clean(second);
    test_client_deregister(first);
    test_client_deregister(second);

    assert_int_equal(burst->start("Count=many"), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "Count"));
}

static void test_replay_sample_file(void **state)
{
    const ebpf_module_descriptor_t *replay = replay_module.descriptor;
    char parameters[1024];
    assert_string_equal(replay->name, "netevent_replay");

    test_client_t *client = test_client_register(0, TEST_VALIDATE_DECODES);
    assert_non_null(client);
    snprintf(parameters, sizeof(parameters), "File=%s;Interval=0", NETEVENT_REPLAY_SAMPLE);
    assert_int_equal(replay->start(parameters), 0);
    assert_int_equal(test_client_wait_events(client, SAMPLE_EVENT_COUNT), SAMPLE_EVENT_COUNT);
    usleep(10000); /* played once: nothing more comes */
    assert_int_equal(atomic_load(&client->events), SAMPLE_EVENT_COUNT);
    replay->stop();
    atomic_store(&client->source_stopped, true);
    assert_clean(client);

    /* In a loop, to a client that binds after start; stop while it plays. */
    test_client_deregister(client);
    snprintf(parameters, sizeof(parameters), "File=%s;Interval=0;Loop=1", NETEVENT_REPLAY_SAMPLE);
    assert_int_equal(replay->start(parameters), 0);
    client = test_client_register(0, TEST_VALIDATE_DECODES);
    assert_non_null(client);
    assert_true(test_client_wait_events(client, 5 * SAMPLE_EVENT_COUNT) >= 5 * SAMPLE_EVENT_COUNT);
    replay->stop();
    atomic_store(&client->source_stopped, true);
    usleep(2000);
    assert_clean(client);
    test_client_deregister(client);
}

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static void test_replay_rejects_bad_files(void **state)
{
    const ebpf_module_descriptor_t *replay = replay_module.descriptor;
    static const struct {
        const char *content;
        const char *reason;
    } cases[] = {
        {"# nothing\n\n", "holds no event"},
        {"65 01 20 00\n", "shorter than an event header"},
        {"650\n", "odd number"},
        {"# fine\n6501zz\n", ":2: 'z' is not a hex digit"},
    };
    char path[] = "/tmp/netevent_replay_test_XXXXXX";
    char parameters[128];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);

    for (size_t i = 0; i < EBPF_ARRAY_SIZE(cases); i++) {
        write_file(path, cases[i].content);
        snprintf(parameters, sizeof(parameters), "File=%s", path);
        assert_int_equal(replay->start(parameters), -EINVAL);
        if (strstr(ebpf_last_error(), cases[i].reason) == NULL)
            fail_msg("\"%s\" does not mention \"%s\"", ebpf_last_error(), cases[i].reason);
    }
    unlink(path);
    assert_int_equal(replay->start("File=/nonexistent/events.hex"), -ENOENT);
    unsetenv("NETEVENT_REPLAY_FILE");
    assert_int_equal(replay->start(NULL), -EINVAL);
    snprintf(parameters, sizeof(parameters), "File=%s;Interval=soon", NETEVENT_REPLAY_SAMPLE);
    assert_int_equal(replay->start(parameters), -EINVAL);
    /* The environment names the file when the parameter does not. */
    setenv("NETEVENT_REPLAY_FILE", NETEVENT_REPLAY_SAMPLE, 1);
    assert_int_equal(replay->start(NULL), 0);
    replay->stop();
    unsetenv("NETEVENT_REPLAY_FILE");
}

int main(void)
{
    if (test_module_load(NETEVENT_BURST_MODULE_PATH, &burst_module) != 0 ||
        test_module_load(NETEVENT_REPLAY_MODULE_PATH, &replay_module) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_burst_on_start, teardown),
        cmocka_unit_test_teardown(test_replay_sample_file, teardown),
        cmocka_unit_test_teardown(test_replay_rejects_bad_files, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_module_unload(&replay_module);
    test_module_unload(&burst_module);
    return failed;
}
