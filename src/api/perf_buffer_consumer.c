/* libbpf's perf_buffer: consumes the per-CPU rings of a BPF_MAP_TYPE_PERF_EVENT_ARRAY map. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "api_private.h"

struct perf_buffer {
    api_consumer_t consumer;
    ebpf_map_t *map; /* a reference: keeps the rings and their fds alive */
    ebpf_perf_event_array_t *array;
    uint32_t cpu_count;
    perf_buffer_sample_fn sample;
    perf_buffer_lost_fn lost;
    void *context;
};

static int deliver_sample(void *context, uint32_t cpu, void *data, uint32_t size)
{
    struct perf_buffer *pb = context;
    pb->sample(pb->context, (int)cpu, data, size);
    return 0;
}

static int deliver_lost(void *context, uint32_t cpu, uint64_t lost)
{
    struct perf_buffer *pb = context;
    if (pb->lost != NULL)
        pb->lost(pb->context, (int)cpu, lost);
    return 0;
}

static bool arm_cpus(void *owner)
{
    struct perf_buffer *pb = owner;
    return ebpf_perf_event_array_wait_prepare_all(pb->array);
}

static bool cpus_have_data(void *owner)
{
    struct perf_buffer *pb = owner;
    return ebpf_perf_event_array_has_data(pb->array);
}

static void disarm_cpus(void *owner)
{
    struct perf_buffer *pb = owner;
    for (uint32_t cpu = 0; cpu < pb->cpu_count; cpu++)
        ebpf_perf_event_array_wait_finish(pb->array, cpu);
}

static int consume_cpu(struct perf_buffer *pb, uint32_t cpu)
{
    return ebpf_perf_event_array_consume(pb->array, cpu, deliver_sample, deliver_lost, pb);
}

static int consume_cpus(void *owner)
{
    struct perf_buffer *pb = owner;
    int64_t total = 0;
    for (uint32_t cpu = 0; cpu < pb->cpu_count; cpu++) {
        int rc = consume_cpu(pb, cpu);
        if (rc < 0)
            return rc;
        total += rc;
    }
    return total > INT_MAX ? INT_MAX : (int)total;
}

