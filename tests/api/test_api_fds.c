/* Tests of the fd-level API: the fd table, map operations by fd with their errno values,
 * bpf_map_create, pins, and types by name. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_test_support.h"
#include "bpf/bpf.h"
#include "bpf/libbpf.h"
#include "ebpf_api.h"
#include "ebpf_map.h"
#include "ebpf_platform.h"

static int quiet(enum libbpf_print_level level, const char *format, va_list args)
{
    return 0;
}

static int group_setup(void **state)
{
    libbpf_set_print(quiet);
    api_test_store_export();
    return 0;
}

static int group_teardown(void **state)
{
    ebpf_epoch_drain();
    return 0;
}

static int hash_map(uint32_t max_entries)
{
    int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "hash", sizeof(uint32_t), sizeof(uint64_t),
                            max_entries, NULL);
    if (fd < 0)
        fail_msg("bpf_map_create: %s", ebpf_last_error());
    return fd;
}

/* ---- fd table ---- */

static void test_fds_are_high_and_close_once(void **state)
{
    int first = hash_map(4), second = hash_map(4);

    assert_true(first >= EBPF_FD_BASE && second >= EBPF_FD_BASE);
    assert_int_not_equal(first, second);
    assert_int_equal(ebpf_close_fd(first), 0);
    /* A second close, and a close of something never opened, are -EBADF. */
    assert_int_equal(ebpf_close_fd(first), -EBADF);
    assert_int_equal(errno, EBADF);
    assert_int_equal(ebpf_close_fd(0), -EBADF);
    assert_int_equal(ebpf_close_fd(-1), -EBADF);
    assert_int_equal(ebpf_close_fd(EBPF_FD_BASE + EBPF_FD_MAX + 5), -EBADF);
    /* A closed fd refers to nothing; the number is handed out again (lowest first). */
    uint32_t key = 1;
    uint64_t value = 2;
    assert_int_equal(bpf_map_update_elem(first, &key, &value, BPF_ANY), -EBADF);
    assert_int_equal(errno, EBADF);
    assert_non_null(strstr(ebpf_last_error(), "is not open"));
    int third = hash_map(4);
    assert_int_equal(third, first);
    assert_int_equal(ebpf_close_fd(third), 0);
    assert_int_equal(ebpf_close_fd(second), 0);
}

static void test_fd_holds_the_map(void **state)
{
    ebpf_map_t *map;
    int fd = hash_map(4);
    uint32_t key = 7;
    uint64_t value = 9, read = 0;

    assert_int_equal(ebpf_map_from_fd(fd, &map), 0);
    assert_int_equal(bpf_map_update_elem(fd, &key, &value, BPF_ANY), 0);
    /* A second fd for the same map, from C code holding the map. */
    int again = ebpf_map_open_fd(map);
    assert_true(again >= EBPF_FD_BASE);
    assert_int_equal(ebpf_close_fd(fd), 0);
    assert_int_equal(bpf_map_lookup_elem(again, &key, &read), 0);
    assert_int_equal(read, 9);
    assert_int_equal(ebpf_close_fd(again), 0);
    /* Our own reference still reads it. */
    assert_int_equal(ebpf_map_lookup_user(map, &key, &read, 0), 0);
    ebpf_map_release(map);
    assert_int_equal(ebpf_map_from_fd(fd, &map), -EBADF);
    ebpf_program_t *program;
    fd = hash_map(1);
    assert_int_equal(ebpf_program_from_fd(fd, &program), -EINVAL);
    assert_int_equal(ebpf_close_fd(fd), 0);
}

typedef struct churn {
    int iterations;
    int failures;
} churn_t;

static void *churn_fds(void *argument)
{
    churn_t *churn = argument;
    for (int i = 0; i < churn->iterations; i++) {
        int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 1, NULL);
        uint32_t key = 0;
        uint64_t value = (uint64_t)fd, read = 0;
        if (fd < 0 || bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0 ||
            bpf_map_lookup_elem(fd, &key, &read) != 0 || read != value || ebpf_close_fd(fd) != 0)
            churn->failures++;
    }
    return NULL;
}

