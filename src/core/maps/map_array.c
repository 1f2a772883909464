/* Array and per-CPU array maps: every index holds a value from creation; values change in place. */
#include <string.h>

#include "map_internal.h"

typedef struct array_map {
    ebpf_map_t map;
    bool percpu;
    uint32_t cpu_count; /* 1 for a plain array */
    uint64_t value_stride;
    uint64_t cpu_stride; /* bytes of one CPU's block of values (per-CPU arrays) */
    uint8_t *values;
    uint64_t values_size;
} array_map_t;

#define ARRAY_FLAGS        (BPF_F_NUMA_NODE | BPF_F_MMAPABLE | EBPF_MAP_ACCESS_FLAGS | BPF_F_INNER_MAP)
#define PERCPU_ARRAY_FLAGS EBPF_MAP_ACCESS_FLAGS

static array_map_t *as_array(const ebpf_map_t *map)
{
    return (array_map_t *)map;
}

static uint32_t read_index(const void *key)
{
    uint32_t index;
    memcpy(&index, key, sizeof(index));
    return index;
}

int ebpf_array_check_common(const ebpf_map_definition_t *definition, const char *name,
                            uint32_t allowed_flags)
{
    if (definition->map_flags & ~allowed_flags)
        return ebpf_error(-EINVAL, "map '%s': map_flags 0x%x has flags 0x%x this type refuses",
                          name, definition->map_flags, definition->map_flags & ~allowed_flags);
    if (definition->max_entries == 0)
        return ebpf_error(-EINVAL, "map '%s': max_entries is 0", name);
    if (definition->key_size != sizeof(uint32_t))
        return ebpf_error(-EINVAL, "map '%s': key_size %u, an array key is a 4-byte index", name,
                          definition->key_size);
    if (definition->value_size == 0)
        return ebpf_error(-EINVAL, "map '%s': value_size is 0", name);
    if (definition->value_size > EBPF_MAP_KMALLOC_MAX)
        return ebpf_error(-E2BIG, "map '%s': value_size %u is over the limit of %u bytes", name,
                          definition->value_size, EBPF_MAP_KMALLOC_MAX);
    return 0;
}

int ebpf_array_get_next_index(uint32_t max_entries, const void *key, void *next_key)
{
    uint32_t index = key == NULL ? UINT32_MAX : read_index(key);
    uint32_t next;

    if (index >= max_entries) {
        next = 0;
    } else if (index == max_entries - 1) {
        return -ENOENT;
    } else {
        next = index + 1;
    }
    memcpy(next_key, &next, sizeof(next));
    return 0;
}

static int check_size(const ebpf_map_definition_t *definition, const char *name, bool percpu)
{
    uint64_t total = EBPF_ROUND_UP_8(definition->value_size) * definition->max_entries;

    if (percpu) {
        if (EBPF_ROUND_UP_8(definition->value_size) > EBPF_MAP_PERCPU_VALUE_MAX)
            return ebpf_error(-E2BIG,
                              "map '%s': value_size %u is over the per-CPU limit of %u bytes", name,
                              definition->value_size, EBPF_MAP_PERCPU_VALUE_MAX);
        total *= ebpf_cpu_count();
    }
    if (total > EBPF_MAP_MEMORY_MAX)
        return ebpf_error(-E2BIG, "map '%s': %u entries of %u bytes need %llu bytes, over %llu",
                          name, definition->max_entries, definition->value_size,
                          (unsigned long long)total, (unsigned long long)EBPF_MAP_MEMORY_MAX);
    return 0;
}

static int array_check(const ebpf_map_definition_t *definition, const char *name)
{
    int err = ebpf_array_check_common(definition, name, ARRAY_FLAGS);
    return err != 0 ? err : check_size(definition, name, false);
}

static int percpu_array_check(const ebpf_map_definition_t *definition, const char *name)
{
    int err = ebpf_array_check_common(definition, name, PERCPU_ARRAY_FLAGS);
    return err != 0 ? err : check_size(definition, name, true);
}

static int create(const ebpf_map_definition_t *definition, const char *name, bool percpu,
                  ebpf_map_t **map)
{
    array_map_t *array = ebpf_allocate(sizeof(*array));

    if (array == NULL)
        return ebpf_error(-ENOMEM, "map '%s': out of memory", name);
    array->percpu = percpu;
    array->cpu_count = percpu ? ebpf_cpu_count() : 1;
    array->value_stride = EBPF_ROUND_UP_8(definition->value_size);
    array->cpu_stride = array->value_stride * definition->max_entries;
    array->values_size = array->cpu_stride * array->cpu_count;
    array->values = ebpf_allocate_aligned(EBPF_CACHE_LINE, (size_t)array->values_size);
    if (array->values == NULL) {
        uint64_t size = array->values_size;
        ebpf_free(array);
        return ebpf_error(-ENOMEM, "map '%s': cannot allocate %llu bytes of values", name,
                          (unsigned long long)size);
    }
    *map = &array->map;
    return 0;
}

static int array_create(const ebpf_map_definition_t *definition, const char *name, ebpf_map_t **map)
{
    return create(definition, name, false, map);
}

static int percpu_array_create(const ebpf_map_definition_t *definition, const char *name,
                               ebpf_map_t **map)
{
    return create(definition, name, true, map);
}

static void array_destroy(ebpf_map_t *map)
{
    array_map_t *array = as_array(map);
    ebpf_free(array->values);
    ebpf_free(array);
}

static uint8_t *slot(array_map_t *array, uint32_t cpu, uint32_t index)
{
    return array->values + cpu * array->cpu_stride + index * array->value_stride;
}

