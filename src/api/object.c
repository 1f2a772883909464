/* Loading an ELF object into core maps and programs, all or nothing. */
#include <errno.h>
#include <string.h>

#include "ebpf_map.h"
#include "ebpf_object.h"
#include "ebpf_platform.h"

/* Map names follow BPF_OBJ_NAME_LEN: at most 15 of [A-Za-z0-9_.]; others become '_'. */
static void map_name(const char *source, char name[BPF_OBJ_NAME_LEN])
{
    size_t i = 0;
    for (; source[i] != '\0' && i < BPF_OBJ_NAME_LEN - 1; i++) {
        char c = source[i];
        bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '.';
        name[i] = allowed ? c : '_';
    }
    name[i] = '\0';
}

static void definition_of(const ebpf_elf_map_t *map, ebpf_map_definition_t *definition)
{
    *definition = (ebpf_map_definition_t){
        .type = map->type,
        .key_size = map->key_size,
        .value_size = map->value_size,
        .max_entries = map->max_entries,
        .map_flags = map->map_flags,
    };
    if (map->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && map->max_entries == 0)
        definition->max_entries = ebpf_cpu_count();
    if (map->origin == EBPF_ELF_MAP_GLOBAL_DATA && map->read_only)
        definition->map_flags |= BPF_F_RDONLY_PROG;
}

static bool definitions_match(const ebpf_map_definition_t *a, const ebpf_map_definition_t *b)
{
    return a->type == b->type && a->key_size == b->key_size && a->value_size == b->value_size &&
           a->max_entries == b->max_entries && a->map_flags == b->map_flags;
}

static int create_map(const ebpf_elf_object_t *elf, size_t index,
                      const ebpf_object_load_options_t *options, ebpf_map_t **out)
{
    const ebpf_elf_map_t *map = &elf->maps[index];
    ebpf_map_definition_t definition, inner;
    char name[BPF_OBJ_NAME_LEN];
    int rc;

    definition_of(map, &definition);
    if (options->max_entries != NULL && options->max_entries[index] != 0)
        definition.max_entries = options->max_entries[index];
    if (options->existing_maps != NULL && options->existing_maps[index] != NULL) {
        ebpf_map_t *existing = options->existing_maps[index];
        const ebpf_map_definition_t *found = ebpf_map_get_definition(existing);
        if (!definitions_match(found, &definition))
            return ebpf_error(-EINVAL,
                              "%s: map %s: the existing map (type %u, key %u, value %u, max "
                              "entries %u, flags %#x) does not match the object's definition "
                              "(type %u, key %u, value %u, max entries %u, flags %#x)",
                              elf->name, map->name, found->type, found->key_size, found->value_size,
                              found->max_entries, found->map_flags, definition.type,
                              definition.key_size, definition.value_size, definition.max_entries,
                              definition.map_flags);
        /* Reused as it is: its content belongs to whoever pinned it. */
        ebpf_map_acquire(existing);
        *out = existing;
        return 0;
    }
    if (map->inner_map != NULL) {
        definition_of(map->inner_map, &inner);
        definition.inner_map = &inner;
    } else if (map->inner_map_index >= 0 && (size_t)map->inner_map_index < elf->map_count) {
        definition_of(&elf->maps[map->inner_map_index], &inner);
        definition.inner_map = &inner;
    }
    map_name(map->name, name);
    rc = ebpf_map_create(&definition, name, out);
    if (rc != 0)
        return ebpf_error_prefix(rc, "%s: map %s: ", elf->name, map->name);
    if (map->origin == EBPF_ELF_MAP_GLOBAL_DATA && map->initial_data != NULL) {
        uint32_t key = 0;
        rc = ebpf_map_update_user(*out, &key, map->initial_data, BPF_ANY);
        if (rc == 0 && map->read_only)
            rc = ebpf_map_freeze(*out);
        if (rc != 0) {
            ebpf_map_release(*out);
            return ebpf_error_prefix(rc, "%s: initialising %s: ", elf->name, map->name);
        }
    }
    return 0;
}

/* Slots the object fills itself: programs in a prog_array, inner maps in a map-in-map. */
static int fill_initial_values(const ebpf_elf_object_t *elf, ebpf_object_t *object)
{
    for (size_t m = 0; m < elf->map_count; m++) {
        const ebpf_elf_map_t *map = &elf->maps[m];
        for (size_t v = 0; v < map->initial_value_count; v++) {
            const ebpf_elf_map_initial_value_t *slot = &map->initial_values[v];
            void *target;
            if (map->type == BPF_MAP_TYPE_PROG_ARRAY) {
                if (slot->target_index >= object->program_count)
                    return ebpf_error(-EINVAL, "%s: map %s slot %u names program %u of %zu",
                                      elf->name, map->name, slot->key, slot->target_index,
                                      object->program_count);
                target = object->programs[slot->target_index];
            } else {
                if (slot->target_index >= object->map_count)
                    return ebpf_error(-EINVAL, "%s: map %s slot %u names map %u of %zu", elf->name,
                                      map->name, slot->key, slot->target_index, object->map_count);
                target = object->maps[slot->target_index];
            }
            int rc = ebpf_map_update_object(object->maps[m], &slot->key, target, BPF_ANY);
            if (rc != 0)
                return ebpf_error_prefix(rc, "%s: filling slot %u of %s: ", elf->name, slot->key,
                                         map->name);
        }
    }
    return 0;
}

