/* LPM trie map: longest-prefix match over big-endian bit strings (struct bpf_lpm_trie_key). */
#include <string.h>

#include "map_element_pool.h"
#include "map_internal.h"

#define LPM_FLAGS         (BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | EBPF_MAP_ACCESS_FLAGS)
#define LPM_PREFIX_SIZE   ((uint32_t)sizeof(uint32_t))
#define LPM_DATA_SIZE_MAX 256u
/* An intermediate node only joins two subtrees: it has no value and exactly two children. */
#define LPM_NODE_INTERMEDIATE 1u

typedef struct lpm_node {
    void *pool_link; /* the pool's while the node is free */
    /* Published with ebpf_epoch_publish; changed only under the trie lock. */
    struct lpm_node *_Atomic child[2];
    ebpf_epoch_work_t free_work;
    struct lpm_trie *trie;
    uint32_t prefixlen; /* fixed before the node is published */
    /* LPM_NODE_INTERMEDIATE; set under the trie lock when an entry with two children is
     * deleted, read by lock-free lookups. */
    _Atomic uint32_t flags;
} lpm_node_t;

typedef struct lpm_trie {
    ebpf_map_t map;
    /* Serialises writers (update, delete) and get_next_key; lookups take no lock. */
    pthread_mutex_t lock;
    /* Published with ebpf_epoch_publish under lock; lookups dereference it lock-free. */
    lpm_node_t *_Atomic root;
    ebpf_element_pool_t pool;
    uint32_t data_size;
    uint32_t max_prefixlen;
    uint32_t entries; /* non-intermediate nodes; under lock */
    size_t data_offset;
    size_t value_offset;
} lpm_trie_t;

/* The parts of a struct bpf_lpm_trie_key, which may be unaligned. */
typedef struct lpm_key {
    uint32_t prefixlen;
    const uint8_t *data;
} lpm_key_t;

static lpm_trie_t *as_trie(const ebpf_map_t *map)
{
    return (lpm_trie_t *)map;
}

static lpm_key_t read_key(const void *key)
{
    lpm_key_t parts;
    memcpy(&parts.prefixlen, key, sizeof(parts.prefixlen));
    parts.data = (const uint8_t *)key + LPM_PREFIX_SIZE;
    return parts;
}

static uint8_t *data_of(const lpm_trie_t *trie, const lpm_node_t *node)
{
    return (uint8_t *)node + trie->data_offset;
}

static uint8_t *value_of(const lpm_trie_t *trie, const lpm_node_t *node)
{
    return (uint8_t *)node + trie->value_offset;
}

static bool is_intermediate(lpm_node_t *node)
{
    return (atomic_load(&node->flags) & LPM_NODE_INTERMEDIATE) != 0;
}

static uint32_t extract_bit(const uint8_t *data, uint32_t index)
{
    return (data[index / 8] >> (7 - index % 8)) & 1u;
}

/* Leading bits node and key share, up to the shorter of their prefixes. */
static uint32_t prefix_match(const lpm_trie_t *trie, const lpm_node_t *node, lpm_key_t key)
{
    uint32_t limit = node->prefixlen < key.prefixlen ? node->prefixlen : key.prefixlen;
    const uint8_t *data = data_of(trie, node);
    uint32_t matched = 0;

    for (uint32_t i = 0; i < trie->data_size && matched < limit; i++) {
        uint32_t difference = (uint32_t)(data[i] ^ key.data[i]);
        if (difference != 0) {
            matched += (uint32_t)__builtin_clz(difference) - 24;
            break;
        }
        matched += 8;
    }
    return matched < limit ? matched : limit;
}

static lpm_node_t *longest_match(lpm_trie_t *trie, lpm_key_t key)
{
    lpm_node_t *found = NULL;
    lpm_node_t *node = ebpf_epoch_dereference(&trie->root);

    while (node != NULL) {
        uint32_t matched = prefix_match(trie, node, key);
        if (matched < node->prefixlen)
            break;
        if (!is_intermediate(node))
            found = node;
        if (matched == trie->max_prefixlen)
            break;
        node = ebpf_epoch_dereference(&node->child[extract_bit(key.data, node->prefixlen)]);
    }
    return found;
}

