/* bpf2c as a library: BPF programs (verified first) translated into the C of a native module, and
 * that C compiled into a shared object. */
#ifndef BPF2C_H
#define BPF2C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ebpf_elf.h"
#include "ebpf_native.h"
#include "ebpf_program_info.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One program to translate. */
typedef struct bpf2c_program {
    const char *name;         /* the C function; any text (identifiers are derived from it) */
    const char *section_name; /* NULL: "" */
    const struct bpf_insn *instructions;
    uint32_t instruction_count;
    /* instruction_count entries, or NULL: the source lines the comments show. */
    const ebpf_elf_line_info_t *line_info;
    /* What the program is verified against and its hash covers; NULL: general helpers only
     * (only without verification). */
    const ebpf_program_info_t *program_info;
    ebpf_guid_t attach_type;
    uint32_t bpf_attach_type;
    /* Prototypes of the helpers the program may call. NULL: ebpf_native_find_helper_prototype
     * over program_info (the type's helpers, then the core's general ones). */
    ebpf_native_helper_lookup_t find_helper;
    void *find_helper_context;
    /* Position of the program in its object: program-array slots name programs by it. */
    uint32_t object_index;
} bpf2c_program_t;

typedef struct bpf2c_module {
    const char *name;    /* recorded in the metadata and in messages */
    const char *license; /* NULL: "" */
    const bpf2c_program_t *programs;
    size_t program_count;
    /* The object's maps; pseudo ld_imm64 index them. */
    const ebpf_elf_map_t *maps;
    size_t map_count;
    /* false only to test the translator on programs no verifier accepts (the conformance
     * suite): the code then gets no proof, so it zeroes its stack as the checked interpreter
     * does and keeps a little room above the stack top. */
    bool verify;
    /* #line directives to the BPF source (debuggers then step through it). */
    bool line_directives;
} bpf2c_module_t;

/* Writes the module's C to out: verifies every program first (with module->verify) and refuses
 * to emit anything for a rejected one: -EACCES with the verifier's log in ebpf_last_error().
 * Other errors: -EINVAL (a program no engine can run: bad opcode, jump out of range, an ld_imm64
 * the core does not support), -ENOMEM, -EIO (writing). */
int bpf2c_translate(const bpf2c_module_t *module, FILE *out);

/* Same into a file (removed again on failure). */
int bpf2c_translate_to_file(const bpf2c_module_t *module, const char *path);

/* Compiles generated C into a shared object: $CC (else gcc from PATH) -O2 -shared -fPIC,
 * include_dir holding ebpf_native.h and the headers it includes. The compiler's output goes to
 * ebpf_last_error() on failure (-EIO). */
int bpf2c_compile(const char *source, const char *output, const char *include_dir);

/* The translation of a whole BPF object, as the bpf2c command does it: every program (or those
 * of one section), each verified against the program type its section resolves to in the eBPF
 * store (or type_name: a store type by name or GUID). */
typedef struct bpf2c_object_options {
    const char *section;   /* NULL: every program */
    const char *type_name; /* NULL: from each section */
    bool line_directives;
    const char *store_root; /* NULL: the default store (EBPF_STORE_DIR, ...) */
} bpf2c_object_options_t;

int bpf2c_translate_object(const char *object_path, const bpf2c_object_options_t *options,
                           const char *output_path);

#ifdef __cplusplus
}
#endif

#endif /* BPF2C_H */