int ebpf_object_load_elf_with_options(const ebpf_elf_object_t *elf,
                                      const ebpf_object_load_options_t *options,
                                      ebpf_object_t **out)
{
    ebpf_object_t *object;
    int rc = 0;

    if (elf == NULL || options == NULL || out == NULL)
        return ebpf_error(-EINVAL, "object: nothing to load");
    object = ebpf_allocate(sizeof(*object));
    if (object == NULL)
        return ebpf_error(-ENOMEM, "%s: out of memory", elf->name);
    object->maps = ebpf_allocate_array(elf->map_count ? elf->map_count : 1, sizeof(ebpf_map_t *));
    object->programs =
        ebpf_allocate_array(elf->program_count ? elf->program_count : 1, sizeof(ebpf_program_t *));
    if (object->maps == NULL || object->programs == NULL) {
        rc = ebpf_error(-ENOMEM, "%s: out of memory", elf->name);
        goto failed;
    }
    for (size_t m = 0; m < elf->map_count && rc == 0; m++) {
        rc = create_map(elf, m, options, &object->maps[m]);
        if (rc == 0)
            object->map_count++;
    }
    for (size_t p = 0; p < elf->program_count && rc == 0; p++) {
        const ebpf_elf_program_t *source = &elf->programs[p];
        ebpf_object_program_binding_t binding = {0};
        if (options->resolve != NULL)
            rc = options->resolve(options->context, p, source, &binding);
        if (rc != 0)
            break;
        ebpf_program_load_parameters_t parameters = {
            .name = source->function_name,
            .section_name = source->section_name,
            .instructions = source->instructions,
            .instruction_count = (uint32_t)source->instruction_count,
            .maps = object->maps,
            .map_count = (uint32_t)object->map_count,
            .program_data = binding.program_data,
            .program_type = binding.program_data == NULL ? binding.program_type : NULL,
            .line_info = (const ebpf_verifier_line_info_t *)source->line_info,
            .test_hook_run_unverified_in_checked_interpreter =
                options->test_hook_run_unverified_in_checked_interpreter,
        };
        rc = ebpf_program_create(&parameters, &object->programs[p]);
        if (rc == 0) {
            object->program_count++;
        } else {
            ebpf_error_prefix(rc, "%s: ", elf->name);
            if (options->program_failed != NULL)
                rc = options->program_failed(options->context, p, rc);
        }
    }
    if (rc == 0)
        rc = fill_initial_values(elf, object);
    if (rc == 0) {
        *out = object;
        return 0;
    }
failed:
    ebpf_object_unload(object);
    return rc;
}

typedef struct data_resolver {
    ebpf_program_data_resolver_t resolve;
    void *context;
} data_resolver_t;

static int resolve_program_data(void *context, size_t index, const ebpf_elf_program_t *program,
                                ebpf_object_program_binding_t *binding)
{
    const data_resolver_t *resolver = context;
    return resolver->resolve(resolver->context, program->section_name, &binding->program_data);
}

/* The ELF loader's line info and the verifier's have the same layout. */
_Static_assert(sizeof(ebpf_elf_line_info_t) == sizeof(ebpf_verifier_line_info_t) &&
                   offsetof(ebpf_elf_line_info_t, file_name) ==
                       offsetof(ebpf_verifier_line_info_t, file_name) &&
                   offsetof(ebpf_elf_line_info_t, line_text) ==
                       offsetof(ebpf_verifier_line_info_t, line_text) &&
                   offsetof(ebpf_elf_line_info_t, line) ==
                       offsetof(ebpf_verifier_line_info_t, line) &&
                   offsetof(ebpf_elf_line_info_t, column) ==
                       offsetof(ebpf_verifier_line_info_t, column),
               "line info layouts match");

int ebpf_object_load_elf(const ebpf_elf_object_t *elf, ebpf_program_data_resolver_t resolve,
                         void *resolver_context, ebpf_object_t **out)
{
    data_resolver_t resolver = {resolve, resolver_context};
    ebpf_object_load_options_t options = {
        .resolve = resolve != NULL ? resolve_program_data : NULL,
        .context = &resolver,
    };
    return ebpf_object_load_elf_with_options(elf, &options, out);
}

void ebpf_object_unload(ebpf_object_t *object)
{
    if (object == NULL)
        return;
    /* Program arrays would keep their programs alive through the slots. */
    for (size_t m = 0; m < object->map_count && !object->program_arrays_released_by_caller; m++) {
        if (ebpf_map_get_definition(object->maps[m])->type == BPF_MAP_TYPE_PROG_ARRAY)
            ebpf_map_release_programs(object->maps[m]);
    }
    for (size_t p = 0; p < object->program_count; p++)
        ebpf_program_release(object->programs[p]);
    for (size_t m = 0; m < object->map_count; m++)
        ebpf_map_release(object->maps[m]);
    ebpf_free(object->programs);
    ebpf_free(object->maps);
    ebpf_free(object);
}

ebpf_map_t *ebpf_object_find_map(const ebpf_object_t *object, const ebpf_elf_object_t *elf,
                                 const char *name)
{
    for (size_t m = 0; m < object->map_count; m++) {
        const ebpf_elf_map_t *map = &elf->maps[m];
        if (strcmp(map->name, name) == 0 ||
            (map->origin == EBPF_ELF_MAP_GLOBAL_DATA && strcmp(map->section_name, name) == 0))
            return object->maps[m];
    }
    return NULL;
}

ebpf_program_t *ebpf_object_find_program(const ebpf_object_t *object, const ebpf_elf_object_t *elf,
                                         const char *function_name)
{
    for (size_t p = 0; p < object->program_count; p++) {
        if (strcmp(elf->programs[p].function_name, function_name) == 0)
            return object->programs[p];
    }
    return NULL;
}
