/* What the project's provider modules share: settings resolved from load parameters, the
 * environment and the store's Parameters folder. */
#ifndef NETEVENT_PROVIDER_COMMON_H
#define NETEVENT_PROVIDER_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where a setting's value came from, strongest first. */
typedef enum netevent_setting_source {
    NETEVENT_SETTING_LOAD_PARAMETER,
    NETEVENT_SETTING_ENVIRONMENT,
    NETEVENT_SETTING_STORE,
    NETEVENT_SETTING_DEFAULT,
} netevent_setting_source_t;

/* One unsigned setting of a module, e.g. the simulator's interval:
 * {"netevent_sim", "NetEventInterval", "NETEVENT_SIM_INTERVAL_US", 1000, 0, 60000000}. */
typedef struct netevent_provider_setting {
    const char *module_name; /* the store file is <store>/Parameters/<module_name>.json */
    const char *key;         /* load-parameter key and store key */
    const char *environment; /* environment variable, or NULL */
    uint64_t default_value;
    uint64_t minimum;
    uint64_t maximum;
} netevent_provider_setting_t;

/* Resolves a setting: load parameter > environment > store file > default. A value that is
 * present but not a decimal number within [minimum, maximum], or a store file that is not
 * a JSON object, is -EINVAL with the place named (never silently replaced by the default).
 * source may be NULL. */
int netevent_provider_setting_read(const netevent_provider_setting_t *setting,
                                   const char *parameters, uint64_t *value,
                                   netevent_setting_source_t *source);

const char *netevent_setting_source_name(netevent_setting_source_t source);

/* The parameter file read for module_name: under $EBPF_STORE_DIR when set; otherwise the user
 * store's file when it exists, else the system store's. -ENAMETOOLONG when it does not fit. */
int netevent_provider_parameter_file(const char *module_name, char *path, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* NETEVENT_PROVIDER_COMMON_H */
