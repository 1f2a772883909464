/* Tests of hash maps: flags, full maps, iteration, epochs, per-CPU values, LRU eviction. */
#include <pthread.h>

#include "map_test_common.h"

static void test_hash_flags(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_HASH, 8, 8, 4, 0);
    uint64_t key = 11, value = 1, out = 0;

    assert_int_equal(-ENOENT, ebpf_map_update_user(map, &key, &value, BPF_EXIST));
    assert_non_null(strstr(ebpf_last_error(), "BPF_EXIST"));
    assert_int_equal(-ENOENT, ebpf_map_update_program(map, &key, &value, BPF_EXIST));
    assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_NOEXIST));
    assert_int_equal(-EEXIST, ebpf_map_update_user(map, &key, &value, BPF_NOEXIST));
    assert_int_equal(-EEXIST, ebpf_map_update_program(map, &key, &value, BPF_NOEXIST));
    value = 2;
    assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_EXIST));
    assert_int_equal(0, ebpf_map_lookup_user(map, &key, &out, 0));
    assert_int_equal(2, out);
    value = 3;
    assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_ANY));
    ebpf_epoch_enter();
    assert_int_equal(3, *(uint64_t *)ebpf_map_lookup_program(map, &key));
    ebpf_epoch_exit();
    assert_int_equal(-EINVAL, ebpf_map_update_user(map, &key, &value, 3));
    assert_int_equal(-EINVAL, ebpf_map_update_user(map, &key, &value, BPF_F_LOCK));
    assert_int_equal(-EINVAL, ebpf_map_update_program(map, &key, &value, BPF_F_LOCK | BPF_ANY));

    assert_int_equal(0, ebpf_map_delete_user(map, &key));
    assert_int_equal(-ENOENT, ebpf_map_delete_user(map, &key));
    assert_int_equal(-ENOENT, ebpf_map_delete_program(map, &key));
    assert_int_equal(-ENOENT, ebpf_map_lookup_user(map, &key, &out, 0));
    ebpf_epoch_enter();
    assert_null(ebpf_map_lookup_program(map, &key));
    ebpf_epoch_exit();
    ebpf_map_release(map);
    drain_deferred();
}

static void test_hash_full(void **state)
{
    const uint32_t kinds[] = {0, BPF_F_NO_PREALLOC};

    for (size_t k = 0; k < EBPF_ARRAY_SIZE(kinds); k++) {
        ebpf_map_t *map = create_map(BPF_MAP_TYPE_HASH, 4, 4, 8, kinds[k]);
        uint32_t key, value = 5;

        for (key = 0; key < 8; key++)
            assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
        key = 8;
        assert_int_equal(-E2BIG, ebpf_map_update_user(map, &key, &value, BPF_ANY));
        assert_non_null(strstr(ebpf_last_error(), "full"));
        assert_int_equal(-E2BIG, ebpf_map_update_program(map, &key, &value, BPF_NOEXIST));
        /* Replacing an existing key of a full map works. */
        key = 3;
        value = 6;
        assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
        assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_EXIST));
        /* After a delete there is room again. */
        assert_int_equal(0, ebpf_map_delete_user(map, &key));
        key = 8;
        assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_ANY));
        ebpf_map_release(map);
    }
    drain_deferred();
}

