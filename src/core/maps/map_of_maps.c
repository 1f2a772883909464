/* Map-in-map: array_of_maps and hash_of_maps, whose values are references to inner maps. */
#include <string.h>

#include "map_hash.h"

#define ARRAY_OF_MAPS_FLAGS (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)

typedef struct array_of_maps {
    ebpf_map_t map;
    /* Each slot holds one reference on its inner map. Swapped atomically by user-side
     * writers; programs read it inside read sections, and a released map's memory outlives
     * them because ebpf_map_release frees only after a grace period. */
    ebpf_map_t *_Atomic *slots;
} array_of_maps_t;

static array_of_maps_t *as_array_of_maps(const ebpf_map_t *map)
{
    return (array_of_maps_t *)map;
}

static ebpf_hash_table_t *as_table(const ebpf_map_t *map)
{
    return (ebpf_hash_table_t *)map;
}

static uint32_t read_index(const void *key)
{
    uint32_t index;
    memcpy(&index, key, sizeof(index));
    return index;
}

static int check_outer(const ebpf_map_definition_t *definition, const char *name)
{
    const ebpf_map_definition_t *inner = definition->inner_map;

    if (definition->value_size != sizeof(uint32_t))
        return ebpf_error(-EINVAL, "map '%s': value_size %u, a map-in-map value is a 4-byte map fd",
                          name, definition->value_size);
    if (inner == NULL)
        return ebpf_error(-EINVAL, "map '%s': a map-in-map needs an inner map template", name);
    if (inner->type == BPF_MAP_TYPE_ARRAY_OF_MAPS || inner->type == BPF_MAP_TYPE_HASH_OF_MAPS)
        return ebpf_error(-EINVAL, "map '%s': the inner map cannot itself hold maps", name);
    if (inner->type == BPF_MAP_TYPE_PROG_ARRAY)
        return ebpf_error(-EINVAL, "map '%s': a prog_array cannot be an inner map", name);
    return ebpf_map_check_definition(inner, name);
}

/* Linux's map_meta_equal: what a program verified against the template relies on. */
static int check_inner(const ebpf_map_t *outer, const ebpf_map_t *inner)
{
    const ebpf_map_definition_t *template = outer->definition.inner_map;
    const ebpf_map_definition_t *candidate = &inner->definition;

    if (candidate->type != template->type || candidate->key_size != template->key_size ||
        candidate->value_size != template->value_size ||
        candidate->map_flags != template->map_flags)
        return ebpf_error(-EINVAL,
                          "map '%s': inner map '%s' (type %u, key %u, value %u, flags 0x%x) does "
                          "not match the template (type %u, key %u, value %u, flags 0x%x)",
                          outer->name, inner->name, candidate->type, candidate->key_size,
                          candidate->value_size, candidate->map_flags, template->type,
                          template->key_size, template->value_size, template->map_flags);
    /* Array lookups may be inlined with the bound the verifier saw. */
    if (template->type == BPF_MAP_TYPE_ARRAY && !(template->map_flags & BPF_F_INNER_MAP) &&
        candidate->max_entries != template->max_entries)
        return ebpf_error(-EINVAL,
                          "map '%s': inner array '%s' has %u entries, the template %u (set "
                          "BPF_F_INNER_MAP to allow others)",
                          outer->name, inner->name, candidate->max_entries, template->max_entries);
    return 0;
}

static int resolve_map_fd(ebpf_map_t *outer, const void *value, ebpf_map_t **inner)
{
    const ebpf_map_fd_resolver_t *resolver = ebpf_map_fd_resolver();
    uint32_t fd;
    int err;

    if (resolver == NULL || resolver->map_from_fd == NULL)
        return ebpf_error(-EINVAL, "map '%s': map fds cannot be resolved (no resolver)",
                          outer->name);
    memcpy(&fd, value, sizeof(fd));
    err = resolver->map_from_fd(resolver->context, (int)fd, inner);
    if (err != 0)
        return ebpf_error(err, "map '%s': fd %d is not a map", outer->name, (int)fd);
    return 0;
}

static int refuse_program_update(ebpf_map_t *map, const void *key, const void *value,
                                 uint64_t flags)
{
    return -EINVAL;
}

static int refuse_program_delete(ebpf_map_t *map, const void *key)
{
    return -EINVAL;
}

/* ---------------------------------------------------------------------------------------- */
/* array_of_maps */

