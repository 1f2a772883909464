/* Tests of maps holding objects: prog_array (program handles) and array/hash of maps. */
#include "map_test_common.h"

/* A stand-in for the core's programs: a reference count and an id. */
typedef struct fake_program {
    _Atomic int references;
    uint32_t id;
} fake_program_t;

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
    return ((const fake_program_t *)program)->id;
}

static const ebpf_map_program_ops_t program_ops = {program_acquire, program_release, program_id};

/* A stand-in for the user API's fd table: fds 10.. are programs, 20.. are maps. */
static fake_program_t programs[3];
static ebpf_map_t *fd_maps[3];

static int program_from_fd(void *context, int fd, void **program)
{
    if (fd < 10 || fd >= 13)
        return -EBADF;
    program_acquire(&programs[fd - 10]);
    *program = &programs[fd - 10];
    return 0;
}

static int map_from_fd(void *context, int fd, ebpf_map_t **map)
{
    if (fd < 20 || fd >= 23 || fd_maps[fd - 20] == NULL)
        return -EBADF;
    ebpf_map_acquire(fd_maps[fd - 20]);
    *map = fd_maps[fd - 20];
    return 0;
}

static const ebpf_map_fd_resolver_t resolver = {program_from_fd, map_from_fd, NULL};

static int setup(void **state)
{
    for (int i = 0; i < 3; i++) {
        atomic_store(&programs[i].references, 1);
        programs[i].id = 100 + (uint32_t)i;
    }
    ebpf_map_set_program_ops(&program_ops);
    ebpf_map_set_fd_resolver(&resolver);
    return 0;
}

static void test_prog_array(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0);
    uint32_t key = 1, fd = 11, id = 0, next, out_of_range = 4;

    assert_null(ebpf_map_get_program(map, 1));
    assert_int_equal(-ENOENT, ebpf_map_lookup_user(map, &key, &id, 0));
    assert_int_equal(0, ebpf_map_update_object(map, &key, &programs[0], BPF_ANY));
    assert_int_equal(2, atomic_load(&programs[0].references));
    ebpf_epoch_enter();
    assert_ptr_equal(&programs[0], ebpf_map_get_program(map, 1));
    assert_null(ebpf_map_get_program(map, 4));
    ebpf_epoch_exit();
    assert_int_equal(0, ebpf_map_lookup_user(map, &key, &id, 0));
    assert_int_equal(100, id);

    /* Replacing through an fd: the new program gains one reference (the resolver's was
     * dropped), the old one loses it after a grace period. */
    assert_int_equal(0, ebpf_map_update_user(map, &key, &fd, BPF_ANY));
    assert_int_equal(2, atomic_load(&programs[1].references));
    drain_deferred();
    assert_int_equal(1, atomic_load(&programs[0].references));
    assert_int_equal(0, ebpf_map_lookup_user(map, &key, &id, 0));
    assert_int_equal(101, id);

    fd = 99;
    assert_int_equal(-EBADF, ebpf_map_update_user(map, &key, &fd, BPF_ANY));
    fd = 12;
    assert_int_equal(-EINVAL, ebpf_map_update_user(map, &key, &fd, BPF_NOEXIST));
    assert_int_equal(-EINVAL, ebpf_map_update_user(map, &key, &fd, BPF_EXIST));
    assert_int_equal(-E2BIG, ebpf_map_update_user(map, &out_of_range, &fd, BPF_ANY));
    assert_int_equal(-E2BIG, ebpf_map_delete_user(map, &out_of_range));
    assert_int_equal(1, atomic_load(&programs[2].references));

    /* Programs cannot look up or change a prog_array. */
    assert_null(ebpf_map_lookup_program(map, &key));
    assert_int_equal(-EINVAL, ebpf_map_update_program(map, &key, &fd, BPF_ANY));
    assert_int_equal(-EINVAL, ebpf_map_delete_program(map, &key));

    assert_int_equal(0, ebpf_map_get_next_key(map, NULL, &next));
    assert_int_equal(0, next);

    key = 2;
    assert_int_equal(-ENOENT, ebpf_map_delete_user(map, &key));
    assert_int_equal(0, ebpf_map_update_object(map, &key, &programs[2], BPF_ANY));
    assert_int_equal(0, ebpf_map_delete_user(map, &key));
    drain_deferred();
    assert_int_equal(1, atomic_load(&programs[2].references));

    /* Releasing the map releases the programs it holds. */
    key = 3;
    assert_int_equal(0, ebpf_map_update_object(map, &key, &programs[2], BPF_ANY));
    ebpf_map_release(map);
    drain_deferred();
    for (int i = 0; i < 3; i++)
        assert_int_equal(1, atomic_load(&programs[i].references));
}

