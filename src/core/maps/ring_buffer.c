/* Ring buffer engine: reservation, commit, wake-up and consumption of Linux-format records. */

/*
 * Concurrency protocol
 * --------------------
 *
 * Positions are free-running u64 byte counts; a position p lives at data[p & mask]. Three
 * parties touch the shared memory:
 *
 *   producers (any number, any thread)  write: producer position (page 1), record headers and
 *                                              payloads between the consumer and producer
 *                                              positions, the consumer-waiting word (clear only)
 *   the consumer (one at a time)        write: consumer position (page 0), consumer-waiting
 *                                              word (page 0)
 *
 * Reservation. Producers serialise only the reservation, under reserve_lock (a spinlock held
 * for a few loads and stores). The holder checks the space against the consumer position it
 * read last (consumer_seen) and reads the shared one again only when that says full (ACQUIRE,
 * pairs with the consumer's RELEASE store below: every read of the space being reused happened
 * before we hand it out; a stale position only under-states the space). Reading the
 * consumer's line on every record cost a cache miss per record when the consumer ran on
 * another CPU. It writes the new record's header with the busy bit set, then publishes the
 * producer position (RELEASE: the header is visible before the position that covers it). The
 * authoritative producer position is a private copy: the shared one is only an output, so a
 * consumer scribbling on shared memory cannot steer producers.
 *
 * Commit. The owner of a record fills the payload with plain stores, then clears the busy bit
 * (and sets the discard bit for a discard) with a RELEASE store of the length word: the
 * payload is visible before the record is. Commits are independent of each other and of the
 * reservation lock, so records may be committed out of order.
 *
 * Consumption. The consumer reads the producer position (ACQUIRE, pairs with the publication:
 * headers up to it are visible), then each length word (ACQUIRE, pairs with the commit: the
 * payload is visible), stops at the first busy record, and publishes its position (RELEASE,
 * pairs with the reservation's ACQUIRE) after it has read the records it passes.
 *
 *     producer A              producer B              consumer
 *     lock; hdr=BUSY|n
 *     store prod (SC)  ----------------------------->  load prod (ACQ)
 *     unlock
 *                             lock; hdr=BUSY|m ...
 *     payload; store len (REL) --------------------->  load len (ACQ); read payload
 *                                                      store cons (REL)
 *                             load cons (ACQ) <------
 *
 * Busy records are never overwritten: a reservation also keeps the end of the new record
 * within one lap of pending_position, the oldest record that may still be busy (advanced
 * lazily over committed headers only when that bound would refuse the reservation). An honest
 * consumer never passes a busy record, so this only matters when another process writes a
 * wrong consumer position into page 0 - as Linux does since it met that problem.
 *
 * Wake-up. A sleeping consumer must not miss the commit it waits for, and a producer must not
 * pay a write(2) per record when nobody sleeps. The consumer announces "waiting" in page 0
 * before sleeping:
 *
 *     consumer (wait_prepare)                 producer (default commit)
 *     store waiting = 1                       store prod (REL)  [at reservation]
 *     HEAVY FENCE                             store len (REL)
 *     load prod; load len at cons             LIGHT FENCE
 *     nothing committed at cons -> sleep      load waiting; waiting and record at cons
 *                                             -> exchange waiting to 0, write(eventfd)
 *
 * The fences forbid the store-buffering outcome where both loads miss the other side's store:
 * either the consumer sees the record and does not sleep, or the producer sees "waiting" and
 * wakes it; no lost wake-up. They are asymmetric (ebpf_fence_light / ebpf_fence_heavy): the
 * consumer, about to sleep in a system call anyway, runs membarrier(PRIVATE_EXPEDITED), so a
 * producer's commit needs only a compiler barrier. That reaches only threads of the ring's
 * process: the producer page says whether producers rely on it and which process they are
 * in (EBPF_RING_BUFFER_PRODUCER_FLAGS_OFFSET), and a consumer in another process, which
 * cannot order itself against them, bounds its sleeps instead. Without membarrier both sides
 * use full fences; under TSan the accesses are SEQ_CST instead.
 * The exchange makes one producer, not every one, pay the write. As Linux, a default commit
 * wakes only when its record is the first unconsumed one (the consumer caught up), so commits
 * behind a busy record are batched into the wake-up of the record blocking them;
 * BPF_RB_NO_WAKEUP never wakes, BPF_RB_FORCE_WAKEUP always writes the eventfd.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdalign.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "ebpf_platform.h"
#include "ring_buffer.h"

/* The two pages before the data area, as the Linux mmap layout. */
#define RING_META_PAGES 2

