/* Network Module Registrar: how providers and clients of a Network Programming Interface find
 * each other, bind, exchange dispatch tables and detach (the NMR of Windows, in user space). */
#ifndef EBPF_NMR_H
#define EBPF_NMR_H

#include <stdbool.h>
#include <stdint.h>

#include "ebpf_guid.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Returned by a detach callback (and by deregistration) when completion comes later. */
#define NMR_PENDING 1
/* Returned by a client's attach-provider callback that does not want this provider (the
 * STATUS_NOINTERFACE of NMR): no binding, nothing logged. */
#define NMR_NOINTERFACE (-ENOTSUP)

typedef ebpf_guid_t nmr_npi_id_t;
typedef ebpf_guid_t nmr_module_id_t;

/* What a registration tells the other side about itself. The registrar copies nothing: the
 * structure and what it points to must outlive the registration. */
typedef struct nmr_registration_instance {
    uint16_t version; /* NMR_REGISTRATION_INSTANCE_VERSION */
    uint16_t size;    /* sizeof(nmr_registration_instance_t) or larger */
    const nmr_npi_id_t *npi_id;
    const nmr_module_id_t *module_id;
    uint32_t number; /* free for the NPI (e.g. an attach type index) */
    const void *npi_specific_characteristics;
} nmr_registration_instance_t;

#define NMR_REGISTRATION_INSTANCE_VERSION 1

/* A binding: one provider and one client of the same NPI. */
typedef struct nmr_binding nmr_binding_t;
typedef struct nmr_provider nmr_provider_t;
typedef struct nmr_client nmr_client_t;

/* Client callbacks. */

/* Called for each registered provider of the client's NPI, on the thread that registered
 * the second of the two, before that registration returns. To bind, call
 * nmr_client_attach_provider() from inside and return its result; return NMR_NOINTERFACE to
 * decline, or another negative errno for a failure. */
typedef int (*nmr_client_attach_provider_fn)(nmr_binding_t *binding, void *client_context,
                                             const nmr_registration_instance_t *provider);
/* The binding is going away: stop calling the provider's dispatch. Return 0 when done, or
 * NMR_PENDING and call nmr_client_detach_provider_complete() later (from any thread, even
 * before returning). */
typedef int (*nmr_client_detach_provider_fn)(void *client_binding_context);
/* Both sides completed their detach: free the client's binding context. Runs exactly once. */
typedef void (*nmr_client_cleanup_binding_context_fn)(void *client_binding_context);

typedef struct nmr_client_characteristics {
    uint16_t version; /* NMR_CHARACTERISTICS_VERSION */
    uint16_t size;    /* sizeof(nmr_client_characteristics_t) or larger */
    nmr_client_attach_provider_fn attach_provider;
    nmr_client_detach_provider_fn detach_provider;
    nmr_client_cleanup_binding_context_fn cleanup_binding_context; /* optional */
    nmr_registration_instance_t registration_instance;
} nmr_client_characteristics_t;

/* Provider callbacks. */

/* Called from inside the client's nmr_client_attach_provider(). Return 0 and set the
 * provider's binding context and dispatch to accept, or a negative errno to refuse. */
typedef int (*nmr_provider_attach_client_fn)(nmr_binding_t *binding, void *provider_context,
                                             const nmr_registration_instance_t *client,
                                             void *client_binding_context,
                                             const void *client_dispatch,
                                             void **provider_binding_context,
                                             const void **provider_dispatch);
/* Stop calling the client's dispatch. 0 when done, or NMR_PENDING and complete later with
 * nmr_provider_detach_client_complete(). */
typedef int (*nmr_provider_detach_client_fn)(void *provider_binding_context);
typedef void (*nmr_provider_cleanup_binding_context_fn)(void *provider_binding_context);

typedef struct nmr_provider_characteristics {
    uint16_t version;
    uint16_t size;
    nmr_provider_attach_client_fn attach_client;
    nmr_provider_detach_client_fn detach_client;
    nmr_provider_cleanup_binding_context_fn cleanup_binding_context; /* optional */
    nmr_registration_instance_t registration_instance;
} nmr_provider_characteristics_t;

#define NMR_CHARACTERISTICS_VERSION 1

/* Registration. The characteristics (and everything they point to) and the context must stay
 * valid until the matching wait-for-deregister has returned. Register binds with every
 * matching registration of the other side before it returns. */
int nmr_register_provider(const nmr_provider_characteristics_t *characteristics,
                          void *provider_context, nmr_provider_t **provider);
int nmr_register_client(const nmr_client_characteristics_t *characteristics, void *client_context,
                        nmr_client_t **client);

/* Starts detaching every binding of the registration; no new binding forms. Returns 0 when
 * every binding was already cleaned up, NMR_PENDING otherwise, or a negative errno for a bad
 * handle (-EINVAL unknown, -EALREADY already deregistering). The handle stays valid until
 * the wait below. */
int nmr_deregister_provider(nmr_provider_t *provider);
int nmr_deregister_client(nmr_client_t *client);

/* Blocks until every binding of a deregistered registration is cleaned up, then frees the
 * handle. Must not be called from a callback of that registration. */
int nmr_wait_for_provider_deregister_complete(nmr_provider_t *provider);
int nmr_wait_for_client_deregister_complete(nmr_client_t *client);

/* Called by a client from inside its attach-provider callback to bind. Calls the provider's
 * attach-client callback and returns its result; on success the provider's binding context
 * and dispatch are set. */
int nmr_client_attach_provider(nmr_binding_t *binding, void *client_binding_context,
                               const void *client_dispatch, void **provider_binding_context,
                               const void **provider_dispatch);

/* Complete a detach that returned NMR_PENDING. -EINVAL when the binding is unknown or that
 * side's detach is not pending. */
int nmr_client_detach_provider_complete(nmr_binding_t *binding);
int nmr_provider_detach_client_complete(nmr_binding_t *binding);

/* Counts, for tests and diagnostics. */
typedef struct nmr_statistics {
    uint64_t providers; /* registered, not yet freed */
    uint64_t clients;
    uint64_t bindings;        /* attaching, attached or detaching */
    uint64_t bindings_total;  /* bindings ever formed */
    uint64_t bindings_failed; /* attaches that failed (declines not counted); each is logged */
} nmr_statistics_t;
void nmr_get_statistics(nmr_statistics_t *statistics);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_NMR_H */
