/* Platform layer: what the kernel gives the original and user space does not. */
#ifndef EBPF_PLATFORM_H
#define EBPF_PLATFORM_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EBPF_STRINGIFY_(x) #x
#define EBPF_STRINGIFY(x)  EBPF_STRINGIFY_(x)
/* A stable name for a source location, used to name allocation sites. */
#define EBPF_SITE __FILE__ ":" EBPF_STRINGIFY(__LINE__)

#define EBPF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* A thread-local read on the event path. libebpf.so is position-independent, where the default
 * TLS model calls __tls_get_addr on every access (a quarter of the event path's cycles when
 * measured); the initial-exec model is one load. It needs libebpf.so to be loaded with the
 * program (linked, not dlopen'ed late), which is how applications and modules use it. */
#define EBPF_HOT_THREAD_LOCAL _Thread_local __attribute__((tls_model("initial-exec")))
#define EBPF_CACHE_LINE       64

/* ThreadSanitizer builds: TSan models atomic accesses but not fences (GCC even warns about
 * atomic_thread_fence under -fsanitize=thread), so code that orders with fences uses
 * sequentially consistent accesses instead when EBPF_TSAN is 1. */
#if defined(__SANITIZE_THREAD__)
#define EBPF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EBPF_TSAN 1
#endif
#endif
#ifndef EBPF_TSAN
#define EBPF_TSAN 0
#endif
/* order, or SEQ_CST under TSan (see EBPF_TSAN). */
#define EBPF_FENCED_ORDER(order) (EBPF_TSAN ? memory_order_seq_cst : (order))

/* ------------------------------------------------------------------------------------------
 * Asymmetric fences: the store-buffering pattern (each side stores, then loads what the other
 * stored) needs a full fence on both sides. When one side is hot (a reader entering an epoch,
 * a producer committing a record) and the other rare (a grace period, a consumer going to
 * sleep), the rare side can issue membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a
 * full fence on every CPU that runs a thread of this process, and the hot side needs only a
 * compiler barrier. Both sides must be threads of this process. Without membarrier (old
 * kernel, seccomp, EBPF_MEMBARRIER=0 in the environment, TSan builds) both sides use full
 * fences. The mode is chosen once, before main.
 *
 * (MEMBARRIER_CMD_GLOBAL_EXPEDITED, which would reach other processes, lost ring buffer
 * wake-ups on the 6.18 kernel this was measured on; it is not used.)
 * ------------------------------------------------------------------------------------------ */

/* Set once by a constructor before main; read with relaxed loads. */
extern _Atomic bool ebpf_fence_asymmetric_mode;

/* true when the light side is a compiler barrier only (membarrier registered). */
static inline bool ebpf_fence_is_asymmetric(void)
{
    return atomic_load_explicit(&ebpf_fence_asymmetric_mode, memory_order_relaxed);
}

/* The hot side, after its store and before its load. asymmetric: what
 * ebpf_fence_is_asymmetric said when the heavy side it pairs with chose its kind. */
static inline void ebpf_fence_light(bool asymmetric)
{
#if EBPF_TSAN
    (void)asymmetric; /* the accesses around it are SEQ_CST (EBPF_FENCED_ORDER) */
#else
    if (asymmetric)
        atomic_signal_fence(memory_order_seq_cst);
    else
        atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* The rare side, after its store and before its load. asymmetric: whether the hot sides it
 * pairs with use compiler barriers only. Returns 0, or -errno when membarrier failed: the hot
 * sides are then not ordered against this one (never seen once registration succeeded). */
int ebpf_fence_heavy(bool asymmetric);

/* ------------------------------------------------------------------------------------------
 * Errors. Functions return 0 or a negative errno; the message of the last failure on this
 * thread explains it in words.
 * ------------------------------------------------------------------------------------------ */

/* Records a message for the calling thread and returns err (a negative errno), so that
 * failure paths read `return ebpf_error(-EINVAL, "map %s: key size 0", name);`. */
int ebpf_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ebpf_verror(int err, const char *fmt, va_list ap);
/* Prefixes the current message of this thread with context ("loading foo.o: "). */
int ebpf_error_prefix(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message of the last failure on this thread ("" when none). */
const char *ebpf_last_error(void);
void ebpf_error_clear(void);

/* ------------------------------------------------------------------------------------------
 * Logging: levels to stderr (or a sink a test installs). Never used on the event path.
 * The level comes from EBPF_LOG_LEVEL (error, warn, info, debug) and defaults to warn.
 * ------------------------------------------------------------------------------------------ */

typedef enum ebpf_log_level {
    EBPF_LOG_ERROR = 0,
    EBPF_LOG_WARN = 1,
    EBPF_LOG_INFO = 2,
    EBPF_LOG_DEBUG = 3,
} ebpf_log_level_t;

typedef void (*ebpf_log_sink_t)(ebpf_log_level_t level, const char *message, void *context);

void ebpf_log(ebpf_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ebpf_log_set_level(ebpf_log_level_t level);
ebpf_log_level_t ebpf_log_get_level(void);
bool ebpf_log_enabled(ebpf_log_level_t level);
/* NULL restores stderr. */
void ebpf_log_set_sink(ebpf_log_sink_t sink, void *context);

/* ------------------------------------------------------------------------------------------
 * Allocation. Every allocation of the project goes through here, named by its call site, so
 * tests can fail the Nth allocation or every allocation at one site, and can check that
 * everything allocated was freed.
 * ------------------------------------------------------------------------------------------ */

void *ebpf_allocate_at(size_t size, const char *site);                     /* zeroed */
void *ebpf_allocate_array_at(size_t count, size_t size, const char *site); /* zeroed, checked */
void *ebpf_reallocate_at(void *memory, size_t size, const char *site);
void *ebpf_allocate_aligned_at(size_t alignment, size_t size, const char *site); /* zeroed */
char *ebpf_strdup_at(const char *text, const char *site);
void ebpf_free(void *memory);

#define ebpf_allocate(size)                ebpf_allocate_at((size), EBPF_SITE)
#define ebpf_allocate_array(count, size)   ebpf_allocate_array_at((count), (size), EBPF_SITE)
#define ebpf_reallocate(memory, size)      ebpf_reallocate_at((memory), (size), EBPF_SITE)
#define ebpf_allocate_aligned(align, size) ebpf_allocate_aligned_at((align), (size), EBPF_SITE)
#define ebpf_strdup(text)                  ebpf_strdup_at((text), EBPF_SITE)

/* Live allocations made through the allocator (allocations minus frees). */
int64_t ebpf_allocation_outstanding(void);
/* Allocations attempted since start (successful or failed). */
uint64_t ebpf_allocation_count(void);

/* Fault injection, driven by tests. All of these are process-wide. */
/* Fail the nth allocation attempted from now on (1 = the next one); 0 disables. */
void ebpf_fault_fail_nth(uint64_t n);
/* Fail every allocation whose site equals site (a string from ebpf_fault_sites); NULL
 * disables. */
void ebpf_fault_fail_site(const char *site);
/* Number of allocations failed by injection since the last reset. */
uint64_t ebpf_fault_injected_count(void);
/* Start recording the distinct sites that allocate, clearing earlier records. */
void ebpf_fault_record_sites(bool enable);
/* Copies up to capacity recorded site names into sites; returns how many were recorded. */
size_t ebpf_fault_sites(const char **sites, size_t capacity);
/* Disables every injection and recording. */
void ebpf_fault_reset(void);

/* ------------------------------------------------------------------------------------------
 * Rundown protection: the kernel's rundown references. Holders acquire and release; a
 * rundown waits until every holder has left and makes every later acquire fail.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_rundown {
    /* Bit 63: rundown started (acquire fails from then on); bits 0..62: holders. */
    _Atomic uint64_t state;
    /* Guards waiter_done; signalled by the release that drops the last holder after the
     * rundown started. */
    pthread_mutex_t lock;
    pthread_cond_t released;
    bool waiter_done;
} ebpf_rundown_t;

void ebpf_rundown_init(ebpf_rundown_t *rundown);
/* Re-arms a rundown that completed, so it can protect a new life of the object. */
void ebpf_rundown_reinit(ebpf_rundown_t *rundown);
void ebpf_rundown_destroy(ebpf_rundown_t *rundown);
/* false once a rundown has started. Never blocks. */
bool ebpf_rundown_acquire(ebpf_rundown_t *rundown);
void ebpf_rundown_release(ebpf_rundown_t *rundown);
/* Blocks until every holder released; from then on acquire fails. Must not be called by a
 * holder. Calling it twice is allowed (the second returns at once). */
void ebpf_rundown_wait(ebpf_rundown_t *rundown);
/* True after ebpf_rundown_wait started. */
bool ebpf_rundown_is_active(const ebpf_rundown_t *rundown);

/* ------------------------------------------------------------------------------------------
 * Epochs: read-mostly publication for lists walked on the event path (read-copy-update).
 * Readers never block; a writer unpublishes an element, then frees it only after every
 * reader that could have seen it has left its read section.
 *
 * Why our own and not liburcu: Debian 12 ships liburcu 0.13, whose atomics are inline
 * assembly that ThreadSanitizer cannot see, so every stress test under TSan would report
 * false races. These are C11 atomics: the same model, checked by TSan.
 * ------------------------------------------------------------------------------------------ */

/* Enter / leave a read section. Nestable; a thread registers itself on first use. Never
 * blocks (the first call of a thread allocates its record; if that fails, the thread reads
 * under a global fallback record, still without blocking readers). */
void ebpf_epoch_enter(void);
void ebpf_epoch_exit(void);
/* Waits until every read section that started before the call has ended. Must not be
 * called inside a read section. */
void ebpf_epoch_synchronize(void);

typedef struct ebpf_epoch_work {
    struct ebpf_epoch_work *next;
    void (*callback)(struct ebpf_epoch_work *work);
} ebpf_epoch_work_t;

/* Runs work->callback on a platform thread after a grace period (call_rcu). Never blocks. */
void ebpf_epoch_defer(ebpf_epoch_work_t *work, void (*callback)(ebpf_epoch_work_t *work));
/* Waits until every work deferred before the call has run (rcu_barrier). */
void ebpf_epoch_barrier(void);
/* Waits until no deferred work is left, including work that deferred callbacks deferred in
 * turn (a map-in-map releasing its inner maps). For teardown; never returns while another
 * thread keeps deferring. */
void ebpf_epoch_drain(void);

/* Publication of pointers read under ebpf_epoch_enter. The reader's announcement and the
 * writer's unpublication cannot pass each other: the reader's entry fence and the grace
 * period's fence order them (see epoch.c); acquire makes what a pointer points to visible. */
#define ebpf_epoch_publish(slot, value) atomic_store_explicit((slot), (value), memory_order_seq_cst)
#define ebpf_epoch_dereference(slot)                                                               \
    atomic_load_explicit((slot), EBPF_FENCED_ORDER(memory_order_acquire))

/* ------------------------------------------------------------------------------------------
 * Periodic timer: a thread that calls a callback every period. cancel waits for a running
 * callback (unless called from the callback itself).
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_timer ebpf_timer_t;
typedef void (*ebpf_timer_callback_t)(void *context);

int ebpf_timer_create(ebpf_timer_callback_t callback, void *context, ebpf_timer_t **timer);
/* Starts (or restarts with a new period) the timer. period_ns == 0 calls the callback again
 * as soon as it returns (as fast as possible). The first call comes after one period. */
int ebpf_timer_start(ebpf_timer_t *timer, uint64_t period_ns);
/* Stops the timer; after return no callback runs (unless called from the callback). */
void ebpf_timer_cancel(ebpf_timer_t *timer);
/* Number of completed callbacks since creation. */
uint64_t ebpf_timer_fired(const ebpf_timer_t *timer);
void ebpf_timer_destroy(ebpf_timer_t *timer);

/* ------------------------------------------------------------------------------------------
 * Per-thread scratch buffers: one buffer per thread per key, grown on demand, freed when the
 * thread exits or the key is destroyed.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_thread_scratch ebpf_thread_scratch_t;

int ebpf_thread_scratch_create(ebpf_thread_scratch_t **scratch);
/* At least size bytes owned by the calling thread, or NULL when growing it failed. The
 * content is kept across calls on the same thread unless the buffer grows. */
void *ebpf_thread_scratch_get(ebpf_thread_scratch_t *scratch, size_t size);
void ebpf_thread_scratch_destroy(ebpf_thread_scratch_t *scratch);

/* ------------------------------------------------------------------------------------------
 * Clocks and CPUs.
 * ------------------------------------------------------------------------------------------ */

uint64_t ebpf_clock_monotonic_ns(void); /* bpf_ktime_get_ns */
uint64_t ebpf_clock_boot_ns(void);      /* bpf_ktime_get_boot_ns: counts suspend too */
/* CPU indexes are 0 .. ebpf_cpu_count() - 1. */
uint32_t ebpf_cpu_count(void);
/* The CPU the thread runs on now (a hint: the thread may migrate). */
uint32_t ebpf_cpu_current(void);
/* Claims a CPU index exclusively for the calling thread until ebpf_cpu_exit (the
 * user-space migrate_disable + preempt_disable): no other thread holds the same index
 * meanwhile, so per-CPU data indexed by it never tears. Prefers the current CPU. Nestable
 * on one thread (inner calls return the same index). */
uint32_t ebpf_cpu_enter(void);
void ebpf_cpu_exit(void);
/* The index claimed by the calling thread, or UINT32_MAX outside ebpf_cpu_enter. */
uint32_t ebpf_cpu_claimed(void);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_PLATFORM_H */
