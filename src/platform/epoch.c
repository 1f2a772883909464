/* Epoch-based read-copy-update: readers announce the epoch they entered, writers wait them out.
 *
 * Protocol. A reader's record holds 0 outside a read section, otherwise the global epoch it
 * read when it entered. ebpf_epoch_synchronize() advances the global epoch to E and waits
 * until no record holds a value in (0, E). The reader stores its record and then loads the
 * published pointer; the writer unpublishes the pointer, then advances and loads the records
 * (the store-buffering pattern): either the writer sees the reader's record and waits for it,
 * or the reader sees the new pointer. The two fences that forbid "neither" are asymmetric
 * (ebpf_fence_light / ebpf_fence_heavy): entering costs the reader a compiler barrier, and
 * each grace period costs the writer one membarrier(2); without membarrier both are full
 * fences (and under TSan the four accesses are SEQ_CST, as TSan does not model fences).
 * The reader loads the global epoch with acquire: a reader that sees E already sees the
 * unpublication that came before the increment, so the writer may skip it.
 * A reader that leaves stores 0 with release ordering; the writer's load acquires it, so
 * everything the reader did with the old element happens before the writer frees it.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf_platform.h"

typedef struct epoch_reader {
    /* 0 outside a read section; else a global epoch no newer than the one at entry. Written
     * by the owning thread, read by synchronizers. */
    _Atomic uint64_t epoch;
    /* Depth of nested read sections; the owning thread only. */
    uint32_t nesting;
    bool registered;
    /* Next record in the registry; set before the record is pushed, changed afterwards only
     * under registry_lock. */
    struct epoch_reader *_Atomic next;
} epoch_reader_t;

/* Only grows; starts at 1 so that 0 can mean "not reading". */
static _Atomic uint64_t global_epoch = 1;

/* Registry of reader records. Pushes at the head are lock-free (CAS) so a thread's first read
 * section never waits for a synchronizer; removal (at thread exit) and traversal
 * (synchronize) hold registry_lock, so a record is never unlinked while being scanned. */
static epoch_reader_t *_Atomic registry_head;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;
static pthread_key_t registry_key;

/* Lives in the thread's TLS, which stays valid until after the key destructor unlinks it. */
static EBPF_HOT_THREAD_LOCAL epoch_reader_t self;

static void unregister_reader(void *record)
{
    epoch_reader_t *reader = record;
    epoch_reader_t *expected = reader;

    pthread_mutex_lock(&registry_lock);
    if (!atomic_compare_exchange_strong(&registry_head, &expected, atomic_load(&reader->next))) {
        /* Not the head (or a push just came in front of it): unlink from its predecessor,
         * whose next pointer only ever changes under this lock. */
        for (epoch_reader_t *r = atomic_load(&registry_head); r != NULL;
             r = atomic_load(&r->next)) {
            if (atomic_load(&r->next) == reader) {
                atomic_store(&r->next, atomic_load(&reader->next));
                break;
            }
        }
    }
    reader->registered = false;
    pthread_mutex_unlock(&registry_lock);
}

static void create_registry_key(void)
{
    pthread_key_create(&registry_key, unregister_reader);
}

static void register_reader(epoch_reader_t *reader)
{
    epoch_reader_t *head;

    pthread_once(&registry_once, create_registry_key);
    pthread_setspecific(registry_key, reader);
    head = atomic_load(&registry_head);
    do {
        atomic_store_explicit(&reader->next, head, memory_order_relaxed);
    } while (!atomic_compare_exchange_weak(&registry_head, &head, reader));
    reader->registered = true;
}

void ebpf_epoch_enter(void)
{
    epoch_reader_t *reader = &self;

    if (reader->nesting++ != 0)
        return;
    if (!reader->registered)
        register_reader(reader);
    atomic_store_explicit(&reader->epoch, atomic_load_explicit(&global_epoch, memory_order_acquire),
                          EBPF_FENCED_ORDER(memory_order_relaxed));
    ebpf_fence_light(ebpf_fence_is_asymmetric());
}

void ebpf_epoch_exit(void)
{
    epoch_reader_t *reader = &self;

    if (reader->nesting == 0) {
        ebpf_log(EBPF_LOG_ERROR, "ebpf_epoch_exit without ebpf_epoch_enter");
        return;
    }
    if (--reader->nesting == 0)
        atomic_store_explicit(&reader->epoch, 0, memory_order_release);
}

