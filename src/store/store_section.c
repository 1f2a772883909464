/* SectionData entries: which program and attach type a section prefix means; longest prefix
 * wins. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_private.h"

int ebpf_store_update_section_info(ebpf_store_t *store, const ebpf_program_section_info_t *sections,
                                   size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const ebpf_program_section_info_t *section = &sections[i];
        char escaped[NAME_MAX - 16], program_type[EBPF_GUID_STRING_LENGTH + 1],
            attach_type[EBPF_GUID_STRING_LENGTH + 1];
        json_t *document;
        int rc;

        if (section->section_prefix == NULL || section->program_type == NULL ||
            section->attach_type == NULL)
            return ebpf_error(-EINVAL,
                              "store: section %zu needs a prefix, a program type and "
                              "an attach type",
                              i);
        if (strlen(section->section_prefix) >= sizeof(((ebpf_stored_section_t *)0)->section_prefix))
            return ebpf_error(-ENAMETOOLONG, "store: section prefix too long: %.64s...",
                              section->section_prefix);
        rc = store_escape_name(section->section_prefix, escaped, sizeof(escaped));
        if (rc != 0)
            return rc;
        ebpf_guid_to_string(section->program_type, program_type);
        ebpf_guid_to_string(section->attach_type, attach_type);
        document = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I}", "schema", EBPF_STORE_SCHEMA,
                             "section_prefix", section->section_prefix, "program_type",
                             program_type, "attach_type", attach_type, "bpf_program_type",
                             (json_int_t)section->bpf_program_type, "bpf_attach_type",
                             (json_int_t)section->bpf_attach_type);
        if (document == NULL)
            return ebpf_error(-ENOMEM, "store: cannot build the entry of section %s",
                              section->section_prefix);
        rc = store_write_json(store->write_root, STORE_SECTION_DIR, escaped, document);
        json_decref(document);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int ebpf_store_delete_section_info(ebpf_store_t *store, const char *section_prefix)
{
    char escaped[NAME_MAX - 16];
    int rc = store_escape_name(section_prefix, escaped, sizeof(escaped));
    if (rc != 0)
        return rc;
    return store_delete(store->write_root, STORE_SECTION_DIR, escaped);
}

int store_section_from_json(const char *file, json_t *document, ebpf_stored_section_t *section)
{
    const char *prefix, *program_type, *attach_type;
    json_int_t schema, bpf_program_type, bpf_attach_type;
    json_error_t error;

    if (json_unpack_ex(document, &error, JSON_STRICT, "{s:I, s:s, s:s, s:s, s:I, s:I}", "schema",
                       &schema, "section_prefix", &prefix, "program_type", &program_type,
                       "attach_type", &attach_type, "bpf_program_type", &bpf_program_type,
                       "bpf_attach_type", &bpf_attach_type) != 0)
        return ebpf_error(-EINVAL, "store: %s is damaged: %s", file, error.text);
    if (schema != EBPF_STORE_SCHEMA)
        return ebpf_error(-EINVAL, "store: %s has schema %lld; this build reads schema %d", file,
                          (long long)schema, EBPF_STORE_SCHEMA);
    if (prefix[0] == '\0' || strlen(prefix) >= sizeof(section->section_prefix))
        return ebpf_error(-EINVAL, "store: %s is damaged: bad section_prefix", file);
    if (ebpf_guid_from_string(program_type, &section->program_type) != 0)
        return ebpf_error(-EINVAL, "store: %s is damaged: program_type '%s' is not a GUID", file,
                          program_type);
    if (ebpf_guid_from_string(attach_type, &section->attach_type) != 0)
        return ebpf_error(-EINVAL, "store: %s is damaged: attach_type '%s' is not a GUID", file,
                          attach_type);
    if (bpf_program_type < 0 || bpf_program_type > UINT32_MAX || bpf_attach_type < 0 ||
        bpf_attach_type > UINT32_MAX)
        return ebpf_error(-EINVAL, "store: %s is damaged: bpf type numbers out of range", file);
    strcpy(section->section_prefix, prefix);
    section->bpf_program_type = (uint32_t)bpf_program_type;
    section->bpf_attach_type = (uint32_t)bpf_attach_type;
    return 0;
}

/* Visits every entry file of root's SectionData whose unescaped prefix passes filter. */
typedef int (*section_visitor_t)(void *context, const char *file, const char *prefix,
                                 json_t *document);

