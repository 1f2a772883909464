/* Registrations: providers and clients come and go; each arrival binds with the other side. */
#include <errno.h>

#include "nmr_private.h"

pthread_mutex_t nmr_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t nmr_changed = PTHREAD_COND_INITIALIZER;
nmr_registration_t *nmr_providers;
nmr_registration_t *nmr_clients;
nmr_binding_t *nmr_bindings;
uint64_t nmr_bindings_total;
uint64_t nmr_bindings_failed;

static int check_instance(const nmr_registration_instance_t *instance, const char *side)
{
    if (instance->version != NMR_REGISTRATION_INSTANCE_VERSION ||
        instance->size < sizeof(nmr_registration_instance_t))
        return ebpf_error(-EINVAL,
                          "nmr: %s registration instance has version %u size %u "
                          "(expected version %u, size >= %zu)",
                          side, instance->version, instance->size,
                          NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t));
    if (instance->npi_id == NULL || instance->module_id == NULL)
        return ebpf_error(-EINVAL, "nmr: %s registration instance needs an NPI id and a module id",
                          side);
    return 0;
}

static void list_insert(nmr_registration_t **head, nmr_registration_t *registration)
{
    registration->prev = NULL;
    registration->next = *head;
    if (*head != NULL)
        (*head)->prev = registration;
    *head = registration;
}

static void list_remove(nmr_registration_t **head, nmr_registration_t *registration)
{
    if (registration->prev != NULL)
        registration->prev->next = registration->next;
    else
        *head = registration->next;
    if (registration->next != NULL)
        registration->next->prev = registration->prev;
}

static bool list_contains(const nmr_registration_t *head, const void *registration)
{
    for (const nmr_registration_t *r = head; r != NULL; r = r->next) {
        if ((const void *)r == registration)
            return true;
    }
    return false;
}

static bool same_npi(const nmr_registration_t *a, const nmr_registration_t *b)
{
    return ebpf_guid_equal(a->instance->npi_id, b->instance->npi_id);
}

/* Under nmr_lock: frees a batch of bindings that were created but never attached. */
static void abandon_batch(nmr_binding_t *batch)
{
    while (batch != NULL) {
        nmr_binding_t *next = batch->work_next;
        if (batch->prev != NULL)
            batch->prev->next = batch->next;
        else
            nmr_bindings = batch->next;
        if (batch->next != NULL)
            batch->next->prev = batch->prev;
        batch->provider->common.binding_count--;
        batch->client->common.binding_count--;
        ebpf_free(batch);
        batch = next;
    }
}

/* Attaches every binding of a batch, in registration order of the other side. */
static void attach_batch(nmr_binding_t *batch)
{
    while (batch != NULL) {
        nmr_binding_t *next = batch->work_next; /* batch may be freed by the attach */
        nmr_binding_attach(batch);
        batch = next;
    }
}

int nmr_register_provider(const nmr_provider_characteristics_t *characteristics,
                          void *provider_context, nmr_provider_t **out)
{
    struct nmr_provider *provider;
    nmr_binding_t *batch = NULL, **batch_tail = &batch;
    int rc;

    if (characteristics == NULL || out == NULL)
        return ebpf_error(-EINVAL, "nmr: register provider needs characteristics and a handle");
    if (characteristics->version != NMR_CHARACTERISTICS_VERSION ||
        characteristics->size < sizeof(*characteristics))
        return ebpf_error(-EINVAL,
                          "nmr: provider characteristics have version %u size %u "
                          "(expected version %u, size >= %zu)",
                          characteristics->version, characteristics->size,
                          NMR_CHARACTERISTICS_VERSION, sizeof(*characteristics));
    if (characteristics->attach_client == NULL || characteristics->detach_client == NULL)
        return ebpf_error(-EINVAL, "nmr: provider characteristics need attach-client and "
                                   "detach-client callbacks");
    rc = check_instance(&characteristics->registration_instance, "provider");
    if (rc < 0)
        return rc;
    provider = ebpf_allocate(sizeof(*provider));
    if (provider == NULL)
        return ebpf_error(-ENOMEM, "nmr: out of memory registering a provider");
    provider->characteristics = characteristics;
    provider->common.instance = &characteristics->registration_instance;
    provider->common.context = provider_context;

    pthread_mutex_lock(&nmr_lock);
    /* Clients in list order: the most recently registered first. */
    for (nmr_registration_t *c = nmr_clients; c != NULL; c = c->next) {
        nmr_binding_t *binding;
        if (c->deregistering || !same_npi(c, &provider->common))
            continue;
        binding = nmr_binding_create(provider, (struct nmr_client *)c);
        if (binding == NULL) {
            abandon_batch(batch);
            pthread_mutex_unlock(&nmr_lock);
            ebpf_free(provider);
            return ebpf_error(-ENOMEM, "nmr: out of memory binding a new provider");
        }
        *batch_tail = binding;
        batch_tail = &binding->work_next;
    }
    list_insert(&nmr_providers, &provider->common);
    pthread_mutex_unlock(&nmr_lock);

    *out = provider;
    attach_batch(batch);
    return 0;
}

