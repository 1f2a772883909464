/* Tests of the epoch publication mechanism: grace periods, deferred frees, readers vs writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebpf_platform.h"

static void test_synchronize_without_readers_returns(void **state)
{
    ebpf_epoch_synchronize();
    ebpf_epoch_enter();
    ebpf_epoch_enter(); /* nested */
    ebpf_epoch_exit();
    ebpf_epoch_exit();
    ebpf_epoch_synchronize();
}

typedef struct reader_arguments {
    _Atomic int phase; /* 1: inside the section; 2: told to leave; 3: left */
} reader_arguments_t;

static void *slow_reader(void *argument)
{
    reader_arguments_t *reader = argument;
    ebpf_epoch_enter();
    atomic_store(&reader->phase, 1);
    while (atomic_load(&reader->phase) != 2)
        usleep(100);
    atomic_store(&reader->phase, 3);
    ebpf_epoch_exit();
    return NULL;
}

typedef struct synchronizer {
    _Atomic bool done;
} synchronizer_t;

static void *synchronize_thread(void *argument)
{
    synchronizer_t *synchronizer = argument;
    ebpf_epoch_synchronize();
    atomic_store(&synchronizer->done, true);
    return NULL;
}

static void test_synchronize_waits_for_a_reader(void **state)
{
    reader_arguments_t reader = {0};
    synchronizer_t synchronizer = {0};
    pthread_t reader_thread, writer_thread;

    assert_int_equal(pthread_create(&reader_thread, NULL, slow_reader, &reader), 0);
    while (atomic_load(&reader.phase) != 1)
        usleep(100);
    assert_int_equal(pthread_create(&writer_thread, NULL, synchronize_thread, &synchronizer), 0);
    usleep(20000);
    assert_false(atomic_load(&synchronizer.done)); /* the reader is still inside */
    atomic_store(&reader.phase, 2);
    pthread_join(writer_thread, NULL);
    assert_true(atomic_load(&synchronizer.done));
    assert_int_equal(atomic_load(&reader.phase), 3);
    pthread_join(reader_thread, NULL);
}

/* Writers replace a published object while readers check it; the old one is poisoned only
 * after a grace period. A reader that ever sees poison proves a broken grace period (and ASan
 * or TSan report the use after free). */
typedef struct published {
    uint64_t value;
    uint64_t check; /* ~value while alive */
    ebpf_epoch_work_t work;
} published_t;

static published_t *_Atomic current;
static _Atomic bool stop;
static _Atomic uint64_t reads, violations, freed;

static void free_published(ebpf_epoch_work_t *work)
{
    published_t *object = (published_t *)((char *)work - offsetof(published_t, work));
    object->check = 0; /* poison, then free */
    ebpf_free(object);
    atomic_fetch_add(&freed, 1);
}

static void *reader_loop(void *unused)
{
    while (!atomic_load(&stop)) {
        ebpf_epoch_enter();
        published_t *object = ebpf_epoch_dereference(&current);
        if (object->check != ~object->value)
            atomic_fetch_add(&violations, 1);
        ebpf_epoch_exit();
        atomic_fetch_add(&reads, 1);
    }
    return NULL;
}

static void test_readers_never_see_freed_objects(void **state)
{
    pthread_t readers[3];
    published_t *first = ebpf_allocate(sizeof(*first));
    first->value = 1;
    first->check = ~1ull;
    atomic_store(&current, first);

    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&readers[i], NULL, reader_loop, NULL), 0);
    /* Let the readers start, so the replacements below race real read sections. */
    for (int i = 0; i < 5000 && atomic_load(&reads) < 100; i++)
        usleep(100);
    for (uint64_t v = 2; v < 2000; v++) {
        published_t *next = ebpf_allocate(sizeof(*next));
        assert_non_null(next);
        next->value = v;
        next->check = ~v;
        published_t *old = atomic_load(&current);
        ebpf_epoch_publish(&current, next);
        if (v % 2)
            ebpf_epoch_defer(&old->work, free_published);
        else {
            ebpf_epoch_synchronize();
            old->work.callback = NULL;
            free_published(&old->work);
        }
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(readers[i], NULL);
    ebpf_epoch_barrier();
    assert_int_equal(atomic_load(&violations), 0);
    assert_true(atomic_load(&reads) > 0);
    assert_int_equal(atomic_load(&freed), 1998);
    ebpf_free(atomic_load(&current));
}

static _Atomic int deferred_runs;

static void count_run(ebpf_epoch_work_t *work)
{
    atomic_fetch_add(&deferred_runs, 1);
}

static void test_barrier_waits_for_deferred_work(void **state)
{
    ebpf_epoch_work_t works[50];
    for (int i = 0; i < 50; i++)
        ebpf_epoch_defer(&works[i], count_run);
    ebpf_epoch_barrier();
    assert_int_equal(atomic_load(&deferred_runs), 50);
}

static _Atomic int chained_runs;
static ebpf_epoch_work_t chained_second;

static void chained_second_run(ebpf_epoch_work_t *work)
{
    atomic_fetch_add(&chained_runs, 1);
}

static void chained_first_run(ebpf_epoch_work_t *work)
{
    atomic_fetch_add(&chained_runs, 1);
    ebpf_epoch_defer(&chained_second, chained_second_run);
}

static void test_drain_waits_for_work_deferred_by_callbacks(void **state)
{
    ebpf_epoch_work_t first;
    for (int round = 0; round < 20; round++) {
        atomic_store(&chained_runs, 0);
        ebpf_epoch_defer(&first, chained_first_run);
        ebpf_epoch_drain();
        assert_int_equal(atomic_load(&chained_runs), 2);
    }
}

static void *short_lived_reader(void *unused)
{
    ebpf_epoch_enter();
    ebpf_epoch_exit();
    return NULL;
}

static void test_exiting_threads_unregister(void **state)
{
    /* Threads that read once and exit must not leave records that a grace period waits on. */
    for (int i = 0; i < 50; i++) {
        pthread_t thread;
        assert_int_equal(pthread_create(&thread, NULL, short_lived_reader, NULL), 0);
        pthread_join(thread, NULL);
    }
    ebpf_epoch_synchronize();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synchronize_without_readers_returns),
        cmocka_unit_test(test_synchronize_waits_for_a_reader),
        cmocka_unit_test(test_readers_never_see_freed_objects),
        cmocka_unit_test(test_barrier_waits_for_deferred_work),
        cmocka_unit_test(test_drain_waits_for_work_deferred_by_callbacks),
        cmocka_unit_test(test_exiting_threads_unregister),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
