/* ELF loader entry points: header and section validation, symbols, license, version, lookups. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ebpf_platform.h"
#include "elf_loader.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ELF loader reads host-order ELF structures and supports little-endian hosts only"
#endif

#ifndef EM_BPF
#define EM_BPF 247
#endif

int elf_fail(const elf_loader_t *loader, int err, const char *fmt, ...)
{
    char message[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    return ebpf_error(err, "%s: %s", loader->object_name, message);
}

int elf_fail_in_context(const elf_loader_t *loader, int err, const char *fmt, ...)
{
    char context[256];
    char cause[768];
    const char *last = ebpf_last_error();
    size_t name_length = strlen(loader->object_name);
    va_list ap;

    if (strncmp(last, loader->object_name, name_length) == 0 &&
        strncmp(last + name_length, ": ", 2) == 0)
        last += name_length + 2;
    snprintf(cause, sizeof(cause), "%s", last);
    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);
    return ebpf_error(err, "%s: %s: %s", loader->object_name, context, cause);
}

int elf_out_of_memory(const elf_loader_t *loader, const char *what)
{
    return elf_fail(loader, -ENOMEM, "out of memory while reading %s", what);
}

uint16_t elf_read_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t elf_read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

const char *elf_symbol_display_name(const elf_symbol_t *symbol)
{
    return symbol->name[0] ? symbol->name : "<unnamed>";
}

/* libelf wants its version set once per process before any other call. */
static pthread_once_t elf_library_once = PTHREAD_ONCE_INIT;
/* Written once inside elf_library_once, read only after it. */
static bool elf_library_ready;

static void elf_library_init(void)
{
    elf_library_ready = elf_version(EV_CURRENT) != EV_NONE;
}

/* Checks what libelf would otherwise accept or report vaguely: the identity of the file and
 * that the section header table and every section's bytes lie inside the file. */
static int elf_check_layout(const elf_loader_t *loader)
{
    Elf64_Ehdr header;
    uint64_t section_count;
    const uint8_t *image = loader->image;
    size_t size = loader->image_size;

    if (size < EI_NIDENT || memcmp(image, ELFMAG, SELFMAG) != 0)
        return elf_fail(loader, -ENOEXEC, "not an ELF file (no \\177ELF magic)");
    if (image[EI_CLASS] != ELFCLASS64)
        return elf_fail(loader, -ENOEXEC, "ELF class %u is not ELFCLASS64: BPF objects are 64-bit",
                        image[EI_CLASS]);
    if (image[EI_DATA] != ELFDATA2LSB)
        return elf_fail(loader, -ENOEXEC,
                        "ELF data encoding %u is not little-endian (only bpfel objects load)",
                        image[EI_DATA]);
    if (image[EI_VERSION] != EV_CURRENT)
        return elf_fail(loader, -ENOEXEC, "ELF identification version %u is not %u",
                        image[EI_VERSION], EV_CURRENT);
    if (size < sizeof(header))
        return elf_fail(loader, -ENOEXEC,
                        "file is %zu bytes, too short for the %zu-byte ELF header", size,
                        sizeof(header));
    memcpy(&header, image, sizeof(header));
    if (header.e_machine != EM_BPF)
        return elf_fail(loader, -ENOEXEC, "machine %u is not EM_BPF (%u)", header.e_machine,
                        EM_BPF);
    if (header.e_type != ET_REL)
        return elf_fail(loader, -ENOEXEC, "ELF type %u is not a relocatable object (ET_REL)",
                        header.e_type);
    if (header.e_shoff == 0)
        return elf_fail(loader, -EINVAL, "no section header table");
    if (header.e_shentsize != sizeof(Elf64_Shdr))
        return elf_fail(loader, -EINVAL, "section header entry size %u is not %zu",
                        header.e_shentsize, sizeof(Elf64_Shdr));
    if (header.e_shoff > size || size - header.e_shoff < sizeof(Elf64_Shdr))
        return elf_fail(loader, -EINVAL,
                        "section header table at offset %llu lies beyond the end of the "
                        "%zu-byte file",
                        (unsigned long long)header.e_shoff, size);
    section_count = header.e_shnum;
    if (section_count == 0) {
        /* Extended numbering: the count is in section 0. */
        Elf64_Shdr first;
        memcpy(&first, image + header.e_shoff, sizeof(first));
        section_count = first.sh_size;
    }
    if (section_count == 0 || section_count > (size - header.e_shoff) / sizeof(Elf64_Shdr))
        return elf_fail(loader, -EINVAL,
                        "section header table of %llu entries at offset %llu does not fit in "
                        "the %zu-byte file",
                        (unsigned long long)section_count, (unsigned long long)header.e_shoff,
                        size);
    for (uint64_t i = 1; i < section_count; i++) {
        Elf64_Shdr section;
        memcpy(&section, image + header.e_shoff + i * sizeof(Elf64_Shdr), sizeof(section));
        if (section.sh_type == SHT_NOBITS || section.sh_type == SHT_NULL)
            continue;
        if (section.sh_offset > size || size - section.sh_offset < section.sh_size)
            return elf_fail(loader, -EINVAL,
                            "section %llu: bytes [%llu, +%llu) lie beyond the end of the "
                            "%zu-byte file",
                            (unsigned long long)i, (unsigned long long)section.sh_offset,
                            (unsigned long long)section.sh_size, size);
    }
    return 0;
}

