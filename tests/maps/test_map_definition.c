/* Tests of map definitions (each bad field refused with Linux's errno), names, ids, references. */
#include <stdio.h>

#include "map_test_common.h"

typedef struct definition_case {
    const char *what;
    ebpf_map_definition_t definition;
    int expected;
    const char *message_part; /* expected in ebpf_last_error(), or NULL */
} definition_case_t;

#define CASE(what_, type_, key_, value_, max_, flags_, expected_, part_)                           \
    {                                                                                              \
        what_,                                                                                     \
            {.type = (type_),                                                                      \
             .key_size = (key_),                                                                   \
             .value_size = (value_),                                                               \
             .max_entries = (max_),                                                                \
             .map_flags = (flags_)},                                                               \
            (expected_), (part_)                                                                   \
    }

static const definition_case_t cases[] = {
    /* array */
    CASE("array ok", BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0, 0, NULL),
    CASE("array mmapable", BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE, 0, NULL),
    CASE("array inner map flag", BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_INNER_MAP, 0, NULL),
    CASE("array key 8", BPF_MAP_TYPE_ARRAY, 8, 8, 16, 0, -EINVAL, "key_size"),
    CASE("array value 0", BPF_MAP_TYPE_ARRAY, 4, 0, 16, 0, -EINVAL, "value_size"),
    CASE("array max 0", BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0, -EINVAL, "max_entries"),
    CASE("array no prealloc", BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_NO_PREALLOC, -EINVAL,
         "map_flags"),
    CASE("array preserve elems", BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_PRESERVE_ELEMS, -EINVAL,
         "map_flags"),
    CASE("array rdonly+wronly", BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_RDONLY | BPF_F_WRONLY, -EINVAL,
         "BPF_F_RDONLY"),
    CASE("array rdonly_prog+wronly_prog", BPF_MAP_TYPE_ARRAY, 4, 8, 16,
         BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, -EINVAL, "BPF_F_RDONLY_PROG"),
    CASE("array huge value", BPF_MAP_TYPE_ARRAY, 4, 5u << 20, 1, 0, -E2BIG, "value_size"),
    CASE("array huge total", BPF_MAP_TYPE_ARRAY, 4, 4096, 0xffffffffu, 0, -E2BIG, "need"),
    /* per-CPU array */
    CASE("percpu array ok", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, 0, 0, NULL),
    CASE("percpu array mmapable", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, BPF_F_MMAPABLE, -EINVAL,
         "map_flags"),
    CASE("percpu array numa", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, BPF_F_NUMA_NODE, -EINVAL,
         "map_flags"),
    CASE("percpu array big value", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 40000, 16, 0, -E2BIG, "per-CPU"),
    /* hash */
    CASE("hash ok", BPF_MAP_TYPE_HASH, 8, 8, 16, 0, 0, NULL),
    CASE("hash no prealloc", BPF_MAP_TYPE_HASH, 8, 8, 16, BPF_F_NO_PREALLOC, 0, NULL),
    CASE("hash zero seed", BPF_MAP_TYPE_HASH, 8, 8, 16, BPF_F_ZERO_SEED, 0, NULL),
    CASE("hash key 0", BPF_MAP_TYPE_HASH, 0, 8, 16, 0, -EINVAL, "key_size"),
    CASE("hash value 0", BPF_MAP_TYPE_HASH, 8, 0, 16, 0, -EINVAL, "value_size"),
    CASE("hash max 0", BPF_MAP_TYPE_HASH, 8, 8, 0, 0, -EINVAL, "max_entries"),
    CASE("hash key 600", BPF_MAP_TYPE_HASH, 600, 8, 16, 0, -E2BIG, "key_size"),
    CASE("hash huge value", BPF_MAP_TYPE_HASH, 8, 5u << 20, 16, 0, -E2BIG, "value_size"),
    CASE("hash mmapable", BPF_MAP_TYPE_HASH, 8, 8, 16, BPF_F_MMAPABLE, -EINVAL, "map_flags"),
    CASE("hash no common lru", BPF_MAP_TYPE_HASH, 8, 8, 16, BPF_F_NO_COMMON_LRU, -EINVAL, "LRU"),
    CASE("hash huge max", BPF_MAP_TYPE_HASH, 8, 8, 0xffffffffu, 0, -E2BIG, "max_entries"),
    CASE("hash huge prealloc", BPF_MAP_TYPE_HASH, 8, 4096, 1u << 24, 0, -E2BIG, "preallocated"),
    /* per-CPU and LRU hashes */
    CASE("percpu hash ok", BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, 0, 0, NULL),
    CASE("percpu hash numa", BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, BPF_F_NUMA_NODE, -EINVAL, "NUMA"),
    CASE("percpu hash big value", BPF_MAP_TYPE_PERCPU_HASH, 4, 40000, 16, 0, -E2BIG, "per-CPU"),
    CASE("lru ok", BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, 0, 0, NULL),
    CASE("lru no common lru", BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU, 0, NULL),
    CASE("lru no prealloc", BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_PREALLOC, -EOPNOTSUPP,
         "preallocated"),
    CASE("lru percpu ok", BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 16, 0, 0, NULL),
    CASE("lru percpu key 0", BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 8, 16, 0, -EINVAL, "key_size"),
    /* queue and stack */
    CASE("queue ok", BPF_MAP_TYPE_QUEUE, 0, 8, 16, 0, 0, NULL),
    CASE("stack ok", BPF_MAP_TYPE_STACK, 0, 8, 16, 0, 0, NULL),
    CASE("queue key 4", BPF_MAP_TYPE_QUEUE, 4, 8, 16, 0, -EINVAL, "key_size"),
    CASE("stack value 0", BPF_MAP_TYPE_STACK, 0, 0, 16, 0, -EINVAL, "value_size"),
    CASE("queue max 0", BPF_MAP_TYPE_QUEUE, 0, 8, 0, 0, -EINVAL, "max_entries"),
    CASE("queue no prealloc", BPF_MAP_TYPE_QUEUE, 0, 8, 16, BPF_F_NO_PREALLOC, -EINVAL,
         "map_flags"),
    CASE("stack huge value", BPF_MAP_TYPE_STACK, 0, 5u << 20, 16, 0, -E2BIG, "value_size"),
    /* LPM trie */
    CASE("lpm ok", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC, 0, NULL),
    CASE("lpm prealloc", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, 0, -EINVAL, "BPF_F_NO_PREALLOC"),
    CASE("lpm key 4", BPF_MAP_TYPE_LPM_TRIE, 4, 8, 16, BPF_F_NO_PREALLOC, -EINVAL, "key_size"),
    CASE("lpm key 261", BPF_MAP_TYPE_LPM_TRIE, 261, 8, 16, BPF_F_NO_PREALLOC, -EINVAL, "key_size"),
    CASE("lpm value 0", BPF_MAP_TYPE_LPM_TRIE, 8, 0, 16, BPF_F_NO_PREALLOC, -EINVAL, "value_size"),
    CASE("lpm max 0", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 0, BPF_F_NO_PREALLOC, -EINVAL, "max_entries"),
    CASE("lpm mmapable", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC | BPF_F_MMAPABLE,
         -EINVAL, "map_flags"),
    /* ring buffer */
    CASE("ringbuf ok", BPF_MAP_TYPE_RINGBUF, 0, 0, 4 * 4096, 0, 0, NULL),
    CASE("ringbuf key 4", BPF_MAP_TYPE_RINGBUF, 4, 0, 4 * 4096, 0, -EINVAL, "key_size"),
    CASE("ringbuf value 4", BPF_MAP_TYPE_RINGBUF, 0, 4, 4 * 4096, 0, -EINVAL, "value_size"),
    CASE("ringbuf not power of two", BPF_MAP_TYPE_RINGBUF, 0, 0, 3 * 4096, 0, -EINVAL,
         "power of two"),
    CASE("ringbuf below a page", BPF_MAP_TYPE_RINGBUF, 0, 0, 2048, 0, -EINVAL, "page"),
    CASE("ringbuf max 0", BPF_MAP_TYPE_RINGBUF, 0, 0, 0, 0, -EINVAL, "max_entries"),
    CASE("ringbuf flags", BPF_MAP_TYPE_RINGBUF, 0, 0, 4 * 4096, BPF_F_NO_PREALLOC, -EINVAL,
         "map_flags"),
    /* perf event array and prog_array */
    CASE("perf ok", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, 0, 0, NULL),
    CASE("perf preserve elems", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPF_F_PRESERVE_ELEMS, 0,
         NULL),
    CASE("perf value 8", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 8, 4, 0, -EINVAL, "value_size"),
    CASE("perf key 8", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 8, 4, 4, 0, -EINVAL, "key_size"),
    CASE("perf too many", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 5000, 0, -E2BIG, "max_entries"),
    CASE("prog array ok", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 8, 0, 0, NULL),
    CASE("prog array value 8", BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 8, 0, -EINVAL, "value_size"),
    CASE("prog array rdonly prog", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 8, BPF_F_RDONLY_PROG, -EINVAL,
         "map_flags"),
    /* types this platform does not have */
    CASE("unknown type", 999, 4, 4, 8, 0, -EINVAL, "not supported"),
    CASE("sockmap", BPF_MAP_TYPE_SOCKMAP, 4, 4, 8, 0, -EINVAL, "not supported"),
    CASE("unspec", BPF_MAP_TYPE_UNSPEC, 4, 4, 8, 0, -EINVAL, "not supported"),
};