static void node_free_after_grace(ebpf_epoch_work_t *work)
{
    lpm_node_t *node = EBPF_CONTAINER_OF(work, lpm_node_t, free_work);
    lpm_trie_t *trie = node->trie;

    ebpf_element_pool_give(&trie->pool, node);
    ebpf_map_deferred_done(&trie->map);
}

static void retire(lpm_trie_t *trie, lpm_node_t *node)
{
    ebpf_map_defer(&trie->map, &node->free_work, node_free_after_grace);
}

static lpm_node_t *new_node(lpm_trie_t *trie, uint32_t prefixlen, const uint8_t *data,
                            const void *value, uint32_t flags)
{
    lpm_node_t *node = ebpf_element_pool_take(&trie->pool);

    if (node == NULL)
        return NULL;
    node->trie = trie;
    node->prefixlen = prefixlen;
    atomic_store(&node->flags, flags);
    atomic_store(&node->child[0], NULL);
    atomic_store(&node->child[1], NULL);
    memcpy(data_of(trie, node), data, trie->data_size);
    if (value != NULL)
        memcpy(value_of(trie, node), value, trie->map.definition.value_size);
    return node;
}

static int update_locked(lpm_trie_t *trie, lpm_key_t key, const void *value, uint64_t flags)
{
    lpm_node_t *_Atomic *slot = &trie->root;
    lpm_node_t *node, *fresh, *joint;
    uint32_t matched = 0;
    bool same_prefix, entry_exists;

    while ((node = atomic_load(slot)) != NULL) {
        matched = prefix_match(trie, node, key);
        if (node->prefixlen != matched || node->prefixlen == key.prefixlen ||
            node->prefixlen == trie->max_prefixlen)
            break;
        slot = &node->child[extract_bit(key.data, node->prefixlen)];
    }
    same_prefix = node != NULL && node->prefixlen == key.prefixlen && matched == key.prefixlen;
    entry_exists = same_prefix && !is_intermediate(node);
    if (entry_exists && flags == BPF_NOEXIST)
        return -EEXIST;
    if (!entry_exists && flags == BPF_EXIST)
        return -ENOENT;
    if (!entry_exists && trie->entries >= trie->map.definition.max_entries)
        return -ENOSPC;

    fresh = new_node(trie, key.prefixlen, key.data, value, 0);
    if (fresh == NULL)
        return -ENOMEM;
    if (node == NULL) {
        ebpf_epoch_publish(slot, fresh);
    } else if (same_prefix) {
        /* Replace the node: readers see the old value or the new one. */
        atomic_store(&fresh->child[0], atomic_load(&node->child[0]));
        atomic_store(&fresh->child[1], atomic_load(&node->child[1]));
        ebpf_epoch_publish(slot, fresh);
        retire(trie, node);
    } else if (matched == key.prefixlen) {
        /* The new prefix covers the node: the node hangs below it. */
        atomic_store(&fresh->child[extract_bit(data_of(trie, node), key.prefixlen)], node);
        ebpf_epoch_publish(slot, fresh);
    } else {
        /* They diverge at bit `matched`: join them under an intermediate node. */
        joint = new_node(trie, matched, data_of(trie, node), NULL, LPM_NODE_INTERMEDIATE);
        if (joint == NULL) {
            ebpf_element_pool_give(&trie->pool, fresh); /* never published */
            return -ENOMEM;
        }
        uint32_t fresh_side = extract_bit(key.data, matched);
        atomic_store(&joint->child[fresh_side], fresh);
        atomic_store(&joint->child[!fresh_side], node);
        ebpf_epoch_publish(slot, joint);
    }
    if (!entry_exists)
        trie->entries++;
    return 0;
}

