/* Hash maps (plain, per-CPU, LRU, LRU per-CPU): lock-free readers, striped-lock writers, epochs. */
#include <string.h>

#include "map_hash.h"

#define HASH_FLAGS                                                                                 \
    (BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | EBPF_MAP_ACCESS_FLAGS |           \
     BPF_F_ZERO_SEED)
#define STRIPES_MAX 1024u
/* Internal: every element is in use or waits for its grace period. */
#define POOL_EXHAUSTED (-EAGAIN)

struct ebpf_hash_element {
    void *pool_link; /* the pool's while the element is free */
    /* Next element of the chain or the chain's nulls marker; see ebpf_hash_table_t. */
    ebpf_hash_element_t *_Atomic next;
    ebpf_epoch_work_t free_work;
    ebpf_hash_table_t *table;
    /* Written while the element is unreachable or under its stripe lock (LRU reuse); atomic
     * because the LRU clock reads it without the lock. */
    _Atomic uint32_t hash;
    /* 1 while linked in a chain; changed only under the stripe lock of that chain. */
    _Atomic uint8_t live;
    /* LRU second chance: set by lookups, cleared by the clock hand. */
    _Atomic uint8_t referenced;
};

static uint8_t *key_of(const ebpf_hash_table_t *table, ebpf_hash_element_t *element)
{
    return (uint8_t *)element + table->key_offset;
}

static uint8_t *value_of(const ebpf_hash_table_t *table, ebpf_hash_element_t *element)
{
    return (uint8_t *)element + table->value_offset;
}

static ebpf_hash_element_t *nulls_marker(uint32_t bucket)
{
    return (ebpf_hash_element_t *)(((uintptr_t)bucket << 1) | 1u);
}

static bool is_nulls(const ebpf_hash_element_t *element)
{
    return ((uintptr_t)element & 1u) != 0;
}

static uint32_t nulls_bucket(const ebpf_hash_element_t *element)
{
    return (uint32_t)((uintptr_t)element >> 1);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    x ^= x >> 33;
    return x;
}

static uint32_t hash_key(const ebpf_hash_table_t *table, const void *key)
{
    const uint8_t *bytes = key;
    uint64_t h = table->seed ^ ((uint64_t)table->key_size * 0x9e3779b97f4a7c15ull);
    uint32_t i = 0;

    for (; i + 8 <= table->key_size; i += 8) {
        uint64_t word;
        memcpy(&word, bytes + i, sizeof(word));
        h = mix64(h ^ word);
    }
    if (i < table->key_size) {
        uint64_t word = 0;
        memcpy(&word, bytes + i, table->key_size - i);
        h = mix64(h ^ word ^ 0xff);
    }
    return (uint32_t)(h ^ (h >> 32));
}

static pthread_mutex_t *stripe_of(ebpf_hash_table_t *table, uint32_t bucket)
{
    return &table->stripes[bucket & table->stripe_mask];
}

/* Reader search; caller inside a read section. */
static ebpf_hash_element_t *find(ebpf_hash_table_t *table, const void *key, uint32_t hash)
{
    uint32_t bucket = hash & table->bucket_mask;
    ebpf_hash_element_t *element;

    for (;;) {
        element = ebpf_epoch_dereference(&table->buckets[bucket]);
        while (!is_nulls(element)) {
            if (atomic_load_explicit(&element->hash, memory_order_relaxed) == hash &&
                memcmp(key_of(table, element), key, table->key_size) == 0)
                return element;
            element = ebpf_epoch_dereference(&element->next);
        }
        /* An LRU element reused for another bucket led us off our chain: start again. */
        if (nulls_bucket(element) == bucket)
            return NULL;
    }
}

/* Writer search under the bucket's stripe lock: the element and the link that points to it. */
static ebpf_hash_element_t *find_locked(ebpf_hash_table_t *table, const void *key, uint32_t hash,
                                        ebpf_hash_element_t *_Atomic **link)
{
    ebpf_hash_element_t *_Atomic *slot = &table->buckets[hash & table->bucket_mask];
    ebpf_hash_element_t *element;

    for (element = atomic_load(slot); !is_nulls(element); element = atomic_load(slot)) {
        if (atomic_load_explicit(&element->hash, memory_order_relaxed) == hash &&
            memcmp(key_of(table, element), key, table->key_size) == 0) {
            *link = slot;
            return element;
        }
        slot = &element->next;
    }
    return NULL;
}