static void test_definition_cases(void **state)
{
    int64_t start = settled_outstanding();

    for (size_t i = 0; i < EBPF_ARRAY_SIZE(cases); i++) {
        ebpf_map_t *map = (ebpf_map_t *)1;
        int err;

        ebpf_error_clear();
        err = ebpf_map_create(&cases[i].definition, "case", &map);
        if (err != cases[i].expected)
            fail_msg("case '%s': got %d, expected %d (%s)", cases[i].what, err, cases[i].expected,
                     ebpf_last_error());
        if (err == 0) {
            assert_non_null(map);
            ebpf_map_release(map);
            continue;
        }
        assert_null(map);
        assert_non_null(strstr(ebpf_last_error(), "'case'"));
        if (cases[i].message_part != NULL &&
            strstr(ebpf_last_error(), cases[i].message_part) == NULL)
            fail_msg("case '%s': message '%s' lacks '%s'", cases[i].what, ebpf_last_error(),
                     cases[i].message_part);
    }
    drain_deferred();
    assert_int_equal(start, ebpf_allocation_outstanding());
}

static void test_map_in_map_definitions(void **state)
{
    ebpf_map_definition_t inner = map_definition(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
    ebpf_map_definition_t bad_inner = map_definition(BPF_MAP_TYPE_ARRAY, 8, 8, 4, 0);
    ebpf_map_definition_t prog_inner = map_definition(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0);
    ebpf_map_definition_t outer = map_definition(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4, 0);
    ebpf_map_definition_t nested = map_definition(BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 4, 0);
    ebpf_map_definition_t hash = map_definition(BPF_MAP_TYPE_HASH, 4, 4, 4, 0);
    ebpf_map_t *map = NULL;

    assert_int_equal(-EINVAL, ebpf_map_create(&outer, "outer", &map));
    assert_non_null(strstr(ebpf_last_error(), "inner map template"));

    outer.inner_map = &bad_inner;
    assert_int_equal(-EINVAL, ebpf_map_create(&outer, "outer", &map));
    assert_non_null(strstr(ebpf_last_error(), "key_size"));

    outer.inner_map = &prog_inner;
    assert_int_equal(-EINVAL, ebpf_map_create(&outer, "outer", &map));
    assert_non_null(strstr(ebpf_last_error(), "prog_array"));

    nested.inner_map = &inner;
    outer.inner_map = &nested;
    assert_int_equal(-EINVAL, ebpf_map_create(&outer, "outer", &map));

    outer.inner_map = &inner;
    outer.value_size = 8;
    assert_int_equal(-EINVAL, ebpf_map_create(&outer, "outer", &map));
    assert_non_null(strstr(ebpf_last_error(), "value_size"));
    outer.value_size = 4;

    hash.inner_map = &inner;
    assert_int_equal(-EINVAL, ebpf_map_create(&hash, "hash", &map));
    assert_non_null(strstr(ebpf_last_error(), "inner_map"));

    assert_int_equal(0, ebpf_map_create(&outer, "outer", &map));
    /* The template is copied: changing ours does not change the map's. */
    inner.value_size = 16;
    assert_int_equal(8, ebpf_map_get_definition(map)->inner_map->value_size);
    assert_null(ebpf_map_get_definition(map)->inner_map->inner_map);
    ebpf_map_release(map);

    assert_int_equal(0, ebpf_map_create(&nested, "nested", &map));
    ebpf_map_release(map);
    drain_deferred();
}

static void test_names(void **state)
{
    ebpf_map_definition_t definition = map_definition(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
    ebpf_map_t *map = NULL;

    assert_int_equal(-EINVAL, ebpf_map_create(&definition, "sixteen_chars_xx", &map));
    assert_null(map);
    assert_non_null(strstr(ebpf_last_error(), "longer"));
    assert_int_equal(-EINVAL, ebpf_map_create(&definition, "a-b", &map));
    assert_non_null(strstr(ebpf_last_error(), "'-'"));
    assert_int_equal(-EINVAL, ebpf_map_create(NULL, "none", &map));
    assert_int_equal(-EINVAL, ebpf_map_create(&definition, "x", NULL));

    assert_int_equal(0, ebpf_map_create(&definition, "fifteen_chars.x", &map));
    assert_string_equal("fifteen_chars.x", ebpf_map_get_name(map));
    ebpf_map_release(map);
    assert_int_equal(0, ebpf_map_create(&definition, NULL, &map));
    assert_string_equal("", ebpf_map_get_name(map));
    ebpf_map_release(map);
    drain_deferred();
}

static void test_ids_and_definition(void **state)
{
    ebpf_map_t *first = create_map(BPF_MAP_TYPE_HASH, 8, 16, 32, BPF_F_NO_PREALLOC);
    ebpf_map_t *second = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
    const ebpf_map_definition_t *definition = ebpf_map_get_definition(first);

    assert_true(ebpf_map_get_id(first) > 0);
    assert_true(ebpf_map_get_id(second) > ebpf_map_get_id(first));
    assert_int_equal(BPF_MAP_TYPE_HASH, definition->type);
    assert_int_equal(8, definition->key_size);
    assert_int_equal(16, definition->value_size);
    assert_int_equal(32, definition->max_entries);
    assert_int_equal(BPF_F_NO_PREALLOC, definition->map_flags);
    assert_null(definition->inner_map);
    assert_int_equal(16, ebpf_map_user_value_size(first));
    ebpf_map_release(first);
    ebpf_map_release(second);
    drain_deferred();
}

static void test_references(void **state)
{
    int64_t start = settled_outstanding();
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_HASH, 4, 4, 8, 0);
    uint32_t key = 1, value = 2, out = 0;

    ebpf_map_acquire(map);
    ebpf_map_acquire(map);
    ebpf_map_release(map);
    ebpf_map_release(map);
    drain_deferred();
    /* One reference left: still usable. */
    assert_true(ebpf_allocation_outstanding() > start);
    assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    assert_int_equal(0, ebpf_map_lookup_user(map, &key, &out, 0));
    assert_int_equal(2, out);
    ebpf_map_release(map);
    drain_deferred();
    assert_int_equal(start, ebpf_allocation_outstanding());
}

static void test_freeze_and_access_flags(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 2, 0);
    ebpf_map_t *read_only = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 2, BPF_F_RDONLY);
    ebpf_map_t *write_only = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 2, BPF_F_WRONLY);
    uint32_t key = 0, value = 7, out = 0;

    assert_false(ebpf_map_is_frozen(map));
    assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    assert_int_equal(0, ebpf_map_freeze(map));
    assert_true(ebpf_map_is_frozen(map));
    assert_int_equal(-EBUSY, ebpf_map_freeze(map));
    assert_int_equal(-EPERM, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    assert_non_null(strstr(ebpf_last_error(), "frozen"));
    assert_int_equal(-EPERM, ebpf_map_delete_user(map, &key));
    assert_int_equal(0, ebpf_map_lookup_user(map, &key, &out, 0));
    assert_int_equal(7, out);
    /* Programs may still write a frozen map. */
    value = 9;
    assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_ANY));

    assert_int_equal(-EPERM, ebpf_map_update_user(read_only, &key, &value, BPF_ANY));
    assert_int_equal(-EPERM, ebpf_map_freeze(read_only));
    assert_int_equal(0, ebpf_map_lookup_user(read_only, &key, &out, 0));
    assert_int_equal(-EPERM, ebpf_map_lookup_user(write_only, &key, &out, 0));
    assert_int_equal(-EPERM, ebpf_map_get_next_key(write_only, NULL, &out));
    assert_int_equal(0, ebpf_map_update_user(write_only, &key, &value, BPF_ANY));

    ebpf_map_release(map);
    ebpf_map_release(read_only);
    ebpf_map_release(write_only);
    drain_deferred();
}

