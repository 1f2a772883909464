/* Map definitions: legacy SEC("maps"), BTF SEC(".maps") and global data sections. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/btf.h>

#include "ebpf_platform.h"
#include "elf_loader.h"

/* Relocation types of the BPF ELF ABI (llvm's BPF backend). */
#define R_BPF_NONE_TYPE     0u
#define R_BPF_64_ABS64_TYPE 2u

#define LEGACY_LINUX_DEFINITION_SIZE   20u /* struct bpf_map_def */
#define LEGACY_WINDOWS_DEFINITION_SIZE 32u /* eBPF for Windows _ebpf_map_definition_in_file */
#define WINDOWS_PIN_NONE               0u
#define WINDOWS_PIN_GLOBAL_NS          2u
#define PIN_BY_NAME                    1u

void elf_map_release(ebpf_elf_map_t *map)
{
    ebpf_free(map->name);
    ebpf_free(map->section_name);
    if (map->inner_map) {
        elf_map_release(map->inner_map);
        ebpf_free(map->inner_map);
    }
    ebpf_free(map->initial_values);
    ebpf_free(map->initial_data);
    memset(map, 0, sizeof(*map));
}

/* Position in maps_by_location of the last map at or before (section, offset), or -1. */
static int64_t elf_map_position_before(const elf_loader_t *loader, uint32_t section,
                                       uint64_t offset)
{
    size_t low = 0;
    size_t high = loader->object->map_count;

    if (!loader->maps_by_location)
        return -1;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        const elf_map_location_t *location =
            &loader->map_locations[loader->maps_by_location[middle]];
        if (location->section < section ||
            (location->section == section && location->offset <= offset))
            low = middle + 1;
        else
            high = middle;
    }
    return (int64_t)low - 1;
}

int64_t elf_map_at(const elf_loader_t *loader, uint32_t section, uint64_t offset)
{
    int64_t position = elf_map_position_before(loader, section, offset);
    const elf_map_location_t *location;

    if (position < 0)
        return -1;
    location = &loader->map_locations[loader->maps_by_location[position]];
    if (location->section != section || location->offset != offset)
        return -1;
    return (int64_t)loader->maps_by_location[position];
}

static bool elf_symbol_is_map(const elf_symbol_t *symbol, size_t section)
{
    if (symbol->section != section)
        return false;
    return symbol->type == STT_OBJECT || (symbol->type == STT_NOTYPE && symbol->bind == STB_GLOBAL);
}

static int compare_symbol_by_value(const void *left, const void *right, void *symbols)
{
    const elf_symbol_t *table = symbols;
    uint64_t a = table[*(const size_t *)left].value;
    uint64_t b = table[*(const size_t *)right].value;
    return a < b ? -1 : a > b;
}

/* Symbols defining maps in section, by offset. */
static int elf_map_symbols(elf_loader_t *loader, size_t section, size_t **indexes, size_t *count)
{
    size_t found = 0;

    *indexes = NULL;
    *count = 0;
    for (size_t i = 0; i < loader->symbol_count; i++)
        found += elf_symbol_is_map(&loader->symbols[i], section);
    if (found == 0)
        return 0;
    *indexes = ebpf_allocate_array(found, sizeof(**indexes));
    if (!*indexes)
        return elf_out_of_memory(loader, "map symbols");
    for (size_t i = 0, j = 0; i < loader->symbol_count; i++)
        if (elf_symbol_is_map(&loader->symbols[i], section))
            (*indexes)[j++] = i;
    qsort_r(*indexes, found, sizeof(**indexes), compare_symbol_by_value, loader->symbols);
    for (size_t j = 1; j < found; j++) {
        const elf_symbol_t *previous = &loader->symbols[(*indexes)[j - 1]];
        const elf_symbol_t *current = &loader->symbols[(*indexes)[j]];
        if (previous->value == current->value) {
            int err =
                elf_fail(loader, -EINVAL, "section %s: maps %s and %s start at the same offset",
                         loader->sections[section].name, elf_symbol_display_name(previous),
                         elf_symbol_display_name(current));
            ebpf_free(*indexes);
            *indexes = NULL;
            return err;
        }
    }
    *count = found;
    return 0;
}

