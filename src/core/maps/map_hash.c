/* Hash maps (plain, per-CPU, LRU, LRU per-CPU): lock-free readers, striped-lock writers, epochs.
 *
 * Reuse of unlinked elements. A replaced, deleted or evicted element normally returns to the
 * pool after an epoch grace period, so no reader sees it change. But a program's read section
 * may be long (test-run holds one over all its runs, a provider over a batch) and no grace
 * period ends while it is open, so a program replacing keys in a loop would run the pool dry.
 * As Linux's preallocated hash maps do with their per-CPU extra elements, every CPU claim
 * keeps one spare element: a program's replace that finds no element past its grace period
 * takes the spare of its claim and leaves the element it replaced there instead, for the next
 * replace on that claim. Replaces of existing keys then never need more than max_entries + the
 * extra elements, however long the section. (Deletes and inserts still use only elements past
 * their grace period, plus the LRU victim.)
 *
 * What readers get:
 * - Memory: a pointer from a lookup stays inside the map's element memory for the whole read
 *   section (element memory returns to the allocator only when the map is freed).
 * - Programs: the pointer shows the key's value at lookup time, unless the key is replaced
 *   meanwhile and a later replace on the same claim reuses the element as its spare (only when
 *   no element past its grace period is free), or the LRU evicts the key: the pointer then
 *   shows a newer value, possibly of another key, possibly mid-write. So it is with Linux's
 *   preallocated hash maps, whose extra and freed elements are reused without waiting for RCU.
 * - User space (lookup, lookup-and-delete, iteration) copies under the element's sequence
 *   count: a value or key it returns is whole and belongs to the key asked for.
 * - Lookups never miss a key that stays in the map, nor match a key half written: a walker
 *   standing on an element that is refilled sees its sequence move, and one that may have
 *   followed a reused element past part of its chain sees its stripe's reuse count move; both
 *   start the bucket again.
 * Per-CPU values of an existing key change in place, as Linux, without the sequence count. */
#include <string.h>

#include "map_hash.h"

#define HASH_FLAGS                                                                                 \
    (BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | EBPF_MAP_ACCESS_FLAGS |           \
     BPF_F_ZERO_SEED)
#define STRIPES_MAX 1024u
/* Internal: every element is in use or waits for its grace period. */
#define POOL_EXHAUSTED (-EAGAIN)

struct ebpf_hash_element {
    union {
        void *pool_link;             /* the pool's while the element is free */
        ebpf_epoch_work_t free_work; /* while it waits for its grace period */
    };
    /* Next element of the chain or the chain's nulls marker; see ebpf_hash_table_t. */
    ebpf_hash_element_t *_Atomic next;
    ebpf_hash_table_t *table;
    /* Written while the element is unlinked, by the one thread that took it; atomic because
     * the LRU clock and walkers on a reused element read it without the lock. */
    _Atomic uint32_t hash;
    /* Even while key, value, hash and next are stable; odd while the thread that took the
     * element fills it. Only unlinked elements are filled, so a walker that starts at a
     * bucket head never sees it odd; one that reached a reused element (spare or LRU victim)
     * by a stale link sees it change and starts again. */
    _Atomic uint32_t sequence;
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

/* Keys and values are read by lock-free walkers while a program may refill a reused
 * element, so both sides go word by word through atomics (release stores, acquire loads: a
 * reader that sees a word of a refill also sees the odd sequence that preceded it). The key
 * and value areas are 8-aligned and padded to whole words. */
static inline uint64_t load_word(const uint8_t *p)
{
    return atomic_load_explicit((const _Atomic uint64_t *)(const void *)p, memory_order_acquire);
}

static inline void store_word(uint8_t *p, uint64_t word)
{
    atomic_store_explicit((_Atomic uint64_t *)(void *)p, word, memory_order_release);
}

/* The last size (< 8) bytes of a key or value as a zero-padded word, in memory order (what
 * a memcpy into the word gives). Shifts rather than a copy of variable size, which compilers
 * turn into a library call on paths that otherwise move one or two words. */
static inline uint64_t partial_word(const uint8_t *bytes, size_t size)
{
    uint64_t word = 0;

    for (size_t i = 0; i < size; i++) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        word |= (uint64_t)bytes[i] << (8 * i);
#else
        word |= (uint64_t)bytes[i] << (56 - 8 * i);
#endif
    }
    return word;
}