static bool name_is_family(const char *name, const char *family)
{
    size_t length = strlen(family);
    return strncmp(name, family, length) == 0 && (name[length] == '\0' || name[length] == '.');
}

static elf_section_kind_t elf_classify_section(const elf_section_t *section)
{
    const char *name = section->name;
    const GElf_Shdr *header = &section->header;

    switch (header->sh_type) {
    case SHT_SYMTAB:
        return ELF_SECTION_SYMBOLS;
    case SHT_REL:
    case SHT_RELA:
        return ELF_SECTION_RELOCATIONS;
    case SHT_PROGBITS:
    case SHT_NOBITS:
        break;
    default:
        return ELF_SECTION_OTHER;
    }
    if (header->sh_type == SHT_PROGBITS && (header->sh_flags & SHF_EXECINSTR))
        return strcmp(name, ".text") == 0 ? ELF_SECTION_TEXT : ELF_SECTION_PROGRAM;
    if (strcmp(name, ".maps") == 0)
        return ELF_SECTION_MAPS_BTF;
    if (strcmp(name, "maps") == 0)
        return ELF_SECTION_MAPS_LEGACY;
    if (strcmp(name, "license") == 0)
        return ELF_SECTION_LICENSE;
    if (strcmp(name, "version") == 0)
        return ELF_SECTION_VERSION;
    if (strcmp(name, ".BTF") == 0)
        return ELF_SECTION_BTF;
    if (strcmp(name, ".BTF.ext") == 0)
        return ELF_SECTION_BTF_EXT;
    if ((header->sh_flags & SHF_ALLOC) &&
        (name_is_family(name, ".data") || name_is_family(name, ".rodata") ||
         name_is_family(name, ".bss")))
        return ELF_SECTION_GLOBAL_DATA;
    return ELF_SECTION_OTHER;
}

