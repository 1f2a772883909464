/* bpf2c: a BPF object file into a module, each program typed through the eBPF store. */
#include <errno.h>
#include <string.h>

#include "bpf2c.h"
#include "ebpf_platform.h"
#include "ebpf_store.h"

/* Program types read from the store, each once. */
typedef struct stored_type {
    ebpf_guid_t guid;
    ebpf_stored_program_info_t *info;
    struct stored_type *next;
} stored_type_t;

typedef struct translation {
    const bpf2c_object_options_t *options;
    ebpf_elf_object_t *elf;
    ebpf_store_t *store;
    stored_type_t *types;
    bpf2c_program_t *programs;
    size_t program_count;
} translation_t;

static int stored_type(translation_t *t, const ebpf_guid_t *guid,
                       const ebpf_stored_program_info_t **info)
{
    char text[EBPF_GUID_STRING_LENGTH + 1];
    int rc;

    for (stored_type_t *type = t->types; type != NULL; type = type->next) {
        if (ebpf_guid_equal(&type->guid, guid)) {
            *info = type->info;
            return 0;
        }
    }
    stored_type_t *type = ebpf_allocate(sizeof(*type));
    if (type == NULL)
        return ebpf_error(-ENOMEM, "out of memory");
    rc = ebpf_store_load_program_info(t->store, guid, &type->info);
    if (rc != 0) {
        ebpf_free(type);
        ebpf_guid_to_string(guid, text);
        return rc == -ENOENT ? ebpf_error(rc,
                                          "program type %s is not in the eBPF store: export its "
                                          "extension's program information first",
                                          text)
                             : rc;
    }
    type->guid = *guid;
    type->next = t->types;
    t->types = type;
    *info = type->info;
    return 0;
}

/* --type: a store type by GUID, or by the name of a type some section of the store uses. */
static int type_by_name(translation_t *t, const char *name, const ebpf_stored_program_info_t **info)
{
    ebpf_stored_section_t *sections = NULL;
    ebpf_guid_t guid;
    size_t count = 0;

    if (ebpf_guid_from_string(name, &guid) == 0)
        return stored_type(t, &guid, info);
    if (ebpf_store_list_sections(t->store, &sections, &count) == 0) {
        for (size_t i = 0; i < count; i++) {
            const ebpf_stored_program_info_t *candidate;
            if (stored_type(t, &sections[i].program_type, &candidate) == 0 &&
                candidate->name != NULL && strcmp(candidate->name, name) == 0) {
                ebpf_free(sections);
                *info = candidate;
                return 0;
            }
        }
    }
    ebpf_free(sections);
    return ebpf_error(-ENOENT, "program type '%s' is not in the eBPF store", name);
}

static int type_program(translation_t *t, const ebpf_elf_program_t *from, bpf2c_program_t *to)
{
    const ebpf_stored_program_info_t *info = NULL;
    ebpf_stored_section_t section;
    int rc = ebpf_store_resolve_section(t->store, from->section_name, &section);
    bool have_section = rc == 0;

    if (rc != 0 && rc != -ENOENT)
        return ebpf_error_prefix(rc, "program %s: ", from->function_name);
    if (t->options->type_name != NULL)
        rc = type_by_name(t, t->options->type_name, &info);
    else if (have_section)
        rc = stored_type(t, &section.program_type, &info);
    else
        rc = ebpf_error(-ENOENT,
                        "no program type is known for section \"%s\": export its extension's "
                        "program information to the store, or give --type",
                        from->section_name);
    if (rc != 0)
        return ebpf_error_prefix(rc, "program %s: ", from->function_name);
    to->program_info = &info->info;
    /* The attach type comes with the section; a type given by hand may have none. */
    if (have_section &&
        ebpf_guid_equal(&section.program_type, &info->info.program_type_descriptor->program_type)) {
        to->attach_type = section.attach_type;
        to->bpf_attach_type = section.bpf_attach_type;
    }
    return 0;
}

static void translation_free(translation_t *t)
{
    while (t->types != NULL) {
        stored_type_t *next = t->types->next;
        ebpf_store_free_program_info(t->types->info);
        ebpf_free(t->types);
        t->types = next;
    }
    if (t->store != NULL)
        ebpf_store_close(t->store);
    ebpf_free(t->programs);
    ebpf_elf_free(t->elf);
}

int bpf2c_translate_object(const char *object_path, const bpf2c_object_options_t *options,
                           const char *output_path)
{
    static const bpf2c_object_options_t defaults;
    translation_t t = {.options = options != NULL ? options : &defaults};
    const char *base;
    int rc;

    rc = ebpf_elf_open_file(object_path, &t.elf);
    if (rc != 0)
        return rc;
    rc = ebpf_store_open(t.options->store_root, EBPF_STORE_DEFAULT, &t.store);
    if (rc != 0) {
        translation_free(&t);
        return ebpf_error_prefix(rc, "opening the eBPF store: ");
    }
    t.programs =
        ebpf_allocate_array(t.elf->program_count ? t.elf->program_count : 1, sizeof(*t.programs));
    if (t.programs == NULL) {
        translation_free(&t);
        return ebpf_error(-ENOMEM, "%s: out of memory", object_path);
    }
    for (size_t i = 0; i < t.elf->program_count && rc == 0; i++) {
        const ebpf_elf_program_t *from = &t.elf->programs[i];
        if (t.options->section != NULL && strcmp(from->section_name, t.options->section) != 0)
            continue;
        if (from->instruction_count > UINT32_MAX) {
            rc = ebpf_error(-E2BIG, "program %s is too large", from->function_name);
            break;
        }
        bpf2c_program_t *to = &t.programs[t.program_count++];
        *to = (bpf2c_program_t){
            .name = from->function_name,
            .section_name = from->section_name,
            .instructions = from->instructions,
            .instruction_count = (uint32_t)from->instruction_count,
            .line_info = from->line_info,
            .object_index = (uint32_t)i,
        };
        rc = type_program(&t, from, to);
    }
    if (rc == 0 && t.program_count == 0)
        rc = ebpf_error(-ENOENT, "no program%s%s%s", t.options->section ? " in section \"" : "",
                        t.options->section ? t.options->section : "",
                        t.options->section ? "\"" : "");
    if (rc == 0) {
        base = strrchr(object_path, '/');
        bpf2c_module_t module = {
            .name = base != NULL ? base + 1 : object_path,
            .license = t.elf->license,
            .programs = t.programs,
            .program_count = t.program_count,
            .maps = t.elf->maps,
            .map_count = t.elf->map_count,
            .verify = true,
            .line_directives = t.options->line_directives,
        };
        rc = bpf2c_translate_to_file(&module, output_path);
    }
    if (rc != 0)
        ebpf_error_prefix(rc, "%s: ", object_path);
    translation_free(&t);
    return rc;
}
