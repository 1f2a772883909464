/* Element pool: fixed-size elements of hash maps and LPM tries, carved from a few large chunks. */
#ifndef EBPF_MAP_ELEMENT_POOL_H
#define EBPF_MAP_ELEMENT_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Chunks grow geometrically, so few chunks cover any size and ebpf_element_pool_find stays a
 * short scan. */
#define EBPF_ELEMENT_POOL_CHUNKS_MAX 40

/* Elements come from chunks (one chunk of `capacity` elements when preallocated, else chunks
 * of doubling size allocated as elements are needed). An element's memory is never returned
 * to the allocator before the pool is destroyed, which lets the bounds check find it and lets
 * a preallocated map's hot path never allocate. The first pointer of every element belongs to
 * the pool while the element is free; the first header_size bytes stay addressable then (the
 * rest is poisoned under AddressSanitizer, so a premature reuse shows). */
typedef struct ebpf_element_pool {
    size_t element_size; /* multiple of 8 */
    size_t header_size;
    uint64_t capacity; /* most elements ever carved */
    bool grows;
    /* Guards free_list, carved and chunk creation. Taken after any map bucket / trie lock. */
    pthread_mutex_t lock;
    void *free_list;
    uint64_t carved;
    /* chunks[i], chunk_first[i] and chunk_elements[i] are written before chunk_count is
     * released past i and never change afterwards, so readers scan without the lock. */
    _Atomic uint32_t chunk_count;
    uint8_t *chunks[EBPF_ELEMENT_POOL_CHUNKS_MAX];
    uint64_t chunk_first[EBPF_ELEMENT_POOL_CHUNKS_MAX];
    uint64_t chunk_elements[EBPF_ELEMENT_POOL_CHUNKS_MAX];
} ebpf_element_pool_t;

/* preallocate: carve all capacity elements now (one allocation). Otherwise chunks are
 * allocated on demand, each twice the previous one. */
int ebpf_element_pool_init(ebpf_element_pool_t *pool, size_t element_size, size_t header_size,
                           uint64_t capacity, bool preallocate, const char *map_name);
void ebpf_element_pool_destroy(ebpf_element_pool_t *pool);
/* A free element (contents undefined except the header, which the caller rewrites), or NULL
 * when every element is in use or pending, or a new chunk could not be allocated. */
void *ebpf_element_pool_take(ebpf_element_pool_t *pool);
/* As ebpf_element_pool_take, but carves a never-used element only while fewer than
 * carve_limit have been carved: a caller that can reuse an element it holds tries that before
 * the pool grows past the size it needs. */
void *ebpf_element_pool_take_bounded(ebpf_element_pool_t *pool, uint64_t carve_limit);
/* Elements carved so far (the pool's footprint in elements). */
uint64_t ebpf_element_pool_carved(ebpf_element_pool_t *pool);
/* Gives an element back; no reader may still reach it. */
void ebpf_element_pool_give(ebpf_element_pool_t *pool, void *element);
/* The element holding [p, p + n), or NULL. Lock-free. */
uint8_t *ebpf_element_pool_find(const ebpf_element_pool_t *pool, const void *p, size_t n);
/* Element number index of a preallocated pool (index < capacity). */
static inline uint8_t *ebpf_element_pool_at(const ebpf_element_pool_t *pool, uint64_t index)
{
    return pool->chunks[0] + index * pool->element_size;
}

#endif /* EBPF_MAP_ELEMENT_POOL_H */
