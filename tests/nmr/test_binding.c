/* Tests of the registrar: binding in both orders, fan-out, decline and failure, pending detach,
 * cleanup exactly once, wait-for-deregister, and bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nmr_test_modules.h"

static void assert_registrar_empty(void)
{
    nmr_statistics_t statistics;
    nmr_get_statistics(&statistics);
    assert_int_equal(statistics.providers, 0);
    assert_int_equal(statistics.clients, 0);
    assert_int_equal(statistics.bindings, 0);
}

static void deregister_provider(test_module_t *module)
{
    int rc = nmr_deregister_provider(module->provider);
    assert_true(rc == 0 || rc == NMR_PENDING);
    assert_int_equal(nmr_wait_for_provider_deregister_complete(module->provider), 0);
}

static void deregister_client(test_module_t *module)
{
    int rc = nmr_deregister_client(module->client);
    assert_true(rc == 0 || rc == NMR_PENDING);
    assert_int_equal(nmr_wait_for_client_deregister_complete(module->client), 0);
}

static void bind_and_check(bool provider_first)
{
    test_module_t provider, client;
    int64_t before = ebpf_allocation_outstanding();

    test_module_init_provider(&provider, &test_npi_a, 10);
    test_module_init_client(&client, &test_npi_a, 20);
    if (provider_first) {
        assert_int_equal(nmr_register_provider(&provider.provider_characteristics, &provider,
                                               &provider.provider),
                         0);
        assert_int_equal(provider.attaches, 0);
        assert_int_equal(
            nmr_register_client(&client.client_characteristics, &client, &client.client), 0);
    } else {
        assert_int_equal(
            nmr_register_client(&client.client_characteristics, &client, &client.client), 0);
        assert_int_equal(client.attaches, 0);
        assert_int_equal(nmr_register_provider(&provider.provider_characteristics, &provider,
                                               &provider.provider),
                         0);
    }
    /* Bound before register returned, dispatch tables exchanged both ways. */
    assert_int_equal(provider.attaches, 1);
    assert_int_equal(client.attaches, 1);
    assert_int_equal(test_module_call_peer(&client), 10);
    assert_int_equal(test_module_call_peer(&provider), 20);

    deregister_client(&client);
    assert_int_equal(client.detaches, 1);
    assert_int_equal(provider.detaches, 1);
    assert_int_equal(client.cleanups, 1);
    assert_int_equal(provider.cleanups, 1);
    assert_int_equal(test_module_call_peer(&client), -1);
    deregister_provider(&provider);
    assert_int_equal(provider.detaches, 1); /* nothing left to detach */
    assert_registrar_empty();
    assert_int_equal(ebpf_allocation_outstanding(), before);
}

static void test_bind_provider_first(void **state)
{
    bind_and_check(true);
}

static void test_bind_client_first(void **state)
{
    bind_and_check(false);
}

