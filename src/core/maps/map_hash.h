/* Hash table engine shared by the hash map types (plain, per-CPU, LRU) and hash_of_maps. */
#ifndef EBPF_MAP_HASH_H
#define EBPF_MAP_HASH_H

#include "map_element_pool.h"
#include "map_internal.h"

typedef struct ebpf_hash_element ebpf_hash_element_t;

typedef struct ebpf_hash_stripe {
    pthread_mutex_t lock;
    /* Bumped under lock before an element that walkers may still stand on (a spare or an LRU
     * victim) is refilled into a chain of this stripe. Replaces keep a key's place in its
     * chain, so a walker that followed such an element from its old place may have skipped
     * part of the chain: one that ends without its key rereads this and starts again. */
    _Atomic uint32_t reuses;
} ebpf_hash_stripe_t;

typedef struct ebpf_hash_table {
    ebpf_map_t map; /* first: the table is the map */
    bool percpu;
    bool lru;
    uint32_t key_size;
    uint32_t value_size;   /* bytes of one value (hash_of_maps: a pointer) */
    uint64_t value_stride; /* value_size rounded to 8: one CPU's slot */
    uint32_t cpu_count;    /* slots per element: ebpf_cpu_count() when per-CPU, else 1 */
    uint32_t max_entries;
    size_t key_offset;
    size_t value_offset;
    uint64_t seed;
    uint32_t bucket_mask;
    uint32_t stripe_mask;
    /* Chains of elements ending in a "nulls" marker naming their bucket (odd pointer), so a
     * reader that followed an element moved to another chain notices and restarts. Heads and
     * links are published with ebpf_epoch_publish; only holders of the bucket's stripe lock
     * change them. */
    ebpf_hash_element_t *_Atomic *buckets;
    /* stripes[b & stripe_mask] guards the chain of bucket b and the live flag of its
     * elements. At most one stripe is held at a time; the pool lock nests inside. */
    ebpf_hash_stripe_t *stripes;
    ebpf_element_pool_t pool;
    /* Elements a growing pool carves before a replace takes its claim's spare instead of
     * growing it further: the preallocated size (max_entries plus the extra elements). */
    uint64_t carve_limit;
    /* spares[c] (ebpf_cpu_count() slots): CPU claim c's spare element, which a program's
     * replace on claim c takes when no element past its grace period is free, leaving the
     * element it replaced in its place (Linux's per-CPU extra elements; see the reuse
     * guarantee in map_hash.c). Taken from the pool at creation when preallocated, on first
     * use when the pool grows; unused for per-CPU values. Read and written only by the thread
     * holding claim c: the claim's acquire/release orders successive holders. */
    ebpf_hash_element_t **spares;
    /* Elements linked in chains. Plain hashes never let it pass max_entries (CAS); LRU
     * hashes evict before inserting, so it may pass it briefly under races. */
    _Atomic uint32_t count;
    /* LRU clock hand over the pool's element indexes (any thread advances it). */
    _Atomic uint64_t clock_hand;
    /* Called under the stripe lock when a value leaves the table (hash_of_maps releases the
     * inner map); NULL for plain values. */
    void (*value_released)(struct ebpf_hash_table *table, void *value);
} ebpf_hash_table_t;

int ebpf_hash_table_create(const ebpf_map_definition_t *definition, const char *name,
                           uint32_t value_size, bool percpu, bool lru, ebpf_hash_table_t **table);
/* Frees the table (every value still linked goes through value_released first). */
void ebpf_hash_table_destroy(ebpf_hash_table_t *table);
/* The value area (CPU 0's slot first) of the key, or NULL. Caller inside a read section;
 * the area stays map memory for the whole section, but a program's store may reuse it for
 * a newer value once it is unlinked (see map_hash.c). */
uint8_t *ebpf_hash_table_lookup(ebpf_hash_table_t *table, const void *key);
/* Program side store: value is value_size bytes (per-CPU: the claimed CPU's slot). Called
 * inside a read section, however long (test-run holds one over all its runs): when every free
 * element still waits for its grace period, a replace under a CPU claim swaps with the claim's
 * spare, so a stream of replaces never runs dry. -ENOMEM when no element is free for an insert
 * (deleted ones still wait for their grace period), or for a replace without a claim. */
int ebpf_hash_table_update_program(ebpf_hash_table_t *table, const void *key, const void *value,
                                   uint64_t flags);
/* User side store: per-CPU values for every CPU; waits for pending frees when needed;
 * records messages. */
int ebpf_hash_table_update_user(ebpf_hash_table_t *table, const void *key, const void *value,
                                uint64_t flags);
/* Removes the key; copies its value area out first when value is not NULL (per-CPU: every
 * CPU's slot). -ENOENT when absent (no message: callers add their own). */
int ebpf_hash_table_delete(ebpf_hash_table_t *table, const void *key, void *value);
int ebpf_hash_table_get_next_key(ebpf_hash_table_t *table, const void *key, void *next_key);

#endif /* EBPF_MAP_HASH_H */
