/* Verification at load: the program, its maps and the helpers of its type, handed to the
 * verifier before anything can run. */
#include <errno.h>
#include <string.h>

#include "core_private.h"

/* A program without a type sees an opaque context (nothing to read) and general helpers. */
static const ebpf_context_descriptor_t opaque_context = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t), 0, -1, -1,
    -1};
static const ebpf_program_type_descriptor_t opaque_type = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "(no program type)",
    .context_descriptor = &opaque_context,
};
static const ebpf_program_info_t opaque_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &opaque_type,
};

/* The type's own helpers and overrides first, then the core's general helpers: the same
 * order as resolution at run time (helper_registry.c). */
static const ebpf_helper_prototype_t *find_helper(void *context, uint32_t id)
{
    const ebpf_program_info_t *info = context;
    for (uint32_t i = 0; i < info->count_of_program_type_specific_helpers; i++) {
        if (info->program_type_specific_helper_prototype[i].id == id)
            return &info->program_type_specific_helper_prototype[i];
    }
    for (uint32_t i = 0; i < info->count_of_global_helpers; i++) {
        if (info->global_helper_prototype[i].id == id)
            return &info->global_helper_prototype[i];
    }
    return ebpf_core_find_general_helper(id, NULL);
}

static void describe_map(ebpf_map_t *map, ebpf_verifier_map_t *out, ebpf_verifier_map_t *inner)
{
    const ebpf_map_definition_t *definition = ebpf_map_get_definition(map);
    *out = (ebpf_verifier_map_t){definition->type,       definition->key_size,
                                 definition->value_size, definition->max_entries,
                                 definition->map_flags,  NULL,
                                 ebpf_map_get_name(map)};
    if (definition->inner_map != NULL) {
        const ebpf_map_definition_t *template = definition->inner_map;
        *inner = (ebpf_verifier_map_t){template->type,       template->key_size,
                                       template->value_size, template->max_entries,
                                       template->map_flags,  NULL,
                                       "inner map"};
        out->inner_map = inner;
    }
}

int core_program_verify(ebpf_program_t *program, const ebpf_verifier_line_info_t *line_info)
{
    program_binding_t *binding = atomic_load(&program->binding);
    const ebpf_program_info_t *info = binding != NULL ? binding->data->program_info : &opaque_info;
    ebpf_verifier_map_t *maps = NULL;
    ebpf_verifier_result_t result = {0};
    int rc;

    if (program->map_count != 0) {
        /* One entry per map and one for its inner template. */
        maps = ebpf_allocate_array(2 * (size_t)program->map_count, sizeof(*maps));
        if (maps == NULL)
            return ebpf_error(-ENOMEM, "%s: out of memory verifying", program->name);
        for (uint32_t i = 0; i < program->map_count; i++)
            describe_map(program->maps[i], &maps[i], &maps[program->map_count + i]);
    }
    ebpf_verifier_options_t options = {
        .line_info = line_info,
        .find_helper = find_helper,
        .find_helper_context = (void *)info,
    };
    rc = ebpf_verify_program(program->instructions, program->instruction_count, info, maps,
                             program->map_count, &options, &result);
    if (rc == -EACCES)
        rc = ebpf_error(-EACCES, "%s: the verifier rejected it (program type %s):\n%s",
                        program->name, info->program_type_descriptor->name,
                        result.log ? result.log : "(no log)");
    else if (rc == 0)
        program->verification = (ebpf_program_verification_t){
            .verified = true,
            .writes_packet = result.writes_packet,
            .max_stack_depth = result.max_stack_depth,
            .processed_instructions = result.processed_instructions,
            .elapsed_ns = result.elapsed_ns,
        };
    ebpf_verifier_result_free(&result);
    ebpf_free(maps);
    return rc;
}
