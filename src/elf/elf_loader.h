/* Private state of one ELF load, shared by the section, BTF, map and program readers. */
#ifndef EBPF_ELF_LOADER_H
#define EBPF_ELF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gelf.h>
#include <libelf.h>

#include "ebpf_elf.h"

/* What a section is to the loader. */
typedef enum elf_section_kind {
    ELF_SECTION_OTHER = 0,   /* debug info, addrsig, ...: ignored */
    ELF_SECTION_PROGRAM,     /* executable, not .text: its functions are programs */
    ELF_SECTION_TEXT,        /* .text: subprograms only */
    ELF_SECTION_MAPS_BTF,    /* .maps */
    ELF_SECTION_MAPS_LEGACY, /* maps */
    ELF_SECTION_GLOBAL_DATA, /* .data*, .rodata*, .bss* */
    ELF_SECTION_LICENSE,
    ELF_SECTION_VERSION,
    ELF_SECTION_BTF,
    ELF_SECTION_BTF_EXT,
    ELF_SECTION_SYMBOLS,
    ELF_SECTION_RELOCATIONS,
} elf_section_kind_t;

/* What a relocation of a code section does, decided once when the relocations are read. */
typedef enum elf_code_relocation_kind {
    ELF_CODE_RELOCATION_MAP_FD = 1,
    ELF_CODE_RELOCATION_MAP_VALUE,
    ELF_CODE_RELOCATION_CALL,             /* call imm -> function */
    ELF_CODE_RELOCATION_FUNCTION_ADDRESS, /* ld_imm64 -> function (callbacks) */
} elf_code_relocation_kind_t;

typedef struct elf_code_relocation {
    uint64_t offset; /* byte offset of the instruction in its section */
    uint32_t number; /* index in the relocation section, for messages */
    elf_code_relocation_kind_t kind;
    uint32_t map_index;
    uint32_t value_offset;
    uint32_t target_section;
    uint64_t target_offset; /* byte offset of the called / addressed instruction */
} elf_code_relocation_t;

/* Line info of one code section from .BTF.ext, by increasing offset. */
typedef struct elf_line_record {
    uint64_t offset;
    ebpf_elf_line_info_t info;
} elf_line_record_t;

typedef struct elf_section {
    const char *name; /* owned by libelf; valid until elf_end */
    GElf_Shdr header;
    const uint8_t *data; /* inside the image; NULL for SHT_NOBITS */
    uint64_t size;
    elf_section_kind_t kind;
    uint32_t map_index;                 /* global data: its map */
    bool has_functions;                 /* code sections: a function symbol lies in it */
    elf_code_relocation_t *relocations; /* code sections: sorted by offset */
    size_t relocation_count;
    const char *relocation_section_name;
    elf_line_record_t *lines; /* code sections with line info */
    size_t line_count;
} elf_section_t;

typedef struct elf_symbol {
    const char *name; /* owned by libelf */
    uint64_t value;
    uint64_t size;
    uint32_t section; /* st_shndx; SHN_UNDEF, SHN_ABS, ... kept as is */
    unsigned char type;
    unsigned char bind;
} elf_symbol_t;

/* A function of a code section: a program or a subprogram. */
typedef struct elf_function {
    const char *name;
    uint32_t section;
    uint64_t offset;       /* bytes */
    uint64_t size;         /* bytes */
    int64_t program_index; /* in object->programs, or -1 for a subprogram */
} elf_function_t;

/* Where the definition of a map lies in the object, parallel to object->maps. */
typedef struct elf_map_location {
    uint32_t section;
    uint64_t offset;
    uint64_t size;
    int64_t values_offset; /* BTF maps with __array(values, ...): offset of the slots, else -1 */
} elf_map_location_t;

/* Parsed, validated BTF over the object's own copy of .BTF. */
typedef struct elf_btf {
    const uint8_t *types;
    uint32_t types_size;
    const char *strings;
    uint32_t strings_size;
    uint32_t type_count;   /* including the implicit void type 0 */
    uint32_t *type_offset; /* type id -> byte offset in types (0 for void) */
    uint32_t *datasec_ids; /* the DATASEC types, which name lookups search */
    uint32_t datasec_count;
} elf_btf_t;

