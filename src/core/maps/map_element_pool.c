/* Element pool: chunked storage with a free list, shared by hash maps and LPM tries. */
#include <errno.h>
#include <string.h>

#include "ebpf_platform.h"
#include "map_element_pool.h"

#if defined(EBPF_SANITIZER_ADDRESS)
#include <sanitizer/asan_interface.h>
#define POISON(address, size)   ASAN_POISON_MEMORY_REGION((address), (size))
#define UNPOISON(address, size) ASAN_UNPOISON_MEMORY_REGION((address), (size))
#else
#define POISON(address, size)   ((void)(address), (void)(size))
#define UNPOISON(address, size) ((void)(address), (void)(size))
#endif

#define FIRST_CHUNK_ELEMENTS 16u

static void push_free(ebpf_element_pool_t *pool, uint8_t *element)
{
    memcpy(element, &pool->free_list, sizeof(void *));
    pool->free_list = element;
    POISON(element + pool->header_size, pool->element_size - pool->header_size);
}

static int add_chunk(ebpf_element_pool_t *pool, uint64_t elements)
{
    uint32_t index = atomic_load_explicit(&pool->chunk_count, memory_order_relaxed);
    uint8_t *chunk;

    if (index >= EBPF_ELEMENT_POOL_CHUNKS_MAX)
        return -ENOMEM;
    if (elements > SIZE_MAX / pool->element_size)
        return -E2BIG;
    chunk = ebpf_allocate_aligned(EBPF_CACHE_LINE, (size_t)elements * pool->element_size);
    if (chunk == NULL)
        return -ENOMEM;
    pool->chunks[index] = chunk;
    pool->chunk_first[index] =
        index == 0 ? 0 : pool->chunk_first[index - 1] + pool->chunk_elements[index - 1];
    pool->chunk_elements[index] = elements;
    atomic_store_explicit(&pool->chunk_count, index + 1, memory_order_release);
    return 0;
}

int ebpf_element_pool_init(ebpf_element_pool_t *pool, size_t element_size, size_t header_size,
                           uint64_t capacity, bool preallocate, const char *map_name)
{
    int err;

    memset(pool, 0, sizeof(*pool));
    pool->element_size = element_size;
    pool->header_size = header_size;
    pool->capacity = capacity;
    pool->grows = !preallocate;
    atomic_init(&pool->chunk_count, 0);
    if (pthread_mutex_init(&pool->lock, NULL) != 0)
        return ebpf_error(-ENOMEM, "map '%s': cannot create the element pool lock", map_name);
    if (preallocate) {
        err = add_chunk(pool, capacity);
        if (err != 0) {
            pthread_mutex_destroy(&pool->lock);
            return ebpf_error(err, "map '%s': cannot preallocate %llu elements of %zu bytes",
                              map_name, (unsigned long long)capacity, element_size);
        }
        /* Push in reverse so the first elements taken are the lowest addresses. */
        for (uint64_t i = capacity; i > 0; i--)
            push_free(pool, pool->chunks[0] + (i - 1) * element_size);
        pool->carved = capacity;
    }
    return 0;
}

void ebpf_element_pool_destroy(ebpf_element_pool_t *pool)
{
    uint32_t count = atomic_load_explicit(&pool->chunk_count, memory_order_relaxed);

    for (uint32_t i = 0; i < count; i++) {
        UNPOISON(pool->chunks[i], pool->chunk_elements[i] * pool->element_size);
        ebpf_free(pool->chunks[i]);
        pool->chunks[i] = NULL;
    }
    atomic_store_explicit(&pool->chunk_count, 0, memory_order_relaxed);
    pool->free_list = NULL;
    pthread_mutex_destroy(&pool->lock);
}

/* Carves a never-used element, growing by one chunk when the last is used up. */
static uint8_t *carve(ebpf_element_pool_t *pool)
{
    uint32_t count = atomic_load_explicit(&pool->chunk_count, memory_order_relaxed);
    uint64_t end = count == 0 ? 0 : pool->chunk_first[count - 1] + pool->chunk_elements[count - 1];

    if (pool->carved >= pool->capacity)
        return NULL;
    if (pool->carved == end) {
        uint64_t elements = count == 0 ? FIRST_CHUNK_ELEMENTS : pool->chunk_elements[count - 1] * 2;
        if (elements > pool->capacity - pool->carved)
            elements = pool->capacity - pool->carved;
        if (add_chunk(pool, elements) != 0)
            return NULL;
        count++;
    }
    return pool->chunks[count - 1] +
           (pool->carved++ - pool->chunk_first[count - 1]) * pool->element_size;
}

void *ebpf_element_pool_take_bounded(ebpf_element_pool_t *pool, uint64_t carve_limit)
{
    uint8_t *element;

    pthread_mutex_lock(&pool->lock);
    element = pool->free_list;
    if (element != NULL) {
        UNPOISON(element + pool->header_size, pool->element_size - pool->header_size);
        memcpy(&pool->free_list, element, sizeof(void *));
    } else if (pool->grows && pool->carved < carve_limit) {
        element = carve(pool);
    }
    pthread_mutex_unlock(&pool->lock);
    return element;
}

void *ebpf_element_pool_take(ebpf_element_pool_t *pool)
{
    return ebpf_element_pool_take_bounded(pool, UINT64_MAX);
}

uint64_t ebpf_element_pool_carved(ebpf_element_pool_t *pool)
{
    uint64_t carved;

    pthread_mutex_lock(&pool->lock);
    carved = pool->carved;
    pthread_mutex_unlock(&pool->lock);
    return carved;
}

void ebpf_element_pool_give(ebpf_element_pool_t *pool, void *element)
{
    pthread_mutex_lock(&pool->lock);
    push_free(pool, element);
    pthread_mutex_unlock(&pool->lock);
}

uint8_t *ebpf_element_pool_find(const ebpf_element_pool_t *pool, const void *p, size_t n)
{
    uint32_t count = atomic_load_explicit(&pool->chunk_count, memory_order_acquire);
    uintptr_t address = (uintptr_t)p;

    for (uint32_t i = 0; i < count; i++) {
        uintptr_t start = (uintptr_t)pool->chunks[i];
        uintptr_t end = start + pool->chunk_elements[i] * pool->element_size;
        if (address >= start && address < end) {
            uintptr_t element = start + (address - start) / pool->element_size * pool->element_size;
            if (n > pool->element_size || address + n > element + pool->element_size)
                return NULL;
            return (uint8_t *)element;
        }
    }
    return NULL;
}
