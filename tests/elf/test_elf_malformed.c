/* ELF loader tests on hostile objects: corrupt variants of valid objects must fail precisely. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/btf.h>

#include "ebpf_elf.h"
#include "ebpf_platform.h"
#include "elf_test_support.h"

#define BAD_NAME "bad.o"

/* The load fails with expected_err (0: any negative errno), leaves nothing allocated, and says
 * "bad.o: ...<fragment>...". */
static void expect_failure(const uint8_t *image, size_t size, int expected_err,
                           const char *fragment)
{
    ebpf_elf_object_t *object = (ebpf_elf_object_t *)&object;
    int64_t baseline = ebpf_allocation_outstanding();
    int err = ebpf_elf_open_memory(image, size, BAD_NAME, &object);
    const char *message = ebpf_last_error();

    if (err == 0) {
        ebpf_elf_free(object);
        fail_msg("expected a failure mentioning \"%s\", but the object loaded", fragment);
    }
    if ((expected_err && err != expected_err) || err >= 0)
        fail_msg("expected %d, got %d: %s", expected_err, err, message);
    assert_null(object);
    assert_int_equal(strncmp(message, BAD_NAME ": ", strlen(BAD_NAME ": ")), 0);
    assert_true(strlen(message) > strlen(BAD_NAME ": "));
    if (fragment && !strstr(message, fragment))
        fail_msg("message \"%s\" does not mention \"%s\"", message, fragment);
    assert_int_equal(ebpf_allocation_outstanding(), baseline);
}

static void expect_success(const uint8_t *image, size_t size)
{
    ebpf_elf_object_t *object = NULL;
    int err = ebpf_elf_open_memory(image, size, BAD_NAME, &object);
    if (err)
        fail_msg("valid object failed: %s", ebpf_last_error());
    ebpf_elf_free(object);
}

static test_section_t section_named(const uint8_t *image, size_t size, const char *name)
{
    test_section_t section;
    if (!test_section_find(image, size, name, &section))
        fail_msg("no section %s", name);
    return section;
}

static Elf64_Rel relocation_get(const uint8_t *image, const test_section_t *section, size_t i)
{
    Elf64_Rel relocation;
    assert_true((i + 1) * sizeof(relocation) <= section->header.sh_size);
    memcpy(&relocation, image + section->header.sh_offset + i * sizeof(relocation),
           sizeof(relocation));
    return relocation;
}

static void relocation_set(uint8_t *image, const test_section_t *section, size_t i,
                           Elf64_Rel relocation)
{
    memcpy(image + section->header.sh_offset + i * sizeof(relocation), &relocation,
           sizeof(relocation));
}

static Elf64_Sym symbol_named(const uint8_t *image, size_t size, const char *name,
                              size_t *entry_offset)
{
    Elf64_Sym symbol;
    if (test_symbol_find(image, size, name, &symbol, entry_offset) < 0)
        fail_msg("no symbol %s", name);
    return symbol;
}

static size_t symbol_count(const uint8_t *image, size_t size)
{
    return section_named(image, size, ".symtab").header.sh_size / sizeof(Elf64_Sym);
}

/* ---------------------------------------------------------------------------------------- */

static void check_truncations(const char *name)
{
    size_t size;
    uint8_t *image = test_object_read(name, &size);

    /* Each prefix in a buffer of exactly that size, so ASan sees any read past it. */
    for (size_t length = 0; length < size; length++) {
        uint8_t *prefix = malloc(length ? length : 1);
        assert_non_null(prefix);
        memcpy(prefix, image, length);
        expect_failure(prefix, length, 0, NULL);
        free(prefix);
    }
    expect_success(image, size);
    free(image);
}

static void test_truncated_everywhere(void **state)
{
    check_truncations("subprograms");
    check_truncations("map_initial_values");
}

/* Every section shortened, emptied or moved: the loader never reads what the header no longer
 * gives it. A shortened section may still load (debug info), so only cleanliness is asserted,
 * and at least the sections the loader reads must fail. */