static int elf_sections_read(elf_loader_t *loader)
{
    size_t count;
    size_t names_index;
    size_t unique_index[ELF_SECTION_RELOCATIONS + 1] = {0};

    if (elf_getshdrnum(loader->elf, &count) != 0 || count == 0)
        return elf_fail(loader, -EINVAL, "cannot count sections: %s", elf_errmsg(-1));
    if (elf_getshdrstrndx(loader->elf, &names_index) != 0)
        return elf_fail(loader, -EINVAL, "cannot find the section name table: %s", elf_errmsg(-1));
    if (names_index == SHN_UNDEF || names_index >= count)
        return elf_fail(loader, -EINVAL, "section name table index %zu is outside the %zu sections",
                        names_index, count);
    loader->sections = ebpf_allocate_array(count, sizeof(*loader->sections));
    if (!loader->sections)
        return elf_out_of_memory(loader, "the section table");
    loader->section_count = count;

    for (size_t i = 1; i < count; i++) {
        elf_section_t *section = &loader->sections[i];
        Elf_Scn *scn = elf_getscn(loader->elf, i);
        if (!scn || !gelf_getshdr(scn, &section->header))
            return elf_fail(loader, -EINVAL, "section %zu: unreadable header: %s", i,
                            elf_errmsg(-1));
        section->name = elf_strptr(loader->elf, names_index, section->header.sh_name);
        if (!section->name)
            return elf_fail(loader, -EINVAL,
                            "section %zu: name offset %u lies outside the section name table", i,
                            section->header.sh_name);
        section->size = section->header.sh_size;
        /* Only these were checked to lie inside the file; SHT_NULL fields mean nothing. */
        if (section->header.sh_type != SHT_NOBITS && section->header.sh_type != SHT_NULL &&
            section->size > 0)
            section->data = loader->image + section->header.sh_offset;
        section->kind = elf_classify_section(section);
        if (section->kind == ELF_SECTION_OTHER || section->kind == ELF_SECTION_RELOCATIONS)
            continue;
        if (section->header.sh_flags & SHF_COMPRESSED)
            return elf_fail(loader, -ENOTSUP, "section %s: compressed sections are not supported",
                            section->name);
        if (section->header.sh_type == SHT_NOBITS && section->kind != ELF_SECTION_GLOBAL_DATA)
            return elf_fail(loader, -EINVAL, "section %s: has no bytes in the file (SHT_NOBITS)",
                            section->name);
        if (section->kind == ELF_SECTION_PROGRAM || section->kind == ELF_SECTION_TEXT) {
            if (section->size % sizeof(struct bpf_insn) != 0)
                return elf_fail(loader, -EINVAL,
                                "section %s: size %llu is not a multiple of the %zu-byte "
                                "instruction",
                                section->name, (unsigned long long)section->size,
                                sizeof(struct bpf_insn));
            continue;
        }
        if (section->kind == ELF_SECTION_GLOBAL_DATA)
            continue;
        if (unique_index[section->kind] != 0)
            return elf_fail(loader, -EINVAL, "sections %zu and %zu are both named %s",
                            unique_index[section->kind], i, section->name);
        unique_index[section->kind] = i;
        if (section->kind == ELF_SECTION_SYMBOLS)
            loader->symbols_section = i;
    }
    return 0;
}

static int elf_symbols_read(elf_loader_t *loader)
{
    const elf_section_t *table;
    size_t names_index;

    if (loader->symbols_section == 0)
        return 0;
    table = &loader->sections[loader->symbols_section];
    if (table->header.sh_entsize != sizeof(Elf64_Sym) || table->size % sizeof(Elf64_Sym) != 0)
        return elf_fail(loader, -EINVAL,
                        "section %s: entry size %llu and size %llu do not describe %zu-byte "
                        "symbols",
                        table->name, (unsigned long long)table->header.sh_entsize,
                        (unsigned long long)table->size, sizeof(Elf64_Sym));
    names_index = table->header.sh_link;
    if (names_index == 0 || names_index >= loader->section_count ||
        loader->sections[names_index].header.sh_type != SHT_STRTAB)
        return elf_fail(loader, -EINVAL,
                        "section %s: string table index %zu is not a string table section",
                        table->name, names_index);
    loader->symbol_count = table->size / sizeof(Elf64_Sym);
    if (loader->symbol_count == 0)
        return 0;
    loader->symbols = ebpf_allocate_array(loader->symbol_count, sizeof(*loader->symbols));
    if (!loader->symbols)
        return elf_out_of_memory(loader, "the symbol table");
    for (size_t i = 0; i < loader->symbol_count; i++) {
        Elf64_Sym raw;
        elf_symbol_t *symbol = &loader->symbols[i];

        memcpy(&raw, table->data + i * sizeof(raw), sizeof(raw));
        symbol->name = elf_strptr(loader->elf, names_index, raw.st_name);
        if (!symbol->name)
            return elf_fail(loader, -EINVAL,
                            "symbol %zu: name offset %u lies outside the string table", i,
                            raw.st_name);
        symbol->value = raw.st_value;
        symbol->size = raw.st_size;
        symbol->section = raw.st_shndx;
        symbol->type = (unsigned char)ELF64_ST_TYPE(raw.st_info);
        symbol->bind = (unsigned char)ELF64_ST_BIND(raw.st_info);
        if (raw.st_shndx == SHN_XINDEX)
            return elf_fail(loader, -ENOTSUP,
                            "symbol %zu (%s): extended section indexes are not supported", i,
                            elf_symbol_display_name(symbol));
        if (raw.st_shndx != SHN_UNDEF && raw.st_shndx < SHN_LORESERVE &&
            raw.st_shndx >= loader->section_count)
            return elf_fail(loader, -EINVAL,
                            "symbol %zu (%s) is in section %u but the object has %zu sections", i,
                            elf_symbol_display_name(symbol), raw.st_shndx, loader->section_count);
    }
    return 0;
}

