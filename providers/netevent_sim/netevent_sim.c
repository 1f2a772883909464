/* netevent_sim: a netevent NPI provider module that, while clients are bound, pushes demo
 * events to each of them from a periodic timer. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "ebpf_module.h"
#include "ebpf_platform.h"
#include "netevent_npi.h"
#include "netevent_provider_common.h"
#include "netevent_sim.h"
#include "netevent_types.h"
#include "sim_event.h"

#define SIM_EXPORT __attribute__((visibility("default")))

#define SIM_INTERVAL_MAX_US 60000000ull /* one minute */
#define SIM_BURST_MAX       65536

/* 5d6c3a10-8d8b-11d4-abad-009027719e09: the simulator's module id. */
static const nmr_module_id_t sim_module_id = {
    0x5d6c3a10, 0x8d8b, 0x11d4, {0xab, 0xad, 0x00, 0x90, 0x27, 0x71, 0x9e, 0x09}};

/* Bits of sim_binding_t.state: the rundown protection of one binding, with a detach that
 * completes asynchronously instead of waiting (the registrar's thread never blocks on a push). */
#define BINDING_DETACHING          (1ull << 63)
#define BINDING_COMPLETION_CLAIMED (1ull << 62)
#define BINDING_PUSHERS            (BINDING_COMPLETION_CLAIMED - 1)

typedef struct sim_binding {
    /* Next in sim.bindings: written under sim.lock, read under an epoch; a removed binding
     * keeps it so a reader standing on it can walk on. */
    struct sim_binding *_Atomic next;
    nmr_binding_t *nmr_binding;
    netevent_push_event_fn push_event;
    /* Pushers in flight (BINDING_PUSHERS) plus BINDING_DETACHING, set once by detach, after
     * which no pusher enters, and BINDING_COMPLETION_CLAIMED, set once by the single party
     * (detach or the last pusher out) that saw DETACHING with no pusher and so completes. */
    _Atomic uint64_t state;
    struct sim_binding *completion_next; /* owned by the party that claimed completion */
    ebpf_epoch_work_t free_work;
} sim_binding_t;

typedef struct sim_provider {
    /* Guards membership of bindings, clients_bound, timer_armed and stopping. Held for list
     * edits and timer arming only, never while pushing. */
    pthread_mutex_t lock;
    sim_binding_t *_Atomic bindings; /* head; published under lock, walked under an epoch */
    uint64_t clients_bound;
    bool timer_armed; /* the timer runs; only the lock holder starts or cancels it */
    bool stopping;    /* set once by stop: no binding forms and the timer stays off */

    ebpf_timer_t *timer;
    nmr_provider_t *provider;
    uint64_t interval_us;
    uint64_t burst;
    /* Only the timer thread touches these: one event at a time, built in place. */
    uint8_t event[SIM_EVENT_MAX_SIZE];
    uint32_t sequence; /* of the last event produced */

    /* Statistics: relaxed counters, each only grows between start and stop. */
    _Atomic uint64_t produced;
    _Atomic uint64_t pushed;
    _Atomic uint64_t refused;
    _Atomic uint64_t ticks;
    _Atomic uint64_t bound; /* mirror of clients_bound readable without the lock */
} sim_provider_t;

static sim_provider_t sim = {.lock = PTHREAD_MUTEX_INITIALIZER};
/* Set by start, cleared by stop; the host calls these in turn, never at once. */
static bool sim_started;

/* True when completion of the binding's detach fell to the caller. */
static bool binding_claim_completion(sim_binding_t *binding)
{
    uint64_t expected = BINDING_DETACHING;
    return atomic_compare_exchange_strong(&binding->state, &expected,
                                          BINDING_DETACHING | BINDING_COMPLETION_CLAIMED);
}