static void test_sections_resized(void **state)
{
    size_t size;
    uint8_t *image = test_object_read("map_initial_values", &size);
    uint8_t *bad = malloc(size);
    Elf64_Ehdr header;
    size_t failures = 0;

    assert_non_null(bad);
    memcpy(&header, image, sizeof(header));
    for (size_t i = 1; i < header.e_shnum; i++) {
        size_t at = header.e_shoff + i * sizeof(Elf64_Shdr);
        Elf64_Shdr original;
        memcpy(&original, image + at, sizeof(original));
        const uint64_t sizes[] = {
            0, 1, 4, 8, original.sh_size / 2, original.sh_size - 1, original.sh_size - 8};
        for (size_t k = 0; k < EBPF_ARRAY_SIZE(sizes) + 1; k++) {
            ebpf_elf_object_t *object = NULL;
            int64_t baseline = ebpf_allocation_outstanding();
            Elf64_Shdr changed = original;
            int err;

            if (k < EBPF_ARRAY_SIZE(sizes)) {
                if (sizes[k] >= original.sh_size)
                    continue;
                changed.sh_size = sizes[k];
            } else {
                changed.sh_offset = original.sh_offset + 8; /* misplaced, not truncated */
            }
            memcpy(bad, image, size);
            memcpy(bad + at, &changed, sizeof(changed));
            err = ebpf_elf_open_memory(bad, size, BAD_NAME, &object);
            if (err == 0) {
                ebpf_elf_free(object);
            } else {
                assert_true(err < 0);
                assert_null(object);
                assert_true(strlen(ebpf_last_error()) > strlen(BAD_NAME ": "));
                failures++;
            }
            assert_int_equal(ebpf_allocation_outstanding(), baseline);
        }
    }
    assert_true(failures > 20);
    free(bad);
    free(image);
}

static void test_header_identity(void **state)
{
    size_t size;
    uint8_t *image = test_object_read("subprograms", &size);
    uint8_t *bad = malloc(size);
    Elf64_Ehdr header;

    assert_non_null(bad);
#define MUTATE(statement, err, fragment)                                                           \
    do {                                                                                           \
        memcpy(bad, image, size);                                                                  \
        memcpy(&header, bad, sizeof(header));                                                      \
        statement;                                                                                 \
        memcpy(bad, &header, sizeof(header));                                                      \
        expect_failure(bad, size, err, fragment);                                                  \
    } while (0)

    MUTATE(header.e_machine = EM_X86_64, -ENOEXEC, "machine 62 is not EM_BPF (247)");
    MUTATE(header.e_ident[EI_CLASS] = ELFCLASS32, -ENOEXEC, "is not ELFCLASS64");
    MUTATE(header.e_ident[EI_DATA] = ELFDATA2MSB, -ENOEXEC, "not little-endian");
    MUTATE(header.e_ident[EI_MAG1] = 'X', -ENOEXEC, "not an ELF file");
    MUTATE(header.e_ident[EI_VERSION] = 7, -ENOEXEC, "identification version 7");
    MUTATE(header.e_type = ET_EXEC, -ENOEXEC, "not a relocatable object");
    MUTATE(header.e_shentsize = 32, -EINVAL, "section header entry size 32");
    MUTATE(header.e_shoff = size + 100, -EINVAL, "lies beyond the end");
    MUTATE(header.e_shoff = 0, -EINVAL, "no section header table");
    MUTATE(header.e_shnum = 0xFFFF, -EINVAL, "does not fit");
    MUTATE(header.e_shstrndx = 0x7FFF, -EINVAL, "section name table");
#undef MUTATE
    free(bad);
    free(image);
}