static void test_hash_iteration(void **state)
{
    enum { COUNT = 100 };
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_HASH, 4, 4, COUNT, 0);
    uint8_t seen[COUNT] = {0};
    uint32_t key, next, value = 0, visits = 0, missing = 5000;

    assert_int_equal(-ENOENT, ebpf_map_get_next_key(map, NULL, &next));
    for (key = 0; key < COUNT; key++)
        assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));

    for (int err = ebpf_map_get_next_key(map, NULL, &next); err == 0;
         err = ebpf_map_get_next_key(map, &key, &next)) {
        assert_true(next < COUNT);
        assert_int_equal(0, seen[next]);
        seen[next] = 1;
        key = next;
        visits++;
    }
    assert_int_equal(COUNT, visits);
    /* The last key gives -ENOENT, an absent key the first one again. */
    assert_int_equal(-ENOENT, ebpf_map_get_next_key(map, &key, &next));
    assert_int_equal(0, ebpf_map_get_next_key(map, NULL, &value));
    assert_int_equal(0, ebpf_map_get_next_key(map, &missing, &next));
    assert_int_equal(value, next);

    /* Delete while iterating, as bpftool does: fetch the next key, then delete the current. */
    memset(seen, 0, sizeof(seen));
    visits = 0;
    assert_int_equal(0, ebpf_map_get_next_key(map, NULL, &key));
    for (;;) {
        int err = ebpf_map_get_next_key(map, &key, &next);
        assert_int_equal(0, seen[key]);
        seen[key] = 1;
        visits++;
        assert_int_equal(0, ebpf_map_delete_user(map, &key));
        if (err != 0)
            break;
        key = next;
    }
    assert_int_equal(COUNT, visits);
    assert_int_equal(-ENOENT, ebpf_map_get_next_key(map, NULL, &next));
    ebpf_map_release(map);
    drain_deferred();
}

typedef struct churn_args {
    ebpf_map_t *map;
    uint32_t first_key;
} churn_args_t;

/* Deletes the four keys the reader looks at, then inserts four others. */
static void *churn(void *context)
{
    churn_args_t *args = context;
    uint64_t value = 0xdeaddeaddeaddeadull;

    for (uint32_t key = args->first_key; key < args->first_key + 4; key++)
        assert_int_equal(0, ebpf_map_delete_user(args->map, &key));
    for (uint32_t key = 100; key < 104; key++)
        assert_int_equal(0, ebpf_map_update_user(args->map, &key, &value, BPF_ANY));
    return NULL;
}

static void test_deleted_values_stay_readable(void **state)
{
    const uint32_t types[] = {BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH};

    for (size_t t = 0; t < EBPF_ARRAY_SIZE(types); t++) {
        ebpf_map_t *map = create_map(types[t], 4, 8, 8, 0);
        churn_args_t args = {map, 0};
        pthread_t thread;
        uint64_t *values[4];

        for (uint32_t key = 0; key < 4; key++) {
            uint64_t value = 1000 + key;
            assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
        }
        ebpf_epoch_enter();
        for (uint32_t key = 0; key < 4; key++) {
            values[key] = ebpf_map_lookup_program(map, &key);
            assert_non_null(values[key]);
        }
        assert_int_equal(0, pthread_create(&thread, NULL, churn, &args));
        assert_int_equal(0, pthread_join(thread, NULL));
        /* Deleted, and their slots' worth of new keys inserted, yet our read section still
         * sees the old values (ASan would report a premature reuse of the memory). */
        for (uint32_t key = 0; key < 4; key++) {
            assert_null(ebpf_map_lookup_program(map, &key));
            assert_int_equal(1000 + key, *values[key]);
        }
        ebpf_epoch_exit();
        ebpf_map_release(map);
    }
    drain_deferred();
}

static void test_replaced_values_stay_readable(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
    uint32_t key = 1;
    uint64_t value = 1, *old, *fresh;

    assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    ebpf_epoch_enter();
    old = ebpf_map_lookup_program(map, &key);
    value = 2;
    assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_ANY));
    fresh = ebpf_map_lookup_program(map, &key);
    /* Replacement publishes a new element: the old pointer keeps the old value. */
    assert_int_equal(1, *old);
    assert_int_equal(2, *fresh);
    ebpf_epoch_exit();
    ebpf_map_release(map);
    drain_deferred();
}