static int delete_locked(lpm_trie_t *trie, lpm_key_t key)
{
    lpm_node_t *_Atomic *slot = &trie->root;
    lpm_node_t *_Atomic *parent_slot = NULL;
    lpm_node_t *node, *parent = NULL, *left, *right;
    uint32_t matched = 0;

    while ((node = atomic_load(slot)) != NULL) {
        matched = prefix_match(trie, node, key);
        if (node->prefixlen != matched || node->prefixlen == key.prefixlen)
            break;
        parent_slot = slot;
        parent = node;
        slot = &node->child[extract_bit(key.data, node->prefixlen)];
    }
    if (node == NULL || node->prefixlen != key.prefixlen || matched != key.prefixlen ||
        is_intermediate(node))
        return -ENOENT;

    trie->entries--;
    left = atomic_load(&node->child[0]);
    right = atomic_load(&node->child[1]);
    if (left != NULL && right != NULL) {
        /* Still joins two subtrees: keep it as an intermediate node. */
        atomic_fetch_or(&node->flags, LPM_NODE_INTERMEDIATE);
        return 0;
    }
    if (left == NULL && right == NULL && parent != NULL && is_intermediate(parent)) {
        /* The intermediate parent would be left with one child: the sibling replaces it. */
        lpm_node_t *sibling = atomic_load(&parent->child[atomic_load(&parent->child[0]) == node]);
        ebpf_epoch_publish(parent_slot, sibling);
        retire(trie, parent);
        retire(trie, node);
        return 0;
    }
    ebpf_epoch_publish(slot, left != NULL ? left : right);
    retire(trie, node);
    return 0;
}

static int trie_update(lpm_trie_t *trie, const void *key, const void *value, uint64_t flags)
{
    lpm_key_t parts = read_key(key);
    int err;

    if (parts.prefixlen > trie->max_prefixlen)
        return -EINVAL;
    pthread_mutex_lock(&trie->lock);
    err = update_locked(trie, parts, value, flags);
    pthread_mutex_unlock(&trie->lock);
    return err;
}

static int trie_delete(lpm_trie_t *trie, const void *key)
{
    lpm_key_t parts = read_key(key);
    int err;

    if (parts.prefixlen > trie->max_prefixlen)
        return -EINVAL;
    pthread_mutex_lock(&trie->lock);
    err = delete_locked(trie, parts);
    pthread_mutex_unlock(&trie->lock);
    return err;
}

/* First node of the postorder walk of the subtree at node: deeper (more specific) prefixes
 * come before the shorter ones that cover them, as Linux iterates. */
static lpm_node_t *postorder_first(lpm_node_t *node)
{
    lpm_node_t *found = NULL;

    while (node != NULL) {
        if (is_intermediate(node)) {
            node = atomic_load(&node->child[0]);
        } else {
            found = node;
            node = atomic_load(&node->child[0]) != NULL ? atomic_load(&node->child[0])
                                                        : atomic_load(&node->child[1]);
        }
    }
    return found;
}

