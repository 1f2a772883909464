/* Internals of the store shared by its files: roots, paths, and atomic JSON files. */
#ifndef EBPF_STORE_PRIVATE_H
#define EBPF_STORE_PRIVATE_H

#include <jansson.h>
#include <limits.h>

#include "ebpf_platform.h"
#include "ebpf_store.h"

#define STORE_PROGRAM_DIR "ProgramData"
#define STORE_SECTION_DIR "SectionData"

struct ebpf_store {
    /* Where writes go, and the first place reads look. */
    char write_root[PATH_MAX];
    /* A second place reads look (the system store under a user store), or "" for none. */
    char fallback_root[PATH_MAX];
};

/* root/kind/name.json into path; -ENAMETOOLONG when it does not fit. */
int store_path(const char *root, const char *kind, const char *name, char *path, size_t size);
/* Writes a JSON document atomically: temporary file in the same folder, fsync, rename, and
 * fsync of the folder; creates the folders on the way. */
int store_write_json(const char *root, const char *kind, const char *name, json_t *document);
/* Reads root/kind/name.json. -ENOENT when absent; -EINVAL, naming the file and the parse
 * error, when it is not JSON. */
int store_read_json(const char *root, const char *kind, const char *name, json_t **document);
int store_delete(const char *root, const char *kind, const char *name);

/* A section prefix as a file name: bytes other than [A-Za-z0-9._-] become %XX, so any
 * prefix ("xdp/frags", "netevent_monitor") maps to one file. */
int store_escape_name(const char *name, char *escaped, size_t size);
int store_unescape_name(const char *escaped, char *name, size_t size);

/* Reads section entries of one root into a growing array. */
int store_collect_sections(const char *root, ebpf_stored_section_t **sections, size_t *count,
                           size_t *capacity);
int store_section_from_json(const char *file, json_t *document, ebpf_stored_section_t *section);

#endif /* EBPF_STORE_PRIVATE_H */
