/* Generic map layer: definition checks, creation, reference counting, and dispatch to types. */
#include <string.h>

#include "map_internal.h"

/* Last id handed out; ids only grow, so a stale id never names a newer map. */
static _Atomic uint32_t last_map_id;

/* Set once at start-up by the core / user API; read on every object update. */
static _Atomic(const ebpf_map_program_ops_t *) registered_program_ops;
static _Atomic(const ebpf_map_fd_resolver_t *) registered_fd_resolver;

typedef struct map_type_entry {
    const ebpf_map_ops_t *ops;
    const char *name;
} map_type_entry_t;

static const map_type_entry_t map_types[] = {
    [BPF_MAP_TYPE_HASH] = {&ebpf_hash_map_ops, "hash"},
    [BPF_MAP_TYPE_ARRAY] = {&ebpf_array_map_ops, "array"},
    [BPF_MAP_TYPE_PROG_ARRAY] = {&ebpf_prog_array_map_ops, "prog_array"},
    [BPF_MAP_TYPE_PERF_EVENT_ARRAY] = {&ebpf_perf_event_array_map_ops, "perf_event_array"},
    [BPF_MAP_TYPE_PERCPU_HASH] = {&ebpf_percpu_hash_map_ops, "percpu_hash"},
    [BPF_MAP_TYPE_PERCPU_ARRAY] = {&ebpf_percpu_array_map_ops, "percpu_array"},
    [BPF_MAP_TYPE_LRU_HASH] = {&ebpf_lru_hash_map_ops, "lru_hash"},
    [BPF_MAP_TYPE_LRU_PERCPU_HASH] = {&ebpf_lru_percpu_hash_map_ops, "lru_percpu_hash"},
    [BPF_MAP_TYPE_LPM_TRIE] = {&ebpf_lpm_trie_map_ops, "lpm_trie"},
    [BPF_MAP_TYPE_ARRAY_OF_MAPS] = {&ebpf_array_of_maps_map_ops, "array_of_maps"},
    [BPF_MAP_TYPE_HASH_OF_MAPS] = {&ebpf_hash_of_maps_map_ops, "hash_of_maps"},
    [BPF_MAP_TYPE_QUEUE] = {&ebpf_queue_map_ops, "queue"},
    [BPF_MAP_TYPE_STACK] = {&ebpf_stack_map_ops, "stack"},
    [BPF_MAP_TYPE_RINGBUF] = {&ebpf_ringbuf_map_ops, "ringbuf"},
};

static const map_type_entry_t *type_entry(uint32_t type)
{
    if (type >= EBPF_ARRAY_SIZE(map_types) || map_types[type].ops == NULL)
        return NULL;
    return &map_types[type];
}

static const char *type_name(const ebpf_map_t *map)
{
    return type_entry(map->definition.type)->name;
}