static int visit_sections(const char *root, const char *filter_name, section_visitor_t visit,
                          void *context)
{
    char folder[PATH_MAX];
    DIR *directory;
    struct dirent *entry;
    int rc = store_path(root, STORE_SECTION_DIR, NULL, folder, sizeof(folder));

    if (rc != 0)
        return rc;
    directory = opendir(folder);
    if (directory == NULL)
        return 0; /* no SectionData here: nothing to visit */
    while (rc == 0 && (entry = readdir(directory)) != NULL) {
        char escaped[NAME_MAX + 1], prefix[256], file[PATH_MAX];
        size_t length = strlen(entry->d_name);
        json_t *document;

        if (length <= 5 || strcmp(entry->d_name + length - 5, ".json") != 0)
            continue; /* temporary files and strangers */
        memcpy(escaped, entry->d_name, length - 5);
        escaped[length - 5] = '\0';
        if (store_unescape_name(escaped, prefix, sizeof(prefix)) != 0)
            continue;
        if (filter_name != NULL && strncmp(filter_name, prefix, strlen(prefix)) != 0)
            continue;
        store_path(root, STORE_SECTION_DIR, escaped, file, sizeof(file));
        rc = store_read_json(root, STORE_SECTION_DIR, escaped, &document);
        if (rc == -ENOENT) {
            rc = 0; /* removed while we looked */
            continue;
        }
        if (rc == 0) {
            rc = visit(context, file, prefix, document);
            json_decref(document);
        }
    }
    closedir(directory);
    return rc;
}

typedef struct resolution {
    ebpf_stored_section_t *best;
    size_t best_length;
    bool found;
} resolution_t;

static int consider(void *context, const char *file, const char *prefix, json_t *document)
{
    resolution_t *resolution = context;
    ebpf_stored_section_t candidate;
    int rc = store_section_from_json(file, document, &candidate);

    if (rc != 0)
        return rc;
    if (strcmp(candidate.section_prefix, prefix) != 0)
        return ebpf_error(-EINVAL, "store: %s is damaged: it holds prefix '%s'", file,
                          candidate.section_prefix);
    /* Strictly longer: for equal prefixes the first root (the user store) wins. */
    if (!resolution->found || strlen(prefix) > resolution->best_length) {
        *resolution->best = candidate;
        resolution->best_length = strlen(prefix);
        resolution->found = true;
    }
    return 0;
}

int ebpf_store_resolve_section(ebpf_store_t *store, const char *section_name,
                               ebpf_stored_section_t *section)
{
    resolution_t resolution = {.best = section};
    const char *roots[] = {store->write_root, store->fallback_root};

    if (section_name == NULL || section_name[0] == '\0')
        return ebpf_error(-EINVAL, "store: empty section name");
    for (size_t r = 0; r < EBPF_ARRAY_SIZE(roots); r++) {
        if (roots[r][0] == '\0')
            continue;
        int rc = visit_sections(roots[r], section_name, consider, &resolution);
        if (rc != 0)
            return rc;
    }
    if (!resolution.found)
        return ebpf_error(-ENOENT,
                          "store: no program type is registered for section '%s' "
                          "(is its extension's program information exported?)",
                          section_name);
    return 0;
}

typedef struct collection {
    ebpf_stored_section_t **sections;
    size_t *count;
    size_t *capacity;
} collection_t;

static int collect(void *context, const char *file, const char *prefix, json_t *document)
{
    collection_t *collection = context;
    ebpf_stored_section_t section;
    int rc = store_section_from_json(file, document, &section);

    if (rc != 0)
        return rc;
    for (size_t i = 0; i < *collection->count; i++) {
        if (strcmp((*collection->sections)[i].section_prefix, section.section_prefix) == 0)
            return 0; /* shadowed by the earlier root */
    }
    if (*collection->count == *collection->capacity) {
        size_t capacity = *collection->capacity ? *collection->capacity * 2 : 8;
        ebpf_stored_section_t *grown =
            ebpf_reallocate(*collection->sections, capacity * sizeof(section));
        if (grown == NULL)
            return ebpf_error(-ENOMEM, "store: out of memory listing sections");
        *collection->sections = grown;
        *collection->capacity = capacity;
    }
    (*collection->sections)[(*collection->count)++] = section;
    return 0;
}

int store_collect_sections(const char *root, ebpf_stored_section_t **sections, size_t *count,
                           size_t *capacity)
{
    collection_t collection = {sections, count, capacity};
    return visit_sections(root, NULL, collect, &collection);
}

int ebpf_store_list_sections(ebpf_store_t *store, ebpf_stored_section_t **sections, size_t *count)
{
    const char *roots[] = {store->write_root, store->fallback_root};
    size_t capacity = 0;
    int rc = 0;

    *sections = NULL;
    *count = 0;
    for (size_t r = 0; r < EBPF_ARRAY_SIZE(roots) && rc == 0; r++) {
        if (roots[r][0] != '\0')
            rc = store_collect_sections(roots[r], sections, count, &capacity);
    }
    if (rc != 0) {
        ebpf_free(*sections);
        *sections = NULL;
        *count = 0;
    }
    return rc;
}
