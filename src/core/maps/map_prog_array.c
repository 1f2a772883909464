/* prog_array map: slots of program handles for bpf_tail_call, referenced through the core's ops. */
#include <string.h>

#include "map_internal.h"

#define PROG_ARRAY_FLAGS (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)

typedef struct prog_array_map {
    ebpf_map_t map;
    /* Each slot holds one reference on its program. Swapped atomically by user-side writers;
     * read by tail calls inside read sections, which is why a replaced program is released
     * only after a grace period. */
    void *_Atomic *slots;
} prog_array_map_t;

typedef struct deferred_program_release {
    ebpf_epoch_work_t work;
    const ebpf_map_program_ops_t *ops;
    void *program;
} deferred_program_release_t;

static prog_array_map_t *as_prog_array(const ebpf_map_t *map)
{
    return (prog_array_map_t *)map;
}

static void release_after_grace(ebpf_epoch_work_t *work)
{
    deferred_program_release_t *release = EBPF_CONTAINER_OF(work, deferred_program_release_t, work);
    release->ops->release(release->program);
    ebpf_free(release);
}

/* Releases a program a slot let go of once no tail call can still be using it. Caller is
 * outside read sections (user side), so without memory for the deferral it waits instead. */
static void release_later(void *program)
{
    const ebpf_map_program_ops_t *ops = ebpf_map_program_ops();
    deferred_program_release_t *release = ebpf_allocate(sizeof(*release));

    if (release == NULL) {
        ebpf_epoch_synchronize();
        ops->release(program);
        return;
    }
    release->ops = ops;
    release->program = program;
    ebpf_epoch_defer(&release->work, release_after_grace);
}

static uint32_t read_index(const void *key)
{
    uint32_t index;
    memcpy(&index, key, sizeof(index));
    return index;
}

static int prog_array_check(const ebpf_map_definition_t *definition, const char *name)
{
    if (definition->value_size != sizeof(uint32_t))
        return ebpf_error(-EINVAL, "map '%s': value_size %u, a prog_array value is a 4-byte fd",
                          name, definition->value_size);
    return ebpf_array_check_common(definition, name, PROG_ARRAY_FLAGS);
}