int elf_relocation_section_check(const elf_loader_t *loader, const elf_section_t *relocations,
                                 size_t *count)
{
    if (relocations->header.sh_type == SHT_RELA)
        return elf_fail(loader, -ENOTSUP,
                        "section %s: relocations with addends (SHT_RELA) are not used by BPF "
                        "objects and not supported",
                        relocations->name);
    if (relocations->header.sh_entsize != sizeof(Elf64_Rel) ||
        relocations->size % sizeof(Elf64_Rel) != 0)
        return elf_fail(loader, -EINVAL,
                        "section %s: entry size %llu and size %llu do not describe %zu-byte "
                        "relocations",
                        relocations->name, (unsigned long long)relocations->header.sh_entsize,
                        (unsigned long long)relocations->size, sizeof(Elf64_Rel));
    if (loader->symbols_section == 0 || relocations->header.sh_link != loader->symbols_section)
        return elf_fail(loader, -EINVAL,
                        "section %s: linked to section %u, which is not the symbol table",
                        relocations->name, relocations->header.sh_link);
    *count = relocations->size / sizeof(Elf64_Rel);
    return 0;
}

void elf_relocation_read(const elf_section_t *relocations, size_t i, uint64_t *offset,
                         uint32_t *symbol, uint32_t *type)
{
    Elf64_Rel entry;

    memcpy(&entry, relocations->data + i * sizeof(entry), sizeof(entry));
    *offset = entry.r_offset;
    *symbol = (uint32_t)ELF64_R_SYM(entry.r_info);
    *type = (uint32_t)ELF64_R_TYPE(entry.r_info);
}

static const elf_section_t *elf_find_section(const elf_loader_t *loader, elf_section_kind_t kind)
{
    for (size_t i = 1; i < loader->section_count; i++)
        if (loader->sections[i].kind == kind)
            return &loader->sections[i];
    return NULL;
}

static int elf_license_and_version_read(elf_loader_t *loader)
{
    const elf_section_t *license = elf_find_section(loader, ELF_SECTION_LICENSE);
    const elf_section_t *version = elf_find_section(loader, ELF_SECTION_VERSION);
    ebpf_elf_object_t *object = loader->object;

    if (license && (license->size == 0 || !memchr(license->data, '\0', license->size)))
        return elf_fail(loader, -EINVAL, "section license: the license is not NUL-terminated");
    object->license = ebpf_strdup(license ? (const char *)license->data : "");
    if (!object->license)
        return elf_out_of_memory(loader, "the license");
    if (version) {
        if (version->size != sizeof(uint32_t))
            return elf_fail(loader, -EINVAL, "section version: size %llu is not 4",
                            (unsigned long long)version->size);
        object->kernel_version = elf_read_u32(version->data);
        object->has_kernel_version = true;
    }
    return 0;
}