void ebpf_epoch_synchronize(void)
{
    uint64_t target;
    epoch_reader_t *me = &self;

    if (me->nesting != 0)
        ebpf_log(EBPF_LOG_ERROR, "ebpf_epoch_synchronize inside a read section would never "
                                 "return; the caller's own section is not waited for");

    pthread_mutex_lock(&registry_lock);
    target = atomic_fetch_add_explicit(&global_epoch, 1, memory_order_seq_cst) + 1;
    /* Cannot fail once membarrier is registered (see fence.c); if it ever did, readers could
     * be missed and freed memory read: stop rather than corrupt. */
    if (ebpf_fence_heavy(ebpf_fence_is_asymmetric()) != 0) {
        ebpf_log(EBPF_LOG_ERROR, "epoch: grace period impossible: %s", ebpf_last_error());
        abort();
    }
    for (epoch_reader_t *r = atomic_load(&registry_head); r != NULL; r = atomic_load(&r->next)) {
        unsigned spins = 0;
        if (r == me)
            continue;
        for (;;) {
            uint64_t seen = atomic_load_explicit(&r->epoch, memory_order_seq_cst);
            if (seen == 0 || seen >= target)
                break;
            if (++spins > 64)
                sched_yield();
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

/* Deferred work (call_rcu). The queue and counters change only under defer_lock. */
static pthread_mutex_t defer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t defer_queued = PTHREAD_COND_INITIALIZER;
static pthread_cond_t defer_completed = PTHREAD_COND_INITIALIZER;
static ebpf_epoch_work_t *defer_head;
static ebpf_epoch_work_t *defer_tail;
static uint64_t defer_queued_count;    /* works ever queued */
static uint64_t defer_completed_count; /* works whose callback returned; <= queued */
static bool defer_worker_running;

static void run_batch(ebpf_epoch_work_t *batch)
{
    uint64_t count = 0;

    ebpf_epoch_synchronize();
    while (batch != NULL) {
        ebpf_epoch_work_t *next = batch->next;
        batch->callback(batch);
        batch = next;
        count++;
    }
    pthread_mutex_lock(&defer_lock);
    defer_completed_count += count;
    pthread_cond_broadcast(&defer_completed);
    pthread_mutex_unlock(&defer_lock);
}

static void *defer_worker(void *unused)
{
    for (;;) {
        ebpf_epoch_work_t *batch;

        pthread_mutex_lock(&defer_lock);
        while (defer_head == NULL)
            pthread_cond_wait(&defer_queued, &defer_lock);
        batch = defer_head;
        defer_head = defer_tail = NULL;
        pthread_mutex_unlock(&defer_lock);
        run_batch(batch);
    }
    return NULL;
}

void ebpf_epoch_defer(ebpf_epoch_work_t *work, void (*callback)(ebpf_epoch_work_t *work))
{
    bool run_inline = false;

    work->callback = callback;
    work->next = NULL;
    pthread_mutex_lock(&defer_lock);
    if (!defer_worker_running) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        defer_worker_running = pthread_create(&thread, &attributes, defer_worker, NULL) == 0;
        pthread_attr_destroy(&attributes);
    }
    defer_queued_count++;
    if (defer_worker_running) {
        if (defer_tail != NULL)
            defer_tail->next = work;
        else
            defer_head = work;
        defer_tail = work;
        pthread_cond_signal(&defer_queued);
    } else {
        run_inline = true;
    }
    pthread_mutex_unlock(&defer_lock);

    if (run_inline) {
        /* No thread could be created: keep the guarantee by waiting here instead. */
        ebpf_log(EBPF_LOG_WARN, "epoch: no worker thread, running deferred work inline");
        run_batch(work);
    }
}

void ebpf_epoch_barrier(void)
{
    pthread_mutex_lock(&defer_lock);
    uint64_t target = defer_queued_count;
    while (defer_completed_count < target)
        pthread_cond_wait(&defer_completed, &defer_lock);
    pthread_mutex_unlock(&defer_lock);
}

void ebpf_epoch_drain(void)
{
    for (;;) {
        pthread_mutex_lock(&defer_lock);
        uint64_t queued = defer_queued_count;
        bool idle = defer_completed_count == queued;
        pthread_mutex_unlock(&defer_lock);
        if (idle)
            return;
        ebpf_epoch_barrier();
    }
}
