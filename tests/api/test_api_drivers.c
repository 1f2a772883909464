/* Tests of module ("driver") loading: by name from EBPF_DRIVER_PATH, by path, start and stop,
 * loading twice, and the errors for a missing file, a non-module and a failed start. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebpf_api.h"
#include "ebpf_platform.h"

static int starts, stops;
static char last_parameters[256];

/* Called by api_test_module.so (resolved against this executable's exported symbols). */
__attribute__((visibility("default"))) void api_test_module_event(const char *event,
                                                                  const char *parameters);

void api_test_module_event(const char *event, const char *parameters)
{
    if (strcmp(event, "start") == 0) {
        starts++;
        snprintf(last_parameters, sizeof(last_parameters), "%s",
                 parameters != NULL ? parameters : "(none)");
    } else {
        stops++;
    }
}

static void test_load_and_unload_by_name(void **state)
{
    ebpf_driver_t *driver = NULL;

    starts = stops = 0;
    assert_int_equal(ebpf_driver_load("api_test_module", "NetEventInterval=5", &driver), 0);
    assert_non_null(driver);
    assert_int_equal(starts, 1);
    assert_int_equal(stops, 0);
    assert_string_equal(last_parameters, "NetEventInterval=5");
    assert_string_equal(ebpf_driver_name(driver), "api_test_module");
    assert_string_equal(ebpf_driver_path(driver), API_TEST_MODULE_DIR "/api_test_module.so");

    /* Twice: -EEXIST, by name or by path, and the first stays loaded. */
    ebpf_driver_t *second = NULL;
    assert_int_equal(ebpf_driver_load("api_test_module", NULL, &second), -EEXIST);
    assert_int_equal(errno, EEXIST);
    assert_null(second);
    assert_non_null(strstr(ebpf_last_error(), "loaded already"));
    assert_int_equal(ebpf_driver_load(API_TEST_MODULE_DIR "/api_test_module.so", NULL, &second),
                     -EEXIST);
    assert_int_equal(starts, 1);

    assert_int_equal(ebpf_driver_unload(driver), 0);
    assert_int_equal(stops, 1);
    assert_int_equal(ebpf_driver_unload(NULL), 0);

    /* Loaded again after the unload, with the ".so" spelled out and no parameters. */
    assert_int_equal(ebpf_driver_load("api_test_module.so", NULL, &driver), 0);
    assert_int_equal(starts, 2);
    assert_string_equal(last_parameters, "(none)");
    assert_int_equal(ebpf_driver_unload(driver), 0);
    assert_int_equal(stops, 2);
}

static void test_load_by_path(void **state)
{
    ebpf_driver_t *driver;
    starts = stops = 0;
    assert_int_equal(ebpf_driver_load(API_TEST_MODULE_DIR "/api_test_module.so", "", &driver), 0);
    assert_int_equal(starts, 1);
    assert_int_equal(ebpf_driver_unload(driver), 0);
    assert_int_equal(stops, 1);
}

static void test_missing_module(void **state)
{
    ebpf_driver_t *driver = NULL;
    assert_int_equal(ebpf_driver_load("no_such_module", NULL, &driver), -ENOENT);
    assert_int_equal(errno, ENOENT);
    assert_null(driver);
    /* The message names the file and where it looked, the build tree included. */
    const char *message = ebpf_last_error();
    assert_non_null(strstr(message, "no_such_module.so"));
    assert_non_null(strstr(message, API_TEST_MODULE_DIR));
    assert_non_null(strstr(message, "/nonexistent/modules"));
    assert_int_equal(ebpf_driver_load("/nonexistent/dir/x.so", NULL, &driver), -ENOENT);
    assert_int_equal(ebpf_driver_load("", NULL, &driver), -EINVAL);
    assert_int_equal(ebpf_driver_load(NULL, NULL, &driver), -EINVAL);
}

static void test_not_a_module(void **state)
{
    ebpf_driver_t *driver = NULL;
    assert_int_equal(ebpf_driver_load("api_test_not_a_module", NULL, &driver), -ENOEXEC);
    assert_int_equal(errno, ENOEXEC);
    assert_non_null(strstr(ebpf_last_error(), "ebpf_module_entry"));
    assert_null(driver);
    /* Something that is no shared object at all. */
    assert_int_equal(ebpf_driver_load(API_TEST_SOURCE_DIR "/api_test_module.c", NULL, &driver),
                     -ENOEXEC);
}

static void test_start_failure(void **state)
{
    ebpf_driver_t *driver = NULL;
    starts = stops = 0;
    assert_int_equal(ebpf_driver_load("api_test_module", "fail=1", &driver), -EPROTO);
    assert_null(driver);
    assert_int_equal(starts, 1);
    assert_int_equal(stops, 0);
    assert_non_null(strstr(ebpf_last_error(), "api_test_module: start failed"));
    /* Not left loaded: it loads again. */
    assert_int_equal(ebpf_driver_load("api_test_module", NULL, &driver), 0);
    assert_int_equal(ebpf_driver_unload(driver), 0);
    assert_int_equal(ebpf_driver_unload((ebpf_driver_t *)&starts), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_unload_by_name), cmocka_unit_test(test_load_by_path),
        cmocka_unit_test(test_missing_module),          cmocka_unit_test(test_not_a_module),
        cmocka_unit_test(test_start_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
