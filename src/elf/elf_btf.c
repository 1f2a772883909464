/* BTF and .BTF.ext reading: every type checked once, so later lookups cannot run off or loop. */
#include <errno.h>
#include <string.h>

#include <linux/btf.h>

#include "ebpf_platform.h"
#include "elf_loader.h"

#define BTF_TYPE_FIXED_SIZE 12u
/* Longest chain of typedef / modifier / pointer / array references followed; libbpf and the
 * kernel use the same bound. */
#define BTF_MAX_REFERENCE_DEPTH 32u

static const char *const btf_kind_names[] = {
    [BTF_KIND_UNKN] = "UNKNOWN",      [BTF_KIND_INT] = "INT",
    [BTF_KIND_PTR] = "PTR",           [BTF_KIND_ARRAY] = "ARRAY",
    [BTF_KIND_STRUCT] = "STRUCT",     [BTF_KIND_UNION] = "UNION",
    [BTF_KIND_ENUM] = "ENUM",         [BTF_KIND_FWD] = "FWD",
    [BTF_KIND_TYPEDEF] = "TYPEDEF",   [BTF_KIND_VOLATILE] = "VOLATILE",
    [BTF_KIND_CONST] = "CONST",       [BTF_KIND_RESTRICT] = "RESTRICT",
    [BTF_KIND_FUNC] = "FUNC",         [BTF_KIND_FUNC_PROTO] = "FUNC_PROTO",
    [BTF_KIND_VAR] = "VAR",           [BTF_KIND_DATASEC] = "DATASEC",
    [BTF_KIND_FLOAT] = "FLOAT",       [BTF_KIND_DECL_TAG] = "DECL_TAG",
    [BTF_KIND_TYPE_TAG] = "TYPE_TAG", [BTF_KIND_ENUM64] = "ENUM64",
};

static const char *btf_kind_name(uint32_t kind)
{
    return kind < EBPF_ARRAY_SIZE(btf_kind_names) && btf_kind_names[kind] ? btf_kind_names[kind]
                                                                          : "UNKNOWN";
}

/* Bytes that follow the fixed part of a type of this kind, or -1 for an unknown kind. */
static int64_t btf_extra_size(uint32_t kind, uint32_t vlen)
{
    switch (kind) {
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
        return (int64_t)vlen * 12;
    case BTF_KIND_ENUM:
    case BTF_KIND_FUNC_PROTO:
        return (int64_t)vlen * 8;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG:
        return 0;
    default:
        return -1;
    }
}

static bool btf_kind_is_modifier(uint32_t kind)
{
    return kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_VOLATILE || kind == BTF_KIND_CONST ||
           kind == BTF_KIND_RESTRICT || kind == BTF_KIND_TYPE_TAG;
}

static void btf_decode(const elf_btf_t *btf, uint32_t id, elf_btf_type_t *type)
{
    const uint8_t *p = btf->types + btf->type_offset[id];
    uint32_t info = elf_read_u32(p + 4);

    type->id = id;
    type->name_offset = elf_read_u32(p);
    type->kind = BTF_INFO_KIND(info);
    type->vlen = BTF_INFO_VLEN(info);
    type->kind_flag = BTF_INFO_KFLAG(info) != 0;
    type->size_or_type = elf_read_u32(p + 8);
    type->extra = p + BTF_TYPE_FIXED_SIZE;
}

const char *elf_btf_string(const elf_btf_t *btf, uint32_t offset)
{
    /* The string section ends with NUL (checked at parse), so any offset inside it starts a
     * terminated string. */
    return offset < btf->strings_size ? btf->strings + offset : NULL;
}

int elf_btf_get(const elf_loader_t *loader, uint32_t id, elf_btf_type_t *type)
{
    if (id == 0 || id >= loader->btf.type_count)
        return elf_fail(loader, -EINVAL, "BTF type id %u is out of range (1..%u)", id,
                        loader->btf.type_count - 1);
    btf_decode(&loader->btf, id, type);
    return 0;
}

static int btf_check_reference(const elf_loader_t *loader, const elf_btf_type_t *type,
                               uint32_t target)
{
    if (target >= loader->btf.type_count)
        return elf_fail(loader, -EINVAL,
                        "BTF type %u (%s) refers to type %u but the BTF has %u types", type->id,
                        btf_kind_name(type->kind), target, loader->btf.type_count);
    return 0;
}

