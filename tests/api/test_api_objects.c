/* Tests of the libbpf-compatible object API: open, load, find, program and map accessors,
 * test-run, attach and links, load errors with their messages, and allocation failures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_test_support.h"
#include "bpf/libbpf.h"
#include "ebpf_api.h"
#include "ebpf_map.h"
#include "ebpf_platform.h"

/* ---- captured libbpf output ---- */

static char printed[4096];

static int capture_print(enum libbpf_print_level level, const char *format, va_list args)
{
    size_t used = strlen(printed);
    if (used < sizeof(printed) - 1)
        vsnprintf(printed + used, sizeof(printed) - used, format, args);
    return 0;
}

static int group_setup(void **state)
{
    libbpf_set_print(capture_print);
    api_test_store_export();
    api_test_program_info_register();
    api_test_hook_register();
    return 0;
}

static int group_teardown(void **state)
{
    api_test_hook_unregister();
    api_test_program_info_unregister();
    ebpf_epoch_drain();
    return 0;
}

static struct bpf_object *open_programs(void)
{
    struct bpf_object *object = bpf_object__open(api_test_object("api_programs"));
    if (object == NULL)
        fail_msg("open: %s", ebpf_last_error());
    return object;
}

static struct bpf_object *load_programs(void)
{
    struct bpf_object *object = open_programs();
    if (bpf_object__load(object) != 0)
        fail_msg("load: %s", ebpf_last_error());
    return object;
}

/* Closes an object that pinned "shared" by name and removes the pin. */
static void close_programs(struct bpf_object *object)
{
    bpf_object__close(object);
    ebpf_unpin("/sys/fs/bpf/shared");
}

/* ---- open ---- */

static void test_open_lists_programs_and_maps(void **state)
{
    struct bpf_object *object = open_programs();
    struct bpf_program *program;
    struct bpf_map *map;
    const char *expected_programs[] = {"echo", "ring_writer", "perf_writer", "count_calls",
                                       "tail_caller"};
    size_t count = 0;

    assert_string_equal(bpf_object__name(object), "api_programs");
    bpf_object__for_each_program(program, object)
    {
        assert_true(count < EBPF_ARRAY_SIZE(expected_programs));
        assert_string_equal(bpf_program__name(program), expected_programs[count]);
        assert_string_equal(bpf_program__section_name(program), "api_test");
        /* Resolved through the store before load. */
        assert_int_equal(bpf_program__type(program), API_TEST_BPF_PROG_TYPE);
        assert_int_equal(bpf_program__expected_attach_type(program), API_TEST_BPF_ATTACH_TYPE);
        /* No fd before load. */
        assert_int_equal(bpf_program__fd(program), -ENOENT);
        assert_int_equal(errno, ENOENT);
        count++;
    }
    assert_int_equal(count, EBPF_ARRAY_SIZE(expected_programs));

    map = bpf_object__find_map_by_name(object, "counters");
    assert_non_null(map);
    assert_string_equal(bpf_map__name(map), "counters");
    assert_int_equal(bpf_map__type(map), BPF_MAP_TYPE_ARRAY);
    assert_int_equal(bpf_map__max_entries(map), 4);
    assert_int_equal(bpf_map__key_size(map), 4);
    assert_int_equal(bpf_map__value_size(map), 8);
    assert_int_equal(bpf_map__fd(map), -ENOENT);
    map = bpf_object__find_map_by_name(object, "perf");
    assert_int_equal(bpf_map__max_entries(map), ebpf_cpu_count());
    /* Global data is found by its section name. */
    map = bpf_object__find_map_by_name(object, ".bss");
    assert_non_null(map);
    assert_int_equal(bpf_map__type(map), BPF_MAP_TYPE_ARRAY);
    /* The pinned-by-name map has its path before load. */
    map = bpf_object__find_map_by_name(object, "shared");
    assert_string_equal(bpf_map__pin_path(map), "/sys/fs/bpf/shared");
    assert_false(bpf_map__is_pinned(map));

    count = 0;
    bpf_object__for_each_map(map, object)
    {
        count++;
    }
    assert_int_equal(count, 8);
    assert_null(bpf_object__find_map_by_name(object, "absent"));
    assert_int_equal(errno, ENOENT);
    assert_int_equal(bpf_object__find_map_fd_by_name(object, "absent"), -ENOENT);
    assert_null(bpf_object__find_program_by_name(object, "absent"));
    assert_int_equal(errno, ENOENT);
    bpf_object__close(object);
}

