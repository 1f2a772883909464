/* Ring buffer engine: the Linux BPF ring buffer (multi-producer, one consumer) in shared memory. */
#ifndef EBPF_RING_BUFFER_H
#define EBPF_RING_BUFFER_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Record header flags and size, as in <linux/bpf.h> (BPF_RINGBUF_*). */
#define EBPF_RING_BUFFER_BUSY_BIT    (1u << 31)
#define EBPF_RING_BUFFER_DISCARD_BIT (1u << 30)
#define EBPF_RING_BUFFER_HEADER_SIZE 8u
/* Largest record payload a reservation may ask for, as Linux (the length field has 30 bits).
 * A ring further limits it: header + payload rounded to 8 must be smaller than the data area. */
#define EBPF_RING_BUFFER_MAX_RECORD_SIZE (UINT32_MAX >> 2)

/* Shared-memory layout (the Linux ring buffer mmap layout, offsets from the start of the
 * memfd): page 0 holds the consumer position (u64 at offset 0, written by the consumer only)
 * and the consumer-waiting word (u32 at EBPF_RING_BUFFER_WAITING_OFFSET, see wait_prepare);
 * page 1 holds the producer position (u64 at offset 0); the data area starts at page 2. The
 * memfd holds the data area once; mappings place it twice back to back so that every record
 * is contiguous even when it wraps. */
#define EBPF_RING_BUFFER_WAITING_OFFSET 64u
/* In page 1, written when the ring is created: a u32 of EBPF_RING_BUFFER_PRODUCER_* bits and
 * the u32 process id of the producers. ASYMMETRIC means producers commit with a compiler
 * barrier only, so a consumer in their process runs membarrier(PRIVATE_EXPEDITED) between
 * announcing "waiting" and its last look (the consumer functions below do), and a consumer in
 * another process cannot be woken reliably: it bounds its sleeps. */
#define EBPF_RING_BUFFER_PRODUCER_FLAGS_OFFSET 64u
#define EBPF_RING_BUFFER_PRODUCER_PID_OFFSET   68u
#define EBPF_RING_BUFFER_PRODUCER_ASYMMETRIC   1u
/* The longest sleep of a consumer that cannot order itself against the producers. */
#define EBPF_RING_BUFFER_UNORDERED_SLEEP_MS 1
/* Each record: u32 length (payload bytes, | busy bit while being written, | discard bit when
 * discarded), u32 pg_off (pages from the start of the shared memory to the header), then the
 * payload; the next record starts at the next multiple of 8. */

typedef struct ebpf_ring_buffer ebpf_ring_buffer_t;

/* data_size: power of two, multiple of the page size. */
int ebpf_ring_buffer_create(uint32_t data_size, ebpf_ring_buffer_t **ring);
void ebpf_ring_buffer_destroy(ebpf_ring_buffer_t *ring);

/* Producer side (any thread, many at once; never blocks, never allocates). */
/* NULL when full (counted as dropped), when flags != 0 or when size can never fit. */
void *ebpf_ring_buffer_reserve(ebpf_ring_buffer_t *ring, uint64_t size, uint64_t flags);
/* flags: 0, BPF_RB_NO_WAKEUP or BPF_RB_FORCE_WAKEUP (other bits are ignored, as Linux). */
void ebpf_ring_buffer_submit(ebpf_ring_buffer_t *ring, void *record, uint64_t flags);
void ebpf_ring_buffer_discard(ebpf_ring_buffer_t *ring, void *record, uint64_t flags);
/* 0, -ENOSPC when full (counted as dropped), -EINVAL for bad flags or a size that can never
 * fit. */
int ebpf_ring_buffer_output(ebpf_ring_buffer_t *ring, const void *data, uint64_t size,
                            uint64_t flags);
/* BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS; 0 for other flags. */
uint64_t ebpf_ring_buffer_query(ebpf_ring_buffer_t *ring, uint64_t flags);
/* Records refused because the ring was full, since creation. */
uint64_t ebpf_ring_buffer_dropped(const ebpf_ring_buffer_t *ring);
/* Wake-ups producers sent the consumer (eventfd writes), since creation. */
uint64_t ebpf_ring_buffer_wakeups(const ebpf_ring_buffer_t *ring);
/* true while the consumer has announced it may sleep (between wait_prepare and wait_finish). */
bool ebpf_ring_buffer_consumer_waiting(const ebpf_ring_buffer_t *ring);
/* true when [p, p+n) lies inside the ring's data area (mapped twice): lets the bounds-checked
 * interpreter accept writes into reserved records. */
bool ebpf_ring_buffer_contains(const ebpf_ring_buffer_t *ring, const void *p, size_t n);
uint32_t ebpf_ring_buffer_data_size(const ebpf_ring_buffer_t *ring);

/* Shared memory, Linux mmap layout (see above). */
/* memfd, so another process can map it (ebpf_ring_buffer_view_open does it). Owned by the
 * ring: dup it to keep it beyond the ring's life. */
int ebpf_ring_buffer_memory_fd(const ebpf_ring_buffer_t *ring);
/* eventfd (non-blocking), readable when a producer woke the consumer. By default a producer
 * signals only a consumer that announced it is going to sleep (ebpf_ring_buffer_wait_prepare)
 * and only for the record the consumer is waiting for, so a consumer that polls without
 * announcing gets no default wake-ups (BPF_RB_FORCE_WAKEUP still signals). */
