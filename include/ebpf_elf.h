/* ELF loader: reads a BPF object (clang -target bpf, libbpf style) into programs, maps and BTF. */
#ifndef EBPF_ELF_H
#define EBPF_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits a hostile object cannot talk us past. */
/* Instructions of one linked program (the kernel's BPF_COMPLEXITY_LIMIT_INSNS). */
#define EBPF_ELF_MAX_PROGRAM_INSTRUCTIONS 1000000u
/* Largest object ebpf_elf_open_file reads. */
#define EBPF_ELF_MAX_OBJECT_SIZE (256u * 1024u * 1024u)

/* How an ld_imm64 of a linked program refers to a map. The instruction itself says the same:
 * the loader leaves every ld_imm64 in place and rewrites it to
 *   MAP_FD:    insn[0].src_reg = BPF_PSEUDO_MAP_FD (1),    insn[0].imm = map index,
 *              insn[1].imm = 0
 *   MAP_VALUE: insn[0].src_reg = BPF_PSEUDO_MAP_VALUE (2), insn[0].imm = map index,
 *              insn[1].imm = offset inside the map's value
 * where "map index" is the position in ebpf_elf_object_t.maps. The core replaces the index by
 * its own handle; the verifier reads the same fields. An ld_imm64 with a nonzero src_reg that
 * has no ELF relocation is rejected, so every pseudo ld_imm64 of the output is one of these. */
typedef enum ebpf_elf_relocation_kind {
    EBPF_ELF_RELOCATION_MAP_FD = 1,
    EBPF_ELF_RELOCATION_MAP_VALUE = 2,
} ebpf_elf_relocation_kind_t;

typedef struct ebpf_elf_relocation {
    uint32_t instruction_index; /* first slot of the ld_imm64, in the linked program */
    ebpf_elf_relocation_kind_t kind;
    uint32_t map_index;
    uint32_t value_offset; /* MAP_VALUE only; 0 for MAP_FD */
} ebpf_elf_relocation_t;

/* Source position of one instruction, from .BTF.ext line info. The strings point into the
 * object's BTF and live as long as the object. An instruction without information has
 * file_name == NULL and line == 0. */
typedef struct ebpf_elf_line_info {
    const char *file_name;
    const char *line_text; /* the source line itself, as clang recorded it */
    uint32_t line;
    uint32_t column;
} ebpf_elf_line_info_t;

/* A function copied into a linked program: [start, start + count) of its instructions. */
typedef struct ebpf_elf_linked_function {
    char *name;
    uint32_t start;
    uint32_t count;
} ebpf_elf_linked_function_t;

/* One program: the function of a code section other than .text, with every subprogram it
 * calls (transitively) appended after it and each bpf-to-bpf call (BPF_PSEUDO_CALL) and
 * function address (ld_imm64 BPF_PSEUDO_FUNC) pointing at the copy, as relative offsets. */
typedef struct ebpf_elf_program {
    char *section_name;  /* as written in SEC(); not resolved to a program type here */
    char *function_name; /* the C function */
    struct bpf_insn *instructions;
    size_t instruction_count;
    ebpf_elf_relocation_t *relocations; /* by increasing instruction_index */
    size_t relocation_count;
    ebpf_elf_line_info_t *line_info;       /* instruction_count entries, or NULL without .BTF.ext */
    ebpf_elf_linked_function_t *functions; /* [0] is the program's own function */
    size_t function_count;
} ebpf_elf_program_t;

/* Where a map definition came from. */
typedef enum ebpf_elf_map_origin {
    EBPF_ELF_MAP_BTF = 1,         /* SEC(".maps") with __uint / __type / __array */
    EBPF_ELF_MAP_LEGACY = 2,      /* struct bpf_map_def SEC("maps") */
    EBPF_ELF_MAP_GLOBAL_DATA = 3, /* .data, .rodata, .bss, .data.*, .rodata.*, .bss.* */
} ebpf_elf_map_origin_t;