static void test_pool_exhaustion(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_HASH, 4, 4, 4, 0);
    uint32_t key, value = 1;
    int program_err = 0;

    for (key = 0; key < 4; key++)
        assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    /* User side: every delete leaves an element waiting for its grace period; when none is
     * free the update waits for them instead of failing. */
    for (int i = 0; i < 200; i++) {
        key = (uint32_t)i % 4;
        assert_int_equal(0, ebpf_map_delete_user(map, &key));
        assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_NOEXIST));
    }
    /* Program side inside one read section: no grace period can end, so the pool runs dry
     * and the update says -ENOMEM (never -E2BIG: the map is not full). */
    ebpf_epoch_enter();
    for (int i = 0; i < 200 && program_err == 0; i++) {
        key = (uint32_t)i % 4;
        assert_int_equal(0, ebpf_map_delete_program(map, &key));
        program_err = ebpf_map_update_program(map, &key, &value, BPF_NOEXIST);
    }
    ebpf_epoch_exit();
    assert_int_equal(-ENOMEM, program_err);
    drain_deferred();
    assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_NOEXIST));
    ebpf_map_release(map);
    drain_deferred();
}

static void test_lookup_and_delete(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
    uint32_t key = 9;
    uint64_t value = 77, out = 0;

    assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    assert_int_equal(-EINVAL, ebpf_map_lookup_and_delete_user(map, &key, &out, BPF_F_LOCK));
    assert_int_equal(-EINVAL, ebpf_map_lookup_and_delete_user(map, &key, &out, 1));
    assert_int_equal(0, ebpf_map_lookup_and_delete_user(map, &key, &out, 0));
    assert_int_equal(77, out);
    assert_int_equal(-ENOENT, ebpf_map_lookup_user(map, &key, &out, 0));
    assert_int_equal(-ENOENT, ebpf_map_lookup_and_delete_user(map, &key, &out, 0));
    ebpf_map_release(map);
    drain_deferred();
}

static void test_hash_memory(void **state)
{
    const uint32_t kinds[] = {0, BPF_F_NO_PREALLOC};

    for (size_t k = 0; k < EBPF_ARRAY_SIZE(kinds); k++) {
        ebpf_map_t *map = create_map(BPF_MAP_TYPE_HASH, 6, 12, 64, kinds[k]);
        uint8_t key[6] = {1, 2, 3, 4, 5, 6}, value[12] = {0};
        uint8_t *pointer;

        /* Enough keys that a growing pool needs several chunks. */
        for (uint8_t i = 0; i < 64; i++) {
            key[0] = i;
            assert_int_equal(0, ebpf_map_update_user(map, key, value, BPF_ANY));
        }
        ebpf_epoch_enter();
        for (uint8_t i = 0; i < 64; i++) {
            key[0] = i;
            pointer = ebpf_map_lookup_program(map, key);
            assert_non_null(pointer);
            assert_true(ebpf_map_owns_memory(map, pointer, 12, true));
            assert_true(ebpf_map_owns_memory(map, pointer + 11, 1, true));
            assert_false(ebpf_map_owns_memory(map, pointer + 11, 2, true));
            assert_false(ebpf_map_owns_memory(map, pointer - 1, 1, false)); /* key padding */
        }
        ebpf_epoch_exit();
        assert_false(ebpf_map_owns_memory(map, key, 1, false));
        ebpf_map_release(map);
    }
    drain_deferred();
}

