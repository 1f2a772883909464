/* Bindings: the attach handshake, detach with pending completion, and cleanup exactly once. */
#include <errno.h>

#include "nmr_private.h"

bool nmr_binding_is_live(const nmr_binding_t *binding)
{
    for (const nmr_binding_t *b = nmr_bindings; b != NULL; b = b->next) {
        if (b == binding)
            return true;
    }
    return false;
}

nmr_binding_t *nmr_binding_create(struct nmr_provider *provider, struct nmr_client *client)
{
    nmr_binding_t *binding = ebpf_allocate(sizeof(*binding));

    if (binding == NULL)
        return NULL;
    binding->provider = provider;
    binding->client = client;
    binding->state = BINDING_ATTACHING;
    binding->client_side = SIDE_BOUND;
    binding->provider_side = SIDE_BOUND;
    binding->next = nmr_bindings;
    if (nmr_bindings != NULL)
        nmr_bindings->prev = binding;
    nmr_bindings = binding;
    provider->common.binding_count++;
    client->common.binding_count++;
    return binding;
}

/* Under nmr_lock: unlinks and frees the record, and wakes deregistration waiters. */
static void binding_destroy(nmr_binding_t *binding)
{
    if (binding->prev != NULL)
        binding->prev->next = binding->next;
    else
        nmr_bindings = binding->next;
    if (binding->next != NULL)
        binding->next->prev = binding->prev;
    binding->provider->common.binding_count--;
    binding->client->common.binding_count--;
    ebpf_free(binding);
    pthread_cond_broadcast(&nmr_changed);
}

/* Under nmr_lock: true when this call is the one that must run the cleanup. */
static bool claim_cleanup(nmr_binding_t *binding)
{
    if (binding->client_side != SIDE_DETACHED || binding->provider_side != SIDE_DETACHED ||
        binding->cleanup_started)
        return false;
    binding->cleanup_started = true;
    return true;
}

/* Without nmr_lock: the cleanup callbacks, then the record goes. */
static void binding_cleanup(nmr_binding_t *binding)
{
    const nmr_client_characteristics_t *client = binding->client->characteristics;
    const nmr_provider_characteristics_t *provider = binding->provider->characteristics;

    /* A client that failed its own attach never owned a binding context here. */
    if (!binding->client_failed && client->cleanup_binding_context != NULL)
        client->cleanup_binding_context(binding->client_binding_context);
    if (binding->provider_accepted && provider->cleanup_binding_context != NULL)
        provider->cleanup_binding_context(binding->provider_binding_context);

    pthread_mutex_lock(&nmr_lock);
    binding_destroy(binding);
    pthread_mutex_unlock(&nmr_lock);
}

int nmr_client_attach_provider(nmr_binding_t *binding, void *client_binding_context,
                               const void *client_dispatch, void **provider_binding_context,
                               const void **provider_dispatch)
{
    const nmr_provider_characteristics_t *provider;
    void *provider_context;
    const nmr_registration_instance_t *client_instance;
    void *new_provider_binding_context = NULL;
    const void *new_provider_dispatch = NULL;
    int rc;

    if (provider_binding_context == NULL || provider_dispatch == NULL)
        return ebpf_error(-EINVAL, "nmr: nmr_client_attach_provider needs places for the "
                                   "provider's binding context and dispatch");
    pthread_mutex_lock(&nmr_lock);
    if (!nmr_binding_is_live(binding) || binding->state != BINDING_ATTACHING) {
        pthread_mutex_unlock(&nmr_lock);
        return ebpf_error(-EINVAL, "nmr: nmr_client_attach_provider called outside the "
                                   "client's attach-provider callback of that binding");
    }
    if (binding->attach_called) {
        pthread_mutex_unlock(&nmr_lock);
        return ebpf_error(-EALREADY, "nmr: nmr_client_attach_provider called twice for one "
                                     "binding");
    }
    binding->attach_called = true;
    provider = binding->provider->characteristics;
    provider_context = binding->provider->common.context;
    client_instance = &binding->client->characteristics->registration_instance;
    pthread_mutex_unlock(&nmr_lock);

    /* The binding cannot go away here: only the thread running the attach settles an
     * ATTACHING binding, and that is our caller. */
    rc = provider->attach_client(binding, provider_context, client_instance, client_binding_context,
                                 client_dispatch, &new_provider_binding_context,
                                 &new_provider_dispatch);
    if (rc > 0) {
        ebpf_log(EBPF_LOG_WARN, "nmr: provider attach-client returned %d; treated as failure", rc);
        rc = -EPROTO;
    }
    if (rc != 0)
        return rc;

    pthread_mutex_lock(&nmr_lock);
    binding->provider_accepted = true;
    binding->client_binding_context = client_binding_context;
    binding->client_dispatch = client_dispatch;
    binding->provider_binding_context = new_provider_binding_context;
    binding->provider_dispatch = new_provider_dispatch;
    pthread_mutex_unlock(&nmr_lock);
    *provider_binding_context = new_provider_binding_context;
    *provider_dispatch = new_provider_dispatch;
    return 0;
}

