/* Native modules through the user API: netevent_monitor.so opened, listed, loaded and run with
 * bpf_object__open / bpf_object__open_mem, the code that runs being the module's; and modules
 * tampered with (wrong hash, missing symbol, truncated table, other version or magic) refused
 * with a clear error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf/bpf.h"
#include "bpf/libbpf.h"
#include "ebpf_api.h"
#include "ebpf_native.h"
#include "ebpf_platform.h"
#include "netevent_types.h"

static char scratch[256];
static ebpf_driver_t *extension;

/* ---- building edited copies of the generated C ---- */

static char *read_file(const char *path, size_t *size)
{
    FILE *in = fopen(path, "rb");
    char *text = NULL;
    long length;

    if (in == NULL)
        return NULL;
    if (fseek(in, 0, SEEK_END) == 0 && (length = ftell(in)) >= 0 && fseek(in, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)length + 1)) != NULL) {
        if (fread(text, 1, (size_t)length, in) != (size_t)length) {
            free(text);
            text = NULL;
        } else {
            text[length] = '\0';
            if (size != NULL)
                *size = (size_t)length;
        }
    }
    fclose(in);
    return text;
}

/* text with the first `from` replaced by `to` (a new buffer); fails the test when absent. */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *found = strstr(text, from);
    if (found == NULL)
        fail_msg("the generated code has no \"%s\"", from);
    size_t head = (size_t)(found - text);
    char *result = malloc(strlen(text) - strlen(from) + strlen(to) + 1);
    assert_non_null(result);
    memcpy(result, text, head);
    strcpy(result + head, to);
    strcat(result, found + strlen(from));
    return result;
}

/* Writes source as scratch/name.c, compiles it into scratch/name.so (path in module). */
static void build(const char *name, const char *source, char *module, size_t size)
{
    char path[512], command[2048];
    const char *compiler = getenv("CC");
    FILE *out;

    snprintf(path, sizeof(path), "%s/%s.c", scratch, name);
    snprintf(module, size, "%s/%s.so", scratch, name);
    out = fopen(path, "w");
    assert_non_null(out);
    assert_int_equal(fputs(source, out) >= 0, 1);
    assert_int_equal(fclose(out), 0);
    snprintf(command, sizeof(command),
             "%s -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I%s -o %s %s",
             compiler != NULL && compiler[0] != '\0' ? compiler : "gcc",
             EBPF_NATIVE_TEST_INCLUDE_DIR, module, path);
    if (system(command) != 0)
        fail_msg("compiling %s failed", path);
}

/* The generated C of netevent_monitor, edited: from -> to. */
static void build_edited(const char *name, const char *from, const char *to, char *module,
                         size_t size)
{
    char *original = read_file(NETEVENT_MONITOR_NATIVE_C, NULL);
    assert_non_null(original);
    char *edited = replace(original, from, to);
    build(name, edited, module, size);
    free(edited);
    free(original);
}

static void remove_scratch(void)
{
    char command[300];
    snprintf(command, sizeof(command), "rm -rf '%s'", scratch);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", scratch);
}

/* ---- fixture ---- */