/* Leaves a binding; the last pusher out of a detaching binding queues its completion. */
static void binding_release(sim_binding_t *binding, sim_binding_t **completions)
{
    uint64_t before = atomic_fetch_sub(&binding->state, 1);
    if (before == (BINDING_DETACHING | 1) && binding_claim_completion(binding)) {
        binding->completion_next = *completions;
        *completions = binding;
    }
}

static bool binding_acquire(sim_binding_t *binding, sim_binding_t **completions)
{
    uint64_t before = atomic_fetch_add(&binding->state, 1);
    if (before & BINDING_DETACHING) {
        binding_release(binding, completions);
        return false;
    }
    return true;
}

/* Outside any epoch section: completing can run the client's cleanup, which may wait for a
 * grace period. */
static void complete_detaches(sim_binding_t *completions)
{
    while (completions != NULL) {
        sim_binding_t *next = completions->completion_next;
        nmr_binding_t *nmr_binding = completions->nmr_binding;
        if (nmr_provider_detach_client_complete(nmr_binding) != 0)
            ebpf_log(EBPF_LOG_WARN, "netevent_sim: completing a detach failed: %s",
                     ebpf_last_error());
        completions = next;
    }
}

static uint64_t realtime_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* Pushes one built event to every bound client; false when none took it. */
static bool push_to_clients(const netevent_event_info_t *event, sim_binding_t **completions)
{
    bool reached = false;

    ebpf_epoch_enter();
    for (sim_binding_t *binding = ebpf_epoch_dereference(&sim.bindings); binding != NULL;
         binding = ebpf_epoch_dereference(&binding->next)) {
        if (!binding_acquire(binding, completions))
            continue;
        int rc = binding->push_event(event);
        binding_release(binding, completions);
        atomic_fetch_add_explicit(rc < 0 ? &sim.refused : &sim.pushed, 1, memory_order_relaxed);
        reached = true;
    }
    ebpf_epoch_exit();
    return reached;
}

static void sim_tick(void *context)
{
    sim_binding_t *completions = NULL;
    bool idle;

    atomic_fetch_add_explicit(&sim.ticks, 1, memory_order_relaxed);
    pthread_mutex_lock(&sim.lock);
    idle = sim.clients_bound == 0 || sim.stopping;
    if (idle && sim.timer_armed) {
        /* Nobody listens: stop ticking (an interval of 0 would spin) until a client binds. */
        ebpf_timer_cancel(sim.timer);
        sim.timer_armed = false;
    }
    pthread_mutex_unlock(&sim.lock);
    if (idle)
        return;

    for (uint64_t i = 0; i < sim.burst; i++) {
        size_t size = sim_event_build(sim.event, sim.sequence + 1, realtime_ns());
        const netevent_event_info_t event = {sim.event, sim.event + size};
        /* An event nobody took is not produced: its sequence number goes to the next one, so
         * a client bound throughout sees no gaps. */
        if (!push_to_clients(&event, &completions))
            break;
        sim.sequence++;
        atomic_fetch_add_explicit(&sim.produced, 1, memory_order_relaxed);
    }
    complete_detaches(completions);
}

static void sim_free_binding(ebpf_epoch_work_t *work)
{
    sim_binding_t *binding = (sim_binding_t *)((char *)work - offsetof(sim_binding_t, free_work));
    ebpf_free(binding);
}