static void test_many_providers_many_clients_two_npis(void **state)
{
    test_module_t providers[5], clients[6];
    nmr_statistics_t statistics;

    /* Providers 0-2 and clients 0-3 on NPI a; providers 3-4 and clients 4-5 on NPI b;
     * registrations interleaved. */
    for (int i = 0; i < 5; i++)
        test_module_init_provider(&providers[i], i < 3 ? &test_npi_a : &test_npi_b, 100 + i);
    for (int i = 0; i < 6; i++)
        test_module_init_client(&clients[i], i < 4 ? &test_npi_a : &test_npi_b, 200 + i);
    for (int i = 0; i < 6; i++) {
        if (i < 5)
            assert_int_equal(nmr_register_provider(&providers[i].provider_characteristics,
                                                   &providers[i], &providers[i].provider),
                             0);
        assert_int_equal(nmr_register_client(&clients[i].client_characteristics, &clients[i],
                                             &clients[i].client),
                         0);
    }
    nmr_get_statistics(&statistics);
    assert_int_equal(statistics.bindings, 3 * 4 + 2 * 2);
    for (int i = 0; i < 5; i++)
        assert_int_equal(providers[i].attaches, i < 3 ? 4 : 2);
    for (int i = 0; i < 6; i++)
        assert_int_equal(clients[i].attaches, i < 4 ? 3 : 2);

    /* Deregistering one provider detaches exactly its bindings. */
    deregister_provider(&providers[1]);
    assert_int_equal(providers[1].cleanups, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(clients[i].cleanups, 1);
    nmr_get_statistics(&statistics);
    assert_int_equal(statistics.bindings, 2 * 4 + 2 * 2);

    for (int i = 0; i < 6; i++)
        deregister_client(&clients[i]);
    for (int i = 0; i < 5; i++) {
        if (i != 1)
            deregister_provider(&providers[i]);
    }
    for (int i = 0; i < 5; i++)
        assert_int_equal(providers[i].cleanups, providers[i].attaches);
    for (int i = 0; i < 6; i++)
        assert_int_equal(clients[i].cleanups, clients[i].attaches);
    assert_registrar_empty();
}

static void test_client_declines_and_provider_refuses(void **state)
{
    test_module_t provider, declining, refused;
    nmr_statistics_t statistics;

    test_module_init_provider(&provider, &test_npi_a, 1);
    test_module_init_client(&declining, &test_npi_a, 2);
    declining.behaviour.attach_result = NMR_NOINTERFACE;
    assert_int_equal(
        nmr_register_provider(&provider.provider_characteristics, &provider, &provider.provider),
        0);
    assert_int_equal(
        nmr_register_client(&declining.client_characteristics, &declining, &declining.client), 0);
    nmr_get_statistics(&statistics);
    assert_int_equal(statistics.bindings, 0);
    assert_int_equal(provider.attaches, 0);

    nmr_get_statistics(&statistics);
    uint64_t failed_before = statistics.bindings_failed;
    /* The provider refuses: the client sees the provider's error and no binding forms. */
    provider.behaviour.attach_result = -EPERM;
    test_module_init_client(&refused, &test_npi_a, 3);
    assert_int_equal(
        nmr_register_client(&refused.client_characteristics, &refused, &refused.client), 0);
    nmr_get_statistics(&statistics);
    assert_int_equal(statistics.bindings, 0);
    assert_int_equal(refused.attaches, 0);
    /* A failure (not a decline) is counted. */
    assert_int_equal(statistics.bindings_failed, failed_before + 1);

    deregister_client(&declining);
    deregister_client(&refused);
    deregister_provider(&provider);
    assert_int_equal(declining.cleanups + refused.cleanups + provider.cleanups, 0);
    assert_registrar_empty();
}

static void test_client_fails_after_provider_accepted(void **state)
{
    test_module_t provider, client;
    test_module_init_provider(&provider, &test_npi_a, 1);
    test_module_init_client(&client, &test_npi_a, 2);
    client.behaviour.fail_after_attach = -EIO;
    assert_int_equal(
        nmr_register_provider(&provider.provider_characteristics, &provider, &provider.provider),
        0);
    assert_int_equal(nmr_register_client(&client.client_characteristics, &client, &client.client),
                     0);
    /* The provider accepted, so it is detached and cleaned up; the client has nothing. */
    assert_int_equal(provider.attaches, 1);
    assert_int_equal(provider.detaches, 1);
    assert_int_equal(provider.cleanups, 1);
    assert_int_equal(client.detaches, 0);
    assert_int_equal(client.cleanups, 0);
    deregister_client(&client);
    deregister_provider(&provider);
    assert_registrar_empty();
}

typedef struct completer {
    test_module_t *module;
    bool client_side;
    useconds_t delay;
    _Atomic int result;
} completer_t;

static void *complete_later(void *argument)
{
    completer_t *completer = argument;
    usleep(completer->delay);
    nmr_binding_t *binding = atomic_load(&completer->module->last_binding);
    atomic_store(&completer->result, completer->client_side
                                         ? nmr_client_detach_provider_complete(binding)
                                         : nmr_provider_detach_client_complete(binding));
    return NULL;
}

static void test_pending_detach_completed_from_another_thread(void **state)
{
    test_module_t provider, client;
    pthread_t thread;
    completer_t completer;

    test_module_init_provider(&provider, &test_npi_a, 1);
    test_module_init_client(&client, &test_npi_a, 2);
    provider.behaviour.detach_pending = true;
    assert_int_equal(
        nmr_register_provider(&provider.provider_characteristics, &provider, &provider.provider),
        0);
    assert_int_equal(nmr_register_client(&client.client_characteristics, &client, &client.client),
                     0);

    assert_int_equal(nmr_deregister_client(client.client), NMR_PENDING);
    assert_int_equal(provider.detaches, 1);
    assert_int_equal(client.cleanups, 0); /* not before both sides completed */
    completer = (completer_t){.module = &provider, .client_side = false, .delay = 20000};
    assert_int_equal(pthread_create(&thread, NULL, complete_later, &completer), 0);
    /* Completing the wrong side is refused: the client side is not pending. */
    assert_int_equal(nmr_client_detach_provider_complete(atomic_load(&provider.last_binding)),
                     -EINVAL);
    assert_int_equal(nmr_wait_for_client_deregister_complete(client.client), 0);
    pthread_join(thread, NULL);
    assert_int_equal(atomic_load(&completer.result), 0);
    assert_int_equal(client.cleanups, 1);
    assert_int_equal(provider.cleanups, 1);
    deregister_provider(&provider);
    assert_registrar_empty();
}

static void test_pending_detach_completed_inside_callback(void **state)
{
    test_module_t provider, client;
    test_module_init_provider(&provider, &test_npi_a, 1);
    test_module_init_client(&client, &test_npi_a, 2);
    client.behaviour.detach_pending = true;
    client.behaviour.complete_inside = true;
    provider.behaviour.detach_pending = true;
    provider.behaviour.complete_inside = true;
    assert_int_equal(nmr_register_client(&client.client_characteristics, &client, &client.client),
                     0);
    assert_int_equal(
        nmr_register_provider(&provider.provider_characteristics, &provider, &provider.provider),
        0);
    /* Both answered pending but completed first: cleanup already ran. */
    assert_int_equal(nmr_deregister_provider(provider.provider), 0);
    assert_int_equal(client.cleanups, 1);
    assert_int_equal(provider.cleanups, 1);
    assert_int_equal(nmr_wait_for_provider_deregister_complete(provider.provider), 0);
    deregister_client(&client);
    assert_registrar_empty();
}

static void test_rebinding_after_reregistration(void **state)
{
    test_module_t provider, client, provider_again;
    test_module_init_provider(&provider, &test_npi_a, 1);
    test_module_init_client(&client, &test_npi_a, 2);
    assert_int_equal(nmr_register_client(&client.client_characteristics, &client, &client.client),
                     0);
    for (int round = 0; round < 3; round++) {
        test_module_init_provider(&provider_again, &test_npi_a, 50 + round);
        assert_int_equal(nmr_register_provider(&provider_again.provider_characteristics,
                                               &provider_again, &provider_again.provider),
                         0);
        assert_int_equal(test_module_call_peer(&client), 50 + round);
        deregister_provider(&provider_again);
        assert_int_equal(test_module_call_peer(&client), -1);
    }
    assert_int_equal(client.attaches, 3);
    assert_int_equal(client.cleanups, 3);
    deregister_client(&client);
    (void)provider;
    assert_registrar_empty();
}

typedef struct registrar_thread {
    test_module_t *module;
    _Atomic int result;
} registrar_thread_t;

static void *register_client_thread(void *argument)
{
    registrar_thread_t *thread = argument;
    atomic_store(&thread->result, nmr_register_client(&thread->module->client_characteristics,
                                                      thread->module, &thread->module->client));
    return NULL;
}

static void test_deregistration_racing_an_attach_completes(void **state)
{
    test_module_t provider, client;
    registrar_thread_t registering = {.module = &client};
    pthread_t thread;
    nmr_statistics_t statistics;

    test_module_init_provider(&provider, &test_npi_a, 1);
    test_module_init_client(&client, &test_npi_a, 2);
    client.behaviour.attach_delay_us = 100000;
    assert_int_equal(
        nmr_register_provider(&provider.provider_characteristics, &provider, &provider.provider),
        0);
    assert_int_equal(pthread_create(&thread, NULL, register_client_thread, &registering), 0);
    /* Wait until the attach is in progress, then deregister the provider under it. */
    for (;;) {
        nmr_get_statistics(&statistics);
        if (statistics.bindings == 1)
            break;
        usleep(1000);
    }
    assert_int_equal(nmr_deregister_provider(provider.provider), NMR_PENDING);
    assert_int_equal(nmr_wait_for_provider_deregister_complete(provider.provider), 0);
    pthread_join(thread, NULL);
    assert_int_equal(atomic_load(&registering.result), 0);
    /* The attach finished, then the binding was detached and cleaned up on both sides. */
    assert_int_equal(client.attaches, 1);
    assert_int_equal(client.detaches, 1);
    assert_int_equal(client.cleanups, 1);
    assert_int_equal(provider.cleanups, 1);
    deregister_client(&client);
    assert_registrar_empty();
}

static void test_bad_input(void **state)
{
    test_module_t provider, client;
    nmr_provider_t *provider_handle;
    nmr_client_t *client_handle;
    void *context;
    const void *dispatch;

    test_module_init_provider(&provider, &test_npi_a, 1);
    test_module_init_client(&client, &test_npi_a, 2);
    assert_int_equal(nmr_register_provider(NULL, NULL, &provider_handle), -EINVAL);
    assert_int_equal(nmr_register_client(&client.client_characteristics, NULL, NULL), -EINVAL);

    provider.provider_characteristics.size = 4;
    assert_int_equal(
        nmr_register_provider(&provider.provider_characteristics, &provider, &provider_handle),
        -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "size 4"));
    provider.provider_characteristics.size = sizeof(nmr_provider_characteristics_t);
    provider.provider_characteristics.registration_instance.npi_id = NULL;
    assert_int_equal(
        nmr_register_provider(&provider.provider_characteristics, &provider, &provider_handle),
        -EINVAL);
    provider.provider_characteristics.registration_instance.npi_id = &test_npi_a;
    client.client_characteristics.attach_provider = NULL;
    assert_int_equal(nmr_register_client(&client.client_characteristics, &client, &client_handle),
                     -EINVAL);

    /* Unknown handles. */
    int not_a_handle;
    assert_int_equal(nmr_deregister_provider((nmr_provider_t *)&not_a_handle), -EINVAL);
    assert_int_equal(nmr_deregister_client(NULL), -EINVAL);
    assert_int_equal(nmr_wait_for_client_deregister_complete((nmr_client_t *)&not_a_handle),
                     -EINVAL);
    assert_int_equal(nmr_client_detach_provider_complete((nmr_binding_t *)&not_a_handle), -EINVAL);
    assert_int_equal(nmr_provider_detach_client_complete(NULL), -EINVAL);
    assert_int_equal(
        nmr_client_attach_provider((nmr_binding_t *)&not_a_handle, NULL, NULL, &context, &dispatch),
        -EINVAL);

    /* Wait before deregister, deregister twice, wait twice. */
    assert_int_equal(
        nmr_register_provider(&provider.provider_characteristics, &provider, &provider.provider),
        0);
    assert_int_equal(nmr_wait_for_provider_deregister_complete(provider.provider), -EINVAL);
    assert_int_equal(nmr_deregister_provider(provider.provider), 0);
    assert_int_equal(nmr_deregister_provider(provider.provider), -EALREADY);
    assert_int_equal(nmr_wait_for_provider_deregister_complete(provider.provider), 0);
    assert_int_equal(nmr_wait_for_provider_deregister_complete(provider.provider), -EINVAL);
    assert_int_equal(nmr_deregister_provider(provider.provider), -EINVAL);
    assert_registrar_empty();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_provider_first),
        cmocka_unit_test(test_bind_client_first),
        cmocka_unit_test(test_many_providers_many_clients_two_npis),
        cmocka_unit_test(test_client_declines_and_provider_refuses),
        cmocka_unit_test(test_client_fails_after_provider_accepted),
        cmocka_unit_test(test_pending_detach_completed_from_another_thread),
        cmocka_unit_test(test_pending_detach_completed_inside_callback),
        cmocka_unit_test(test_rebinding_after_reregistration),
        cmocka_unit_test(test_deregistration_racing_an_attach_completes),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