static int btf_check_type(const elf_loader_t *loader, const elf_btf_type_t *type)
{
    int err = 0;

    if (!elf_btf_string(&loader->btf, type->name_offset))
        return elf_fail(loader, -EINVAL,
                        "BTF type %u (%s): name offset %u lies outside the %u-byte string "
                        "section",
                        type->id, btf_kind_name(type->kind), type->name_offset,
                        loader->btf.strings_size);
    switch (type->kind) {
    case BTF_KIND_PTR:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
    case BTF_KIND_TYPE_TAG:
    case BTF_KIND_FUNC_PROTO: /* the return type */
        err = btf_check_reference(loader, type, type->size_or_type);
        break;
    case BTF_KIND_ARRAY:
        err = btf_check_reference(loader, type, elf_read_u32(type->extra));
        if (!err)
            err = btf_check_reference(loader, type, elf_read_u32(type->extra + 4));
        break;
    default:
        break;
    }
    if (err)
        return err;
    for (uint32_t i = 0; i < type->vlen; i++) {
        const uint8_t *entry;
        switch (type->kind) {
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
            entry = type->extra + i * 12;
            if (!elf_btf_string(&loader->btf, elf_read_u32(entry)))
                return elf_fail(loader, -EINVAL,
                                "BTF type %u (%s): member %u has a name offset outside the "
                                "string section",
                                type->id, btf_kind_name(type->kind), i);
            err = btf_check_reference(loader, type, elf_read_u32(entry + 4));
            break;
        case BTF_KIND_FUNC_PROTO:
            err = btf_check_reference(loader, type, elf_read_u32(type->extra + i * 8 + 4));
            break;
        case BTF_KIND_DATASEC:
            err = btf_check_reference(loader, type, elf_read_u32(type->extra + i * 12));
            break;
        default:
            break;
        }
        if (err)
            return err;
    }
    return 0;
}

/* The next type in a chain that has no size of its own, or 0 when type ends the chain. */
static uint32_t btf_chain_next(const elf_btf_type_t *type)
{
    if (btf_kind_is_modifier(type->kind) || type->kind == BTF_KIND_PTR ||
        type->kind == BTF_KIND_VAR)
        return type->size_or_type;
    if (type->kind == BTF_KIND_ARRAY)
        return elf_read_u32(type->extra);
    return 0;
}

/* Rejects reference chains that loop (a typedef of itself, an array of itself, ...): those
 * are what could make a resolver run forever. Recursion through struct members is legal and
 * not followed. */
static int btf_check_chains(const elf_loader_t *loader)
{
    for (uint32_t id = 1; id < loader->btf.type_count; id++) {
        elf_btf_type_t type;
        uint32_t next;
        uint32_t depth = 0;

        btf_decode(&loader->btf, id, &type);
        next = btf_chain_next(&type);
        while (next != 0) {
            if (++depth > BTF_MAX_REFERENCE_DEPTH)
                return elf_fail(loader, -EINVAL,
                                "BTF type %u (%s): its chain of type references loops or is "
                                "deeper than %u",
                                id, btf_kind_name(type.kind), BTF_MAX_REFERENCE_DEPTH);
            elf_btf_type_t step;
            btf_decode(&loader->btf, next, &step);
            next = btf_chain_next(&step);
        }
    }
    return 0;
}