int ebpf_ring_buffer_wakeup_fd(const ebpf_ring_buffer_t *ring);

/* Consumer side (one consumer at a time). Calls callback for each committed, non-discarded
 * record in order, stopping early when it returns non-zero (that value is returned; the record
 * that returned it counts as consumed, as libbpf); otherwise returns the number of records
 * consumed. -EBADMSG when the shared memory holds a record header no producer wrote. */
int ebpf_ring_buffer_consume(ebpf_ring_buffer_t *ring,
                             int (*callback)(void *context, void *data, size_t size),
                             void *context);
/* Sleeping consumer protocol: call wait_prepare; when it returns true, committed data is
 * already there (consume, do not sleep); otherwise sleep on the wakeup fd (poll/epoll) and then
 * call wait_finish, which disarms and drains the fd, before consuming. */
bool ebpf_ring_buffer_wait_prepare(ebpf_ring_buffer_t *ring);
void ebpf_ring_buffer_wait_finish(ebpf_ring_buffer_t *ring);
/* The whole protocol for one ring: 1 when data is there, 0 on timeout, -errno. timeout_ms as
 * poll(2) (-1 waits forever). */
int ebpf_ring_buffer_wait(ebpf_ring_buffer_t *ring, int timeout_ms);

/* A consumer's mapping of a ring's shared memory from its memfd (what another process does):
 * page 0 writable, the rest read-only, the data area mapped twice. */
typedef struct ebpf_ring_buffer_view ebpf_ring_buffer_view_t;

/* wakeup_fd may be -1 (then the view cannot wait). The view does not own the fds. */
int ebpf_ring_buffer_view_open(int memory_fd, int wakeup_fd, ebpf_ring_buffer_view_t **view);
void ebpf_ring_buffer_view_close(ebpf_ring_buffer_view_t *view);
/* As ebpf_ring_buffer_consume / wait_prepare / wait_finish, through the view's mapping. */
int ebpf_ring_buffer_view_consume(ebpf_ring_buffer_view_t *view,
                                  int (*callback)(void *context, void *data, size_t size),
                                  void *context);
bool ebpf_ring_buffer_view_wait_prepare(ebpf_ring_buffer_view_t *view);
/* true when a committed record waits to be consumed: no fence, no system call, for a consumer
 * that spins a little before it announces it sleeps. */
bool ebpf_ring_buffer_view_has_data(const ebpf_ring_buffer_view_t *view);
/* -1, or the longest a sleep on the view's wakeup fd may last (see
 * EBPF_RING_BUFFER_UNORDERED_SLEEP_MS). */
int ebpf_ring_buffer_view_sleep_limit_ms(const ebpf_ring_buffer_view_t *view);
void ebpf_ring_buffer_view_wait_finish(ebpf_ring_buffer_view_t *view);
uint32_t ebpf_ring_buffer_view_data_size(const ebpf_ring_buffer_view_t *view);
/* Start of the view's mapping (page 0), for tests and tools that read the layout directly. */
const void *ebpf_ring_buffer_view_base(const ebpf_ring_buffer_view_t *view);

/* Shared memory with the data area mapped twice, used by both ring engines. */
typedef struct ebpf_ring_memory {
    uint8_t *base;      /* meta pages, then the data area twice */
    uint8_t *data;      /* base + meta_size */
    size_t meta_size;   /* bytes before the data area: a multiple of the page size */
    size_t data_size;   /* a power of two, multiple of the page size */
    size_t mapped_size; /* meta_size + 2 * data_size */
    int fd;             /* the memfd (meta + data once); -1 when not owned */
} ebpf_ring_memory_t;

/* A new memfd of meta_size + data_size bytes (zeroed), mapped read-write. */
int ebpf_ring_memory_create(const char *name, size_t meta_size, size_t data_size,
                            ebpf_ring_memory_t *memory);
/* Maps an existing memfd whose data area starts at meta_size: the first writable_meta_size
 * bytes writable, the rest read-only. memory->fd is set to -1 (the fd stays the caller's). */
int ebpf_ring_memory_map(int fd, size_t meta_size, size_t writable_meta_size,
                         ebpf_ring_memory_t *memory);
/* Unmaps and closes what memory owns; safe on a zeroed or released memory. */
void ebpf_ring_memory_release(ebpf_ring_memory_t *memory);
size_t ebpf_ring_memory_page_size(void);

/* The producers' spinlock of both engines, held only for a reservation (a few loads and
 * stores): 0 free, 1 held. Inline because it is on every record's path. */
static inline void ebpf_ring_lock_acquire(_Atomic uint32_t *lock)
{
    while (atomic_exchange_explicit(lock, 1, memory_order_acquire) != 0) {
        unsigned spins = 0;
        while (atomic_load_explicit(lock, memory_order_relaxed) != 0) {
            /* The holder may have been preempted: let it run rather than spin out its slice. */
            if (++spins < 128) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#elif defined(__aarch64__)
                __asm__ __volatile__("yield");
#endif
            } else {
                sched_yield();
                spins = 0;
            }
        }
    }
}

static inline void ebpf_ring_lock_release(_Atomic uint32_t *lock)
{
    atomic_store_explicit(lock, 0, memory_order_release);
}

#ifdef __cplusplus
}
#endif

#endif /* EBPF_RING_BUFFER_H */
