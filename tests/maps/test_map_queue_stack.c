/* Tests of queue and stack maps: order, full maps, overwrite with BPF_EXIST, user-side forms. */
#include "map_test_common.h"

static void push_all(ebpf_map_t *map, uint32_t first, uint32_t count)
{
    for (uint32_t value = first; value < first + count; value++)
        assert_int_equal(0, ebpf_map_push(map, &value, BPF_ANY));
}

static void expect_pops(ebpf_map_t *map, const uint32_t *expected, size_t count)
{
    uint32_t value;

    for (size_t i = 0; i < count; i++) {
        assert_int_equal(0, ebpf_map_pop(map, &value));
        assert_int_equal(expected[i], value);
    }
    assert_int_equal(-ENOENT, ebpf_map_pop(map, &value));
    assert_int_equal(-ENOENT, ebpf_map_peek(map, &value));
}

static void test_queue_order(void **state)
{
    ebpf_map_t *queue = create_map(BPF_MAP_TYPE_QUEUE, 0, 4, 3, 0);
    const uint32_t fifo[] = {1, 2, 3};
    const uint32_t overwritten[] = {2, 3, 4};
    uint32_t value = 0;

    assert_int_equal(-ENOENT, ebpf_map_peek(queue, &value));
    push_all(queue, 1, 3);
    assert_int_equal(0, ebpf_map_peek(queue, &value));
    assert_int_equal(1, value);
    expect_pops(queue, fifo, 3);

    /* Wrap around the ring a few times. */
    for (uint32_t round = 0; round < 5; round++) {
        uint32_t expected[] = {round * 10, round * 10 + 1};
        push_all(queue, round * 10, 2);
        expect_pops(queue, expected, 2);
    }

    push_all(queue, 1, 3);
    value = 4;
    assert_int_equal(-E2BIG, ebpf_map_push(queue, &value, BPF_ANY));
    /* BPF_EXIST on a full queue drops the oldest value. */
    assert_int_equal(0, ebpf_map_push(queue, &value, BPF_EXIST));
    expect_pops(queue, overwritten, 3);

    assert_int_equal(-EINVAL, ebpf_map_push(queue, &value, BPF_NOEXIST));
    assert_int_equal(-EINVAL, ebpf_map_push(queue, &value, 4));
    ebpf_map_release(queue);
    drain_deferred();
}

static void test_stack_order(void **state)
{
    ebpf_map_t *stack = create_map(BPF_MAP_TYPE_STACK, 0, 4, 3, 0);
    const uint32_t lifo[] = {3, 2, 1};
    const uint32_t overwritten[] = {4, 3, 2};
    uint32_t value = 0;

    push_all(stack, 1, 3);
    assert_int_equal(0, ebpf_map_peek(stack, &value));
    assert_int_equal(3, value);
    expect_pops(stack, lifo, 3);

    push_all(stack, 1, 3);
    value = 4;
    assert_int_equal(-E2BIG, ebpf_map_push(stack, &value, BPF_ANY));
    /* As Linux, BPF_EXIST on a full stack also drops the oldest value. */
    assert_int_equal(0, ebpf_map_push(stack, &value, BPF_EXIST));
    expect_pops(stack, overwritten, 3);
    ebpf_map_release(stack);
    drain_deferred();
}

static void test_user_side(void **state)
{
    ebpf_map_t *queue = create_map(BPF_MAP_TYPE_QUEUE, 0, 8, 2, 0);
    uint64_t value = 5, out = 0;
    uint32_t key = 0;

    assert_int_equal(0, ebpf_map_update_user(queue, NULL, &value, BPF_ANY));
    value = 6;
    assert_int_equal(0, ebpf_map_update_user(queue, NULL, &value, BPF_ANY));
    assert_int_equal(-E2BIG, ebpf_map_update_user(queue, NULL, &value, BPF_ANY));
    assert_non_null(strstr(ebpf_last_error(), "full"));
    assert_int_equal(-EINVAL, ebpf_map_update_user(queue, NULL, &value, BPF_NOEXIST));
    assert_int_equal(0, ebpf_map_lookup_user(queue, NULL, &out, 0));
    assert_int_equal(5, out);
    assert_int_equal(-EINVAL, ebpf_map_lookup_and_delete_user(queue, NULL, &out, BPF_EXIST));
    assert_int_equal(0, ebpf_map_lookup_and_delete_user(queue, NULL, &out, 0));
    assert_int_equal(5, out);
    assert_int_equal(0, ebpf_map_lookup_and_delete_user(queue, NULL, &out, 0));
    assert_int_equal(6, out);
    assert_int_equal(-ENOENT, ebpf_map_lookup_and_delete_user(queue, NULL, &out, 0));
    assert_int_equal(-ENOENT, ebpf_map_lookup_user(queue, NULL, &out, 0));

    /* No keys: no delete, no iteration, no program lookups or updates. */
    assert_int_equal(-EINVAL, ebpf_map_delete_user(queue, NULL));
    assert_int_equal(-EINVAL, ebpf_map_get_next_key(queue, NULL, &key));
    assert_null(ebpf_map_lookup_program(queue, NULL));
    assert_int_equal(-EINVAL, ebpf_map_update_program(queue, NULL, &value, BPF_ANY));
    assert_int_equal(-EINVAL, ebpf_map_delete_program(queue, NULL));
    assert_false(ebpf_map_owns_memory(queue, &value, 8, false));
    ebpf_map_release(queue);
    drain_deferred();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_order),
        cmocka_unit_test(test_stack_order),
        cmocka_unit_test(test_user_side),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