typedef struct ring_record_header {
    /* Payload length | busy | discard. Written BUSY under reserve_lock, then committed once by
     * the record's owner with a RELEASE store; read by consumers with ACQUIRE. */
    _Atomic uint32_t length;
    uint32_t page_offset;
} ring_record_header_t;

_Static_assert(sizeof(ring_record_header_t) == EBPF_RING_BUFFER_HEADER_SIZE, "header size");
_Static_assert(EBPF_RING_BUFFER_BUSY_BIT == BPF_RINGBUF_BUSY_BIT, "busy bit as Linux");
_Static_assert(EBPF_RING_BUFFER_DISCARD_BIT == BPF_RINGBUF_DISCARD_BIT, "discard bit as Linux");

/* What a consumer needs, through the ring's own mapping or a view's. */
typedef struct ring_consumer {
    /* Written by the consumer only (RELEASE after reading the records it passes). */
    _Atomic uint64_t *consumer_position;
    /* 1 while the consumer may sleep on the eventfd; set by it, cleared by it or by the
     * producer that wakes it. */
    _Atomic uint32_t *waiting;
    /* Written by producers under reserve_lock (RELEASE), read by the consumer. */
    _Atomic uint64_t *producer_position;
    /* EBPF_RING_BUFFER_PRODUCER_* bits, written once when the ring is created. */
    const _Atomic uint32_t *producer_flags;
    /* The consumer cannot order itself against producers that rely on its membarrier (it is
     * in another process, or its membarrier failed): it may miss a wake-up, so it never sleeps
     * longer than EBPF_RING_BUFFER_UNORDERED_SLEEP_MS. Set at attach or by a failed fence. */
    bool unordered;
    uint8_t *data;
    uint64_t mask;
    int wakeup_fd;
} ring_consumer_t;

struct ebpf_ring_buffer {
    /* Read-only after creation. */
    ebpf_ring_memory_t memory;
    ring_consumer_t consumer;
    uint32_t page_shift;

    /* Reservation state, one cache line away from what the consumer dirties. */
    /* 0 free, 1 held by the one producer that is reserving; acquire on lock, release on
     * unlock, so producer and pending_position are read and written by one holder at a
     * time. */
    alignas(EBPF_CACHE_LINE) _Atomic uint32_t reserve_lock;
    uint64_t producer_position; /* under reserve_lock: end of the last reservation */
    uint64_t pending_position;  /* under reserve_lock: no busy record before it */
    uint64_t consumer_seen;     /* under reserve_lock: the consumer position read last */
    /* Read-only after creation: commits use a compiler barrier, not a fence (see Wake-up). */
    bool asymmetric_wakeup;

    /* Records refused for lack of space, and eventfd writes that woke the consumer; only
     * ever incremented (relaxed: statistics). */
    alignas(EBPF_CACHE_LINE) _Atomic uint64_t dropped;
    _Atomic uint64_t wakeups;
};

struct ebpf_ring_buffer_view {
    ebpf_ring_memory_t memory;
    ring_consumer_t consumer;
};

/* ---------------------------------------------------------------------------------------- */
/* Shared memory with the data area mapped twice.                                           */
/* ---------------------------------------------------------------------------------------- */

size_t ebpf_ring_memory_page_size(void)
{
    static _Atomic size_t cached; /* 0 until the first call; then the page size, never again
                                   * changed (relaxed: every writer stores the same value). */
    size_t size = atomic_load_explicit(&cached, memory_order_relaxed);
    if (size == 0) {
        long page = sysconf(_SC_PAGESIZE);
        size = page > 0 ? (size_t)page : 4096;
        atomic_store_explicit(&cached, size, memory_order_relaxed);
    }
    return size;
}

static bool is_valid_data_size(size_t data_size)
{
    size_t page = ebpf_ring_memory_page_size();
    return data_size != 0 && (data_size & (data_size - 1)) == 0 && data_size % page == 0;
}

/* Places fd's data area (at file offset meta_size) twice after its meta pages, over a region
 * reserved in one piece so that nothing else can land between the two copies. */