int elf_btf_parse(elf_loader_t *loader, const uint8_t *data, size_t size)
{
    elf_btf_t *btf = &loader->btf;
    uint32_t header_length, types_offset, types_length, strings_offset, strings_length;
    uint16_t magic;
    uint64_t offset;
    uint32_t count;
    int err;

    if (size < sizeof(struct btf_header))
        return elf_fail(loader, -EINVAL, "section .BTF: %zu bytes is shorter than its header",
                        size);
    magic = elf_read_u16(data);
    if (magic != BTF_MAGIC)
        return elf_fail(loader, -EINVAL, "section .BTF: magic 0x%04x is not 0x%04x%s", magic,
                        BTF_MAGIC, magic == 0x9FEB ? " (big-endian BTF)" : "");
    if (data[2] != 1)
        return elf_fail(loader, -EINVAL, "section .BTF: version %u is not 1", data[2]);
    header_length = elf_read_u32(data + 4);
    types_offset = elf_read_u32(data + 8);
    types_length = elf_read_u32(data + 12);
    strings_offset = elf_read_u32(data + 16);
    strings_length = elf_read_u32(data + 20);
    if (header_length < sizeof(struct btf_header) || header_length > size)
        return elf_fail(loader, -EINVAL, "section .BTF: header length %u is invalid",
                        header_length);
    if ((uint64_t)header_length + types_offset + types_length > size)
        return elf_fail(loader, -EINVAL,
                        "section .BTF: types at [%u, +%u) lie beyond the %zu-byte section",
                        types_offset, types_length, size);
    if ((uint64_t)header_length + strings_offset + strings_length > size)
        return elf_fail(loader, -EINVAL,
                        "section .BTF: strings at [%u, +%u) lie beyond the %zu-byte section",
                        strings_offset, strings_length, size);
    btf->types = data + header_length + types_offset;
    btf->types_size = types_length;
    btf->strings = (const char *)data + header_length + strings_offset;
    btf->strings_size = strings_length;
    if (strings_length == 0 || btf->strings[0] != '\0' || btf->strings[strings_length - 1] != '\0')
        return elf_fail(loader, -EINVAL,
                        "section .BTF: the string section must start and end with NUL");

    /* First walk: count and bound every type. */
    count = 1;
    for (offset = 0; offset < types_length; count++) {
        uint32_t info;
        int64_t extra;

        if (types_length - offset < BTF_TYPE_FIXED_SIZE)
            return elf_fail(loader, -EINVAL, "section .BTF: type %u is cut off at byte %llu", count,
                            (unsigned long long)offset);
        info = elf_read_u32(btf->types + offset + 4);
        extra = btf_extra_size(BTF_INFO_KIND(info), BTF_INFO_VLEN(info));
        if (extra < 0)
            return elf_fail(loader, -EINVAL, "section .BTF: type %u has unknown kind %u", count,
                            BTF_INFO_KIND(info));
        if (types_length - offset - BTF_TYPE_FIXED_SIZE < (uint64_t)extra)
            return elf_fail(loader, -EINVAL,
                            "section .BTF: type %u (%s) with %u entries runs past the end of "
                            "the type section",
                            count, btf_kind_name(BTF_INFO_KIND(info)), BTF_INFO_VLEN(info));
        offset += BTF_TYPE_FIXED_SIZE + (uint64_t)extra;
        if (count > BTF_MAX_TYPE)
            return elf_fail(loader, -EINVAL, "section .BTF: more than %u types", BTF_MAX_TYPE);
    }
    btf->type_offset = ebpf_allocate_array(count, sizeof(*btf->type_offset));
    if (!btf->type_offset)
        return elf_out_of_memory(loader, "the BTF type index");
    btf->type_count = count;
    offset = 0;
    for (uint32_t id = 1; id < count; id++) {
        uint32_t info = elf_read_u32(btf->types + offset + 4);
        btf->type_offset[id] = (uint32_t)offset;
        offset += BTF_TYPE_FIXED_SIZE +
                  (uint64_t)btf_extra_size(BTF_INFO_KIND(info), BTF_INFO_VLEN(info));
    }

    /* Second walk: names and references, now that the count is known. */
    for (uint32_t id = 1; id < count; id++) {
        elf_btf_type_t type;
        btf_decode(btf, id, &type);
        err = btf_check_type(loader, &type);
        if (err)
            return err;
        btf->datasec_count += type.kind == BTF_KIND_DATASEC;
    }
    if (btf->datasec_count > 0) {
        btf->datasec_ids = ebpf_allocate_array(btf->datasec_count, sizeof(*btf->datasec_ids));
        if (!btf->datasec_ids)
            return elf_out_of_memory(loader, "the BTF DATASEC index");
        for (uint32_t id = 1, found = 0; id < count; id++) {
            elf_btf_type_t type;
            btf_decode(btf, id, &type);
            if (type.kind == BTF_KIND_DATASEC)
                btf->datasec_ids[found++] = id;
        }
    }
    return btf_check_chains(loader);
}

void elf_btf_release(elf_btf_t *btf)
{
    ebpf_free(btf->type_offset);
    ebpf_free(btf->datasec_ids);
    btf->type_offset = NULL;
    btf->datasec_ids = NULL;
    btf->type_count = 0;
    btf->datasec_count = 0;
}