static void test_rdonly_prog(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1, BPF_F_RDONLY_PROG);
    uint32_t key = 0;
    uint64_t value = 42;
    uint64_t *direct;

    /* .rodata: user space writes the initial value, then freezes. */
    assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    assert_int_equal(0, ebpf_map_freeze(map));
    direct = ebpf_map_array_value_address(map, 0);
    assert_non_null(direct);
    assert_int_equal(42, *direct);
    assert_ptr_equal(direct, ebpf_map_lookup_program(map, &key));
    assert_int_equal(-EPERM, ebpf_map_update_program(map, &key, &value, BPF_ANY));
    assert_int_equal(-EPERM, ebpf_map_delete_program(map, &key));
    assert_true(ebpf_map_owns_memory(map, direct, 8, false));
    assert_false(ebpf_map_owns_memory(map, direct, 8, true));
    ebpf_map_release(map);
    drain_deferred();
}

static void test_unsupported_operations(void **state)
{
    ebpf_map_t *array = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 2, 0);
    uint32_t key = 0, value = 0;

    assert_int_equal(-EOPNOTSUPP, ebpf_map_push(array, &value, 0));
    assert_int_equal(-EOPNOTSUPP, ebpf_map_pop(array, &value));
    assert_int_equal(-EOPNOTSUPP, ebpf_map_peek(array, &value));
    assert_int_equal(-EOPNOTSUPP, ebpf_map_lookup_and_delete_user(array, &key, &value, 0));
    assert_non_null(strstr(ebpf_last_error(), "array"));
    assert_null(ebpf_map_get_program(array, 0));
    assert_null(ebpf_map_get_ring_buffer(array));
    assert_null(ebpf_map_get_perf_event_array(array));
    assert_int_equal(-EINVAL, ebpf_map_perf_event_output(array, 0, &value, 4));
    assert_int_equal(-EINVAL, ebpf_map_update_object(array, &key, array, BPF_ANY));
    ebpf_map_release(array);
    drain_deferred();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_definition_cases),
        cmocka_unit_test(test_map_in_map_definitions),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_ids_and_definition),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_freeze_and_access_flags),
        cmocka_unit_test(test_rdonly_prog),
        cmocka_unit_test(test_unsupported_operations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
