/* nmr_demo: a provider and a client find each other through the registrar, call, and unbind. */
#include <errno.h>
#include <stdio.h>

#include "ebpf_platform.h"
#include "nmr.h"

/* A made-up "greeting" NPI: the provider offers greet(), the client calls it. */
static const nmr_npi_id_t greeting_npi = {
    0x6a2f1c3e, 0x41d0, 0x4b8e, {0x9a, 0x51, 0x0c, 0x7e, 0x22, 0x13, 0x6f, 0x01}};
static const nmr_module_id_t provider_module = {
    0x6a2f1c3e, 0x41d0, 0x4b8e, {0x9a, 0x51, 0x0c, 0x7e, 0x22, 0x13, 0x6f, 0x02}};
static const nmr_module_id_t client_module = {
    0x6a2f1c3e, 0x41d0, 0x4b8e, {0x9a, 0x51, 0x0c, 0x7e, 0x22, 0x13, 0x6f, 0x03}};

typedef struct greeting_dispatch {
    int (*greet)(void *provider_binding_context, const char *who);
} greeting_dispatch_t;

typedef struct provider_binding {
    int greetings;
} provider_binding_t;

typedef struct client_binding {
    void *provider_binding_context;
    const greeting_dispatch_t *provider;
} client_binding_t;

static int greet(void *context, const char *who)
{
    provider_binding_t *binding = context;
    binding->greetings++;
    printf("  provider: hello, %s (greeting #%d on this binding)\n", who, binding->greetings);
    return binding->greetings;
}

static const greeting_dispatch_t provider_dispatch = {greet};

static int provider_attach_client(nmr_binding_t *binding, void *provider_context,
                                  const nmr_registration_instance_t *client,
                                  void *client_binding_context, const void *client_dispatch,
                                  void **provider_binding_context, const void **dispatch)
{
    char module[EBPF_GUID_STRING_LENGTH + 1];
    provider_binding_t *context = ebpf_allocate(sizeof(*context));
    if (context == NULL)
        return -ENOMEM;
    ebpf_guid_to_string(client->module_id, module);
    printf("  provider: client module %s attached\n", module);
    *provider_binding_context = context;
    *dispatch = &provider_dispatch;
    return 0;
}

static int provider_detach_client(void *provider_binding_context)
{
    printf("  provider: client detached\n");
    return 0;
}

static void provider_cleanup(void *provider_binding_context)
{
    ebpf_free(provider_binding_context);
}

static client_binding_t *bound; /* the demo has one binding at most */
static int calls_made;

static int client_attach_provider(nmr_binding_t *binding, void *client_context,
                                  const nmr_registration_instance_t *provider)
{
    char module[EBPF_GUID_STRING_LENGTH + 1];
    const void *dispatch;
    int rc;
    client_binding_t *context = ebpf_allocate(sizeof(*context));

    if (context == NULL)
        return -ENOMEM;
    ebpf_guid_to_string(provider->module_id, module);
    printf("  client: found provider module %s, attaching\n", module);
    rc = nmr_client_attach_provider(binding, context, NULL, &context->provider_binding_context,
                                    &dispatch);
    if (rc != 0) {
        ebpf_free(context);
        return rc;
    }
    context->provider = dispatch;
    bound = context;
    return 0;
}

static int client_detach_provider(void *client_binding_context)
{
    printf("client detached: %d calls went through\n", calls_made);
    bound = NULL;
    return 0;
}

static void client_cleanup(void *client_binding_context)
{
    ebpf_free(client_binding_context);
}

int main(void)
{
    const nmr_provider_characteristics_t provider_characteristics = {
        NMR_CHARACTERISTICS_VERSION,
        sizeof(provider_characteristics),
        provider_attach_client,
        provider_detach_client,
        provider_cleanup,
        {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &greeting_npi,
         &provider_module, 0, NULL},
    };
    const nmr_client_characteristics_t client_characteristics = {
        NMR_CHARACTERISTICS_VERSION,
        sizeof(client_characteristics),
        client_attach_provider,
        client_detach_provider,
        client_cleanup,
        {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &greeting_npi,
         &client_module, 0, NULL},
    };
    nmr_provider_t *provider;
    nmr_client_t *client;
    nmr_statistics_t statistics;

    printf("registering the client (no provider yet: nothing to bind)\n");
    if (nmr_register_client(&client_characteristics, NULL, &client) != 0)
        goto failed;
    printf("registering the provider: the registrar binds them before register returns\n");
    if (nmr_register_provider(&provider_characteristics, NULL, &provider) != 0)
        goto failed;
    nmr_get_statistics(&statistics);
    printf("bindings now: %llu\n", (unsigned long long)statistics.bindings);

    static const char *const names[] = {"world", "netevent"};
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(names) && bound != NULL; i++) {
        bound->provider->greet(bound->provider_binding_context, names[i]);
        calls_made++;
    }

    printf("deregistering the provider: both sides detach, then clean up\n");
    if (nmr_deregister_provider(provider) < 0 ||
        nmr_wait_for_provider_deregister_complete(provider) != 0)
        goto failed;
    if (nmr_deregister_client(client) < 0 || nmr_wait_for_client_deregister_complete(client) != 0)
        goto failed;
    nmr_get_statistics(&statistics);
    printf("bindings now: %llu, registrations left: %llu\n",
           (unsigned long long)statistics.bindings,
           (unsigned long long)(statistics.providers + statistics.clients));
    return 0;

failed:
    fprintf(stderr, "nmr_demo: %s\n", ebpf_last_error());
    return 1;
}
