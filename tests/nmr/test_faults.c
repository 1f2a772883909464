/* Fault injection over the registrar: every allocation failed in turn leaves no leak and a
 * consistent registrar that works again once failures stop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "nmr_test_modules.h"

#define CLIENTS 3

/* Registers a provider and clients, checks the bindings that formed really work, and tears
 * everything down. Any step may fail by injection; what succeeded is undone. Returns the
 * number of bindings that formed. */
static int run_scenario(void)
{
    test_module_t provider, clients[CLIENTS];
    bool provider_registered, client_registered[CLIENTS];
    int bindings = 0;

    test_module_init_provider(&provider, &test_npi_a, 7);
    for (int i = 0; i < CLIENTS; i++) {
        test_module_init_client(&clients[i], &test_npi_a, 70 + i);
        client_registered[i] = nmr_register_client(&clients[i].client_characteristics, &clients[i],
                                                   &clients[i].client) == 0;
    }
    provider_registered = nmr_register_provider(&provider.provider_characteristics, &provider,
                                                &provider.provider) == 0;
    for (int i = 0; i < CLIENTS; i++) {
        int peer = test_module_call_peer(&clients[i]);
        if (peer == 7)
            bindings++;
        else
            assert_int_equal(peer, -1);
    }
    assert_int_equal(provider.attaches, bindings);
    if (provider_registered) {
        int rc = nmr_deregister_provider(provider.provider);
        assert_true(rc == 0 || rc == NMR_PENDING);
        assert_int_equal(nmr_wait_for_provider_deregister_complete(provider.provider), 0);
    }
    for (int i = 0; i < CLIENTS; i++) {
        if (!client_registered[i])
            continue;
        int rc = nmr_deregister_client(clients[i].client);
        assert_true(rc == 0 || rc == NMR_PENDING);
        assert_int_equal(nmr_wait_for_client_deregister_complete(clients[i].client), 0);
    }
    /* Cleanup exactly once per binding on both sides. */
    assert_int_equal(provider.cleanups, provider.attaches);
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(clients[i].cleanups, clients[i].attaches);
    return bindings;
}

static void assert_clean(int64_t outstanding_before)
{
    nmr_statistics_t statistics;
    nmr_get_statistics(&statistics);
    assert_int_equal(statistics.providers, 0);
    assert_int_equal(statistics.clients, 0);
    assert_int_equal(statistics.bindings, 0);
    assert_int_equal(ebpf_allocation_outstanding(), outstanding_before);
}

static void test_every_site_failed_in_turn(void **state)
{
    const char *sites[64];
    size_t count;
    int64_t before = ebpf_allocation_outstanding();

    ebpf_fault_record_sites(true);
    assert_int_equal(run_scenario(), CLIENTS);
    ebpf_fault_record_sites(false);
    count = ebpf_fault_sites(sites, 64);
    assert_true(count >= 4); /* registrations, bindings, and the test modules' contexts */
    assert_clean(before);

    for (size_t i = 0; i < count; i++) {
        ebpf_fault_reset();
        ebpf_fault_fail_site(sites[i]);
        int bindings = run_scenario();
        assert_true(ebpf_fault_injected_count() >= 1);
        assert_true(bindings < CLIENTS);
        ebpf_fault_reset();
        assert_clean(before);
        /* And it works again. */
        assert_int_equal(run_scenario(), CLIENTS);
        assert_clean(before);
    }
}

static void test_nth_allocation_sweep(void **state)
{
    int64_t before = ebpf_allocation_outstanding();
    uint64_t start = ebpf_allocation_count();
    assert_int_equal(run_scenario(), CLIENTS);
    uint64_t per_run = ebpf_allocation_count() - start;
    assert_true(per_run > 0);

    for (uint64_t n = 1; n <= per_run; n++) {
        ebpf_fault_reset();
        ebpf_fault_fail_nth(n);
        run_scenario();
        assert_int_equal(ebpf_fault_injected_count(), 1);
        ebpf_fault_reset();
        assert_clean(before);
    }
    assert_int_equal(run_scenario(), CLIENTS);
    assert_clean(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_site_failed_in_turn),
        cmocka_unit_test(test_nth_allocation_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
