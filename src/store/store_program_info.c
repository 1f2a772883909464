/* ProgramData entries: program information to JSON and back, with every field checked. */
#include <errno.h>
#include <string.h>

#include "store_private.h"

static json_t *helpers_to_json(const ebpf_helper_prototype_t *helpers, uint32_t count)
{
    json_t *array = json_array();
    for (uint32_t i = 0; array != NULL && i < count; i++) {
        const ebpf_helper_prototype_t *helper = &helpers[i];
        json_t *arguments = json_array();
        for (int a = 0; arguments != NULL && a < 5; a++) {
            const char *name = ebpf_argument_type_name(helper->arguments[a]);
            json_array_append_new(arguments, json_string(name ? name : "invalid"));
        }
        const char *return_name = ebpf_return_type_name(helper->return_type);
        json_t *entry = json_pack("{s:I, s:s, s:s, s:o, s:b, s:b}", "id", (json_int_t)helper->id,
                                  "name", helper->name ? helper->name : "", "return_type",
                                  return_name ? return_name : "invalid", "arguments", arguments,
                                  "changes_packet", helper->changes_packet, "is_tail_call",
                                  helper->is_tail_call);
        if (entry == NULL || json_array_append_new(array, entry) != 0) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

static int check_program_info(const ebpf_program_info_t *info)
{
    if (info == NULL || info->program_type_descriptor == NULL ||
        info->program_type_descriptor->context_descriptor == NULL ||
        info->program_type_descriptor->name == NULL)
        return ebpf_error(-EINVAL, "store: program information needs a type descriptor with a "
                                   "name and a context descriptor");
    if (info->count_of_program_type_specific_helpers != 0 &&
        info->program_type_specific_helper_prototype == NULL)
        return ebpf_error(-EINVAL, "store: program information lists helpers without "
                                   "prototypes");
    const ebpf_helper_prototype_t *lists[] = {info->program_type_specific_helper_prototype,
                                              info->global_helper_prototype};
    uint32_t counts[] = {info->count_of_program_type_specific_helpers,
                         info->count_of_global_helpers};
    for (int l = 0; l < 2; l++) {
        for (uint32_t i = 0; i < counts[l]; i++) {
            if (ebpf_return_type_name(lists[l][i].return_type) == NULL)
                return ebpf_error(-EINVAL, "store: helper %u has an unknown return type %d",
                                  lists[l][i].id, lists[l][i].return_type);
            for (int a = 0; a < 5; a++) {
                if (ebpf_argument_type_name(lists[l][i].arguments[a]) == NULL)
                    return ebpf_error(-EINVAL,
                                      "store: helper %u argument %d has an unknown "
                                      "type %d",
                                      lists[l][i].id, a + 1, lists[l][i].arguments[a]);
            }
        }
    }
    return 0;
}

int ebpf_store_update_program_info(ebpf_store_t *store, const ebpf_program_info_t *info)
{
    char guid[EBPF_GUID_STRING_LENGTH + 1];
    json_t *document;
    int rc = check_program_info(info);

    if (rc != 0)
        return rc;
    const ebpf_program_type_descriptor_t *type = info->program_type_descriptor;
    const ebpf_context_descriptor_t *context = type->context_descriptor;
    ebpf_guid_to_string(&type->program_type, guid);
    document = json_pack(
        "{s:i, s:s, s:s, s:I, s:b, s:{s:i, s:i, s:i, s:i}, s:o, s:o}", "schema", EBPF_STORE_SCHEMA,
        "program_type", guid, "name", type->name, "bpf_prog_type", (json_int_t)type->bpf_prog_type,
        "is_privileged", type->is_privileged, "context_descriptor", "size", context->size, "data",
        context->data, "end", context->end, "meta", context->meta, "helpers",
        helpers_to_json(info->program_type_specific_helper_prototype,
                        info->count_of_program_type_specific_helpers),
        "global_helpers",
        helpers_to_json(info->global_helper_prototype, info->count_of_global_helpers));
    if (document == NULL)
        return ebpf_error(-ENOMEM, "store: cannot build the entry of %s", type->name);
    rc = store_write_json(store->write_root, STORE_PROGRAM_DIR, guid, document);
    json_decref(document);
    return rc;
}

int ebpf_store_delete_program_info(ebpf_store_t *store, const ebpf_guid_t *program_type)
{
    char guid[EBPF_GUID_STRING_LENGTH + 1];
    ebpf_guid_to_string(program_type, guid);
    return store_delete(store->write_root, STORE_PROGRAM_DIR, guid);
}

void ebpf_store_free_program_info(ebpf_stored_program_info_t *info)
{
    if (info == NULL)
        return;
    for (size_t i = 0; i < info->helper_name_count; i++)
        ebpf_free(info->helper_names[i]);
    ebpf_free(info->helper_names);
    ebpf_free(info->helpers);
    ebpf_free(info->global_helpers);
    ebpf_free(info->name);
    ebpf_free(info);
}

/* Reads a helper list; names are kept in info->helper_names. */
static int helpers_from_json(const char *file, const char *field, json_t *array,
                             ebpf_stored_program_info_t *info, ebpf_helper_prototype_t **out,
                             uint32_t *count)
{
    size_t n;
    ebpf_helper_prototype_t *helpers;

    if (!json_is_array(array))
        return ebpf_error(-EINVAL, "store: %s is damaged: '%s' is not a list", file, field);
    n = json_array_size(array);
    if (n > 4096)
        return ebpf_error(-EINVAL, "store: %s is damaged: '%s' has %zu entries", file, field, n);
    helpers = ebpf_allocate_array(n ? n : 1, sizeof(*helpers));
    char **names =
        ebpf_reallocate(info->helper_names, (info->helper_name_count + n + 1) * sizeof(char *));
    if (helpers == NULL || names == NULL) {
        ebpf_free(helpers);
        if (names != NULL)
            info->helper_names = names;
        return ebpf_error(-ENOMEM, "store: out of memory reading %s", file);
    }
    info->helper_names = names;
    *out = helpers;
    *count = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        json_t *entry = json_array_get(array, i), *arguments = NULL;
        json_int_t id = -1;
        const char *name = NULL, *return_name = NULL;
        int changes_packet = 0, is_tail_call = 0;
        json_error_t error;

        if (json_unpack_ex(entry, &error, JSON_STRICT, "{s:I, s:s, s:s, s:o, s:b, s:b}", "id", &id,
                           "name", &name, "return_type", &return_name, "arguments", &arguments,
                           "changes_packet", &changes_packet, "is_tail_call", &is_tail_call) != 0)
            return ebpf_error(-EINVAL, "store: %s is damaged: %s[%zu]: %s", file, field, i,
                              error.text);
        if (id < 0 || id > UINT32_MAX)
            return ebpf_error(-EINVAL, "store: %s is damaged: %s[%zu].id %lld out of range", file,
                              field, i, (long long)id);
        helpers[i].header = (ebpf_extension_header_t)EBPF_EXTENSION_HEADER(
            EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t);
        helpers[i].id = (uint32_t)id;
        helpers[i].changes_packet = changes_packet;
        helpers[i].is_tail_call = is_tail_call;
        if (ebpf_return_type_from_name(return_name, &helpers[i].return_type) != 0)
            return ebpf_error(-EINVAL, "store: %s is damaged: %s[%zu].return_type '%s' unknown",
                              file, field, i, return_name);
        if (!json_is_array(arguments) || json_array_size(arguments) != 5)
            return ebpf_error(-EINVAL,
                              "store: %s is damaged: %s[%zu].arguments must list 5 "
                              "kinds",
                              file, field, i);
        for (size_t a = 0; a < 5; a++) {
            const char *kind = json_string_value(json_array_get(arguments, a));
            if (kind == NULL || ebpf_argument_type_from_name(kind, &helpers[i].arguments[a]) != 0)
                return ebpf_error(-EINVAL,
                                  "store: %s is damaged: %s[%zu].arguments[%zu] '%s' "
                                  "unknown",
                                  file, field, i, a, kind ? kind : "(not a string)");
        }
        char *copy = ebpf_strdup(name);
        if (copy == NULL)
            return ebpf_error(-ENOMEM, "store: out of memory reading %s", file);
        info->helper_names[info->helper_name_count++] = copy;
        helpers[i].name = copy;
    }
    return 0;
}

int ebpf_store_load_program_info(ebpf_store_t *store, const ebpf_guid_t *program_type,
                                 ebpf_stored_program_info_t **out)
{
    char guid[EBPF_GUID_STRING_LENGTH + 1], file[PATH_MAX];
    const char *roots[] = {store->write_root, store->fallback_root};
    json_t *document = NULL, *helpers = NULL, *global_helpers = NULL;
    const char *name = NULL, *stored_guid = NULL;
    json_int_t schema = 0, bpf_prog_type = 0;
    int is_privileged = 0, size, data, end, meta;
    ebpf_stored_program_info_t *info;
    json_error_t error;
    int rc = -ENOENT;

    ebpf_guid_to_string(program_type, guid);
    for (size_t r = 0; r < EBPF_ARRAY_SIZE(roots) && rc == -ENOENT; r++) {
        if (roots[r][0] == '\0')
            continue;
        rc = store_read_json(roots[r], STORE_PROGRAM_DIR, guid, &document);
        if (rc != -ENOENT)
            store_path(roots[r], STORE_PROGRAM_DIR, guid, file, sizeof(file));
    }
    if (rc == -ENOENT)
        return ebpf_error(-ENOENT,
                          "store: no program information for program type %s "
                          "(run the extension's export tool)",
                          guid);
    if (rc != 0)
        return rc;
    if (json_unpack_ex(document, &error, JSON_STRICT,
                       "{s:I, s:s, s:s, s:I, s:b, s:{s:i, s:i, s:i, s:i}, s:o, s:o}", "schema",
                       &schema, "program_type", &stored_guid, "name", &name, "bpf_prog_type",
                       &bpf_prog_type, "is_privileged", &is_privileged, "context_descriptor",
                       "size", &size, "data", &data, "end", &end, "meta", &meta, "helpers",
                       &helpers, "global_helpers", &global_helpers) != 0) {
        rc = ebpf_error(-EINVAL, "store: %s is damaged: %s", file, error.text);
        goto out;
    }
    if (schema != EBPF_STORE_SCHEMA) {
        rc = ebpf_error(-EINVAL, "store: %s has schema %lld; this build reads schema %d", file,
                        (long long)schema, EBPF_STORE_SCHEMA);
        goto out;
    }
    ebpf_guid_t stored;
    if (ebpf_guid_from_string(stored_guid, &stored) != 0 ||
        !ebpf_guid_equal(&stored, program_type)) {
        rc = ebpf_error(-EINVAL, "store: %s is damaged: it names program type %s", file,
                        stored_guid);
        goto out;
    }
    if (size <= 0 || size > 65536 || data < -1 || end < -1 || meta < -1 || data >= size ||
        end >= size || meta >= size || (data >= 0) != (end >= 0)) {
        rc = ebpf_error(-EINVAL,
                        "store: %s is damaged: context descriptor {size %d, data %d, "
                        "end %d, meta %d} is impossible",
                        file, size, data, end, meta);
        goto out;
    }
    if (bpf_prog_type < 0 || bpf_prog_type > UINT32_MAX) {
        rc = ebpf_error(-EINVAL, "store: %s is damaged: bpf_prog_type out of range", file);
        goto out;
    }
    info = ebpf_allocate(sizeof(*info));
    if (info == NULL || (info->name = ebpf_strdup(name)) == NULL) {
        ebpf_free(info);
        rc = ebpf_error(-ENOMEM, "store: out of memory reading %s", file);
        goto out;
    }
    info->context_descriptor = (ebpf_context_descriptor_t){
        EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t), size,
        data, end, meta};
    info->type_descriptor = (ebpf_program_type_descriptor_t){
        .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION,
                                        ebpf_program_type_descriptor_t),
        .name = info->name,
        .context_descriptor = &info->context_descriptor,
        .program_type = stored,
        .bpf_prog_type = (uint32_t)bpf_prog_type,
        .is_privileged = is_privileged,
    };
    info->info.header = (ebpf_extension_header_t)EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION,
                                                                       ebpf_program_info_t);
    info->info.program_type_descriptor = &info->type_descriptor;
    rc = helpers_from_json(file, "helpers", helpers, info, &info->helpers,
                           &info->info.count_of_program_type_specific_helpers);
    if (rc == 0)
        rc = helpers_from_json(file, "global_helpers", global_helpers, info, &info->global_helpers,
                               &info->info.count_of_global_helpers);
    if (rc != 0) {
        ebpf_store_free_program_info(info);
        goto out;
    }
    info->info.program_type_specific_helper_prototype = info->helpers;
    info->info.global_helper_prototype = info->global_helpers;
    *out = info;
out:
    json_decref(document);
    return rc;
}
