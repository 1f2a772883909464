/* Concurrency tests (bounded by iteration counts): program-side readers and writers on several
 * threads against user-side deletes, checked for consistency here and for races by TSan. */
#include <pthread.h>

#include "map_test_common.h"

#define THREADS 3
#if defined(EBPF_SANITIZER_THREAD)
#define ITERATIONS 5000
#else
#define ITERATIONS 20000
#endif

/* Threads never call cmocka asserts (they longjmp); they count failures instead. */
static _Atomic int failures;

static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

typedef struct worker {
    pthread_t thread;
    ebpf_map_t *map;
    uint32_t seed;
    _Atomic bool *stop;
} worker_t;

/* ---------------------------------------------------------------------------------------- */
/* Hash: lookups, increments and inserts from programs; deletes and iteration from user space. */

#define CHURN_KEYS  256
#define STABLE_BASE 1000u
#define STABLE_KEYS 16

static void *hash_program_thread(void *context)
{
    worker_t *worker = context;
    uint64_t zero = 0;

    for (int i = 0; i < ITERATIONS; i++) {
        uint32_t r = next_random(&worker->seed);
        uint32_t key = r % CHURN_KEYS, stable = STABLE_BASE + (r >> 16) % STABLE_KEYS;
        uint64_t *value;
        int err;

        ebpf_epoch_enter();
        value = ebpf_map_lookup_program(worker->map, &key);
        if (value != NULL) {
            atomic_fetch_add((_Atomic uint64_t *)value, 1);
        } else {
            err = ebpf_map_update_program(worker->map, &key, &zero, BPF_NOEXIST);
            if (err != 0 && err != -EEXIST && err != -ENOMEM)
                atomic_fetch_add(&failures, 1);
        }
        /* Keys nobody deletes are always found, with their value intact. */
        value = ebpf_map_lookup_program(worker->map, &stable);
        if (value == NULL || atomic_load((_Atomic uint64_t *)value) != stable)
            atomic_fetch_add(&failures, 1);
        ebpf_epoch_exit();
    }
    return NULL;
}

static void *hash_user_thread(void *context)
{
    worker_t *worker = context;

    while (!atomic_load(worker->stop)) {
        for (int i = 0; i < 64; i++) {
            uint32_t key = next_random(&worker->seed) % CHURN_KEYS;
            int err = ebpf_map_delete_user(worker->map, &key);
            if (err != 0 && err != -ENOENT)
                atomic_fetch_add(&failures, 1);
        }
        /* Iteration under deletes may restart (as Linux), but always ends. */
        uint32_t key, next, steps = 0;
        for (int err = ebpf_map_get_next_key(worker->map, NULL, &next); err == 0 && steps < 4096;
             err = ebpf_map_get_next_key(worker->map, &key, &next)) {
            key = next;
            steps++;
        }
    }
    return NULL;
}

static void test_hash_concurrency(void **state)
{
    const uint32_t flags[] = {0, BPF_F_NO_PREALLOC};

    for (size_t f = 0; f < EBPF_ARRAY_SIZE(flags); f++) {
        ebpf_map_t *map = create_map(BPF_MAP_TYPE_HASH, 4, 8, 512, flags[f]);
        _Atomic bool stop = false;
        worker_t workers[THREADS + 1];

        atomic_store(&failures, 0);
        for (uint32_t key = STABLE_BASE; key < STABLE_BASE + STABLE_KEYS; key++) {
            uint64_t value = key;
            assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
        }
        for (int i = 0; i <= THREADS; i++) {
            workers[i].map = map;
            workers[i].seed = 0x9e3779b9u * (uint32_t)(i + 1);
            workers[i].stop = &stop;
            assert_int_equal(0, pthread_create(&workers[i].thread, NULL,
                                               i < THREADS ? hash_program_thread : hash_user_thread,
                                               &workers[i]));
        }
        for (int i = 0; i < THREADS; i++)
            assert_int_equal(0, pthread_join(workers[i].thread, NULL));
        atomic_store(&stop, true);
        assert_int_equal(0, pthread_join(workers[THREADS].thread, NULL));
        assert_int_equal(0, atomic_load(&failures));
        for (uint32_t key = STABLE_BASE; key < STABLE_BASE + STABLE_KEYS; key++) {
            uint64_t value = 0;
            assert_int_equal(0, ebpf_map_lookup_user(map, &key, &value, 0));
            assert_int_equal(key, value);
        }
        ebpf_map_release(map);
    }
    drain_deferred();
}