static int elf_btf_sections_read(elf_loader_t *loader)
{
    const elf_section_t *btf = elf_find_section(loader, ELF_SECTION_BTF);
    const elf_section_t *btf_ext = elf_find_section(loader, ELF_SECTION_BTF_EXT);
    ebpf_elf_object_t *object = loader->object;
    int err;

    if (!btf)
        return 0;
    if (btf->size == 0)
        return elf_fail(loader, -EINVAL, "section .BTF is empty");
    /* Parsed from the object's own copy, so the strings line info points at outlive the
     * load. */
    object->btf = ebpf_allocate(btf->size);
    if (!object->btf)
        return elf_out_of_memory(loader, "section .BTF");
    memcpy(object->btf, btf->data, btf->size);
    object->btf_size = btf->size;
    err = elf_btf_parse(loader, object->btf, object->btf_size);
    if (err)
        return err;
    loader->has_btf = true;
    if (btf_ext && btf_ext->size > 0) {
        object->btf_ext = ebpf_allocate(btf_ext->size);
        if (!object->btf_ext)
            return elf_out_of_memory(loader, "section .BTF.ext");
        memcpy(object->btf_ext, btf_ext->data, btf_ext->size);
        object->btf_ext_size = btf_ext->size;
    }
    return 0;
}

static void elf_loader_release(elf_loader_t *loader)
{
    if (loader->sections) {
        for (size_t i = 0; i < loader->section_count; i++) {
            ebpf_free(loader->sections[i].relocations);
            ebpf_free(loader->sections[i].lines);
        }
    }
    ebpf_free(loader->sections);
    ebpf_free(loader->symbols);
    ebpf_free(loader->functions);
    ebpf_free(loader->map_locations);
    ebpf_free(loader->maps_by_location);
    elf_btf_release(&loader->btf);
    if (loader->elf)
        elf_end(loader->elf);
}

static int elf_load(elf_loader_t *loader)
{
    int err;

    err = elf_check_layout(loader);
    if (err)
        return err;
    pthread_once(&elf_library_once, elf_library_init);
    if (!elf_library_ready)
        return elf_fail(loader, -ENOTSUP, "libelf refused version EV_CURRENT");
    /* libelf takes a non-const image; with ELF_C_READ_MMAP semantics it does not write it. */
    loader->elf = elf_memory((char *)loader->image, loader->image_size);
    if (!loader->elf)
        return elf_fail(loader, -EINVAL, "libelf cannot read the object: %s", elf_errmsg(-1));
    if (elf_kind(loader->elf) != ELF_K_ELF)
        return elf_fail(loader, -ENOEXEC, "not an ELF object");

    err = elf_sections_read(loader);
    if (!err)
        err = elf_symbols_read(loader);
    if (!err)
        err = elf_btf_sections_read(loader);
    if (!err)
        err = elf_license_and_version_read(loader);
    if (!err)
        err = elf_maps_read(loader);
    if (!err)
        err = elf_functions_read(loader);
    if (!err)
        err = elf_code_relocations_read(loader);
    if (!err && loader->has_btf && loader->object->btf_ext)
        err = elf_btf_ext_read_lines(loader, loader->object->btf_ext, loader->object->btf_ext_size);
    if (!err)
        err = elf_programs_link(loader);
    if (!err)
        err = elf_maps_read_initial_values(loader);
    return err;
}

int ebpf_elf_open_memory(const void *data, size_t size, const char *name,
                         ebpf_elf_object_t **object)
{
    elf_loader_t loader = {.object_name = name ? name : "<memory>"};
    uint8_t *image = NULL;
    int err;

    if (!object)
        return ebpf_error(-EINVAL, "ebpf_elf_open_memory: object is NULL");
    *object = NULL;
    if (!data && size > 0)
        return elf_fail(&loader, -EINVAL, "no data");
    if (size == 0)
        return elf_fail(&loader, -ENOEXEC, "empty object");
    /* A private copy: libelf wants a mutable buffer and the caller's may be unaligned. */
    image = ebpf_allocate(size);
    if (!image)
        return elf_out_of_memory(&loader, "a copy of the object");
    memcpy(image, data, size);
    loader.image = image;
    loader.image_size = size;

    loader.object = ebpf_allocate(sizeof(*loader.object));
    if (!loader.object) {
        ebpf_free(image);
        return elf_out_of_memory(&loader, "the object");
    }
    loader.object->name = ebpf_strdup(loader.object_name);
    if (!loader.object->name)
        err = elf_out_of_memory(&loader, "the object name");
    else
        err = elf_load(&loader);
    elf_loader_release(&loader);
    ebpf_free(image);
    if (err) {
        ebpf_elf_free(loader.object);
        return err;
    }
    *object = loader.object;
    return 0;
}

