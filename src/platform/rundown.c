/* Rundown protection with the semantics of the kernel's rundown references. */
#include "ebpf_platform.h"

#define RUNDOWN_ACTIVE  (UINT64_C(1) << 63)
#define RUNDOWN_HOLDERS (RUNDOWN_ACTIVE - 1)

void ebpf_rundown_init(ebpf_rundown_t *rundown)
{
    atomic_init(&rundown->state, 0);
    pthread_mutex_init(&rundown->lock, NULL);
    pthread_cond_init(&rundown->released, NULL);
    rundown->waiter_done = false;
}

void ebpf_rundown_reinit(ebpf_rundown_t *rundown)
{
    pthread_mutex_lock(&rundown->lock);
    rundown->waiter_done = false;
    pthread_mutex_unlock(&rundown->lock);
    atomic_store_explicit(&rundown->state, 0, memory_order_release);
}

void ebpf_rundown_destroy(ebpf_rundown_t *rundown)
{
    pthread_cond_destroy(&rundown->released);
    pthread_mutex_destroy(&rundown->lock);
}

bool ebpf_rundown_acquire(ebpf_rundown_t *rundown)
{
    uint64_t state = atomic_load_explicit(&rundown->state, memory_order_relaxed);

    /* A CAS loop, not a blind increment: once ACTIVE is set the holder count may only go
     * down, so the waiter's "zero holders" observation stays true. */
    do {
        if (state & RUNDOWN_ACTIVE)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&rundown->state, &state, state + 1,
                                                    memory_order_acquire, memory_order_relaxed));
    return true;
}

void ebpf_rundown_release(ebpf_rundown_t *rundown)
{
    /* acq_rel: the last holder must see every earlier holder's work, which the waiter then
     * inherits through the lock. */
    uint64_t previous = atomic_fetch_sub_explicit(&rundown->state, 1, memory_order_acq_rel);

    /* The holder that leaves last after the rundown started wakes the waiter. The waiter
     * returns only after seeing waiter_done under the lock, so the object outlives this
     * unlock. */
    if (previous == (RUNDOWN_ACTIVE | 1)) {
        pthread_mutex_lock(&rundown->lock);
        rundown->waiter_done = true;
        pthread_cond_broadcast(&rundown->released);
        pthread_mutex_unlock(&rundown->lock);
    }
}

void ebpf_rundown_wait(ebpf_rundown_t *rundown)
{
    uint64_t previous =
        atomic_fetch_or_explicit(&rundown->state, RUNDOWN_ACTIVE, memory_order_acq_rel);

    if (previous & RUNDOWN_ACTIVE) {
        /* A second waiter: wait for the same completion as the first. */
        pthread_mutex_lock(&rundown->lock);
        while (!rundown->waiter_done &&
               (atomic_load_explicit(&rundown->state, memory_order_acquire) & RUNDOWN_HOLDERS))
            pthread_cond_wait(&rundown->released, &rundown->lock);
        pthread_mutex_unlock(&rundown->lock);
        return;
    }
    if ((previous & RUNDOWN_HOLDERS) == 0) {
        pthread_mutex_lock(&rundown->lock);
        rundown->waiter_done = true;
        pthread_mutex_unlock(&rundown->lock);
        return;
    }
    pthread_mutex_lock(&rundown->lock);
    while (!rundown->waiter_done)
        pthread_cond_wait(&rundown->released, &rundown->lock);
    pthread_mutex_unlock(&rundown->lock);
}

bool ebpf_rundown_is_active(const ebpf_rundown_t *rundown)
{
    return (atomic_load_explicit(&rundown->state, memory_order_acquire) & RUNDOWN_ACTIVE) != 0;
}
