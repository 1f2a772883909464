/* The core_test program type for the verifier tool tests, and maps of objects for the verifier. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "ebpf_core.h"
#include "ebpf_platform.h"
#include "ebpf_store.h"
#include "verifier_tool_support.h"

/* The layout of tests/core/core_test_type.h: three 64-bit fields. */
static const ebpf_context_descriptor_t context_descriptor = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t), 24, 0, 8,
    -1};
static const ebpf_program_type_descriptor_t type_descriptor = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "core_test",
    .context_descriptor = &context_descriptor,
    .program_type = {0xc0c0c0c0, 1, 2, {3, 4, 5, 6, 7, 8, 9, 10}},
    .bpf_prog_type = 1000,
};
static const ebpf_helper_prototype_t type_helpers[] = {
    {.header = EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),
     .id = 0x10000,
     .name = "core_test_double",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_ANYTHING}},
};
const ebpf_program_info_t core_test_program_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &type_descriptor,
    .count_of_program_type_specific_helpers = 1,
    .program_type_specific_helper_prototype = type_helpers,
};

const ebpf_helper_prototype_t *core_test_find_helper(void *context, uint32_t id)
{
    if (id == type_helpers[0].id)
        return &type_helpers[0];
    return ebpf_core_find_general_helper(id, NULL);
}

int core_test_write_store(void)
{
    static const ebpf_guid_t attach_type = {0xc0c0c0c1, 1, 2, {3, 4, 5, 6, 7, 8, 9, 10}};
    const ebpf_program_section_info_t section = {
        .header =
            EBPF_EXTENSION_HEADER(EBPF_PROGRAM_SECTION_INFO_VERSION, ebpf_program_section_info_t),
        .section_prefix = "core_test",
        .program_type = &type_descriptor.program_type,
        .attach_type = &attach_type,
        .bpf_program_type = 1000,
    };
    ebpf_store_t *store;
    int rc = ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store);
    if (rc != 0)
        return rc;
    rc = ebpf_store_update_program_info(store, &core_test_program_info);
    if (rc == 0)
        rc = ebpf_store_update_section_info(store, &section, 1);
    ebpf_store_close(store);
    return rc;
}

static void describe(const ebpf_elf_map_t *from, ebpf_verifier_map_t *to)
{
    *to = (ebpf_verifier_map_t){
        .type = from->type,
        .key_size = from->key_size,
        .value_size = from->value_size,
        .max_entries = from->max_entries,
        .map_flags = from->map_flags | (from->read_only ? BPF_F_RDONLY_PROG : 0),
        .name = from->name,
    };
}

/* One block: the object's maps, then an inner-map description for each. */
ebpf_verifier_map_t *verifier_maps_of(const ebpf_elf_object_t *object)
{
    size_t count = object->map_count;
    ebpf_verifier_map_t *maps = calloc(2 * count + 1, sizeof(*maps));
    if (!maps)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const ebpf_elf_map_t *map = &object->maps[i];
        describe(map, &maps[i]);
        if (map->inner_map) {
            describe(map->inner_map, &maps[count + i]);
            maps[i].inner_map = &maps[count + i];
        } else if (map->inner_map_index >= 0 && (size_t)map->inner_map_index < count) {
            maps[i].inner_map = &maps[map->inner_map_index];
        }
    }
    return maps;
}

void verifier_maps_free(ebpf_verifier_map_t *maps)
{
    free(maps);
}