static void test_section_headers(void **state)
{
    size_t size;
    uint8_t *image = test_object_read("subprograms", &size);
    uint8_t *bad = malloc(size);
    test_section_t section;

    assert_non_null(bad);
#define MUTATE_SECTION(name, statement, err, fragment)                                             \
    do {                                                                                           \
        memcpy(bad, image, size);                                                                  \
        section = section_named(bad, size, name);                                                  \
        statement;                                                                                 \
        test_section_write(bad, &section);                                                         \
        expect_failure(bad, size, err, fragment);                                                  \
    } while (0)

    MUTATE_SECTION(".BTF", section.header.sh_offset = size - 4, -EINVAL, "beyond the end");
    MUTATE_SECTION(".text", section.header.sh_size = 0xFFFFFFFFFFFFull, -EINVAL, "beyond the end");
    MUTATE_SECTION(".symtab", section.header.sh_size *= 1000000, -EINVAL, "beyond the end");
    MUTATE_SECTION(".text", section.header.sh_name = 0xFFFFFF, -EINVAL, "name offset");
    MUTATE_SECTION(".text", section.header.sh_size -= 4, -EINVAL,
                   "is not a multiple of the 8-byte instruction");
    MUTATE_SECTION(".symtab", section.header.sh_entsize = 16, -EINVAL, "entry size 16");
    MUTATE_SECTION(".symtab", section.header.sh_link = 0, -EINVAL, "not a string table");
    MUTATE_SECTION(".rel.text", section.header.sh_entsize = 24, -EINVAL, "entry size 24");
    MUTATE_SECTION(".rel.text", section.header.sh_type = SHT_RELA, -ENOTSUP, "SHT_RELA");
    MUTATE_SECTION(".rel.text", section.header.sh_info = 999, -EINVAL, "applies to section 999");
    MUTATE_SECTION(".rel.text", section.header.sh_link = 3, -EINVAL, "not the symbol table");
    MUTATE_SECTION(".BTF", section.header.sh_type = SHT_NOBITS, -EINVAL, "SHT_NOBITS");
    MUTATE_SECTION(".BTF", section.header.sh_flags |= SHF_COMPRESSED, -ENOTSUP, "compressed");
#undef MUTATE_SECTION

    /* A SHT_NULL section's other fields mean nothing and must not be followed. */
    memcpy(bad, image, size);
    section = section_named(bad, size, ".debug_frame");
    section.header.sh_type = SHT_NULL;
    section.header.sh_offset = UINT64_MAX;
    test_section_write(bad, &section);
    expect_success(bad, size);
    free(bad);
    free(image);
}

