/* Test support for provider modules: loading a module in-process, and netevent NPI clients that
 * count and validate every event they are pushed. */
#ifndef PROVIDER_TEST_SUPPORT_H
#define PROVIDER_TEST_SUPPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ebpf_module.h"
#include "netevent_npi.h"

/* A module loaded with dlopen, as a host loads a driver. */
typedef struct test_module {
    void *handle;
    const ebpf_module_descriptor_t *descriptor;
} test_module_t;

/* 0, or -ENOENT / -EINVAL with the reason printed. */
int test_module_load(const char *path, test_module_t *module);
void *test_module_symbol(const test_module_t *module, const char *name);
void test_module_unload(test_module_t *module);

/* How a test client checks events. */
typedef enum test_validation {
    TEST_VALIDATE_SIM,     /* everything netevent_sim promises (component, checksums, ...) */
    TEST_VALIDATE_DECODES, /* the event decodes (any provider) */
} test_validation_t;

#define TEST_CLIENT_COUNT 2

/* A netevent NPI client. push_event has no context argument, so each of the TEST_CLIENT_COUNT
 * clients is a fixed slot with its own push function. Counters are atomics: the provider's
 * thread writes them while the test thread reads. */
typedef struct test_client {
    nmr_client_t *registration;
    test_validation_t validation;
    uint32_t refuse_every;    /* answer -EINVAL to every Nth event (0: never) */
    uint32_t push_delay_us;   /* sleep in push_event, to keep pushes in flight */
    _Atomic uint64_t events;  /* push_event calls */
    _Atomic uint64_t refused; /* of which answered with an error on purpose */
    _Atomic uint64_t problems;
    _Atomic uint64_t after_stop; /* calls that came after the test said the source stopped */
    _Atomic uint64_t attaches;   /* bindings formed */
    _Atomic uint64_t detaches;   /* detach callbacks */
    _Atomic uint64_t drops, flows, tcp, udp, vlan;
    _Atomic uint32_t last_sequence;
    _Atomic uint64_t sequence_gaps; /* sequence jumped by more than one (after a rebind) */
    _Atomic bool source_stopped;
    _Atomic bool problem_recorded;
    char first_problem[256]; /* written once, by whoever set problem_recorded */
} test_client_t;

/* Resets slot index and registers it on the netevent NPI. */
test_client_t *test_client_register(int index, test_validation_t validation);
/* Re-registers a client that was deregistered (counters kept). */
int test_client_reregister(test_client_t *client);
/* Deregisters and waits. */
void test_client_deregister(test_client_t *client);
/* Deregisters every client still registered. */
void test_clients_deregister_all(void);
/* Waits (up to 20 s) until the client counted at least events; returns the count. */
uint64_t test_client_wait_events(test_client_t *client, uint64_t events);
/* Checks an IPv4 header checksum (RFC 1071): true when it sums to 0xffff. */
bool test_ipv4_checksum_ok(const uint8_t *header, size_t length);

uint64_t test_monotonic_us(void);

#endif /* PROVIDER_TEST_SUPPORT_H */