int ebpf_elf_open_file(const char *path, ebpf_elf_object_t **object)
{
    struct stat status;
    uint8_t *data;
    size_t done = 0;
    int fd;
    int err;

    if (!object)
        return ebpf_error(-EINVAL, "ebpf_elf_open_file: object is NULL");
    *object = NULL;
    if (!path)
        return ebpf_error(-EINVAL, "ebpf_elf_open_file: path is NULL");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = -errno;
        return ebpf_error(err, "%s: cannot open: %s", path, strerror(-err));
    }
    if (fstat(fd, &status) != 0) {
        err = -errno;
        close(fd);
        return ebpf_error(err, "%s: cannot stat: %s", path, strerror(-err));
    }
    if (!S_ISREG(status.st_mode)) {
        close(fd);
        return ebpf_error(-EINVAL, "%s: not a regular file", path);
    }
    if (status.st_size <= 0) {
        close(fd);
        return ebpf_error(-ENOEXEC, "%s: empty object", path);
    }
    if ((uint64_t)status.st_size > EBPF_ELF_MAX_OBJECT_SIZE) {
        close(fd);
        return ebpf_error(-EFBIG, "%s: %lld bytes is larger than the %u-byte limit for objects",
                          path, (long long)status.st_size, EBPF_ELF_MAX_OBJECT_SIZE);
    }
    data = ebpf_allocate((size_t)status.st_size);
    if (!data) {
        close(fd);
        return ebpf_error(-ENOMEM, "%s: out of memory reading the file", path);
    }
    while (done < (size_t)status.st_size) {
        ssize_t got = read(fd, data + done, (size_t)status.st_size - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            err = got < 0 ? -errno : -EIO;
            close(fd);
            ebpf_free(data);
            return ebpf_error(err, "%s: read failed after %zu bytes: %s", path, done,
                              got < 0 ? strerror(-err) : "file shrank");
        }
        done += (size_t)got;
    }
    close(fd);
    err = ebpf_elf_open_memory(data, done, path, object);
    ebpf_free(data);
    return err;
}

void ebpf_elf_free(ebpf_elf_object_t *object)
{
    if (!object)
        return;
    if (object->programs) {
        for (size_t i = 0; i < object->program_count; i++)
            elf_program_release(&object->programs[i]);
    }
    if (object->maps) {
        for (size_t i = 0; i < object->map_count; i++)
            elf_map_release(&object->maps[i]);
    }
    ebpf_free(object->programs);
    ebpf_free(object->maps);
    ebpf_free(object->name);
    ebpf_free(object->license);
    ebpf_free(object->btf);
    ebpf_free(object->btf_ext);
    ebpf_free(object);
}

const ebpf_elf_program_t *ebpf_elf_find_program_by_section(const ebpf_elf_object_t *object,
                                                           const char *section_name)
{
    if (!object || !section_name)
        return NULL;
    for (size_t i = 0; i < object->program_count; i++)
        if (strcmp(object->programs[i].section_name, section_name) == 0)
            return &object->programs[i];
    return NULL;
}

const ebpf_elf_program_t *ebpf_elf_find_program_by_function(const ebpf_elf_object_t *object,
                                                            const char *function_name)
{
    if (!object || !function_name)
        return NULL;
    for (size_t i = 0; i < object->program_count; i++)
        if (strcmp(object->programs[i].function_name, function_name) == 0)
            return &object->programs[i];
    return NULL;
}

const ebpf_elf_map_t *ebpf_elf_find_map(const ebpf_elf_object_t *object, const char *name)
{
    if (!object || !name)
        return NULL;
    for (size_t i = 0; i < object->map_count; i++)
        if (strcmp(object->maps[i].name, name) == 0)
            return &object->maps[i];
    return NULL;
}
