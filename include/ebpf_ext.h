/* The extension kit: what every extension needs to offer a program type and a hook to the eBPF
 * core through the registrar (program-information provider, hook provider with the attached
 * links and their rundown). */
#ifndef EBPF_EXT_H
#define EBPF_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpf_extension.h"
#include "ebpf_program_info.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * Program-information provider: module id = the program type GUID of the data.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_ext_program_info_provider ebpf_ext_program_info_provider_t;

/* data must outlive the provider. Programs of the type bind to it before this returns. */
int ebpf_ext_program_info_provider_register(const ebpf_program_data_t *data,
                                            ebpf_ext_program_info_provider_t **provider);
/* Deregisters and waits until no program is bound (no program can call the type's helpers
 * any more). */
void ebpf_ext_program_info_provider_unregister(ebpf_ext_program_info_provider_t *provider);

/* ------------------------------------------------------------------------------------------
 * Hook provider: one per attach type. Links bind to it; the extension runs their programs for
 * each event with ebpf_ext_hook_invoke. The list of attached links is read without blocking
 * (epochs); a detaching link is unlinked at once, and a worker completes its detach once every
 * invocation that could still see it has left (its rundown), never blocking the registrar's
 * thread.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_ext_hook_provider ebpf_ext_hook_provider_t;

/* A link wants to attach: check its attach parameters and build the per-link state the event
 * path reads (e.g. a filter). Return 0, or a negative errno with ebpf_error() naming what is
 * wrong (the attach then fails with that error and message). Runs on the attaching thread. */
typedef int (*ebpf_ext_hook_attach_fn)(void *context, const ebpf_link_client_data_t *link,
                                       void **link_state);
/* A link has detached and no invocation can see it any more: free its state. Runs on the hook
 * provider's worker thread. */
typedef void (*ebpf_ext_hook_detach_fn)(void *context, void *link_state);

typedef struct ebpf_ext_hook_provider_parameters {
    const ebpf_guid_t *attach_type;
    const ebpf_guid_t *program_type;
    uint32_t bpf_attach_type;
    ebpf_ext_hook_attach_fn attach; /* optional: no parameters accepted without it */
    ebpf_ext_hook_detach_fn detach; /* optional */
    void *context;
    /* Optional: the classes of events a link wants (a bit each, the extension's own
     * numbering), asked once when the link attaches, for ebpf_ext_hook_snapshot_invoke_classes.
     * Without it every link wants every class. */
    uint64_t (*classes)(void *context, const void *link_state);
} ebpf_ext_hook_provider_parameters_t;

int ebpf_ext_hook_provider_register(const ebpf_ext_hook_provider_parameters_t *parameters,
                                    ebpf_ext_hook_provider_t **provider);
/* Deregisters (every link detaches; links stay registered with the core and bind again to a
 * later provider) and waits until every detach completed. */
void ebpf_ext_hook_provider_unregister(ebpf_ext_hook_provider_t *provider);
/* Links attached now. */
uint32_t ebpf_ext_hook_attached_count(ebpf_ext_hook_provider_t *provider);

/* Per-link decision on the event path: false skips the link for this event. */
typedef bool (*ebpf_ext_hook_filter_fn)(const void *link_state, const void *filter_context);
/* Per-link outcome: rc 0 with the program's result, or the invocation's error. */
typedef void (*ebpf_ext_hook_result_fn)(void *result_context, void *link_state, int rc,
                                        uint64_t result);

/* The attached links as one event sees them: taken inside an epoch read section (begin), used
 * for any number of invocations, released by end. */
typedef struct ebpf_ext_hook_snapshot {
    const void *links; /* the provider's array, opaque */
    uint32_t attached; /* links in it */
    uint32_t writers;  /* of those, links whose program may write packet data */
} ebpf_ext_hook_snapshot_t;

void ebpf_ext_hook_snapshot_begin(ebpf_ext_hook_provider_t *provider,
                                  ebpf_ext_hook_snapshot_t *snapshot);
/* As ebpf_ext_hook_invoke, over the snapshot. */
uint32_t ebpf_ext_hook_snapshot_invoke(const ebpf_ext_hook_snapshot_t *snapshot,
                                       void *program_context, ebpf_ext_hook_filter_fn filter,
                                       const void *filter_context,
                                       ebpf_ext_hook_result_fn on_result, void *result_context);
/* As ebpf_ext_hook_snapshot_invoke with the filter "the link wants one of event_classes",
 * answered from what the provider's classes callback said at attach: no call per link. */
uint32_t ebpf_ext_hook_snapshot_invoke_classes(const ebpf_ext_hook_snapshot_t *snapshot,
                                               void *program_context, uint64_t event_classes,
                                               ebpf_ext_hook_result_fn on_result,
                                               void *result_context);
void ebpf_ext_hook_snapshot_end(ebpf_ext_hook_snapshot_t *snapshot);

/* Runs the program of every attached link, in attach order, on program_context. Never blocks,
 * never allocates. Returns the number of programs run; *attached (optional) gets the number of
 * links attached in the same snapshot, so run + skipped always adds up. */
uint32_t ebpf_ext_hook_invoke(ebpf_ext_hook_provider_t *provider, void *program_context,
                              ebpf_ext_hook_filter_fn filter, const void *filter_context,
                              ebpf_ext_hook_result_fn on_result, void *result_context,
                              uint32_t *attached);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_EXT_H */
