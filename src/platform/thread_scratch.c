/* Per-thread scratch buffers, e.g. the copy of an event that programs read. */
#include <errno.h>

#include "ebpf_platform.h"

typedef struct scratch_buffer {
    struct scratch_buffer *next; /* in the owner's list, under its lock */
    struct scratch_buffer *prev;
    ebpf_thread_scratch_t *owner;
    size_t size;
    void *data;
} scratch_buffer_t;

struct ebpf_thread_scratch {
    pthread_key_t key;
    /* lock guards buffers: every live buffer of every thread, so destroy frees them all. */
    pthread_mutex_t lock;
    scratch_buffer_t *buffers;
};

static void unlink_buffer(ebpf_thread_scratch_t *scratch, scratch_buffer_t *buffer)
{
    if (buffer->prev != NULL)
        buffer->prev->next = buffer->next;
    else
        scratch->buffers = buffer->next;
    if (buffer->next != NULL)
        buffer->next->prev = buffer->prev;
}

static void thread_exited(void *value)
{
    scratch_buffer_t *buffer = value;
    ebpf_thread_scratch_t *scratch = buffer->owner;

    pthread_mutex_lock(&scratch->lock);
    unlink_buffer(scratch, buffer);
    pthread_mutex_unlock(&scratch->lock);
    ebpf_free(buffer->data);
    ebpf_free(buffer);
}

int ebpf_thread_scratch_create(ebpf_thread_scratch_t **out)
{
    ebpf_thread_scratch_t *scratch = ebpf_allocate(sizeof(*scratch));
    int rc;

    if (scratch == NULL)
        return ebpf_error(-ENOMEM, "thread scratch: out of memory");
    rc = pthread_key_create(&scratch->key, thread_exited);
    if (rc != 0) {
        ebpf_free(scratch);
        return ebpf_error(-rc, "thread scratch: no thread key left (error %d)", rc);
    }
    pthread_mutex_init(&scratch->lock, NULL);
    *out = scratch;
    return 0;
}

void *ebpf_thread_scratch_get(ebpf_thread_scratch_t *scratch, size_t size)
{
    scratch_buffer_t *buffer = pthread_getspecific(scratch->key);
    void *data;

    if (buffer != NULL && buffer->size >= size)
        return buffer->data;
    if (buffer == NULL) {
        buffer = ebpf_allocate(sizeof(*buffer));
        if (buffer == NULL)
            return NULL;
        buffer->owner = scratch;
        if (pthread_setspecific(scratch->key, buffer) != 0) {
            ebpf_free(buffer);
            return NULL;
        }
        pthread_mutex_lock(&scratch->lock);
        buffer->next = scratch->buffers;
        if (scratch->buffers != NULL)
            scratch->buffers->prev = buffer;
        scratch->buffers = buffer;
        pthread_mutex_unlock(&scratch->lock);
    }
    /* Grow geometrically so a slowly rising size does not reallocate every time. */
    size_t capacity = buffer->size ? buffer->size : 64;
    while (capacity < size)
        capacity *= 2;
    data = ebpf_allocate_aligned(EBPF_CACHE_LINE, capacity);
    if (data == NULL)
        return NULL;
    ebpf_free(buffer->data);
    buffer->data = data;
    buffer->size = capacity;
    return data;
}

void ebpf_thread_scratch_destroy(ebpf_thread_scratch_t *scratch)
{
    if (scratch == NULL)
        return;
    pthread_key_delete(scratch->key);
    pthread_mutex_lock(&scratch->lock);
    while (scratch->buffers != NULL) {
        scratch_buffer_t *buffer = scratch->buffers;
        unlink_buffer(scratch, buffer);
        ebpf_free(buffer->data);
        ebpf_free(buffer);
    }
    pthread_mutex_unlock(&scratch->lock);
    pthread_mutex_destroy(&scratch->lock);
    ebpf_free(scratch);
}