static int open_rings(struct perf_buffer *pb, int map_fd, size_t page_cnt)
{
    size_t page = ebpf_ring_memory_page_size();
    int rc;

    if (page_cnt == 0 || (page_cnt & (page_cnt - 1)) != 0)
        return ebpf_error(-EINVAL, "perf buffer: page_cnt %zu is not a power of two", page_cnt);
    if (page_cnt > UINT32_MAX / page)
        return ebpf_error(-E2BIG, "perf buffer: %zu pages per CPU is too many", page_cnt);
    rc = ebpf_map_from_fd(map_fd, &pb->map);
    if (rc != 0)
        return rc;
    if (ebpf_map_get_definition(pb->map)->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
        return ebpf_error(-EINVAL, "perf buffer: map %s (fd %d) is not a perf event array",
                          ebpf_map_get_name(pb->map), map_fd);
    rc = ebpf_map_open_perf_event_array(pb->map, (uint32_t)(page_cnt * page), &pb->array);
    if (rc != 0)
        return rc;
    pb->cpu_count = ebpf_perf_event_array_cpu_count(pb->array);
    for (uint32_t cpu = 0; cpu < pb->cpu_count && rc == 0; cpu++)
        rc =
            api_consumer_watch(&pb->consumer, ebpf_perf_event_array_wakeup_fd(pb->array, cpu), cpu);
    return rc;
}

static struct perf_buffer *new_perf_buffer(int map_fd, size_t page_cnt,
                                           perf_buffer_sample_fn sample, perf_buffer_lost_fn lost,
                                           void *context, bool automatic)
{
    struct perf_buffer *pb;
    int rc;

    if (sample == NULL)
        return libbpf_null(ebpf_error(-EINVAL, "perf buffer: no sample callback"));
    pb = ebpf_allocate(sizeof(*pb));
    if (pb == NULL)
        return libbpf_null(ebpf_error(-ENOMEM, "perf buffer: out of memory"));
    rc = api_consumer_init(&pb->consumer, "perf buffer", pb);
    if (rc != 0) {
        ebpf_free(pb);
        return libbpf_null(rc);
    }
    pb->consumer.arm = arm_cpus;
    pb->consumer.disarm = disarm_cpus;
    pb->consumer.consume = consume_cpus;
    pb->consumer.has_data = cpus_have_data;
    pb->consumer.automatic = automatic;
    pb->sample = sample;
    pb->lost = lost;
    pb->context = context;
    rc = open_rings(pb, map_fd, page_cnt);
    if (rc == 0)
        rc = api_consumer_start(&pb->consumer);
    if (rc != 0) {
        perf_buffer__free(pb);
        return libbpf_null(rc);
    }
    return pb;
}

struct perf_buffer *perf_buffer__new(int map_fd, size_t page_cnt, perf_buffer_sample_fn sample_cb,
                                     perf_buffer_lost_fn lost_cb, void *ctx,
                                     const struct perf_buffer_opts *opts)
{
    int rc = api_check_options(opts, sizeof(*opts), "perf_buffer_opts");
    if (rc != 0)
        return libbpf_null(rc);
    return new_perf_buffer(map_fd, page_cnt, sample_cb, lost_cb, ctx, false);
}

struct perf_buffer *ebpf_perf_buffer__new(int map_fd, size_t page_cnt,
                                          perf_buffer_sample_fn sample_cb,
                                          perf_buffer_lost_fn lost_cb, void *ctx,
                                          const struct ebpf_perf_buffer_opts *opts)
{
    int rc = api_check_options(opts, sizeof(*opts), "ebpf_perf_buffer_opts");
    if (rc != 0)
        return libbpf_null(rc);
    uint64_t flags = API_OPTION(opts, flags, 0);
    if ((flags & ~(uint64_t)EBPF_PERFBUF_FLAG_AUTO_CALLBACK) != 0)
        return libbpf_null(
            ebpf_error(-EINVAL, "perf buffer: unknown flags %#llx", (unsigned long long)flags));
    return new_perf_buffer(map_fd, page_cnt, sample_cb, lost_cb, ctx,
                           (flags & EBPF_PERFBUF_FLAG_AUTO_CALLBACK) != 0);
}

void perf_buffer__free(struct perf_buffer *pb)
{
    if (pb == NULL)
        return;
    api_consumer_destroy(&pb->consumer);
    if (pb->map != NULL)
        ebpf_map_release(pb->map);
    ebpf_free(pb);
}

int perf_buffer__epoll_fd(const struct perf_buffer *pb)
{
    if (pb == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "perf_buffer__epoll_fd: no perf buffer"));
    /* The consumer's state changes (it stays armed from now on); the const is libbpf's. */
    return api_consumer_epoll_fd(&((struct perf_buffer *)(uintptr_t)pb)->consumer);
}

int perf_buffer__poll(struct perf_buffer *pb, int timeout_ms)
{
    if (pb == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "perf_buffer__poll: no perf buffer"));
    return libbpf_result(api_consumer_poll(&pb->consumer, timeout_ms));
}

int perf_buffer__consume(struct perf_buffer *pb)
{
    if (pb == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "perf_buffer__consume: no perf buffer"));
    return libbpf_result(api_consumer_consume(&pb->consumer));
}

int perf_buffer__consume_buffer(struct perf_buffer *pb, size_t buf_idx)
{
    if (pb == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "perf_buffer__consume_buffer: no buffer"));
    if (buf_idx >= pb->cpu_count)
        return libbpf_result(
            ebpf_error(-EINVAL, "perf buffer: buffer %zu of %u", buf_idx, pb->cpu_count));
    if (pb->consumer.automatic)
        return libbpf_result(
            ebpf_error(-EINVAL, "perf buffer: calls back by itself: do not consume it"));
    pthread_mutex_lock(&pb->consumer.lock);
    int rc = consume_cpu(pb, (uint32_t)buf_idx);
    pthread_mutex_unlock(&pb->consumer.lock);
    return libbpf_result(rc);
}

size_t perf_buffer__buffer_cnt(const struct perf_buffer *pb)
{
    return pb != NULL ? pb->cpu_count : 0;
}