/* A slot of a map-in-map or program array filled in the object (`.values = {[1] = &x}`):
 * target_index is an index in maps[] for ARRAY_OF_MAPS / HASH_OF_MAPS and an index in
 * programs[] for PROG_ARRAY. */
typedef struct ebpf_elf_map_initial_value {
    uint32_t key;
    uint32_t target_index;
} ebpf_elf_map_initial_value_t;

typedef struct ebpf_elf_map {
    char *name;         /* the variable's name; the section name for global data */
    char *section_name; /* ".maps", "maps", ".data", ".rodata.str1.1", ... */
    ebpf_elf_map_origin_t origin;
    uint32_t type; /* enum bpf_map_type (Linux values) */
    uint32_t key_size;
    uint32_t value_size;
    /* 0 when the object does not say (a perf event array without max_entries: the core picks
     * the CPU count). */
    uint32_t max_entries;
    uint32_t map_flags;
    uint32_t pinning; /* LIBBPF_PIN_NONE (0) or LIBBPF_PIN_BY_NAME (1) */
    /* BTF ids of the key and value types (0 when unknown). For global data the value type is
     * the section's DATASEC. */
    uint32_t key_btf_type_id;
    uint32_t value_btf_type_id;
    /* Map-in-map: the definition every inner map must match, owned by this map (BTF
     * __array(values, ...)); not an entry of maps[]. NULL otherwise. */
    struct ebpf_elf_map *inner_map;
    /* Map-in-map of the eBPF for Windows legacy layout: index in maps[] of the inner map
     * template; -1 when none. */
    int32_t inner_map_index;
    ebpf_elf_map_initial_value_t *initial_values;
    size_t initial_value_count;
    /* Global data: the single value (key 0), initial_data_size == value_size bytes. NULL with
     * a nonzero value_size means all zeros (.bss). */
    uint8_t *initial_data;
    size_t initial_data_size;
    /* Global data the program may not write (.rodata*); the core creates the map with
     * BPF_F_RDONLY_PROG semantics. map_flags stays as the object said. */
    bool read_only;
} ebpf_elf_map_t;

typedef struct ebpf_elf_object {
    char *name;                   /* the path, or the name given to ebpf_elf_open_memory */
    ebpf_elf_program_t *programs; /* in section order, then by offset in the section */
    size_t program_count;
    ebpf_elf_map_t *maps; /* legacy maps, then BTF maps, then global data, each by offset */
    size_t map_count;
    char *license; /* "" when the object has no license section */
    uint32_t kernel_version;
    bool has_kernel_version;
    uint8_t *btf; /* raw .BTF (validated), or NULL */
    size_t btf_size;
    uint8_t *btf_ext; /* raw .BTF.ext, or NULL */
    size_t btf_ext_size;
} ebpf_elf_object_t;

/* Reads the object at path. Returns 0 and *object, or a negative errno (-ENOENT, -EACCES,
 * -ENOEXEC for something that is not a little-endian 64-bit BPF relocatable object, -EINVAL
 * for a malformed one, -ENOTSUP for valid features this loader does not handle, -ENOMEM)
 * with ebpf_last_error() naming what is wrong; nothing is left allocated on failure. */
int ebpf_elf_open_file(const char *path, ebpf_elf_object_t **object);
/* Same from size bytes at data, which are copied (the caller keeps its buffer). name appears
 * in messages and in object->name; NULL means "<memory>". */
int ebpf_elf_open_memory(const void *data, size_t size, const char *name,
                         ebpf_elf_object_t **object);
void ebpf_elf_free(ebpf_elf_object_t *object);

/* The first program whose section name is section_name, or NULL. */
const ebpf_elf_program_t *ebpf_elf_find_program_by_section(const ebpf_elf_object_t *object,
                                                           const char *section_name);
/* The program whose function is function_name, or NULL. */
const ebpf_elf_program_t *ebpf_elf_find_program_by_function(const ebpf_elf_object_t *object,
                                                            const char *function_name);
/* The map named name, or NULL; its index is the pointer minus object->maps. */
const ebpf_elf_map_t *ebpf_elf_find_map(const ebpf_elf_object_t *object, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_ELF_H */
