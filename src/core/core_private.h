/* Internals of the core shared by its files: the program object and the per-thread run. */
#ifndef EBPF_CORE_PRIVATE_H
#define EBPF_CORE_PRIVATE_H

#include "ebpf_core.h"
#include "ebpf_exec.h"
#include "ebpf_map.h"
#include "ebpf_extension.h"
#include "ebpf_platform.h"
#include "nmr.h"

/* Type-specific helpers one program may call (each gets a trampoline slot). */
#define CORE_MAX_TYPE_HELPERS 32

/* What a program is bound to: its type's program data and the functions behind its helper
 * slots. Published under epochs; replaced when the extension goes and comes back. */
typedef struct program_binding {
    const ebpf_program_data_t *data;
    ebpf_helper_function_t functions[CORE_MAX_TYPE_HELPERS];
    ebpf_epoch_work_t free_work;
} program_binding_t;

struct ebpf_program {
    /* Holders: creators, prog_array slots, links. The last release defers the free. */
    _Atomic uint32_t references;
    uint32_t id;
    char *name;
    char *section_name;
    struct bpf_insn *instructions; /* as loaded, pseudo ld_imm64 intact */
    uint32_t instruction_count;
    ebpf_map_t **maps; /* each holds a reference */
    uint32_t map_count;
    /* NULL while the program's extension is absent; read under an epoch section. */
    program_binding_t *_Atomic binding;
    /* Type-specific helpers the program calls, by trampoline slot; fixed at load. The
     * prototypes are copies: the extension that gave them may be unloaded. */
    uint32_t type_helper_count;
    uint32_t type_helper_ids[CORE_MAX_TYPE_HELPERS];
    ebpf_helper_prototype_t type_helper_prototypes[CORE_MAX_TYPE_HELPERS];
    /* Registrar client of the program-information NPI (NULL for programs given their data
     * directly). The characteristics live here as long as the registration. */
    nmr_client_t *information_client;
    nmr_client_characteristics_t information_characteristics;
    nmr_module_id_t client_module_id;
    /* The client binding contexts of the two bindings: which one a detach is about. */
    struct program_binding_tag {
        bool general; /* the core's general helpers, else the program type */
    } general_tag, type_tag;
    /* Serialises the binding callbacks of this program. */
    pthread_mutex_t binding_lock;
    bool bound_to_general_helpers; /* under binding_lock */
    bool has_program_type;
    ebpf_guid_t program_type;
    /* Where the packet pointers sit in the context (copied from the program data). */
    ebpf_context_descriptor_t context_descriptor;
    ebpf_interpreter_program_t *interpreter;
    _Atomic uint64_t instruction_budget; /* 0 = unlimited */
    ebpf_program_verification_t verification;
    ebpf_epoch_work_t free_work;
    /* Native code run instead of the interpreter: published under epochs by its module's
     * attach, unpublished by its detach (then the interpreter runs again). */
    struct core_native_program *_Atomic native;
};

/* Maps a checked run may touch that the program does not name itself (inner maps of
 * map-in-map), noted by the map helpers as the program passes them in. */
#define CORE_RUN_EXTRA_MAPS 64

/* The invocation running on this thread (nested invocations save and restore it). */
typedef struct core_run {
    const ebpf_program_t *program;
    void *context;
    /* The interpreter runs the current program, so helpers check what it passes them. Native
     * code was verified and translated from the verified program: its helper arguments are
     * what the verifier proved, and the checks are skipped. */
    bool checked;
    ebpf_map_t *extra_maps[CORE_RUN_EXTRA_MAPS];
    uint32_t extra_map_count;
} core_run_t;

/* The current run, or NULL outside an invocation (only this thread reads or writes it). */
extern EBPF_HOT_THREAD_LOCAL core_run_t *core_current_run;
static inline core_run_t *core_run_current(void)
{
    return core_current_run;
}
/* true when helpers must check their arguments: a checked (interpreted) run, or no run. */
static inline bool core_run_checks_arguments(void)
{
    const core_run_t *run = core_current_run;
    return run == NULL || run->checked;
}
/* True when run (NULL: no checked run) may pass map to helpers: the program names it, or a
 * map-in-map lookup gave it in this run. */
bool core_run_knows_map(const core_run_t *run, const ebpf_map_t *map);
/* Notes a map a helper was given, so the checked interpreter accepts its values. false when
 * the run already touched CORE_RUN_EXTRA_MAPS other maps (the helper then refuses). */
bool core_run_note_map(ebpf_map_t *map);

/* ebpf_program_invoke for a caller already inside an epoch read section with a CPU claim (a
 * hook's batch of invocations). program and result are not checked: the callers are the
 * core's own. */
int core_program_invoke_claimed(ebpf_program_t *program, void *context, uint64_t *result);

/* Resolver for ebpf_interpreter_program_create: general helpers, overridden or extended by
 * the program type's. context is the ebpf_program_t. */
const ebpf_helper_prototype_t *core_resolve_helper(void *context, uint32_t id,
                                                   ebpf_helper_function_t *function);

/* Builds the binding of a program to program data: the functions behind its helper slots.
 * -EINVAL (with a message) when the data lacks a helper the program uses or declares it
 * differently. */
int core_binding_create(const ebpf_program_t *program, const ebpf_program_data_t *data,
                        program_binding_t **binding);
/* The binding as seen from the current run (NULL outside a run or when unbound). */
program_binding_t *core_run_binding(void);
/* Registers the program with the registrar as a client of the program-information NPI and
 * waits for the binding to its type. -ENOENT when no extension provides the type. */
int core_program_bind(ebpf_program_t *program);
/* Proves the program safe for the program data it is bound to now (or, without a type, for an
 * opaque context and the general helpers). -EACCES with the log when rejected. */
int core_program_verify(ebpf_program_t *program, const ebpf_verifier_line_info_t *line_info);
/* Deregisters the client and waits; the program is unbound afterwards. */
void core_program_unbind(ebpf_program_t *program);

#endif /* EBPF_CORE_PRIVATE_H */