static void test_prog_array_release_programs(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0);
    ebpf_map_t *hash = create_map(BPF_MAP_TYPE_HASH, 4, 4, 4, 0);

    for (uint32_t key = 0; key < 3; key++)
        assert_int_equal(0, ebpf_map_update_object(map, &key, &programs[key], BPF_ANY));
    ebpf_map_release_programs(map);
    ebpf_map_release_programs(hash); /* not a prog_array: nothing happens */
    drain_deferred();
    for (int i = 0; i < 3; i++)
        assert_int_equal(1, atomic_load(&programs[i].references));
    ebpf_epoch_enter();
    assert_null(ebpf_map_get_program(map, 0));
    ebpf_epoch_exit();
    ebpf_map_release(map);
    ebpf_map_release(hash);
    drain_deferred();
}

static void test_array_of_maps(void **state)
{
    int64_t start = settled_outstanding();
    ebpf_map_definition_t template = map_definition(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
    ebpf_map_definition_t outer_definition = map_definition(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0);
    ebpf_map_t *outer = NULL, *inner, *other, *wrong_size, *wrong_type;
    uint32_t key = 0, fd = 20, id = 0, slot_key = 1;
    uint64_t value = 5;

    outer_definition.inner_map = &template;
    assert_int_equal(0, ebpf_map_create(&outer_definition, "outer", &outer));
    inner = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
    other = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
    wrong_size = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 8, 0);
    wrong_type = create_map(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
    fd_maps[0] = inner;
    fd_maps[1] = other;

    assert_int_equal(0, ebpf_map_update_user(outer, &key, &fd, BPF_ANY));
    assert_int_equal(0, ebpf_map_lookup_user(outer, &key, &id, 0));
    assert_int_equal(ebpf_map_get_id(inner), id);
    ebpf_epoch_enter();
    assert_ptr_equal(inner, ebpf_map_lookup_program(outer, &key));
    assert_null(ebpf_map_lookup_program(outer, &slot_key));
    ebpf_epoch_exit();

    /* The inner map must match the template (array: max_entries too). */
    assert_int_equal(-EINVAL, ebpf_map_update_object(outer, &slot_key, wrong_size, BPF_ANY));
    assert_non_null(strstr(ebpf_last_error(), "entries"));
    assert_int_equal(-EINVAL, ebpf_map_update_object(outer, &slot_key, wrong_type, BPF_ANY));
    assert_non_null(strstr(ebpf_last_error(), "template"));
    assert_int_equal(-EINVAL, ebpf_map_update_object(outer, &slot_key, other, BPF_NOEXIST));
    fd = 22;
    assert_int_equal(-EBADF, ebpf_map_update_user(outer, &slot_key, &fd, BPF_ANY));
    key = 2;
    assert_int_equal(-E2BIG, ebpf_map_update_object(outer, &key, other, BPF_ANY));
    key = 0;

    /* A program reaches the inner map through the outer one. */
    ebpf_epoch_enter();
    ebpf_map_t *found = ebpf_map_lookup_program(outer, &key);
    assert_int_equal(0, ebpf_map_update_program(found, &key, &value, BPF_ANY));
    assert_int_equal(-EINVAL, ebpf_map_update_program(outer, &key, &fd, BPF_ANY));
    assert_int_equal(-EINVAL, ebpf_map_delete_program(outer, &key));
    ebpf_epoch_exit();

    /* Our references go; the outer map keeps the inner one alive. */
    ebpf_map_release(inner);
    fd_maps[0] = NULL;
    drain_deferred();
    value = 0;
    ebpf_epoch_enter();
    found = ebpf_map_lookup_program(outer, &key);
    assert_int_equal(5, *(uint64_t *)ebpf_map_lookup_program(found, &key));
    ebpf_epoch_exit();

    /* Replace, then delete. */
    assert_int_equal(0, ebpf_map_update_object(outer, &key, other, BPF_ANY));
    assert_int_equal(0, ebpf_map_lookup_user(outer, &key, &id, 0));
    assert_int_equal(ebpf_map_get_id(other), id);
    assert_int_equal(0, ebpf_map_delete_user(outer, &key));
    assert_int_equal(-ENOENT, ebpf_map_delete_user(outer, &key));
    assert_int_equal(-ENOENT, ebpf_map_lookup_user(outer, &key, &id, 0));

    assert_int_equal(0, ebpf_map_update_object(outer, &slot_key, other, BPF_ANY));
    ebpf_map_release(other);
    fd_maps[1] = NULL;
    ebpf_map_release(wrong_size);
    ebpf_map_release(wrong_type);
    ebpf_map_release(outer);
    drain_deferred();
    assert_int_equal(start, ebpf_allocation_outstanding());
}

static void test_inner_map_flag(void **state)
{
    ebpf_map_definition_t template = map_definition(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_INNER_MAP);
    ebpf_map_definition_t outer_definition = map_definition(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0);
    ebpf_map_t *outer = NULL;
    ebpf_map_t *bigger = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 64, BPF_F_INNER_MAP);
    ebpf_map_t *plain = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
    uint32_t key = 0;

    outer_definition.inner_map = &template;
    assert_int_equal(0, ebpf_map_create(&outer_definition, "outer", &outer));
    /* BPF_F_INNER_MAP lets inner arrays differ in size; flags must still match. */
    assert_int_equal(0, ebpf_map_update_object(outer, &key, bigger, BPF_ANY));
    assert_int_equal(-EINVAL, ebpf_map_update_object(outer, &key, plain, BPF_ANY));
    ebpf_map_release(bigger);
    ebpf_map_release(plain);
    ebpf_map_release(outer);
    drain_deferred();
}