static bool is_map_in_map(uint32_t type)
{
    return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

static bool is_percpu(uint32_t type)
{
    return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
           type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static int check_name(const char *name)
{
    size_t length = strlen(name);

    if (length >= BPF_OBJ_NAME_LEN)
        return ebpf_error(-EINVAL, "map '%s': name longer than %u characters", name,
                          BPF_OBJ_NAME_LEN - 1);
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '.';
        if (!allowed)
            return ebpf_error(-EINVAL,
                              "map '%s': name character '%c' is not a letter, digit, '_' or '.'",
                              name, c);
    }
    return 0;
}

int ebpf_map_check_definition(const ebpf_map_definition_t *definition, const char *name)
{
    const map_type_entry_t *entry;
    uint32_t flags;
    int err;

    if (name == NULL)
        name = "";
    if (definition == NULL)
        return ebpf_error(-EINVAL, "map '%s': no definition", name);
    err = check_name(name);
    if (err != 0)
        return err;
    entry = type_entry(definition->type);
    if (entry == NULL)
        return ebpf_error(-EINVAL, "map '%s': map type %u is not supported", name,
                          definition->type);
    flags = definition->map_flags;
    if ((flags & BPF_F_RDONLY) && (flags & BPF_F_WRONLY))
        return ebpf_error(-EINVAL, "map '%s': map_flags has both BPF_F_RDONLY and BPF_F_WRONLY",
                          name);
    if ((flags & BPF_F_RDONLY_PROG) && (flags & BPF_F_WRONLY_PROG))
        return ebpf_error(
            -EINVAL, "map '%s': map_flags has both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG", name);
    if (definition->inner_map != NULL && !is_map_in_map(definition->type))
        return ebpf_error(-EINVAL,
                          "map '%s': inner_map is only for array_of_maps and "
                          "hash_of_maps, not %s",
                          name, entry->name);
    return entry->ops->check(definition, name);
}

int ebpf_map_create(const ebpf_map_definition_t *definition, const char *name, ebpf_map_t **map)
{
    const map_type_entry_t *entry;
    ebpf_map_t *created = NULL;
    int err;

    if (map == NULL)
        return ebpf_error(-EINVAL, "ebpf_map_create: no place for the map");
    *map = NULL;
    if (name == NULL)
        name = "";
    err = ebpf_map_check_definition(definition, name);
    if (err != 0)
        return err;
    entry = type_entry(definition->type);
    err = entry->ops->create(definition, name, &created);
    if (err != 0)
        return err;

    created->definition = *definition;
    created->definition.inner_map = NULL;
    if (definition->inner_map != NULL) {
        created->inner_definition = *definition->inner_map;
        created->inner_definition.inner_map = NULL;
        created->definition.inner_map = &created->inner_definition;
    }
    created->ops = entry->ops;
    atomic_init(&created->references, 1);
    atomic_init(&created->pending_callbacks, 1);
    atomic_init(&created->frozen, false);
    created->id = atomic_fetch_add_explicit(&last_map_id, 1, memory_order_relaxed) + 1;
    strcpy(created->name, name);
    *map = created;
    return 0;
}

void ebpf_map_acquire(ebpf_map_t *map)
{
    atomic_fetch_add_explicit(&map->references, 1, memory_order_relaxed);
}

static void release_after_grace(ebpf_epoch_work_t *work)
{
    ebpf_map_deferred_done(EBPF_CONTAINER_OF(work, ebpf_map_t, release_work));
}

void ebpf_map_release(ebpf_map_t *map)
{
    if (map == NULL)
        return;
    if (atomic_fetch_sub_explicit(&map->references, 1, memory_order_acq_rel) == 1)
        ebpf_epoch_defer(&map->release_work, release_after_grace);
}

void ebpf_map_defer(ebpf_map_t *map, ebpf_epoch_work_t *work,
                    void (*callback)(ebpf_epoch_work_t *work))
{
    atomic_fetch_add_explicit(&map->pending_callbacks, 1, memory_order_relaxed);
    ebpf_epoch_defer(work, callback);
}

void ebpf_map_deferred_done(ebpf_map_t *map)
{
    if (atomic_fetch_sub_explicit(&map->pending_callbacks, 1, memory_order_acq_rel) == 1)
        map->ops->destroy(map);
}

uint32_t ebpf_map_get_id(const ebpf_map_t *map)
{
    return map->id;
}

const char *ebpf_map_get_name(const ebpf_map_t *map)
{
    return map->name;
}

const ebpf_map_definition_t *ebpf_map_get_definition(const ebpf_map_t *map)
{
    return &map->definition;
}

uint32_t ebpf_map_user_value_size(const ebpf_map_t *map)
{
    if (is_percpu(map->definition.type))
        return (uint32_t)(EBPF_ROUND_UP_8(map->definition.value_size) * ebpf_cpu_count());
    return map->definition.value_size;
}

/* ---------------------------------------------------------------------------------------- */
/* Program side. */

static int check_update_flags(uint64_t flags)
{
    /* No value can hold a bpf_spin_lock (no BTF here), so BPF_F_LOCK is refused as Linux
     * refuses it for such maps. */
    if ((flags & ~(uint64_t)BPF_F_LOCK) > BPF_EXIST || (flags & BPF_F_LOCK))
        return -EINVAL;
    return 0;
}

void *ebpf_map_lookup_program(ebpf_map_t *map, const void *key)
{
    if (map->ops->lookup_program == NULL)
        return NULL;
    return map->ops->lookup_program(map, key);
}

int ebpf_map_update_program(ebpf_map_t *map, const void *key, const void *value, uint64_t flags)
{
    if (check_update_flags(flags) != 0)
        return -EINVAL;
    if (map->definition.map_flags & BPF_F_RDONLY_PROG)
        return -EPERM;
    if (map->ops->update_program == NULL)
        return -EOPNOTSUPP;
    return map->ops->update_program(map, key, value, flags);
}

int ebpf_map_delete_program(ebpf_map_t *map, const void *key)
{
    if (map->definition.map_flags & BPF_F_RDONLY_PROG)
        return -EPERM;
    if (map->ops->delete_program == NULL)
        return -EOPNOTSUPP;
    return map->ops->delete_program(map, key);
}

int ebpf_map_push(ebpf_map_t *map, const void *value, uint64_t flags)
{
    if (map->ops->push == NULL)
        return -EOPNOTSUPP;
    if (map->definition.map_flags & BPF_F_RDONLY_PROG)
        return -EPERM;
    return map->ops->push(map, value, flags);
}

int ebpf_map_pop(ebpf_map_t *map, void *value)
{
    if (map->ops->pop == NULL)
        return -EOPNOTSUPP;
    if (map->definition.map_flags & BPF_F_RDONLY_PROG)
        return -EPERM;
    return map->ops->pop(map, value);
}

int ebpf_map_peek(ebpf_map_t *map, void *value)
{
    if (map->ops->peek == NULL)
        return -EOPNOTSUPP;
    return map->ops->peek(map, value);
}

void *ebpf_map_get_program(ebpf_map_t *map, uint32_t index)
{
    if (map->ops->get_program == NULL)
        return NULL;
    return map->ops->get_program(map, index);
}

/* ---------------------------------------------------------------------------------------- */
/* User side. */

static int unsupported(const ebpf_map_t *map, const char *operation)
{
    return ebpf_error(-EOPNOTSUPP, "map '%s': %s is not supported for a %s map", map->name,
                      operation, type_name(map));
}

static int check_user_writable(const ebpf_map_t *map)
{
    if (map->definition.map_flags & BPF_F_RDONLY)
        return ebpf_error(-EPERM, "map '%s': read-only for user space (BPF_F_RDONLY)", map->name);
    if (atomic_load_explicit(&map->frozen, memory_order_acquire))
        return ebpf_error(-EPERM, "map '%s': frozen, user space can no longer write it", map->name);
    return 0;
}

static int check_user_readable(const ebpf_map_t *map)
{
    if (map->definition.map_flags & BPF_F_WRONLY)
        return ebpf_error(-EPERM, "map '%s': write-only for user space (BPF_F_WRONLY)", map->name);
    return 0;
}

static int check_no_lock_flags(const ebpf_map_t *map, uint64_t flags, const char *operation)
{
    if (flags & BPF_F_LOCK)
        return ebpf_error(-EINVAL,
                          "map '%s': %s with BPF_F_LOCK needs a bpf_spin_lock in the value, "
                          "which this map does not have",
                          map->name, operation);
    if (flags != 0)
        return ebpf_error(-EINVAL, "map '%s': %s flags 0x%llx are not supported", map->name,
                          operation, (unsigned long long)flags);
    return 0;
}

int ebpf_map_lookup_user(ebpf_map_t *map, const void *key, void *value, uint64_t flags)
{
    int err = check_no_lock_flags(map, flags, "lookup");

    if (err == 0)
        err = check_user_readable(map);
    if (err != 0)
        return err;
    if (map->ops->lookup_user == NULL)
        return unsupported(map, "lookup");
    return map->ops->lookup_user(map, key, value);
}

int ebpf_map_update_user(ebpf_map_t *map, const void *key, const void *value, uint64_t flags)
{
    int err;

    if (check_update_flags(flags) != 0) {
        if (flags & BPF_F_LOCK)
            return check_no_lock_flags(map, BPF_F_LOCK, "update");
        return ebpf_error(-EINVAL,
                          "map '%s': update flags 0x%llx are not BPF_ANY, "
                          "BPF_NOEXIST or BPF_EXIST",
                          map->name, (unsigned long long)flags);
    }
    err = check_user_writable(map);
    if (err != 0)
        return err;
    if (map->ops->update_user == NULL)
        return unsupported(map, "update");
    return map->ops->update_user(map, key, value, flags);
}

int ebpf_map_delete_user(ebpf_map_t *map, const void *key)
{
    int err = check_user_writable(map);

    if (err != 0)
        return err;
    if (map->ops->delete_user == NULL)
        return unsupported(map, "delete");
    return map->ops->delete_user(map, key);
}

int ebpf_map_get_next_key(ebpf_map_t *map, const void *key, void *next_key)
{
    int err = check_user_readable(map);

    if (err != 0)
        return err;
    if (map->ops->get_next_key == NULL)
        return unsupported(map, "get_next_key");
    return map->ops->get_next_key(map, key, next_key);
}

int ebpf_map_lookup_and_delete_user(ebpf_map_t *map, const void *key, void *value, uint64_t flags)
{
    int err = check_no_lock_flags(map, flags, "lookup_and_delete");

    if (err == 0)
        err = check_user_readable(map);
    if (err == 0)
        err = check_user_writable(map);
    if (err != 0)
        return err;
    if (map->ops->lookup_and_delete_user == NULL)
        return unsupported(map, "lookup_and_delete");
    return map->ops->lookup_and_delete_user(map, key, value);
}

int ebpf_map_update_object(ebpf_map_t *map, const void *key, void *object, uint64_t flags)
{
    int err = check_user_writable(map);

    if (err != 0)
        return err;
    if (map->ops->update_object == NULL)
        return ebpf_error(-EINVAL, "map '%s': a %s map does not hold programs or maps", map->name,
                          type_name(map));
    if (object == NULL)
        return ebpf_error(-EINVAL, "map '%s': no object to store", map->name);
    return map->ops->update_object(map, key, object, flags);
}

int ebpf_map_freeze(ebpf_map_t *map)
{
    bool expected = false;

    if (map->definition.map_flags & BPF_F_RDONLY)
        return ebpf_error(-EPERM, "map '%s': read-only for user space, cannot be frozen",
                          map->name);
    if (!atomic_compare_exchange_strong_explicit(&map->frozen, &expected, true,
                                                 memory_order_acq_rel, memory_order_acquire))
        return ebpf_error(-EBUSY, "map '%s': frozen already", map->name);
    return 0;
}

bool ebpf_map_is_frozen(const ebpf_map_t *map)
{
    return atomic_load_explicit(&map->frozen, memory_order_acquire);
}

/* ---------------------------------------------------------------------------------------- */
/* Hooks and memory. */

void ebpf_map_set_program_ops(const ebpf_map_program_ops_t *ops)
{
    atomic_store_explicit(&registered_program_ops, ops, memory_order_release);
}

void ebpf_map_set_fd_resolver(const ebpf_map_fd_resolver_t *resolver)
{
    atomic_store_explicit(&registered_fd_resolver, resolver, memory_order_release);
}

const ebpf_map_program_ops_t *ebpf_map_program_ops(void)
{
    return atomic_load_explicit(&registered_program_ops, memory_order_acquire);
}

const ebpf_map_fd_resolver_t *ebpf_map_fd_resolver(void)
{
    return atomic_load_explicit(&registered_fd_resolver, memory_order_acquire);
}

bool ebpf_map_owns_memory(const ebpf_map_t *map, const void *p, size_t n, bool write)
{
    if (write && (map->definition.map_flags & BPF_F_RDONLY_PROG))
        return false;
    if (map->ops->owns_memory == NULL || p == NULL)
        return false;
    return map->ops->owns_memory(map, p, n);
}