static int map_twice(int fd, size_t meta_size, size_t writable_meta_size, size_t data_size,
                     int data_protection, ebpf_ring_memory_t *memory)
{
    size_t mapped_size = meta_size + 2 * data_size;
    uint8_t *base, *data;

    base = mmap(NULL, mapped_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return ebpf_error(-errno, "ring memory: reserving %zu bytes of address space: %s",
                          mapped_size, strerror(errno));
    data = base + meta_size;
    if ((writable_meta_size != 0 && mmap(base, writable_meta_size, PROT_READ | PROT_WRITE,
                                         MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) ||
        (meta_size > writable_meta_size &&
         mmap(base + writable_meta_size, meta_size - writable_meta_size, PROT_READ,
              MAP_SHARED | MAP_FIXED, fd, (off_t)writable_meta_size) == MAP_FAILED) ||
        mmap(data, data_size, data_protection, MAP_SHARED | MAP_FIXED, fd, (off_t)meta_size) ==
            MAP_FAILED ||
        mmap(data + data_size, data_size, data_protection, MAP_SHARED | MAP_FIXED, fd,
             (off_t)meta_size) == MAP_FAILED) {
        int err = -errno;
        munmap(base, mapped_size);
        return ebpf_error(err, "ring memory: mapping the data area twice: %s", strerror(-err));
    }
    memory->base = base;
    memory->data = data;
    memory->meta_size = meta_size;
    memory->data_size = data_size;
    memory->mapped_size = mapped_size;
    return 0;
}

int ebpf_ring_memory_create(const char *name, size_t meta_size, size_t data_size,
                            ebpf_ring_memory_t *memory)
{
    size_t page = ebpf_ring_memory_page_size();
    int fd, err;

    memset(memory, 0, sizeof(*memory));
    memory->fd = -1;
    if (!is_valid_data_size(data_size) || meta_size % page != 0)
        return ebpf_error(-EINVAL,
                          "ring memory %s: data size %zu is not a power of two multiple of the "
                          "page size %zu (or meta size %zu is not whole pages)",
                          name, data_size, page, meta_size);
    fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return ebpf_error(-errno, "ring memory %s: memfd_create: %s", name, strerror(errno));
    if (ftruncate(fd, (off_t)(meta_size + data_size)) != 0) {
        err = -errno;
        close(fd);
        return ebpf_error(err, "ring memory %s: sizing to %zu bytes: %s", name,
                          meta_size + data_size, strerror(-err));
    }
    err = map_twice(fd, meta_size, meta_size, data_size, PROT_READ | PROT_WRITE, memory);
    if (err) {
        close(fd);
        return ebpf_error_prefix(err, "ring memory %s: ", name);
    }
    memory->fd = fd;
    return 0;
}

int ebpf_ring_memory_map(int fd, size_t meta_size, size_t writable_meta_size,
                         ebpf_ring_memory_t *memory)
{
    size_t page = ebpf_ring_memory_page_size();
    struct stat status;
    size_t data_size;
    int err;

    memset(memory, 0, sizeof(*memory));
    memory->fd = -1;
    if (meta_size % page != 0 || writable_meta_size > meta_size || writable_meta_size % page != 0)
        return ebpf_error(-EINVAL, "ring memory: meta size %zu / writable %zu not whole pages",
                          meta_size, writable_meta_size);
    if (fstat(fd, &status) != 0)
        return ebpf_error(-errno, "ring memory: fd %d: %s", fd, strerror(errno));
    if (status.st_size < 0 || (size_t)status.st_size <= meta_size)
        return ebpf_error(-EINVAL, "ring memory: fd %d holds %lld bytes, no data area", fd,
                          (long long)status.st_size);
    data_size = (size_t)status.st_size - meta_size;
    if (!is_valid_data_size(data_size))
        return ebpf_error(-EINVAL,
                          "ring memory: fd %d: data area of %zu bytes is not a power of two "
                          "multiple of the page size",
                          fd, data_size);
    err = map_twice(fd, meta_size, writable_meta_size, data_size, PROT_READ, memory);
    if (err)
        return err;
    memory->fd = -1;
    return 0;
}

void ebpf_ring_memory_release(ebpf_ring_memory_t *memory)
{
    if (memory->base != NULL)
        munmap(memory->base, memory->mapped_size);
    if (memory->fd >= 0)
        close(memory->fd);
    memory->base = NULL;
    memory->data = NULL;
    memory->fd = -1;
}

/* ---------------------------------------------------------------------------------------- */
/* Producer side.                                                                           */
/* ---------------------------------------------------------------------------------------- */

static inline uint64_t record_size(uint64_t payload)
{
    return (payload + EBPF_RING_BUFFER_HEADER_SIZE + 7) & ~(uint64_t)7;
}

/* How far past what a reservation needs advance_pending looks, so that it runs once per
 * PENDING_LOOKAHEAD bytes of records rather than once per record (its call was a twentieth of a
 * record's cost). The headers it passes are the ones the next reservations overwrite. */
#define PENDING_LOOKAHEAD 4096u

/* Moves pending_position over committed records until a reservation ending at end keeps within
 * one lap of it (and up to PENDING_LOOKAHEAD further when those records are committed too);
 * false when a busy record is in the way of end itself. Called under reserve_lock. */
static bool advance_pending(ebpf_ring_buffer_t *ring, uint64_t producer, uint64_t end)
{
    uint64_t mask = ring->consumer.mask;
    uint64_t pending = ring->pending_position;
    uint64_t lookahead = mask / 4 < PENDING_LOOKAHEAD ? mask / 4 : PENDING_LOOKAHEAD;
    while (end + lookahead - pending > mask && pending != producer) {
        ring_record_header_t *header =
            (ring_record_header_t *)(ring->consumer.data + (pending & mask));
        uint32_t length = atomic_load_explicit(&header->length, memory_order_acquire);
        uint64_t size = record_size(length & ~EBPF_RING_BUFFER_DISCARD_BIT);
        /* Busy, or a length no producer wrote (shared memory scribbled on): fail safe. */
        if ((length & EBPF_RING_BUFFER_BUSY_BIT) || size > producer - pending)
            break;
        pending += size;
    }
    ring->pending_position = pending;
    return end - pending <= mask;
}

static __attribute__((noinline, cold)) int ring_full(ebpf_ring_buffer_t *ring, uint64_t size)
{
    atomic_fetch_add_explicit(&ring->dropped, 1, memory_order_relaxed);
    return ebpf_error(-ENOSPC, "ring buffer full: record of %llu bytes dropped",
                      (unsigned long long)size);
}

/* 0 and *header, -EINVAL when size can never fit, -ENOSPC when full (counted). */
/* Inlined into output, reserve and submit: it is most of a record's cost, and the calls around it
 * were a fifth of it (measured with callgrind on the event path). */
static inline __attribute__((always_inline)) int
reserve_record(ebpf_ring_buffer_t *ring, uint64_t size, ring_record_header_t **reserved)
{
    uint64_t mask = ring->consumer.mask;
    uint64_t length = record_size(size);
    uint64_t consumer, producer, end, offset;
    ring_record_header_t *header = NULL;

    if (size > EBPF_RING_BUFFER_MAX_RECORD_SIZE || length > mask)
        return ebpf_error(-EINVAL, "ring buffer: a record of %llu bytes can never fit in %llu",
                          (unsigned long long)size, (unsigned long long)mask + 1);

    ebpf_ring_lock_acquire(&ring->reserve_lock);
    producer = ring->producer_position;
    end = producer + length;
    /* Unsigned: a consumer position ahead of the producer (scribbled) also reads as full. */
    if (end - ring->consumer_seen > mask) {
        consumer = atomic_load_explicit(ring->consumer.consumer_position, memory_order_acquire);
        if (end - consumer > mask)
            goto full;
        ring->consumer_seen = consumer;
    }
    if (end - ring->pending_position > mask && !advance_pending(ring, producer, end))
        goto full;
    offset = producer & mask;
    header = (ring_record_header_t *)(ring->consumer.data + offset);
    header->page_offset = (uint32_t)((ring->memory.meta_size + offset) >> ring->page_shift);
    atomic_store_explicit(&header->length, (uint32_t)size | EBPF_RING_BUFFER_BUSY_BIT,
                          memory_order_relaxed);
    ring->producer_position = end;
    atomic_store_explicit(ring->consumer.producer_position, end,
                          EBPF_FENCED_ORDER(memory_order_release));
    ebpf_ring_lock_release(&ring->reserve_lock);
    *reserved = header;
    return 0;

full:
    ebpf_ring_lock_release(&ring->reserve_lock);
    return ring_full(ring, size);
}

static __attribute__((noinline)) void signal_consumer(ebpf_ring_buffer_t *ring)
{
    uint64_t one = 1;
    atomic_fetch_add_explicit(&ring->wakeups, 1, memory_order_relaxed);
    /* EAGAIN means the counter is saturated: the consumer is woken anyway. */
    if (write(ring->consumer.wakeup_fd, &one, sizeof(one)) < 0) {
    }
}

static inline __attribute__((always_inline)) void
commit_record(ebpf_ring_buffer_t *ring, ring_record_header_t *header, bool discard, uint64_t flags)
{
    uint32_t length = atomic_load_explicit(&header->length, memory_order_relaxed);
    uint32_t committed = length & ~EBPF_RING_BUFFER_BUSY_BIT;
    if (discard)
        committed |= EBPF_RING_BUFFER_DISCARD_BIT;

    if (flags & BPF_RB_NO_WAKEUP) {
        atomic_store_explicit(&header->length, committed, memory_order_release);
        return;
    }
    if (flags & BPF_RB_FORCE_WAKEUP) {
        atomic_store_explicit(&header->length, committed, memory_order_release);
        atomic_store_explicit(ring->consumer.waiting, 0, memory_order_relaxed);
        signal_consumer(ring);
        return;
    }
    /* Store, light fence, load: see "Wake-up" above. */
    atomic_store_explicit(&header->length, committed, EBPF_FENCED_ORDER(memory_order_release));
    ebpf_fence_light(ring->asymmetric_wakeup);
    if (atomic_load_explicit(ring->consumer.waiting, EBPF_FENCED_ORDER(memory_order_relaxed)) !=
        0) {
        uint64_t consumer =
            atomic_load_explicit(ring->consumer.consumer_position, memory_order_acquire);
        uint64_t offset = (uint64_t)((uint8_t *)header - ring->consumer.data);
        if ((consumer & ring->consumer.mask) == offset &&
            atomic_exchange_explicit(ring->consumer.waiting, 0, memory_order_relaxed) != 0)
            signal_consumer(ring);
    }
}

void *ebpf_ring_buffer_reserve(ebpf_ring_buffer_t *ring, uint64_t size, uint64_t flags)
{
    ring_record_header_t *header = NULL;
    if (flags != 0) {
        ebpf_error(-EINVAL, "ring buffer reserve: flags 0x%llx (must be 0)",
                   (unsigned long long)flags);
        return NULL;
    }
    if (reserve_record(ring, size, &header) != 0)
        return NULL;
    return header + 1;
}

void ebpf_ring_buffer_submit(ebpf_ring_buffer_t *ring, void *record, uint64_t flags)
{
    if (record != NULL)
        commit_record(ring, (ring_record_header_t *)record - 1, false, flags);
}

void ebpf_ring_buffer_discard(ebpf_ring_buffer_t *ring, void *record, uint64_t flags)
{
    if (record != NULL)
        commit_record(ring, (ring_record_header_t *)record - 1, true, flags);
}

int ebpf_ring_buffer_output(ebpf_ring_buffer_t *ring, const void *data, uint64_t size,
                            uint64_t flags)
{
    ring_record_header_t *header = NULL;
    int err;
    if (flags & ~(uint64_t)(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP))
        return ebpf_error(-EINVAL, "ring buffer output: unknown flags 0x%llx",
                          (unsigned long long)flags);
    err = reserve_record(ring, size, &header);
    if (err)
        return err;
    memcpy(header + 1, data, (size_t)size);
    commit_record(ring, header, false, flags);
    return 0;
}

uint64_t ebpf_ring_buffer_query(ebpf_ring_buffer_t *ring, uint64_t flags)
{
    uint64_t consumer, producer;
    switch (flags) {
    case BPF_RB_AVAIL_DATA:
        consumer = atomic_load_explicit(ring->consumer.consumer_position, memory_order_acquire);
        producer = atomic_load_explicit(ring->consumer.producer_position, memory_order_acquire);
        return producer - consumer;
    case BPF_RB_RING_SIZE:
        return ring->consumer.mask + 1;
    case BPF_RB_CONS_POS:
        return atomic_load_explicit(ring->consumer.consumer_position, memory_order_acquire);
    case BPF_RB_PROD_POS:
        return atomic_load_explicit(ring->consumer.producer_position, memory_order_acquire);
    default:
        return 0;
    }
}

uint64_t ebpf_ring_buffer_dropped(const ebpf_ring_buffer_t *ring)
{
    return atomic_load_explicit(&ring->dropped, memory_order_relaxed);
}

uint64_t ebpf_ring_buffer_wakeups(const ebpf_ring_buffer_t *ring)
{
    return atomic_load_explicit(&ring->wakeups, memory_order_relaxed);
}

bool ebpf_ring_buffer_consumer_waiting(const ebpf_ring_buffer_t *ring)
{
    return atomic_load_explicit(ring->consumer.waiting, memory_order_relaxed) != 0;
}

bool ebpf_ring_buffer_contains(const ebpf_ring_buffer_t *ring, const void *p, size_t n)
{
    uintptr_t start = (uintptr_t)ring->memory.data;
    uintptr_t address = (uintptr_t)p;
    size_t span = 2 * ring->memory.data_size;
    return address >= start && n <= span && address - start <= span - n;
}

uint32_t ebpf_ring_buffer_data_size(const ebpf_ring_buffer_t *ring)
{
    return (uint32_t)ring->memory.data_size;
}

int ebpf_ring_buffer_memory_fd(const ebpf_ring_buffer_t *ring)
{
    return ring->memory.fd;
}

int ebpf_ring_buffer_wakeup_fd(const ebpf_ring_buffer_t *ring)
{
    return ring->consumer.wakeup_fd;
}

/* ---------------------------------------------------------------------------------------- */
/* Consumer side.                                                                           */
/* ---------------------------------------------------------------------------------------- */

static void consumer_attach(ring_consumer_t *consumer, const ebpf_ring_memory_t *memory,
                            int wakeup_fd)
{
    size_t page = ebpf_ring_memory_page_size();
    consumer->consumer_position = (_Atomic uint64_t *)memory->base;
    consumer->waiting = (_Atomic uint32_t *)(memory->base + EBPF_RING_BUFFER_WAITING_OFFSET);
    consumer->producer_position = (_Atomic uint64_t *)(memory->base + page);
    consumer->producer_flags =
        (const _Atomic uint32_t *)(memory->base + page + EBPF_RING_BUFFER_PRODUCER_FLAGS_OFFSET);
    /* A consumer in another process cannot reach the producers with its membarrier. */
    uint32_t producer_pid = atomic_load_explicit(
        (const _Atomic uint32_t *)(memory->base + page + EBPF_RING_BUFFER_PRODUCER_PID_OFFSET),
        memory_order_relaxed);
    consumer->unordered = (atomic_load_explicit(consumer->producer_flags, memory_order_relaxed) &
                           EBPF_RING_BUFFER_PRODUCER_ASYMMETRIC) != 0 &&
                          producer_pid != (uint32_t)getpid();
    consumer->data = memory->data;
    consumer->mask = memory->data_size - 1;
    consumer->wakeup_fd = wakeup_fd;
}

static int consume_records(const ring_consumer_t *ring,
                           int (*callback)(void *context, void *data, size_t size), void *context)
{
    uint64_t consumer = atomic_load_explicit(ring->consumer_position, memory_order_relaxed);
    uint64_t published = consumer;
    uint64_t start = consumer;
    /* Publish at least every quarter ring so producers regain space during a long batch. */
    uint64_t publish_every = (ring->mask + 1) / 4;
    int count = 0, result = 0;

    /* Bounded to one lap per call so a fast producer cannot keep the caller here forever. */
    while (consumer - start <= ring->mask) {
        uint64_t producer = atomic_load_explicit(ring->producer_position, memory_order_acquire);
        if (producer == consumer)
            break;
        if (producer - consumer > ring->mask + 1) {
            result = ebpf_error(-EBADMSG,
                                "ring buffer: producer position %llu and consumer "
                                "position %llu are more than a ring apart",
                                (unsigned long long)producer, (unsigned long long)consumer);
            goto out;
        }
        while (consumer != producer) {
            ring_record_header_t *header =
                (ring_record_header_t *)(ring->data + (consumer & ring->mask));
            uint32_t length = atomic_load_explicit(&header->length, memory_order_acquire);
            uint32_t payload = length & ~(EBPF_RING_BUFFER_BUSY_BIT | EBPF_RING_BUFFER_DISCARD_BIT);
            if (length & EBPF_RING_BUFFER_BUSY_BIT)
                goto out;
            if (record_size(payload) > producer - consumer) {
                result =
                    ebpf_error(-EBADMSG,
                               "ring buffer: record at %llu claims %u bytes, past the "
                               "producer position %llu",
                               (unsigned long long)consumer, payload, (unsigned long long)producer);
                goto out;
            }
            consumer += record_size(payload);
            if (!(length & EBPF_RING_BUFFER_DISCARD_BIT)) {
                int status = callback(context, header + 1, payload);
                if (status != 0) {
                    result = status;
                    goto out;
                }
                count++;
            }
            if (consumer - published >= publish_every) {
                atomic_store_explicit(ring->consumer_position, consumer, memory_order_release);
                published = consumer;
            }
        }
    }
out:
    if (consumer != published)
        atomic_store_explicit(ring->consumer_position, consumer, memory_order_release);
    return result != 0 ? result : count;
}

/* A committed record waits at the consumer position: no fence, no system call (a spinning
 * consumer's look, and wait_prepare's last look after its fence). */
static bool consumer_has_data(const ring_consumer_t *ring)
{
    uint64_t consumer = atomic_load_explicit(ring->consumer_position, memory_order_relaxed);
    uint64_t producer =
        atomic_load_explicit(ring->producer_position, EBPF_FENCED_ORDER(memory_order_acquire));
    if (producer == consumer)
        return false;
    ring_record_header_t *header = (ring_record_header_t *)(ring->data + (consumer & ring->mask));
    return !(atomic_load_explicit(&header->length, EBPF_FENCED_ORDER(memory_order_acquire)) &
             EBPF_RING_BUFFER_BUSY_BIT);
}

static bool consumer_wait_prepare(ring_consumer_t *ring)
{
    bool asymmetric = (atomic_load_explicit(ring->producer_flags, memory_order_relaxed) &
                       EBPF_RING_BUFFER_PRODUCER_ASYMMETRIC) != 0;

    /* Store, heavy fence, loads: see "Wake-up" at the top. */
    atomic_store_explicit(ring->waiting, 1, EBPF_FENCED_ORDER(memory_order_relaxed));
    if (ebpf_fence_heavy(asymmetric && !ring->unordered) != 0) {
        ebpf_log(EBPF_LOG_WARN,
                 "ring buffer: %s; wake-ups may be missed, so sleeps are "
                 "bounded to %d ms",
                 ebpf_last_error(), EBPF_RING_BUFFER_UNORDERED_SLEEP_MS);
        ring->unordered = true;
    }
    if (!consumer_has_data(ring))
        return false;
    atomic_store_explicit(ring->waiting, 0, memory_order_relaxed);
    return true;
}

static void consumer_wait_finish(const ring_consumer_t *ring)
{
    uint64_t count;
    atomic_store_explicit(ring->waiting, 0, memory_order_relaxed);
    /* Non-blocking: EAGAIN when nobody wrote. */
    if (ring->wakeup_fd >= 0 && read(ring->wakeup_fd, &count, sizeof(count)) < 0) {
    }
}

int ebpf_ring_buffer_consume(ebpf_ring_buffer_t *ring,
                             int (*callback)(void *context, void *data, size_t size), void *context)
{
    return consume_records(&ring->consumer, callback, context);
}

bool ebpf_ring_buffer_wait_prepare(ebpf_ring_buffer_t *ring)
{
    return consumer_wait_prepare(&ring->consumer);
}

void ebpf_ring_buffer_wait_finish(ebpf_ring_buffer_t *ring)
{
    consumer_wait_finish(&ring->consumer);
}

int ebpf_ring_buffer_wait(ebpf_ring_buffer_t *ring, int timeout_ms)
{
    struct pollfd descriptor = {.fd = ring->consumer.wakeup_fd, .events = POLLIN};
    int ready;

    if (consumer_wait_prepare(&ring->consumer))
        return 1;
    if (ring->consumer.unordered &&
        (timeout_ms < 0 || timeout_ms > EBPF_RING_BUFFER_UNORDERED_SLEEP_MS))
        timeout_ms = EBPF_RING_BUFFER_UNORDERED_SLEEP_MS;
    ready = poll(&descriptor, 1, timeout_ms);
    consumer_wait_finish(&ring->consumer);
    if (ready < 0)
        return ebpf_error(-errno, "ring buffer wait: poll: %s", strerror(errno));
    return ready > 0 ? 1 : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Life cycle.                                                                              */
/* ---------------------------------------------------------------------------------------- */

int ebpf_ring_buffer_create(uint32_t data_size, ebpf_ring_buffer_t **ring)
{
    size_t page = ebpf_ring_memory_page_size();
    ebpf_ring_buffer_t *created;
    int wakeup_fd, err;

    *ring = NULL;
    if (!is_valid_data_size(data_size))
        return ebpf_error(-EINVAL,
                          "ring buffer: data size %u is not a power of two multiple of the page "
                          "size %zu",
                          data_size, page);
    created = ebpf_allocate_aligned(EBPF_CACHE_LINE, sizeof(*created));
    if (created == NULL)
        return ebpf_error(-ENOMEM, "ring buffer: out of memory");
    err = ebpf_ring_memory_create("ebpf_ring_buffer", RING_META_PAGES * page, data_size,
                                  &created->memory);
    if (err) {
        ebpf_free(created);
        return ebpf_error_prefix(err, "ring buffer: ");
    }
    wakeup_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeup_fd < 0) {
        err = -errno;
        ebpf_ring_memory_release(&created->memory);
        ebpf_free(created);
        return ebpf_error(err, "ring buffer: eventfd: %s", strerror(-err));
    }
    consumer_attach(&created->consumer, &created->memory, wakeup_fd);
    created->asymmetric_wakeup = ebpf_fence_is_asymmetric();
    uint8_t *producer_page = created->memory.base + page;
    atomic_store_explicit(
        (_Atomic uint32_t *)(producer_page + EBPF_RING_BUFFER_PRODUCER_PID_OFFSET),
        (uint32_t)getpid(), memory_order_relaxed);
    atomic_store_explicit(
        (_Atomic uint32_t *)(producer_page + EBPF_RING_BUFFER_PRODUCER_FLAGS_OFFSET),
        created->asymmetric_wakeup ? EBPF_RING_BUFFER_PRODUCER_ASYMMETRIC : 0,
        memory_order_relaxed);
    created->page_shift = (uint32_t)__builtin_ctzll((unsigned long long)page);
    atomic_init(&created->reserve_lock, 0);
    atomic_init(&created->dropped, 0);
    atomic_init(&created->wakeups, 0);
    created->consumer_seen = 0;
    *ring = created;
    return 0;
}

void ebpf_ring_buffer_destroy(ebpf_ring_buffer_t *ring)
{
    if (ring == NULL)
        return;
    close(ring->consumer.wakeup_fd);
    ebpf_ring_memory_release(&ring->memory);
    ebpf_free(ring);
}

int ebpf_ring_buffer_view_open(int memory_fd, int wakeup_fd, ebpf_ring_buffer_view_t **view)
{
    size_t page = ebpf_ring_memory_page_size();
    ebpf_ring_buffer_view_t *opened;
    int err;

    *view = NULL;
    opened = ebpf_allocate(sizeof(*opened));
    if (opened == NULL)
        return ebpf_error(-ENOMEM, "ring buffer view: out of memory");
    /* Page 0 (consumer position, waiting word) writable; producer page and data read-only. */
    err = ebpf_ring_memory_map(memory_fd, RING_META_PAGES * page, page, &opened->memory);
    if (err) {
        ebpf_free(opened);
        return ebpf_error_prefix(err, "ring buffer view: ");
    }
    consumer_attach(&opened->consumer, &opened->memory, wakeup_fd);
    *view = opened;
    return 0;
}

void ebpf_ring_buffer_view_close(ebpf_ring_buffer_view_t *view)
{
    if (view == NULL)
        return;
    ebpf_ring_memory_release(&view->memory);
    ebpf_free(view);
}

int ebpf_ring_buffer_view_consume(ebpf_ring_buffer_view_t *view,
                                  int (*callback)(void *context, void *data, size_t size),
                                  void *context)
{
    return consume_records(&view->consumer, callback, context);
}

bool ebpf_ring_buffer_view_wait_prepare(ebpf_ring_buffer_view_t *view)
{
    return consumer_wait_prepare(&view->consumer);
}

bool ebpf_ring_buffer_view_has_data(const ebpf_ring_buffer_view_t *view)
{
    return consumer_has_data(&view->consumer);
}

int ebpf_ring_buffer_view_sleep_limit_ms(const ebpf_ring_buffer_view_t *view)
{
    return view->consumer.unordered ? EBPF_RING_BUFFER_UNORDERED_SLEEP_MS : -1;
}

void ebpf_ring_buffer_view_wait_finish(ebpf_ring_buffer_view_t *view)
{
    consumer_wait_finish(&view->consumer);
}

uint32_t ebpf_ring_buffer_view_data_size(const ebpf_ring_buffer_view_t *view)
{
    return (uint32_t)view->memory.data_size;
}

const void *ebpf_ring_buffer_view_base(const ebpf_ring_buffer_view_t *view)
{
    return view->memory.base;
}