static void test_open_with_options_and_from_memory(void **state)
{
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = "renamed",
                .pin_root_path = "/sys/fs/bpf/elsewhere");
    struct bpf_object *object = bpf_object__open_file(api_test_object("api_programs"), &options);
    assert_non_null(object);
    assert_string_equal(bpf_object__name(object), "renamed");
    assert_string_equal(bpf_map__pin_path(bpf_object__find_map_by_name(object, "shared")),
                        "/sys/fs/bpf/elsewhere/shared");
    bpf_object__close(object);

    /* The same object from memory. */
    FILE *file = fopen(api_test_object("api_programs"), "rb");
    assert_non_null(file);
    static char buffer[1 << 20];
    size_t size = fread(buffer, 1, sizeof(buffer), file);
    fclose(file);
    assert_true(size > 0 && size < sizeof(buffer));
    object = bpf_object__open_mem(buffer, size, NULL);
    assert_non_null(object);
    assert_non_null(bpf_object__find_program_by_name(object, "echo"));
    assert_int_equal(bpf_object__load(object), 0);
    assert_true(bpf_program__fd(bpf_object__find_program_by_name(object, "echo")) >= EBPF_FD_BASE);
    close_programs(object);

    /* An options struct with an unknown field set is refused; a larger one with zeros is not. */
    struct {
        struct bpf_object_open_opts known;
        uint64_t future;
    } larger = {.known = {.sz = sizeof(larger)}, .future = 1};
    assert_null(bpf_object__open_file(api_test_object("api_programs"), &larger.known));
    assert_int_equal(errno, EINVAL);
    larger.future = 0;
    object = bpf_object__open_file(api_test_object("api_programs"), &larger.known);
    assert_non_null(object);
    bpf_object__close(object);
}

static void test_open_errors(void **state)
{
    char path[] = "/tmp/api_not_elf_XXXXXX";
    int fd;

    printed[0] = '\0';
    assert_null(bpf_object__open("/nonexistent/object.o"));
    assert_int_equal(errno, ENOENT);
    assert_int_equal(libbpf_get_error(NULL), -ENOENT);
    assert_non_null(strstr(printed, "libbpf: "));

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not an ELF object at all\n", 25), 25);
    close(fd);
    assert_null(bpf_object__open(path));
    assert_int_equal(errno, ENOEXEC);
    assert_true(strlen(ebpf_last_error()) > 0);
    unlink(path);

    assert_null(bpf_object__open_mem("garbage", 7, NULL));
    assert_true(errno == ENOEXEC || errno == EINVAL);
    assert_null(bpf_object__open_mem(NULL, 0, NULL));
    assert_int_equal(errno, EINVAL);
    assert_null(bpf_object__open(NULL));
    assert_int_equal(errno, EINVAL);
    bpf_object__close(NULL);
}

/* ---- load ---- */

