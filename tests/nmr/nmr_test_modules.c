/* Test providers and clients for the registrar tests. */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "nmr_test_modules.h"

const nmr_npi_id_t test_npi_a = {0x11111111, 0x2222, 0x3333, {1, 2, 3, 4, 5, 6, 7, 8}};
const nmr_npi_id_t test_npi_b = {0x11111111, 0x2222, 0x3333, {1, 2, 3, 4, 5, 6, 7, 9}};

static int return_tag(const test_module_t *module)
{
    return module->tag;
}

/* A binding context: which module and which binding. */
typedef struct test_binding_context {
    test_module_t *module;
    nmr_binding_t *binding;
} test_binding_context_t;

static int answer_detach(test_binding_context_t *context, bool client)
{
    test_module_t *module = context->module;
    atomic_fetch_add(&module->detaches, 1);
    atomic_store(&module->last_binding, context->binding);
    atomic_store(&module->peer_dispatch, NULL);
    if (!module->behaviour.detach_pending)
        return 0;
    if (module->behaviour.complete_inside) {
        int rc = client ? nmr_client_detach_provider_complete(context->binding)
                        : nmr_provider_detach_client_complete(context->binding);
        if (rc != 0)
            return rc;
    }
    return NMR_PENDING;
}

static void cleanup(void *binding_context)
{
    test_binding_context_t *context = binding_context;
    atomic_fetch_add(&context->module->cleanups, 1);
    ebpf_free(context);
}

static int provider_attach_client(nmr_binding_t *binding, void *provider_context,
                                  const nmr_registration_instance_t *client,
                                  void *client_binding_context, const void *client_dispatch,
                                  void **provider_binding_context, const void **provider_dispatch)
{
    test_module_t *module = provider_context;
    test_binding_context_t *context;

    if (module->behaviour.attach_result != 0)
        return module->behaviour.attach_result;
    context = ebpf_allocate(sizeof(*context));
    if (context == NULL)
        return -ENOMEM;
    context->module = module;
    context->binding = binding;
    atomic_fetch_add(&module->attaches, 1);
    atomic_store(&module->peer_dispatch, client_dispatch);
    *provider_binding_context = context;
    *provider_dispatch = module->dispatch;
    return 0;
}

static int provider_detach_client(void *provider_binding_context)
{
    return answer_detach(provider_binding_context, false);
}

static int client_attach_provider(nmr_binding_t *binding, void *client_context,
                                  const nmr_registration_instance_t *provider)
{
    test_module_t *module = client_context;
    test_binding_context_t *context;
    void *provider_binding_context;
    const void *provider_dispatch;
    int rc;

    if (module->behaviour.attach_delay_us)
        usleep(module->behaviour.attach_delay_us);
    if (module->behaviour.attach_result != 0)
        return module->behaviour.attach_result;
    context = ebpf_allocate(sizeof(*context));
    if (context == NULL)
        return -ENOMEM;
    context->module = module;
    context->binding = binding;
    rc = nmr_client_attach_provider(binding, context, module->dispatch, &provider_binding_context,
                                    &provider_dispatch);
    if (rc != 0) {
        ebpf_free(context);
        return rc;
    }
    if (module->behaviour.fail_after_attach != 0) {
        ebpf_free(context);
        return module->behaviour.fail_after_attach;
    }
    atomic_fetch_add(&module->attaches, 1);
    atomic_store(&module->peer_dispatch, provider_dispatch);
    return 0;
}

static int client_detach_provider(void *client_binding_context)
{
    return answer_detach(client_binding_context, true);
}

static void init_instance(test_module_t *module, nmr_registration_instance_t *instance,
                          const nmr_npi_id_t *npi, int tag)
{
    module->module_id = (nmr_module_id_t){(uint32_t)tag, 0xabcd, 0xef01, {0}};
    module->tag = tag;
    module->dispatch[0] = return_tag;
    instance->version = NMR_REGISTRATION_INSTANCE_VERSION;
    instance->size = sizeof(*instance);
    instance->npi_id = npi;
    instance->module_id = &module->module_id;
}

void test_module_init_provider(test_module_t *module, const nmr_npi_id_t *npi, int tag)
{
    *module = (test_module_t){0};
    module->provider_characteristics = (nmr_provider_characteristics_t){
        .version = NMR_CHARACTERISTICS_VERSION,
        .size = sizeof(nmr_provider_characteristics_t),
        .attach_client = provider_attach_client,
        .detach_client = provider_detach_client,
        .cleanup_binding_context = cleanup,
    };
    init_instance(module, &module->provider_characteristics.registration_instance, npi, tag);
}

void test_module_init_client(test_module_t *module, const nmr_npi_id_t *npi, int tag)
{
    *module = (test_module_t){0};
    module->client_characteristics = (nmr_client_characteristics_t){
        .version = NMR_CHARACTERISTICS_VERSION,
        .size = sizeof(nmr_client_characteristics_t),
        .attach_provider = client_attach_provider,
        .detach_provider = client_detach_provider,
        .cleanup_binding_context = cleanup,
    };
    init_instance(module, &module->client_characteristics.registration_instance, npi, tag);
}

int test_module_call_peer(test_module_t *module)
{
    int (*const *dispatch)(const test_module_t *) = atomic_load(&module->peer_dispatch);
    if (dispatch == NULL)
        return -1;
    /* The peer's tag: the dispatch table belongs to the peer module, whose address we can
     * recover because the table is a member of it. */
    const test_module_t *peer =
        (const test_module_t *)((const char *)dispatch - offsetof(test_module_t, dispatch));
    return dispatch[0](peer);
}