static void test_relocations(void **state)
{
    size_t size;
    uint8_t *image = test_object_read("subprograms", &size);
    uint8_t *bad = malloc(size);
    test_section_t text, program_relocations, text_relocations;
    Elf64_Rel relocation;
    char expected[256];
    size_t symbols = symbol_count(image, size);

    assert_non_null(bad);
    text = section_named(image, size, ".text");
    text_relocations = section_named(image, size, ".rel.text");
    program_relocations = section_named(image, size, ".relnetevent_monitor/second");

    /* The example of the issue, word for word. */
    memcpy(bad, image, size);
    relocation = relocation_get(bad, &program_relocations, 2);
    relocation.r_info = ELF64_R_INFO(912, ELF64_R_TYPE(relocation.r_info));
    relocation_set(bad, &program_relocations, 2, relocation);
    snprintf(expected, sizeof(expected),
             BAD_NAME ": section .relnetevent_monitor/second: relocation 2 refers to symbol 912 "
                      "but the symbol table has %zu entries",
             symbols);
    expect_failure(bad, size, -EINVAL, expected);

    /* Misaligned, and past the end of the section. */
    memcpy(bad, image, size);
    relocation = relocation_get(bad, &text_relocations, 0);
    relocation.r_offset += 1;
    relocation_set(bad, &text_relocations, 0, relocation);
    expect_failure(bad, size, -EINVAL, "is not an instruction of the");
    memcpy(bad, image, size);
    relocation.r_offset = text.header.sh_size;
    relocation_set(bad, &text_relocations, 0, relocation);
    expect_failure(bad, size, -EINVAL, "is not an instruction of the");

    /* A map relocation moved onto an instruction that is not an ld_imm64. */
    memcpy(bad, image, size);
    relocation = relocation_get(bad, &text_relocations, 0);
    relocation.r_offset = 0;
    relocation_set(bad, &text_relocations, 0, relocation);
    expect_failure(bad, size, -EINVAL, "which is not an ld_imm64");

    /* The last instruction of .text as an ld_imm64: its second slot would be past the end. */
    memcpy(bad, image, size);
    relocation = relocation_get(bad, &text_relocations, 0);
    relocation.r_offset = text.header.sh_size - 8;
    relocation_set(bad, &text_relocations, 0, relocation);
    bad[text.header.sh_offset + text.header.sh_size - 8] = BPF_LD | BPF_IMM | BPF_DW;
    expect_failure(bad, size, -EINVAL, "is cut off by the end of section .text");

    /* A call relocation moved onto a plain instruction. */
    memcpy(bad, image, size);
    relocation = relocation_get(bad, &program_relocations, 0);
    relocation.r_offset = 0;
    relocation_set(bad, &program_relocations, 0, relocation);
    expect_failure(bad, size, -EINVAL, "which is not a bpf-to-bpf call");

    /* A relocation type code sections never use. */
    memcpy(bad, image, size);
    relocation = relocation_get(bad, &text_relocations, 0);
    relocation.r_info = ELF64_R_INFO(ELF64_R_SYM(relocation.r_info), 77);
    relocation_set(bad, &text_relocations, 0, relocation);
    expect_failure(bad, size, -EINVAL, "has type 77");

    /* Two relocations on one instruction. */
    memcpy(bad, image, size);
    relocation = relocation_get(bad, &program_relocations, 0);
    relocation_set(bad, &program_relocations, 2, relocation);
    expect_failure(bad, size, -EINVAL, "both apply to instruction");

    /* A call whose target (section symbol + imm) lies outside .text. */
    memcpy(bad, image, size);
    relocation = relocation_get(bad, &program_relocations, 0);
    {
        size_t at = section_named(bad, size, "netevent_monitor/second").header.sh_offset +
                    relocation.r_offset;
        struct bpf_insn call;
        memcpy(&call, bad + at, sizeof(call));
        call.imm = 5000;
        memcpy(bad + at, &call, sizeof(call));
    }
    expect_failure(bad, size, -EINVAL, "not an instruction of a function");
    free(bad);
    free(image);
}

static void test_instructions_without_relocations(void **state)
{
    size_t size;
    uint8_t *image = test_object_read("subprograms", &size);
    uint8_t *bad = malloc(size);
    test_section_t text = section_named(image, size, ".text");
    test_section_t text_relocations = section_named(image, size, ".rel.text");
    Elf64_Sym weigh_event = symbol_named(image, size, "weigh_event", NULL);
    Elf64_Rel relocation;
    struct bpf_insn instruction;
    size_t at;

    assert_non_null(bad);
    /* A call inside .text (no relocation) sent far outside the section. */
    memcpy(bad, image, size);
    at = text.header.sh_offset + weigh_event.st_value;
    for (;; at += sizeof(instruction)) {
        memcpy(&instruction, bad + at, sizeof(instruction));
        if (instruction.code == (BPF_JMP | BPF_CALL) && instruction.src_reg == BPF_PSEUDO_CALL)
            break;
        assert_true(at < text.header.sh_offset + weigh_event.st_value + weigh_event.st_size);
    }
    instruction.imm = 1000;
    memcpy(bad + at, &instruction, sizeof(instruction));
    expect_failure(bad, size, -EINVAL, "jumps outside section .text");

    /* An ld_imm64 claiming to be a map reference without a relocation saying which. */
    memcpy(bad, image, size);
    relocation = relocation_get(bad, &text_relocations, 0);
    at = text.header.sh_offset + relocation.r_offset;
    relocation.r_info = ELF64_R_INFO(ELF64_R_SYM(relocation.r_info), 0);
    relocation_set(bad, &text_relocations, 0, relocation);
    memcpy(&instruction, bad + at, sizeof(instruction));
    instruction.src_reg = BPF_PSEUDO_MAP_FD;
    memcpy(bad + at, &instruction, sizeof(instruction));
    expect_failure(bad, size, -EINVAL, "has no relocation");

    /* A map relocation whose addend points between maps. */
    memcpy(bad, image, size);
    relocation = relocation_get(bad, &text_relocations, 0);
    at = text.header.sh_offset + relocation.r_offset;
    memcpy(&instruction, bad + at, sizeof(instruction));
    instruction.imm = 4;
    memcpy(bad + at, &instruction, sizeof(instruction));
    expect_failure(bad, size, -EINVAL, "where no map is defined");
    free(bad);
    free(image);
}