static void element_free_after_grace(ebpf_epoch_work_t *work)
{
    ebpf_hash_element_t *element = EBPF_CONTAINER_OF(work, ebpf_hash_element_t, free_work);
    ebpf_hash_table_t *table = element->table;

    ebpf_element_pool_give(&table->pool, element);
    ebpf_map_deferred_done(&table->map);
}

/* Unlinks element (under its stripe lock); the caller retires it after unlocking. */
static void unlink_element(ebpf_hash_table_t *table, ebpf_hash_element_t *_Atomic *link,
                           ebpf_hash_element_t *element)
{
    ebpf_epoch_publish(link, atomic_load(&element->next));
    atomic_store(&element->live, 0);
    atomic_fetch_sub_explicit(&table->count, 1, memory_order_relaxed);
    if (table->value_released != NULL)
        table->value_released(table, value_of(table, element));
}

/* Readers may still hold the element: it goes back to the pool after a grace period. */
static void retire(ebpf_hash_table_t *table, ebpf_hash_element_t *element)
{
    ebpf_map_defer(&table->map, &element->free_work, element_free_after_grace);
}

/* Clock (second chance) eviction: unlinks and returns a live element not looked up since the
 * hand last passed it, or NULL after two turns without one. Holds no lock on entry. */
static ebpf_hash_element_t *lru_evict(ebpf_hash_table_t *table)
{
    uint64_t capacity = table->pool.capacity;

    for (uint64_t step = 0; step < 2 * capacity; step++) {
        uint64_t index =
            atomic_fetch_add_explicit(&table->clock_hand, 1, memory_order_relaxed) % capacity;
        ebpf_hash_element_t *element = (void *)ebpf_element_pool_at(&table->pool, index);
        ebpf_hash_element_t *_Atomic *slot;
        uint32_t hash, bucket;

        if (!atomic_load(&element->live))
            continue;
        if (atomic_load_explicit(&element->referenced, memory_order_relaxed)) {
            atomic_store_explicit(&element->referenced, 0, memory_order_relaxed);
            continue;
        }
        hash = atomic_load(&element->hash);
        bucket = hash & table->bucket_mask;
        pthread_mutex_lock(stripe_of(table, bucket));
        /* Still linked in the chain of this bucket (it may have moved since we looked)? */
        if (atomic_load(&element->live) && atomic_load(&element->hash) == hash) {
            for (slot = &table->buckets[bucket]; !is_nulls(atomic_load(slot));
                 slot = &atomic_load(slot)->next) {
                if (atomic_load(slot) == element) {
                    unlink_element(table, slot, element);
                    pthread_mutex_unlock(stripe_of(table, bucket));
                    return element;
                }
            }
        }
        pthread_mutex_unlock(stripe_of(table, bucket));
    }
    return NULL;
}

/* Writes a value into an element. user: every CPU's slot from a user buffer; else the CPU
 * slot cpu (fresh per-CPU elements get zero in the other CPUs' slots, as Linux). */
static void write_value(ebpf_hash_table_t *table, ebpf_hash_element_t *element, const void *value,
                        bool user, uint32_t cpu, bool fresh)
{
    uint8_t *area = value_of(table, element);

    if (!table->percpu) {
        memcpy(area, value, table->value_size);
    } else if (user) {
        memcpy(area, value, table->value_stride * table->cpu_count);
    } else {
        if (fresh)
            memset(area, 0, table->value_stride * table->cpu_count);
        memcpy(area + cpu * table->value_stride, value, table->value_size);
    }
}

static bool reserve_entry(ebpf_hash_table_t *table)
{
    uint32_t count = atomic_load_explicit(&table->count, memory_order_relaxed);

    if (table->lru) {
        atomic_fetch_add_explicit(&table->count, 1, memory_order_relaxed);
        return true;
    }
    do {
        if (count >= table->max_entries)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&table->count, &count, count + 1,
                                                    memory_order_relaxed, memory_order_relaxed));
    return true;
}

/* Takes a free element for a new value; with none free, an LRU map reuses its victim at
 * once, as Linux does (a reader still holding the victim may then see the new contents). */
static ebpf_hash_element_t *take_element(ebpf_hash_table_t *table, ebpf_hash_element_t **spare)
{
    ebpf_hash_element_t *element = ebpf_element_pool_take(&table->pool);

    if (element == NULL && *spare != NULL) {
        element = *spare;
        *spare = NULL;
    }
    return element;
}

