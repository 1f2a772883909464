/* Verifies every program of every BPF object the build compiled: all accepted but the known bad. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_test_type.h"
#include "core_test_type.h"
#include "ebpf_core.h"
#include "ebpf_elf.h"
#include "ebpf_platform.h"
#include "ebpf_verifier.h"
#include "verifier_environment.h"
#ifdef VERIFIER_HAVE_NETEVENT_PROGRAM_INFO
#include "netevent_ext_program_info.h"
#endif

#define HELPER_HEADER EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t)

/* Programs that must fail verification, with the reason they must fail for. */
static const struct {
    const char *object;
    const char *function;
    const char *reason;
} expected_rejections[] = {
    /* Written to be stopped: reads the packet without a bounds check. */
    {"core_programs", "reads_past_packet", "out of bounds"},
    /* Written for the ELF loader: it multiplies its context pointer by 3 (a pointer may only
     * move by a scalar). */
    {"subprograms", "first_program", "pointer arithmetic"},
    /* Written for the ELF loader: callbacks (ld_imm64 BPF_PSEUDO_FUNC, bpf_loop) are not part
     * of the platform; the core refuses them as well. */
    {"callbacks", "sum_indexes", "not supported"},
};

/* ------------------------------------------------------------------------------------------
 * Program types by section: core_test (tests/core), api_test (tests/api), netevent_monitor (the
 * extension's own information), the Linux types libbpf infers from a section name, and for
 * every other section a context without packet.
 * ------------------------------------------------------------------------------------------ */

static const ebpf_context_descriptor_t core_test_context = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t),
    sizeof(core_test_context_t), offsetof(core_test_context_t, data),
    offsetof(core_test_context_t, data_end), -1};
static const ebpf_program_type_descriptor_t core_test_type = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "core_test",
    .context_descriptor = &core_test_context,
};
static const ebpf_helper_prototype_t core_test_helpers[] = {
    {.header = HELPER_HEADER,
     .id = CORE_TEST_HELPER_DOUBLE,
     .name = "core_test_double",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_ANYTHING}},
};
static const ebpf_program_info_t core_test_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &core_test_type,
    .count_of_program_type_specific_helpers = EBPF_ARRAY_SIZE(core_test_helpers),
    .program_type_specific_helper_prototype = core_test_helpers,
};

static const ebpf_context_descriptor_t api_test_context = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t),
    sizeof(api_test_context_t), offsetof(api_test_context_t, data),
    offsetof(api_test_context_t, data_end), -1};
static const ebpf_program_type_descriptor_t api_test_type = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "api_test",
    .context_descriptor = &api_test_context,
};
static const ebpf_helper_prototype_t api_test_helpers[] = {
    {.header = HELPER_HEADER,
     .id = API_TEST_HELPER_ADD_THOUSAND,
     .name = "api_test_add_thousand",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_ANYTHING}},
};
static const ebpf_program_info_t api_test_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &api_test_type,
    .count_of_program_type_specific_helpers = EBPF_ARRAY_SIZE(api_test_helpers),
    .program_type_specific_helper_prototype = api_test_helpers,
};

#ifndef VERIFIER_HAVE_NETEVENT_PROGRAM_INFO
/* Without the extension in the build: netevent_event_md_t {event_data_start, event_data_end}
 * and its helper bpf_netevent_push_event(ctx), as include/ebpf_netevent_hooks.h has them. */
static const ebpf_context_descriptor_t netevent_context = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t), 16, 0, 8,
    -1};
static const ebpf_program_type_descriptor_t netevent_type = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "netevent_monitor",
    .context_descriptor = &netevent_context,
};
static const ebpf_helper_prototype_t netevent_helpers[] = {
    {.header = HELPER_HEADER,
     .id = EBPF_PROGRAM_TYPE_HELPER_BASE,
     .name = "bpf_netevent_push_event",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_PTR_TO_CTX}},
};
static const ebpf_program_info_t netevent_program_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &netevent_type,
    .count_of_program_type_specific_helpers = EBPF_ARRAY_SIZE(netevent_helpers),
    .program_type_specific_helper_prototype = netevent_helpers,
};
#endif

/* Fills in the program information and the helper lookup of the section's type. */
static const ebpf_program_info_t *options_for_section(const char *section,
                                                      ebpf_verifier_options_t *options)
{
    const ebpf_verifier_linux_program_type_t *linux_type;
    const ebpf_program_info_t *info = NULL;

    if (strcmp(section, "core_test") == 0)
        info = &core_test_info;
    else if (strcmp(section, "api_test") == 0)
        info = &api_test_info;
    else if (strncmp(section, "netevent_monitor", strlen("netevent_monitor")) == 0)
        info = &netevent_program_info;
    else if ((linux_type = ebpf_verifier_linux_program_type_from_section(section)) != NULL) {
        ebpf_verifier_linux_options(linux_type, options);
        return linux_type->program_info;
    } else
        info = corpus_program_info(CORPUS_TYPE_PLAIN);
    options->find_helper = corpus_find_helper;
    options->find_helper_context = (void *)info;
    return info;
}

/* ------------------------------------------------------------------------------------------
 * Objects.
 * ------------------------------------------------------------------------------------------ */

#define MAX_OBJECTS 128

typedef struct object_list {
    char names[MAX_OBJECTS][128]; /* without ".o" */
    size_t count;
} object_list_t;

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void list_objects(object_list_t *list)
{
    DIR *directory = opendir(EBPF_BPF_OBJECT_DIR);
    struct dirent *entry;

    assert_non_null(directory);
    list->count = 0;
    while ((entry = readdir(directory)) != NULL) {
        size_t length = strlen(entry->d_name);
        if (length < 3 || strcmp(entry->d_name + length - 2, ".o") != 0)
            continue;
        assert_true(list->count < MAX_OBJECTS && length - 2 < sizeof(list->names[0]));
        memcpy(list->names[list->count], entry->d_name, length - 2);
        list->names[list->count][length - 2] = '\0';
        list->count++;
    }
    closedir(directory);
    qsort(list->names, list->count, sizeof(list->names[0]), compare_names);
}

