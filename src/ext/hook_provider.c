/* Hook provider: the links attached to one attach type, walked on the event path without
 * blocking, and detached with a rundown that never blocks the registrar's thread.
 *
 * The attached links form an array published under epochs and replaced whole (copy on write)
 * when a link comes or goes, so the event path reads a stable snapshot with one load. A link
 * that detaches is dropped from the array at once; its detach answers NMR_PENDING, and the
 * provider's worker completes it after a grace period, when no invocation can still be running
 * its program through an older snapshot: that grace period is the link's rundown. */
#include <errno.h>
#include <string.h>

#include "ebpf_ext.h"
#include "ebpf_platform.h"

typedef struct hook_link {
    struct ebpf_ext_hook_provider *provider;
    nmr_binding_t *binding;
    const ebpf_link_dispatch_t *dispatch;
    /* NULL hides the link from invocations (only when detaching without memory). */
    const void *_Atomic link_binding_context;
    void *link_state;
    bool may_write_packet;         /* from the link's client data */
    uint64_t classes;              /* event classes the link wants (all without a callback) */
    struct hook_link *detach_next; /* in the worker's queue, under the provider's lock */
} hook_link_t;

typedef struct link_array {
    ebpf_epoch_work_t free_work;
    uint32_t count;
    uint32_t writers; /* links whose program may write packet data */
    hook_link_t *links[];
} link_array_t;

struct ebpf_ext_hook_provider {
    ebpf_ext_hook_provider_parameters_t parameters;
    ebpf_hook_provider_data_t data;
    nmr_module_id_t module_id;
    nmr_provider_characteristics_t characteristics;
    nmr_provider_t *registration;
    /* The links attached now, in attach order; replaced under lock, read under epochs. */
    link_array_t *_Atomic links;
    /* lock guards links (writers), the detach queue and stopping; the worker waits on
     * work for queued detaches. */
    pthread_mutex_t lock;
    pthread_cond_t work;
    hook_link_t *detach_head;
    hook_link_t *detach_tail;
    bool stopping;
    pthread_t worker;
};

static void free_array(ebpf_epoch_work_t *work)
{
    ebpf_free((link_array_t *)((char *)work - offsetof(link_array_t, free_work)));
}

/* Under lock: publishes a copy of the array with link added (or removed), and retires the
 * old one after a grace period. -ENOMEM leaves everything as it was. */
static int replace_array(ebpf_ext_hook_provider_t *provider, hook_link_t *add, hook_link_t *remove)
{
    link_array_t *old = atomic_load(&provider->links);
    uint32_t count = old ? old->count : 0;
    link_array_t *array = ebpf_allocate(sizeof(link_array_t) + (count + 1) * sizeof(hook_link_t *));

    if (array == NULL)
        return ebpf_error(-ENOMEM, "hook: out of memory attaching a link");
    for (uint32_t i = 0; i < count; i++) {
        if (old->links[i] != remove)
            array->links[array->count++] = old->links[i];
    }
    if (add != NULL)
        array->links[array->count++] = add;
    for (uint32_t i = 0; i < array->count; i++)
        array->writers += array->links[i]->may_write_packet;
    ebpf_epoch_publish(&provider->links, array);
    if (old != NULL)
        ebpf_epoch_defer(&old->free_work, free_array);
    return 0;
}

static int attach_client(nmr_binding_t *binding, void *provider_context,
                         const nmr_registration_instance_t *client, void *client_binding_context,
                         const void *client_dispatch, void **provider_binding_context,
                         const void **provider_dispatch)
{
    ebpf_ext_hook_provider_t *provider = provider_context;
    const ebpf_link_client_data_t *link = client->npi_specific_characteristics;
    const ebpf_link_dispatch_t *dispatch = client_dispatch;
    hook_link_t *attached;
    void *state = NULL;
    int rc;

    if (link == NULL || link->header.size < sizeof(*link) || dispatch == NULL ||
        dispatch->header.size < sizeof(*dispatch))
        return ebpf_error(-EINVAL, "hook: the link's data or dispatch table is malformed");
    if (!ebpf_guid_equal(&link->program_type, provider->parameters.program_type))
        return ebpf_error(-EINVAL, "hook: the program's type does not match this hook");
    if (provider->parameters.attach != NULL) {
        rc = provider->parameters.attach(provider->parameters.context, link, &state);
        if (rc != 0)
            return rc;
    } else if (link->attach_parameters_size != 0) {
        return ebpf_error(-EINVAL,
                          "hook: this attach type takes no attach parameters (got %zu "
                          "bytes)",
                          link->attach_parameters_size);
    }
    attached = ebpf_allocate(sizeof(*attached));
    if (attached == NULL) {
        rc = ebpf_error(-ENOMEM, "hook: out of memory attaching a link");
        goto failed;
    }
    attached->provider = provider;
    attached->binding = binding;
    attached->dispatch = dispatch;
    atomic_init(&attached->link_binding_context, client_binding_context);
    attached->link_state = state;
    attached->classes = provider->parameters.classes != NULL
                            ? provider->parameters.classes(provider->parameters.context, state)
                            : UINT64_MAX;
    /* A link from an older core that does not say is taken as a writer. */
    attached->may_write_packet = !EBPF_EXTENSION_HAS_FIELD(&link->header, ebpf_link_client_data_t,
                                                           program_may_write_packet) ||
                                 link->program_may_write_packet;
    pthread_mutex_lock(&provider->lock);
    rc = replace_array(provider, attached, NULL);
    pthread_mutex_unlock(&provider->lock);
    if (rc != 0)
        goto failed;
    *provider_binding_context = attached;
    *provider_dispatch = NULL;
    return 0;

failed:
    ebpf_free(attached);
    if (provider->parameters.detach != NULL)
        provider->parameters.detach(provider->parameters.context, state);
    return rc;
}

