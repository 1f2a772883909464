/* libFuzzer target: random or mutated JSON written as store entries (a ProgramData and a
 * SectionData file of a private store), then read back with ebpf_store_load_program_info,
 * ebpf_store_resolve_section and ebpf_store_list_sections: each either succeeds or fails with a
 * negative errno and a message; never a crash, never a leak.
 *
 * Input: the ProgramData document, a NUL byte, the SectionData document. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf_platform.h"
#include "ebpf_store.h"
#include "netevent_ext_program_info.h"
#include "netevent_test_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
    bool ready;
    ebpf_store_t *store;
    ebpf_guid_t program_type;
    char program_file[1024];
    char section_file[1024];
} fuzz;

#define fuzz_check(condition, ...)                                                                 \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "fuzz_store: %s failed: ", #condition);                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, " (%s)\n", ebpf_last_error());                                         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The one file the store wrote into folder. */
static void find_entry(const char *root, const char *folder, char *path, size_t size)
{
    char directory[900];
    snprintf(directory, sizeof(directory), "%s/%s", root, folder);
    DIR *listing = opendir(directory);
    fuzz_check(listing != NULL, "opening %s", directory);
    struct dirent *entry;
    path[0] = '\0';
    while ((entry = readdir(listing)) != NULL)
        if (strstr(entry->d_name, ".json") != NULL)
            snprintf(path, size, "%s/%s", directory, entry->d_name);
    closedir(listing);
    fuzz_check(path[0] != '\0', "no entry in %s", directory);
}

static void close_store(void)
{
    ebpf_store_close(fuzz.store);
}

static void setup_once(void)
{
    /* The real entries first: their file names are the ones the fuzzed documents replace. */
    fuzz_check(netevent_test_host_prepare() == 0, "preparing the store");
    fuzz_check(ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &fuzz.store) == 0, "opening the store");
    fuzz.program_type = netevent_program_info.program_type_descriptor->program_type;
    find_entry(ebpf_store_root(fuzz.store), "ProgramData", fuzz.program_file,
               sizeof(fuzz.program_file));
    find_entry(ebpf_store_root(fuzz.store), "SectionData", fuzz.section_file,
               sizeof(fuzz.section_file));
    atexit(close_store);
    fuzz.ready = true;
}

static void write_file(const char *path, const uint8_t *bytes, size_t size)
{
    FILE *file = fopen(path, "wb");
    fuzz_check(file != NULL, "writing %s", path);
    fuzz_check(fwrite(bytes, 1, size, file) == size || size == 0, "writing %s", path);
    fclose(file);
}

/* A failure is a negative errno with words. */
static void check_failure(int rc, const char *call)
{
    fuzz_check(rc < 0, "%s returned %d", call, rc);
    fuzz_check(ebpf_last_error()[0] != '\0', "%s failed with %d and no message", call, rc);
}

static void read_program_info(void)
{
    ebpf_stored_program_info_t *info = NULL;
    ebpf_error_clear();
    int rc = ebpf_store_load_program_info(fuzz.store, &fuzz.program_type, &info);
    if (rc != 0) {
        check_failure(rc, "ebpf_store_load_program_info");
        fuzz_check(info == NULL, "an object came back with an error");
        return;
    }
    /* Touch everything the object owns, so a dangling or short pointer shows under ASan. */
    const ebpf_program_info_t *program = &info->info;
    volatile size_t sink = 0;
    fuzz_check(program->program_type_descriptor != NULL, "no type descriptor");
    if (program->program_type_descriptor->name != NULL)
        sink += strlen(program->program_type_descriptor->name);
    fuzz_check(program->program_type_descriptor->context_descriptor != NULL, "no context");
    sink += (size_t)program->program_type_descriptor->context_descriptor->size;
    for (uint32_t i = 0; i < program->count_of_program_type_specific_helpers; i++)
        if (program->program_type_specific_helper_prototype[i].name != NULL)
            sink += strlen(program->program_type_specific_helper_prototype[i].name);
    for (uint32_t i = 0; i < program->count_of_global_helpers; i++)
        if (program->global_helper_prototype[i].name != NULL)
            sink += strlen(program->global_helper_prototype[i].name);
    (void)sink;
    ebpf_store_free_program_info(info);
}

static void read_sections(void)
{
    ebpf_stored_section_t section;
    ebpf_stored_section_t *sections = NULL;
    size_t count = 0;

    ebpf_error_clear();
    int rc = ebpf_store_resolve_section(fuzz.store, "netevent_monitor/fuzz", &section);
    if (rc != 0)
        check_failure(rc, "ebpf_store_resolve_section");
    else
        fuzz_check(memchr(section.section_prefix, '\0', sizeof(section.section_prefix)) != NULL,
                   "section prefix not terminated");
    ebpf_error_clear();
    rc = ebpf_store_list_sections(fuzz.store, &sections, &count);
    if (rc != 0)
        check_failure(rc, "ebpf_store_list_sections");
    for (size_t i = 0; i < count; i++)
        fuzz_check(memchr(sections[i].section_prefix, '\0', sizeof(sections[i].section_prefix)) !=
                       NULL,
                   "listed prefix not terminated");
    ebpf_free(sections);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz.ready)
        setup_once();
    const uint8_t *separator = memchr(data, '\0', size);
    size_t program_size = separator != NULL ? (size_t)(separator - data) : size;
    const uint8_t *section = separator != NULL ? separator + 1 : data + size;
    size_t section_size = (size_t)(data + size - section);

    write_file(fuzz.program_file, data, program_size);
    write_file(fuzz.section_file, section, section_size);
    int64_t outstanding = ebpf_allocation_outstanding();
    read_program_info();
    read_sections();
    fuzz_check(ebpf_allocation_outstanding() == outstanding, "the store leaked an allocation");
    return 0;
}
