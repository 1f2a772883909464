/* Tests of rundown protection: acquire/release, wait semantics, and a race with holders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebpf_platform.h"

static void test_acquire_release_and_wait(void **state)
{
    ebpf_rundown_t rundown;
    ebpf_rundown_init(&rundown);
    assert_true(ebpf_rundown_acquire(&rundown));
    assert_true(ebpf_rundown_acquire(&rundown));
    ebpf_rundown_release(&rundown);
    ebpf_rundown_release(&rundown);
    assert_false(ebpf_rundown_is_active(&rundown));
    ebpf_rundown_wait(&rundown); /* no holder: returns at once */
    assert_true(ebpf_rundown_is_active(&rundown));
    assert_false(ebpf_rundown_acquire(&rundown));
    ebpf_rundown_wait(&rundown); /* twice is allowed */
    ebpf_rundown_reinit(&rundown);
    assert_true(ebpf_rundown_acquire(&rundown));
    ebpf_rundown_release(&rundown);
    ebpf_rundown_destroy(&rundown);
}

typedef struct holder {
    ebpf_rundown_t *rundown;
    _Atomic int *work_after_wait; /* must stay 0: nobody holds after wait returns */
    _Atomic int *acquired;
    _Atomic bool *waiting_done;
    _Atomic int holding;
} holder_t;

static void *hold_then_release(void *argument)
{
    holder_t *holder = argument;
    assert_true(ebpf_rundown_acquire(holder->rundown));
    atomic_store(&holder->holding, 1);
    usleep(50000);
    /* The waiter must still be blocked while we hold. */
    if (atomic_load(holder->waiting_done))
        atomic_fetch_add(holder->work_after_wait, 1);
    ebpf_rundown_release(holder->rundown);
    return NULL;
}

static void test_wait_blocks_until_last_holder_leaves(void **state)
{
    ebpf_rundown_t rundown;
    _Atomic int violations = 0, acquired = 0;
    _Atomic bool waiting_done = false;
    holder_t holders[3];
    pthread_t threads[3];

    ebpf_rundown_init(&rundown);
    for (int i = 0; i < 3; i++) {
        holders[i] = (holder_t){&rundown, &violations, &acquired, &waiting_done, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, hold_then_release, &holders[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        while (!atomic_load(&holders[i].holding))
            usleep(100);
    }
    ebpf_rundown_wait(&rundown);
    atomic_store(&waiting_done, true);
    for (int i = 0; i < 3; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&violations), 0);
    assert_false(ebpf_rundown_acquire(&rundown));
    ebpf_rundown_destroy(&rundown);
}

/* Many short holders race a rundown; whatever they do under protection is complete (and
 * visible) once wait returns, and no acquire succeeds afterwards. */
typedef struct racer {
    ebpf_rundown_t *rundown;
    uint64_t protected_work; /* written only under protection */
    _Atomic int late_acquires;
    _Atomic bool after_wait;
} racer_t;

static void *race_holder(void *argument)
{
    racer_t *racer = argument;
    for (int i = 0; i < 100000; i++) {
        if (!ebpf_rundown_acquire(racer->rundown))
            break;
        if (atomic_load(&racer->after_wait))
            atomic_fetch_add(&racer->late_acquires, 1);
        racer->protected_work++;
        ebpf_rundown_release(racer->rundown);
    }
    return NULL;
}

static void test_rundown_race(void **state)
{
    for (int round = 0; round < 20; round++) {
        ebpf_rundown_t rundown;
        racer_t racers[2];
        pthread_t threads[2];
        ebpf_rundown_init(&rundown);
        for (int i = 0; i < 2; i++) {
            racers[i] = (racer_t){.rundown = &rundown};
            assert_int_equal(pthread_create(&threads[i], NULL, race_holder, &racers[i]), 0);
        }
        usleep(1000);
        ebpf_rundown_wait(&rundown);
        atomic_store(&racers[0].after_wait, true);
        atomic_store(&racers[1].after_wait, true);
        uint64_t seen0 = racers[0].protected_work, seen1 = racers[1].protected_work;
        for (int i = 0; i < 2; i++)
            pthread_join(threads[i], NULL);
        assert_int_equal(atomic_load(&racers[0].late_acquires), 0);
        assert_int_equal(atomic_load(&racers[1].late_acquires), 0);
        /* Nothing was done under protection after the wait returned. */
        assert_int_equal(racers[0].protected_work, seen0);
        assert_int_equal(racers[1].protected_work, seen1);
        ebpf_rundown_destroy(&rundown);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acquire_release_and_wait),
        cmocka_unit_test(test_wait_blocks_until_last_holder_leaves),
        cmocka_unit_test(test_rundown_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