/* Starts the next entry of object->maps (preallocated by the caller). */
static int elf_map_begin(elf_loader_t *loader, const char *name, const elf_section_t *section,
                         ebpf_elf_map_origin_t origin, ebpf_elf_map_t **map)
{
    ebpf_elf_object_t *object = loader->object;
    ebpf_elf_map_t *entry = &object->maps[object->map_count];

    entry->name = ebpf_strdup(name);
    entry->section_name = ebpf_strdup(section->name);
    entry->origin = origin;
    entry->inner_map_index = -1;
    loader->map_locations[object->map_count].values_offset = -1;
    loader->map_locations[object->map_count].section = (uint32_t)(section - loader->sections);
    object->map_count++;
    if (!entry->name || !entry->section_name)
        return elf_out_of_memory(loader, "a map name");
    *map = entry;
    return 0;
}

static int elf_legacy_maps_read(elf_loader_t *loader, size_t section_index)
{
    const elf_section_t *section = &loader->sections[section_index];
    size_t first_index = loader->object->map_count;
    size_t *indexes;
    size_t count;
    int err = elf_map_symbols(loader, section_index, &indexes, &count);

    if (err || count == 0)
        return err;
    for (size_t j = 0; j < count && !err; j++) {
        const elf_symbol_t *symbol = &loader->symbols[indexes[j]];
        const char *name = elf_symbol_display_name(symbol);
        uint64_t size = symbol->size ? symbol->size : section->size / count;
        const uint8_t *definition;
        ebpf_elf_map_t *map;

        if (symbol->value > section->size || section->size - symbol->value < size)
            err = elf_fail(loader, -EINVAL,
                           "map %s: definition at [%llu, +%llu) lies beyond the %llu-byte "
                           "section %s",
                           name, (unsigned long long)symbol->value, (unsigned long long)size,
                           (unsigned long long)section->size, section->name);
        else if (size < LEGACY_LINUX_DEFINITION_SIZE)
            err = elf_fail(loader, -EINVAL,
                           "map %s: legacy definition of %llu bytes is shorter than struct "
                           "bpf_map_def (%u)",
                           name, (unsigned long long)size, LEGACY_LINUX_DEFINITION_SIZE);
        if (!err)
            err = elf_map_begin(loader, name, section, EBPF_ELF_MAP_LEGACY, &map);
        if (err)
            break;
        definition = section->data + symbol->value;
        loader->map_locations[loader->object->map_count - 1].offset = symbol->value;
        loader->map_locations[loader->object->map_count - 1].size = size;
        map->type = elf_read_u32(definition);
        map->key_size = elf_read_u32(definition + 4);
        map->value_size = elf_read_u32(definition + 8);
        map->max_entries = elf_read_u32(definition + 12);
        if (size == LEGACY_WINDOWS_DEFINITION_SIZE) {
            /* {type, key_size, value_size, max_entries, inner_map_idx, pinning, id, inner_id} */
            uint32_t inner = elf_read_u32(definition + 16);
            uint32_t pinning = elf_read_u32(definition + 20);
            if (map->type == BPF_MAP_TYPE_ARRAY_OF_MAPS || map->type == BPF_MAP_TYPE_HASH_OF_MAPS) {
                if (inner >= count || inner == j)
                    err = elf_fail(loader, -EINVAL,
                                   "map %s: inner map index %u is not another of the %zu maps "
                                   "of section %s",
                                   name, inner, count, section->name);
                map->inner_map_index = (int32_t)(first_index + inner);
            }
            if (pinning == WINDOWS_PIN_GLOBAL_NS)
                map->pinning = PIN_BY_NAME;
            else if (pinning != WINDOWS_PIN_NONE && !err)
                err = elf_fail(loader, -ENOTSUP, "map %s: pinning type %u is not supported", name,
                               pinning);
        } else {
            map->map_flags = elf_read_u32(definition + 16);
            for (uint64_t k = LEGACY_LINUX_DEFINITION_SIZE; k < size && !err; k++)
                if (definition[k] != 0)
                    err = elf_fail(loader, -ENOTSUP,
                                   "map %s: legacy definition of %llu bytes has unknown non-zero "
                                   "fields after struct bpf_map_def",
                                   name, (unsigned long long)size);
        }
    }
    ebpf_free(indexes);
    return err;
}