static void test_load_gives_fds_and_runs_programs(void **state)
{
    struct bpf_object *object = load_programs();
    struct bpf_program *program = bpf_object__find_program_by_name(object, "echo");
    uint8_t packet[20] = {1, 2, 3}, packet_out[32];
    api_test_context_t context = {.value = 41}, context_out = {0};
    struct bpf_map *map;

    int fd = bpf_program__fd(program);
    assert_true(fd >= EBPF_FD_BASE);
    bpf_object__for_each_map(map, object)
    {
        assert_true(bpf_map__fd(map) >= EBPF_FD_BASE);
    }
    assert_true(bpf_map__is_pinned(bpf_object__find_map_by_name(object, "shared")));

    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = packet, .data_size_in = sizeof(packet),
                .data_out = packet_out, .data_size_out = sizeof(packet_out), .ctx_in = &context,
                .ctx_size_in = sizeof(context), .ctx_out = &context_out,
                .ctx_size_out = sizeof(context_out), .repeat = 3);
    assert_int_equal(bpf_prog_test_run_opts(fd, &options), 0);
    /* The type's helper added 1000 to the packet length. */
    assert_int_equal(options.retval, 1000 + sizeof(packet));
    assert_int_equal(options.data_size_out, sizeof(packet));
    assert_memory_equal(packet_out, packet, sizeof(packet));
    assert_int_equal(options.ctx_size_out, sizeof(context_out));
    /* One context for the three runs, as Linux. */
    assert_int_equal(context_out.value, 44);

    /* Global data read back through its map: three runs. */
    uint32_t zero = 0;
    uint64_t runs = 0;
    assert_int_equal(
        bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(object, ".bss"), &zero, &runs), 0);
    assert_int_equal(runs, 3);

    /* A context buffer too small: -ENOSPC, and the size says what was needed. */
    options.ctx_size_out = 4;
    assert_int_equal(bpf_prog_test_run_opts(fd, &options), -ENOSPC);
    assert_int_equal(errno, ENOSPC);
    assert_int_equal(options.ctx_size_out, sizeof(context_out));
    /* Bad options. */
    LIBBPF_OPTS(bpf_test_run_opts, negative, .repeat = -1);
    assert_int_equal(bpf_prog_test_run_opts(fd, &negative), -EINVAL);
    LIBBPF_OPTS(bpf_test_run_opts, cpu, .cpu = 1);
    assert_int_equal(bpf_prog_test_run_opts(fd, &cpu), -EINVAL);
    assert_int_equal(bpf_prog_test_run_opts(fd, NULL), -EINVAL);
    /* A map fd is not a program. */
    map = bpf_object__find_map_by_name(object, "table");
    LIBBPF_OPTS(bpf_test_run_opts, plain);
    assert_int_equal(bpf_prog_test_run_opts(bpf_map__fd(map), &plain), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "not a program"));

    /* Loading twice, or changing what load decided, is refused. */
    assert_int_equal(bpf_object__load(object), -EALREADY);
    assert_int_equal(bpf_program__set_type(program, API_TEST_BPF_PROG_TYPE), -EBUSY);
    assert_int_equal(bpf_map__set_max_entries(map, 9), -EBUSY);
    close_programs(object);
}

static void test_program_array_by_fd(void **state)
{
    struct bpf_object *object = load_programs();
    int caller = bpf_program__fd(bpf_object__find_program_by_name(object, "tail_caller"));
    int target = bpf_program__fd(bpf_object__find_program_by_name(object, "echo"));
    int jump_table = bpf_object__find_map_fd_by_name(object, "jump_table");
    uint32_t slot = 1, id = 0;
    uint8_t packet[5] = {0};
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = packet, .data_size_in = sizeof(packet));

    assert_int_equal(bpf_prog_test_run_opts(caller, &options), 0);
    assert_int_equal(options.retval, 7);
    /* User space fills the slot with a program fd; lookups give the program's id. */
    if (bpf_map_update_elem(jump_table, &slot, &target, BPF_ANY) != 0)
        fail_msg("prog_array update: %s", ebpf_last_error());
    assert_int_equal(bpf_map_lookup_elem(jump_table, &slot, &id), 0);
    ebpf_program_t *echo;
    assert_int_equal(ebpf_program_from_fd(target, &echo), 0);
    assert_int_equal(id, ebpf_program_get_id(echo));
    ebpf_program_release(echo);
    if (bpf_prog_test_run_opts(caller, &options) != 0)
        fail_msg("tail call: %s", ebpf_last_error());
    assert_int_equal(options.retval, 1000 + sizeof(packet));
    /* A map fd where a program fd belongs. */
    assert_int_equal(bpf_map_update_elem(jump_table, &slot, &jump_table, BPF_ANY), -EINVAL);
    close_programs(object);
}

static void test_pinned_by_name_map_is_shared(void **state)
{
    struct bpf_object *first = load_programs();
    struct bpf_object *second = load_programs();
    uint32_t key = 3;
    uint64_t value = 77, read = 0;

    int first_fd = bpf_object__find_map_fd_by_name(first, "shared");
    int second_fd = bpf_object__find_map_fd_by_name(second, "shared");
    assert_int_not_equal(first_fd, second_fd);
    assert_int_equal(bpf_map_update_elem(first_fd, &key, &value, BPF_ANY), 0);
    assert_int_equal(bpf_map_lookup_elem(second_fd, &key, &read), 0);
    assert_int_equal(read, 77);
    /* The second reused the pin rather than pinning. */
    assert_false(bpf_map__is_pinned(bpf_object__find_map_by_name(second, "shared")));
    bpf_object__close(first);
    bpf_object__close(second);

    /* The pin keeps the map and its content. */
    int fd = bpf_obj_get("/sys/fs/bpf/shared");
    assert_true(fd >= EBPF_FD_BASE);
    assert_int_equal(bpf_map_lookup_elem(fd, &key, &read), 0);
    assert_int_equal(ebpf_close_fd(fd), 0);
    assert_int_equal(ebpf_unpin("shared"), 0);
    assert_int_equal(bpf_obj_get("/sys/fs/bpf/shared"), -ENOENT);

    /* A pinned map that does not match the object's definition fails the load. */
    fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "impostor", 4, 8, 8, NULL);
    assert_true(fd >= EBPF_FD_BASE);
    assert_int_equal(bpf_obj_pin(fd, "/sys/fs/bpf/shared"), 0);
    struct bpf_object *object = open_programs();
    assert_int_equal(bpf_object__load(object), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "does not match"));
    bpf_object__close(object);
    assert_int_equal(ebpf_close_fd(fd), 0);
    assert_int_equal(ebpf_unpin("/sys/fs/bpf/shared"), 0);
}

