/* BPF_MAP_TYPE_PERF_EVENT_ARRAY: the map face of the perf event array engine. */
#include "map_internal.h"

#define PERF_EVENT_ARRAY_FLAGS                                                                     \
    (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_PRESERVE_ELEMS)

typedef struct perf_event_array_map {
    ebpf_map_t map;
    /* Serialises the creation of the engine. */
    pthread_mutex_t open_lock;
    /* NULL until user space opens the rings; set once (release) under open_lock, then
     * read lock-free (acquire) by producers. */
    _Atomic(ebpf_perf_event_array_t *) engine;
} perf_event_array_map_t;

static perf_event_array_map_t *as_perf(const ebpf_map_t *map)
{
    return (perf_event_array_map_t *)map;
}

static int perf_check(const ebpf_map_definition_t *definition, const char *name)
{
    int err;

    if (definition->value_size != sizeof(uint32_t))
        return ebpf_error(-EINVAL,
                          "map '%s': value_size %u, a perf_event_array value is a 4-byte fd", name,
                          definition->value_size);
    err = ebpf_array_check_common(definition, name, PERF_EVENT_ARRAY_FLAGS);
    if (err != 0)
        return err;
    if (definition->max_entries > EBPF_PERF_EVENT_ARRAY_MAX_CPUS)
        return ebpf_error(-E2BIG, "map '%s': max_entries %u is over %u CPU indexes", name,
                          definition->max_entries, EBPF_PERF_EVENT_ARRAY_MAX_CPUS);
    return 0;
}

static int perf_create(const ebpf_map_definition_t *definition, const char *name, ebpf_map_t **map)
{
    perf_event_array_map_t *perf = ebpf_allocate(sizeof(*perf));

    if (perf == NULL)
        return ebpf_error(-ENOMEM, "map '%s': out of memory", name);
    if (pthread_mutex_init(&perf->open_lock, NULL) != 0) {
        ebpf_free(perf);
        return ebpf_error(-ENOMEM, "map '%s': cannot create its lock", name);
    }
    atomic_init(&perf->engine, NULL);
    *map = &perf->map;
    return 0;
}

static void perf_destroy(ebpf_map_t *map)
{
    perf_event_array_map_t *perf = as_perf(map);
    ebpf_perf_event_array_t *engine = atomic_load(&perf->engine);

    if (engine != NULL)
        ebpf_perf_event_array_destroy(engine);
    pthread_mutex_destroy(&perf->open_lock);
    ebpf_free(perf);
}

static int perf_get_next_key(ebpf_map_t *map, const void *key, void *next_key)
{
    int err = ebpf_array_get_next_index(map->definition.max_entries, key, next_key);
    if (err != 0)
        return ebpf_error(err, "map '%s': no key after the last index", map->name);
    return 0;
}

ebpf_perf_event_array_t *ebpf_map_get_perf_event_array(const ebpf_map_t *map)
{
    if (map->definition.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
        return NULL;
    return atomic_load_explicit(&as_perf(map)->engine, memory_order_acquire);
}

int ebpf_map_open_perf_event_array(ebpf_map_t *map, uint32_t per_cpu_data_size,
                                   ebpf_perf_event_array_t **array)
{
    perf_event_array_map_t *perf = as_perf(map);
    ebpf_perf_event_array_t *engine;
    int err = 0;

    if (map->definition.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
        return ebpf_error(-EINVAL, "map '%s': not a perf_event_array", map->name);
    pthread_mutex_lock(&perf->open_lock);
    engine = atomic_load_explicit(&perf->engine, memory_order_relaxed);
    if (engine == NULL) {
        err = ebpf_perf_event_array_create(map->definition.max_entries, per_cpu_data_size, &engine);
        if (err == 0)
            atomic_store_explicit(&perf->engine, engine, memory_order_release);
        else
            ebpf_error_prefix(err, "map '%s': ", map->name);
    }
    pthread_mutex_unlock(&perf->open_lock);
    if (err == 0)
        *array = engine;
    return err;
}

int ebpf_map_perf_event_output(ebpf_map_t *map, uint64_t flags, const void *data, uint64_t size)
{
    ebpf_perf_event_array_t *engine;

    if (map->definition.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
        return -EINVAL;
    engine = atomic_load_explicit(&as_perf(map)->engine, memory_order_acquire);
    if (engine == NULL)
        return -ENOENT;
    return ebpf_perf_event_array_output(engine, flags, data, size);
}

/* Values (perf event fds in Linux) are the engine's business here: lookups and updates are
 * absent and the dispatcher answers -EOPNOTSUPP. */
const ebpf_map_ops_t ebpf_perf_event_array_map_ops = {
    .check = perf_check,
    .create = perf_create,
    .destroy = perf_destroy,
    .get_next_key = perf_get_next_key,
};