void nmr_binding_attach(nmr_binding_t *binding)
{
    struct nmr_client *client = binding->client;
    struct nmr_provider *provider = binding->provider;
    bool detach_now = false;
    int rc;

    rc = client->characteristics->attach_provider(
        binding, client->common.context, &provider->characteristics->registration_instance);

    pthread_mutex_lock(&nmr_lock);
    if (binding->provider_accepted) {
        if (rc != 0) {
            /* The provider bound, the client then failed: the provider still has to detach,
             * the client has nothing to detach or clean up. */
            ebpf_log(EBPF_LOG_WARN,
                     "nmr: client failed (%d) after its provider accepted; "
                     "detaching the provider side",
                     rc);
            binding->client_failed = true;
            binding->client_side = SIDE_DETACHED;
            binding->state = BINDING_DETACHING;
            detach_now = true;
        } else {
            binding->state = BINDING_ATTACHED;
            nmr_bindings_total++;
            /* A deregistration that came while we attached left this binding to us. */
            if (provider->common.deregistering || client->common.deregistering) {
                nmr_binding_start_detach(binding);
                detach_now = true;
            }
        }
    } else {
        if (rc == 0)
            ebpf_log(EBPF_LOG_WARN, "nmr: client attach-provider returned success without "
                                    "calling nmr_client_attach_provider; no binding");
        else if (rc != NMR_NOINTERFACE) {
            /* A provider and client that should have bound did not: say so, and count it. */
            char provider_id[EBPF_GUID_STRING_LENGTH + 1], client_id[EBPF_GUID_STRING_LENGTH + 1];
            ebpf_guid_to_string(provider->common.instance->module_id, provider_id);
            ebpf_guid_to_string(client->common.instance->module_id, client_id);
            ebpf_log(EBPF_LOG_WARN, "nmr: binding client %s to provider %s failed: %d", client_id,
                     provider_id, rc);
            nmr_bindings_failed++;
        }
        binding_destroy(binding);
    }
    pthread_mutex_unlock(&nmr_lock);

    if (detach_now)
        nmr_binding_run_detach(binding);
}

void nmr_binding_start_detach(nmr_binding_t *binding)
{
    binding->state = BINDING_DETACHING;
}

/* Settles one side after its detach callback returned rc. Under nmr_lock. */
static void settle_side(side_state_t *side, bool *completed_early, int rc)
{
    if (rc == NMR_PENDING && !*completed_early) {
        *side = SIDE_PENDING;
        return;
    }
    if (rc < 0)
        ebpf_log(EBPF_LOG_WARN, "nmr: detach callback failed (%d); treated as detached", rc);
    *side = SIDE_DETACHED;
}

void nmr_binding_run_detach(nmr_binding_t *binding)
{
    bool cleanup;
    int rc;

    pthread_mutex_lock(&nmr_lock);
    bool call_client = binding->client_side == SIDE_BOUND;
    if (call_client)
        binding->client_side = SIDE_CALLING;
    pthread_mutex_unlock(&nmr_lock);

    if (call_client) {
        rc = binding->client->characteristics->detach_provider(binding->client_binding_context);
        pthread_mutex_lock(&nmr_lock);
        settle_side(&binding->client_side, &binding->client_completed_early, rc);
        pthread_mutex_unlock(&nmr_lock);
    }

    /* The binding lives on: cleanup needs the provider side, which only we advance now. */
    pthread_mutex_lock(&nmr_lock);
    binding->provider_side = SIDE_CALLING;
    pthread_mutex_unlock(&nmr_lock);

    rc = binding->provider->characteristics->detach_client(binding->provider_binding_context);

    pthread_mutex_lock(&nmr_lock);
    settle_side(&binding->provider_side, &binding->provider_completed_early, rc);
    cleanup = claim_cleanup(binding);
    pthread_mutex_unlock(&nmr_lock);
    if (cleanup)
        binding_cleanup(binding);
}

static int complete_side(nmr_binding_t *binding, bool client)
{
    bool cleanup;

    pthread_mutex_lock(&nmr_lock);
    if (!nmr_binding_is_live(binding)) {
        pthread_mutex_unlock(&nmr_lock);
        return ebpf_error(-EINVAL, "nmr: detach completion for an unknown binding");
    }
    side_state_t *side = client ? &binding->client_side : &binding->provider_side;
    bool *early = client ? &binding->client_completed_early : &binding->provider_completed_early;
    switch (*side) {
    case SIDE_CALLING:
        if (*early) {
            pthread_mutex_unlock(&nmr_lock);
            return ebpf_error(-EINVAL, "nmr: %s detach completed twice",
                              client ? "client" : "provider");
        }
        *early = true; /* the callback's NMR_PENDING will find it done */
        pthread_mutex_unlock(&nmr_lock);
        return 0;
    case SIDE_PENDING:
        *side = SIDE_DETACHED;
        break;
    default:
        pthread_mutex_unlock(&nmr_lock);
        return ebpf_error(-EINVAL, "nmr: %s detach completion, but its detach is not pending",
                          client ? "client" : "provider");
    }
    cleanup = claim_cleanup(binding);
    pthread_mutex_unlock(&nmr_lock);
    if (cleanup)
        binding_cleanup(binding);
    return 0;
}

int nmr_client_detach_provider_complete(nmr_binding_t *binding)
{
    return complete_side(binding, true);
}

int nmr_provider_detach_client_complete(nmr_binding_t *binding)
{
    return complete_side(binding, false);
}
