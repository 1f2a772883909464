/* Stress: threads register and deregister providers and clients at random while callers go
 * through the dispatch tables of live bindings; rundown and epochs protect calls in flight.
 * Bounded by NMR_STRESS_SECONDS (default 2). Meant to run under ThreadSanitizer too. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebpf_platform.h"
#include "nmr.h"

#define PROVIDER_SLOTS 3
#define CLIENT_SLOTS   3
#define BINDING_SLOTS  (PROVIDER_SLOTS * CLIENT_SLOTS * 4)

static const nmr_npi_id_t stress_npi = {0x5f5f5f5f, 1, 2, {3, 4, 5, 6, 7, 8, 9, 10}};
static const nmr_module_id_t stress_module = {0x1, 2, 3, {4}};

/* A provider's binding context: what its dispatch entry touches. Freed at provider cleanup,
 * which the registrar runs only after the client side detached (no call in flight). */
typedef struct provider_binding {
    _Atomic uint64_t calls;
    uint64_t magic;
} provider_binding_t;
#define PROVIDER_MAGIC 0x70726f7669646572ull

typedef uint64_t (*provider_call_fn)(provider_binding_t *binding);
static uint64_t provider_entry(provider_binding_t *binding)
{
    /* A call after cleanup would read freed memory (ASan) or a wrong magic. */
    if (binding->magic != PROVIDER_MAGIC)
        abort();
    return atomic_fetch_add_explicit(&binding->calls, 1, memory_order_relaxed);
}
static const provider_call_fn provider_dispatch[1] = {provider_entry};

/* A client's binding context, published for callers in a slot read under an epoch. */
typedef struct client_binding {
    ebpf_rundown_t rundown; /* in-flight calls into the provider */
    nmr_binding_t *binding;
    provider_binding_t *provider_context;
    const provider_call_fn *provider_dispatch;
    int slot;
    ebpf_epoch_work_t free_work;
} client_binding_t;

/* Published client bindings; a slot is claimed with a CAS from NULL, cleared at detach. */
static client_binding_t *_Atomic binding_slots[BINDING_SLOTS];

static _Atomic bool stop;
static _Atomic uint64_t total_calls, provider_cleanups, client_cleanups, attaches, pending_used;

typedef struct stress_slot {
    pthread_mutex_t lock; /* owned by the thread toggling this slot */
    bool registered;
    nmr_provider_characteristics_t provider_characteristics;
    nmr_client_characteristics_t client_characteristics;
    nmr_provider_t *provider;
    nmr_client_t *client;
} stress_slot_t;

static stress_slot_t providers[PROVIDER_SLOTS], clients[CLIENT_SLOTS];

static int provider_attach(nmr_binding_t *binding, void *provider_context,
                           const nmr_registration_instance_t *client, void *client_binding_context,
                           const void *client_dispatch, void **provider_binding_context,
                           const void **dispatch)
{
    provider_binding_t *context = ebpf_allocate(sizeof(*context));
    if (context == NULL)
        return -ENOMEM;
    context->magic = PROVIDER_MAGIC;
    *provider_binding_context = context;
    *dispatch = provider_dispatch;
    return 0;
}

static int provider_detach(void *provider_binding_context)
{
    return 0;
}

static void provider_cleanup(void *provider_binding_context)
{
    provider_binding_t *context = provider_binding_context;
    atomic_fetch_add(&total_calls, atomic_load(&context->calls));
    context->magic = 0;
    ebpf_free(context);
    atomic_fetch_add(&provider_cleanups, 1);
}

static int client_attach(nmr_binding_t *binding, void *client_context,
                         const nmr_registration_instance_t *provider)
{
    client_binding_t *context = ebpf_allocate(sizeof(*context));
    void *provider_context;
    const void *dispatch;
    int rc;

    if (context == NULL)
        return -ENOMEM;
    ebpf_rundown_init(&context->rundown);
    context->binding = binding;
    context->slot = -1;
    rc = nmr_client_attach_provider(binding, context, NULL, &provider_context, &dispatch);
    if (rc != 0) {
        ebpf_rundown_destroy(&context->rundown);
        ebpf_free(context);
        return rc;
    }
    context->provider_context = provider_context;
    context->provider_dispatch = dispatch;
    for (int i = 0; i < BINDING_SLOTS; i++) {
        client_binding_t *expected = NULL;
        if (atomic_compare_exchange_strong(&binding_slots[i], &expected, context)) {
            context->slot = i;
            break;
        }
    }
    atomic_fetch_add(&attaches, 1);
    return 0;
}

static void *finish_detach_later(void *argument)
{
    client_binding_t *context = argument;
    ebpf_rundown_wait(&context->rundown);
    nmr_client_detach_provider_complete(context->binding);
    return NULL;
}

static int client_detach(void *client_binding_context)
{
    client_binding_t *context = client_binding_context;

    /* Unpublish, so new callers cannot find it; callers already inside hold the rundown. */
    if (context->slot >= 0)
        ebpf_epoch_publish(&binding_slots[context->slot], NULL);
    if (rand() % 2) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, finish_detach_later, context) == 0) {
            pthread_detach(thread);
            atomic_fetch_add(&pending_used, 1);
            return NMR_PENDING;
        }
    }
    ebpf_rundown_wait(&context->rundown);
    return 0;
}

static void free_client_binding(ebpf_epoch_work_t *work)
{
    client_binding_t *context =
        (client_binding_t *)((char *)work - offsetof(client_binding_t, free_work));
    ebpf_rundown_destroy(&context->rundown);
    ebpf_free(context);
}