int nmr_register_client(const nmr_client_characteristics_t *characteristics, void *client_context,
                        nmr_client_t **out)
{
    struct nmr_client *client;
    nmr_binding_t *batch = NULL, **batch_tail = &batch;
    int rc;

    if (characteristics == NULL || out == NULL)
        return ebpf_error(-EINVAL, "nmr: register client needs characteristics and a handle");
    if (characteristics->version != NMR_CHARACTERISTICS_VERSION ||
        characteristics->size < sizeof(*characteristics))
        return ebpf_error(-EINVAL,
                          "nmr: client characteristics have version %u size %u "
                          "(expected version %u, size >= %zu)",
                          characteristics->version, characteristics->size,
                          NMR_CHARACTERISTICS_VERSION, sizeof(*characteristics));
    if (characteristics->attach_provider == NULL || characteristics->detach_provider == NULL)
        return ebpf_error(-EINVAL, "nmr: client characteristics need attach-provider and "
                                   "detach-provider callbacks");
    rc = check_instance(&characteristics->registration_instance, "client");
    if (rc < 0)
        return rc;
    client = ebpf_allocate(sizeof(*client));
    if (client == NULL)
        return ebpf_error(-ENOMEM, "nmr: out of memory registering a client");
    client->characteristics = characteristics;
    client->common.instance = &characteristics->registration_instance;
    client->common.context = client_context;

    pthread_mutex_lock(&nmr_lock);
    for (nmr_registration_t *p = nmr_providers; p != NULL; p = p->next) {
        nmr_binding_t *binding;
        if (p->deregistering || !same_npi(p, &client->common))
            continue;
        binding = nmr_binding_create((struct nmr_provider *)p, client);
        if (binding == NULL) {
            abandon_batch(batch);
            pthread_mutex_unlock(&nmr_lock);
            ebpf_free(client);
            return ebpf_error(-ENOMEM, "nmr: out of memory binding a new client");
        }
        *batch_tail = binding;
        batch_tail = &binding->work_next;
    }
    list_insert(&nmr_clients, &client->common);
    pthread_mutex_unlock(&nmr_lock);

    *out = client;
    attach_batch(batch);
    return 0;
}

/* Starts the detach of every attached binding of the registration; bindings still attaching
 * are detached by their attaching thread when it sees the deregistration. */
static int deregister(nmr_registration_t **list, nmr_registration_t *registration, const char *side)
{
    nmr_binding_t *batch = NULL, **batch_tail = &batch;
    int rc;

    pthread_mutex_lock(&nmr_lock);
    if (registration == NULL || !list_contains(*list, registration)) {
        pthread_mutex_unlock(&nmr_lock);
        return ebpf_error(-EINVAL, "nmr: deregister of an unknown %s handle", side);
    }
    if (registration->deregistering) {
        pthread_mutex_unlock(&nmr_lock);
        return ebpf_error(-EALREADY, "nmr: %s is already deregistering", side);
    }
    registration->deregistering = true;
    for (nmr_binding_t *b = nmr_bindings; b != NULL; b = b->next) {
        if (b->state != BINDING_ATTACHED)
            continue;
        if ((void *)b->provider != (void *)registration &&
            (void *)b->client != (void *)registration)
            continue;
        nmr_binding_start_detach(b);
        b->work_next = NULL;
        *batch_tail = b;
        batch_tail = &b->work_next;
    }
    pthread_mutex_unlock(&nmr_lock);

    while (batch != NULL) {
        nmr_binding_t *next = batch->work_next; /* batch may be freed by its detach */
        nmr_binding_run_detach(batch);
        batch = next;
    }

    pthread_mutex_lock(&nmr_lock);
    rc = registration->binding_count == 0 ? 0 : NMR_PENDING;
    pthread_mutex_unlock(&nmr_lock);
    return rc;
}

int nmr_deregister_provider(nmr_provider_t *provider)
{
    return deregister(&nmr_providers, (nmr_registration_t *)provider, "provider");
}

int nmr_deregister_client(nmr_client_t *client)
{
    return deregister(&nmr_clients, (nmr_registration_t *)client, "client");
}

static int wait_for_deregister(nmr_registration_t **list, nmr_registration_t *registration,
                               const char *side)
{
    pthread_mutex_lock(&nmr_lock);
    if (registration == NULL || !list_contains(*list, registration)) {
        pthread_mutex_unlock(&nmr_lock);
        return ebpf_error(-EINVAL, "nmr: wait for deregistration of an unknown %s handle", side);
    }
    if (!registration->deregistering) {
        pthread_mutex_unlock(&nmr_lock);
        return ebpf_error(-EINVAL,
                          "nmr: wait for deregistration of a %s that was not "
                          "deregistered",
                          side);
    }
    if (registration->waited_for) {
        pthread_mutex_unlock(&nmr_lock);
        return ebpf_error(-EBUSY, "nmr: another thread already waits for this %s", side);
    }
    registration->waited_for = true;
    while (registration->binding_count != 0)
        pthread_cond_wait(&nmr_changed, &nmr_lock);
    list_remove(list, registration);
    pthread_mutex_unlock(&nmr_lock);
    ebpf_free(registration);
    return 0;
}

int nmr_wait_for_provider_deregister_complete(nmr_provider_t *provider)
{
    return wait_for_deregister(&nmr_providers, (nmr_registration_t *)provider, "provider");
}

int nmr_wait_for_client_deregister_complete(nmr_client_t *client)
{
    return wait_for_deregister(&nmr_clients, (nmr_registration_t *)client, "client");
}

void nmr_get_statistics(nmr_statistics_t *statistics)
{
    uint64_t providers = 0, clients = 0, bindings = 0;

    pthread_mutex_lock(&nmr_lock);
    for (nmr_registration_t *r = nmr_providers; r != NULL; r = r->next)
        providers++;
    for (nmr_registration_t *r = nmr_clients; r != NULL; r = r->next)
        clients++;
    for (nmr_binding_t *b = nmr_bindings; b != NULL; b = b->next)
        bindings++;
    statistics->providers = providers;
    statistics->clients = clients;
    statistics->bindings = bindings;
    statistics->bindings_total = nmr_bindings_total;
    statistics->bindings_failed = nmr_bindings_failed;
    pthread_mutex_unlock(&nmr_lock);
}