static void test_hash_of_maps(void **state)
{
    int64_t start = settled_outstanding();
    ebpf_map_t *inner = create_map(BPF_MAP_TYPE_HASH, 4, 4, 8, 0);
    ebpf_map_t *other = create_map(BPF_MAP_TYPE_HASH, 4, 4, 128, 0);
    ebpf_map_t *wrong = create_map(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
    ebpf_map_definition_t outer_definition = map_definition(BPF_MAP_TYPE_HASH_OF_MAPS, 8, 4, 2, 0);
    ebpf_map_t *outer = NULL;
    uint64_t key = 77, key2 = 78, key3 = 79, next = 0;
    uint32_t id = 0, fd = 20;

    /* An existing map serves as the template. */
    outer_definition.inner_map = ebpf_map_get_definition(inner);
    assert_int_equal(0, ebpf_map_create(&outer_definition, "outer", &outer));
    fd_maps[0] = inner;

    assert_int_equal(0, ebpf_map_update_user(outer, &key, &fd, BPF_NOEXIST));
    assert_int_equal(-EEXIST, ebpf_map_update_user(outer, &key, &fd, BPF_NOEXIST));
    /* Hash inner maps may differ in max_entries. */
    assert_int_equal(0, ebpf_map_update_object(outer, &key2, other, BPF_ANY));
    assert_int_equal(-EINVAL, ebpf_map_update_object(outer, &key3, wrong, BPF_ANY));
    assert_int_equal(-E2BIG, ebpf_map_update_object(outer, &key3, other, BPF_ANY));
    assert_int_equal(0, ebpf_map_lookup_user(outer, &key, &id, 0));
    assert_int_equal(ebpf_map_get_id(inner), id);
    ebpf_epoch_enter();
    assert_ptr_equal(inner, ebpf_map_lookup_program(outer, &key));
    assert_ptr_equal(other, ebpf_map_lookup_program(outer, &key2));
    assert_null(ebpf_map_lookup_program(outer, &key3));
    assert_int_equal(-EINVAL, ebpf_map_update_program(outer, &key, &fd, BPF_ANY));
    assert_int_equal(-EINVAL, ebpf_map_delete_program(outer, &key));
    ebpf_epoch_exit();
    assert_false(ebpf_map_owns_memory(outer, &key, 1, false));
    assert_int_equal(0, ebpf_map_get_next_key(outer, NULL, &next));
    assert_true(next == key || next == key2);

    /* Replace key's map with other, delete key2: references follow. */
    assert_int_equal(0, ebpf_map_update_object(outer, &key, other, BPF_EXIST));
    assert_int_equal(0, ebpf_map_delete_user(outer, &key2));
    assert_int_equal(-ENOENT, ebpf_map_delete_user(outer, &key2));
    assert_int_equal(-EOPNOTSUPP, ebpf_map_lookup_and_delete_user(outer, &key, &id, 0));

    ebpf_map_release(inner);
    fd_maps[0] = NULL;
    ebpf_map_release(other);
    ebpf_map_release(wrong);
    drain_deferred();
    /* The outer map still holds other. */
    ebpf_epoch_enter();
    assert_int_equal(
        0, ebpf_map_update_program(ebpf_map_lookup_program(outer, &key), &id, &id, BPF_ANY));
    ebpf_epoch_exit();
    ebpf_map_release(outer);
    drain_deferred();
    assert_int_equal(start, ebpf_allocation_outstanding());
}

static void test_without_hooks(void **state)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, 0);
    uint32_t key = 0, fd = 10;

    ebpf_map_set_fd_resolver(NULL);
    assert_int_equal(-EINVAL, ebpf_map_update_user(map, &key, &fd, BPF_ANY));
    assert_non_null(strstr(ebpf_last_error(), "resolve"));
    ebpf_map_set_program_ops(NULL);
    assert_int_equal(-EINVAL, ebpf_map_update_object(map, &key, &programs[0], BPF_ANY));
    assert_non_null(strstr(ebpf_last_error(), "program ops"));
    ebpf_map_release(map);
    drain_deferred();
    setup(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_prog_array, setup),
        cmocka_unit_test_setup(test_prog_array_release_programs, setup),
        cmocka_unit_test_setup(test_array_of_maps, setup),
        cmocka_unit_test_setup(test_inner_map_flag, setup),
        cmocka_unit_test_setup(test_hash_of_maps, setup),
        cmocka_unit_test_setup(test_without_hooks, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