static void fill_element(ebpf_hash_table_t *table, ebpf_hash_element_t *element, uint32_t hash,
                         const void *key, const void *value, bool user, uint32_t cpu)
{
    element->table = table;
    atomic_store_explicit(&element->hash, hash, memory_order_relaxed);
    /* New elements start unreferenced, so a burst of inserts evicts them before elements
     * that were looked up (Linux puts them on its inactive list). */
    atomic_store_explicit(&element->referenced, 0, memory_order_relaxed);
    memcpy(key_of(table, element), key, table->key_size);
    write_value(table, element, value, user, cpu, true);
}

/* Stores under the stripe lock. *retired receives an element to retire after unlocking. */
static int store_locked(ebpf_hash_table_t *table, const void *key, uint32_t hash, const void *value,
                        uint64_t flags, bool user, uint32_t cpu, ebpf_hash_element_t **spare,
                        ebpf_hash_element_t **retired)
{
    uint32_t bucket = hash & table->bucket_mask;
    ebpf_hash_element_t *_Atomic *link = NULL;
    ebpf_hash_element_t *old = find_locked(table, key, hash, &link);
    ebpf_hash_element_t *fresh;

    if (old != NULL && flags == BPF_NOEXIST)
        return -EEXIST;
    if (old == NULL && flags == BPF_EXIST)
        return -ENOENT;
    if (old != NULL && table->percpu) {
        /* Per-CPU values change in place, as Linux: each CPU's slot has one writer. */
        write_value(table, old, value, user, cpu, false);
        return 0;
    }
    if (old == NULL && !reserve_entry(table))
        return -E2BIG;

    fresh = take_element(table, spare);
    if (fresh == NULL) {
        /* Never write a live value in place: a program may be reading it (or adding to it
         * atomically) through a pointer from lookup. The caller waits for a grace period or
         * reports -ENOMEM. */
        if (old == NULL)
            atomic_fetch_sub_explicit(&table->count, 1, memory_order_relaxed);
        return POOL_EXHAUSTED;
    }
    fill_element(table, fresh, hash, key, value, user, cpu);
    atomic_store(&fresh->live, 1);
    if (old == NULL) {
        atomic_store(&fresh->next, atomic_load(&table->buckets[bucket]));
        ebpf_epoch_publish(&table->buckets[bucket], fresh);
        return 0;
    }
    /* Replace: readers see the old value or the new one, never a mix. */
    atomic_store(&fresh->next, atomic_load(&old->next));
    ebpf_epoch_publish(link, fresh);
    atomic_store(&old->live, 0);
    if (table->value_released != NULL)
        table->value_released(table, value_of(table, old));
    *retired = old;
    return 0;
}

static int store(ebpf_hash_table_t *table, const void *key, const void *value, uint64_t flags,
                 bool user)
{
    uint32_t hash = hash_key(table, key);
    pthread_mutex_t *stripe = stripe_of(table, hash & table->bucket_mask);
    ebpf_hash_element_t *spare = NULL, *retired = NULL;
    uint32_t cpu = 0;
    int err;

    if (table->percpu && !user) {
        cpu = ebpf_cpu_claimed();
        if (cpu >= table->cpu_count)
            return -EINVAL;
    }
    if (table->lru &&
        atomic_load_explicit(&table->count, memory_order_relaxed) >= table->max_entries) {
        bool present;
        ebpf_epoch_enter();
        present = find(table, key, hash) != NULL;
        ebpf_epoch_exit();
        /* Evict outside the stripe lock: the victim's stripe may be another one. */
        if (!present)
            spare = lru_evict(table);
    }
    pthread_mutex_lock(stripe);
    err = store_locked(table, key, hash, value, flags, user, cpu, &spare, &retired);
    pthread_mutex_unlock(stripe);
    if (retired != NULL)
        retire(table, retired);
    if (spare != NULL)
        retire(table, spare);
    return err;
}

int ebpf_hash_table_update_program(ebpf_hash_table_t *table, const void *key, const void *value,
                                   uint64_t flags)
{
    int err = store(table, key, value, flags, false);
    return err == POOL_EXHAUSTED ? -ENOMEM : err;
}

