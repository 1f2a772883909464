/* CPU indexes, and exclusive claims on them: user space's stand-in for disabling preemption. */
#include <sched.h>
#include <unistd.h>

#include "ebpf_platform.h"

#define EBPF_MAX_CPUS 512

typedef struct cpu_slot {
    /* 0 free, 1 claimed by exactly one thread; acquire on claim pairs with release on exit,
     * so per-CPU data written under one claim is complete for the next. */
    _Atomic uint32_t claimed;
    char padding[EBPF_CACHE_LINE - sizeof(uint32_t)];
} __attribute__((aligned(EBPF_CACHE_LINE))) cpu_slot_t;

static cpu_slot_t slots[EBPF_MAX_CPUS];
static pthread_once_t count_once = PTHREAD_ONCE_INIT;
static uint32_t count;

static EBPF_HOT_THREAD_LOCAL uint32_t claimed_index = UINT32_MAX;
static EBPF_HOT_THREAD_LOCAL uint32_t claim_depth;
/* The index this thread claimed last (UINT32_MAX before its first claim). A thread tries it
 * first: asking where it runs (sched_getcpu) on every claim cost more than the rest of the claim,
 * and the index only has to be exclusive, not the CPU the thread is on. The thread re-reads its
 * CPU when its last index is taken and every CLAIMS_PER_CPU_CHECK claims, so threads that
 * migrated spread over the indexes again and per-CPU data stays mostly in its CPU's cache. */
#define CLAIMS_PER_CPU_CHECK 64
static EBPF_HOT_THREAD_LOCAL uint32_t last_index = UINT32_MAX;
static EBPF_HOT_THREAD_LOCAL uint32_t claims_until_check;

static void read_count(void)
{
    long configured = sysconf(_SC_NPROCESSORS_CONF);
    if (configured < 1)
        configured = 1;
    if (configured > EBPF_MAX_CPUS)
        configured = EBPF_MAX_CPUS;
    count = (uint32_t)configured;
}

uint32_t ebpf_cpu_count(void)
{
    pthread_once(&count_once, read_count);
    return count;
}

uint32_t ebpf_cpu_current(void)
{
    int cpu = sched_getcpu();
    uint32_t n = ebpf_cpu_count();
    return cpu < 0 ? 0 : (uint32_t)cpu % n;
}

static bool try_claim(uint32_t index)
{
    uint32_t expected = 0;
    return atomic_load_explicit(&slots[index].claimed, memory_order_relaxed) == 0 &&
           atomic_compare_exchange_strong_explicit(&slots[index].claimed, &expected, 1,
                                                   memory_order_acquire, memory_order_relaxed);
}

uint32_t ebpf_cpu_enter(void)
{
    uint32_t n, preferred;

    if (claim_depth++ != 0)
        return claimed_index;
    if (claims_until_check-- != 0 && try_claim(last_index)) {
        claimed_index = last_index;
        return last_index;
    }
    n = ebpf_cpu_count();
    preferred = ebpf_cpu_current();
    for (unsigned round = 0;; round++) {
        for (uint32_t i = 0; i < n; i++) {
            uint32_t index = (preferred + i) % n;
            if (try_claim(index)) {
                claimed_index = last_index = index;
                claims_until_check = CLAIMS_PER_CPU_CHECK;
                return index;
            }
        }
        /* Every index is held by a thread that was preempted inside a program: let it run. */
        if (round > 4)
            sched_yield();
    }
}

void ebpf_cpu_exit(void)
{
    if (claim_depth == 0) {
        ebpf_log(EBPF_LOG_ERROR, "ebpf_cpu_exit without ebpf_cpu_enter");
        return;
    }
    if (--claim_depth == 0) {
        atomic_store_explicit(&slots[claimed_index].claimed, 0, memory_order_release);
        claimed_index = UINT32_MAX;
    }
}

uint32_t ebpf_cpu_claimed(void)
{
    return claimed_index;
}
