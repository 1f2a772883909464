/* Settings of provider modules: load parameter > environment > store parameter file >
 * default, with every present-but-wrong value reported rather than ignored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "ebpf_module.h"
#include "ebpf_platform.h"
#include "netevent_provider_common.h"

#define SYSTEM_STORE_ROOT "/var/lib/ebpf/store"

const char *netevent_setting_source_name(netevent_setting_source_t source)
{
    switch (source) {
    case NETEVENT_SETTING_LOAD_PARAMETER:
        return "load parameter";
    case NETEVENT_SETTING_ENVIRONMENT:
        return "environment";
    case NETEVENT_SETTING_STORE:
        return "store";
    default:
        return "default";
    }
}

static int join_path(char *path, size_t size, const char *root, const char *middle,
                     const char *module_name)
{
    int n = snprintf(path, size, "%s%s/Parameters/%s.json", root, middle, module_name);
    if (n < 0 || (size_t)n >= size)
        return ebpf_error(-ENAMETOOLONG, "store parameter file path for %s is too long",
                          module_name);
    return 0;
}

int netevent_provider_parameter_file(const char *module_name, char *path, size_t size)
{
    const char *store = getenv("EBPF_STORE_DIR");
    const char *data_home = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int rc;

    if (store != NULL && store[0] != '\0')
        return join_path(path, size, store, "", module_name);
    /* The user store first, as for every store read; the system store when it has no file. */
    if (data_home != NULL && data_home[0] != '\0')
        rc = join_path(path, size, data_home, "/ebpf/store", module_name);
    else if (home != NULL && home[0] != '\0')
        rc = join_path(path, size, home, "/.local/share/ebpf/store", module_name);
    else
        rc = -ENOENT;
    if (rc == 0 && access(path, F_OK) == 0)
        return 0;
    return join_path(path, size, SYSTEM_STORE_ROOT, "", module_name);
}

/* Strict decimal: digits only, no sign, no overflow. */
static int parse_unsigned(const char *text, uint64_t *value)
{
    uint64_t result = 0;
    if (text[0] == '\0')
        return -EINVAL;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return -EINVAL;
        unsigned digit = (unsigned)(*c - '0');
        if (result > (UINT64_MAX - digit) / 10)
            return -ERANGE;
        result = result * 10 + digit;
    }
    *value = result;
    return 0;
}

static int check_range(const netevent_provider_setting_t *setting, const char *origin,
                       const char *text, int parse_rc, uint64_t value)
{
    if (parse_rc != 0 || value < setting->minimum || value > setting->maximum)
        return ebpf_error(-EINVAL, "%s: %s %s=\"%s\" is not a whole number from %llu to %llu",
                          setting->module_name, origin, setting->key, text,
                          (unsigned long long)setting->minimum,
                          (unsigned long long)setting->maximum);
    return 0;
}

/* 0 with *found set when the store file has the key, 0 with *found false when the file or the
 * key is absent, -EINVAL when the file is damaged or the value wrong. */
static int read_store(const netevent_provider_setting_t *setting, uint64_t *value, bool *found)
{
    char path[4096];
    json_error_t error;
    int rc;

    *found = false;
    rc = netevent_provider_parameter_file(setting->module_name, path, sizeof(path));
    if (rc != 0)
        return rc;
    if (access(path, F_OK) != 0)
        return 0;
    json_t *document = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    if (document == NULL)
        return ebpf_error(-EINVAL, "%s: store parameter file %s is damaged: %s (line %d)",
                          setting->module_name, path, error.text, error.line);
    if (!json_is_object(document)) {
        json_decref(document);
        return ebpf_error(-EINVAL, "%s: store parameter file %s is not a JSON object",
                          setting->module_name, path);
    }
    json_t *entry = json_object_get(document, setting->key);
    if (entry == NULL) {
        json_decref(document);
        return 0;
    }
    if (!json_is_integer(entry) || json_integer_value(entry) < 0 ||
        (uint64_t)json_integer_value(entry) < setting->minimum ||
        (uint64_t)json_integer_value(entry) > setting->maximum) {
        json_decref(document);
        return ebpf_error(
            -EINVAL, "%s: store parameter %s in %s is not a whole number from %llu to %llu",
            setting->module_name, setting->key, path, (unsigned long long)setting->minimum,
            (unsigned long long)setting->maximum);
    }
    *value = (uint64_t)json_integer_value(entry);
    *found = true;
    json_decref(document);
    return 0;
}

int netevent_provider_setting_read(const netevent_provider_setting_t *setting,
                                   const char *parameters, uint64_t *value,
                                   netevent_setting_source_t *source)
{
    char text[64];
    uint64_t result = 0;
    netevent_setting_source_t origin;
    bool found;
    int rc;

    if (setting == NULL || value == NULL)
        return ebpf_error(-EINVAL, "provider setting: setting and value are required");

    rc = ebpf_module_parameter(parameters, setting->key, text, sizeof(text));
    if (rc == 0) {
        rc = parse_unsigned(text, &result);
        rc = check_range(setting, "load parameter", text, rc, result);
        origin = NETEVENT_SETTING_LOAD_PARAMETER;
        goto done;
    }
    if (rc != -ENOENT)
        return ebpf_error_prefix(-EINVAL, "%s: load parameter %s: ", setting->module_name,
                                 setting->key);

    const char *environment = setting->environment ? getenv(setting->environment) : NULL;
    if (environment != NULL) {
        rc = parse_unsigned(environment, &result);
        if (rc != 0 || result < setting->minimum || result > setting->maximum)
            return ebpf_error(
                -EINVAL, "%s: environment %s=\"%s\" is not a whole number from %llu to %llu",
                setting->module_name, setting->environment, environment,
                (unsigned long long)setting->minimum, (unsigned long long)setting->maximum);
        origin = NETEVENT_SETTING_ENVIRONMENT;
        goto done;
    }

    rc = read_store(setting, &result, &found);
    if (rc != 0)
        return rc;
    if (found) {
        origin = NETEVENT_SETTING_STORE;
    } else {
        result = setting->default_value;
        origin = NETEVENT_SETTING_DEFAULT;
    }

done:
    if (rc != 0)
        return rc;
    *value = result;
    if (source != NULL)
        *source = origin;
    return 0;
}