/* The decoded fixed part of a BTF type. */
typedef struct elf_btf_type {
    uint32_t id;
    uint32_t name_offset;
    uint32_t kind;
    uint32_t vlen;
    bool kind_flag;
    uint32_t size_or_type;
    const uint8_t *extra; /* kind-specific data after the fixed part */
} elf_btf_type_t;

typedef struct elf_loader {
    const char *object_name;
    const uint8_t *image;
    size_t image_size;
    Elf *elf;
    elf_section_t *sections;
    size_t section_count;
    size_t symbols_section;
    elf_symbol_t *symbols;
    size_t symbol_count;
    elf_function_t *functions; /* by section, then offset */
    size_t function_count;
    elf_map_location_t *map_locations; /* object->map_count entries */
    size_t *maps_by_location;          /* map indexes by (section, offset), for lookups */
    bool has_btf;
    elf_btf_t btf;
    ebpf_elf_object_t *object;
} elf_loader_t;

/* Records "<object>: <message>" as the thread's error and returns err. */
int elf_fail(const elf_loader_t *loader, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Rewrites the thread's last loader message as "<object>: <context>: <that message>". */
int elf_fail_in_context(const elf_loader_t *loader, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int elf_out_of_memory(const elf_loader_t *loader, const char *what);

/* Checks the shape of a SHT_REL section (entry size, symbol table link) and gives its number
 * of entries. */
int elf_relocation_section_check(const elf_loader_t *loader, const elf_section_t *relocations,
                                 size_t *count);
/* Entry i of a checked SHT_REL section. */
void elf_relocation_read(const elf_section_t *relocations, size_t i, uint64_t *offset,
                         uint32_t *symbol, uint32_t *type);

/* Little-endian readers that do not care about alignment. */
uint16_t elf_read_u16(const uint8_t *p);
uint32_t elf_read_u32(const uint8_t *p);

/* The symbol's name for messages ("<unnamed>" when empty). */
const char *elf_symbol_display_name(const elf_symbol_t *symbol);

/* elf_btf.c */
int elf_btf_parse(elf_loader_t *loader, const uint8_t *data, size_t size);
void elf_btf_release(elf_btf_t *btf);
int elf_btf_get(const elf_loader_t *loader, uint32_t id, elf_btf_type_t *type);
/* The NUL-terminated string at offset, or NULL when offset is out of range. */
const char *elf_btf_string(const elf_btf_t *btf, uint32_t offset);
/* Follows typedef / const / volatile / restrict / type tags to the type underneath. */
int elf_btf_skip_modifiers(const elf_loader_t *loader, uint32_t id, elf_btf_type_t *type);
int elf_btf_type_size(const elf_loader_t *loader, uint32_t id, uint64_t *size);
/* Id of the DATASEC called name, or 0. */
uint32_t elf_btf_find_datasec(const elf_loader_t *loader, const char *name);
/* Id of the type of the variable called name in the DATASEC datasec_id, or 0. */
uint32_t elf_btf_find_datasec_variable(const elf_loader_t *loader, uint32_t datasec_id,
                                       const char *name);
int elf_btf_ext_read_lines(elf_loader_t *loader, const uint8_t *data, size_t size);

/* elf_maps.c */
int elf_maps_read(elf_loader_t *loader);
/* Second pass once programs exist: slots filled in the object (.rel.maps). */
int elf_maps_read_initial_values(elf_loader_t *loader);
void elf_map_release(ebpf_elf_map_t *map);
/* Index in object->maps of the map defined at offset of section, or -1. */
int64_t elf_map_at(const elf_loader_t *loader, uint32_t section, uint64_t offset);

/* elf_programs.c */
int elf_functions_read(elf_loader_t *loader);
int elf_code_relocations_read(elf_loader_t *loader);
int elf_programs_link(elf_loader_t *loader);
void elf_program_release(ebpf_elf_program_t *program);
/* The function of section containing byte offset, or NULL. */
const elf_function_t *elf_function_at(const elf_loader_t *loader, uint32_t section,
                                      uint64_t offset);

#endif /* EBPF_ELF_LOADER_H */