int ebpf_hash_table_update_user(ebpf_hash_table_t *table, const void *key, const void *value,
                                uint64_t flags)
{
    const char *name = table->map.name;
    int err = store(table, key, value, flags, true);

    if (err == POOL_EXHAUSTED) {
        /* Every free element waits for a grace period: user space may wait for it. */
        ebpf_epoch_barrier();
        err = store(table, key, value, flags, true);
    }
    switch (err) {
    case 0:
        return 0;
    case -EEXIST:
        return ebpf_error(err, "map '%s': key exists and flags are BPF_NOEXIST", name);
    case -ENOENT:
        return ebpf_error(err, "map '%s': key absent and flags are BPF_EXIST", name);
    case -E2BIG:
        return ebpf_error(err, "map '%s': full (%u entries)", name, table->max_entries);
    case POOL_EXHAUSTED:
        return ebpf_error(-ENOMEM, "map '%s': no free element even after a grace period", name);
    default:
        return ebpf_error(err, "map '%s': update failed", name);
    }
}

uint8_t *ebpf_hash_table_lookup(ebpf_hash_table_t *table, const void *key)
{
    ebpf_hash_element_t *element = find(table, key, hash_key(table, key));

    if (element == NULL)
        return NULL;
    if (table->lru && !atomic_load_explicit(&element->referenced, memory_order_relaxed))
        atomic_store_explicit(&element->referenced, 1, memory_order_relaxed);
    return value_of(table, element);
}

static void copy_out(ebpf_hash_table_t *table, ebpf_hash_element_t *element, void *value)
{
    if (table->percpu)
        memcpy(value, value_of(table, element), table->value_stride * table->cpu_count);
    else
        memcpy(value, value_of(table, element), table->value_size);
}

int ebpf_hash_table_delete(ebpf_hash_table_t *table, const void *key, void *value)
{
    uint32_t hash = hash_key(table, key);
    pthread_mutex_t *stripe = stripe_of(table, hash & table->bucket_mask);
    ebpf_hash_element_t *_Atomic *link = NULL;
    ebpf_hash_element_t *element;

    pthread_mutex_lock(stripe);
    element = find_locked(table, key, hash, &link);
    if (element == NULL) {
        pthread_mutex_unlock(stripe);
        return -ENOENT;
    }
    if (value != NULL)
        copy_out(table, element, value);
    unlink_element(table, link, element);
    pthread_mutex_unlock(stripe);
    retire(table, element);
    return 0;
}

int ebpf_hash_table_get_next_key(ebpf_hash_table_t *table, const void *key, void *next_key)
{
    uint32_t bucket = 0;
    ebpf_hash_element_t *element;
    int err = -ENOENT;

    ebpf_epoch_enter();
    if (key != NULL) {
        uint32_t hash = hash_key(table, key);
        element = find(table, key, hash);
        if (element != NULL) {
            ebpf_hash_element_t *next = ebpf_epoch_dereference(&element->next);
            if (!is_nulls(next)) {
                memcpy(next_key, key_of(table, next), table->key_size);
                err = 0;
                goto out;
            }
            bucket = (hash & table->bucket_mask) + 1;
        }
    }
    /* Absent key: Linux starts again from the first key. */
    for (; bucket <= table->bucket_mask; bucket++) {
        element = ebpf_epoch_dereference(&table->buckets[bucket]);
        if (!is_nulls(element)) {
            memcpy(next_key, key_of(table, element), table->key_size);
            err = 0;
            goto out;
        }
    }
out:
    ebpf_epoch_exit();
    return err;
}

/* ---------------------------------------------------------------------------------------- */
/* Creation and checks. */

static uint64_t extra_elements(uint32_t max_entries)
{
    /* Linux keeps one spare element per CPU for replacements. Ours wait a grace period
     * before reuse, so programs replacing or re-inserting keys of a nearly full map need
     * more: 1/16 of the map, at least 16. */
    uint64_t waiting = max_entries / 16 < 16 ? 16 : max_entries / 16;
    return ebpf_cpu_count() + waiting;
}