static void test_fd_table_from_many_threads(void **state)
{
    pthread_t threads[4];
    churn_t churns[4];
    for (int t = 0; t < 4; t++) {
        churns[t] = (churn_t){.iterations = 300};
        assert_int_equal(pthread_create(&threads[t], NULL, churn_fds, &churns[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(churns[t].failures, 0);
    }
}

/* ---- map operations ---- */

static void test_hash_operations_and_errno(void **state)
{
    int fd = hash_map(2);
    uint32_t key = 1, next = 0, missing = 99;
    uint64_t value = 10, read = 0;

    assert_int_equal(bpf_map_update_elem(fd, &key, &value, BPF_NOEXIST), 0);
    assert_int_equal(bpf_map_update_elem(fd, &key, &value, BPF_NOEXIST), -EEXIST);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(bpf_map_update_elem(fd, &missing, &value, BPF_EXIST), -ENOENT);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(bpf_map_update_elem(fd, &key, &value, 77), -EINVAL);
    assert_int_equal(bpf_map_lookup_elem(fd, &missing, &read), -ENOENT);
    assert_int_equal(bpf_map_delete_elem(fd, &missing), -ENOENT);
    key = 2;
    value = 20;
    assert_int_equal(bpf_map_update_elem(fd, &key, &value, BPF_ANY), 0);
    key = 3;
    assert_int_equal(bpf_map_update_elem(fd, &key, &value, BPF_ANY), -E2BIG);
    assert_int_equal(errno, E2BIG);

    /* Iteration visits both keys, then -ENOENT. */
    uint32_t seen = 0;
    assert_int_equal(bpf_map_get_next_key(fd, NULL, &next), 0);
    seen |= 1u << next;
    assert_int_equal(bpf_map_get_next_key(fd, &next, &next), 0);
    seen |= 1u << next;
    assert_int_equal(bpf_map_get_next_key(fd, &next, &next), -ENOENT);
    assert_int_equal(seen, (1u << 1) | (1u << 2));

    key = 2;
    assert_int_equal(bpf_map_lookup_and_delete_elem(fd, &key, &read), 0);
    assert_int_equal(read, 20);
    assert_int_equal(bpf_map_lookup_elem(fd, &key, &read), -ENOENT);
    key = 1;
    assert_int_equal(bpf_map_lookup_elem_flags(fd, &key, &read, 0), 0);
    assert_int_equal(read, 10);
    assert_int_equal(bpf_map_delete_elem(fd, &key), 0);
    assert_int_equal(bpf_map_lookup_elem(fd, &key, NULL), -EINVAL);
    assert_int_equal(ebpf_close_fd(fd), 0);
}

static void test_array_queue_and_freeze(void **state)
{
    int array = bpf_map_create(BPF_MAP_TYPE_ARRAY, "array", 4, 8, 2, NULL);
    int queue = bpf_map_create(BPF_MAP_TYPE_QUEUE, "queue", 0, 4, 4, NULL);
    uint32_t key = 5, item = 11, popped = 0;
    uint64_t value = 1;

    assert_true(array >= EBPF_FD_BASE && queue >= EBPF_FD_BASE);
    assert_int_equal(bpf_map_update_elem(array, &key, &value, BPF_ANY), -E2BIG);
    assert_int_equal(bpf_map_delete_elem(array, &key), -EINVAL);
    key = 1;
    assert_int_equal(bpf_map_update_elem(array, &key, &value, BPF_ANY), 0);
    assert_int_equal(bpf_map_freeze(array), 0);
    assert_int_equal(bpf_map_freeze(array), -EBUSY);
    assert_int_equal(bpf_map_update_elem(array, &key, &value, BPF_ANY), -EPERM);
    assert_int_equal(errno, EPERM);

    assert_int_equal(bpf_map_update_elem(queue, NULL, &item, BPF_ANY), 0);
    assert_int_equal(bpf_map_lookup_and_delete_elem(queue, NULL, &popped), 0);
    assert_int_equal(popped, 11);
    assert_int_equal(bpf_map_lookup_and_delete_elem(queue, NULL, &popped), -ENOENT);
    assert_int_equal(ebpf_close_fd(array), 0);
    assert_int_equal(ebpf_close_fd(queue), 0);
}

static void test_map_create_checks_and_options(void **state)
{
    /* The core's checks come through as Linux's errno values. */
    assert_int_equal(bpf_map_create(BPF_MAP_TYPE_HASH, "bad", 0, 8, 4, NULL), -EINVAL);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(bpf_map_create(BPF_MAP_TYPE_ARRAY, "bad name!", 4, 8, 4, NULL), -EINVAL);
    assert_int_equal(bpf_map_create((enum bpf_map_type)999, NULL, 4, 8, 4, NULL), -EINVAL);

    LIBBPF_OPTS(bpf_map_create_opts, readonly, .map_flags = BPF_F_RDONLY);
    int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "readonly", 4, 8, 1, &readonly);
    assert_true(fd >= EBPF_FD_BASE);
    uint32_t key = 0;
    uint64_t value = 3;
    assert_int_equal(bpf_map_update_elem(fd, &key, &value, BPF_ANY), -EPERM);
    assert_int_equal(ebpf_close_fd(fd), 0);

    LIBBPF_OPTS(bpf_map_create_opts, btf, .btf_fd = 3);
    assert_int_equal(bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 1, &btf), -EINVAL);
    LIBBPF_OPTS(bpf_map_create_opts, tiny);
    tiny.sz = 2;
    assert_int_equal(bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 1, &tiny), -EINVAL);

    /* Map-in-map: the inner fd is the template; updates take map fds, lookups give ids. */
    int inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "inner", 4, 8, 1, NULL);
    LIBBPF_OPTS(bpf_map_create_opts, outer_options, .inner_map_fd = (uint32_t)inner);
    int outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "outer", 4, 4, 2, &outer_options);
    assert_true(outer >= EBPF_FD_BASE);
    uint32_t id = 0;
    assert_int_equal(bpf_map_update_elem(outer, &key, &inner, BPF_ANY), 0);
    assert_int_equal(bpf_map_lookup_elem(outer, &key, &id), 0);
    ebpf_map_t *inner_map;
    assert_int_equal(ebpf_map_from_fd(inner, &inner_map), 0);
    assert_int_equal(id, ebpf_map_get_id(inner_map));
    ebpf_map_release(inner_map);
    int other = hash_map(1);
    assert_int_equal(bpf_map_update_elem(outer, &key, &other, BPF_ANY), -EINVAL);
    int closed = other;
    assert_int_equal(ebpf_close_fd(other), 0);
    assert_int_equal(bpf_map_update_elem(outer, &key, &closed, BPF_ANY), -EBADF);
    LIBBPF_OPTS(bpf_map_create_opts, bad_inner, .inner_map_fd = (uint32_t)closed);
    assert_int_equal(bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, NULL, 4, 4, 2, &bad_inner), -EBADF);
    assert_int_equal(ebpf_close_fd(outer), 0);
    assert_int_equal(ebpf_close_fd(inner), 0);
}