static void test_symbols(void **state)
{
    size_t size;
    uint8_t *image = test_object_read("subprograms", &size);
    uint8_t *bad = malloc(size);
    Elf64_Sym symbol;
    size_t entry;
    char expected[128];

    assert_non_null(bad);
#define MUTATE_SYMBOL(name, statement, err, fragment)                                              \
    do {                                                                                           \
        memcpy(bad, image, size);                                                                  \
        symbol = symbol_named(bad, size, name, &entry);                                            \
        statement;                                                                                 \
        memcpy(bad + entry, &symbol, sizeof(symbol));                                              \
        expect_failure(bad, size, err, fragment);                                                  \
    } while (0)

    snprintf(expected, sizeof(expected), "(call_counts) is in section 500 but the object has");
    MUTATE_SYMBOL("call_counts", symbol.st_shndx = 500, -EINVAL, expected);
    MUTATE_SYMBOL("call_counts", symbol.st_shndx = SHN_UNDEF, -ENOTSUP,
                  "undefined symbol call_counts");
    MUTATE_SYMBOL("call_counts", symbol.st_name = 0x7FFFFFFF, -EINVAL, "name offset");
    MUTATE_SYMBOL("count_call", symbol.st_size = 100, -EINVAL, "are not whole instructions");
    MUTATE_SYMBOL("count_call", symbol.st_value = 0x7FFFFFF8, -EINVAL,
                  "are not whole instructions");
    MUTATE_SYMBOL("weigh_event", symbol.st_size = 0x40, -EINVAL, "overlap");

#undef MUTATE_SYMBOL
    free(bad);
    free(image);

    /* Found by fuzz_elf: a variable at an offset near 2^63 overflowed the arithmetic of the
     * relocation that loads its address. */
    image = test_object_read("globals", &size);
    bad = malloc(size);
    assert_non_null(bad);
    memcpy(bad, image, size);
    symbol = symbol_named(bad, size, "packet_limit", &entry);
    symbol.st_value = UINT64_C(0x8000000000000000);
    memcpy(bad + entry, &symbol, sizeof(symbol));
    expect_failure(bad, size, -EINVAL, "past the end of its section .data");
    free(bad);
    free(image);
}

