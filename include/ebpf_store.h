/* The eBPF store: persisted program-type and section information (the registry's
 * Software\eBPF\Providers of the original, as one JSON file per entry). */
#ifndef EBPF_STORE_H
#define EBPF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpf_program_info.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Layout, under the store root:
 *   ProgramData/<program-type-guid>.json   program type descriptor, context descriptor, helpers
 *   SectionData/<escaped section prefix>.json   program type and attach type of a prefix
 * The root is $EBPF_STORE_DIR when set (tests always use a private one); otherwise reads look
 * in the user store ($XDG_DATA_HOME/ebpf/store, or ~/.local/share/ebpf/store) and then in the
 * system store (/var/lib/ebpf/store), and writes go to the user store, or to the system store
 * when opened with EBPF_STORE_SYSTEM. Writes are atomic (temporary file, fsync, rename). */

#define EBPF_STORE_SYSTEM_ROOT "/var/lib/ebpf/store"
#define EBPF_STORE_SCHEMA      1

typedef struct ebpf_store ebpf_store_t;

typedef enum ebpf_store_scope {
    EBPF_STORE_DEFAULT = 0, /* EBPF_STORE_DIR, else the user store (reads fall back) */
    EBPF_STORE_SYSTEM = 1,  /* EBPF_STORE_DIR, else the system store only */
} ebpf_store_scope_t;

/* root overrides everything when non-NULL. */
int ebpf_store_open(const char *root, ebpf_store_scope_t scope, ebpf_store_t **store);
void ebpf_store_close(ebpf_store_t *store);
/* The directory writes go to. */
const char *ebpf_store_root(const ebpf_store_t *store);

int ebpf_store_update_program_info(ebpf_store_t *store, const ebpf_program_info_t *info);
int ebpf_store_update_section_info(ebpf_store_t *store, const ebpf_program_section_info_t *sections,
                                   size_t count);
/* -ENOENT when there was nothing to delete. */
int ebpf_store_delete_program_info(ebpf_store_t *store, const ebpf_guid_t *program_type);
int ebpf_store_delete_section_info(ebpf_store_t *store, const char *section_prefix);

/* Program information read back: info points into the object, which owns every string,
 * descriptor and prototype. */
typedef struct ebpf_stored_program_info {
    ebpf_program_info_t info;
    ebpf_program_type_descriptor_t type_descriptor;
    ebpf_context_descriptor_t context_descriptor;
    char *name;
    ebpf_helper_prototype_t *helpers;
    ebpf_helper_prototype_t *global_helpers;
    char **helper_names; /* every name the prototypes point to */
    size_t helper_name_count;
} ebpf_stored_program_info_t;

/* -ENOENT when the program type is not in the store; -EINVAL (with the file and field named)
 * when the entry is damaged. */
int ebpf_store_load_program_info(ebpf_store_t *store, const ebpf_guid_t *program_type,
                                 ebpf_stored_program_info_t **info);
void ebpf_store_free_program_info(ebpf_stored_program_info_t *info);

typedef struct ebpf_stored_section {
    char section_prefix[256];
    ebpf_guid_t program_type;
    ebpf_guid_t attach_type;
    uint32_t bpf_program_type;
    uint32_t bpf_attach_type;
} ebpf_stored_section_t;

/* The entry whose prefix is the longest prefix of section_name. -ENOENT when none matches;
 * -EINVAL when a candidate entry is damaged (never a guess past it). */
int ebpf_store_resolve_section(ebpf_store_t *store, const char *section_name,
                               ebpf_stored_section_t *section);

/* Every section entry (merged over the user and system stores, user first); the caller frees
 * *sections with ebpf_free. */
int ebpf_store_list_sections(ebpf_store_t *store, ebpf_stored_section_t **sections, size_t *count);

/* Names of argument and return kinds, as the store writes them ("ptr_to_ctx", ...). */
const char *ebpf_argument_type_name(ebpf_argument_type_t type);
const char *ebpf_return_type_name(ebpf_return_type_t type);
int ebpf_argument_type_from_name(const char *name, ebpf_argument_type_t *type);
int ebpf_return_type_from_name(const char *name, ebpf_return_type_t *type);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_STORE_H */