static void test_map_max_entries_before_load(void **state)
{
    struct bpf_object *object = open_programs();
    struct bpf_map *table = bpf_object__find_map_by_name(object, "table");
    assert_int_equal(bpf_map__set_max_entries(table, 64), 0);
    assert_int_equal(bpf_map__max_entries(table), 64);
    assert_int_equal(bpf_object__load(object), 0);
    assert_int_equal(bpf_map__max_entries(table), 64);
    /* 64 entries fit where 16 would not. */
    for (uint32_t key = 0; key < 64; key++) {
        uint64_t value = key;
        assert_int_equal(bpf_map_update_elem(bpf_map__fd(table), &key, &value, BPF_NOEXIST), 0);
    }
    close_programs(object);
}

/* ---- load errors ---- */

static void test_unknown_section_fails_load_unless_typed(void **state)
{
    struct bpf_object *object = bpf_object__open(api_test_object("api_unknown_section"));
    struct bpf_program *program;

    assert_non_null(object);
    program = bpf_object__find_program_by_name(object, "mystery");
    assert_int_equal(bpf_program__type(program), BPF_PROG_TYPE_UNSPEC);
    printed[0] = '\0';
    assert_int_equal(bpf_object__load(object), -ENOENT);
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(ebpf_last_error(), "mystery/thing"));
    assert_non_null(strstr(ebpf_last_error(), "not in the eBPF store"));
    assert_non_null(strstr(printed, "failed to load object"));
    assert_int_equal(bpf_program__fd(program), -ENOENT);

    /* A number the store does not know fails too, naming it. */
    assert_int_equal(bpf_program__set_type(program, BPF_PROG_TYPE_XDP), 0);
    assert_int_equal(bpf_program__type(program), BPF_PROG_TYPE_XDP);
    assert_int_equal(bpf_object__load(object), -ENOENT);
    assert_non_null(strstr(ebpf_last_error(), "program type 6"));

    /* Typed explicitly with a type of the store, it loads and runs. */
    assert_int_equal(bpf_program__set_type(program, API_TEST_BPF_PROG_TYPE), 0);
    assert_int_equal(bpf_program__type(program), API_TEST_BPF_PROG_TYPE);
    assert_int_equal(bpf_object__load(object), 0);
    LIBBPF_OPTS(bpf_test_run_opts, options);
    assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(program), &options), 0);
    assert_int_equal(options.retval, 42);
    bpf_object__close(object);
}

static void test_program_type_without_extension_fails_clearly(void **state)
{
    struct bpf_object *object = open_programs();

    api_test_program_info_unregister();
    ebpf_epoch_drain();
    int64_t before = ebpf_allocation_outstanding();
    assert_int_equal(bpf_object__load(object), -ENOENT);
    const char *message = ebpf_last_error();
    assert_non_null(strstr(message, "program type api_test (7e57a91d-0001-4a11-9a00-000000001100) "
                                    "is not loaded: load its extension first"));
    /* Nothing stayed behind, not even the pin. */
    assert_int_equal(bpf_obj_get("/sys/fs/bpf/shared"), -ENOENT);
    ebpf_epoch_drain();
    assert_int_equal(ebpf_allocation_outstanding(), before);
    api_test_program_info_register();
    /* With the extension back, the same object loads. */
    assert_int_equal(bpf_object__load(object), 0);
    close_programs(object);
}

/* ---- attach and links ---- */