/* ---------------------------------------------------------------------------------------- */
/* Per-CPU array: plain (non-atomic) increments are exact because a claimed CPU index is one
 * thread's at a time. */

static void *percpu_thread(void *context)
{
    worker_t *worker = context;
    uint32_t key = 0;

    for (int i = 0; i < ITERATIONS; i++) {
        uint64_t *counter;
        ebpf_cpu_enter();
        ebpf_epoch_enter();
        counter = ebpf_map_lookup_program(worker->map, &key);
        if (counter == NULL)
            atomic_fetch_add(&failures, 1);
        else
            (*counter)++;
        ebpf_epoch_exit();
        ebpf_cpu_exit();
    }
    return NULL;
}

static void test_percpu_counters(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, 0);
    uint32_t cpus = user_cpu_count(), key = 0;
    uint64_t *values = test_calloc(cpus, sizeof(uint64_t)), total = 0;
    worker_t workers[THREADS];

    atomic_store(&failures, 0);
    for (int i = 0; i < THREADS; i++) {
        workers[i].map = map;
        assert_int_equal(0, pthread_create(&workers[i].thread, NULL, percpu_thread, &workers[i]));
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(0, pthread_join(workers[i].thread, NULL));
    assert_int_equal(0, atomic_load(&failures));
    assert_int_equal(0, ebpf_map_lookup_user(map, &key, values, 0));
    for (uint32_t cpu = 0; cpu < cpus; cpu++)
        total += values[cpu];
    assert_int_equal((uint64_t)THREADS * ITERATIONS, total);
    test_free(values);
    ebpf_map_release(map);
    drain_deferred();
}

/* ---------------------------------------------------------------------------------------- */
/* LPM trie: lock-free lookups while user space adds and removes /24 prefixes. */

typedef struct ipv4_key {
    uint32_t prefixlen;
    uint8_t address[4];
} ipv4_key_t;

static void *trie_reader_thread(void *context)
{
    worker_t *worker = context;

    for (int i = 0; i < ITERATIONS; i++) {
        uint32_t r = next_random(&worker->seed);
        ipv4_key_t key = {32, {(r & 1) ? 10 : 11, (uint8_t)(r >> 8), (uint8_t)(r >> 16), 1}};
        uint32_t *value;

        ebpf_epoch_enter();
        value = ebpf_map_lookup_program(worker->map, &key);
        /* 11/8 only matches 0/0 (1); 10/8 (2) or one of its /24s (>= 100). */
        if (value == NULL)
            atomic_fetch_add(&failures, 1);
        else if (key.address[0] == 11 && *value != 1)
            atomic_fetch_add(&failures, 1);
        else if (key.address[0] == 10 && *value != 2 && *value < 100)
            atomic_fetch_add(&failures, 1);
        ebpf_epoch_exit();
    }
    return NULL;
}

static void *trie_writer_thread(void *context)
{
    worker_t *worker = context;

    while (!atomic_load(worker->stop)) {
        uint32_t r = next_random(&worker->seed);
        ipv4_key_t key = {24, {10, (uint8_t)(r >> 8) & 0x3f, (uint8_t)(r >> 16) & 0x3f, 0}};
        uint32_t value = 100 + (r & 0xff);
        int err = (r & 1) ? ebpf_map_update_user(worker->map, &key, &value, BPF_ANY)
                          : ebpf_map_delete_user(worker->map, &key);
        if (err != 0 && err != -ENOENT && err != -ENOSPC)
            atomic_fetch_add(&failures, 1);
    }
    return NULL;
}