static int detach_client(void *provider_binding_context)
{
    hook_link_t *detaching = provider_binding_context;
    ebpf_ext_hook_provider_t *provider = detaching->provider;

    pthread_mutex_lock(&provider->lock);
    if (replace_array(provider, NULL, detaching) != 0) {
        /* No memory for a smaller copy: leave the link in the array but make it invisible by
         * clearing its dispatch; invocations skip it. */
        ebpf_log(EBPF_LOG_WARN, "hook: out of memory detaching a link; hiding it instead");
        atomic_store(&detaching->link_binding_context, NULL);
    }
    detaching->detach_next = NULL;
    if (provider->detach_tail != NULL)
        provider->detach_tail->detach_next = detaching;
    else
        provider->detach_head = detaching;
    provider->detach_tail = detaching;
    pthread_cond_signal(&provider->work);
    pthread_mutex_unlock(&provider->lock);
    return NMR_PENDING;
}

static void *detach_worker(void *argument)
{
    ebpf_ext_hook_provider_t *provider = argument;

    pthread_mutex_lock(&provider->lock);
    for (;;) {
        while (provider->detach_head == NULL && !provider->stopping)
            pthread_cond_wait(&provider->work, &provider->lock);
        if (provider->detach_head == NULL && provider->stopping)
            break;
        hook_link_t *batch = provider->detach_head;
        provider->detach_head = provider->detach_tail = NULL;
        pthread_mutex_unlock(&provider->lock);

        /* Every invocation that could see these links through an older array has left. */
        ebpf_epoch_synchronize();
        while (batch != NULL) {
            hook_link_t *next = batch->detach_next;
            if (provider->parameters.detach != NULL)
                provider->parameters.detach(provider->parameters.context, batch->link_state);
            batch->link_state = NULL;
            nmr_provider_detach_client_complete(batch->binding);
            batch = next;
        }
        pthread_mutex_lock(&provider->lock);
    }
    pthread_mutex_unlock(&provider->lock);
    return NULL;
}

static void cleanup_client(void *provider_binding_context)
{
    ebpf_free(provider_binding_context);
}

int ebpf_ext_hook_provider_register(const ebpf_ext_hook_provider_parameters_t *parameters,
                                    ebpf_ext_hook_provider_t **out)
{
    ebpf_ext_hook_provider_t *provider;
    int rc;

    if (parameters == NULL || out == NULL || parameters->attach_type == NULL ||
        parameters->program_type == NULL)
        return ebpf_error(-EINVAL, "hook provider: an attach type and a program type are "
                                   "required");
    provider = ebpf_allocate(sizeof(*provider));
    if (provider == NULL)
        return ebpf_error(-ENOMEM, "hook provider: out of memory");
    provider->parameters = *parameters;
    provider->module_id = *parameters->attach_type;
    provider->data = (ebpf_hook_provider_data_t){
        EBPF_EXTENSION_HEADER(EBPF_HOOK_PROVIDER_DATA_VERSION, ebpf_hook_provider_data_t),
        *parameters->program_type, parameters->bpf_attach_type};
    provider->characteristics = (nmr_provider_characteristics_t){
        .version = NMR_CHARACTERISTICS_VERSION,
        .size = sizeof(nmr_provider_characteristics_t),
        .attach_client = attach_client,
        .detach_client = detach_client,
        .cleanup_binding_context = cleanup_client,
        .registration_instance = {NMR_REGISTRATION_INSTANCE_VERSION,
                                  sizeof(nmr_registration_instance_t), &EBPF_HOOK_NPI_ID,
                                  &provider->module_id, 0, &provider->data},
    };
    pthread_mutex_init(&provider->lock, NULL);
    pthread_cond_init(&provider->work, NULL);
    rc = pthread_create(&provider->worker, NULL, detach_worker, provider);
    if (rc != 0) {
        pthread_cond_destroy(&provider->work);
        pthread_mutex_destroy(&provider->lock);
        ebpf_free(provider);
        return ebpf_error(-rc, "hook provider: cannot start its worker thread");
    }
    rc = nmr_register_provider(&provider->characteristics, provider, &provider->registration);
    if (rc != 0) {
        pthread_mutex_lock(&provider->lock);
        provider->stopping = true;
        pthread_cond_signal(&provider->work);
        pthread_mutex_unlock(&provider->lock);
        pthread_join(provider->worker, NULL);
        pthread_cond_destroy(&provider->work);
        pthread_mutex_destroy(&provider->lock);
        ebpf_free(provider);
        return rc;
    }
    *out = provider;
    return 0;
}