static void test_attach_detach_and_destroy(void **state)
{
    struct bpf_object *object = load_programs();
    struct bpf_program *program = bpf_object__find_program_by_name(object, "count_calls");
    int counters = bpf_object__find_map_fd_by_name(object, "counters");
    uint8_t packet[4] = {0};
    uint32_t zero = 0;
    uint64_t count = 0;

    struct bpf_link *link = bpf_program__attach(program);
    assert_non_null(link);
    assert_true(bpf_link__fd(link) >= EBPF_FD_BASE);
    assert_int_equal(api_test_hook_attached(), 1);
    assert_int_equal(api_test_hook_invoke(packet, sizeof(packet)), 1);
    assert_int_equal(api_test_hook_invoke(packet, sizeof(packet)), 1);
    assert_int_equal(bpf_map_lookup_elem(counters, &zero, &count), 0);
    assert_int_equal(count, 2);

    /* Detach, then destroy: both succeed; detaching again too. */
    assert_int_equal(bpf_link_detach(bpf_link__fd(link)), 0);
    assert_int_equal(api_test_hook_attached(), 0);
    assert_int_equal(api_test_hook_invoke(packet, sizeof(packet)), 0);
    assert_int_equal(bpf_link_detach(bpf_link__fd(link)), 0);
    assert_int_equal(bpf_link__detach(link), 0);
    assert_int_equal(bpf_link__destroy(link), 0);

    /* Destroy alone detaches. */
    link = bpf_program__attach(program);
    assert_non_null(link);
    assert_int_equal(api_test_hook_attached(), 1);
    int link_fd = bpf_link__fd(link);
    assert_int_equal(bpf_link__destroy(link), 0);
    assert_int_equal(api_test_hook_attached(), 0);
    /* Its fd is gone with it, as on Linux. */
    assert_int_equal(bpf_link_detach(link_fd), -EBADF);
    assert_int_equal(bpf_link__destroy(NULL), 0);

    /* A pinned link stays attached after destroy, until unpinned. */
    link = bpf_program__attach(program);
    assert_int_equal(bpf_link__pin(link, "/sys/fs/bpf/api_link"), 0);
    assert_int_equal(bpf_link__destroy(link), 0);
    assert_int_equal(api_test_hook_attached(), 1);
    link_fd = bpf_obj_get("/sys/fs/bpf/api_link");
    assert_true(link_fd >= EBPF_FD_BASE);
    assert_int_equal(ebpf_unpin("/sys/fs/bpf/api_link"), 0);
    assert_int_equal(api_test_hook_attached(), 1);
    assert_int_equal(ebpf_close_fd(link_fd), 0);
    assert_int_equal(api_test_hook_attached(), 0);

    /* The link outlives the object that loaded its program. */
    link = bpf_program__attach(program);
    close_programs(object);
    assert_int_equal(api_test_hook_attached(), 1);
    assert_int_equal(api_test_hook_invoke(packet, sizeof(packet)), 1);
    assert_int_equal(bpf_link__destroy(link), 0);
    assert_int_equal(api_test_hook_attached(), 0);
}

static void test_attach_with_parameters(void **state)
{
    struct bpf_object *object = load_programs();
    struct bpf_program *program = bpf_object__find_program_by_name(object, "count_calls");
    struct bpf_link *link = NULL;
    uint32_t good = 5, bad = 500;
    uint64_t wrong_size = 5;

    assert_int_equal(ebpf_program_attach(program, NULL, &good, sizeof(good), &link), 0);
    assert_non_null(link);
    assert_int_equal(api_test_hook_attached(), 1);
    assert_int_equal(bpf_link__destroy(link), 0);

    /* The hook provider's refusal comes back with its message. */
    link = NULL;
    assert_int_equal(ebpf_program_attach(program, NULL, &bad, sizeof(bad), &link), -EINVAL);
    assert_null(link);
    assert_non_null(strstr(ebpf_last_error(), "uint32_t below 100"));
    assert_int_equal(ebpf_program_attach(program, NULL, &wrong_size, sizeof(wrong_size), &link),
                     -EINVAL);
    assert_int_equal(ebpf_program_attach(program, NULL, NULL, 4, &link), -EINVAL);
    assert_int_equal(api_test_hook_attached(), 0);

    /* An explicit attach type; one nobody provides is -ENOENT. */
    assert_int_equal(ebpf_program_attach(program, &api_test_attach_type, NULL, 0, &link), 0);
    assert_int_equal(bpf_link__destroy(link), 0);
    const ebpf_guid_t nobody = {0xdead, 1, 2, {3}};
    assert_int_equal(ebpf_program_attach(program, &nobody, NULL, 0, &link), -ENOENT);
    assert_int_equal(errno, ENOENT);

    /* By fd (what bpf_obj_get gives). */
    assert_int_equal(bpf_program__pin(program, "/sys/fs/bpf/api_program"), 0);
    int fd = bpf_obj_get("/sys/fs/bpf/api_program");
    assert_int_equal(ebpf_program_attach_by_fd(fd, NULL, &good, sizeof(good), &link), 0);
    assert_int_equal(api_test_hook_attached(), 1);
    assert_int_equal(bpf_link__destroy(link), 0);
    assert_int_equal(ebpf_close_fd(fd), 0);
    assert_int_equal(bpf_program__unpin(program, "/sys/fs/bpf/api_program"), 0);

    /* Not loaded: nothing to attach. */
    struct bpf_object *unloaded = open_programs();
    assert_int_equal(ebpf_program_attach(bpf_object__find_program_by_name(unloaded, "echo"), NULL,
                                         NULL, 0, &link),
                     -EINVAL);
    bpf_object__close(unloaded);
    close_programs(object);
}

