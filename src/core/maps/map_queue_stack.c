/* Queue (FIFO) and stack (LIFO) maps: values without keys in a ring of max_entries + 1 slots. */
#include <string.h>

#include "map_internal.h"

#define QUEUE_STACK_FLAGS (BPF_F_NUMA_NODE | EBPF_MAP_ACCESS_FLAGS)

typedef struct queue_stack_map {
    ebpf_map_t map;
    bool is_stack;
    /* Guards head, tail and the slots. Values are copied in and out under it, so no value
     * pointer ever escapes and no epoch is needed. */
    pthread_mutex_t lock;
    uint32_t slots; /* max_entries + 1: one slot stays empty to tell full from empty */
    uint32_t head;  /* next slot to push into */
    uint32_t tail;  /* oldest value */
    uint8_t *values;
} queue_stack_map_t;

static queue_stack_map_t *as_queue(const ebpf_map_t *map)
{
    return (queue_stack_map_t *)map;
}

static int queue_stack_check(const ebpf_map_definition_t *definition, const char *name)
{
    uint64_t total;

    if (definition->map_flags & ~QUEUE_STACK_FLAGS)
        return ebpf_error(-EINVAL, "map '%s': map_flags 0x%x has flags 0x%x a queue refuses", name,
                          definition->map_flags, definition->map_flags & ~QUEUE_STACK_FLAGS);
    if (definition->max_entries == 0)
        return ebpf_error(-EINVAL, "map '%s': max_entries is 0", name);
    if (definition->key_size != 0)
        return ebpf_error(-EINVAL, "map '%s': key_size %u, queues and stacks have no key (0)", name,
                          definition->key_size);
    if (definition->value_size == 0)
        return ebpf_error(-EINVAL, "map '%s': value_size is 0", name);
    if (definition->value_size > EBPF_MAP_KMALLOC_MAX)
        return ebpf_error(-E2BIG, "map '%s': value_size %u is over the limit of %u bytes", name,
                          definition->value_size, EBPF_MAP_KMALLOC_MAX);
    total = ((uint64_t)definition->max_entries + 1) * definition->value_size;
    if (total > EBPF_MAP_MEMORY_MAX)
        return ebpf_error(-E2BIG, "map '%s': %u values of %u bytes are over %llu bytes", name,
                          definition->max_entries, definition->value_size,
                          (unsigned long long)EBPF_MAP_MEMORY_MAX);
    return 0;
}

static int create(const ebpf_map_definition_t *definition, const char *name, bool is_stack,
                  ebpf_map_t **map)
{
    queue_stack_map_t *queue = ebpf_allocate(sizeof(*queue));

    if (queue == NULL)
        return ebpf_error(-ENOMEM, "map '%s': out of memory", name);
    queue->is_stack = is_stack;
    queue->slots = definition->max_entries + 1;
    queue->values = ebpf_allocate_array(queue->slots, definition->value_size);
    if (queue->values == NULL) {
        ebpf_free(queue);
        return ebpf_error(-ENOMEM, "map '%s': cannot allocate %u values", name,
                          definition->max_entries + 1);
    }
    if (pthread_mutex_init(&queue->lock, NULL) != 0) {
        ebpf_free(queue->values);
        ebpf_free(queue);
        return ebpf_error(-ENOMEM, "map '%s': cannot create its lock", name);
    }
    *map = &queue->map;
    return 0;
}

static int queue_create(const ebpf_map_definition_t *definition, const char *name, ebpf_map_t **map)
{
    return create(definition, name, false, map);
}

static int stack_create(const ebpf_map_definition_t *definition, const char *name, ebpf_map_t **map)
{
    return create(definition, name, true, map);
}

static void queue_stack_destroy(ebpf_map_t *map)
{
    queue_stack_map_t *queue = as_queue(map);
    pthread_mutex_destroy(&queue->lock);
    ebpf_free(queue->values);
    ebpf_free(queue);
}

static uint8_t *slot(queue_stack_map_t *queue, uint32_t index)
{
    return queue->values + (uint64_t)index * queue->map.definition.value_size;
}

static uint32_t advance(const queue_stack_map_t *queue, uint32_t index)
{
    return index + 1 == queue->slots ? 0 : index + 1;
}

static uint32_t step_back(const queue_stack_map_t *queue, uint32_t index)
{
    return index == 0 ? queue->slots - 1 : index - 1;
}

