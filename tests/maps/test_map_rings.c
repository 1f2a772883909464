/* Tests of the ring buffer and perf event array map types over their engines. */
#include <unistd.h>

#include "map_test_common.h"

static int count_record(void *context, void *data, size_t size)
{
    (*(int *)context)++;
    assert_int_equal(16, size);
    return 0;
}

static void test_ringbuf_map(void **state)
{
    uint32_t size = 4 * (uint32_t)sysconf(_SC_PAGESIZE);
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_RINGBUF, 0, 0, size, 0);
    ebpf_ring_buffer_t *ring = ebpf_map_get_ring_buffer(map);
    uint32_t key = 0, value = 0, local = 0;
    uint8_t *record;
    int records = 0;

    assert_non_null(ring);
    assert_int_equal(size, ebpf_ring_buffer_data_size(ring));
    /* No keys or values. */
    assert_null(ebpf_map_lookup_program(map, &key));
    assert_int_equal(-EOPNOTSUPP, ebpf_map_update_program(map, &key, &value, BPF_ANY));
    assert_int_equal(-EOPNOTSUPP, ebpf_map_delete_program(map, &key));
    assert_int_equal(-EOPNOTSUPP, ebpf_map_lookup_user(map, &key, &value, 0));
    assert_non_null(strstr(ebpf_last_error(), "ringbuf"));
    assert_int_equal(-EOPNOTSUPP, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    assert_int_equal(-EOPNOTSUPP, ebpf_map_delete_user(map, &key));
    assert_int_equal(-EOPNOTSUPP, ebpf_map_get_next_key(map, NULL, &key));

    /* A reserved record is memory a program may write. */
    record = ebpf_ring_buffer_reserve(ring, 16, 0);
    assert_non_null(record);
    assert_true(ebpf_map_owns_memory(map, record, 16, true));
    assert_false(ebpf_map_owns_memory(map, &local, 4, false));
    memset(record, 0x5a, 16);
    ebpf_ring_buffer_submit(ring, record, 0);
    assert_int_equal(1, ebpf_ring_buffer_consume(ring, count_record, &records));
    assert_int_equal(1, records);
    ebpf_map_release(map);
    drain_deferred();
}

static int count_sample(void *context, uint32_t cpu, void *data, uint32_t size)
{
    (*(int *)context)++;
    assert_int_equal(0, cpu);
    assert_true(size >= 8);
    return 0;
}

static void test_perf_event_array_map(void **state)
{
    uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0);
    ebpf_perf_event_array_t *array = NULL, *again = NULL;
    uint64_t sample = 0x1122334455667788ull;
    uint32_t key = 0, next = 9, value = 0;
    int samples = 0;

    /* Before user space opens the rings, output finds no perf event: -ENOENT, as Linux. */
    assert_null(ebpf_map_get_perf_event_array(map));
    assert_int_equal(-ENOENT, ebpf_map_perf_event_output(map, 0, &sample, sizeof(sample)));

    assert_int_equal(0, ebpf_map_open_perf_event_array(map, page, &array));
    assert_non_null(array);
    assert_int_equal(2, ebpf_perf_event_array_cpu_count(array));
    assert_int_equal(0, ebpf_map_open_perf_event_array(map, 2 * page, &again));
    assert_ptr_equal(array, again);
    assert_ptr_equal(array, ebpf_map_get_perf_event_array(map));

    assert_int_equal(0, ebpf_map_perf_event_output(map, 0, &sample, sizeof(sample)));
    assert_int_equal(-E2BIG, ebpf_map_perf_event_output(map, 5, &sample, sizeof(sample)));
    assert_int_equal(1, ebpf_perf_event_array_consume(array, 0, count_sample, NULL, &samples));
    assert_int_equal(1, samples);

    assert_int_equal(0, ebpf_map_get_next_key(map, NULL, &next));
    assert_int_equal(0, next);
    assert_int_equal(-EOPNOTSUPP, ebpf_map_lookup_user(map, &key, &value, 0));
    assert_null(ebpf_map_lookup_program(map, &key));
    assert_false(ebpf_map_owns_memory(map, &value, 4, false));
    ebpf_map_release(map);

    /* A map whose rings were never opened. */
    map = create_map(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0);
    array = NULL;
    assert_int_equal(-EINVAL, ebpf_map_open_perf_event_array(map, page + 1, &array));
    assert_null(array);
    ebpf_map_release(map);
    drain_deferred();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ringbuf_map),
        cmocka_unit_test(test_perf_event_array_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