static void test_attach_without_hook_provider(void **state)
{
    struct bpf_object *object = load_programs();
    api_test_hook_unregister();
    assert_null(bpf_program__attach(bpf_object__find_program_by_name(object, "count_calls")));
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(ebpf_last_error(), "count_calls"));
    api_test_hook_register();
    close_programs(object);
}

/* ---- ids ---- */

static void test_fds_by_id(void **state)
{
    struct bpf_object *object = load_programs();
    ebpf_program_t *program;
    ebpf_map_t *map;

    assert_int_equal(
        ebpf_program_from_fd(bpf_program__fd(bpf_object__find_program_by_name(object, "echo")),
                             &program),
        0);
    int fd = bpf_prog_get_fd_by_id(ebpf_program_get_id(program));
    assert_true(fd >= EBPF_FD_BASE);
    ebpf_program_t *same;
    assert_int_equal(ebpf_program_from_fd(fd, &same), 0);
    assert_ptr_equal(same, program);
    ebpf_program_release(same);
    assert_int_equal(ebpf_close_fd(fd), 0);

    assert_int_equal(ebpf_map_from_fd(bpf_object__find_map_fd_by_name(object, "table"), &map), 0);
    fd = bpf_map_get_fd_by_id(ebpf_map_get_id(map));
    assert_true(fd >= EBPF_FD_BASE);
    assert_int_equal(ebpf_close_fd(fd), 0);
    ebpf_map_release(map);

    assert_int_equal(bpf_map_get_fd_by_id(ebpf_program_get_id(program) + 100000), -ENOENT);
    ebpf_program_release(program);
    close_programs(object);
}

/* ---- allocation failures ---- */

static void test_open_and_load_survive_allocation_failures(void **state)
{
    /* Warm up process-wide state (the fd table, epoch records) before measuring. */
    close_programs(load_programs());
    ebpf_epoch_drain();
    int64_t before = ebpf_allocation_outstanding();
    bool complete = false;

    /* Fails the 1st, 2nd, ... allocation until a run makes no allocation fail: every site of
     * open and load has failed once by then, and each failure left nothing behind. */
    for (uint64_t n = 1; n < 5000 && !complete; n++) {
        bool loaded = false;
        ebpf_fault_fail_nth(n);
        struct bpf_object *object = bpf_object__open(api_test_object("api_programs"));
        if (object != NULL)
            loaded = bpf_object__load(object) == 0;
        complete = ebpf_fault_injected_count() == 0;
        ebpf_fault_reset();
        if (complete)
            assert_true(loaded);
        if (object != NULL)
            close_programs(object);
        ebpf_epoch_drain();
        assert_int_equal(ebpf_allocation_outstanding(), before);
    }
    assert_true(complete);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_lists_programs_and_maps),
        cmocka_unit_test(test_open_with_options_and_from_memory),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_load_gives_fds_and_runs_programs),
        cmocka_unit_test(test_program_array_by_fd),
        cmocka_unit_test(test_pinned_by_name_map_is_shared),
        cmocka_unit_test(test_map_max_entries_before_load),
        cmocka_unit_test(test_unknown_section_fails_load_unless_typed),
        cmocka_unit_test(test_program_type_without_extension_fails_clearly),
        cmocka_unit_test(test_attach_detach_and_destroy),
        cmocka_unit_test(test_attach_with_parameters),
        cmocka_unit_test(test_attach_without_hook_provider),
        cmocka_unit_test(test_fds_by_id),
        cmocka_unit_test(test_open_and_load_survive_allocation_failures),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