static void test_btf(void **state)
{
    size_t size;
    uint8_t *image = test_object_read("maps_all", &size);
    uint8_t *bad = malloc(size);
    test_section_t btf = section_named(image, size, ".BTF");
    uint8_t *base;
    uint32_t id, type_count;
    long at;
    char expected[160];
    long arrays[3];
    uint32_t array_ids[3];

    assert_non_null(bad);
    /* Number of types + 1 (void), counted by the test's own walker. */
    type_count = 1;
    for (uint32_t kind = 1; kind <= BTF_KIND_MAX; kind++)
        type_count += (uint32_t)test_btf_types_of_kind(image, size, kind, NULL, NULL, 0);

    memcpy(bad, image, size);
    base = bad + btf.header.sh_offset;
    base[0] = 0x34;
    expect_failure(bad, size, -EINVAL, "section .BTF: magic");

    memcpy(bad, image, size);
    at = test_btf_type_find(bad, size, BTF_KIND_PTR, NULL, &id);
    assert_true(at > 0);
    test_write_u32(bad + at + 8, 912);
    snprintf(expected, sizeof(expected),
             "BTF type %u (PTR) refers to type 912 but the BTF has %u types", id, type_count);
    expect_failure(bad, size, -EINVAL, expected);

    /* A typedef of itself. */
    memcpy(bad, image, size);
    at = test_btf_type_find(bad, size, BTF_KIND_TYPEDEF, "__u32", &id);
    assert_true(at > 0);
    test_write_u32(bad + at + 8, id);
    /* Reported at the first type whose chain reaches the loop (a pointer to __u32, say). */
    expect_failure(bad, size, -EINVAL, "its chain of type references loops");

    /* A pointer loop through two types. */
    memcpy(bad, image, size);
    {
        long pointers[2];
        uint32_t pointer_ids[2];
        assert_true(test_btf_types_of_kind(bad, size, BTF_KIND_PTR, pointers, pointer_ids, 2) >= 2);
        test_write_u32(bad + pointers[0] + 8, pointer_ids[1]);
        test_write_u32(bad + pointers[1] + 8, pointer_ids[0]);
    }
    expect_failure(bad, size, -EINVAL, "loops");

    memcpy(bad, image, size);
    at = test_btf_type_find(bad, size, BTF_KIND_STRUCT, NULL, &id);
    test_write_u32(bad + at, 0xFFFFFF);
    expect_failure(bad, size, -EINVAL, "name offset 16777215 lies outside");

    memcpy(bad, image, size);
    at = test_btf_type_find(bad, size, BTF_KIND_STRUCT, NULL, &id);
    test_write_u32(bad + at + 4, (25u << 24) | 1);
    expect_failure(bad, size, -EINVAL, "has unknown kind 25");

    memcpy(bad, image, size);
    at = test_btf_type_find(bad, size, BTF_KIND_DATASEC, ".maps", &id);
    assert_true(at > 0);
    test_write_u32(bad + at + 4, (BTF_KIND_DATASEC << 24) | 0xFFFF);
    expect_failure(bad, size, -EINVAL, "runs past the end of the type section");

    memcpy(bad, image, size);
    base = bad + btf.header.sh_offset;
    test_write_u32(base + 12, 0xFFFFFFF0); /* type_len */
    expect_failure(bad, size, -EINVAL, "lie beyond the");

    memcpy(bad, image, size);
    base = bad + btf.header.sh_offset;
    base[test_read_u32(base + 4) + test_read_u32(base + 16) + test_read_u32(base + 20) - 1] = 'x';
    expect_failure(bad, size, -EINVAL, "must start and end with NUL");

    /* Sizes that overflow: __u32 made an array of 2^32-1 ints. */
    memcpy(bad, image, size);
    assert_true(test_btf_types_of_kind(bad, size, BTF_KIND_ARRAY, arrays, array_ids, 3) >= 3);
    at = test_btf_type_find(bad, size, BTF_KIND_TYPEDEF, "__u32", &id);
    test_write_u32(bad + at + 8, array_ids[0]);
    test_write_u32(bad + arrays[0] + 12 + 8, 0xFFFFFFFF);
    expect_failure(bad, size, -EINVAL, "has size 17179869180");

    /* ... and past 64 bits: three such arrays nested. */
    memcpy(bad, image, size);
    at = test_btf_type_find(bad, size, BTF_KIND_TYPEDEF, "__u32", &id);
    test_write_u32(bad + at + 8, array_ids[0]);
    test_write_u32(bad + arrays[0] + 12, array_ids[1]);
    test_write_u32(bad + arrays[1] + 12, array_ids[2]);
    for (int i = 0; i < 3; i++)
        test_write_u32(bad + arrays[i] + 12 + 8, 0xFFFFFFFF);
    expect_failure(bad, size, -EINVAL, "size overflows");

    /* An unknown field name in a map definition. */
    memcpy(bad, image, size);
    at = test_btf_string_find(bad, size, "max_entries");
    assert_true(at > 0);
    bad[at + strlen("max_entries") - 1] = 'z';
    expect_failure(bad, size, -EINVAL, "unknown field 'max_entriez'");

    /* .maps without BTF. */
    memcpy(bad, image, size);
    {
        test_section_t names = section_named(bad, size, ".strtab");
        test_section_t renamed = section_named(bad, size, ".BTF");
        bad[names.header.sh_offset + renamed.header.sh_name] = 'X';
    }
    expect_failure(bad, size, -EINVAL, "has no .BTF to describe them");
    free(bad);
    free(image);
}

