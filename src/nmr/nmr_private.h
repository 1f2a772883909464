/* The registrar's internal state, shared by registration.c and binding.c. */
#ifndef EBPF_NMR_PRIVATE_H
#define EBPF_NMR_PRIVATE_H

#include "ebpf_platform.h"
#include "nmr.h"

/* Everything below is guarded by nmr_lock unless a comment says otherwise. Callbacks never
 * run with nmr_lock held. nmr_changed is broadcast whenever a binding is freed. */
extern pthread_mutex_t nmr_lock;
extern pthread_cond_t nmr_changed;

typedef struct nmr_registration {
    struct nmr_registration *next; /* in the providers or clients list */
    struct nmr_registration *prev;
    const nmr_registration_instance_t *instance;
    void *context;
    bool deregistering;     /* no new bindings; set once, never cleared */
    bool waited_for;        /* a wait-for-deregister is in progress */
    uint32_t binding_count; /* bindings (any state) that name this registration */
} nmr_registration_t;

struct nmr_provider {
    nmr_registration_t common; /* first: lists hold nmr_registration_t pointers */
    const nmr_provider_characteristics_t *characteristics;
};

struct nmr_client {
    nmr_registration_t common;
    const nmr_client_characteristics_t *characteristics;
};

typedef enum binding_state {
    BINDING_ATTACHING, /* the client's attach-provider callback is running */
    BINDING_ATTACHED,
    BINDING_DETACHING, /* detach callbacks called or about to be; cleanup when both done */
} binding_state_t;

typedef enum side_state {
    SIDE_BOUND,    /* detach not started */
    SIDE_CALLING,  /* its detach callback is running */
    SIDE_PENDING,  /* its detach callback answered NMR_PENDING */
    SIDE_DETACHED, /* done (or never bound: a client that failed its own attach) */
} side_state_t;

struct nmr_binding {
    struct nmr_binding *next; /* in the bindings list */
    struct nmr_binding *prev;
    struct nmr_binding *work_next; /* in a caller's local batch of bindings to act on */
    struct nmr_provider *provider;
    struct nmr_client *client;
    binding_state_t state;
    side_state_t client_side;
    side_state_t provider_side;
    bool client_completed_early; /* completion came while the client callback ran */
    bool provider_completed_early;
    bool attach_called;     /* nmr_client_attach_provider was called for this binding */
    bool provider_accepted; /* the provider's attach-client callback returned 0 */
    bool client_failed;     /* the client answered failure after the provider accepted */
    bool cleanup_started;
    void *client_binding_context;
    const void *client_dispatch;
    void *provider_binding_context;
    const void *provider_dispatch;
};

extern nmr_registration_t *nmr_providers;
extern nmr_registration_t *nmr_clients;
extern struct nmr_binding *nmr_bindings;
extern uint64_t nmr_bindings_total;
extern uint64_t nmr_bindings_failed; /* attaches that failed (not declined) */

/* Under nmr_lock: is this pointer a live binding? (compares addresses, never dereferences) */
bool nmr_binding_is_live(const nmr_binding_t *binding);
/* Under nmr_lock: creates the record of a binding about to attach; NULL when out of memory. */
nmr_binding_t *nmr_binding_create(struct nmr_provider *provider, struct nmr_client *client);
/* Without nmr_lock: runs the client's attach-provider callback, then settles the binding. */
void nmr_binding_attach(nmr_binding_t *binding);
/* Under nmr_lock: marks an attached binding as detaching; the caller then calls
 * nmr_binding_run_detach without the lock. */
void nmr_binding_start_detach(nmr_binding_t *binding);
/* Without nmr_lock: calls the detach callbacks, and cleans up when both sides are done. */
void nmr_binding_run_detach(nmr_binding_t *binding);

#endif /* EBPF_NMR_PRIVATE_H */
