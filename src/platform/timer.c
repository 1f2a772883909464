/* Periodic timer: one thread per timer that calls back every period until cancelled. */
#include <errno.h>
#include <time.h>

#include "ebpf_platform.h"

typedef enum timer_state {
    TIMER_IDLE,    /* no callbacks scheduled */
    TIMER_ARMED,   /* the thread calls back every period */
    TIMER_EXITING, /* destroy asked the thread to leave */
} timer_state_t;

struct ebpf_timer {
    ebpf_timer_callback_t callback;
    void *context;
    pthread_t thread;
    pthread_t callback_thread; /* valid while in_callback; lets cancel detect self-calls */
    /* lock guards state, period_ns, generation, in_callback and next_due; the thread waits
     * on changed for a new state, cancel waits on idle for in_callback to clear. */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_cond_t idle;
    timer_state_t state;
    uint64_t period_ns;
    uint64_t generation; /* bumped by every start/cancel so a sleeping thread re-plans */
    bool in_callback;
    struct timespec next_due;
    _Atomic uint64_t fired; /* completed callbacks; only grows */
};

static void add_ns(struct timespec *ts, uint64_t ns)
{
    uint64_t total = (uint64_t)ts->tv_nsec + ns % 1000000000ull;
    ts->tv_sec += (time_t)(ns / 1000000000ull + total / 1000000000ull);
    ts->tv_nsec = (long)(total % 1000000000ull);
}

static void *timer_thread(void *argument)
{
    ebpf_timer_t *timer = argument;

    pthread_mutex_lock(&timer->lock);
    for (;;) {
        if (timer->state == TIMER_EXITING)
            break;
        if (timer->state == TIMER_IDLE) {
            pthread_cond_wait(&timer->changed, &timer->lock);
            continue;
        }
        if (timer->period_ns != 0) {
            uint64_t generation = timer->generation;
            int rc = pthread_cond_timedwait(&timer->changed, &timer->lock, &timer->next_due);
            if (timer->generation != generation || timer->state != TIMER_ARMED)
                continue;
            if (rc != ETIMEDOUT)
                continue; /* spurious wake-up: sleep again until due */
            add_ns(&timer->next_due, timer->period_ns);
        }
        timer->in_callback = true;
        timer->callback_thread = pthread_self();
        pthread_mutex_unlock(&timer->lock);

        timer->callback(timer->context);

        pthread_mutex_lock(&timer->lock);
        atomic_fetch_add_explicit(&timer->fired, 1, memory_order_relaxed);
        timer->in_callback = false;
        pthread_cond_broadcast(&timer->idle);
        if (timer->period_ns != 0 && timer->state == TIMER_ARMED) {
            /* Missed periods (a slow callback) are skipped, not replayed in a burst. */
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > timer->next_due.tv_sec ||
                (now.tv_sec == timer->next_due.tv_sec && now.tv_nsec > timer->next_due.tv_nsec))
                timer->next_due = now;
        }
    }
    pthread_mutex_unlock(&timer->lock);
    return NULL;
}

int ebpf_timer_create(ebpf_timer_callback_t callback, void *context, ebpf_timer_t **out)
{
    ebpf_timer_t *timer;
    pthread_condattr_t attributes;
    int rc;

    if (callback == NULL || out == NULL)
        return ebpf_error(-EINVAL, "timer: callback and result pointer are required");
    timer = ebpf_allocate(sizeof(*timer));
    if (timer == NULL)
        return ebpf_error(-ENOMEM, "timer: out of memory");
    timer->callback = callback;
    timer->context = context;
    timer->state = TIMER_IDLE;
    pthread_mutex_init(&timer->lock, NULL);
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&timer->changed, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_cond_init(&timer->idle, NULL);
    rc = pthread_create(&timer->thread, NULL, timer_thread, timer);
    if (rc != 0) {
        pthread_cond_destroy(&timer->idle);
        pthread_cond_destroy(&timer->changed);
        pthread_mutex_destroy(&timer->lock);
        ebpf_free(timer);
        return ebpf_error(-rc, "timer: cannot create its thread (error %d)", rc);
    }
    *out = timer;
    return 0;
}

int ebpf_timer_start(ebpf_timer_t *timer, uint64_t period_ns)
{
    if (timer == NULL)
        return ebpf_error(-EINVAL, "timer: NULL timer");
    pthread_mutex_lock(&timer->lock);
    timer->period_ns = period_ns;
    timer->generation++;
    timer->state = TIMER_ARMED;
    clock_gettime(CLOCK_MONOTONIC, &timer->next_due);
    add_ns(&timer->next_due, period_ns);
    pthread_cond_broadcast(&timer->changed);
    pthread_mutex_unlock(&timer->lock);
    return 0;
}

void ebpf_timer_cancel(ebpf_timer_t *timer)
{
    if (timer == NULL)
        return;
    pthread_mutex_lock(&timer->lock);
    if (timer->state == TIMER_ARMED)
        timer->state = TIMER_IDLE;
    timer->generation++;
    pthread_cond_broadcast(&timer->changed);
    /* From inside the callback we cannot wait for ourselves; the state change is enough. */
    if (!(timer->in_callback && pthread_equal(timer->callback_thread, pthread_self()))) {
        while (timer->in_callback)
            pthread_cond_wait(&timer->idle, &timer->lock);
    }
    pthread_mutex_unlock(&timer->lock);
}

uint64_t ebpf_timer_fired(const ebpf_timer_t *timer)
{
    return atomic_load_explicit(&timer->fired, memory_order_relaxed);
}

void ebpf_timer_destroy(ebpf_timer_t *timer)
{
    if (timer == NULL)
        return;
    pthread_mutex_lock(&timer->lock);
    timer->state = TIMER_EXITING;
    timer->generation++;
    pthread_cond_broadcast(&timer->changed);
    pthread_mutex_unlock(&timer->lock);
    pthread_join(timer->thread, NULL);
    pthread_cond_destroy(&timer->idle);
    pthread_cond_destroy(&timer->changed);
    pthread_mutex_destroy(&timer->lock);
    ebpf_free(timer);
}
