/* Tests of the providers' shared settings: precedence of load parameter, environment and store,
 * the store file's location, and wrong values. */
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
#include "netevent_provider_common.h"

static char work_dir[256];

static const netevent_provider_setting_t setting = {
    "settings_test", "Speed", "SETTINGS_TEST_SPEED", 10, 1, 1000};

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static void test_precedence(void **state)
{
    char store[512], path[600];
    uint64_t value;
    netevent_setting_source_t source;

    snprintf(store, sizeof(store), "%s/store", work_dir);
    setenv("EBPF_STORE_DIR", store, 1);
    unsetenv(setting.environment);
    assert_int_equal(netevent_provider_setting_read(&setting, NULL, &value, &source), 0);
    assert_int_equal(value, 10);
    assert_int_equal(source, NETEVENT_SETTING_DEFAULT);
    assert_string_equal(netevent_setting_source_name(source), "default");

    mkdir(store, 0755);
    snprintf(path, sizeof(path), "%s/Parameters", store);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/Parameters/settings_test.json", store);
    write_file(path, "{\"Speed\": 20}");
    assert_int_equal(netevent_provider_setting_read(&setting, "Other=1", &value, &source), 0);
    assert_int_equal(value, 20);
    assert_int_equal(source, NETEVENT_SETTING_STORE);

    setenv(setting.environment, "30", 1);
    assert_int_equal(netevent_provider_setting_read(&setting, NULL, &value, &source), 0);
    assert_int_equal(value, 30);
    assert_int_equal(source, NETEVENT_SETTING_ENVIRONMENT);

    assert_int_equal(netevent_provider_setting_read(&setting, "Speed=40", &value, &source), 0);
    assert_int_equal(value, 40);
    assert_int_equal(source, NETEVENT_SETTING_LOAD_PARAMETER);

    /* Out of range anywhere is an error naming the place, never the default. */
    assert_int_equal(netevent_provider_setting_read(&setting, "Speed=0", &value, NULL), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "load parameter Speed=\"0\""));
    assert_int_equal(
        netevent_provider_setting_read(&setting, "Speed=99999999999999999999999", &value, NULL),
        -EINVAL);
    char long_value[200] = "Speed=";
    memset(long_value + 6, '1', sizeof(long_value) - 7);
    assert_int_equal(netevent_provider_setting_read(&setting, long_value, &value, NULL), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "load parameter Speed"));
    setenv(setting.environment, "1001", 1);
    assert_int_equal(netevent_provider_setting_read(&setting, NULL, &value, NULL), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "SETTINGS_TEST_SPEED"));
    unsetenv(setting.environment);
    write_file(path, "{\"Speed\": 0}");
    assert_int_equal(netevent_provider_setting_read(&setting, NULL, &value, NULL), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), path));
    write_file(path, "{\"Speed\": -5}");
    assert_int_equal(netevent_provider_setting_read(&setting, NULL, &value, NULL), -EINVAL);
    write_file(path, "not json");
    assert_int_equal(netevent_provider_setting_read(&setting, NULL, &value, NULL), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "damaged"));
    unlink(path);
    assert_int_equal(netevent_provider_setting_read(NULL, NULL, &value, NULL), -EINVAL);
}

/* Without EBPF_STORE_DIR: the user store's file when it exists, else the system store's. */
static void test_parameter_file_location(void **state)
{
    char path[700], expected[700], data[512];

    unsetenv("EBPF_STORE_DIR");
    snprintf(data, sizeof(data), "%s/data", work_dir);
    setenv("XDG_DATA_HOME", data, 1);
    assert_int_equal(netevent_provider_parameter_file("m", path, sizeof(path)), 0);
    assert_string_equal(path, "/var/lib/ebpf/store/Parameters/m.json");

    snprintf(expected, sizeof(expected), "%s/ebpf", data);
    mkdir(data, 0755);
    mkdir(expected, 0755);
    snprintf(expected, sizeof(expected), "%s/ebpf/store", data);
    mkdir(expected, 0755);
    snprintf(expected, sizeof(expected), "%s/ebpf/store/Parameters", data);
    mkdir(expected, 0755);
    snprintf(expected, sizeof(expected), "%s/ebpf/store/Parameters/m.json", data);
    write_file(expected, "{}");
    assert_int_equal(netevent_provider_parameter_file("m", path, sizeof(path)), 0);
    assert_string_equal(path, expected);
    unlink(expected);

    unsetenv("XDG_DATA_HOME");
    setenv("HOME", work_dir, 1);
    assert_int_equal(netevent_provider_parameter_file("m", path, sizeof(path)), 0);
    assert_string_equal(path, "/var/lib/ebpf/store/Parameters/m.json");
    assert_int_equal(netevent_provider_parameter_file("m", path, 10), -ENAMETOOLONG);

    setenv("EBPF_STORE_DIR", "/some/where", 1);
    assert_int_equal(netevent_provider_parameter_file("m", path, sizeof(path)), 0);
    assert_string_equal(path, "/some/where/Parameters/m.json");
}

int main(void)
{
    snprintf(work_dir, sizeof(work_dir), "/tmp/provider_settings_XXXXXX");
    if (mkdtemp(work_dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_parameter_file_location),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* Whatever a failed test left, then the folders. */
    char file[600];
    snprintf(file, sizeof(file), "%s/store/Parameters/settings_test.json", work_dir);
    unlink(file);
    snprintf(file, sizeof(file), "%s/data/ebpf/store/Parameters/m.json", work_dir);
    unlink(file);
    static const char *const directories[] = {"store/Parameters",
                                              "store",
                                              "data/ebpf/store/Parameters",
                                              "data/ebpf/store",
                                              "data/ebpf",
                                              "data",
                                              ""};
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(directories); i++) {
        char path[600];
        snprintf(path, sizeof(path), "%s/%s", work_dir, directories[i]);
        rmdir(path);
    }
    return failed;
}
