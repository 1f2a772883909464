/* Tests of the store: program information and sections round-trip, longest prefix wins, and
 * damaged or missing entries give clear errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebpf_platform.h"
#include "ebpf_store.h"

static char root[256];

static const ebpf_guid_t type_a = {
    0xf788ef4a, 0x207d, 0x4dc3, {0x85, 0xcf, 0x0f, 0x2e, 0xa1, 0x07, 0x21, 0x3c}};
static const ebpf_guid_t type_b = {0x1, 0x2, 0x3, {4, 5, 6, 7, 8, 9, 10, 11}};
static const ebpf_guid_t attach_a = {0xb14a5e1c, 0x0d7d, 0x4c0b, {1, 2, 3, 4, 5, 6, 7, 8}};

static const ebpf_context_descriptor_t context = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t), 16, 0, 8,
    -1};
static const ebpf_program_type_descriptor_t type_descriptor = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "netevent_monitor",
    .context_descriptor = &context,
    .program_type = {0xf788ef4a, 0x207d, 0x4dc3, {0x85, 0xcf, 0x0f, 0x2e, 0xa1, 0x07, 0x21, 0x3c}},
    .bpf_prog_type = 999,
};
static const ebpf_helper_prototype_t helpers[] = {
    {.header = EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),
     .id = 0x10000,
     .name = "bpf_netevent_push_event",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_PTR_TO_CTX}},
    {.header = EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),
     .id = 0x10001,
     .name = "bpf_example_copy",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_PTR_TO_WRITABLE_MEM, EBPF_ARG_CONST_SIZE},
     .changes_packet = true},
};
static const ebpf_program_info_t info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &type_descriptor,
    .count_of_program_type_specific_helpers = 2,
    .program_type_specific_helper_prototype = helpers,
};

static int setup(void **state)
{
    snprintf(root, sizeof(root), "/tmp/ebpf-store-test-%d", (int)getpid());
    char command[300];
    snprintf(command, sizeof(command), "rm -rf %s", root);
    return system(command);
}

static ebpf_store_t *open_store(void)
{
    ebpf_store_t *store;
    assert_int_equal(ebpf_store_open(root, EBPF_STORE_DEFAULT, &store), 0);
    return store;
}

static void write_file(const char *relative, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, relative);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static void test_program_info_round_trip(void **state)
{
    ebpf_store_t *store = open_store();
    ebpf_stored_program_info_t *loaded;
    int64_t before = ebpf_allocation_outstanding();

    assert_int_equal(ebpf_store_update_program_info(store, &info), 0);
    assert_int_equal(ebpf_store_load_program_info(store, &type_a, &loaded), 0);
    const ebpf_program_type_descriptor_t *type = loaded->info.program_type_descriptor;
    assert_string_equal(type->name, "netevent_monitor");
    assert_int_equal(type->bpf_prog_type, 999);
    assert_true(ebpf_guid_equal(&type->program_type, &type_a));
    assert_int_equal(type->context_descriptor->size, 16);
    assert_int_equal(type->context_descriptor->data, 0);
    assert_int_equal(type->context_descriptor->end, 8);
    assert_int_equal(type->context_descriptor->meta, -1);
    assert_int_equal(loaded->info.count_of_program_type_specific_helpers, 2);
    const ebpf_helper_prototype_t *h = loaded->info.program_type_specific_helper_prototype;
    assert_int_equal(h[0].id, 0x10000);
    assert_string_equal(h[0].name, "bpf_netevent_push_event");
    assert_int_equal(h[0].arguments[0], EBPF_ARG_PTR_TO_CTX);
    assert_int_equal(h[1].arguments[0], EBPF_ARG_PTR_TO_WRITABLE_MEM);
    assert_int_equal(h[1].arguments[1], EBPF_ARG_CONST_SIZE);
    assert_true(h[1].changes_packet);
    assert_int_equal(loaded->info.count_of_global_helpers, 0);
    ebpf_store_free_program_info(loaded);
    assert_int_equal(ebpf_allocation_outstanding(), before);

    /* Delete is exact and reports a second delete. */
    assert_int_equal(ebpf_store_delete_program_info(store, &type_a), 0);
    assert_int_equal(ebpf_store_delete_program_info(store, &type_a), -ENOENT);
    assert_int_equal(ebpf_store_load_program_info(store, &type_a, &loaded), -ENOENT);
    assert_non_null(strstr(ebpf_last_error(), "f788ef4a-207d-4dc3-85cf-0f2ea107213c"));
    ebpf_store_close(store);
}