static inline void copy_from_element(void *destination, const uint8_t *source, size_t size)
{
    uint8_t *out = destination;
    size_t i = 0;

    for (; i + 8 <= size; i += 8) {
        uint64_t word = load_word(source + i);
        memcpy(out + i, &word, 8);
    }
    if (i < size) {
        uint8_t padded[8];
        uint64_t word = load_word(source + i);
        memcpy(padded, &word, 8);
        for (size_t j = 0; i + j < size; j++)
            out[i + j] = padded[j];
    }
}

/* Writes size bytes and zeroes the padding up to the next word. */
static inline void copy_to_element(uint8_t *destination, const void *source, size_t size)
{
    const uint8_t *in = source;
    size_t i = 0;

    for (; i + 8 <= size; i += 8) {
        uint64_t word;
        memcpy(&word, in + i, 8);
        store_word(destination + i, word);
    }
    if (i < size)
        store_word(destination + i, partial_word(in + i, size - i));
}

static void zero_element(uint8_t *destination, size_t size)
{
    for (size_t i = 0; i < size; i += 8)
        store_word(destination + i, 0);
}

/* A key ready for word-by-word comparison (stored keys are zero-padded to whole words). */
typedef struct wanted_key {
    const uint8_t *bytes;
    uint32_t whole; /* bytes in whole words */
    uint64_t tail;  /* the partial last word, zero-padded */
} wanted_key_t;

static inline wanted_key_t want(const ebpf_hash_table_t *table, const void *key)
{
    wanted_key_t wanted = {key, table->key_size & ~7u, 0};

    wanted.tail = partial_word(wanted.bytes + wanted.whole, table->key_size - wanted.whole);
    return wanted;
}

static inline bool key_equal(const ebpf_hash_table_t *table, ebpf_hash_element_t *element,
                             const wanted_key_t *wanted)
{
    const uint8_t *stored = key_of(table, element);

    for (uint32_t i = 0; i < wanted->whole; i += 8) {
        uint64_t word;
        memcpy(&word, wanted->bytes + i, 8);
        if (load_word(stored + i) != word)
            return false;
    }
    return wanted->whole == table->key_size || load_word(stored + wanted->whole) == wanted->tail;
}

/* The writer of an element that readers may still reach brackets its changes with these. */
static uint32_t refill_begin(ebpf_hash_element_t *element)
{
    /* Never-used memory may hold anything: start from the even value below it. */
    uint32_t sequence = atomic_load_explicit(&element->sequence, memory_order_relaxed) & ~1u;
    atomic_store_explicit(&element->sequence, sequence + 1, memory_order_relaxed);
    return sequence + 2;
}