/* ---- pins ---- */

static void test_pin_get_unpin(void **state)
{
    int fd = hash_map(4);
    uint32_t key = 1;
    uint64_t value = 5, read = 0;

    assert_int_equal(bpf_map_update_elem(fd, &key, &value, BPF_ANY), 0);
    assert_int_equal(bpf_obj_pin(fd, "/sys/fs/bpf/api/pinned"), 0);
    /* The bpffs prefix is optional: the same name. */
    assert_int_equal(bpf_obj_pin(fd, "api/pinned"), -EEXIST);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(ebpf_close_fd(fd), 0);

    int again = bpf_obj_get("api/pinned");
    assert_true(again >= EBPF_FD_BASE);
    assert_int_equal(bpf_map_lookup_elem(again, &key, &read), 0);
    assert_int_equal(read, 5);
    int third = bpf_obj_get("/sys/fs/bpf/api/pinned");
    assert_int_not_equal(third, again);
    assert_int_equal(ebpf_close_fd(third), 0);

    assert_int_equal(ebpf_unpin("/sys/fs/bpf/api/pinned"), 0);
    assert_int_equal(ebpf_unpin("/sys/fs/bpf/api/pinned"), -ENOENT);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(bpf_obj_get("/sys/fs/bpf/api/pinned"), -ENOENT);
    /* The fd from before still works. */
    assert_int_equal(bpf_map_lookup_elem(again, &key, &read), 0);
    assert_int_equal(ebpf_close_fd(again), 0);

    /* Bad names and fds. */
    fd = hash_map(1);
    assert_int_equal(bpf_obj_pin(fd, ""), -EINVAL);
    assert_int_equal(bpf_obj_pin(fd, "/sys/fs/bpf/"), -EINVAL);
    assert_int_equal(bpf_obj_pin(fd, NULL), -EINVAL);
    char long_name[EBPF_PIN_NAME_MAX + 2];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(bpf_obj_pin(fd, long_name), -ENAMETOOLONG);
    assert_int_equal(ebpf_close_fd(fd), 0);
    assert_int_equal(bpf_obj_pin(fd, "x"), -EBADF);
}