static int sim_attach_client(nmr_binding_t *nmr_binding, void *provider_context,
                             const nmr_registration_instance_t *client,
                             void *client_binding_context, const void *client_dispatch,
                             void **provider_binding_context, const void **provider_dispatch)
{
    const netevent_client_dispatch_t *dispatch = client_dispatch;
    sim_binding_t *binding;

    if (dispatch == NULL || dispatch->header.version < NETEVENT_CLIENT_DISPATCH_VERSION ||
        !EBPF_EXTENSION_HAS_FIELD(&dispatch->header, netevent_client_dispatch_t,
                                  helper_function_address) ||
        dispatch->helper_function_count < 1 || dispatch->helper_function_address[0] == NULL)
        return ebpf_error(-EINVAL, "netevent_sim: the client's dispatch table has no "
                                   "push_event (version 1 or later, one entry at least)");
    binding = ebpf_allocate(sizeof(*binding));
    if (binding == NULL)
        return ebpf_error(-ENOMEM, "netevent_sim: out of memory binding a client");
    binding->nmr_binding = nmr_binding;
    binding->push_event = (netevent_push_event_fn)dispatch->helper_function_address[0];
    atomic_init(&binding->state, 0);

    pthread_mutex_lock(&sim.lock);
    if (sim.stopping) {
        pthread_mutex_unlock(&sim.lock);
        ebpf_free(binding);
        return ebpf_error(-ESHUTDOWN, "netevent_sim: the module is stopping");
    }
    atomic_init(&binding->next, atomic_load(&sim.bindings));
    ebpf_epoch_publish(&sim.bindings, binding);
    sim.clients_bound++;
    atomic_store_explicit(&sim.bound, sim.clients_bound, memory_order_relaxed);
    if (!sim.timer_armed) {
        ebpf_timer_start(sim.timer, sim.interval_us * 1000);
        sim.timer_armed = true;
    }
    pthread_mutex_unlock(&sim.lock);

    *provider_binding_context = binding;
    *provider_dispatch = NULL; /* the provider offers no functions to its clients */
    return 0;
}

static int sim_detach_client(void *provider_binding_context)
{
    sim_binding_t *binding = provider_binding_context;

    pthread_mutex_lock(&sim.lock);
    sim_binding_t *_Atomic *link = &sim.bindings;
    while (atomic_load(link) != binding)
        link = &atomic_load(link)->next;
    ebpf_epoch_publish(link, atomic_load(&binding->next));
    sim.clients_bound--;
    atomic_store_explicit(&sim.bound, sim.clients_bound, memory_order_relaxed);
    pthread_mutex_unlock(&sim.lock);

    atomic_fetch_or(&binding->state, BINDING_DETACHING);
    if (binding_claim_completion(binding))
        return 0;
    return NMR_PENDING; /* the pusher in flight completes when it leaves */
}

static void sim_cleanup_binding(void *provider_binding_context)
{
    sim_binding_t *binding = provider_binding_context;
    /* The timer thread may still stand on it in its walk: free after a grace period. */
    ebpf_epoch_defer(&binding->free_work, sim_free_binding);
}

static const nmr_provider_characteristics_t sim_characteristics = {
    NMR_CHARACTERISTICS_VERSION,
    sizeof(nmr_provider_characteristics_t),
    sim_attach_client,
    sim_detach_client,
    sim_cleanup_binding,
    {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &NETEVENT_NPI_ID,
     &sim_module_id, 0, NULL},
};

static const netevent_provider_setting_t interval_setting = {"netevent_sim",
                                                             NETEVENT_SIM_PARAMETER_INTERVAL,
                                                             NETEVENT_SIM_ENVIRONMENT_INTERVAL,
                                                             NETEVENT_SIM_DEFAULT_INTERVAL_US,
                                                             0,
                                                             SIM_INTERVAL_MAX_US};

static const netevent_provider_setting_t burst_setting = {"netevent_sim",
                                                          NETEVENT_SIM_PARAMETER_BURST,
                                                          NETEVENT_SIM_ENVIRONMENT_BURST,
                                                          NETEVENT_SIM_DEFAULT_BURST,
                                                          1,
                                                          SIM_BURST_MAX};