static void *array_lookup_program(ebpf_map_t *map, const void *key)
{
    array_map_t *array = as_array(map);
    uint32_t index = read_index(key);
    uint32_t cpu = 0;

    if (index >= map->definition.max_entries)
        return NULL;
    if (array->percpu) {
        cpu = ebpf_cpu_claimed();
        if (cpu >= array->cpu_count)
            return NULL;
    }
    return slot(array, cpu, index);
}

static int array_update_program(ebpf_map_t *map, const void *key, const void *value, uint64_t flags)
{
    array_map_t *array = as_array(map);
    uint32_t index = read_index(key);
    uint32_t cpu = 0;

    if (index >= map->definition.max_entries)
        return -E2BIG;
    if (flags == BPF_NOEXIST)
        return -EEXIST;
    if (array->percpu) {
        cpu = ebpf_cpu_claimed();
        if (cpu >= array->cpu_count)
            return -EINVAL;
    }
    memcpy(slot(array, cpu, index), value, map->definition.value_size);
    return 0;
}

static int array_delete_program(ebpf_map_t *map, const void *key)
{
    return -EINVAL;
}

static int array_lookup_user(ebpf_map_t *map, const void *key, void *value)
{
    array_map_t *array = as_array(map);
    uint32_t index = read_index(key);

    if (index >= map->definition.max_entries)
        return ebpf_error(-ENOENT, "map '%s': index %u is not below max_entries %u", map->name,
                          index, map->definition.max_entries);
    if (!array->percpu) {
        memcpy(value, slot(array, 0, index), map->definition.value_size);
        return 0;
    }
    for (uint32_t cpu = 0; cpu < array->cpu_count; cpu++)
        memcpy((uint8_t *)value + cpu * array->value_stride, slot(array, cpu, index),
               array->value_stride);
    return 0;
}

static int array_update_user(ebpf_map_t *map, const void *key, const void *value, uint64_t flags)
{
    array_map_t *array = as_array(map);
    uint32_t index = read_index(key);

    if (index >= map->definition.max_entries)
        return ebpf_error(-E2BIG, "map '%s': index %u is not below max_entries %u", map->name,
                          index, map->definition.max_entries);
    if (flags == BPF_NOEXIST)
        return ebpf_error(-EEXIST, "map '%s': BPF_NOEXIST, but every array element exists",
                          map->name);
    if (!array->percpu) {
        memcpy(slot(array, 0, index), value, map->definition.value_size);
        return 0;
    }
    for (uint32_t cpu = 0; cpu < array->cpu_count; cpu++)
        memcpy(slot(array, cpu, index), (const uint8_t *)value + cpu * array->value_stride,
               array->value_stride);
    return 0;
}

static int array_delete_user(ebpf_map_t *map, const void *key)
{
    return ebpf_error(-EINVAL, "map '%s': array elements cannot be deleted", map->name);
}

static int array_get_next_key(ebpf_map_t *map, const void *key, void *next_key)
{
    int err = ebpf_array_get_next_index(map->definition.max_entries, key, next_key);
    if (err != 0)
        return ebpf_error(err, "map '%s': no key after the last index", map->name);
    return 0;
}

static bool array_owns_memory(const ebpf_map_t *map, const void *p, size_t n)
{
    const array_map_t *array = as_array(map);
    uintptr_t start = (uintptr_t)array->values;
    uintptr_t address = (uintptr_t)p;
    uint64_t offset;

    if (address < start || address - start >= array->values_size)
        return false;
    offset = (address - start) % array->value_stride;
    return n <= map->definition.value_size && offset + n <= map->definition.value_size;
}

void *ebpf_map_array_value_address(ebpf_map_t *map, uint32_t index)
{
    if (map->definition.type != BPF_MAP_TYPE_ARRAY || index >= map->definition.max_entries)
        return NULL;
    return slot(as_array(map), 0, index);
}

int ebpf_map_array_layout(const ebpf_map_t *map, ebpf_array_layout_t *layout)
{
    if (map == NULL || layout == NULL ||
        (map->definition.type != BPF_MAP_TYPE_ARRAY &&
         map->definition.type != BPF_MAP_TYPE_PERCPU_ARRAY))
        return ebpf_error(-EINVAL, "map layout: %s is not an array",
                          map != NULL ? map->name : "(no map)");
    const array_map_t *array = (const array_map_t *)map;
    *layout =
        (ebpf_array_layout_t){array->values, array->percpu ? array->cpu_stride : 0,
                              array->value_stride, array->cpu_count, map->definition.max_entries};
    return 0;
}

const ebpf_map_ops_t ebpf_array_map_ops = {
    .check = array_check,
    .create = array_create,
    .destroy = array_destroy,
    .lookup_program = array_lookup_program,
    .update_program = array_update_program,
    .delete_program = array_delete_program,
    .lookup_user = array_lookup_user,
    .update_user = array_update_user,
    .delete_user = array_delete_user,
    .get_next_key = array_get_next_key,
    .owns_memory = array_owns_memory,
};

const ebpf_map_ops_t ebpf_percpu_array_map_ops = {
    .check = percpu_array_check,
    .create = percpu_array_create,
    .destroy = array_destroy,
    .lookup_program = array_lookup_program,
    .update_program = array_update_program,
    .delete_program = array_delete_program,
    .lookup_user = array_lookup_user,
    .update_user = array_update_user,
    .delete_user = array_delete_user,
    .get_next_key = array_get_next_key,
    .owns_memory = array_owns_memory,
};