/* __uint(name, value) is `int (*name)[value]`: the number is the array's element count. */
static int btf_map_integer(elf_loader_t *loader, const char *map, const char *field,
                           uint32_t type_id, uint32_t *value)
{
    elf_btf_type_t pointer, array;
    int err = elf_btf_skip_modifiers(loader, type_id, &pointer);

    if (err)
        return err;
    if (pointer.kind != BTF_KIND_PTR)
        return elf_fail(loader, -EINVAL, "map %s: field '%s' is not declared with __uint()", map,
                        field);
    err = elf_btf_skip_modifiers(loader, pointer.size_or_type, &array);
    if (err)
        return err;
    if (array.kind != BTF_KIND_ARRAY)
        return elf_fail(loader, -EINVAL, "map %s: field '%s' is not declared with __uint()", map,
                        field);
    *value = elf_read_u32(array.extra + 8);
    return 0;
}

/* __type(name, T) is `T *name`: gives T's id and size. */
static int btf_map_type(elf_loader_t *loader, const char *map, const char *field, uint32_t type_id,
                        uint32_t *target, uint32_t *size)
{
    elf_btf_type_t pointer;
    uint64_t bytes;
    int err = elf_btf_skip_modifiers(loader, type_id, &pointer);

    if (err)
        return err;
    if (pointer.kind != BTF_KIND_PTR)
        return elf_fail(loader, -EINVAL, "map %s: field '%s' is not declared with __type()", map,
                        field);
    err = elf_btf_type_size(loader, pointer.size_or_type, &bytes);
    if (err)
        return elf_fail_in_context(loader, err, "map %s: field '%s'", map, field);
    if (bytes == 0 || bytes > UINT32_MAX)
        return elf_fail(loader, -EINVAL, "map %s: field '%s' has size %llu", map, field,
                        (unsigned long long)bytes);
    *target = pointer.size_or_type;
    *size = (uint32_t)bytes;
    return 0;
}

static int btf_map_size_field(elf_loader_t *loader, const char *map, const char *field,
                              uint32_t *size, uint32_t value)
{
    if (*size != 0 && *size != value)
        return elf_fail(loader, -EINVAL, "map %s: %s is %u but another field says %u", map, field,
                        value, *size);
    *size = value;
    return 0;
}

static int btf_map_definition(elf_loader_t *loader, const char *name, uint32_t struct_id,
                              bool is_inner, ebpf_elf_map_t *map, int64_t *values_offset);

/* __array(values, T) is `T *values[]`: T is the inner map's definition or, for a program
 * array, a function prototype. */
static int btf_map_values(elf_loader_t *loader, ebpf_elf_map_t *map, uint32_t type_id)
{
    elf_btf_type_t array, pointer, target;
    int err = elf_btf_skip_modifiers(loader, type_id, &array);

    if (!err && array.kind != BTF_KIND_ARRAY)
        err = elf_fail(loader, -EINVAL, "map %s: field 'values' is not declared with __array()",
                       map->name);
    if (!err)
        err = elf_btf_skip_modifiers(loader, elf_read_u32(array.extra), &pointer);
    if (!err && pointer.kind != BTF_KIND_PTR)
        err = elf_fail(loader, -EINVAL, "map %s: 'values' must be an array of pointers", map->name);
    if (!err)
        err = elf_btf_skip_modifiers(loader, pointer.size_or_type, &target);
    if (err)
        return err;
    if (target.kind == BTF_KIND_FUNC_PROTO)
        return 0; /* program array: checked against the map type by the caller */
    if (target.kind != BTF_KIND_STRUCT)
        return elf_fail(loader, -EINVAL,
                        "map %s: 'values' must point to a map definition or a function", map->name);
    map->inner_map = ebpf_allocate(sizeof(*map->inner_map));
    if (!map->inner_map)
        return elf_out_of_memory(loader, "an inner map definition");
    map->inner_map->inner_map_index = -1;
    map->inner_map->origin = EBPF_ELF_MAP_BTF;
    map->inner_map->section_name = ebpf_strdup(map->section_name);
    map->inner_map->name = ebpf_allocate(strlen(map->name) + sizeof(".inner"));
    if (!map->inner_map->name || !map->inner_map->section_name)
        return elf_out_of_memory(loader, "an inner map definition");
    strcpy(map->inner_map->name, map->name);
    strcat(map->inner_map->name, ".inner");
    return btf_map_definition(loader, map->inner_map->name, target.id, true, map->inner_map, NULL);
}

