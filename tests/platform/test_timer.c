/* Tests of the periodic timer: periods, restart, cancel semantics, cancel from the callback. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebpf_platform.h"

typedef struct counter {
    _Atomic uint64_t calls;
    _Atomic bool inside;
    _Atomic bool cancel_self;
    ebpf_timer_t *timer;
    useconds_t sleep_us;
} counter_t;

static void count_call(void *context)
{
    counter_t *counter = context;
    atomic_store(&counter->inside, true);
    if (counter->sleep_us)
        usleep(counter->sleep_us);
    atomic_fetch_add(&counter->calls, 1);
    if (atomic_load(&counter->cancel_self))
        ebpf_timer_cancel(counter->timer); /* must not deadlock */
    atomic_store(&counter->inside, false);
}

static void wait_for_calls(counter_t *counter, uint64_t calls)
{
    for (int i = 0; i < 5000 && atomic_load(&counter->calls) < calls; i++)
        usleep(1000);
}

static void test_periodic_calls_and_cancel(void **state)
{
    counter_t counter = {0};
    ebpf_timer_t *timer;

    assert_int_equal(ebpf_timer_create(count_call, &counter, &timer), 0);
    usleep(5000);
    assert_int_equal(atomic_load(&counter.calls), 0); /* not started: no calls */
    assert_int_equal(ebpf_timer_start(timer, 1000000), 0);
    wait_for_calls(&counter, 5);
    assert_true(atomic_load(&counter.calls) >= 5);
    ebpf_timer_cancel(timer);
    uint64_t after_cancel = atomic_load(&counter.calls);
    assert_false(atomic_load(&counter.inside));
    usleep(10000);
    assert_int_equal(atomic_load(&counter.calls), after_cancel);
    assert_int_equal(ebpf_timer_fired(timer), after_cancel);
    /* Restart works after cancel. */
    assert_int_equal(ebpf_timer_start(timer, 500000), 0);
    wait_for_calls(&counter, after_cancel + 3);
    assert_true(atomic_load(&counter.calls) >= after_cancel + 3);
    ebpf_timer_destroy(timer);
}

static void test_zero_period_runs_as_fast_as_possible(void **state)
{
    counter_t counter = {0};
    ebpf_timer_t *timer;
    assert_int_equal(ebpf_timer_create(count_call, &counter, &timer), 0);
    assert_int_equal(ebpf_timer_start(timer, 0), 0);
    wait_for_calls(&counter, 10000);
    ebpf_timer_cancel(timer);
    assert_true(atomic_load(&counter.calls) >= 10000);
    ebpf_timer_destroy(timer);
}

static void test_cancel_waits_for_running_callback(void **state)
{
    counter_t counter = {.sleep_us = 30000};
    ebpf_timer_t *timer;
    assert_int_equal(ebpf_timer_create(count_call, &counter, &timer), 0);
    assert_int_equal(ebpf_timer_start(timer, 0), 0);
    while (!atomic_load(&counter.inside))
        usleep(100);
    ebpf_timer_cancel(timer);
    /* The callback that was running has finished before cancel returned. */
    assert_false(atomic_load(&counter.inside));
    assert_true(atomic_load(&counter.calls) >= 1);
    ebpf_timer_destroy(timer);
}

static void test_cancel_from_callback(void **state)
{
    counter_t counter = {0};
    ebpf_timer_t *timer;
    assert_int_equal(ebpf_timer_create(count_call, &counter, &timer), 0);
    counter.timer = timer;
    atomic_store(&counter.cancel_self, true);
    assert_int_equal(ebpf_timer_start(timer, 100000), 0);
    wait_for_calls(&counter, 1);
    usleep(20000);
    assert_int_equal(atomic_load(&counter.calls), 1); /* cancelled itself after one call */
    ebpf_timer_destroy(timer);
}

static void test_bad_arguments_and_allocation_failure(void **state)
{
    ebpf_timer_t *timer;
    assert_int_equal(ebpf_timer_create(NULL, NULL, &timer), -EINVAL);
    assert_int_equal(ebpf_timer_start(NULL, 1), -EINVAL);
    ebpf_fault_fail_nth(1);
    assert_int_equal(ebpf_timer_create(count_call, NULL, &timer), -ENOMEM);
    ebpf_fault_reset();
    assert_non_null(strstr(ebpf_last_error(), "out of memory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_periodic_calls_and_cancel),
        cmocka_unit_test(test_zero_period_runs_as_fast_as_possible),
        cmocka_unit_test(test_cancel_waits_for_running_callback),
        cmocka_unit_test(test_cancel_from_callback),
        cmocka_unit_test(test_bad_arguments_and_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
