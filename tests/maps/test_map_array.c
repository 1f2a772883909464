/* Tests of array and per-CPU array maps: flags, bounds, iteration, per-CPU slots, memory checks. */
#include "map_test_common.h"

static void test_array_basics(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_ARRAY, 4, 12, 4, 0);
    uint32_t key = 2, outside = 4;
    uint8_t value[12], out[12];
    uint8_t *pointer;

    memset(value, 0xab, sizeof(value));
    pointer = ebpf_map_lookup_program(map, &key);
    assert_non_null(pointer);
    assert_int_equal(0, pointer[0]); /* zero from creation */
    assert_int_equal(0, ebpf_map_update_user(map, &key, value, BPF_ANY));
    assert_memory_equal(value, pointer, sizeof(value));
    assert_int_equal(0, ebpf_map_lookup_user(map, &key, out, 0));
    assert_memory_equal(value, out, sizeof(value));

    /* Every element exists: NOEXIST fails, EXIST succeeds. */
    assert_int_equal(-EEXIST, ebpf_map_update_user(map, &key, value, BPF_NOEXIST));
    assert_int_equal(-EEXIST, ebpf_map_update_program(map, &key, value, BPF_NOEXIST));
    assert_int_equal(0, ebpf_map_update_user(map, &key, value, BPF_EXIST));
    assert_int_equal(0, ebpf_map_update_program(map, &key, value, BPF_EXIST));
    assert_int_equal(-EINVAL, ebpf_map_update_user(map, &key, value, 3));
    assert_int_equal(-EINVAL, ebpf_map_update_program(map, &key, value, 3));
    assert_int_equal(-EINVAL, ebpf_map_update_user(map, &key, value, BPF_F_LOCK));
    assert_non_null(strstr(ebpf_last_error(), "BPF_F_LOCK"));
    assert_int_equal(-EINVAL, ebpf_map_update_program(map, &key, value, BPF_F_LOCK));
    assert_int_equal(-EINVAL, ebpf_map_lookup_user(map, &key, out, BPF_F_LOCK));
    assert_int_equal(-EINVAL, ebpf_map_lookup_user(map, &key, out, 1));

    /* Out of range. */
    assert_null(ebpf_map_lookup_program(map, &outside));
    assert_int_equal(-E2BIG, ebpf_map_update_user(map, &outside, value, BPF_ANY));
    assert_int_equal(-E2BIG, ebpf_map_update_program(map, &outside, value, BPF_ANY));
    assert_int_equal(-ENOENT, ebpf_map_lookup_user(map, &outside, out, 0));

    /* Array elements cannot be deleted. */
    assert_int_equal(-EINVAL, ebpf_map_delete_user(map, &key));
    assert_int_equal(-EINVAL, ebpf_map_delete_program(map, &key));

    ebpf_map_release(map);
    drain_deferred();
}

static void test_array_iteration(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 5, 0);
    uint32_t key = 0, next = 99, big = 1000, visits = 0;

    assert_int_equal(0, ebpf_map_get_next_key(map, NULL, &next));
    assert_int_equal(0, next);
    assert_int_equal(0, ebpf_map_get_next_key(map, &big, &next));
    assert_int_equal(0, next);
    key = 3;
    assert_int_equal(0, ebpf_map_get_next_key(map, &key, &next));
    assert_int_equal(4, next);
    key = 4;
    assert_int_equal(-ENOENT, ebpf_map_get_next_key(map, &key, &next));

    for (int err = ebpf_map_get_next_key(map, NULL, &next); err == 0;
         err = ebpf_map_get_next_key(map, &key, &next)) {
        assert_int_equal(visits, next);
        key = next;
        visits++;
    }
    assert_int_equal(5, visits);
    ebpf_map_release(map);
    drain_deferred();
}

static void test_array_memory(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_ARRAY, 4, 12, 4, 0);
    uint32_t key = 1;
    uint8_t *value = ebpf_map_lookup_program(map, &key);
    uint8_t local[16];

    assert_true(ebpf_map_owns_memory(map, value, 12, true));
    assert_true(ebpf_map_owns_memory(map, value + 4, 8, false));
    /* The 4 bytes of padding after a 12-byte value are not the value's. */
    assert_false(ebpf_map_owns_memory(map, value + 8, 8, false));
    assert_false(ebpf_map_owns_memory(map, value, 13, false));
    assert_false(ebpf_map_owns_memory(map, value - 1, 1, false));
    assert_false(ebpf_map_owns_memory(map, local, 4, false));
    assert_false(ebpf_map_owns_memory(map, NULL, 4, false));

    assert_ptr_equal(value, ebpf_map_array_value_address(map, 1));
    assert_null(ebpf_map_array_value_address(map, 4));
    ebpf_map_release(map);

    map = create_map(BPF_MAP_TYPE_HASH, 4, 4, 4, 0);
    assert_null(ebpf_map_array_value_address(map, 0));
    ebpf_map_release(map);
    drain_deferred();
}

static void test_percpu_array(void **state)
{
    uint32_t cpus = user_cpu_count();
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 3, 0);
    uint32_t user_size = ebpf_map_user_value_size(map);
    uint8_t *values = test_calloc(cpus, 8);
    uint32_t key = 1, value, cpu;
    uint32_t *slot;

    assert_int_equal(cpus * 8, user_size);
    for (uint32_t i = 0; i < cpus; i++) {
        uint32_t v = 100 + i;
        memcpy(values + i * 8, &v, sizeof(v));
    }
    assert_int_equal(0, ebpf_map_update_user(map, &key, values, BPF_ANY));

    /* Outside ebpf_cpu_enter programs have no CPU slot. */
    assert_null(ebpf_map_lookup_program(map, &key));
    value = 1;
    assert_int_equal(-EINVAL, ebpf_map_update_program(map, &key, &value, BPF_ANY));

    cpu = ebpf_cpu_enter();
    slot = ebpf_map_lookup_program(map, &key);
    assert_non_null(slot);
    assert_int_equal(100 + cpu, *slot);
    value = 7;
    assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_ANY));
    assert_int_equal(7, *slot);
    assert_true(ebpf_map_owns_memory(map, slot, 4, true));
    assert_false(ebpf_map_owns_memory(map, slot, 8, true));
    ebpf_cpu_exit();

    /* Only the claimed CPU's slot changed. */
    memset(values, 0, (size_t)cpus * 8);
    assert_int_equal(0, ebpf_map_lookup_user(map, &key, values, 0));
    for (uint32_t i = 0; i < cpus; i++) {
        uint32_t v;
        memcpy(&v, values + i * 8, sizeof(v));
        assert_int_equal(i == cpu ? 7 : 100 + i, v);
    }
    assert_null(ebpf_map_array_value_address(map, 0));
    test_free(values);
    ebpf_map_release(map);
    drain_deferred();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_array_basics),
        cmocka_unit_test(test_array_iteration),
        cmocka_unit_test(test_array_memory),
        cmocka_unit_test(test_percpu_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