static int sim_start(const char *parameters)
{
    netevent_setting_source_t interval_source, burst_source;
    uint64_t interval_us, burst;
    int rc;

    if (sim_started)
        return ebpf_error(-EALREADY, "netevent_sim: already started");
    rc = netevent_provider_setting_read(&interval_setting, parameters, &interval_us,
                                        &interval_source);
    if (rc != 0)
        return rc;
    rc = netevent_provider_setting_read(&burst_setting, parameters, &burst, &burst_source);
    if (rc != 0)
        return rc;
    if (interval_us == 0 && burst_source == NETEVENT_SETTING_DEFAULT)
        burst = NETEVENT_SIM_FAST_BURST; /* flat out: amortize the timer over many events */

    sim.bindings = NULL;
    sim.clients_bound = 0;
    sim.timer_armed = false;
    sim.stopping = false;
    sim.interval_us = interval_us;
    sim.burst = burst;
    sim.sequence = 0;
    atomic_store(&sim.produced, 0);
    atomic_store(&sim.pushed, 0);
    atomic_store(&sim.refused, 0);
    atomic_store(&sim.ticks, 0);
    atomic_store(&sim.bound, 0);

    rc = ebpf_timer_create(sim_tick, &sim, &sim.timer);
    if (rc != 0)
        return ebpf_error_prefix(rc, "netevent_sim: ");
    rc = nmr_register_provider(&sim_characteristics, &sim, &sim.provider);
    if (rc != 0) {
        ebpf_timer_destroy(sim.timer);
        sim.timer = NULL;
        return ebpf_error_prefix(rc, "netevent_sim: registering the provider: ");
    }
    sim_started = true;
    ebpf_log(EBPF_LOG_INFO, "netevent_sim: started, interval %llu us (%s), burst %llu (%s)",
             (unsigned long long)interval_us, netevent_setting_source_name(interval_source),
             (unsigned long long)burst, netevent_setting_source_name(burst_source));
    return 0;
}

static void sim_stop(void)
{
    int rc;

    if (!sim_started)
        return;
    pthread_mutex_lock(&sim.lock);
    sim.stopping = true;
    pthread_mutex_unlock(&sim.lock);
    /* Waits for a running tick: from here on no push is in flight, so every detach below
     * completes at once. */
    ebpf_timer_cancel(sim.timer);
    rc = nmr_deregister_provider(sim.provider);
    if (rc < 0)
        ebpf_log(EBPF_LOG_WARN, "netevent_sim: deregistering: %s", ebpf_last_error());
    else
        nmr_wait_for_provider_deregister_complete(sim.provider);
    sim.provider = NULL;
    ebpf_timer_destroy(sim.timer);
    sim.timer = NULL;
    /* Deferred frees of bindings run module code: they must be done before the host unloads
     * it. */
    ebpf_epoch_barrier();
    sim_started = false;
    ebpf_log(EBPF_LOG_INFO, "netevent_sim: stopped after %llu events",
             (unsigned long long)atomic_load(&sim.produced));
}

SIM_EXPORT int netevent_sim_get_statistics(netevent_sim_statistics_t *statistics)
{
    netevent_sim_statistics_t snapshot;

    if (statistics == NULL || statistics->header.size < sizeof(statistics->header))
        return ebpf_error(-EINVAL, "netevent_sim: statistics need a header with their size");
    memset(&snapshot, 0, sizeof(snapshot));
    snapshot.header.version = NETEVENT_SIM_STATISTICS_VERSION;
    snapshot.header.size = statistics->header.size;
    snapshot.events_produced = atomic_load_explicit(&sim.produced, memory_order_relaxed);
    snapshot.events_pushed = atomic_load_explicit(&sim.pushed, memory_order_relaxed);
    snapshot.events_refused = atomic_load_explicit(&sim.refused, memory_order_relaxed);
    snapshot.ticks = atomic_load_explicit(&sim.ticks, memory_order_relaxed);
    snapshot.clients_bound = atomic_load_explicit(&sim.bound, memory_order_relaxed);
    snapshot.interval_us = sim.interval_us;
    snapshot.burst = sim.burst;
    size_t size =
        statistics->header.size < sizeof(snapshot) ? statistics->header.size : sizeof(snapshot);
    memcpy(statistics, &snapshot, size);
    return 0;
}

EBPF_MODULE_DEFINE("netevent_sim", sim_start, sim_stop);
