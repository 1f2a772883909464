/* Modules ("drivers" in the Windows model): shared objects with a start and a stop function that
 * a host loads at run time (neteventebpfext.so, netevent_sim.so, third-party ones). */
#ifndef EBPF_MODULE_H
#define EBPF_MODULE_H

#include "ebpf_extension_header.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a module exports, under the symbol EBPF_MODULE_ENTRY_SYMBOL. */
typedef struct ebpf_module_descriptor {
    ebpf_extension_header_t header; /* EBPF_MODULE_DESCRIPTOR_VERSION */
    const char *name;               /* "netevent_sim" */
    /* Registers the module's providers and clients with the registrar. parameters is a
     * "key=value;key=value" string (load parameters), or NULL. 0 or a negative errno. */
    int (*start)(const char *parameters);
    /* Deregisters everything and waits until no callback into the module can run: after it
     * returns, the host unloads the code. */
    void (*stop)(void);
} ebpf_module_descriptor_t;
#define EBPF_MODULE_DESCRIPTOR_VERSION 1
#define EBPF_MODULE_ENTRY_SYMBOL       "ebpf_module_entry"

/* Declares a module's entry: EBPF_MODULE_DEFINE("netevent_sim", sim_start, sim_stop); */
#define EBPF_MODULE_DEFINE(name_, start_, stop_)                                                   \
    __attribute__((visibility("default"))) const ebpf_module_descriptor_t ebpf_module_entry = {    \
        EBPF_EXTENSION_HEADER(EBPF_MODULE_DESCRIPTOR_VERSION, ebpf_module_descriptor_t), (name_),  \
        (start_), (stop_)}

/* Reads one value from a module's parameter string ("NetEventInterval=250;x=1"): copies it
 * into value and returns 0, or -ENOENT when the key is absent. */
int ebpf_module_parameter(const char *parameters, const char *key, char *value, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_MODULE_H */