static int prog_array_create(const ebpf_map_definition_t *definition, const char *name,
                             ebpf_map_t **map)
{
    prog_array_map_t *array = ebpf_allocate(sizeof(*array));

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

static void prog_array_destroy(ebpf_map_t *map)
{
    prog_array_map_t *array = as_prog_array(map);
    const ebpf_map_program_ops_t *ops = ebpf_map_program_ops();

    for (uint32_t i = 0; i < map->definition.max_entries; i++) {
        void *program = atomic_load(&array->slots[i]);
        if (program != NULL && ops != NULL)
            ops->release(program);
    }
    ebpf_free(array->slots);
    ebpf_free(array);
}

static void *prog_array_get_program(ebpf_map_t *map, uint32_t index)
{
    if (index >= map->definition.max_entries)
        return NULL;
    return ebpf_epoch_dereference(&as_prog_array(map)->slots[index]);
}

static int prog_array_refuse_update(ebpf_map_t *map, const void *key, const void *value,
                                    uint64_t flags)
{
    return -EINVAL;
}

static int prog_array_refuse_delete(ebpf_map_t *map, const void *key)
{
    return -EINVAL;
}

static int check_slot_update(ebpf_map_t *map, uint32_t index, uint64_t flags)
{
    if (flags != BPF_ANY)
        return ebpf_error(-EINVAL, "map '%s': prog_array slots are updated with BPF_ANY only",
                          map->name);
    if (index >= map->definition.max_entries)
        return ebpf_error(-E2BIG, "map '%s': index %u is not below max_entries %u", map->name,
                          index, map->definition.max_entries);
    return 0;
}

static int prog_array_update_object(ebpf_map_t *map, const void *key, void *program, uint64_t flags)
{
    const ebpf_map_program_ops_t *ops = ebpf_map_program_ops();
    uint32_t index = read_index(key);
    void *old;
    int err = check_slot_update(map, index, flags);

    if (err != 0)
        return err;
    if (ops == NULL)
        return ebpf_error(-EINVAL, "map '%s': no program ops registered (ebpf_map_set_program_ops)",
                          map->name);
    ops->acquire(program);
    old = atomic_exchange(&as_prog_array(map)->slots[index], program);
    if (old != NULL)
        release_later(old);
    return 0;
}

static int prog_array_update_user(ebpf_map_t *map, const void *key, const void *value,
                                  uint64_t flags)
{
    const ebpf_map_fd_resolver_t *resolver = ebpf_map_fd_resolver();
    const ebpf_map_program_ops_t *ops = ebpf_map_program_ops();
    uint32_t fd;
    void *program = NULL;
    int err = check_slot_update(map, read_index(key), flags);

    if (err != 0)
        return err;
    if (resolver == NULL || resolver->program_from_fd == NULL || ops == NULL)
        return ebpf_error(-EINVAL,
                          "map '%s': program fds cannot be resolved (no resolver or "
                          "program ops registered)",
                          map->name);
    memcpy(&fd, value, sizeof(fd));
    err = resolver->program_from_fd(resolver->context, (int)fd, &program);
    if (err != 0)
        return ebpf_error(err, "map '%s': fd %d is not a program", map->name, (int)fd);
    err = prog_array_update_object(map, key, program, flags);
    ops->release(program);
    return err;
}

static int prog_array_delete_user(ebpf_map_t *map, const void *key)
{
    uint32_t index = read_index(key);
    void *old;

    if (index >= map->definition.max_entries)
        return ebpf_error(-E2BIG, "map '%s': index %u is not below max_entries %u", map->name,
                          index, map->definition.max_entries);
    old = atomic_exchange(&as_prog_array(map)->slots[index], NULL);
    if (old == NULL)
        return ebpf_error(-ENOENT, "map '%s': slot %u is empty", map->name, index);
    release_later(old);
    return 0;
}

static int prog_array_lookup_user(ebpf_map_t *map, const void *key, void *value)
{
    const ebpf_map_program_ops_t *ops = ebpf_map_program_ops();
    uint32_t index = read_index(key);
    uint32_t id = 0;
    void *program;

    if (index >= map->definition.max_entries)
        return ebpf_error(-ENOENT, "map '%s': index %u is not below max_entries %u", map->name,
                          index, map->definition.max_entries);
    ebpf_epoch_enter();
    program = ebpf_epoch_dereference(&as_prog_array(map)->slots[index]);
    if (program != NULL && ops != NULL && ops->get_id != NULL)
        id = ops->get_id(program);
    ebpf_epoch_exit();
    if (program == NULL)
        return ebpf_error(-ENOENT, "map '%s': slot %u is empty", map->name, index);
    memcpy(value, &id, sizeof(id));
    return 0;
}

static int prog_array_get_next_key(ebpf_map_t *map, const void *key, void *next_key)
{
    int err = ebpf_array_get_next_index(map->definition.max_entries, key, next_key);
    if (err != 0)
        return ebpf_error(err, "map '%s': no key after the last index", map->name);
    return 0;
}

void ebpf_map_release_programs(ebpf_map_t *map)
{
    if (map->definition.type != BPF_MAP_TYPE_PROG_ARRAY)
        return;
    for (uint32_t i = 0; i < map->definition.max_entries; i++) {
        void *old = atomic_exchange(&as_prog_array(map)->slots[i], NULL);
        if (old != NULL)
            release_later(old);
    }
}

const ebpf_map_ops_t ebpf_prog_array_map_ops = {
    .check = prog_array_check,
    .create = prog_array_create,
    .destroy = prog_array_destroy,
    .update_program = prog_array_refuse_update,
    .delete_program = prog_array_refuse_delete,
    .get_program = prog_array_get_program,
    .lookup_user = prog_array_lookup_user,
    .update_user = prog_array_update_user,
    .delete_user = prog_array_delete_user,
    .get_next_key = prog_array_get_next_key,
    .update_object = prog_array_update_object,
};