static void test_percpu_hash(void **state)
{
    const uint32_t types[] = {BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH};
    uint32_t cpus = user_cpu_count();

    for (size_t t = 0; t < EBPF_ARRAY_SIZE(types); t++) {
        ebpf_map_t *map = create_map(types[t], 4, 4, 8, 0);
        uint8_t *values = test_calloc(cpus, 8);
        uint32_t key = 5, value, cpu, *slot;

        assert_int_equal(cpus * 8, ebpf_map_user_value_size(map));
        for (uint32_t i = 0; i < cpus; i++) {
            uint32_t v = 10 + i;
            memcpy(values + i * 8, &v, sizeof(v));
        }
        assert_int_equal(0, ebpf_map_update_user(map, &key, values, BPF_ANY));

        cpu = ebpf_cpu_enter();
        ebpf_epoch_enter();
        slot = ebpf_map_lookup_program(map, &key);
        assert_non_null(slot);
        assert_int_equal(10 + cpu, *slot);
        value = 99;
        assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_EXIST));
        assert_int_equal(99, *slot); /* in place, as Linux */
        /* A new key from a program: this CPU's value, zero for the others. */
        key = 6;
        value = 55;
        assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_NOEXIST));
        ebpf_epoch_exit();
        ebpf_cpu_exit();

        key = 5;
        assert_int_equal(0, ebpf_map_lookup_user(map, &key, values, 0));
        for (uint32_t i = 0; i < cpus; i++) {
            uint32_t v;
            memcpy(&v, values + i * 8, sizeof(v));
            assert_int_equal(i == cpu ? 99 : 10 + i, v);
        }
        key = 6;
        assert_int_equal(0, ebpf_map_lookup_and_delete_user(map, &key, values, 0));
        for (uint32_t i = 0; i < cpus; i++) {
            uint32_t v;
            memcpy(&v, values + i * 8, sizeof(v));
            assert_int_equal(i == cpu ? 55 : 0, v);
        }
        /* Outside ebpf_cpu_enter a program has no slot. */
        ebpf_epoch_enter();
        key = 5;
        assert_null(ebpf_map_lookup_program(map, &key));
        assert_int_equal(-EINVAL, ebpf_map_update_program(map, &key, &value, BPF_ANY));
        ebpf_epoch_exit();
        test_free(values);
        ebpf_map_release(map);
    }
    drain_deferred();
}

static uint32_t count_keys(ebpf_map_t *map)
{
    uint32_t key, next, count = 0;

    for (int err = ebpf_map_get_next_key(map, NULL, &next); err == 0;
         err = ebpf_map_get_next_key(map, &key, &next)) {
        key = next;
        count++;
    }
    return count;
}

static void test_lru_eviction(void **state)
{
    enum { MAX = 16 };
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_LRU_HASH, 4, 4, MAX, 0);
    uint32_t key, value = 0, out;

    for (key = 0; key < MAX; key++)
        assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_NOEXIST));
    /* Use half of them. */
    ebpf_epoch_enter();
    for (key = 0; key < MAX / 2; key++)
        assert_non_null(ebpf_map_lookup_program(map, &key));
    ebpf_epoch_exit();
    /* A full LRU map evicts instead of failing, and evicts the unused ones first. */
    for (key = 100; key < 100 + MAX / 2; key++)
        assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_NOEXIST));
    assert_int_equal(MAX, count_keys(map));
    for (key = 0; key < MAX / 2; key++)
        assert_int_equal(0, ebpf_map_lookup_user(map, &key, &out, 0));
    for (key = MAX / 2; key < MAX; key++)
        assert_int_equal(-ENOENT, ebpf_map_lookup_user(map, &key, &out, 0));

    /* Many more inserts than entries, from user space and from programs inside one read
     * section (where evicted elements cannot be recycled yet): never a failure. */
    for (key = 1000; key < 1000 + 10 * MAX; key++)
        assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    ebpf_epoch_enter();
    for (key = 5000; key < 5000 + 10 * MAX; key++)
        assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_ANY));
    ebpf_epoch_exit();
    assert_int_equal(MAX, count_keys(map));
    /* The most recent insert is there. */
    key = 5000 + 10 * MAX - 1;
    assert_int_equal(0, ebpf_map_lookup_user(map, &key, &out, 0));
    ebpf_map_release(map);
    drain_deferred();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_flags),
        cmocka_unit_test(test_hash_full),
        cmocka_unit_test(test_hash_iteration),
        cmocka_unit_test(test_deleted_values_stay_readable),
        cmocka_unit_test(test_replaced_values_stay_readable),
        cmocka_unit_test(test_pool_exhaustion),
        cmocka_unit_test(test_lookup_and_delete),
        cmocka_unit_test(test_hash_memory),
        cmocka_unit_test(test_percpu_hash),
        cmocka_unit_test(test_lru_eviction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
