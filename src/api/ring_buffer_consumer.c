/* libbpf's ring_buffer: consumes BPF_MAP_TYPE_RINGBUF maps through their shared memory, as an
 * mmap of the kernel's ring would be read. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "api_private.h"

typedef struct ring_source {
    ebpf_map_t *map; /* a reference: keeps the ring and its fds alive */
    ebpf_ring_buffer_view_t *view;
    ring_buffer_sample_fn sample;
    void *context;
} ring_source_t;

struct ring_buffer {
    api_consumer_t consumer;
    ring_source_t *sources; /* under consumer.lock */
    size_t source_count;
};

static bool arm_rings(void *owner)
{
    struct ring_buffer *rb = owner;
    bool ready = false;
    for (size_t i = 0; i < rb->source_count; i++) {
        if (ebpf_ring_buffer_view_wait_prepare(rb->sources[i].view))
            ready = true;
    }
    return ready;
}

static void disarm_rings(void *owner)
{
    struct ring_buffer *rb = owner;
    for (size_t i = 0; i < rb->source_count; i++)
        ebpf_ring_buffer_view_wait_finish(rb->sources[i].view);
}

static bool rings_have_data(void *owner)
{
    struct ring_buffer *rb = owner;
    for (size_t i = 0; i < rb->source_count; i++) {
        if (ebpf_ring_buffer_view_has_data(rb->sources[i].view))
            return true;
    }
    return false;
}

static int rings_sleep_limit(void *owner)
{
    struct ring_buffer *rb = owner;
    int limit = -1;
    for (size_t i = 0; i < rb->source_count; i++) {
        int source_limit = ebpf_ring_buffer_view_sleep_limit_ms(rb->sources[i].view);
        if (source_limit >= 0 && (limit < 0 || source_limit < limit))
            limit = source_limit;
    }
    return limit;
}

static int consume_rings(void *owner)
{
    struct ring_buffer *rb = owner;
    int64_t total = 0;
    for (size_t i = 0; i < rb->source_count; i++) {
        const ring_source_t *source = &rb->sources[i];
        int rc = ebpf_ring_buffer_view_consume(source->view, source->sample, source->context);
        if (rc < 0)
            return rc;
        total += rc;
    }
    return total > INT_MAX ? INT_MAX : (int)total;
}

static int add_ring(struct ring_buffer *rb, int map_fd, ring_buffer_sample_fn sample, void *context)
{
    ebpf_map_t *map;
    ebpf_ring_buffer_view_t *view;
    int rc;

    if (sample == NULL)
        return ebpf_error(-EINVAL, "ring buffer: no sample callback");
    rc = ebpf_map_from_fd(map_fd, &map);
    if (rc != 0)
        return rc;
    ebpf_ring_buffer_t *ring = ebpf_map_get_ring_buffer(map);
    if (ring == NULL || ebpf_map_get_definition(map)->type != BPF_MAP_TYPE_RINGBUF) {
        rc = ebpf_error(-EINVAL, "ring buffer: map %s (fd %d) is not a ring buffer",
                        ebpf_map_get_name(map), map_fd);
        ebpf_map_release(map);
        return rc;
    }
    rc = ebpf_ring_buffer_view_open(ebpf_ring_buffer_memory_fd(ring),
                                    ebpf_ring_buffer_wakeup_fd(ring), &view);
    if (rc != 0) {
        ebpf_map_release(map);
        return rc;
    }
    pthread_mutex_lock(&rb->consumer.lock);
    ring_source_t *grown =
        ebpf_reallocate(rb->sources, (rb->source_count + 1) * sizeof(*rb->sources));
    if (grown == NULL) {
        rc = ebpf_error(-ENOMEM, "ring buffer: out of memory");
    } else {
        rb->sources = grown;
        rc = api_consumer_watch(&rb->consumer, ebpf_ring_buffer_wakeup_fd(ring), rb->source_count);
    }
    if (rc != 0) {
        pthread_mutex_unlock(&rb->consumer.lock);
        ebpf_ring_buffer_view_close(view);
        ebpf_map_release(map);
        return rc;
    }
    rb->sources[rb->source_count++] = (ring_source_t){map, view, sample, context};
    api_consumer_rearm(&rb->consumer);
    pthread_mutex_unlock(&rb->consumer.lock);
    return 0;
}

