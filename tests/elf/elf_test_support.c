/* Test support for the ELF loader tests: a deliberately separate, minimal reading of ELF and BTF.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/btf.h>

#include "elf_test_support.h"

const char *test_object_path(const char *name)
{
    static _Thread_local char path[4096];
    snprintf(path, sizeof(path), "%s/%s.o", EBPF_TEST_BPF_DIR, name);
    return path;
}

uint8_t *test_object_read(const char *name, size_t *size)
{
    const char *path = test_object_path(name);
    FILE *file = fopen(path, "rb");
    uint8_t *data;
    long length;

    if (!file)
        fail_msg("test object %s is missing (build the bpf_%s target)", path, name);
    assert_int_equal(fseek(file, 0, SEEK_END), 0);
    length = ftell(file);
    assert_true(length > 0);
    assert_int_equal(fseek(file, 0, SEEK_SET), 0);
    data = malloc((size_t)length);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)length, file), (size_t)length);
    fclose(file);
    *size = (size_t)length;
    return data;
}

void test_write_u32(uint8_t *p, uint32_t value)
{
    memcpy(p, &value, sizeof(value));
}

uint32_t test_read_u32(const uint8_t *p)
{
    uint32_t value;
    memcpy(&value, p, sizeof(value));
    return value;
}

static Elf64_Ehdr test_header(const uint8_t *image)
{
    Elf64_Ehdr header;
    memcpy(&header, image, sizeof(header));
    return header;
}

static Elf64_Shdr test_section_header(const uint8_t *image, size_t index)
{
    Elf64_Ehdr header = test_header(image);
    Elf64_Shdr section;
    memcpy(&section, image + header.e_shoff + index * sizeof(section), sizeof(section));
    return section;
}

bool test_section_find(const uint8_t *image, size_t size, const char *name, test_section_t *section)
{
    Elf64_Ehdr header = test_header(image);
    Elf64_Shdr names = test_section_header(image, header.e_shstrndx);

    assert_true(header.e_shoff + header.e_shnum * sizeof(Elf64_Shdr) <= size);
    for (size_t i = 1; i < header.e_shnum; i++) {
        Elf64_Shdr candidate = test_section_header(image, i);
        if (strcmp((const char *)image + names.sh_offset + candidate.sh_name, name) == 0) {
            section->index = i;
            section->header_offset = header.e_shoff + i * sizeof(Elf64_Shdr);
            section->header = candidate;
            return true;
        }
    }
    return false;
}

void test_section_write(uint8_t *image, const test_section_t *section)
{
    memcpy(image + section->header_offset, &section->header, sizeof(section->header));
}

long test_symbol_find(const uint8_t *image, size_t size, const char *name, Elf64_Sym *symbol,
                      size_t *entry_offset)
{
    test_section_t symbols;
    Elf64_Shdr strings;

    assert_true(test_section_find(image, size, ".symtab", &symbols));
    strings = test_section_header(image, symbols.header.sh_link);
    for (size_t i = 0; i < symbols.header.sh_size / sizeof(Elf64_Sym); i++) {
        size_t offset = symbols.header.sh_offset + i * sizeof(Elf64_Sym);
        memcpy(symbol, image + offset, sizeof(*symbol));
        if (strcmp((const char *)image + strings.sh_offset + symbol->st_name, name) == 0) {
            if (entry_offset)
                *entry_offset = offset;
            return (long)i;
        }
    }
    return -1;
}

bool test_function_raw(const uint8_t *image, size_t size, const char *name,
                       const struct bpf_insn **instructions, size_t *count)
{
    Elf64_Sym symbol;
    Elf64_Shdr section;

    if (test_symbol_find(image, size, name, &symbol, NULL) < 0 ||
        ELF64_ST_TYPE(symbol.st_info) != STT_FUNC)
        return false;
    section = test_section_header(image, symbol.st_shndx);
    *instructions = (const struct bpf_insn *)(image + section.sh_offset + symbol.st_value);
    *count = symbol.st_size / sizeof(struct bpf_insn);
    return true;
}

static size_t test_btf_extra(uint32_t info)
{
    uint32_t vlen = BTF_INFO_VLEN(info);
    switch (BTF_INFO_KIND(info)) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
        return 4;
    case BTF_KIND_ARRAY:
        return 12;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_DATASEC:
    case BTF_KIND_ENUM64:
        return vlen * 12;
    case BTF_KIND_ENUM:
    case BTF_KIND_FUNC_PROTO:
        return vlen * 8;
    default:
        return 0;
    }
}

size_t test_btf_types_of_kind(const uint8_t *image, size_t size, uint32_t kind, long *offsets,
                              uint32_t *ids, size_t capacity)
{
    test_section_t btf;
    const uint8_t *base;
    uint32_t header_length, types_offset, types_length;
    size_t found = 0;

    assert_true(test_section_find(image, size, ".BTF", &btf));
    base = image + btf.header.sh_offset;
    header_length = test_read_u32(base + 4);
    types_offset = test_read_u32(base + 8);
    types_length = test_read_u32(base + 12);
    for (uint32_t offset = 0, current = 1; offset < types_length; current++) {
        const uint8_t *type = base + header_length + types_offset + offset;
        uint32_t info = test_read_u32(type + 4);
        if (BTF_INFO_KIND(info) == kind) {
            if (found < capacity) {
                offsets[found] = (long)(type - image);
                ids[found] = current;
            }
            found++;
        }
        offset += 12 + (uint32_t)test_btf_extra(info);
    }
    return found;
}

long test_btf_type_find(const uint8_t *image, size_t size, uint32_t kind, const char *name,
                        uint32_t *id)
{
    test_section_t btf;
    const uint8_t *base;
    uint32_t header_length, types_offset, types_length, strings_offset;

    assert_true(test_section_find(image, size, ".BTF", &btf));
    base = image + btf.header.sh_offset;
    header_length = test_read_u32(base + 4);
    types_offset = test_read_u32(base + 8);
    types_length = test_read_u32(base + 12);
    strings_offset = test_read_u32(base + 16);
    for (uint32_t offset = 0, current = 1; offset < types_length; current++) {
        const uint8_t *type = base + header_length + types_offset + offset;
        uint32_t info = test_read_u32(type + 4);
        const char *type_name =
            (const char *)base + header_length + strings_offset + test_read_u32(type);
        if (BTF_INFO_KIND(info) == kind && (!name || strcmp(type_name, name) == 0)) {
            if (id)
                *id = current;
            return (long)(type - image);
        }
        offset += 12 + (uint32_t)test_btf_extra(info);
    }
    return -1;
}

long test_btf_string_find(const uint8_t *image, size_t size, const char *text)
{
    test_section_t btf;
    const uint8_t *base;
    const char *strings;
    uint32_t length;

    assert_true(test_section_find(image, size, ".BTF", &btf));
    base = image + btf.header.sh_offset;
    strings = (const char *)base + test_read_u32(base + 4) + test_read_u32(base + 16);
    length = test_read_u32(base + 20);
    for (uint32_t offset = 0; offset < length; offset += (uint32_t)strlen(strings + offset) + 1)
        if (strcmp(strings + offset, text) == 0)
            return (long)((const uint8_t *)strings + offset - image);
    return -1;
}