static lpm_node_t *next_locked(lpm_trie_t *trie, const void *key, lpm_node_t **path)
{
    lpm_node_t *root = atomic_load(&trie->root);
    lpm_node_t *node = root;
    uint32_t depth = 0, matched = 0;
    lpm_key_t parts;

    if (key == NULL)
        return postorder_first(root);
    parts = read_key(key);
    if (parts.prefixlen > trie->max_prefixlen)
        return postorder_first(root);
    while (node != NULL) {
        path[depth++] = node;
        matched = prefix_match(trie, node, parts);
        if (node->prefixlen != matched || node->prefixlen == parts.prefixlen)
            break;
        node = atomic_load(&node->child[extract_bit(parts.data, node->prefixlen)]);
    }
    if (node == NULL || node->prefixlen != parts.prefixlen || matched != parts.prefixlen ||
        is_intermediate(node))
        return postorder_first(root); /* absent key: start again, as Linux */

    /* Climb: a right sibling subtree comes next, else the parent itself. */
    for (uint32_t i = depth - 1; i > 0; i--) {
        lpm_node_t *parent = path[i - 1];
        if (atomic_load(&parent->child[0]) == node && atomic_load(&parent->child[1]) != NULL)
            return postorder_first(atomic_load(&parent->child[1]));
        if (!is_intermediate(parent))
            return parent;
        node = parent;
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */

static int trie_check(const ebpf_map_definition_t *definition, const char *name)
{
    uint32_t flags = definition->map_flags;
    uint32_t value_max;

    if (flags & ~LPM_FLAGS)
        return ebpf_error(-EINVAL, "map '%s': map_flags 0x%x has flags 0x%x an LPM trie refuses",
                          name, flags, flags & ~LPM_FLAGS);
    if (!(flags & BPF_F_NO_PREALLOC))
        return ebpf_error(-EINVAL, "map '%s': an LPM trie needs BPF_F_NO_PREALLOC", name);
    if (definition->max_entries == 0)
        return ebpf_error(-EINVAL, "map '%s': max_entries is 0", name);
    if (definition->key_size < LPM_PREFIX_SIZE + 1 ||
        definition->key_size > LPM_PREFIX_SIZE + LPM_DATA_SIZE_MAX)
        return ebpf_error(-EINVAL,
                          "map '%s': key_size %u, an LPM key is a 4-byte prefixlen and 1 to %u "
                          "bytes of data",
                          name, definition->key_size, LPM_DATA_SIZE_MAX);
    value_max = EBPF_MAP_KMALLOC_MAX - LPM_DATA_SIZE_MAX - (uint32_t)sizeof(lpm_node_t);
    if (definition->value_size == 0 || definition->value_size > value_max)
        return ebpf_error(-EINVAL, "map '%s': value_size %u is not between 1 and %u", name,
                          definition->value_size, value_max);
    return 0;
}

static int trie_create(const ebpf_map_definition_t *definition, const char *name, ebpf_map_t **map)
{
    lpm_trie_t *trie = ebpf_allocate(sizeof(*trie));
    size_t node_size;
    int err;

    if (trie == NULL)
        return ebpf_error(-ENOMEM, "map '%s': out of memory", name);
    trie->data_size = definition->key_size - LPM_PREFIX_SIZE;
    trie->max_prefixlen = trie->data_size * 8;
    trie->data_offset = EBPF_ROUND_UP_8(sizeof(lpm_node_t));
    trie->value_offset = trie->data_offset + EBPF_ROUND_UP_8(trie->data_size);
    node_size = trie->value_offset + EBPF_ROUND_UP_8(definition->value_size);
    atomic_init(&trie->root, NULL);
    if (pthread_mutex_init(&trie->lock, NULL) != 0) {
        ebpf_free(trie);
        return ebpf_error(-ENOMEM, "map '%s': cannot create its lock", name);
    }
    /* Nodes come from a growing pool (never preallocated, as Linux requires), so the bounds
     * check can find them; the entry count bounds the live ones. */
    err = ebpf_element_pool_init(&trie->pool, node_size, trie->data_offset, UINT64_MAX / node_size,
                                 false, name);
    if (err != 0) {
        pthread_mutex_destroy(&trie->lock);
        ebpf_free(trie);
        return err;
    }
    *map = &trie->map;
    return 0;
}

static void trie_destroy(ebpf_map_t *map)
{
    lpm_trie_t *trie = as_trie(map);
    ebpf_element_pool_destroy(&trie->pool);
    pthread_mutex_destroy(&trie->lock);
    ebpf_free(trie);
}

static void *trie_lookup_program(ebpf_map_t *map, const void *key)
{
    lpm_trie_t *trie = as_trie(map);
    lpm_node_t *node = longest_match(trie, read_key(key));
    return node == NULL ? NULL : value_of(trie, node);
}

static int trie_update_program(ebpf_map_t *map, const void *key, const void *value, uint64_t flags)
{
    return trie_update(as_trie(map), key, value, flags);
}

static int trie_delete_program(ebpf_map_t *map, const void *key)
{
    return trie_delete(as_trie(map), key);
}

static int trie_lookup_user(ebpf_map_t *map, const void *key, void *value)
{
    lpm_trie_t *trie = as_trie(map);
    lpm_node_t *node;

    ebpf_epoch_enter();
    node = longest_match(trie, read_key(key));
    if (node != NULL)
        memcpy(value, value_of(trie, node), map->definition.value_size);
    ebpf_epoch_exit();
    if (node == NULL)
        return ebpf_error(-ENOENT, "map '%s': no prefix matches the key", map->name);
    return 0;
}

static int trie_update_user(ebpf_map_t *map, const void *key, const void *value, uint64_t flags)
{
    int err = trie_update(as_trie(map), key, value, flags);

    switch (err) {
    case 0:
        return 0;
    case -EINVAL:
        return ebpf_error(err, "map '%s': prefixlen is over %u", map->name,
                          as_trie(map)->max_prefixlen);
    case -EEXIST:
        return ebpf_error(err, "map '%s': prefix exists and flags are BPF_NOEXIST", map->name);
    case -ENOENT:
        return ebpf_error(err, "map '%s': prefix absent and flags are BPF_EXIST", map->name);
    case -ENOSPC:
        return ebpf_error(err, "map '%s': full (%u entries)", map->name,
                          map->definition.max_entries);
    default:
        return ebpf_error(err, "map '%s': out of memory for a trie node", map->name);
    }
}

static int trie_delete_user(ebpf_map_t *map, const void *key)
{
    int err = trie_delete(as_trie(map), key);

    if (err == -EINVAL)
        return ebpf_error(err, "map '%s': prefixlen is over %u", map->name,
                          as_trie(map)->max_prefixlen);
    if (err != 0)
        return ebpf_error(err, "map '%s': no such prefix", map->name);
    return 0;
}

static int trie_get_next_key(ebpf_map_t *map, const void *key, void *next_key)
{
    lpm_trie_t *trie = as_trie(map);
    /* Each level of a path has a longer prefix than the one above. */
    lpm_node_t **path = ebpf_allocate_array(trie->max_prefixlen + 1, sizeof(*path));
    lpm_node_t *next;

    if (path == NULL)
        return ebpf_error(-ENOMEM, "map '%s': out of memory", map->name);
    pthread_mutex_lock(&trie->lock);
    next = next_locked(trie, key, path);
    if (next != NULL) {
        memcpy(next_key, &next->prefixlen, LPM_PREFIX_SIZE);
        memcpy((uint8_t *)next_key + LPM_PREFIX_SIZE, data_of(trie, next), trie->data_size);
    }
    pthread_mutex_unlock(&trie->lock);
    ebpf_free(path);
    if (next == NULL)
        return ebpf_error(-ENOENT, "map '%s': no key after this one", map->name);
    return 0;
}

static bool trie_owns_memory(const ebpf_map_t *map, const void *p, size_t n)
{
    const lpm_trie_t *trie = as_trie(map);
    uint8_t *node = ebpf_element_pool_find(&trie->pool, p, n);
    uintptr_t value, address = (uintptr_t)p;

    if (node == NULL)
        return false;
    value = (uintptr_t)node + trie->value_offset;
    return address >= value && address - value + n <= map->definition.value_size;
}

const ebpf_map_ops_t ebpf_lpm_trie_map_ops = {
    .check = trie_check,
    .create = trie_create,
    .destroy = trie_destroy,
    .lookup_program = trie_lookup_program,
    .update_program = trie_update_program,
    .delete_program = trie_delete_program,
    .lookup_user = trie_lookup_user,
    .update_user = trie_update_user,
    .delete_user = trie_delete_user,
    .get_next_key = trie_get_next_key,
    .owns_memory = trie_owns_memory,
};