static void refill_end(ebpf_hash_element_t *element, uint32_t sequence)
{
    atomic_store_explicit(&element->sequence, sequence, memory_order_release);
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

static ebpf_hash_stripe_t *stripe_of(ebpf_hash_table_t *table, uint32_t bucket)
{
    return &table->stripes[bucket & table->stripe_mask];
}

/* Reader search; caller inside a read section. *sequence receives the element's sequence
 * count, under which its key matched (user-side copies check it again afterwards). */
static ebpf_hash_element_t *find(ebpf_hash_table_t *table, const void *key, uint32_t hash,
                                 uint32_t *sequence)
{
    uint32_t bucket = hash & table->bucket_mask, reuses;
    _Atomic uint32_t *stripe_reuses = &stripe_of(table, bucket)->reuses;
    wanted_key_t wanted = want(table, key);
    ebpf_hash_element_t *element;

restart:
    reuses = atomic_load_explicit(stripe_reuses, memory_order_acquire);
    element = ebpf_epoch_dereference(&table->buckets[bucket]);
    while (!is_nulls(element)) {
        uint32_t seen = atomic_load_explicit(&element->sequence, memory_order_acquire);
        bool match = (seen & 1u) == 0 &&
                     atomic_load_explicit(&element->hash, memory_order_acquire) == hash &&
                     key_equal(table, element, &wanted);
        ebpf_hash_element_t *next = ebpf_epoch_dereference(&element->next);
        /* Refilled while we looked: its key and its link may be another chain's now. The
         * loads above are acquire, so this one cannot pass them. */
        if ((seen & 1u) != 0 ||
            atomic_load_explicit(&element->sequence, memory_order_relaxed) != seen)
            goto restart;
        if (match) {
            *sequence = seen;
            return element;
        }
        element = next;
    }
    /* A reused element led us off our chain, or maybe past part of it: start again. (The
     * loads above are acquire, so the second read of reuses cannot pass them.) */
    if (nulls_bucket(element) != bucket ||
        atomic_load_explicit(stripe_reuses, memory_order_relaxed) != reuses)
        goto restart;
    return NULL;
}

/* Whether the element was refilled since its sequence count read `sequence`. Called after
 * acquire loads of its contents, which it cannot pass. */
static bool refilled_since(ebpf_hash_element_t *element, uint32_t sequence)
{
    return atomic_load_explicit(&element->sequence, memory_order_relaxed) != sequence;
}

/* Writer search under the bucket's stripe lock: the element and the link that points to it.
 * Linked elements are never refilled, so their keys hold still under the lock. */
static ebpf_hash_element_t *find_locked(ebpf_hash_table_t *table, const void *key, uint32_t hash,
                                        ebpf_hash_element_t *_Atomic **link)
{
    ebpf_hash_element_t *_Atomic *slot = &table->buckets[hash & table->bucket_mask];
    wanted_key_t wanted = want(table, key);
    ebpf_hash_element_t *element;

    for (element = atomic_load(slot); !is_nulls(element); element = atomic_load(slot)) {
        if (atomic_load_explicit(&element->hash, memory_order_relaxed) == hash &&
            key_equal(table, element, &wanted)) {
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

/* The spare slot of the calling program's CPU claim, or NULL: user space, no claim, per-CPU
 * values (replaced in place) or values holding references (those wait for a grace period). */
static ebpf_hash_element_t **spare_slot(ebpf_hash_table_t *table, bool program)
{
    uint32_t cpu;

    if (!program || table->percpu || table->value_released != NULL)
        return NULL;
    cpu = ebpf_cpu_claimed();
    return cpu < ebpf_cpu_count() ? &table->spares[cpu] : NULL;
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
        pthread_mutex_lock(&stripe_of(table, bucket)->lock);
        /* Still linked in the chain of this bucket (it may have moved since we looked)? */
        if (atomic_load(&element->live) && atomic_load(&element->hash) == hash) {
            for (slot = &table->buckets[bucket]; !is_nulls(atomic_load(slot));
                 slot = &atomic_load(slot)->next) {
                if (atomic_load(slot) == element) {
                    unlink_element(table, slot, element);
                    pthread_mutex_unlock(&stripe_of(table, bucket)->lock);
                    return element;
                }
            }
        }
        pthread_mutex_unlock(&stripe_of(table, bucket)->lock);
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
        copy_to_element(area, value, table->value_size);
    } else if (user) {
        copy_to_element(area, value, table->value_stride * table->cpu_count);
    } else {
        if (fresh)
            zero_element(area, table->value_stride * table->cpu_count);
        copy_to_element(area + cpu * table->value_stride, value, table->value_size);
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

/* An element for a new value, best first: one past its grace period (or a never-used one,
 * up to the preallocated size); the LRU victim just evicted; for a replace, the claim's
 * spare; a new one from a pool that grows. The victim and the spare may still be read by
 * someone (see the top of this file). */
static ebpf_hash_element_t *take_element(ebpf_hash_table_t *table, ebpf_hash_element_t **victim,
                                         ebpf_hash_element_t **spare, bool *reused)
{
    ebpf_hash_element_t *element = ebpf_element_pool_take_bounded(&table->pool, table->carve_limit);

    *reused = element == NULL && (*victim != NULL || (spare != NULL && *spare != NULL));
    if (element == NULL && *victim != NULL) {
        element = *victim;
        *victim = NULL;
    }
    if (element == NULL && spare != NULL) {
        element = *spare;
        *spare = NULL;
    }
    if (element == NULL && table->pool.grows)
        element = ebpf_element_pool_take(&table->pool);
    return element;
}

static void fill_element(ebpf_hash_table_t *table, ebpf_hash_element_t *element, uint32_t hash,
                         const void *key, const void *value, bool user, uint32_t cpu)
{
    element->table = table;
    atomic_store_explicit(&element->hash, hash, memory_order_release);
    /* New elements start unreferenced, so a burst of inserts evicts them before elements
     * that were looked up (Linux puts them on its inactive list). */
    atomic_store_explicit(&element->referenced, 0, memory_order_relaxed);
    copy_to_element(key_of(table, element), key, table->key_size);
    write_value(table, element, value, user, cpu, true);
}

/* Stores under the stripe lock. spare: the claim's spare slot (program side) or NULL. *victim
 * may be consumed; *retired receives the element the store unlinked. */
static int store_locked(ebpf_hash_table_t *table, const void *key, uint32_t hash, const void *value,
                        uint64_t flags, bool user, uint32_t cpu, ebpf_hash_element_t **spare,
                        ebpf_hash_element_t **victim, ebpf_hash_element_t **retired)
{
    uint32_t bucket = hash & table->bucket_mask;
    ebpf_hash_element_t *_Atomic *link = NULL;
    ebpf_hash_element_t *old = find_locked(table, key, hash, &link);
    ebpf_hash_element_t *fresh;
    uint32_t sequence;
    bool reused;

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

    /* Only replaces use the spare: each gives an element back to refill it. */
    fresh = take_element(table, victim, old != NULL ? spare : NULL, &reused);
    if (fresh == NULL) {
        /* Never write a live value in place: a program may be reading it (or adding to it
         * atomically) through a pointer from lookup. The caller waits for a grace period or
         * reports -ENOMEM. */
        if (old == NULL)
            atomic_fetch_sub_explicit(&table->count, 1, memory_order_relaxed);
        return POOL_EXHAUSTED;
    }
    /* Before the refill's release stores, which carry it to walkers that see any of them. */
    if (reused)
        atomic_fetch_add_explicit(&stripe_of(table, bucket)->reuses, 1, memory_order_relaxed);
    sequence = refill_begin(fresh);
    fill_element(table, fresh, hash, key, value, user, cpu);
    atomic_store(&fresh->live, 1);
    if (old == NULL) {
        atomic_store(&fresh->next, atomic_load(&table->buckets[bucket]));
        refill_end(fresh, sequence);
        ebpf_epoch_publish(&table->buckets[bucket], fresh);
        return 0;
    }
    /* Replace in old's place: a lookup finds old or fresh, never neither, and readers of a
     * pointer to old keep the old value (unless old is reused later, see the top). */
    atomic_store(&fresh->next, atomic_load(&old->next));
    refill_end(fresh, sequence);
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
    ebpf_hash_stripe_t *stripe = stripe_of(table, hash & table->bucket_mask);
    ebpf_hash_element_t *victim = NULL, *retired = NULL;
    ebpf_hash_element_t **spare = spare_slot(table, !user);
    uint32_t cpu = 0, sequence;
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
        present = find(table, key, hash, &sequence) != NULL;
        ebpf_epoch_exit();
        /* Evict outside the stripe lock: the victim's stripe may be another one. */
        if (!present)
            victim = lru_evict(table);
    }
    pthread_mutex_lock(&stripe->lock);
    err = store_locked(table, key, hash, value, flags, user, cpu, spare, &victim, &retired);
    pthread_mutex_unlock(&stripe->lock);
    /* The replaced element refills the spare this replace took (or one a growing pool has
     * not given yet); otherwise it waits for its grace period. */
    if (retired != NULL && spare != NULL && *spare == NULL)
        *spare = retired;
    else if (retired != NULL)
        retire(table, retired);
    if (victim != NULL)
        retire(table, victim);
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
    uint32_t sequence;
    ebpf_hash_element_t *element = find(table, key, hash_key(table, key), &sequence);

    if (element == NULL)
        return NULL;
    if (table->lru && !atomic_load_explicit(&element->referenced, memory_order_relaxed))
        atomic_store_explicit(&element->referenced, 1, memory_order_relaxed);
    return value_of(table, element);
}

static void copy_out(ebpf_hash_table_t *table, ebpf_hash_element_t *element, void *value)
{
    if (table->percpu)
        copy_from_element(value, value_of(table, element), table->value_stride * table->cpu_count);
    else
        copy_from_element(value, value_of(table, element), table->value_size);
}

int ebpf_hash_table_delete(ebpf_hash_table_t *table, const void *key, void *value)
{
    uint32_t hash = hash_key(table, key);
    ebpf_hash_stripe_t *stripe = stripe_of(table, hash & table->bucket_mask);
    ebpf_hash_element_t *_Atomic *link = NULL;
    ebpf_hash_element_t *element;

    pthread_mutex_lock(&stripe->lock);
    element = find_locked(table, key, hash, &link);
    if (element == NULL) {
        pthread_mutex_unlock(&stripe->lock);
        return -ENOENT;
    }
    if (value != NULL)
        copy_out(table, element, value);
    unlink_element(table, link, element);
    pthread_mutex_unlock(&stripe->lock);
    retire(table, element);
    return 0;
}

/* Copies the key of an element reached by a link; false when the element was being refilled
 * or was refilled meanwhile (the caller starts again). */
static bool copy_key(ebpf_hash_table_t *table, ebpf_hash_element_t *element, void *out)
{
    uint32_t sequence = atomic_load_explicit(&element->sequence, memory_order_acquire);

    if ((sequence & 1u) != 0)
        return false;
    copy_from_element(out, key_of(table, element), table->key_size);
    return !refilled_since(element, sequence);
}

int ebpf_hash_table_get_next_key(ebpf_hash_table_t *table, const void *key, void *next_key)
{
    uint32_t bucket, sequence;
    ebpf_hash_element_t *element;
    int err = -ENOENT;

    ebpf_epoch_enter();
restart:
    bucket = 0;
    if (key != NULL) {
        uint32_t hash = hash_key(table, key);
        element = find(table, key, hash, &sequence);
        if (element != NULL) {
            ebpf_hash_element_t *next = ebpf_epoch_dereference(&element->next);
            if (refilled_since(element, sequence))
                goto restart;
            if (!is_nulls(next)) {
                if (!copy_key(table, next, next_key))
                    goto restart;
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
            if (!copy_key(table, element, next_key))
                goto restart;
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
    /* Linux keeps one spare element per CPU for replacements, and so do we (the spares of
     * the CPU claims). Unlinked elements otherwise wait a grace period before reuse, so
     * replacing or re-inserting keys of a nearly full map needs more, to keep reusing spares
     * rare: 1/16 of the map, at least 16. */
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
        pthread_mutex_destroy(&table->stripes[i].lock);
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
    /* Without preallocation the pool grows as needed; the count alone bounds live entries.
     * Past the preallocated size, a replace takes its claim's spare before the pool grows, so
     * replaces in one long read section do not grow it without end. */
    table->carve_limit = definition->max_entries + extra_elements(definition->max_entries);
    capacity = preallocate ? table->carve_limit : UINT64_MAX / element_size;

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
        atomic_init(&table->stripes[i].reuses, 0);
        if (pthread_mutex_init(&table->stripes[i].lock, NULL) != 0) {
            destroy_stripes(table, i);
            ebpf_free(table->buckets);
            ebpf_free(table);
            return ebpf_error(-ENOMEM, "map '%s': cannot create bucket locks", name);
        }
    }
    table->spares = ebpf_allocate_array(ebpf_cpu_count(), sizeof(*table->spares));
    if (table->spares == NULL) {
        destroy_stripes(table, (uint32_t)stripes);
        ebpf_free(table->buckets);
        ebpf_free(table);
        return ebpf_error(-ENOMEM, "map '%s': cannot allocate the spare element slots", name);
    }
    err = ebpf_element_pool_init(&table->pool, (size_t)element_size, table->key_offset, capacity,
                                 preallocate, name);
    if (err != 0) {
        ebpf_free(table->spares);
        destroy_stripes(table, (uint32_t)stripes);
        ebpf_free(table->buckets);
        ebpf_free(table);
        return err;
    }
    /* Preallocated: the spares come out of the extra elements now, as Linux's. A growing
     * pool fills them as programs replace (see store). */
    if (preallocate && !percpu)
        for (uint32_t i = 0; i < ebpf_cpu_count(); i++)
            table->spares[i] = ebpf_element_pool_take(&table->pool);
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
    /* Spares live in the pool's chunks: nothing to free one by one. */
    ebpf_element_pool_destroy(&table->pool);
    ebpf_free(table->spares);
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
    uint32_t hash = hash_key(table, key), sequence;
    ebpf_hash_element_t *element;

    ebpf_epoch_enter();
    /* A program may reuse the element while we copy: then the copy may mix values, and
     * the key may be gone or elsewhere, so look again. */
    do {
        element = find(table, key, hash, &sequence);
        if (element != NULL)
            copy_out(table, element, value);
    } while (element != NULL && refilled_since(element, sequence));
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