static int setup(void **state)
{
    snprintf(scratch, sizeof(scratch), "%s/ebpf-native-api-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(scratch) == NULL)
        return -1;
    if (ebpf_driver_load("neteventebpfext", NULL, &extension) != 0) {
        fprintf(stderr, "loading neteventebpfext: %s\n", ebpf_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    int rc = ebpf_driver_unload(extension);
    remove_scratch();
    return rc;
}

/* Runs NetEventMonitor of a loaded object on one event; returns its r0. */
static int32_t test_run(struct bpf_object *object)
{
    uint8_t event[sizeof(netevent_event_header_t) + 8] = {0};
    netevent_event_header_t header = {.type = NETEVENT_EVENT_TYPE_FLOW,
                                      .version = NETEVENT_EVENT_HEADER_VERSION,
                                      .header_length = sizeof(header),
                                      .captured_length = 8};
    memcpy(event, &header, sizeof(header));
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = event, .data_size_in = sizeof(event));
    int fd = bpf_program__fd(bpf_object__find_program_by_name(object, "NetEventMonitor"));
    assert_true(fd >= 0);
    assert_int_equal(bpf_prog_test_run_opts(fd, &options), 0);
    return (int32_t)options.retval;
}

/* ---- tests ---- */

static void check_listing(struct bpf_object *object)
{
    struct bpf_program *program = bpf_object__next_program(object, NULL);
    assert_non_null(program);
    assert_string_equal(bpf_program__name(program), "NetEventMonitor");
    assert_string_equal(bpf_program__section_name(program), "netevent_monitor");
    assert_null(bpf_object__next_program(object, program));
    struct bpf_map *map = bpf_object__next_map(object, NULL);
    assert_non_null(map);
    assert_string_equal(bpf_map__name(map), "netevent_events_map");
    assert_int_equal(bpf_map__type(map), BPF_MAP_TYPE_RINGBUF);
    assert_int_equal(bpf_map__max_entries(map), 512 * 1024);
    assert_null(bpf_object__next_map(object, map));
}

static void test_open_lists_programs_and_maps_before_load(void **state)
{
    struct bpf_object *object = bpf_object__open(NETEVENT_MONITOR_MODULE);
    assert_non_null(object);
    check_listing(object);
    assert_int_equal(bpf_program__fd(bpf_object__find_program_by_name(object, "NetEventMonitor")),
                     -ENOENT); /* not loaded yet */
    bpf_object__close(object);
}

static void test_load_and_run(void **state)
{
    struct bpf_object *object = bpf_object__open(NETEVENT_MONITOR_MODULE);
    assert_non_null(object);
    assert_int_equal(bpf_object__load(object), 0);
    assert_int_equal(test_run(object), 0); /* stored in the ring */
    /* A module is loaded once per object. */
    assert_int_equal(bpf_object__load(object), -EALREADY);
    bpf_object__close(object);
}

static void test_open_mem(void **state)
{
    size_t size = 0;
    char *bytes = read_file(NETEVENT_MONITOR_MODULE, &size);
    assert_non_null(bytes);
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = "from_memory");
    struct bpf_object *object = bpf_object__open_mem(bytes, size, &options);
    free(bytes); /* the object keeps its own copy */
    assert_non_null(object);
    check_listing(object);
    assert_int_equal(bpf_object__load(object), 0);
    assert_int_equal(test_run(object), 0);
    bpf_object__close(object);
}

/* The code that runs is the module's: a module whose exit returns 12345 instead of r0. */
static void test_the_module_code_runs(void **state)
{
    char module[512];
    build_edited("returns_12345", "result->r0 = r0; return 0;", "result->r0 = 12345; return 0;",
                 module, sizeof(module));
    struct bpf_object *object = bpf_object__open(module);
    assert_non_null(object);
    assert_int_equal(bpf_object__load(object), 0);
    assert_int_equal(test_run(object), 12345);
    bpf_object__close(object);
}

static void expect_open_refused(const char *module, const char *message)
{
    errno = 0;
    assert_null(bpf_object__open(module));
    assert_int_equal(errno, EINVAL);
    if (strstr(ebpf_last_error(), message) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", ebpf_last_error(), message);
}

static void test_wrong_hash_refused(void **state)
{
    char module[512], flipped[8], *source = read_file(NETEVENT_MONITOR_NATIVE_C, NULL);
    assert_non_null(source);
    /* Flip the bits of the first byte of the recorded hash ("0x.." right after its brace). */
    char *hash = strstr(source, ".program_info_hash = {");
    assert_non_null(hash);
    char *first = strstr(hash, "0x");
    assert_non_null(first);
    snprintf(flipped, sizeof(flipped), "0x%02x", (unsigned)strtoul(first, NULL, 16) ^ 0xffu);
    memcpy(first, flipped, 4);
    build("wrong_hash", source, module, sizeof(module));
    free(source);

    struct bpf_object *object = bpf_object__open(module);
    assert_non_null(object); /* the table itself is sound */
    assert_int_equal(bpf_object__load(object), -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "extension changed since verification"));
    bpf_object__close(object);
}

static void test_missing_symbol_refused(void **state)
{
    char module[512];
    build("no_metadata", "int ebpf_native_something_else = 1;\n", module, sizeof(module));
    expect_open_refused(module, "not a native eBPF module");
}

static void test_truncated_table_refused(void **state)
{
    char module[512];
    build("truncated",
          "#include <stdint.h>\n"
          "__attribute__((visibility(\"default\"))) const struct {\n"
          "    uint64_t magic; uint16_t version; uint16_t reserved; uint32_t size;\n"
          "} ebpf_native_module_metadata = {0x646f6d6332667062ull, " EBPF_STRINGIFY(
              EBPF_NATIVE_FORMAT_VERSION) ", 0, 4096};\n",
          module, sizeof(module));
    expect_open_refused(module, "truncated metadata table");
    /* The header claims more than the symbol holds. */
    build_edited("oversized", ".size = sizeof(ebpf_native_module_metadata_t)", ".size = 4096",
                 module, sizeof(module));
    expect_open_refused(module, "truncated metadata table");
}

static void test_other_version_or_magic_refused(void **state)
{
    char module[512];
    build_edited("version_99", ".version = EBPF_NATIVE_FORMAT_VERSION", ".version = 99", module,
                 sizeof(module));
    expect_open_refused(module, "format version 99");
    build_edited("bad_magic", ".magic = EBPF_NATIVE_MAGIC", ".magic = 0x1234", module,
                 sizeof(module));
    expect_open_refused(module, "not a bpf2c metadata table");
}

static void test_damaged_tables_refused(void **state)
{
    char module[512];
    build_edited("bad_map_index", ".inner_map_index = -1", ".inner_map_index = 7", module,
                 sizeof(module));
    expect_open_refused(module, "damaged definition");
    build_edited("no_programs", ".program_count = 1", ".program_count = 0", module, sizeof(module));
    expect_open_refused(module, "0 programs");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_lists_programs_and_maps_before_load),
        cmocka_unit_test(test_load_and_run),
        cmocka_unit_test(test_open_mem),
        cmocka_unit_test(test_the_module_code_runs),
        cmocka_unit_test(test_wrong_hash_refused),
        cmocka_unit_test(test_missing_symbol_refused),
        cmocka_unit_test(test_truncated_table_refused),
        cmocka_unit_test(test_other_version_or_magic_refused),
        cmocka_unit_test(test_damaged_tables_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