static void test_btf_ext(void **state)
{
    size_t size;
    uint8_t *image = test_object_read("subprograms", &size);
    uint8_t *bad = malloc(size);
    test_section_t ext = section_named(image, size, ".BTF.ext");
    const uint8_t *base = image + ext.header.sh_offset;
    size_t lines = ext.header.sh_offset + test_read_u32(base + 4) + test_read_u32(base + 16);

    assert_non_null(bad);
    memcpy(bad, image, size);
    test_write_u32(bad + lines, 8); /* record size */
    expect_failure(bad, size, -EINVAL, "line record size 8");

    memcpy(bad, image, size);
    test_write_u32(bad + lines + 8, 0x7FFFFFFF); /* records in the first block */
    expect_failure(bad, size, -EINVAL, "run past the end of the line info");

    memcpy(bad, image, size);
    test_write_u32(bad + lines + 12, 3); /* insn_off of the first record */
    expect_failure(bad, size, -EINVAL, "points at byte 3");

    memcpy(bad, image, size);
    test_write_u32(bad + lines + 12 + 4, 0x7FFFFFFF); /* its file name */
    expect_failure(bad, size, -EINVAL, "string offset outside the BTF strings");

    memcpy(bad, image, size);
    test_write_u32(bad + ext.header.sh_offset + 20, 0x7FFFFFFF); /* line_info_len */
    expect_failure(bad, size, -EINVAL, "lies beyond the");
    free(bad);
    free(image);
}

static void test_map_definitions(void **state)
{
    size_t size, windows_size, values_size, globals_size;
    uint8_t *image = test_object_read("legacy_maps", &size);
    uint8_t *windows = test_object_read("legacy_maps_windows", &windows_size);
    uint8_t *values = test_object_read("map_initial_values", &values_size);
    uint8_t *globals = test_object_read("globals", &globals_size);
    size_t largest = size;
    uint8_t *bad;
    Elf64_Sym symbol;
    size_t entry;
    test_section_t section;
    Elf64_Rel relocation;

    largest = largest > windows_size ? largest : windows_size;
    largest = largest > values_size ? largest : values_size;
    largest = largest > globals_size ? largest : globals_size;
    bad = malloc(largest);
    assert_non_null(bad);

    memcpy(bad, image, size);
    symbol = symbol_named(bad, size, "legacy_array", &entry);
    symbol.st_size = 12;
    memcpy(bad + entry, &symbol, sizeof(symbol));
    expect_failure(bad, size, -EINVAL, "shorter than struct bpf_map_def");

    memcpy(bad, image, size);
    symbol = symbol_named(bad, size, "legacy_hash", &entry);
    symbol.st_value = 0;
    memcpy(bad + entry, &symbol, sizeof(symbol));
    expect_failure(bad, size, -EINVAL, "start at the same offset");

    /* Two symbols of one name: lookups by name could only ever find one. */
    {
        uint8_t *all = test_object_read("maps_all", &largest);
        Elf64_Sym array_map = symbol_named(all, largest, "array_map", NULL);
        symbol = symbol_named(all, largest, "hash_map", &entry);
        symbol.st_name = array_map.st_name;
        memcpy(all + entry, &symbol, sizeof(symbol));
        expect_failure(all, largest, -EINVAL, "two maps are named array_map");
        free(all);
    }

    memcpy(bad, windows, windows_size);
    section = section_named(bad, windows_size, "maps");
    symbol = symbol_named(bad, windows_size, "outer_by_index", NULL);
    test_write_u32(bad + section.header.sh_offset + symbol.st_value + 20, 3); /* pinning */
    expect_failure(bad, windows_size, -ENOTSUP, "pinning type 3");

    memcpy(bad, windows, windows_size);
    test_write_u32(bad + section.header.sh_offset + symbol.st_value + 16, 1); /* itself */
    expect_failure(bad, windows_size, -EINVAL, "inner map index 1");

    /* Slots filled in the object that do not make sense. */
    section = section_named(values, values_size, ".rel.maps");
    memcpy(bad, values, values_size);
    relocation = relocation_get(bad, &section, 0);
    relocation.r_info = ELF64_R_INFO(4000, ELF64_R_TYPE(relocation.r_info));
    relocation_set(bad, &section, 0, relocation);
    expect_failure(bad, values_size, -EINVAL, "relocation 0 refers to symbol 4000");

    memcpy(bad, values, values_size);
    relocation = relocation_get(bad, &section, 0);
    relocation.r_offset = 0; /* inside inner_first, which has no slots */
    relocation_set(bad, &section, 0, relocation);
    expect_failure(bad, values_size, -EINVAL, "outside its 'values' slots");

    memcpy(bad, values, values_size);
    relocation = relocation_get(bad, &section, 2); /* jump_table[1] = tail_target */
    relocation.r_info = ELF64_R_INFO(ELF64_R_SYM(relocation_get(bad, &section, 0).r_info),
                                     ELF64_R_TYPE(relocation.r_info));
    relocation_set(bad, &section, 2, relocation);
    expect_failure(bad, values_size, -EINVAL, "but it is not a program");

    memcpy(bad, values, values_size);
    relocation = relocation_get(bad, &section, 1);
    relocation_set(bad, &section, 0, relocation);
    expect_failure(bad, values_size, -EINVAL, "is filled twice");

    /* License and version. */
    memcpy(bad, globals, globals_size);
    section = section_named(bad, globals_size, "license");
    bad[section.header.sh_offset + section.header.sh_size - 1] = 'X';
    expect_failure(bad, globals_size, -EINVAL, "license is not NUL-terminated");

    memcpy(bad, globals, globals_size);
    section = section_named(bad, globals_size, "version");
    section.header.sh_size = 3;
    test_section_write(bad, &section);
    expect_failure(bad, globals_size, -EINVAL, "section version: size 3 is not 4");

    free(bad);
    free(globals);
    free(values);
    free(windows);
    free(image);
}