static int btf_map_definition(elf_loader_t *loader, const char *name, uint32_t struct_id,
                              bool is_inner, ebpf_elf_map_t *map, int64_t *values_offset)
{
    elf_btf_type_t definition;
    bool has_type = false;
    bool has_values = false;
    uint32_t values_type = 0;
    uint32_t values_bit_offset = 0;
    int err = elf_btf_skip_modifiers(loader, struct_id, &definition);

    if (err)
        return err;
    if (definition.kind != BTF_KIND_STRUCT)
        return elf_fail(loader, -EINVAL, "map %s: definition is not a struct", name);
    for (uint32_t i = 0; i < definition.vlen && !err; i++) {
        const uint8_t *member = definition.extra + i * 12;
        const char *field = elf_btf_string(&loader->btf, elf_read_u32(member));
        uint32_t member_type = elf_read_u32(member + 4);
        uint32_t value = 0;
        uint32_t size = 0;

        if (strcmp(field, "type") == 0) {
            err = btf_map_integer(loader, name, field, member_type, &map->type);
            has_type = true;
        } else if (strcmp(field, "max_entries") == 0) {
            err = btf_map_integer(loader, name, field, member_type, &map->max_entries);
        } else if (strcmp(field, "map_flags") == 0) {
            err = btf_map_integer(loader, name, field, member_type, &map->map_flags);
        } else if (strcmp(field, "key_size") == 0 || strcmp(field, "value_size") == 0) {
            err = btf_map_integer(loader, name, field, member_type, &value);
            if (!err)
                err =
                    btf_map_size_field(loader, name, field,
                                       field[0] == 'k' ? &map->key_size : &map->value_size, value);
        } else if (strcmp(field, "key") == 0) {
            err = btf_map_type(loader, name, field, member_type, &map->key_btf_type_id, &size);
            if (!err)
                err = btf_map_size_field(loader, name, "the size of key", &map->key_size, size);
        } else if (strcmp(field, "value") == 0) {
            err = btf_map_type(loader, name, field, member_type, &map->value_btf_type_id, &size);
            if (!err)
                err = btf_map_size_field(loader, name, "the size of value", &map->value_size, size);
        } else if (strcmp(field, "pinning") == 0) {
            err = btf_map_integer(loader, name, field, member_type, &map->pinning);
            if (!err && map->pinning > PIN_BY_NAME)
                err = elf_fail(loader, -EINVAL,
                               "map %s: pinning %u is neither LIBBPF_PIN_NONE nor "
                               "LIBBPF_PIN_BY_NAME",
                               name, map->pinning);
        } else if (strcmp(field, "numa_node") == 0 || strcmp(field, "map_extra") == 0) {
            /* Meaningless in user space; read only to check their shape. */
            err = btf_map_integer(loader, name, field, member_type, &value);
        } else if (strcmp(field, "values") == 0) {
            if (is_inner)
                err = elf_fail(loader, -ENOTSUP,
                               "map %s: an inner map cannot itself hold maps or programs", name);
            has_values = true;
            values_type = member_type;
            values_bit_offset = elf_read_u32(member + 8);
        } else {
            err = elf_fail(loader, -EINVAL, "map %s: unknown field '%s'", name,
                           field[0] ? field : "<anonymous>");
        }
    }
    if (err)
        return err;
    if (!has_type)
        return elf_fail(loader, -EINVAL, "map %s: no type (__uint(type, ...))", name);
    if (!has_values)
        return 0;
    if (map->type != BPF_MAP_TYPE_ARRAY_OF_MAPS && map->type != BPF_MAP_TYPE_HASH_OF_MAPS &&
        map->type != BPF_MAP_TYPE_PROG_ARRAY)
        return elf_fail(loader, -EINVAL,
                        "map %s: 'values' is only allowed in map-in-map and program array maps",
                        name);
    if (definition.kind_flag || values_bit_offset % 8 != 0)
        return elf_fail(loader, -EINVAL, "map %s: field 'values' is not byte-aligned", name);
    err = btf_map_values(loader, map, values_type);
    if (err)
        return err;
    if ((map->type == BPF_MAP_TYPE_PROG_ARRAY) != (map->inner_map == NULL))
        return elf_fail(loader, -EINVAL,
                        map->inner_map ? "map %s: a program array holds programs, not maps"
                                       : "map %s: a map-in-map holds maps, not programs",
                        name);
    /* The slots hold ids, as in libbpf. */
    err = btf_map_size_field(loader, name, "value_size", &map->value_size, sizeof(uint32_t));
    if (!err && values_offset)
        *values_offset = values_bit_offset / 8;
    return err;
}