int elf_btf_skip_modifiers(const elf_loader_t *loader, uint32_t id, elf_btf_type_t *type)
{
    for (uint32_t depth = 0; depth <= BTF_MAX_REFERENCE_DEPTH; depth++) {
        int err = elf_btf_get(loader, id, type);
        if (err)
            return err;
        if (!btf_kind_is_modifier(type->kind))
            return 0;
        id = type->size_or_type;
    }
    return elf_fail(loader, -EINVAL, "BTF type %u: modifiers nest deeper than %u", id,
                    BTF_MAX_REFERENCE_DEPTH);
}

int elf_btf_type_size(const elf_loader_t *loader, uint32_t id, uint64_t *size)
{
    uint64_t multiplier = 1;
    uint32_t start = id;

    for (uint32_t depth = 0; depth <= BTF_MAX_REFERENCE_DEPTH; depth++) {
        elf_btf_type_t type;
        uint64_t element;
        uint32_t count;
        int err = elf_btf_get(loader, id, &type);
        if (err)
            return err;
        switch (type.kind) {
        case BTF_KIND_INT:
        case BTF_KIND_ENUM:
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
        case BTF_KIND_FLOAT:
        case BTF_KIND_ENUM64:
        case BTF_KIND_DATASEC:
        case BTF_KIND_PTR:
            element = type.kind == BTF_KIND_PTR ? sizeof(uint64_t) : type.size_or_type;
            if (element != 0 && multiplier > UINT64_MAX / element)
                return elf_fail(loader, -EINVAL, "BTF type %u: size overflows", start);
            *size = element * multiplier;
            return 0;
        case BTF_KIND_ARRAY:
            count = elf_read_u32(type.extra + 8);
            if (count != 0 && multiplier > UINT64_MAX / count)
                return elf_fail(loader, -EINVAL, "BTF type %u: array size overflows", start);
            multiplier *= count;
            id = elf_read_u32(type.extra);
            break;
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_TYPE_TAG:
        case BTF_KIND_VAR:
            id = type.size_or_type;
            break;
        default:
            return elf_fail(loader, -EINVAL, "BTF type %u (%s) has no size", id,
                            btf_kind_name(type.kind));
        }
    }
    return elf_fail(loader, -EINVAL, "BTF type %u: references nest deeper than %u", start,
                    BTF_MAX_REFERENCE_DEPTH);
}

uint32_t elf_btf_find_datasec(const elf_loader_t *loader, const char *name)
{
    for (uint32_t i = 0; i < loader->btf.datasec_count; i++) {
        elf_btf_type_t type;
        btf_decode(&loader->btf, loader->btf.datasec_ids[i], &type);
        if (strcmp(elf_btf_string(&loader->btf, type.name_offset), name) == 0)
            return type.id;
    }
    return 0;
}

uint32_t elf_btf_find_datasec_variable(const elf_loader_t *loader, uint32_t datasec_id,
                                       const char *name)
{
    elf_btf_type_t datasec;

    if (datasec_id == 0 || datasec_id >= loader->btf.type_count)
        return 0;
    btf_decode(&loader->btf, datasec_id, &datasec);
    for (uint32_t i = 0; i < datasec.vlen; i++) {
        uint32_t variable_id = elf_read_u32(datasec.extra + i * 12);
        elf_btf_type_t variable;
        if (variable_id == 0)
            continue;
        btf_decode(&loader->btf, variable_id, &variable);
        if (variable.kind == BTF_KIND_VAR &&
            strcmp(elf_btf_string(&loader->btf, variable.name_offset), name) == 0)
            return variable.size_or_type;
    }
    return 0;
}

/* .BTF.ext header: magic, version, flags, hdr_len, then func_info and line_info (offset,
 * length) pairs relative to the end of the header. */
#define BTF_EXT_MIN_HEADER   24u
#define BTF_LINE_RECORD_SIZE 16u

static elf_section_t *elf_code_section_named(elf_loader_t *loader, const char *name)
{
    for (size_t i = 1; i < loader->section_count; i++) {
        elf_section_t *section = &loader->sections[i];
        if ((section->kind == ELF_SECTION_PROGRAM || section->kind == ELF_SECTION_TEXT) &&
            strcmp(section->name, name) == 0)
            return section;
    }
    return NULL;
}

