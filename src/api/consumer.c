/* Waiting for ring and perf buffer records: the sleep/wake-up protocol over epoll, and the
 * thread of buffers that call back by themselves. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api_private.h"

#define KICK_COOKIE UINT64_MAX

static void drain(int fd)
{
    uint64_t count;
    /* Non-blocking: EAGAIN when nothing was written. */
    if (read(fd, &count, sizeof(count)) < 0) {
    }
}

static void kick(int fd)
{
    uint64_t one = 1;
    /* Fails only when the counter would overflow: it is readable then anyway. */
    if (write(fd, &one, sizeof(one)) < 0) {
    }
}

int api_consumer_init(api_consumer_t *consumer, const char *name, void *owner)
{
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = KICK_COOKIE};

    consumer->name = name;
    consumer->owner = owner;
    consumer->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (consumer->epoll_fd < 0)
        return ebpf_error(-errno, "%s: epoll_create1: %s", name, strerror(errno));
    consumer->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (consumer->kick_fd < 0) {
        int rc = ebpf_error(-errno, "%s: eventfd: %s", name, strerror(errno));
        close(consumer->epoll_fd);
        return rc;
    }
    if (epoll_ctl(consumer->epoll_fd, EPOLL_CTL_ADD, consumer->kick_fd, &event) != 0) {
        int rc = ebpf_error(-errno, "%s: epoll_ctl: %s", name, strerror(errno));
        close(consumer->kick_fd);
        close(consumer->epoll_fd);
        return rc;
    }
    pthread_mutex_init(&consumer->lock, NULL);
    atomic_init(&consumer->stopping, false);
    return 0;
}

int api_consumer_watch(api_consumer_t *consumer, int fd, uint64_t cookie)
{
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = cookie};
    if (epoll_ctl(consumer->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0)
        return ebpf_error(-errno, "%s: watching fd %d: %s", consumer->name, fd, strerror(errno));
    return 0;
}

void api_consumer_rearm(api_consumer_t *consumer)
{
    /* Armed sources wake the epoll set; one that had data already will not, so kick. This
     * keeps ring_buffer__epoll_fd readable while records wait, for an application's own
     * loop. */
    if (consumer->arm(consumer->owner))
        kick(consumer->kick_fd);
}

/* Caller holds lock. */
static int consume_locked(api_consumer_t *consumer)
{
    drain(consumer->kick_fd);
    consumer->disarm(consumer->owner);
    int rc = consumer->consume(consumer->owner);
    api_consumer_rearm(consumer);
    return rc;
}

static int poll_once(api_consumer_t *consumer, int timeout_ms)
{
    struct epoll_event events[8];
    bool ready;

    pthread_mutex_lock(&consumer->lock);
    drain(consumer->kick_fd);
    if (atomic_load(&consumer->stopping)) {
        pthread_mutex_unlock(&consumer->lock);
        return 0;
    }
    ready = consumer->arm(consumer->owner);
    if (ready) {
        int rc = consume_locked(consumer);
        pthread_mutex_unlock(&consumer->lock);
        return rc;
    }
    pthread_mutex_unlock(&consumer->lock);

    /* Armed: a producer that commits now writes a wake-up fd of the set. */
    int count = epoll_wait(consumer->epoll_fd, events, (int)EBPF_ARRAY_SIZE(events), timeout_ms);
    if (count < 0)
        return ebpf_error(-errno, "%s: epoll_wait: %s", consumer->name, strerror(errno));
    pthread_mutex_lock(&consumer->lock);
    int rc = consume_locked(consumer);
    pthread_mutex_unlock(&consumer->lock);
    return rc;
}

static void *consumer_thread(void *argument)
{
    api_consumer_t *consumer = argument;
    while (!atomic_load(&consumer->stopping)) {
        int rc = poll_once(consumer, -1);
        if (rc == -EBADMSG) {
            /* The shared memory is damaged: nothing sensible is left to read. */
            ebpf_log(EBPF_LOG_ERROR, "%s: consumer thread stops: %s", consumer->name,
                     ebpf_last_error());
            break;
        }
    }
    return NULL;
}

int api_consumer_start(api_consumer_t *consumer)
{
    pthread_mutex_lock(&consumer->lock);
    api_consumer_rearm(consumer);
    pthread_mutex_unlock(&consumer->lock);
    if (!consumer->automatic)
        return 0;
    int rc = pthread_create(&consumer->thread, NULL, consumer_thread, consumer);
    if (rc != 0)
        return ebpf_error(-rc, "%s: starting the consumer thread: %s", consumer->name,
                          strerror(rc));
    consumer->thread_started = true;
    return 0;
}

int api_consumer_poll(api_consumer_t *consumer, int timeout_ms)
{
    if (consumer->automatic)
        return ebpf_error(-EINVAL, "%s: calls back by itself: do not poll it", consumer->name);
    return poll_once(consumer, timeout_ms);
}

int api_consumer_consume(api_consumer_t *consumer)
{
    if (consumer->automatic)
        return ebpf_error(-EINVAL, "%s: calls back by itself: do not consume it", consumer->name);
    pthread_mutex_lock(&consumer->lock);
    int rc = consume_locked(consumer);
    pthread_mutex_unlock(&consumer->lock);
    return rc;
}

void api_consumer_destroy(api_consumer_t *consumer)
{
    if (consumer->thread_started) {
        atomic_store(&consumer->stopping, true);
        kick(consumer->kick_fd);
        pthread_join(consumer->thread, NULL);
        consumer->thread_started = false;
    }
    close(consumer->kick_fd);
    close(consumer->epoll_fd);
    pthread_mutex_destroy(&consumer->lock);
}
