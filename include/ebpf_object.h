/* Objects: an ELF file's maps and programs made real in the core (what bpf_object__load does). */
#ifndef EBPF_OBJECT_H
#define EBPF_OBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "ebpf_core.h"
#include "ebpf_elf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ebpf_object {
    ebpf_map_t **maps; /* parallel to elf->maps; each holds a reference */
    size_t map_count;
    ebpf_program_t **programs; /* parallel to elf->programs; each holds a reference */
    size_t program_count;
    /* Unload empties the object's program arrays (so programs and the arrays holding them
     * cannot keep each other alive) unless the caller does it when the last user reference
     * goes, as the user API does (a pinned program array keeps its programs). */
    bool program_arrays_released_by_caller;
} ebpf_object_t;

/* How one program is created: with its program data given directly (wins when set), or bound
 * through the registrar to the extension of program_type; neither: general helpers only. */
typedef struct ebpf_object_program_binding {
    const ebpf_program_data_t *program_data;
    const ebpf_guid_t *program_type; /* must stay valid until the load returns */
} ebpf_object_program_binding_t;

/* Returns 0 and fills binding, or a negative errno with a message: the object then fails. */
typedef int (*ebpf_object_binding_resolver_t)(void *context, size_t program_index,
                                              const ebpf_elf_program_t *program,
                                              ebpf_object_program_binding_t *binding);
/* Called when creating program_index failed with error (its message set): returns the error
 * to report, after adding what the caller knows (ebpf_error_prefix). */
typedef int (*ebpf_object_program_error_t)(void *context, size_t program_index, int error);

typedef struct ebpf_object_load_options {
    ebpf_object_binding_resolver_t resolve;     /* NULL: general helpers only, for all */
    ebpf_object_program_error_t program_failed; /* optional */
    void *context;                              /* for both callbacks */
    /* Optional, parallel to elf->maps: a map to use instead of creating one (a pinned map
     * reused), which must match the object's definition (-EINVAL otherwise); NULL entries are
     * created. A reused map is not initialised again. */
    ebpf_map_t *const *existing_maps;
    /* Optional, parallel to elf->maps: max_entries to use instead of the object's (0: the
     * object's). */
    const uint32_t *max_entries;
    /* Test hook: load every program unverified, for tests of the bounds-checked interpreter
     * (see ebpf_program_load_parameters_t). */
    bool test_hook_run_unverified_in_checked_interpreter;
} ebpf_object_load_options_t;

/* Creates the object's maps (global data with its initial value, .rodata frozen and read-only
 * for programs, perf event arrays sized to the CPU count), then its programs against them,
 * then fills program-array and map-in-map slots the object initialises. All or nothing. */
int ebpf_object_load_elf_with_options(const ebpf_elf_object_t *elf,
                                      const ebpf_object_load_options_t *options,
                                      ebpf_object_t **object);

/* Finds the program data for a section. Returns 0 and *data (NULL for a program with general
 * helpers only), or a negative errno with a message: the object then fails to load. */
typedef int (*ebpf_program_data_resolver_t)(void *context, const char *section_name,
                                            const ebpf_program_data_t **data);

/* The same, each program given its program data by resolve. */
int ebpf_object_load_elf(const ebpf_elf_object_t *elf, ebpf_program_data_resolver_t resolve,
                         void *resolver_context, ebpf_object_t **object);
void ebpf_object_unload(ebpf_object_t *object);

/* The map a name refers to, following libbpf: the variable name, or for global data the
 * section name (".data", ".rodata", ".bss"). */
ebpf_map_t *ebpf_object_find_map(const ebpf_object_t *object, const ebpf_elf_object_t *elf,
                                 const char *name);
ebpf_program_t *ebpf_object_find_program(const ebpf_object_t *object, const ebpf_elf_object_t *elf,
                                         const char *function_name);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_OBJECT_H */