void ebpf_ext_hook_provider_unregister(ebpf_ext_hook_provider_t *provider)
{
    if (provider == NULL)
        return;
    /* Every link detaches; the worker completes each after its rundown, then the registrar
     * cleans up and the wait returns. */
    if (nmr_deregister_provider(provider->registration) >= 0)
        nmr_wait_for_provider_deregister_complete(provider->registration);
    pthread_mutex_lock(&provider->lock);
    provider->stopping = true;
    pthread_cond_signal(&provider->work);
    pthread_mutex_unlock(&provider->lock);
    pthread_join(provider->worker, NULL);
    /* Readers are gone (every link completed its rundown); the last array can go now. */
    ebpf_epoch_synchronize();
    ebpf_free(atomic_load(&provider->links));
    pthread_cond_destroy(&provider->work);
    pthread_mutex_destroy(&provider->lock);
    ebpf_free(provider);
}

uint32_t ebpf_ext_hook_attached_count(ebpf_ext_hook_provider_t *provider)
{
    ebpf_epoch_enter();
    link_array_t *array = ebpf_epoch_dereference(&provider->links);
    uint32_t count = array ? array->count : 0;
    ebpf_epoch_exit();
    return count;
}

void ebpf_ext_hook_snapshot_begin(ebpf_ext_hook_provider_t *provider,
                                  ebpf_ext_hook_snapshot_t *snapshot)
{
    ebpf_epoch_enter();
    const link_array_t *array = ebpf_epoch_dereference(&provider->links);
    snapshot->links = array;
    snapshot->attached = array != NULL ? array->count : 0;
    snapshot->writers = array != NULL ? array->writers : 0;
}

/* The walk of both invoke functions: by_classes, a link runs when it wants one of
 * event_classes; otherwise when filter (if given) says so. Inlined into each with by_classes
 * constant, so each keeps only its own test. */
static inline __attribute__((always_inline)) uint32_t
invoke_links(const ebpf_ext_hook_snapshot_t *snapshot, void *program_context, bool by_classes,
             uint64_t event_classes, ebpf_ext_hook_filter_fn filter, const void *filter_context,
             ebpf_ext_hook_result_fn on_result, void *result_context)
{
    const link_array_t *array = snapshot->links;
    uint32_t invoked = 0;

    if (array == NULL || array->count == 0)
        return 0;
    /* Every link of one core shares the batch functions; take the first's. */
    const ebpf_link_dispatch_t *batch = array->links[0]->dispatch;
    batch->batch_begin();
    for (uint32_t i = 0; i < array->count; i++) {
        hook_link_t *link = array->links[i];
        const void *binding_context =
            atomic_load_explicit(&link->link_binding_context, memory_order_relaxed);
        uint64_t result = 0;
        if (binding_context == NULL)
            continue;
        if (by_classes ? !(link->classes & event_classes)
                       : filter != NULL && !filter(link->link_state, filter_context))
            continue;
        int rc = link->dispatch->batch_invoke(binding_context, program_context, &result);
        invoked++;
        if (on_result != NULL)
            on_result(result_context, link->link_state, rc, result);
    }
    batch->batch_end();
    return invoked;
}

uint32_t ebpf_ext_hook_snapshot_invoke(const ebpf_ext_hook_snapshot_t *snapshot,
                                       void *program_context, ebpf_ext_hook_filter_fn filter,
                                       const void *filter_context,
                                       ebpf_ext_hook_result_fn on_result, void *result_context)
{
    return invoke_links(snapshot, program_context, false, 0, filter, filter_context, on_result,
                        result_context);
}

uint32_t ebpf_ext_hook_snapshot_invoke_classes(const ebpf_ext_hook_snapshot_t *snapshot,
                                               void *program_context, uint64_t event_classes,
                                               ebpf_ext_hook_result_fn on_result,
                                               void *result_context)
{
    return invoke_links(snapshot, program_context, true, event_classes, NULL, NULL, on_result,
                        result_context);
}

void ebpf_ext_hook_snapshot_end(ebpf_ext_hook_snapshot_t *snapshot)
{
    snapshot->links = NULL;
    ebpf_epoch_exit();
}

uint32_t ebpf_ext_hook_invoke(ebpf_ext_hook_provider_t *provider, void *program_context,
                              ebpf_ext_hook_filter_fn filter, const void *filter_context,
                              ebpf_ext_hook_result_fn on_result, void *result_context,
                              uint32_t *attached)
{
    ebpf_ext_hook_snapshot_t snapshot;
    ebpf_ext_hook_snapshot_begin(provider, &snapshot);
    uint32_t invoked = ebpf_ext_hook_snapshot_invoke(&snapshot, program_context, filter,
                                                     filter_context, on_result, result_context);
    if (attached != NULL)
        *attached = snapshot.attached;
    ebpf_ext_hook_snapshot_end(&snapshot);
    return invoked;
}