static int elf_btf_maps_read(elf_loader_t *loader, size_t section_index)
{
    const elf_section_t *section = &loader->sections[section_index];
    uint32_t datasec;
    size_t *indexes;
    size_t count;
    int err = elf_map_symbols(loader, section_index, &indexes, &count);

    if (err || count == 0)
        return err;
    if (!loader->has_btf) {
        ebpf_free(indexes);
        return elf_fail(loader, -EINVAL,
                        "section .maps defines %zu maps but the object has no .BTF to describe "
                        "them (compile with -g)",
                        count);
    }
    datasec = elf_btf_find_datasec(loader, ".maps");
    for (size_t j = 0; j < count && !err; j++) {
        const elf_symbol_t *symbol = &loader->symbols[indexes[j]];
        const char *name = elf_symbol_display_name(symbol);
        elf_map_location_t *location;
        uint32_t definition;
        ebpf_elf_map_t *map;

        if (symbol->value > section->size || section->size - symbol->value < symbol->size) {
            err = elf_fail(loader, -EINVAL,
                           "map %s: definition at [%llu, +%llu) lies beyond the %llu-byte "
                           "section .maps",
                           name, (unsigned long long)symbol->value,
                           (unsigned long long)symbol->size, (unsigned long long)section->size);
            break;
        }
        definition = elf_btf_find_datasec_variable(loader, datasec, symbol->name);
        if (definition == 0) {
            err = elf_fail(loader, -EINVAL, "map %s: no BTF variable of that name in DATASEC .maps",
                           name);
            break;
        }
        err = elf_map_begin(loader, name, section, EBPF_ELF_MAP_BTF, &map);
        if (err)
            break;
        location = &loader->map_locations[loader->object->map_count - 1];
        location->offset = symbol->value;
        location->size = symbol->size;
        err =
            btf_map_definition(loader, map->name, definition, false, map, &location->values_offset);
    }
    ebpf_free(indexes);
    return err;
}

static int elf_global_data_read(elf_loader_t *loader, size_t section_index)
{
    elf_section_t *section = &loader->sections[section_index];
    ebpf_elf_map_t *map;
    int err;

    if (section->size > UINT32_MAX)
        return elf_fail(loader, -EINVAL,
                        "section %s: %llu bytes of global data do not fit in one map value",
                        section->name, (unsigned long long)section->size);
    err = elf_map_begin(loader, section->name, section, EBPF_ELF_MAP_GLOBAL_DATA, &map);
    if (err)
        return err;
    section->map_index = (uint32_t)(loader->object->map_count - 1);
    loader->map_locations[section->map_index].size = section->size;
    map->type = BPF_MAP_TYPE_ARRAY;
    map->key_size = sizeof(uint32_t);
    map->value_size = (uint32_t)section->size;
    map->max_entries = 1;
    map->read_only = strncmp(section->name, ".rodata", 7) == 0;
    map->initial_data_size = section->size;
    if (loader->has_btf)
        map->value_btf_type_id = elf_btf_find_datasec(loader, section->name);
    if (section->data) {
        map->initial_data = ebpf_allocate(section->size);
        if (!map->initial_data)
            return elf_out_of_memory(loader, "global data");
        memcpy(map->initial_data, section->data, section->size);
    }
    return 0;
}

