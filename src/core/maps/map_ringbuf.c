/* BPF_MAP_TYPE_RINGBUF: the map face of the ring buffer engine (no keys, no values). */
#include "map_internal.h"

typedef struct ringbuf_map {
    ebpf_map_t map;
    ebpf_ring_buffer_t *ring;
} ringbuf_map_t;

static ringbuf_map_t *as_ringbuf(const ebpf_map_t *map)
{
    return (ringbuf_map_t *)map;
}

static int ringbuf_check(const ebpf_map_definition_t *definition, const char *name)
{
    size_t page_size = ebpf_ring_memory_page_size();

    if (definition->map_flags & ~(uint32_t)BPF_F_NUMA_NODE)
        return ebpf_error(-EINVAL, "map '%s': map_flags 0x%x, a ring buffer takes none", name,
                          definition->map_flags);
    if (definition->key_size != 0 || definition->value_size != 0)
        return ebpf_error(-EINVAL,
                          "map '%s': key_size %u and value_size %u, a ring buffer has neither "
                          "(both 0)",
                          name, definition->key_size, definition->value_size);
    if (!ebpf_is_power_of_two(definition->max_entries) || definition->max_entries % page_size != 0)
        return ebpf_error(-EINVAL,
                          "map '%s': max_entries %u, a ring buffer's size is a power of two and a "
                          "multiple of the page size (%zu)",
                          name, definition->max_entries, page_size);
    return 0;
}

static int ringbuf_create(const ebpf_map_definition_t *definition, const char *name,
                          ebpf_map_t **map)
{
    ringbuf_map_t *ringbuf = ebpf_allocate(sizeof(*ringbuf));
    int err;

    if (ringbuf == NULL)
        return ebpf_error(-ENOMEM, "map '%s': out of memory", name);
    err = ebpf_ring_buffer_create(definition->max_entries, &ringbuf->ring);
    if (err != 0) {
        ebpf_free(ringbuf);
        return ebpf_error_prefix(err, "map '%s': ", name);
    }
    *map = &ringbuf->map;
    return 0;
}

static void ringbuf_destroy(ebpf_map_t *map)
{
    ebpf_ring_buffer_destroy(as_ringbuf(map)->ring);
    ebpf_free(as_ringbuf(map));
}

static bool ringbuf_owns_memory(const ebpf_map_t *map, const void *p, size_t n)
{
    return ebpf_ring_buffer_contains(as_ringbuf(map)->ring, p, n);
}

ebpf_ring_buffer_t *ebpf_map_get_ring_buffer(const ebpf_map_t *map)
{
    if (map->definition.type != BPF_MAP_TYPE_RINGBUF)
        return NULL;
    return as_ringbuf(map)->ring;
}

/* Lookups, updates, deletes and iteration are absent: the dispatcher answers -EOPNOTSUPP. */
const ebpf_map_ops_t ebpf_ringbuf_map_ops = {
    .check = ringbuf_check,
    .create = ringbuf_create,
    .destroy = ringbuf_destroy,
    .owns_memory = ringbuf_owns_memory,
};