static void test_pin_map_from_c_code(void **state)
{
    ebpf_map_definition_t definition = {.type = BPF_MAP_TYPE_RINGBUF, .max_entries = 4096 * 4};
    ebpf_map_t *map, *found;

    assert_int_equal(ebpf_map_create(&definition, "events", &map), 0);
    assert_int_equal(ebpf_pin_map(map, "netevent/test_events"), 0);
    assert_int_equal(ebpf_pin_map(map, "netevent/test_events"), -EEXIST);
    /* What a module pinned, user space opens by the name. */
    int fd = bpf_obj_get("/sys/fs/bpf/netevent/test_events");
    assert_true(fd >= EBPF_FD_BASE);
    assert_int_equal(ebpf_map_from_fd(fd, &found), 0);
    assert_ptr_equal(found, map);
    ebpf_map_release(found);
    /* Gone from the names, the map lives on in the fd and in our reference. */
    assert_int_equal(ebpf_unpin("netevent/test_events"), 0);
    assert_int_equal(ebpf_unpin("netevent/test_events"), -ENOENT);
    assert_int_equal(ebpf_close_fd(fd), 0);
    ebpf_map_release(map);
    assert_int_equal(ebpf_pin_map(NULL, "x"), -EINVAL);
}

static void test_program_array_emptied_with_its_last_user_reference(void **state)
{
    /* A pinned program array keeps its programs when its fds close. */
    api_test_program_info_register();
    struct bpf_object *object = bpf_object__open(api_test_object("api_programs"));
    assert_int_equal(bpf_object__load(object), 0);
    int jump_table = bpf_object__find_map_fd_by_name(object, "jump_table");
    int echo = bpf_program__fd(bpf_object__find_program_by_name(object, "echo"));
    uint32_t slot = 1, id = 0;
    assert_int_equal(bpf_map_update_elem(jump_table, &slot, &echo, BPF_ANY), 0);
    assert_int_equal(bpf_obj_pin(jump_table, "api/jump_table"), 0);
    bpf_object__close(object);
    assert_int_equal(ebpf_unpin("/sys/fs/bpf/shared"), 0);

    int fd = bpf_obj_get("api/jump_table");
    ebpf_map_t *map;
    assert_int_equal(bpf_map_lookup_elem(fd, &slot, &id), 0);
    assert_true(id > 0);
    assert_int_equal(ebpf_map_from_fd(fd, &map), 0);
    /* The fd is a user reference still. */
    assert_int_equal(ebpf_unpin("api/jump_table"), 0);
    assert_int_equal(ebpf_map_lookup_user(map, &slot, &id, 0), 0);
    /* With its last user reference gone, it lets go of the program (C references do not
     * count). */
    assert_int_equal(ebpf_close_fd(fd), 0);
    assert_int_equal(ebpf_map_lookup_user(map, &slot, &id, 0), -ENOENT);
    ebpf_map_release(map);
    api_test_program_info_unregister();
}

/* ---- types by name ---- */