int ebpf_hash_check_common(const ebpf_map_definition_t *definition, const char *name, bool lru,
                           bool percpu)
{
    uint32_t flags = definition->map_flags;

    if (flags & ~HASH_FLAGS)
        return ebpf_error(-EINVAL, "map '%s': map_flags 0x%x has flags 0x%x a hash refuses", name,
                          flags, flags & ~HASH_FLAGS);
    if (!lru && (flags & BPF_F_NO_COMMON_LRU))
        return ebpf_error(-EINVAL, "map '%s': BPF_F_NO_COMMON_LRU is only for LRU hashes", name);
    if (lru && (flags & BPF_F_NO_PREALLOC))
        return ebpf_error(-EOPNOTSUPP,
                          "map '%s': an LRU hash must be preallocated "
                          "(BPF_F_NO_PREALLOC is not supported)",
                          name);
    if ((flags & BPF_F_NUMA_NODE) && (percpu || (flags & BPF_F_NO_COMMON_LRU)))
        return ebpf_error(-EINVAL, "map '%s': BPF_F_NUMA_NODE is not for per-CPU maps", name);
    if (definition->max_entries == 0)
        return ebpf_error(-EINVAL, "map '%s': max_entries is 0", name);
    if (definition->key_size == 0)
        return ebpf_error(-EINVAL, "map '%s': key_size is 0", name);
    if (definition->value_size == 0)
        return ebpf_error(-EINVAL, "map '%s': value_size is 0", name);
    if (definition->key_size > EBPF_MAP_STACK_MAX)
        return ebpf_error(-E2BIG, "map '%s': key_size %u is over %u (keys live on the stack)", name,
                          definition->key_size, EBPF_MAP_STACK_MAX);
    if (definition->value_size >= EBPF_MAP_KMALLOC_MAX - EBPF_MAP_STACK_MAX - 64)
        return ebpf_error(-E2BIG, "map '%s': value_size %u is over the limit", name,
                          definition->value_size);
    if (percpu && EBPF_ROUND_UP_8(definition->value_size) > EBPF_MAP_PERCPU_VALUE_MAX)
        return ebpf_error(-E2BIG, "map '%s': value_size %u is over the per-CPU limit of %u bytes",
                          name, definition->value_size, EBPF_MAP_PERCPU_VALUE_MAX);
    if (definition->max_entries > (1u << 31))
        return ebpf_error(-E2BIG, "map '%s': max_entries %u is over %u", name,
                          definition->max_entries, 1u << 31);
    if (!(flags & BPF_F_NO_PREALLOC)) {
        uint64_t element_size =
            EBPF_ROUND_UP_8(sizeof(ebpf_hash_element_t)) + EBPF_ROUND_UP_8(definition->key_size) +
            EBPF_ROUND_UP_8(definition->value_size) * (percpu ? ebpf_cpu_count() : 1);
        uint64_t capacity = definition->max_entries + extra_elements(definition->max_entries);
        if (capacity * element_size > EBPF_MAP_MEMORY_MAX)
            return ebpf_error(-E2BIG,
                              "map '%s': %llu preallocated elements of %llu bytes are over %llu "
                              "bytes",
                              name, (unsigned long long)capacity, (unsigned long long)element_size,
                              (unsigned long long)EBPF_MAP_MEMORY_MAX);
    }
    return 0;
}

static uint64_t next_seed(void)
{
    static _Atomic uint64_t seeds; /* only makes each map's seed differ */
    return mix64(ebpf_clock_monotonic_ns() ^
                 (atomic_fetch_add_explicit(&seeds, 1, memory_order_relaxed) << 32));
}

static void destroy_stripes(ebpf_hash_table_t *table, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        pthread_mutex_destroy(&table->stripes[i]);
    ebpf_free(table->stripes);
}

