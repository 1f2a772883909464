/* The eBPF core: programs (relocated, prepared, invoked), the general helpers, and test-run. */
#ifndef EBPF_CORE_H
#define EBPF_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "ebpf_helper_prototype.h"
#include "ebpf_program_info.h"
#include "ebpf_verifier.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ebpf_map ebpf_map_t;
typedef struct ebpf_program ebpf_program_t;

/* ------------------------------------------------------------------------------------------
 * Programs.
 *
 * Instructions arrive as an object file has them after linking: ld_imm64 with src_reg
 * BPF_PSEUDO_MAP_FD (imm = index in `maps`) or BPF_PSEUDO_MAP_VALUE (imm = index, next imm =
 * offset in the value of an array map). The core keeps them as given (for the verifier and
 * for user space) and runs a copy in which each becomes the map's address or the value's.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_program_load_parameters {
    const char *name;         /* the C function name */
    const char *section_name; /* may be NULL */
    const struct bpf_insn *instructions;
    uint32_t instruction_count;
    ebpf_map_t *const *maps; /* the table pseudo ld_imm64 index; each gets a reference */
    uint32_t map_count;
    /* The program type's information, helpers and test-run context, given directly (tests,
     * embedders). Must outlive the program. */
    const ebpf_program_data_t *program_data;
    /* Otherwise: the program type, whose extension the program binds to through the
     * registrar (program-information NPI). -ENOENT, with a message, when no extension
     * provides it now. When the extension goes away the program stays loaded but is not
     * invoked (-ENOLINK); when it comes back the program binds again by itself. Both NULL: a
     * program with general helpers only and an opaque context. */
    const ebpf_guid_t *program_type;
    /* Source lines of the instructions (instruction_count entries) for the verifier's
     * messages; may be NULL. */
    const ebpf_verifier_line_info_t *line_info;
    /* Every program is verified against its program type before it can run; a rejection is
     * -EACCES with the verifier's log in ebpf_last_error(). This test hook skips the proof and
     * leaves the program to the bounds-checked interpreter alone: only for tests of that
     * interpreter. */
    bool test_hook_run_unverified_in_checked_interpreter;
} ebpf_program_load_parameters_t;

int ebpf_program_create(const ebpf_program_load_parameters_t *parameters, ebpf_program_t **program);
void ebpf_program_acquire(ebpf_program_t *program);
/* The last release frees the program after an epoch grace period. */
void ebpf_program_release(ebpf_program_t *program);

uint32_t ebpf_program_get_id(const ebpf_program_t *program); /* process-wide, from 1 */
const char *ebpf_program_get_name(const ebpf_program_t *program);
const char *ebpf_program_get_section_name(const ebpf_program_t *program); /* "" when none */
const struct bpf_insn *ebpf_program_get_instructions(const ebpf_program_t *program,
                                                     uint32_t *count);
const ebpf_program_data_t *ebpf_program_get_program_data(const ebpf_program_t *program);
/* The program type GUID, or all zeros without program data. */
const ebpf_guid_t *ebpf_program_get_type(const ebpf_program_t *program);

/* Runs the program on context (and the programs it tail-calls) to completion: inside an epoch
 * read section and an exclusive CPU claim, as the event path needs. result gets r0. Returns 0,
 * or a negative errno when the run stopped on an error (a bounds violation of the checked
 * interpreter: -EFAULT; see ebpf_exec.h), with the reason in ebpf_last_error(). Safe from
 * many threads at once; never allocates. */
int ebpf_program_invoke(ebpf_program_t *program, void *context, uint64_t *result);

/* Instructions one invocation may execute in the bounds-checked interpreter, 0 = unlimited
 * (the default). Unverified programs may loop; tests and the conformance plugin set it. */
void ebpf_program_set_instruction_budget(ebpf_program_t *program, uint64_t budget);

/* What the verifier found when the program was loaded (zeros for an unverified one). */
typedef struct ebpf_program_verification {
    bool verified;
    bool writes_packet; /* some path stores into packet data (the event) */
    uint32_t max_stack_depth;
    uint64_t processed_instructions;
    uint64_t elapsed_ns;
} ebpf_program_verification_t;
const ebpf_program_verification_t *ebpf_program_get_verification(const ebpf_program_t *program);

/* True while the program's extension is bound (always for programs given program data). */
bool ebpf_program_is_bound(const ebpf_program_t *program);

/* ------------------------------------------------------------------------------------------
 * Links: a program attached to a hook. A link is a client of the hook NPI; the extension's
 * hook provider runs the program for each event. Links stay registered when the extension
 * goes away and bind again by themselves when it comes back.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_link ebpf_link_t;

/* attach_type NULL: the hook of the program's type. attach_parameters are copied. -ENOENT
 * when no extension provides the hook now; the hook provider's error otherwise (-EINVAL for
 * bad attach parameters, with its message). */
int ebpf_link_create(ebpf_program_t *program, const ebpf_guid_t *attach_type,
                     const void *attach_parameters, size_t attach_parameters_size,
                     ebpf_link_t **link);
/* Detaches from the hook (waits until the program runs no more for it). Idempotent. */
int ebpf_link_detach(ebpf_link_t *link);
/* Detaches if needed and frees the link. */
void ebpf_link_release(ebpf_link_t *link);
uint32_t ebpf_link_get_id(const ebpf_link_t *link);
ebpf_program_t *ebpf_link_get_program(const ebpf_link_t *link);
const ebpf_guid_t *ebpf_link_get_attach_type(const ebpf_link_t *link);
/* True while bound to a hook provider. */
bool ebpf_link_is_attached(const ebpf_link_t *link);

/* ------------------------------------------------------------------------------------------
 * Test run: bpf_prog_test_run_opts semantics.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_test_run_options {
    const void *data_in;
    void *data_out; /* may be NULL */
    uint32_t data_size_in;
    uint32_t data_size_out; /* in: capacity of data_out; out: bytes the program produced */
    const void *ctx_in;     /* may be NULL */
    void *ctx_out;          /* may be NULL */
    uint32_t ctx_size_in;
    uint32_t ctx_size_out; /* in: capacity of ctx_out; out: size of the context */
    uint32_t retval;       /* out: r0 of the last run (low 32 bits, as Linux) */
    uint32_t repeat;       /* 0 means 1 */
    uint32_t duration;     /* out: average ns per run */
    uint32_t flags;        /* must be 0 */
} ebpf_test_run_options_t;

/* Builds the context with the program type's context_create (from data_in and ctx_in), runs
 * the program `repeat` times, and gives data and context back through context_destroy. -ENOTSUP
 * when the program type has no test-run support; -ENOSPC when data_out or ctx_out is too small
 * (what fits is copied and the sizes say what was needed, as Linux). */
int ebpf_program_test_run(ebpf_program_t *program, ebpf_test_run_options_t *options);

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ------------------------------------------------------------------------------------------ */

/* The general helpers the core provides to every program type: Linux ids and semantics, plus
 * the eBPF for Windows memory helpers at EBPF_GENERAL_EXTRA_HELPER_BASE. */
const ebpf_helper_prototype_t *ebpf_core_general_helpers(size_t *count);
/* The prototype and function of general helper id, or NULL. */
const ebpf_helper_prototype_t *ebpf_core_find_general_helper(uint32_t id,
                                                             ebpf_helper_function_t *function);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_CORE_H */
