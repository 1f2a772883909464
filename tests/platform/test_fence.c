/* Tests of the asymmetric fences: the mode chosen before main, and the store-buffering litmus
 * test that epochs and ring buffer wake-ups rely on, with a light and a heavy side. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/membarrier.h>

#include "ebpf_platform.h"

/* What the mode should be, worked out independently of fence.c. */
static bool membarrier_expected(void)
{
    const char *setting = getenv("EBPF_MEMBARRIER");
    if (EBPF_TSAN || (setting != NULL && strcmp(setting, "0") == 0))
        return false;
    long supported = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    return supported > 0 && (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}

static void test_mode_follows_the_kernel_and_the_environment(void **state)
{
    assert_int_equal(ebpf_fence_is_asymmetric(), membarrier_expected());
    /* Both kinds of heavy side work whatever the mode. */
    assert_int_equal(ebpf_fence_heavy(ebpf_fence_is_asymmetric()), 0);
    assert_int_equal(ebpf_fence_heavy(false), 0);
}

/* Store buffering: the light side stores x then loads y, the heavy side stores y then loads x.
 * With the fences, at least one of them sees the other's store; without them, x86 lets both
 * loads read the old values (each store still in its CPU's store buffer). The two sides meet
 * at a spinning barrier before every round so that their accesses overlap in time. */
#define LITMUS_ROUNDS 50000

typedef struct litmus {
    _Atomic uint32_t arrived[2]; /* rounds each side has reached */
    _Atomic uint32_t x, y;
    uint32_t light_saw_y[LITMUS_ROUNDS];
    uint32_t heavy_saw_x[LITMUS_ROUNDS];
    bool asymmetric;
} litmus_t;

/* Both sides reach round before either goes on. Spins (both run at once when they have a CPU
 * each); yields now and then in case they share one. */
static void meet(litmus_t *litmus, int side, uint32_t round)
{
    atomic_store_explicit(&litmus->arrived[side], round, memory_order_release);
    for (unsigned spins = 0;
         atomic_load_explicit(&litmus->arrived[1 - side], memory_order_acquire) < round; spins++) {
        if (spins > 100000)
            sched_yield();
    }
}

static void *light_side(void *argument)
{
    litmus_t *litmus = argument;
    for (uint32_t round = 1; round <= LITMUS_ROUNDS; round++) {
        meet(litmus, 0, round);
        atomic_store_explicit(&litmus->x, round, EBPF_FENCED_ORDER(memory_order_relaxed));
        ebpf_fence_light(litmus->asymmetric);
        litmus->light_saw_y[round - 1] =
            atomic_load_explicit(&litmus->y, EBPF_FENCED_ORDER(memory_order_relaxed));
    }
    return NULL;
}

static void test_store_buffering_is_forbidden(void **state)
{
    litmus_t *litmus = calloc(1, sizeof(*litmus));
    pthread_t light;
    uint32_t both_missed = 0;

    assert_non_null(litmus);
    litmus->asymmetric = ebpf_fence_is_asymmetric();
    assert_int_equal(pthread_create(&light, NULL, light_side, litmus), 0);
    for (uint32_t round = 1; round <= LITMUS_ROUNDS; round++) {
        meet(litmus, 1, round);
        atomic_store_explicit(&litmus->y, round, EBPF_FENCED_ORDER(memory_order_relaxed));
        if (ebpf_fence_heavy(litmus->asymmetric) != 0)
            fail_msg("heavy fence: %s", ebpf_last_error());
        litmus->heavy_saw_x[round - 1] =
            atomic_load_explicit(&litmus->x, EBPF_FENCED_ORDER(memory_order_relaxed));
    }
    pthread_join(light, NULL);
    /* x and y only grow: "saw" this round's store means a value of at least round. */
    for (uint32_t i = 0; i < LITMUS_ROUNDS; i++) {
        if (litmus->light_saw_y[i] < i + 1 && litmus->heavy_saw_x[i] < i + 1)
            both_missed++;
    }
    print_message("%s fences, %d rounds: both sides missed in %u\n",
                  litmus->asymmetric ? "asymmetric" : "symmetric", LITMUS_ROUNDS, both_missed);
    assert_int_equal(both_missed, 0);
    free(litmus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_follows_the_kernel_and_the_environment),
        cmocka_unit_test(test_store_buffering_is_forbidden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