int ebpf_hash_table_create(const ebpf_map_definition_t *definition, const char *name,
                           uint32_t value_size, bool percpu, bool lru, ebpf_hash_table_t **out)
{
    ebpf_hash_table_t *table;
    uint64_t buckets = 1, stripes, capacity, element_size;
    bool preallocate = !(definition->map_flags & BPF_F_NO_PREALLOC);
    int err;

    while (buckets < definition->max_entries)
        buckets <<= 1;
    stripes = buckets < STRIPES_MAX ? buckets : STRIPES_MAX;

    table = ebpf_allocate(sizeof(*table));
    if (table == NULL)
        return ebpf_error(-ENOMEM, "map '%s': out of memory", name);
    table->percpu = percpu;
    table->lru = lru;
    table->key_size = definition->key_size;
    table->value_size = value_size;
    table->value_stride = EBPF_ROUND_UP_8(value_size);
    table->cpu_count = percpu ? ebpf_cpu_count() : 1;
    table->max_entries = definition->max_entries;
    table->key_offset = EBPF_ROUND_UP_8(sizeof(ebpf_hash_element_t));
    table->value_offset = table->key_offset + EBPF_ROUND_UP_8(definition->key_size);
    table->seed = (definition->map_flags & BPF_F_ZERO_SEED) ? 0 : next_seed();
    table->bucket_mask = (uint32_t)(buckets - 1);
    table->stripe_mask = (uint32_t)(stripes - 1);
    atomic_init(&table->count, 0);
    atomic_init(&table->clock_hand, 0);
    element_size = table->value_offset + table->value_stride * table->cpu_count;
    /* Without preallocation the pool grows as needed; the count alone bounds live entries. */
    capacity = preallocate ? definition->max_entries + extra_elements(definition->max_entries)
                           : UINT64_MAX / element_size;

    table->buckets = ebpf_allocate_array(buckets, sizeof(*table->buckets));
    if (table->buckets == NULL) {
        ebpf_free(table);
        return ebpf_error(-ENOMEM, "map '%s': cannot allocate %llu buckets", name,
                          (unsigned long long)buckets);
    }
    for (uint64_t i = 0; i < buckets; i++)
        atomic_init(&table->buckets[i], nulls_marker((uint32_t)i));
    table->stripes = ebpf_allocate_array(stripes, sizeof(*table->stripes));
    if (table->stripes == NULL) {
        ebpf_free(table->buckets);
        ebpf_free(table);
        return ebpf_error(-ENOMEM, "map '%s': cannot allocate bucket locks", name);
    }
    for (uint32_t i = 0; i < stripes; i++) {
        if (pthread_mutex_init(&table->stripes[i], NULL) != 0) {
            destroy_stripes(table, i);
            ebpf_free(table->buckets);
            ebpf_free(table);
            return ebpf_error(-ENOMEM, "map '%s': cannot create bucket locks", name);
        }
    }
    err = ebpf_element_pool_init(&table->pool, (size_t)element_size, table->key_offset, capacity,
                                 preallocate, name);
    if (err != 0) {
        destroy_stripes(table, (uint32_t)stripes);
        ebpf_free(table->buckets);
        ebpf_free(table);
        return err;
    }
    *out = table;
    return 0;
}

void ebpf_hash_table_destroy(ebpf_hash_table_t *table)
{
    if (table->value_released != NULL) {
        for (uint64_t bucket = 0; bucket <= table->bucket_mask; bucket++) {
            ebpf_hash_element_t *element = atomic_load(&table->buckets[bucket]);
            for (; !is_nulls(element); element = atomic_load(&element->next))
                table->value_released(table, value_of(table, element));
        }
    }
    ebpf_element_pool_destroy(&table->pool);
    destroy_stripes(table, table->stripe_mask + 1);
    ebpf_free(table->buckets);
    ebpf_free(table);
}

/* ---------------------------------------------------------------------------------------- */
/* The four hash map types. */

static ebpf_hash_table_t *as_table(const ebpf_map_t *map)
{
    return (ebpf_hash_table_t *)map;
}

static int hash_check(const ebpf_map_definition_t *definition, const char *name)
{
    return ebpf_hash_check_common(definition, name, false, false);
}

static int percpu_hash_check(const ebpf_map_definition_t *definition, const char *name)
{
    return ebpf_hash_check_common(definition, name, false, true);
}

static int lru_hash_check(const ebpf_map_definition_t *definition, const char *name)
{
    return ebpf_hash_check_common(definition, name, true, false);
}

static int lru_percpu_hash_check(const ebpf_map_definition_t *definition, const char *name)
{
    return ebpf_hash_check_common(definition, name, true, true);
}

static int create_kind(const ebpf_map_definition_t *definition, const char *name, bool percpu,
                       bool lru, ebpf_map_t **map)
{
    ebpf_hash_table_t *table = NULL;
    int err = ebpf_hash_table_create(definition, name, definition->value_size, percpu, lru, &table);

    if (err == 0)
        *map = &table->map;
    return err;
}

static int hash_create(const ebpf_map_definition_t *definition, const char *name, ebpf_map_t **map)
{
    return create_kind(definition, name, false, false, map);
}

static int percpu_hash_create(const ebpf_map_definition_t *definition, const char *name,
                              ebpf_map_t **map)
{
    return create_kind(definition, name, true, false, map);
}

