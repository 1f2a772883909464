/* The verifier: a static proof, before a program may run, that it is safe for its program type. */
#ifndef EBPF_VERIFIER_H
#define EBPF_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "ebpf_helper_prototype.h"
#include "ebpf_program_info.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the verifier knows of a map the program references (no map object is needed). */
typedef struct ebpf_verifier_map {
    uint32_t type; /* enum bpf_map_type */
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
    uint32_t map_flags; /* BPF_F_RDONLY_PROG makes values read-only for the program */
    /* Map-in-map: what a lookup in this map returns. NULL otherwise. */
    const struct ebpf_verifier_map *inner_map;
    const char *name; /* for messages; may be NULL */
} ebpf_verifier_map_t;

/* Source position of an instruction, for messages (from .BTF.ext line info). */
typedef struct ebpf_verifier_line_info {
    const char *file_name; /* NULL when unknown */
    const char *line_text;
    uint32_t line;
    uint32_t column;
} ebpf_verifier_line_info_t;

/* Finds a helper by id for the program type: general helpers and the type's own. NULL when the
 * type does not offer it. */
typedef const ebpf_helper_prototype_t *(*ebpf_verifier_helper_lookup_t)(void *context, uint32_t id);

#define EBPF_VERIFIER_DEFAULT_INSTRUCTION_BUDGET 1000000u

/* What a context field holds: a plain value, or the packet pointers a load turns into. */
typedef enum ebpf_verifier_context_field_kind {
    EBPF_CONTEXT_FIELD_SCALAR = 0,
    EBPF_CONTEXT_FIELD_DATA,     /* loads as a pointer to the first packet byte */
    EBPF_CONTEXT_FIELD_DATA_END, /* loads as the packet end pointer */
    EBPF_CONTEXT_FIELD_DATA_META /* loads as a pointer to the packet metadata */
} ebpf_verifier_context_field_kind_t;

#define EBPF_CONTEXT_FIELD_READ        1u /* loads of the whole field */
#define EBPF_CONTEXT_FIELD_WRITE       2u /* stores of the whole field */
#define EBPF_CONTEXT_FIELD_NARROW_READ 4u /* loads of a naturally aligned part of the field */

/* One field (or array of fields) of a context with an exact layout. */
typedef struct ebpf_verifier_context_field {
    const char *name;
    uint32_t offset;
    uint32_t size;  /* bytes of one element */
    uint32_t count; /* elements of an array; 0 or 1 for a single field */
    uint32_t access;
    ebpf_verifier_context_field_kind_t kind;
} ebpf_verifier_context_field_t;

typedef struct ebpf_verifier_options {
    /* Instructions the analysis may process over all paths (0: the default, 1,000,000). */
    uint64_t instruction_budget;
    /* Print the abstract state along the failing path into the log. */
    bool verbose;
    /* instruction_count entries, or NULL. */
    const ebpf_verifier_line_info_t *line_info;
    ebpf_verifier_helper_lookup_t find_helper;
    void *find_helper_context;
    /* Optional exact layout of the context (the Linux UAPI contexts have one): every access must
     * fall in a field that allows it. NULL: any access inside the context descriptor's size is
     * allowed, except that its data/end/meta fields are 8-byte pointers the program may only
     * read whole. */
    const struct ebpf_verifier_context_field *context_fields;
    uint32_t context_field_count;
} ebpf_verifier_options_t;

typedef struct ebpf_verifier_result {
    bool accepted;
    /* Rejected: the instruction the reason is about. */
    uint32_t error_instruction;
    /* The log: for a rejection, "instruction N: <assembly> (file:line: source)\n<reason>",
     * plus the state along the path in verbose mode. NUL-terminated; free with
     * ebpf_verifier_result_free. NULL when the program is accepted. */
    char *log;
    uint64_t processed_instructions;
    uint32_t max_stack_depth; /* bytes, over all frames */
    bool writes_packet;       /* some path stores into packet data */
    uint64_t elapsed_ns;
} ebpf_verifier_result_t;

/* Verifies instructions as an object file has them after linking (ld_imm64 BPF_PSEUDO_MAP_FD
 * with imm = index in maps, BPF_PSEUDO_MAP_VALUE with imm = index and next imm = offset).
 * Returns 0 when accepted, -EACCES when rejected (the reason in result->log and in
 * ebpf_last_error()), or another negative errno for bad arguments (-EINVAL) or memory
 * (-ENOMEM). result is filled in both of the first two cases. */
int ebpf_verify_program(const struct bpf_insn *instructions, uint32_t instruction_count,
                        const ebpf_program_info_t *program_info, const ebpf_verifier_map_t *maps,
                        uint32_t map_count, const ebpf_verifier_options_t *options,
                        ebpf_verifier_result_t *result);
void ebpf_verifier_result_free(ebpf_verifier_result_t *result);

/* One instruction in the assembly syntax of the kernel's verifier log ("r1 = *(u32 *)(r2 +
 * 4)"). Returns the number of characters written (as snprintf). */
int ebpf_disassemble(const struct bpf_insn *instructions, uint32_t count, uint32_t index,
                     char *text, size_t size);

/* ------------------------------------------------------------------------------------------
 * The common Linux program types, so objects built for Linux can be verified offline
 * (ebpfverify): their context layouts and the Linux helpers each may call.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_verifier_linux_program_type {
    const char *name;       /* "xdp", "sched_cls", ... */
    uint32_t bpf_prog_type; /* enum bpf_prog_type */
    const ebpf_program_info_t *program_info;
    const ebpf_verifier_context_field_t *context_fields;
    uint32_t context_field_count;
} ebpf_verifier_linux_program_type_t;

const ebpf_verifier_linux_program_type_t *ebpf_verifier_linux_program_types(size_t *count);
/* NULL when name is not one of them. */
const ebpf_verifier_linux_program_type_t *
ebpf_verifier_linux_program_type_by_name(const char *name);
/* The type libbpf infers from a SEC() name ("xdp", "kprobe/do_exit", "tc", ...), or NULL. */
const ebpf_verifier_linux_program_type_t *
ebpf_verifier_linux_program_type_from_section(const char *section_name);
/* An ebpf_verifier_helper_lookup_t for a Linux program type (context: the
 * ebpf_verifier_linux_program_type_t): the helpers Linux offers that type. */
const ebpf_helper_prototype_t *ebpf_verifier_linux_find_helper(void *linux_program_type,
                                                               uint32_t id);

/* Fills options with what verifying against a Linux program type needs (helpers, context
 * layout), leaving the other fields as they are. */
void ebpf_verifier_linux_options(const ebpf_verifier_linux_program_type_t *type,
                                 ebpf_verifier_options_t *options);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_VERIFIER_H */