static int array_of_maps_check(const ebpf_map_definition_t *definition, const char *name)
{
    int err = check_outer(definition, name);
    return err != 0 ? err : ebpf_array_check_common(definition, name, ARRAY_OF_MAPS_FLAGS);
}

static int array_of_maps_create(const ebpf_map_definition_t *definition, const char *name,
                                ebpf_map_t **map)
{
    array_of_maps_t *array = ebpf_allocate(sizeof(*array));

    if (array == NULL)
        return ebpf_error(-ENOMEM, "map '%s': out of memory", name);
    array->slots = ebpf_allocate_array(definition->max_entries, sizeof(*array->slots));
    if (array->slots == NULL) {
        ebpf_free(array);
        return ebpf_error(-ENOMEM, "map '%s': cannot allocate %u slots", name,
                          definition->max_entries);
    }
    for (uint32_t i = 0; i < definition->max_entries; i++)
        atomic_init(&array->slots[i], NULL);
    *map = &array->map;
    return 0;
}

static void array_of_maps_destroy(ebpf_map_t *map)
{
    array_of_maps_t *array = as_array_of_maps(map);

    for (uint32_t i = 0; i < map->definition.max_entries; i++)
        ebpf_map_release(atomic_load(&array->slots[i]));
    ebpf_free(array->slots);
    ebpf_free(array);
}

static void *array_of_maps_lookup_program(ebpf_map_t *map, const void *key)
{
    uint32_t index = read_index(key);

    if (index >= map->definition.max_entries)
        return NULL;
    return ebpf_epoch_dereference(&as_array_of_maps(map)->slots[index]);
}

static int array_of_maps_update_object(ebpf_map_t *map, const void *key, void *object,
                                       uint64_t flags)
{
    ebpf_map_t *inner = object;
    uint32_t index = read_index(key);
    int err;

    if (flags != BPF_ANY)
        return ebpf_error(-EINVAL, "map '%s': array_of_maps slots are updated with BPF_ANY only",
                          map->name);
    if (index >= map->definition.max_entries)
        return ebpf_error(-E2BIG, "map '%s': index %u is not below max_entries %u", map->name,
                          index, map->definition.max_entries);
    err = check_inner(map, inner);
    if (err != 0)
        return err;
    ebpf_map_acquire(inner);
    ebpf_map_release(atomic_exchange(&as_array_of_maps(map)->slots[index], inner));
    return 0;
}

static int array_of_maps_update_user(ebpf_map_t *map, const void *key, const void *value,
                                     uint64_t flags)
{
    ebpf_map_t *inner = NULL;
    int err = resolve_map_fd(map, value, &inner);

    if (err != 0)
        return err;
    err = array_of_maps_update_object(map, key, inner, flags);
    ebpf_map_release(inner);
    return err;
}

static int array_of_maps_delete_user(ebpf_map_t *map, const void *key)
{
    uint32_t index = read_index(key);
    ebpf_map_t *old;

    if (index >= map->definition.max_entries)
        return ebpf_error(-E2BIG, "map '%s': index %u is not below max_entries %u", map->name,
                          index, map->definition.max_entries);
    old = atomic_exchange(&as_array_of_maps(map)->slots[index], NULL);
    if (old == NULL)
        return ebpf_error(-ENOENT, "map '%s': slot %u is empty", map->name, index);
    ebpf_map_release(old);
    return 0;
}

static int array_of_maps_lookup_user(ebpf_map_t *map, const void *key, void *value)
{
    uint32_t index = read_index(key);
    uint32_t id = 0;
    ebpf_map_t *inner = NULL;

    ebpf_epoch_enter();
    if (index < map->definition.max_entries)
        inner = ebpf_epoch_dereference(&as_array_of_maps(map)->slots[index]);
    if (inner != NULL)
        id = inner->id;
    ebpf_epoch_exit();
    if (inner == NULL)
        return ebpf_error(-ENOENT, "map '%s': no map at index %u", map->name, index);
    memcpy(value, &id, sizeof(id));
    return 0;
}

static int array_of_maps_get_next_key(ebpf_map_t *map, const void *key, void *next_key)
{
    int err = ebpf_array_get_next_index(map->definition.max_entries, key, next_key);
    if (err != 0)
        return ebpf_error(err, "map '%s': no key after the last index", map->name);
    return 0;
}