static int lru_hash_create(const ebpf_map_definition_t *definition, const char *name,
                           ebpf_map_t **map)
{
    return create_kind(definition, name, false, true, map);
}

static int lru_percpu_hash_create(const ebpf_map_definition_t *definition, const char *name,
                                  ebpf_map_t **map)
{
    return create_kind(definition, name, true, true, map);
}

static void hash_destroy(ebpf_map_t *map)
{
    ebpf_hash_table_destroy(as_table(map));
}

static void *hash_lookup_program(ebpf_map_t *map, const void *key)
{
    ebpf_hash_table_t *table = as_table(map);
    uint8_t *value;
    uint32_t cpu = 0;

    if (table->percpu) {
        cpu = ebpf_cpu_claimed();
        if (cpu >= table->cpu_count)
            return NULL;
    }
    value = ebpf_hash_table_lookup(table, key);
    return value == NULL ? NULL : value + cpu * table->value_stride;
}

static int hash_update_program(ebpf_map_t *map, const void *key, const void *value, uint64_t flags)
{
    return ebpf_hash_table_update_program(as_table(map), key, value, flags);
}

static int hash_delete_program(ebpf_map_t *map, const void *key)
{
    return ebpf_hash_table_delete(as_table(map), key, NULL);
}

static int hash_lookup_user(ebpf_map_t *map, const void *key, void *value)
{
    ebpf_hash_table_t *table = as_table(map);
    ebpf_hash_element_t *element;

    ebpf_epoch_enter();
    element = find(table, key, hash_key(table, key));
    if (element != NULL)
        copy_out(table, element, value);
    ebpf_epoch_exit();
    if (element == NULL)
        return ebpf_error(-ENOENT, "map '%s': no such key", map->name);
    return 0;
}

static int hash_update_user(ebpf_map_t *map, const void *key, const void *value, uint64_t flags)
{
    return ebpf_hash_table_update_user(as_table(map), key, value, flags);
}

static int hash_delete_user(ebpf_map_t *map, const void *key)
{
    int err = ebpf_hash_table_delete(as_table(map), key, NULL);
    if (err != 0)
        return ebpf_error(err, "map '%s': no such key", map->name);
    return 0;
}

static int hash_lookup_and_delete_user(ebpf_map_t *map, const void *key, void *value)
{
    int err = ebpf_hash_table_delete(as_table(map), key, value);
    if (err != 0)
        return ebpf_error(err, "map '%s': no such key", map->name);
    return 0;
}

static int hash_get_next_key(ebpf_map_t *map, const void *key, void *next_key)
{
    int err = ebpf_hash_table_get_next_key(as_table(map), key, next_key);
    if (err != 0)
        return ebpf_error(err, "map '%s': no key after this one", map->name);
    return 0;
}

static bool hash_owns_memory(const ebpf_map_t *map, const void *p, size_t n)
{
    const ebpf_hash_table_t *table = as_table(map);
    uint8_t *element = ebpf_element_pool_find(&table->pool, p, n);
    uintptr_t values, address = (uintptr_t)p;

    if (element == NULL)
        return false;
    values = (uintptr_t)element + table->value_offset;
    if (address < values)
        return false;
    return n <= table->value_size &&
           (address - values) % table->value_stride + n <= table->value_size;
}

#define HASH_OPS(check_function, create_function)                                                  \
    {                                                                                              \
        .check = check_function, .create = create_function, .destroy = hash_destroy,               \
        .lookup_program = hash_lookup_program, .update_program = hash_update_program,              \
        .delete_program = hash_delete_program, .lookup_user = hash_lookup_user,                    \
        .update_user = hash_update_user, .delete_user = hash_delete_user,                          \
        .get_next_key = hash_get_next_key, .lookup_and_delete_user = hash_lookup_and_delete_user,  \
        .owns_memory = hash_owns_memory,                                                           \
    }

const ebpf_map_ops_t ebpf_hash_map_ops = HASH_OPS(hash_check, hash_create);
const ebpf_map_ops_t ebpf_percpu_hash_map_ops = HASH_OPS(percpu_hash_check, percpu_hash_create);
const ebpf_map_ops_t ebpf_lru_hash_map_ops = HASH_OPS(lru_hash_check, lru_hash_create);
const ebpf_map_ops_t ebpf_lru_percpu_hash_map_ops =
    HASH_OPS(lru_percpu_hash_check, lru_percpu_hash_create);