static void test_sections_longest_prefix(void **state)
{
    ebpf_store_t *store = open_store();
    ebpf_stored_section_t section;
    const ebpf_program_section_info_t sections[] = {
        {EBPF_EXTENSION_HEADER(EBPF_PROGRAM_SECTION_INFO_VERSION, ebpf_program_section_info_t),
         "netevent_monitor", &type_a, &attach_a, 999, 77},
        {EBPF_EXTENSION_HEADER(EBPF_PROGRAM_SECTION_INFO_VERSION, ebpf_program_section_info_t),
         "netevent", &type_b, &attach_a, 5, 6},
        {EBPF_EXTENSION_HEADER(EBPF_PROGRAM_SECTION_INFO_VERSION, ebpf_program_section_info_t),
         "xdp/frags", &type_b, &attach_a, 6, 7},
    };
    assert_int_equal(ebpf_store_update_section_info(store, sections, 3), 0);

    assert_int_equal(ebpf_store_resolve_section(store, "netevent_monitor", &section), 0);
    assert_string_equal(section.section_prefix, "netevent_monitor");
    assert_true(ebpf_guid_equal(&section.program_type, &type_a));
    assert_int_equal(section.bpf_attach_type, 77);
    /* A longer section name resolves to its longest registered prefix. */
    assert_int_equal(ebpf_store_resolve_section(store, "netevent_monitor/drops", &section), 0);
    assert_string_equal(section.section_prefix, "netevent_monitor");
    assert_int_equal(ebpf_store_resolve_section(store, "netevent_other", &section), 0);
    assert_string_equal(section.section_prefix, "netevent");
    assert_int_equal(ebpf_store_resolve_section(store, "xdp/frags/one", &section), 0);
    assert_string_equal(section.section_prefix, "xdp/frags");
    /* Unknown sections are an error, never a guess. */
    assert_int_equal(ebpf_store_resolve_section(store, "xdp", &section), -ENOENT);
    assert_non_null(strstr(ebpf_last_error(), "'xdp'"));
    assert_int_equal(ebpf_store_resolve_section(store, "kprobe/x", &section), -ENOENT);

    ebpf_stored_section_t *all;
    size_t count;
    assert_int_equal(ebpf_store_list_sections(store, &all, &count), 0);
    assert_int_equal(count, 3);
    ebpf_free(all);

    assert_int_equal(ebpf_store_delete_section_info(store, "netevent_monitor"), 0);
    assert_int_equal(ebpf_store_delete_section_info(store, "netevent_monitor"), -ENOENT);
    assert_int_equal(ebpf_store_resolve_section(store, "netevent_monitor", &section), 0);
    assert_string_equal(section.section_prefix, "netevent");
    ebpf_store_close(store);
}

static void test_no_temporary_files_left(void **state)
{
    char folder[300];
    ebpf_store_t *store = open_store();
    assert_int_equal(ebpf_store_update_program_info(store, &info), 0);
    assert_int_equal(ebpf_store_update_program_info(store, &info), 0); /* replace */
    snprintf(folder, sizeof(folder), "%s/ProgramData", root);
    DIR *directory = opendir(folder);
    assert_non_null(directory);
    int files = 0;
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        assert_null(strstr(entry->d_name, ".tmp"));
        files++;
    }
    closedir(directory);
    assert_int_equal(files, 1);
    ebpf_store_close(store);
}

static void expect_damaged_program(ebpf_store_t *store, const char *text, const char *words)
{
    ebpf_stored_program_info_t *loaded = NULL;
    int64_t before = ebpf_allocation_outstanding();
    write_file("ProgramData/f788ef4a-207d-4dc3-85cf-0f2ea107213c.json", text);
    assert_int_equal(ebpf_store_load_program_info(store, &type_a, &loaded), -EINVAL);
    assert_null(loaded);
    if (strstr(ebpf_last_error(), words) == NULL)
        fail_msg("error '%s' does not mention '%s'", ebpf_last_error(), words);
    assert_int_equal(ebpf_allocation_outstanding(), before);
}

static void test_damaged_program_entries(void **state)
{
    ebpf_store_t *store = open_store();
    assert_int_equal(ebpf_store_update_program_info(store, &info), 0);
    const char *good_head =
        "{\"schema\":1,\"program_type\":\"f788ef4a-207d-4dc3-85cf-0f2ea107213c\","
        "\"name\":\"n\",\"bpf_prog_type\":1,\"is_privileged\":false,";
    char text[1024];

    expect_damaged_program(store, "{ not json", "damaged");
    expect_damaged_program(store, "[1,2]", "not a JSON object");
    expect_damaged_program(store, "{\"schema\":1}", "damaged");
    snprintf(text, sizeof(text),
             "%s\"context_descriptor\":{\"size\":16,\"data\":0,\"end\":8,"
             "\"meta\":-1},\"helpers\":[],\"global_helpers\":[]}",
             "{\"schema\":2,\"program_type\":\"f788ef4a-207d-4dc3-85cf-0f2ea107213c\","
             "\"name\":\"n\",\"bpf_prog_type\":1,\"is_privileged\":false,");
    expect_damaged_program(store, text, "schema 2");
    snprintf(text, sizeof(text),
             "%s\"context_descriptor\":{\"size\":16,\"data\":0,\"end\":20,"
             "\"meta\":-1},\"helpers\":[],\"global_helpers\":[]}",
             good_head);
    expect_damaged_program(store, text, "impossible");
    snprintf(text, sizeof(text),
             "%s\"context_descriptor\":{\"size\":16,\"data\":0,\"end\":8,\"meta\":-1},"
             "\"helpers\":[{\"id\":1,\"name\":\"h\",\"return_type\":\"integer\",\"arguments\":"
             "[\"ptr_to_nowhere\",\"dontcare\",\"dontcare\",\"dontcare\",\"dontcare\"],"
             "\"changes_packet\":false,\"is_tail_call\":false}],\"global_helpers\":[]}",
             good_head);
    expect_damaged_program(store, text, "ptr_to_nowhere");
    snprintf(text, sizeof(text),
             "%s\"context_descriptor\":{\"size\":16,\"data\":0,\"end\":8,\"meta\":-1},"
             "\"helpers\":[{\"id\":1,\"name\":\"h\",\"return_type\":\"integer\",\"arguments\":"
             "[\"dontcare\"],\"changes_packet\":false,\"is_tail_call\":false}],"
             "\"global_helpers\":[]}",
             good_head);
    expect_damaged_program(store, text, "5 kinds");
    /* The right file under the wrong name. */
    expect_damaged_program(
        store,
        "{\"schema\":1,\"program_type\":\"00000001-0002-0003-0405-060708090a0b\",\"name\":\"n\","
        "\"bpf_prog_type\":1,\"is_privileged\":false,\"context_descriptor\":{\"size\":16,"
        "\"data\":0,\"end\":8,\"meta\":-1},\"helpers\":[],\"global_helpers\":[]}",
        "names program type");
    ebpf_store_close(store);
}

