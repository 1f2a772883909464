/* Configurable test providers and clients that record every registrar callback they get. */
#ifndef NMR_TEST_MODULES_H
#define NMR_TEST_MODULES_H

#include "ebpf_platform.h"
#include "nmr.h"

extern const nmr_npi_id_t test_npi_a;
extern const nmr_npi_id_t test_npi_b;

/* How a test module answers the registrar. */
typedef struct test_behaviour {
    int attach_result;        /* client: returned instead of attaching when != 0; provider:
                               * attach-client result */
    int fail_after_attach;    /* client: attach, then return this (!= 0) */
    bool detach_pending;      /* answer NMR_PENDING to detach */
    bool complete_inside;     /* with detach_pending: complete from inside the callback */
    unsigned attach_delay_us; /* client: sleep inside attach-provider (to race it) */
} test_behaviour_t;

typedef struct test_module {
    nmr_provider_characteristics_t provider_characteristics;
    nmr_client_characteristics_t client_characteristics;
    nmr_module_id_t module_id;
    nmr_provider_t *provider;
    nmr_client_t *client;
    test_behaviour_t behaviour;
    /* Counts of callbacks received. */
    _Atomic int attaches;
    _Atomic int detaches;
    _Atomic int cleanups;
    /* The last binding seen, for completing pending detaches. */
    nmr_binding_t *_Atomic last_binding;
    /* Dispatch table given to the other side: one function returning the module's tag. */
    int tag;
    int (*dispatch[1])(const struct test_module *);
    /* What the other side gave us. */
    const void *_Atomic peer_dispatch;
} test_module_t;

void test_module_init_provider(test_module_t *module, const nmr_npi_id_t *npi, int tag);
void test_module_init_client(test_module_t *module, const nmr_npi_id_t *npi, int tag);
/* Calls the peer's dispatch entry 0 and returns its tag, or -1 when unbound. */
int test_module_call_peer(test_module_t *module);

#endif
