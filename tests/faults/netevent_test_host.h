/* Test host for the netevent robustness suites (faults, stress, fuzz): a private store with the
 * netevent program information, an in-process netevent NPI provider that producers push
 * through, event building, and reading the extension's statistics. */
#ifndef NETEVENT_TEST_HOST_H
#define NETEVENT_TEST_HOST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netevent_npi.h"
#include "neteventebpfext.h"

/* Points EBPF_DRIVER_PATH at the build's modules and EBPF_STORE_DIR at a private store (each
 * only when unset; a fresh temporary folder when the store is unset, removed at exit), then
 * exports the netevent program information into it. 0 or a negative errno. */
int netevent_test_host_prepare(void);

/* Where the monitor program and the build's BPF objects are. */
const char *netevent_test_object_path(const char *object_name);

/* An event provider registered with the registrar on the netevent NPI. Producers call
 * netevent_test_provider_push from any thread while the provider is registered. */
typedef struct netevent_test_provider {
    nmr_provider_characteristics_t characteristics;
    nmr_module_id_t module_id;
    nmr_provider_t *registration;
    /* The extension's dispatch while bound, else NULL. Read by producers inside an epoch
     * section; detach unpublishes it and waits a grace period before it reports done. */
    _Atomic(const netevent_client_dispatch_t *) dispatch;
    /* Registrar callbacks: counted to prove they pair up and stop after deregistration. */
    _Atomic uint64_t attaches, detaches, cleanups;
    /* Callbacks that came after deregistration completed (must stay 0). */
    _Atomic uint64_t callbacks_after_deregister;
    _Atomic bool deregistered;
    /* Outcome of every push: accepted (0), malformed (-EINVAL), unbound (no binding or
     * -ENOLINK), failed (any other error). */
    _Atomic uint64_t produced, accepted, malformed, unbound, failed;
} netevent_test_provider_t;

/* Registers provider (number distinguishes providers' module ids). 0 or a negative errno. */
int netevent_test_provider_register(netevent_test_provider_t *provider, uint32_t number);
/* Deregisters and waits for every binding to go. */
void netevent_test_provider_deregister(netevent_test_provider_t *provider);
/* Pushes [event, event + size) through the current binding and counts the outcome; returns
 * push_event's result, or -ENOLINK when not bound. */
int netevent_test_provider_push(netevent_test_provider_t *provider, const void *event, size_t size);
/* The same for a batch through push_events (entry 1): returns its result (events delivered,
 * or a negative errno) and counts each event's outcome. */
int netevent_test_provider_push_events(netevent_test_provider_t *provider,
                                       const netevent_event_info_t *events, uint32_t count);
bool netevent_test_provider_bound(netevent_test_provider_t *provider);

/* Writes a well-formed event (header of type, then payload_size packet bytes) into buffer;
 * returns its size, or 0 when it does not fit. */
size_t netevent_test_build_event(uint8_t *buffer, size_t capacity, uint8_t type, uint32_t sequence,
                                 uint32_t payload_size);

/* The extension's statistics summed over CPUs, read through an fd of the statistics map
 * (bpf_obj_get(NETEVENT_STATISTICS_PIN_NAME)). 0 or a negative errno. */
int netevent_test_read_statistics(int statistics_fd, netevent_ext_statistics_t *total);
void netevent_test_add_statistics(netevent_ext_statistics_t *sum,
                                  const netevent_ext_statistics_t *part);

#endif /* NETEVENT_TEST_HOST_H */