int elf_btf_ext_read_lines(elf_loader_t *loader, const uint8_t *data, size_t size)
{
    uint32_t header_length, lines_offset, lines_length, record_size;
    const uint8_t *lines;
    uint64_t offset;

    if (size < BTF_EXT_MIN_HEADER)
        return elf_fail(loader, -EINVAL, "section .BTF.ext: %zu bytes is shorter than its header",
                        size);
    if (elf_read_u16(data) != BTF_MAGIC)
        return elf_fail(loader, -EINVAL, "section .BTF.ext: bad magic 0x%04x", elf_read_u16(data));
    if (data[2] != 1)
        return elf_fail(loader, -EINVAL, "section .BTF.ext: version %u is not 1", data[2]);
    header_length = elf_read_u32(data + 4);
    if (header_length < BTF_EXT_MIN_HEADER || header_length > size)
        return elf_fail(loader, -EINVAL, "section .BTF.ext: header length %u is invalid",
                        header_length);
    lines_offset = elf_read_u32(data + 16);
    lines_length = elf_read_u32(data + 20);
    if (lines_length == 0)
        return 0;
    if ((uint64_t)header_length + lines_offset + lines_length > size)
        return elf_fail(loader, -EINVAL,
                        "section .BTF.ext: line info at [%u, +%u) lies beyond the %zu-byte "
                        "section",
                        lines_offset, lines_length, size);
    lines = data + header_length + lines_offset;
    if (lines_length < 4)
        return elf_fail(loader, -EINVAL, "section .BTF.ext: line info has no record size");
    record_size = elf_read_u32(lines);
    if (record_size < BTF_LINE_RECORD_SIZE || record_size > 1024)
        return elf_fail(loader, -EINVAL, "section .BTF.ext: line record size %u is invalid",
                        record_size);

    for (offset = 4; offset < lines_length;) {
        uint32_t name_offset, record_count;
        const char *name;
        elf_section_t *section;

        if (lines_length - offset < 8)
            return elf_fail(loader, -EINVAL,
                            "section .BTF.ext: line info block at byte %llu is cut off",
                            (unsigned long long)offset);
        name_offset = elf_read_u32(lines + offset);
        record_count = elf_read_u32(lines + offset + 4);
        offset += 8;
        name = elf_btf_string(&loader->btf, name_offset);
        if (!name)
            return elf_fail(loader, -EINVAL,
                            "section .BTF.ext: line info section name offset %u lies outside "
                            "the BTF strings",
                            name_offset);
        if ((uint64_t)record_count * record_size > lines_length - offset)
            return elf_fail(loader, -EINVAL,
                            "section .BTF.ext: %u line records of section %s run past the end "
                            "of the line info",
                            record_count, name);
        section = elf_code_section_named(loader, name);
        if (!section)
            return elf_fail(loader, -EINVAL,
                            "section .BTF.ext: line info names section '%s', which is not a "
                            "code section of the object",
                            name);
        if (section->lines)
            return elf_fail(loader, -EINVAL,
                            "section .BTF.ext: line info for section %s appears twice", name);
        if (record_count > 0) {
            section->lines = ebpf_allocate_array(record_count, sizeof(*section->lines));
            if (!section->lines)
                return elf_out_of_memory(loader, "line info");
            section->line_count = record_count;
        }
        for (uint32_t i = 0; i < record_count; i++, offset += record_size) {
            const uint8_t *record = lines + offset;
            elf_line_record_t *line = &section->lines[i];
            uint32_t instruction_offset = elf_read_u32(record);
            uint32_t line_column = elf_read_u32(record + 12);

            if (instruction_offset % sizeof(struct bpf_insn) != 0 ||
                instruction_offset >= section->size)
                return elf_fail(loader, -EINVAL,
                                "section .BTF.ext: line record %u of section %s points at byte "
                                "%u, not an instruction of the %llu-byte section",
                                i, name, instruction_offset, (unsigned long long)section->size);
            if (i > 0 && instruction_offset < section->lines[i - 1].offset)
                return elf_fail(loader, -EINVAL,
                                "section .BTF.ext: line records of section %s are not sorted",
                                name);
            line->offset = instruction_offset;
            line->info.file_name = elf_btf_string(&loader->btf, elf_read_u32(record + 4));
            line->info.line_text = elf_btf_string(&loader->btf, elf_read_u32(record + 8));
            if (!line->info.file_name || !line->info.line_text)
                return elf_fail(loader, -EINVAL,
                                "section .BTF.ext: line record %u of section %s has a string "
                                "offset outside the BTF strings",
                                i, name);
            line->info.line = line_column >> 10;
            line->info.column = line_column & 0x3ff;
        }
    }
    return 0;
}