static const char *expected_rejection(const char *object, const char *function)
{
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(expected_rejections); i++) {
        if (strcmp(expected_rejections[i].object, object) == 0 &&
            strcmp(expected_rejections[i].function, function) == 0)
            return expected_rejections[i].reason;
    }
    return NULL;
}

/* The verifier's view of the object's maps: maps[i] for maps[i] of the object, followed by the
 * BTF inner map templates (map-in-map). */
static ebpf_verifier_map_t *convert_maps(const ebpf_elf_object_t *object)
{
    size_t count = object->map_count;
    ebpf_verifier_map_t *maps = ebpf_allocate_array(count * 2 + 1, sizeof(*maps));

    assert_non_null(maps);
    for (size_t i = 0; i < count; i++) {
        const ebpf_elf_map_t *map = &object->maps[i];
        maps[i] = (ebpf_verifier_map_t){
            .type = map->type,
            .key_size = map->key_size,
            .value_size = map->value_size,
            .max_entries = map->max_entries,
            .map_flags = map->map_flags | (map->read_only ? BPF_F_RDONLY_PROG : 0),
            .name = map->name,
        };
        if (map->inner_map != NULL) {
            const ebpf_elf_map_t *inner = map->inner_map;
            maps[count + i] = (ebpf_verifier_map_t){
                .type = inner->type,
                .key_size = inner->key_size,
                .value_size = inner->value_size,
                .max_entries = inner->max_entries,
                .map_flags = inner->map_flags,
                .name = inner->name,
            };
            maps[i].inner_map = &maps[count + i];
        } else if (map->inner_map_index >= 0 && (size_t)map->inner_map_index < count) {
            maps[i].inner_map = &maps[map->inner_map_index];
        }
    }
    return maps;
}

/* Verifies one program; true when the outcome is the expected one. */
static bool verify_program(const char *object_name, const ebpf_elf_program_t *program,
                           const ebpf_verifier_map_t *maps, uint32_t map_count)
{
    const ebpf_program_info_t *info;
    const char *reason = expected_rejection(object_name, program->function_name);
    ebpf_verifier_line_info_t *lines = NULL;
    ebpf_verifier_options_t options = {0};
    ebpf_verifier_result_t result = {0};
    bool ok;
    int rc;

    if (program->line_info != NULL) {
        lines = ebpf_allocate_array(program->instruction_count, sizeof(*lines));
        assert_non_null(lines);
        for (size_t i = 0; i < program->instruction_count; i++) {
            lines[i] = (ebpf_verifier_line_info_t){
                .file_name = program->line_info[i].file_name,
                .line_text = program->line_info[i].line_text,
                .line = program->line_info[i].line,
                .column = program->line_info[i].column,
            };
        }
    }
    options.line_info = lines;
    info = options_for_section(program->section_name, &options);
    rc = ebpf_verify_program(program->instructions, (uint32_t)program->instruction_count, info,
                             maps, map_count, &options, &result);
    if (reason == NULL)
        ok = rc == 0 && result.accepted;
    else
        ok = rc == -EACCES && result.log != NULL && strstr(result.log, reason) != NULL;
    print_message("%s %s/%s (%s, %s): %s, %zu instructions, %llu processed\n", ok ? "ok  " : "FAIL",
                  object_name, program->function_name, program->section_name,
                  info->program_type_descriptor->name, rc == 0 ? "accepted" : "rejected",
                  program->instruction_count, (unsigned long long)result.processed_instructions);
    if (!ok || (rc != 0 && reason != NULL))
        print_message("  expected %s; log: %s\n", reason != NULL ? reason : "acceptance",
                      result.log != NULL ? result.log : ebpf_last_error());
    ebpf_verifier_result_free(&result);
    ebpf_free(lines);
    return ok;
}

static void test_every_object(void **state)
{
    static object_list_t objects; /* large: off the stack */
    char expected_names[] = EBPF_BPF_OBJECT_NAMES;
    size_t programs = 0, failures = 0;

    list_objects(&objects);
    /* Every object this build defines must be there (the test depends on their targets). */
    for (char *name = strtok(expected_names, ","); name != NULL; name = strtok(NULL, ",")) {
        void *found =
            bsearch(name, objects.names, objects.count, sizeof(objects.names[0]), compare_names);
        if (found == NULL)
            print_message("missing object %s/%s.o\n", EBPF_BPF_OBJECT_DIR, name);
        assert_non_null(found);
    }
    for (size_t o = 0; o < objects.count; o++) {
        char path[512];
        ebpf_elf_object_t *object = NULL;
        ebpf_verifier_map_t *maps;

        snprintf(path, sizeof(path), "%s/%s.o", EBPF_BPF_OBJECT_DIR, objects.names[o]);
        if (ebpf_elf_open_file(path, &object) != 0) {
            print_message("FAIL %s: %s\n", path, ebpf_last_error());
            failures++;
            continue;
        }
        maps = convert_maps(object);
        for (size_t p = 0; p < object->program_count; p++) {
            programs++;
            if (!verify_program(objects.names[o], &object->programs[p], maps,
                                (uint32_t)object->map_count))
                failures++;
        }
        ebpf_free(maps);
        ebpf_elf_free(object);
    }
    print_message("%zu programs in %zu objects, %zu failures\n", programs, objects.count, failures);
    assert_true(programs > 0);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