static int queue_stack_push(ebpf_map_t *map, const void *value, uint64_t flags)
{
    queue_stack_map_t *queue = as_queue(map);
    int err = 0;

    if ((flags & BPF_NOEXIST) || flags > BPF_EXIST)
        return -EINVAL;
    pthread_mutex_lock(&queue->lock);
    if (advance(queue, queue->head) == queue->tail) {
        if (flags != BPF_EXIST) {
            err = -E2BIG;
            goto out;
        }
        /* BPF_EXIST on a full map overwrites the oldest value (queue and stack alike). */
        queue->tail = advance(queue, queue->tail);
    }
    memcpy(slot(queue, queue->head), value, map->definition.value_size);
    queue->head = advance(queue, queue->head);
out:
    pthread_mutex_unlock(&queue->lock);
    return err;
}

static int take(ebpf_map_t *map, void *value, bool remove)
{
    queue_stack_map_t *queue = as_queue(map);
    uint32_t index;

    pthread_mutex_lock(&queue->lock);
    if (queue->head == queue->tail) {
        pthread_mutex_unlock(&queue->lock);
        return -ENOENT;
    }
    if (queue->is_stack) {
        index = step_back(queue, queue->head);
        if (remove)
            queue->head = index;
    } else {
        index = queue->tail;
        if (remove)
            queue->tail = advance(queue, index);
    }
    memcpy(value, slot(queue, index), map->definition.value_size);
    pthread_mutex_unlock(&queue->lock);
    return 0;
}

static int queue_stack_pop(ebpf_map_t *map, void *value)
{
    return take(map, value, true);
}

static int queue_stack_peek(ebpf_map_t *map, void *value)
{
    return take(map, value, false);
}

static int queue_stack_refuse_program(ebpf_map_t *map, const void *key, const void *value,
                                      uint64_t flags)
{
    return -EINVAL;
}

static int queue_stack_refuse_delete(ebpf_map_t *map, const void *key)
{
    return -EINVAL;
}

static int queue_stack_lookup_user(ebpf_map_t *map, const void *key, void *value)
{
    int err = queue_stack_peek(map, value);
    if (err != 0)
        return ebpf_error(err, "map '%s': empty", map->name);
    return 0;
}

static int queue_stack_update_user(ebpf_map_t *map, const void *key, const void *value,
                                   uint64_t flags)
{
    int err = queue_stack_push(map, value, flags);
    if (err == -EINVAL)
        return ebpf_error(err, "map '%s': push flags must be BPF_ANY or BPF_EXIST", map->name);
    if (err != 0)
        return ebpf_error(err, "map '%s': full (%u values)", map->name,
                          map->definition.max_entries);
    return 0;
}

static int queue_stack_delete_user(ebpf_map_t *map, const void *key)
{
    return ebpf_error(-EINVAL, "map '%s': queues and stacks have no keys to delete (pop)",
                      map->name);
}

static int queue_stack_get_next_key(ebpf_map_t *map, const void *key, void *next_key)
{
    return ebpf_error(-EINVAL, "map '%s': queues and stacks have no keys", map->name);
}

static int queue_stack_lookup_and_delete_user(ebpf_map_t *map, const void *key, void *value)
{
    int err = queue_stack_pop(map, value);
    if (err != 0)
        return ebpf_error(err, "map '%s': empty", map->name);
    return 0;
}

#define QUEUE_STACK_OPS(create_function)                                                           \
    {                                                                                              \
        .check = queue_stack_check, .create = create_function, .destroy = queue_stack_destroy,     \
        .update_program = queue_stack_refuse_program, .delete_program = queue_stack_refuse_delete, \
        .push = queue_stack_push, .pop = queue_stack_pop, .peek = queue_stack_peek,                \
        .lookup_user = queue_stack_lookup_user, .update_user = queue_stack_update_user,            \
        .delete_user = queue_stack_delete_user, .get_next_key = queue_stack_get_next_key,          \
        .lookup_and_delete_user = queue_stack_lookup_and_delete_user,                              \
    }

const ebpf_map_ops_t ebpf_queue_map_ops = QUEUE_STACK_OPS(queue_create);
const ebpf_map_ops_t ebpf_stack_map_ops = QUEUE_STACK_OPS(stack_create);