static void test_types_by_name(void **state)
{
    enum bpf_prog_type type;
    enum bpf_attach_type attach;

    /* From the store: the section and its longer forms. */
    assert_int_equal(libbpf_prog_type_by_name("api_test", &type, &attach), 0);
    assert_int_equal(type, API_TEST_BPF_PROG_TYPE);
    assert_int_equal(attach, API_TEST_BPF_ATTACH_TYPE);
    assert_int_equal(libbpf_prog_type_by_name("api_test/more", &type, &attach), 0);
    assert_int_equal(type, API_TEST_BPF_PROG_TYPE);
    assert_int_equal(libbpf_attach_type_by_name("api_test", &attach), 0);
    assert_int_equal(attach, API_TEST_BPF_ATTACH_TYPE);

    /* Linux names. */
    assert_int_equal(libbpf_prog_type_by_name("xdp", &type, &attach), 0);
    assert_int_equal(type, BPF_PROG_TYPE_XDP);
    assert_int_equal(attach, BPF_XDP);
    assert_int_equal(libbpf_prog_type_by_name("xdp/devmap", &type, &attach), 0);
    assert_int_equal(attach, BPF_XDP_DEVMAP);
    assert_int_equal(libbpf_prog_type_by_name("kprobe/do_sys_open", &type, &attach), 0);
    assert_int_equal(type, BPF_PROG_TYPE_KPROBE);
    assert_int_equal(libbpf_prog_type_by_name("cgroup_skb/egress", &type, &attach), 0);
    assert_int_equal(type, BPF_PROG_TYPE_CGROUP_SKB);
    assert_int_equal(attach, BPF_CGROUP_INET_EGRESS);
    assert_int_equal(libbpf_attach_type_by_name("cgroup/connect4", &attach), 0);
    assert_int_equal(attach, BPF_CGROUP_INET4_CONNECT);
    assert_int_equal(libbpf_attach_type_by_name("kprobe/x", &attach), -EINVAL);
    /* "xdpfoo" is not "xdp": a prefix matches whole or followed by '/'. */
    assert_int_equal(libbpf_prog_type_by_name("xdpfoo", &type, &attach), -ESRCH);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(libbpf_prog_type_by_name("nothing/known", &type, &attach), -ESRCH);
    assert_int_equal(libbpf_prog_type_by_name(NULL, &type, &attach), -EINVAL);

    /* Numbers to names. */
    assert_string_equal(libbpf_bpf_prog_type_str(BPF_PROG_TYPE_XDP), "xdp");
    assert_string_equal(libbpf_bpf_prog_type_str(BPF_PROG_TYPE_SOCKET_FILTER), "socket_filter");
    assert_string_equal(libbpf_bpf_prog_type_str((enum bpf_prog_type)API_TEST_BPF_PROG_TYPE),
                        "api_test");
    assert_null(libbpf_bpf_prog_type_str((enum bpf_prog_type)54321));
    assert_string_equal(libbpf_bpf_attach_type_str(BPF_CGROUP_INET_INGRESS), "cgroup_inet_ingress");
    assert_string_equal(libbpf_bpf_attach_type_str(BPF_XDP), "xdp");
    assert_string_equal(libbpf_bpf_attach_type_str((enum bpf_attach_type)API_TEST_BPF_ATTACH_TYPE),
                        "api_test");
    /* The same pointer every time (names live as long as the process). */
    assert_ptr_equal(libbpf_bpf_attach_type_str((enum bpf_attach_type)API_TEST_BPF_ATTACH_TYPE),
                     libbpf_bpf_attach_type_str((enum bpf_attach_type)API_TEST_BPF_ATTACH_TYPE));
    assert_null(libbpf_bpf_attach_type_str((enum bpf_attach_type)54321));
    assert_string_equal(libbpf_bpf_map_type_str(BPF_MAP_TYPE_RINGBUF), "ringbuf");
    assert_string_equal(libbpf_bpf_map_type_str(BPF_MAP_TYPE_LPM_TRIE), "lpm_trie");
    assert_null(libbpf_bpf_map_type_str((enum bpf_map_type)999));
    assert_string_equal(libbpf_bpf_link_type_str(BPF_LINK_TYPE_XDP), "xdp");
}

static void test_errors_and_printing(void **state)
{
    char text[64];
    assert_int_equal(libbpf_strerror(-ENOENT, text, sizeof(text)), 0);
    assert_string_equal(text, strerror(ENOENT));
    assert_int_equal(libbpf_strerror(ENOENT, NULL, 0), -EINVAL);
    int dummy;
    assert_int_equal(libbpf_get_error(&dummy), 0);
    errno = EPERM;
    assert_int_equal(libbpf_get_error(NULL), -EPERM);
    assert_int_equal(libbpf_get_error((void *)(intptr_t)-EINVAL), -EINVAL);
    assert_int_equal(libbpf_num_possible_cpus(), (int)ebpf_cpu_count());
    /* set_print returns the previous printer; NULL silences. */
    assert_ptr_equal(libbpf_set_print(NULL), quiet);
    assert_null(bpf_object__open("/nonexistent.o"));
    assert_null(libbpf_set_print(quiet));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fds_are_high_and_close_once),
        cmocka_unit_test(test_fd_holds_the_map),
        cmocka_unit_test(test_fd_table_from_many_threads),
        cmocka_unit_test(test_hash_operations_and_errno),
        cmocka_unit_test(test_array_queue_and_freeze),
        cmocka_unit_test(test_map_create_checks_and_options),
        cmocka_unit_test(test_pin_get_unpin),
        cmocka_unit_test(test_pin_map_from_c_code),
        cmocka_unit_test(test_program_array_emptied_with_its_last_user_reference),
        cmocka_unit_test(test_types_by_name),
        cmocka_unit_test(test_errors_and_printing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