/* Random byte changes: whatever they hit, the loader fails cleanly or loads something whole. */
static void test_random_corruption(void **state)
{
    static const char *const names[] = {"subprograms", "maps_all", "map_initial_values", "globals"};
    uint64_t random_state = 0x9E3779B97F4A7C15ull;

    for (size_t n = 0; n < EBPF_ARRAY_SIZE(names); n++) {
        size_t size;
        uint8_t *image = test_object_read(names[n], &size);
        uint8_t *bad = malloc(size);
        size_t loaded = 0;

        assert_non_null(bad);
        for (int round = 0; round < 1500; round++) {
            ebpf_elf_object_t *object = NULL;
            int64_t baseline = ebpf_allocation_outstanding();
            int changes;
            int err;

            memcpy(bad, image, size);
            random_state ^= random_state << 13;
            random_state ^= random_state >> 7;
            random_state ^= random_state << 17;
            changes = 1 + (int)(random_state % 4);
            for (int c = 0; c < changes; c++) {
                random_state ^= random_state << 13;
                random_state ^= random_state >> 7;
                random_state ^= random_state << 17;
                bad[(random_state >> 8) % size] = (uint8_t)random_state;
            }
            err = ebpf_elf_open_memory(bad, size, BAD_NAME, &object);
            if (err == 0) {
                assert_non_null(object);
                loaded++;
                ebpf_elf_free(object);
            } else {
                assert_true(err < 0);
                assert_null(object);
                assert_true(strlen(ebpf_last_error()) > strlen(BAD_NAME ": "));
            }
            assert_int_equal(ebpf_allocation_outstanding(), baseline);
        }
        /* Most bytes are debug info the loader skips, so many variants still load. */
        assert_true(loaded > 0);
        free(bad);
        free(image);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_sections_resized),
        cmocka_unit_test(test_header_identity),
        cmocka_unit_test(test_section_headers),
        cmocka_unit_test(test_relocations),
        cmocka_unit_test(test_instructions_without_relocations),
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_btf),
        cmocka_unit_test(test_btf_ext),
        cmocka_unit_test(test_map_definitions),
        cmocka_unit_test(test_random_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