static struct ring_buffer *new_ring_buffer(int map_fd, ring_buffer_sample_fn sample, void *context,
                                           uint64_t flags)
{
    struct ring_buffer *rb = ebpf_allocate(sizeof(*rb));
    int rc;

    if (rb == NULL)
        return libbpf_null(ebpf_error(-ENOMEM, "ring buffer: out of memory"));
    rc = api_consumer_init(&rb->consumer, "ring buffer", rb);
    if (rc != 0) {
        ebpf_free(rb);
        return libbpf_null(rc);
    }
    rb->consumer.arm = arm_rings;
    rb->consumer.disarm = disarm_rings;
    rb->consumer.consume = consume_rings;
    rb->consumer.has_data = rings_have_data;
    rb->consumer.sleep_limit_ms = rings_sleep_limit;
    rb->consumer.automatic = (flags & EBPF_RINGBUF_FLAG_AUTO_CALLBACK) != 0;
    if (flags & EBPF_RINGBUF_FLAG_NO_SPIN)
        api_consumer_set_spin(&rb->consumer, 0);
    rc = add_ring(rb, map_fd, sample, context);
    if (rc == 0)
        rc = api_consumer_start(&rb->consumer);
    if (rc != 0) {
        ring_buffer__free(rb);
        return libbpf_null(rc);
    }
    return rb;
}

struct ring_buffer *ring_buffer__new(int map_fd, ring_buffer_sample_fn sample_cb, void *ctx,
                                     const struct ring_buffer_opts *opts)
{
    int rc = api_check_options(opts, sizeof(*opts), "ring_buffer_opts");
    if (rc != 0)
        return libbpf_null(rc);
    return new_ring_buffer(map_fd, sample_cb, ctx, 0);
}

struct ring_buffer *ebpf_ring_buffer__new(int map_fd, ring_buffer_sample_fn sample_cb, void *ctx,
                                          const struct ebpf_ring_buffer_opts *opts)
{
    int rc = api_check_options(opts, sizeof(*opts), "ebpf_ring_buffer_opts");
    if (rc != 0)
        return libbpf_null(rc);
    uint64_t flags = API_OPTION(opts, flags, 0);
    if ((flags & ~(uint64_t)(EBPF_RINGBUF_FLAG_AUTO_CALLBACK | EBPF_RINGBUF_FLAG_NO_SPIN)) != 0)
        return libbpf_null(
            ebpf_error(-EINVAL, "ring buffer: unknown flags %#llx", (unsigned long long)flags));
    return new_ring_buffer(map_fd, sample_cb, ctx, flags);
}

int ring_buffer__add(struct ring_buffer *rb, int map_fd, ring_buffer_sample_fn sample_cb, void *ctx)
{
    if (rb == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "ring_buffer__add: no ring buffer"));
    return libbpf_result(add_ring(rb, map_fd, sample_cb, ctx));
}

int ring_buffer__poll(struct ring_buffer *rb, int timeout_ms)
{
    if (rb == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "ring_buffer__poll: no ring buffer"));
    return libbpf_result(api_consumer_poll(&rb->consumer, timeout_ms));
}

int ring_buffer__consume(struct ring_buffer *rb)
{
    if (rb == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "ring_buffer__consume: no ring buffer"));
    return libbpf_result(api_consumer_consume(&rb->consumer));
}

int ring_buffer__epoll_fd(const struct ring_buffer *rb)
{
    if (rb == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "ring_buffer__epoll_fd: no ring buffer"));
    /* The consumer's state changes (it stays armed from now on); the const is libbpf's. */
    return api_consumer_epoll_fd(&((struct ring_buffer *)(uintptr_t)rb)->consumer);
}

void ring_buffer__free(struct ring_buffer *rb)
{
    if (rb == NULL)
        return;
    api_consumer_destroy(&rb->consumer);
    for (size_t i = 0; i < rb->source_count; i++) {
        ebpf_ring_buffer_view_close(rb->sources[i].view);
        ebpf_map_release(rb->sources[i].map);
    }
    ebpf_free(rb->sources);
    ebpf_free(rb);
}