const ebpf_map_ops_t ebpf_array_of_maps_map_ops = {
    .check = array_of_maps_check,
    .create = array_of_maps_create,
    .destroy = array_of_maps_destroy,
    .lookup_program = array_of_maps_lookup_program,
    .update_program = refuse_program_update,
    .delete_program = refuse_program_delete,
    .lookup_user = array_of_maps_lookup_user,
    .update_user = array_of_maps_update_user,
    .delete_user = array_of_maps_delete_user,
    .get_next_key = array_of_maps_get_next_key,
    .update_object = array_of_maps_update_object,
};

/* ---------------------------------------------------------------------------------------- */
/* hash_of_maps: a hash table whose values are ebpf_map_t pointers. */

static ebpf_map_t *read_inner(const void *value)
{
    ebpf_map_t *inner;
    memcpy(&inner, value, sizeof(inner));
    return inner;
}

static void release_inner(ebpf_hash_table_t *table, void *value)
{
    ebpf_map_release(read_inner(value));
}

static int hash_of_maps_check(const ebpf_map_definition_t *definition, const char *name)
{
    int err = check_outer(definition, name);
    return err != 0 ? err : ebpf_hash_check_common(definition, name, false, false);
}

static int hash_of_maps_create(const ebpf_map_definition_t *definition, const char *name,
                               ebpf_map_t **map)
{
    ebpf_hash_table_t *table = NULL;
    int err = ebpf_hash_table_create(definition, name, sizeof(ebpf_map_t *), false, false, &table);

    if (err != 0)
        return err;
    table->value_released = release_inner;
    *map = &table->map;
    return 0;
}

static void hash_of_maps_destroy(ebpf_map_t *map)
{
    ebpf_hash_table_destroy(as_table(map));
}

static void *hash_of_maps_lookup_program(ebpf_map_t *map, const void *key)
{
    uint8_t *value = ebpf_hash_table_lookup(as_table(map), key);
    return value == NULL ? NULL : read_inner(value);
}

static int hash_of_maps_update_object(ebpf_map_t *map, const void *key, void *object,
                                      uint64_t flags)
{
    ebpf_map_t *inner = object;
    int err;

    if (flags > BPF_EXIST)
        return ebpf_error(-EINVAL,
                          "map '%s': update flags 0x%llx are not BPF_ANY, BPF_NOEXIST "
                          "or BPF_EXIST",
                          map->name, (unsigned long long)flags);
    err = check_inner(map, inner);
    if (err != 0)
        return err;
    ebpf_map_acquire(inner);
    err = ebpf_hash_table_update_user(as_table(map), key, &inner, flags);
    if (err != 0)
        ebpf_map_release(inner);
    return err;
}

static int hash_of_maps_update_user(ebpf_map_t *map, const void *key, const void *value,
                                    uint64_t flags)
{
    ebpf_map_t *inner = NULL;
    int err = resolve_map_fd(map, value, &inner);

    if (err != 0)
        return err;
    err = hash_of_maps_update_object(map, key, inner, flags);
    ebpf_map_release(inner);
    return err;
}

static int hash_of_maps_delete_user(ebpf_map_t *map, const void *key)
{
    int err = ebpf_hash_table_delete(as_table(map), key, NULL);
    if (err != 0)
        return ebpf_error(err, "map '%s': no such key", map->name);
    return 0;
}

static int hash_of_maps_lookup_user(ebpf_map_t *map, const void *key, void *value)
{
    uint8_t *stored;
    uint32_t id = 0;

    ebpf_epoch_enter();
    stored = ebpf_hash_table_lookup(as_table(map), key);
    if (stored != NULL)
        id = read_inner(stored)->id;
    ebpf_epoch_exit();
    if (stored == NULL)
        return ebpf_error(-ENOENT, "map '%s': no such key", map->name);
    memcpy(value, &id, sizeof(id));
    return 0;
}

static int hash_of_maps_get_next_key(ebpf_map_t *map, const void *key, void *next_key)
{
    int err = ebpf_hash_table_get_next_key(as_table(map), key, next_key);
    if (err != 0)
        return ebpf_error(err, "map '%s': no key after this one", map->name);
    return 0;
}

const ebpf_map_ops_t ebpf_hash_of_maps_map_ops = {
    .check = hash_of_maps_check,
    .create = hash_of_maps_create,
    .destroy = hash_of_maps_destroy,
    .lookup_program = hash_of_maps_lookup_program,
    .update_program = refuse_program_update,
    .delete_program = refuse_program_delete,
    .lookup_user = hash_of_maps_lookup_user,
    .update_user = hash_of_maps_update_user,
    .delete_user = hash_of_maps_delete_user,
    .get_next_key = hash_of_maps_get_next_key,
    .update_object = hash_of_maps_update_object,
};
