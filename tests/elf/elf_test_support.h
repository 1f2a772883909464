/* Test support for the ELF loader tests: test objects on disk and an independent raw ELF/BTF view.
 */
#ifndef ELF_TEST_SUPPORT_H
#define ELF_TEST_SUPPORT_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

/* Bytes of build/bpf/<name>.o (malloc'd; the test frees with free()); fails the test when the
 * object is missing. */
uint8_t *test_object_read(const char *name, size_t *size);
/* build/bpf/<name>.o as a path (a buffer of the calling thread). */
const char *test_object_path(const char *name);

/* A section header of image, found by name; NULL when absent. The pointer is into image, so
 * writes through test_section_write change the image. */
typedef struct test_section {
    size_t index;
    size_t header_offset; /* of the Elf64_Shdr inside image */
    Elf64_Shdr header;
} test_section_t;

bool test_section_find(const uint8_t *image, size_t size, const char *name,
                       test_section_t *section);
/* Writes section->header back into the image. */
void test_section_write(uint8_t *image, const test_section_t *section);

/* A symbol of the image's symbol table by name; returns its index or -1. */
long test_symbol_find(const uint8_t *image, size_t size, const char *name, Elf64_Sym *symbol,
                      size_t *entry_offset);

/* Instructions of function name as they are in the object (before any linking). */
bool test_function_raw(const uint8_t *image, size_t size, const char *name,
                       const struct bpf_insn **instructions, size_t *count);

/* Offset in image of the first BTF type with kind (and name, unless NULL); -1 when absent.
 * id receives the type id. */
long test_btf_type_find(const uint8_t *image, size_t size, uint32_t kind, const char *name,
                        uint32_t *id);
/* Offsets in image (and ids) of up to capacity BTF types of kind, in id order; returns how
 * many there are in all. */
size_t test_btf_types_of_kind(const uint8_t *image, size_t size, uint32_t kind, long *offsets,
                              uint32_t *ids, size_t capacity);
/* Offset in image of the BTF string equal to text; -1 when absent. */
long test_btf_string_find(const uint8_t *image, size_t size, const char *text);

void test_write_u32(uint8_t *p, uint32_t value);
uint32_t test_read_u32(const uint8_t *p);

#endif /* ELF_TEST_SUPPORT_H */
