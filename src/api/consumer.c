/* Waiting for ring and perf buffer records: the sleep/wake-up protocol over epoll, and the
 * thread of buffers that call back by themselves.
 *
 * A poll first consumes what is there (no system call), then spins a little watching the
 * sources (loads only), and only then announces it sleeps (arm) and sleeps in epoll_wait.
 * Sleeping is what costs: the announcement makes the next producer pay an eventfd write and
 * the consumer a membarrier, an epoll_wait and a read per source, several microseconds in
 * all. The spin is adaptive: it doubles (up to spin_max_ns) when records came while
 * spinning and halves (down to API_CONSUMER_SPIN_MIN_NS) when none did, so a burst of records
 * costs one wake-up and an idle consumer spins a few microseconds per wake-up.
 *
 * An application that waits on the epoll fd itself (ring_buffer__epoll_fd) needs the sources
 * armed whenever it is not inside a call of ours, or its epoll_wait would miss records; once
 * it has asked for the fd, every poll and consume leaves the sources armed (and kicks the fd
 * when records wait), as before the spin existed. Pure pollers never pay for that. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api_private.h"

#define KICK_COOKIE UINT64_MAX
/* Shortest spin before sleeping: enough to catch the next record of a burst. */
#define API_CONSUMER_SPIN_MIN_NS 5000u
/* Time between two looks at the sources while spinning (see spin_for_data). */
#define API_CONSUMER_SPIN_LOOK_NS 1000u

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
    consumer->spin_max_ns = API_CONSUMER_SPIN_MAX_NS;
    atomic_init(&consumer->spin_ns, API_CONSUMER_SPIN_MAX_NS);
    return 0;
}

void api_consumer_set_spin(api_consumer_t *consumer, uint32_t max_ns)
{
    consumer->spin_max_ns = max_ns;
    atomic_store_explicit(&consumer->spin_ns, max_ns, memory_order_relaxed);
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
    /* Only for an application that waits on the epoll fd itself: a poll arms the sources
     * when it is about to sleep, and sources armed meanwhile would make producers pay wake-ups
     * nobody waits for. */
    if (!consumer->external_wait)
        return;
    /* Armed sources wake the epoll set; one that had data already will not, so kick. This
     * keeps ring_buffer__epoll_fd readable while records wait, for an application's own
     * loop. */
    if (consumer->arm(consumer->owner))
        kick(consumer->kick_fd);
}

/* Caller holds lock. */
static int consume_locked(api_consumer_t *consumer)
{
    if (!consumer->external_wait)
        return consumer->consume(consumer->owner);
    drain(consumer->kick_fd);
    consumer->disarm(consumer->owner);
    int rc = consumer->consume(consumer->owner);
    api_consumer_rearm(consumer);
    return rc;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* The next spin budget: doubled after records came while spinning, halved (not below
 * API_CONSUMER_SPIN_MIN_NS) after none did, never above spin_max_ns. */
static void adapt_spin(api_consumer_t *consumer, uint32_t budget, bool caught)
{
    uint64_t next = caught ? (uint64_t)budget * 2 : budget / 2;
    if (next < API_CONSUMER_SPIN_MIN_NS)
        next = API_CONSUMER_SPIN_MIN_NS;
    if (next > consumer->spin_max_ns)
        next = consumer->spin_max_ns;
    atomic_store_explicit(&consumer->spin_ns, (uint32_t)next, memory_order_relaxed);
}

/* Watches the sources for up to the spin budget (and at most timeout_ms). true when records
 * came. Under the lock (the sources may change otherwise): ring_buffer__add or a consume from
 * another thread waits for one spin at most. */
static bool spin_for_data(api_consumer_t *consumer, int timeout_ms)
{
    uint32_t budget = atomic_load_explicit(&consumer->spin_ns, memory_order_relaxed);
    uint64_t limit = budget;
    if (consumer->has_data == NULL || budget == 0 || timeout_ms == 0)
        return false;
    if (timeout_ms > 0 && limit > (uint64_t)timeout_ms * 1000000u)
        limit = (uint64_t)timeout_ms * 1000000u;
    uint64_t now = ebpf_clock_monotonic_ns(), deadline = now + limit;
    for (;;) {
        if (consumer->has_data(consumer->owner)) {
            adapt_spin(consumer, budget, true);
            return true;
        }
        /* Look again only after API_CONSUMER_SPIN_LOOK_NS: each look reads the producers'
         * cache lines, and looking at every record as it lands made the producer fetch them
         * back for the next one (a cross-CPU transfer per record). Between looks the
         * producers fill a few records undisturbed, which are then read in one go. */
        uint64_t next_look = now + API_CONSUMER_SPIN_LOOK_NS;
        do {
            cpu_relax();
            now = ebpf_clock_monotonic_ns();
        } while (now < next_look && now < deadline);
        if (now >= deadline)
            break;
    }
    adapt_spin(consumer, budget, false);
    return false;
}

static int poll_once(api_consumer_t *consumer, int timeout_ms)
{
    struct epoll_event events[8];
    bool ready;
    int rc = 0;

    /* Records already there, or arriving within the spin: no system call. */
    pthread_mutex_lock(&consumer->lock);
    if (atomic_load(&consumer->stopping)) {
        pthread_mutex_unlock(&consumer->lock);
        return 0;
    }
    rc = consumer->consume(consumer->owner);
    if (rc == 0 && spin_for_data(consumer, timeout_ms))
        rc = consumer->consume(consumer->owner);
    /* Records, or nothing to wait for: a poll with timeout 0 never arms (arming costs a
     * membarrier, which a caller polling in a loop would inflict on every producer's CPU). */
    if (rc != 0 || timeout_ms == 0) {
        api_consumer_rearm(consumer); /* for an application on the epoll fd */
        pthread_mutex_unlock(&consumer->lock);
        return rc;
    }
    ready = consumer->arm(consumer->owner);
    if (ready) {
        consumer->disarm(consumer->owner);
        rc = consumer->consume(consumer->owner);
        api_consumer_rearm(consumer); /* for an application on the epoll fd */
        pthread_mutex_unlock(&consumer->lock);
        return rc;
    }
    int limit = consumer->sleep_limit_ms != NULL ? consumer->sleep_limit_ms(consumer->owner) : -1;
    pthread_mutex_unlock(&consumer->lock);
    if (limit >= 0 && (timeout_ms < 0 || timeout_ms > limit))
        timeout_ms = limit;

    /* Armed: a producer that commits now writes a wake-up fd of the set. */
    int count = epoll_wait(consumer->epoll_fd, events, (int)EBPF_ARRAY_SIZE(events), timeout_ms);
    if (count < 0)
        return ebpf_error(-errno, "%s: epoll_wait: %s", consumer->name, strerror(errno));
    pthread_mutex_lock(&consumer->lock);
    for (int i = 0; i < count; i++) {
        if (events[i].data.u64 == KICK_COOKIE)
            drain(consumer->kick_fd);
    }
    consumer->disarm(consumer->owner);
    rc = consumer->consume(consumer->owner);
    api_consumer_rearm(consumer); /* for an application on the epoll fd */
    pthread_mutex_unlock(&consumer->lock);
    return rc;
}

int api_consumer_epoll_fd(api_consumer_t *consumer)
{
    pthread_mutex_lock(&consumer->lock);
    if (!consumer->external_wait) {
        consumer->external_wait = true;
        api_consumer_rearm(consumer);
    }
    pthread_mutex_unlock(&consumer->lock);
    return consumer->epoll_fd;
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