static void test_damaged_section_entry_is_an_error(void **state)
{
    ebpf_store_t *store = open_store();
    ebpf_stored_section_t section;
    const ebpf_program_section_info_t good = {
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_SECTION_INFO_VERSION, ebpf_program_section_info_t),
        "sockops",
        &type_a,
        &attach_a,
        1,
        2};
    assert_int_equal(ebpf_store_update_section_info(store, &good, 1), 0);
    write_file("SectionData/netevent_monitor.json", "{\"schema\":1,\"section_prefix\":3}");
    assert_int_equal(ebpf_store_resolve_section(store, "netevent_monitor", &section), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "netevent_monitor.json"));
    /* Entries that do not match the name are not read, so other sections still resolve. */
    assert_int_equal(ebpf_store_resolve_section(store, "sockops", &section), 0);
    write_file("SectionData/netevent_monitor.json",
               "{\"schema\":1,\"section_prefix\":\"netevent_monitor\",\"program_type\":\"zz\","
               "\"attach_type\":\"b14a5e1c-0d7d-4c0b-0102-030405060708\",\"bpf_program_type\":1,"
               "\"bpf_attach_type\":2}");
    assert_int_equal(ebpf_store_resolve_section(store, "netevent_monitor", &section), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "not a GUID"));
    ebpf_store_close(store);
}

static void test_bad_arguments(void **state)
{
    ebpf_store_t *store = open_store();
    ebpf_program_info_t incomplete = info;
    incomplete.program_type_descriptor = NULL;
    assert_int_equal(ebpf_store_update_program_info(store, &incomplete), -EINVAL);
    ebpf_helper_prototype_t bad_helper = helpers[0];
    bad_helper.arguments[2] = (ebpf_argument_type_t)99;
    ebpf_program_info_t bad = info;
    bad.program_type_specific_helper_prototype = &bad_helper;
    bad.count_of_program_type_specific_helpers = 1;
    assert_int_equal(ebpf_store_update_program_info(store, &bad), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "argument 3"));
    ebpf_program_section_info_t section = {
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_SECTION_INFO_VERSION, ebpf_program_section_info_t),
        "",
        &type_a,
        &attach_a,
        1,
        2};
    assert_int_equal(ebpf_store_update_section_info(store, &section, 1), -EINVAL);
    ebpf_store_close(store);
}

static void test_store_root_selection(void **state)
{
    ebpf_store_t *store;
    setenv("EBPF_STORE_DIR", "/tmp/explicit-store", 1);
    assert_int_equal(ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store), 0);
    assert_string_equal(ebpf_store_root(store), "/tmp/explicit-store");
    ebpf_store_close(store);
    unsetenv("EBPF_STORE_DIR");
    setenv("XDG_DATA_HOME", "/tmp/xdg", 1);
    assert_int_equal(ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store), 0);
    assert_string_equal(ebpf_store_root(store), "/tmp/xdg/ebpf/store");
    ebpf_store_close(store);
    assert_int_equal(ebpf_store_open(NULL, EBPF_STORE_SYSTEM, &store), 0);
    assert_string_equal(ebpf_store_root(store), EBPF_STORE_SYSTEM_ROOT);
    ebpf_store_close(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_program_info_round_trip, setup),
        cmocka_unit_test_setup(test_sections_longest_prefix, setup),
        cmocka_unit_test_setup(test_no_temporary_files_left, setup),
        cmocka_unit_test_setup(test_damaged_program_entries, setup),
        cmocka_unit_test_setup(test_damaged_section_entry_is_an_error, setup),
        cmocka_unit_test_setup(test_bad_arguments, setup),
        cmocka_unit_test(test_store_root_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