static int compare_map_location(const void *left, const void *right, void *locations)
{
    const elf_map_location_t *a = &((const elf_map_location_t *)locations)[*(const size_t *)left];
    const elf_map_location_t *b = &((const elf_map_location_t *)locations)[*(const size_t *)right];
    if (a->section != b->section)
        return a->section < b->section ? -1 : 1;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static int compare_map_name(const void *left, const void *right, void *maps)
{
    const ebpf_elf_map_t *table = maps;
    return strcmp(table[*(const size_t *)left].name, table[*(const size_t *)right].name);
}

/* Sorted views of the maps: by location for relocation lookups, and by name to refuse two
 * maps of one name (lookups by name would find only one of them). */
static int elf_maps_index(elf_loader_t *loader)
{
    size_t count = loader->object->map_count;
    size_t *by_name;
    int err = 0;

    if (count == 0)
        return 0;
    loader->maps_by_location = ebpf_allocate_array(count, sizeof(size_t));
    by_name = ebpf_allocate_array(count, sizeof(size_t));
    if (!loader->maps_by_location || !by_name) {
        ebpf_free(by_name);
        return elf_out_of_memory(loader, "the map index");
    }
    for (size_t i = 0; i < count; i++)
        loader->maps_by_location[i] = by_name[i] = i;
    qsort_r(loader->maps_by_location, count, sizeof(size_t), compare_map_location,
            loader->map_locations);
    qsort_r(by_name, count, sizeof(size_t), compare_map_name, loader->object->maps);
    for (size_t i = 1; i < count && !err; i++)
        if (strcmp(loader->object->maps[by_name[i]].name,
                   loader->object->maps[by_name[i - 1]].name) == 0)
            err = elf_fail(loader, -EINVAL, "two maps are named %s",
                           loader->object->maps[by_name[i]].name);
    ebpf_free(by_name);
    return err;
}

int elf_maps_read(elf_loader_t *loader)
{
    size_t capacity = 0;
    int err = 0;

    for (size_t i = 1; i < loader->section_count; i++) {
        const elf_section_t *section = &loader->sections[i];
        if (section->kind == ELF_SECTION_MAPS_BTF || section->kind == ELF_SECTION_MAPS_LEGACY) {
            for (size_t j = 0; j < loader->symbol_count; j++)
                capacity += elf_symbol_is_map(&loader->symbols[j], i);
        } else if (section->kind == ELF_SECTION_GLOBAL_DATA && section->size > 0) {
            capacity++;
        }
    }
    if (capacity == 0)
        return 0;
    loader->object->maps = ebpf_allocate_array(capacity, sizeof(*loader->object->maps));
    loader->map_locations = ebpf_allocate_array(capacity, sizeof(*loader->map_locations));
    if (!loader->object->maps || !loader->map_locations)
        return elf_out_of_memory(loader, "the map table");

    for (size_t i = 1; i < loader->section_count && !err; i++)
        if (loader->sections[i].kind == ELF_SECTION_MAPS_LEGACY)
            err = elf_legacy_maps_read(loader, i);
    for (size_t i = 1; i < loader->section_count && !err; i++)
        if (loader->sections[i].kind == ELF_SECTION_MAPS_BTF)
            err = elf_btf_maps_read(loader, i);
    for (size_t i = 1; i < loader->section_count && !err; i++)
        if (loader->sections[i].kind == ELF_SECTION_GLOBAL_DATA && loader->sections[i].size > 0)
            err = elf_global_data_read(loader, i);
    if (!err)
        err = elf_maps_index(loader);
    return err;
}

/* The map whose definition covers byte offset of section, or -1. */
static int64_t elf_map_covering(const elf_loader_t *loader, uint32_t section, uint64_t offset)
{
    int64_t position = elf_map_position_before(loader, section, offset);
    const elf_map_location_t *location;

    if (position < 0)
        return -1;
    location = &loader->map_locations[loader->maps_by_location[position]];
    if (location->section != section || offset - location->offset >= location->size)
        return -1;
    return (int64_t)loader->maps_by_location[position];
}

static int elf_map_initial_value_add(elf_loader_t *loader, const elf_section_t *relocations,
                                     size_t number, uint64_t offset, uint32_t symbol_index)
{
    uint32_t maps_section = relocations->header.sh_info;
    const elf_symbol_t *symbol = &loader->symbols[symbol_index];
    int64_t map_index = elf_map_covering(loader, maps_section, offset);
    const elf_map_location_t *location;
    ebpf_elf_map_t *map;
    ebpf_elf_map_initial_value_t *grown;
    uint64_t slot_offset;
    int64_t target = -1;
    uint32_t key;

    if (map_index < 0)
        return elf_fail(loader, -EINVAL,
                        "section %s: relocation %zu at offset %llu is not inside a map "
                        "definition",
                        relocations->name, number, (unsigned long long)offset);
    map = &loader->object->maps[map_index];
    location = &loader->map_locations[map_index];
    if (location->values_offset < 0 ||
        offset - location->offset < (uint64_t)location->values_offset)
        return elf_fail(loader, -EINVAL,
                        "section %s: relocation %zu writes into map %s outside its 'values' "
                        "slots",
                        relocations->name, number, map->name);
    slot_offset = offset - location->offset - (uint64_t)location->values_offset;
    if (slot_offset % sizeof(uint64_t) != 0 || slot_offset / sizeof(uint64_t) >= map->max_entries)
        return elf_fail(loader, -EINVAL,
                        "section %s: relocation %zu fills no slot of map %s (byte %llu of the "
                        "slots, %u entries)",
                        relocations->name, number, map->name, (unsigned long long)slot_offset,
                        map->max_entries);
    key = (uint32_t)(slot_offset / sizeof(uint64_t));
    if (map->type == BPF_MAP_TYPE_PROG_ARRAY) {
        const elf_function_t *function = NULL;
        if (symbol->type == STT_FUNC)
            function = elf_function_at(loader, symbol->section, symbol->value);
        if (function && function->offset == symbol->value)
            target = function->program_index;
        if (target < 0)
            return elf_fail(loader, -EINVAL,
                            "section %s: relocation %zu puts %s in program array %s, but it is "
                            "not a program",
                            relocations->name, number, elf_symbol_display_name(symbol), map->name);
    } else {
        if (symbol->section == maps_section)
            target = elf_map_at(loader, symbol->section, symbol->value);
        if (target < 0 || target == map_index)
            return elf_fail(loader, -EINVAL,
                            "section %s: relocation %zu puts %s in map-in-map %s, but it is not "
                            "another map of .maps",
                            relocations->name, number, elf_symbol_display_name(symbol), map->name);
    }
    for (size_t i = 0; i < map->initial_value_count; i++)
        if (map->initial_values[i].key == key)
            return elf_fail(loader, -EINVAL, "section %s: slot %u of map %s is filled twice",
                            relocations->name, key, map->name);
    grown = ebpf_reallocate(map->initial_values,
                            (map->initial_value_count + 1) * sizeof(*map->initial_values));
    if (!grown)
        return elf_out_of_memory(loader, "map initial values");
    map->initial_values = grown;
    map->initial_values[map->initial_value_count].key = key;
    map->initial_values[map->initial_value_count].target_index = (uint32_t)target;
    map->initial_value_count++;
    return 0;
}

int elf_maps_read_initial_values(elf_loader_t *loader)
{
    for (size_t i = 1; i < loader->section_count; i++) {
        const elf_section_t *relocations = &loader->sections[i];
        size_t count;
        int err;

        if (relocations->kind != ELF_SECTION_RELOCATIONS ||
            relocations->header.sh_info >= loader->section_count ||
            loader->sections[relocations->header.sh_info].kind != ELF_SECTION_MAPS_BTF)
            continue;
        err = elf_relocation_section_check(loader, relocations, &count);
        if (err)
            return err;
        for (size_t number = 0; number < count; number++) {
            uint64_t offset;
            uint32_t symbol, type;

            elf_relocation_read(relocations, number, &offset, &symbol, &type);
            if (type == R_BPF_NONE_TYPE)
                continue;
            if (type != R_BPF_64_ABS64_TYPE)
                return elf_fail(loader, -EINVAL,
                                "section %s: relocation %zu has type %u, not R_BPF_64_ABS64",
                                relocations->name, number, type);
            if (symbol >= loader->symbol_count)
                return elf_fail(loader, -EINVAL,
                                "section %s: relocation %zu refers to symbol %u but the symbol "
                                "table has %zu entries",
                                relocations->name, number, symbol, loader->symbol_count);
            err = elf_map_initial_value_add(loader, relocations, number, offset, symbol);
            if (err)
                return err;
        }
    }
    return 0;
}