static void test_trie_concurrency(void **state)
{
    ebpf_map_t *map =
        create_map(BPF_MAP_TYPE_LPM_TRIE, sizeof(ipv4_key_t), 4, 1024, BPF_F_NO_PREALLOC);
    ipv4_key_t everything = {0, {0, 0, 0, 0}}, ten = {8, {10, 0, 0, 0}};
    uint32_t one = 1, two = 2;
    _Atomic bool stop = false;
    worker_t workers[THREADS];

    atomic_store(&failures, 0);
    assert_int_equal(0, ebpf_map_update_user(map, &everything, &one, BPF_ANY));
    assert_int_equal(0, ebpf_map_update_user(map, &ten, &two, BPF_ANY));
    for (int i = 0; i < THREADS; i++) {
        workers[i].map = map;
        workers[i].seed = 0x12345u * (uint32_t)(i + 1);
        workers[i].stop = &stop;
        assert_int_equal(0, pthread_create(&workers[i].thread, NULL,
                                           i == 0 ? trie_writer_thread : trie_reader_thread,
                                           &workers[i]));
    }
    for (int i = 1; i < THREADS; i++)
        assert_int_equal(0, pthread_join(workers[i].thread, NULL));
    atomic_store(&stop, true);
    assert_int_equal(0, pthread_join(workers[0].thread, NULL));
    assert_int_equal(0, atomic_load(&failures));
    ebpf_map_release(map);
    drain_deferred();
}

/* ---------------------------------------------------------------------------------------- */
/* prog_array: tail calls read slots while user space swaps programs; a program is released
 * only after every tail call that could see it has finished. */

typedef struct fake_program {
    _Atomic int references;
} fake_program_t;

static fake_program_t programs[4];

static void program_acquire(void *program)
{
    atomic_fetch_add(&((fake_program_t *)program)->references, 1);
}

static void program_release(void *program)
{
    atomic_fetch_sub(&((fake_program_t *)program)->references, 1);
}

static uint32_t program_id(const void *program)
{
    return (uint32_t)((const fake_program_t *)program - programs);
}

static const ebpf_map_program_ops_t program_ops = {program_acquire, program_release, program_id};

static void *tail_call_thread(void *context)
{
    worker_t *worker = context;

    for (int i = 0; i < ITERATIONS; i++) {
        fake_program_t *program;
        ebpf_epoch_enter();
        program = ebpf_map_get_program(worker->map, 0);
        if (program != NULL && atomic_load(&program->references) < 1)
            atomic_fetch_add(&failures, 1);
        ebpf_epoch_exit();
    }
    return NULL;
}

static void *swap_thread(void *context)
{
    worker_t *worker = context;
    uint32_t key = 0;

    while (!atomic_load(worker->stop)) {
        uint32_t which = next_random(&worker->seed) % 4;
        int err = (which == 3)
                      ? ebpf_map_delete_user(worker->map, &key)
                      : ebpf_map_update_object(worker->map, &key, &programs[which], BPF_ANY);
        if (err != 0 && err != -ENOENT)
            atomic_fetch_add(&failures, 1);
    }
    return NULL;
}

static void test_prog_array_concurrency(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, 0);
    _Atomic bool stop = false;
    worker_t workers[THREADS];

    ebpf_map_set_program_ops(&program_ops);
    atomic_store(&failures, 0);
    for (int i = 0; i < THREADS; i++) {
        workers[i].map = map;
        workers[i].seed = 77u * (uint32_t)(i + 1);
        workers[i].stop = &stop;
        assert_int_equal(0, pthread_create(&workers[i].thread, NULL,
                                           i == 0 ? swap_thread : tail_call_thread, &workers[i]));
    }
    for (int i = 1; i < THREADS; i++)
        assert_int_equal(0, pthread_join(workers[i].thread, NULL));
    atomic_store(&stop, true);
    assert_int_equal(0, pthread_join(workers[0].thread, NULL));
    assert_int_equal(0, atomic_load(&failures));
    ebpf_map_release(map);
    drain_deferred();
    for (int i = 0; i < 4; i++)
        assert_int_equal(0, atomic_load(&programs[i].references));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_concurrency),
        cmocka_unit_test(test_percpu_counters),
        cmocka_unit_test(test_trie_concurrency),
        cmocka_unit_test(test_prog_array_concurrency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