static void client_cleanup(void *client_binding_context)
{
    client_binding_t *context = client_binding_context;
    atomic_fetch_add(&client_cleanups, 1);
    /* A caller may still be between loading the slot and failing the acquire. */
    ebpf_epoch_defer(&context->free_work, free_client_binding);
}

static void toggle(stress_slot_t *slot, bool provider)
{
    if (pthread_mutex_trylock(&slot->lock) != 0)
        return;
    if (!slot->registered) {
        int rc = provider
                     ? nmr_register_provider(&slot->provider_characteristics, slot, &slot->provider)
                     : nmr_register_client(&slot->client_characteristics, slot, &slot->client);
        if (rc != 0)
            abort();
        slot->registered = true;
    } else {
        int rc = provider ? nmr_deregister_provider(slot->provider)
                          : nmr_deregister_client(slot->client);
        if (rc != 0 && rc != NMR_PENDING)
            abort();
        rc = provider ? nmr_wait_for_provider_deregister_complete(slot->provider)
                      : nmr_wait_for_client_deregister_complete(slot->client);
        if (rc != 0)
            abort();
        slot->registered = false;
    }
    pthread_mutex_unlock(&slot->lock);
}

static void *registrar_worker(void *argument)
{
    unsigned seed = (unsigned)(uintptr_t)argument;
    while (!atomic_load(&stop)) {
        if (rand_r(&seed) % 2)
            toggle(&providers[rand_r(&seed) % PROVIDER_SLOTS], true);
        else
            toggle(&clients[rand_r(&seed) % CLIENT_SLOTS], false);
        usleep(rand_r(&seed) % 500);
    }
    return NULL;
}

static void *caller_worker(void *argument)
{
    unsigned seed = (unsigned)(uintptr_t)argument;
    uint64_t *made = ebpf_allocate(sizeof(*made));
    while (!atomic_load(&stop)) {
        ebpf_epoch_enter();
        client_binding_t *context =
            ebpf_epoch_dereference(&binding_slots[rand_r(&seed) % BINDING_SLOTS]);
        if (context != NULL && ebpf_rundown_acquire(&context->rundown)) {
            context->provider_dispatch[0](context->provider_context);
            ebpf_rundown_release(&context->rundown);
            (*made)++;
        }
        ebpf_epoch_exit();
    }
    return made;
}

static void test_register_deregister_and_call_at_random(void **state)
{
    const char *seconds_text = getenv("NMR_STRESS_SECONDS");
    unsigned seconds = seconds_text ? (unsigned)atoi(seconds_text) : 2;
    pthread_t registrars[3], callers[3];
    uint64_t calls_made = 0;
    int64_t before = ebpf_allocation_outstanding();

    for (int i = 0; i < PROVIDER_SLOTS; i++) {
        pthread_mutex_init(&providers[i].lock, NULL);
        providers[i].provider_characteristics = (nmr_provider_characteristics_t){
            NMR_CHARACTERISTICS_VERSION,
            sizeof(nmr_provider_characteristics_t),
            provider_attach,
            provider_detach,
            provider_cleanup,
            {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &stress_npi,
             &stress_module, 0, NULL}};
    }
    for (int i = 0; i < CLIENT_SLOTS; i++) {
        pthread_mutex_init(&clients[i].lock, NULL);
        clients[i].client_characteristics = (nmr_client_characteristics_t){
            NMR_CHARACTERISTICS_VERSION,
            sizeof(nmr_client_characteristics_t),
            client_attach,
            client_detach,
            client_cleanup,
            {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &stress_npi,
             &stress_module, 0, NULL}};
    }
    for (uintptr_t i = 0; i < 3; i++) {
        assert_int_equal(pthread_create(&registrars[i], NULL, registrar_worker, (void *)(i + 1)),
                         0);
        assert_int_equal(pthread_create(&callers[i], NULL, caller_worker, (void *)(i + 11)), 0);
    }
    sleep(seconds);
    atomic_store(&stop, true);
    for (int i = 0; i < 3; i++) {
        void *made;
        pthread_join(registrars[i], NULL);
        pthread_join(callers[i], &made);
        calls_made += *(uint64_t *)made;
        ebpf_free(made);
    }
    /* Tear down what is left. */
    for (int i = 0; i < PROVIDER_SLOTS; i++) {
        if (providers[i].registered)
            toggle(&providers[i], true);
    }
    for (int i = 0; i < CLIENT_SLOTS; i++) {
        if (clients[i].registered)
            toggle(&clients[i], false);
    }
    ebpf_epoch_barrier();

    nmr_statistics_t statistics;
    nmr_get_statistics(&statistics);
    assert_int_equal(statistics.bindings, 0);
    assert_int_equal(statistics.providers, 0);
    assert_int_equal(statistics.clients, 0);
    /* Every binding cleaned up exactly once on each side, every call counted by a provider. */
    assert_true(atomic_load(&attaches) > 10);
    assert_int_equal(atomic_load(&provider_cleanups), atomic_load(&attaches));
    assert_int_equal(atomic_load(&client_cleanups), atomic_load(&attaches));
    assert_int_equal(atomic_load(&total_calls), calls_made);
    assert_true(calls_made > 0);
    assert_true(atomic_load(&pending_used) > 0);
    assert_int_equal(ebpf_allocation_outstanding(), before);
    print_message("stress: %llu bindings, %llu calls, %llu pending detaches\n",
                  (unsigned long long)atomic_load(&attaches), (unsigned long long)calls_made,
                  (unsigned long long)atomic_load(&pending_used));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_deregister_and_call_at_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
