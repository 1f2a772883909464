/* Perf event array engine: per-CPU rings of perf records, their lost-record accounting and
 * consumers. */

/*
 * Concurrency protocol, per CPU index
 * -----------------------------------
 *
 * Each index has its own shared memory: page 0 is a struct perf_event_mmap_page whose
 * data_head is written by producers and data_tail by the consumer; the data area follows,
 * mapped twice so every record is contiguous.
 *
 * Producers of one index are serialised by that index's spinlock, held for the whole write of
 * a record (there is no busy bit in the perf format, so a record must be complete before the
 * head covers it). Normally one thread holds the index through ebpf_cpu_enter and the lock is
 * never contended; it exists so two threads naming the same index without a claim stay safe.
 * Under the lock the producer reads data_tail (ACQUIRE, pairs with the consumer's RELEASE:
 * the consumer is done reading the space we reuse), writes the record(s) with plain stores,
 * then publishes data_head (RELEASE: the records are visible before the head that covers
 * them). The authoritative head is a private copy; the shared one is an output.
 *
 * The consumer reads data_head (ACQUIRE), reads the records up to it, then publishes
 * data_tail (RELEASE).
 *
 * Lost records. A sample that does not fit is dropped and counted twice: in the index's total
 * (lost, atomic, read by anyone) and in pending_lost (under the lock). The next sample that
 * fits together with a PERF_RECORD_LOST is written right after that lost record, which carries
 * pending_lost and resets it; as Linux, both are written or neither.
 *
 * Wake-up: the same protocol as the ring buffer engine (see ring_buffer.c). The consumer stores
 * waiting = 1, runs the heavy side of an asymmetric fence (membarrier), then loads data_head;
 * the producer stores data_head, runs the light side (a compiler barrier with membarrier, a
 * full fence without), then loads waiting. So a consumer either sees the new head or is woken
 * through the index's eventfd by the one producer that exchanges waiting back to 0. A consumer
 * that does not announce itself is never signalled, so a busy consumer costs producers no
 * system call. The consumer is always in the array's process (there are no views).
 */

#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/perf_event.h>

#include "ebpf_platform.h"
#include "perf_event_array.h"
#include "ring_buffer.h"

typedef struct perf_sample_header {
    struct perf_event_header header;
    uint32_t size; /* raw data bytes that follow, padding included */
} perf_sample_header_t;

typedef struct perf_lost_record {
    struct perf_event_header header;
    uint64_t id;
    uint64_t lost;
} perf_lost_record_t;

#define SAMPLE_OVERHEAD  sizeof(perf_sample_header_t) /* 12 */
#define LOST_RECORD_SIZE sizeof(perf_lost_record_t)   /* 24 */
/* A record's size is a u16 and a multiple of 8, so a sample holds at most this much data. */
#define MAX_SAMPLE_DATA (((uint64_t)UINT16_MAX & ~(uint64_t)7) - SAMPLE_OVERHEAD)

typedef struct perf_ring {
    /* Read-only after creation. */
    ebpf_ring_memory_t memory;
    /* data_head in page 0: published by producers under lock (RELEASE). */
    _Atomic uint64_t *head;
    /* data_tail in page 0: written by the consumer only (RELEASE after reading). */
    _Atomic uint64_t *tail;
    /* 1 while the consumer may sleep on wakeup_fd; set by it, cleared by it or by the producer
     * that wakes it. */
    _Atomic uint32_t *waiting;
    uint8_t *data;
    uint64_t mask;
    int wakeup_fd;

    /* 0 free, 1 held by the one producer writing into this index; acquire on lock, release
     * on unlock, so head_position and pending_lost have one writer at a time. */
    alignas(EBPF_CACHE_LINE) _Atomic uint32_t lock;
    uint64_t head_position; /* under lock: end of the last record written */
    uint64_t pending_lost;  /* under lock: samples dropped since the last PERF_RECORD_LOST */
    /* Samples dropped on this index since creation; only incremented (relaxed: a statistic). */
    _Atomic uint64_t lost;
} perf_ring_t;

struct ebpf_perf_event_array {
    uint32_t cpu_count;
    uint32_t data_size;
    bool asymmetric_wakeup; /* read-only: commits use the light fence (see Wake-up) */
    perf_ring_t *rings;     /* cpu_count of them, each on its own cache lines */
};

static void ring_release(perf_ring_t *ring)
{
    if (ring->wakeup_fd >= 0)
        close(ring->wakeup_fd);
    ring->wakeup_fd = -1;
    ebpf_ring_memory_release(&ring->memory);
}

static int ring_init(perf_ring_t *ring, uint32_t cpu, uint32_t data_size)
{
    size_t page = ebpf_ring_memory_page_size();
    struct perf_event_mmap_page *control;
    int err;

    err = ebpf_ring_memory_create("ebpf_perf_event_array", page, data_size, &ring->memory);
    if (err)
        return ebpf_error_prefix(err, "perf event array CPU %u: ", cpu);
    ring->wakeup_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ring->wakeup_fd < 0) {
        err = -errno;
        ring_release(ring);
        return ebpf_error(err, "perf event array CPU %u: eventfd: %s", cpu, strerror(-err));
    }
    control = (struct perf_event_mmap_page *)ring->memory.base;
    control->data_offset = page;
    control->data_size = data_size;
    ring->head =
        (_Atomic uint64_t *)(ring->memory.base + offsetof(struct perf_event_mmap_page, data_head));
    ring->tail =
        (_Atomic uint64_t *)(ring->memory.base + offsetof(struct perf_event_mmap_page, data_tail));
    ring->waiting = (_Atomic uint32_t *)(ring->memory.base + EBPF_PERF_EVENT_ARRAY_WAITING_OFFSET);
    ring->data = ring->memory.data;
    ring->mask = (uint64_t)data_size - 1;
    atomic_init(&ring->lock, 0);
    atomic_init(&ring->lost, 0);
    return 0;
}

_Static_assert(EBPF_PERF_EVENT_ARRAY_WAITING_OFFSET >= sizeof(struct perf_event_mmap_page),
               "the waiting word lies after the perf control page's fields");

int ebpf_perf_event_array_create(uint32_t cpu_count, uint32_t per_cpu_data_size,
                                 ebpf_perf_event_array_t **array)
{
    size_t page = ebpf_ring_memory_page_size();
    ebpf_perf_event_array_t *created;
    int err;

    *array = NULL;
    if (cpu_count == 0 || cpu_count > EBPF_PERF_EVENT_ARRAY_MAX_CPUS)
        return ebpf_error(-EINVAL, "perf event array: %u CPUs (must be 1..%u)", cpu_count,
                          EBPF_PERF_EVENT_ARRAY_MAX_CPUS);
    if (per_cpu_data_size == 0 || (per_cpu_data_size & (per_cpu_data_size - 1)) != 0 ||
        per_cpu_data_size % page != 0)
        return ebpf_error(-EINVAL,
                          "perf event array: per-CPU size %u is not a power of two multiple of "
                          "the page size %zu",
                          per_cpu_data_size, page);
    created = ebpf_allocate(sizeof(*created));
    if (created == NULL)
        return ebpf_error(-ENOMEM, "perf event array: out of memory");
    created->rings = ebpf_allocate_aligned(EBPF_CACHE_LINE, cpu_count * sizeof(perf_ring_t));
    if (created->rings == NULL) {
        ebpf_free(created);
        return ebpf_error(-ENOMEM, "perf event array: out of memory for %u CPUs", cpu_count);
    }
    created->cpu_count = cpu_count;
    created->data_size = per_cpu_data_size;
    created->asymmetric_wakeup = ebpf_fence_is_asymmetric();
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++) {
        created->rings[cpu].memory.fd = -1;
        created->rings[cpu].wakeup_fd = -1;
    }
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++) {
        err = ring_init(&created->rings[cpu], cpu, per_cpu_data_size);
        if (err) {
            ebpf_perf_event_array_destroy(created);
            return err;
        }
    }
    *array = created;
    return 0;
}

void ebpf_perf_event_array_destroy(ebpf_perf_event_array_t *array)
{
    if (array == NULL)
        return;
    for (uint32_t cpu = 0; cpu < array->cpu_count; cpu++)
        ring_release(&array->rings[cpu]);
    ebpf_free(array->rings);
    ebpf_free(array);
}

uint32_t ebpf_perf_event_array_cpu_count(const ebpf_perf_event_array_t *array)
{
    return array->cpu_count;
}

uint32_t ebpf_perf_event_array_data_size(const ebpf_perf_event_array_t *array)
{
    return array->data_size;
}

/* ---------------------------------------------------------------------------------------- */
/* Producer side.                                                                           */
/* ---------------------------------------------------------------------------------------- */

static void signal_consumer(perf_ring_t *ring)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is saturated: the consumer is woken anyway. */
    if (write(ring->wakeup_fd, &one, sizeof(one)) < 0) {
    }
}

int ebpf_perf_event_array_output(ebpf_perf_event_array_t *array, uint64_t flags, const void *data,
                                 uint64_t size)
{
    uint64_t index = flags & BPF_F_INDEX_MASK;
    uint64_t raw_size, sample_size, needed, head, tail;
    perf_ring_t *ring;
    uint8_t *cursor;

    if (flags & ~(uint64_t)BPF_F_INDEX_MASK)
        return ebpf_error(-EINVAL, "perf event output: unknown flags 0x%llx",
                          (unsigned long long)flags);
    if (index == BPF_F_CURRENT_CPU) {
        uint32_t claimed = ebpf_cpu_claimed();
        index = claimed != UINT32_MAX ? claimed : ebpf_cpu_current();
    }
    if (index >= array->cpu_count)
        return ebpf_error(-E2BIG, "perf event output: CPU index %llu, the array has %u",
                          (unsigned long long)index, array->cpu_count);
    /* Raw data padded so the record stays a multiple of 8, as Linux. */
    raw_size = ((size + sizeof(uint32_t) + 7) & ~(uint64_t)7) - sizeof(uint32_t);
    sample_size = sizeof(struct perf_event_header) + sizeof(uint32_t) + raw_size;
    /* Room for the lost record too, or a sample after a drop could never be written. */
    if (size > MAX_SAMPLE_DATA || sample_size + LOST_RECORD_SIZE > array->data_size)
        return ebpf_error(-EINVAL, "perf event output: a sample of %llu bytes can never fit",
                          (unsigned long long)size);

    ring = &array->rings[index];
    ebpf_ring_lock_acquire(&ring->lock);
    head = ring->head_position;
    tail = atomic_load_explicit(ring->tail, memory_order_acquire);
    needed = sample_size + (ring->pending_lost != 0 ? LOST_RECORD_SIZE : 0);
    /* Unsigned: a tail ahead of the head (scribbled) also reads as full. */
    if (head - tail > ring->mask + 1 || ring->mask + 1 - (head - tail) < needed) {
        ring->pending_lost++;
        ebpf_ring_lock_release(&ring->lock);
        atomic_fetch_add_explicit(&ring->lost, 1, memory_order_relaxed);
        return ebpf_error(-ENOSPC, "perf event output: CPU %llu ring full, sample lost",
                          (unsigned long long)index);
    }
    cursor = ring->data + (head & ring->mask);
    if (ring->pending_lost != 0) {
        perf_lost_record_t lost = {
            .header = {.type = PERF_RECORD_LOST, .misc = 0, .size = LOST_RECORD_SIZE},
            .id = index,
            .lost = ring->pending_lost,
        };
        memcpy(cursor, &lost, sizeof(lost));
        cursor += sizeof(lost);
        ring->pending_lost = 0;
    }
    {
        perf_sample_header_t sample = {
            .header = {.type = PERF_RECORD_SAMPLE, .misc = 0, .size = (uint16_t)sample_size},
            .size = (uint32_t)raw_size,
        };
        memcpy(cursor, &sample, SAMPLE_OVERHEAD);
        memcpy(cursor + SAMPLE_OVERHEAD, data, (size_t)size);
        /* Zero the padding rather than leak what an earlier record left there. */
        memset(cursor + SAMPLE_OVERHEAD + size, 0, (size_t)(raw_size - size));
    }
    ring->head_position = head + needed;
    /* Store, light fence, load of waiting: see the wake-up protocol above. */
    atomic_store_explicit(ring->head, head + needed, EBPF_FENCED_ORDER(memory_order_release));
    ebpf_ring_lock_release(&ring->lock);
    ebpf_fence_light(array->asymmetric_wakeup);
    if (atomic_load_explicit(ring->waiting, EBPF_FENCED_ORDER(memory_order_relaxed)) != 0 &&
        atomic_exchange_explicit(ring->waiting, 0, memory_order_relaxed) != 0)
        signal_consumer(ring);
    return 0;
}

uint64_t ebpf_perf_event_array_lost(const ebpf_perf_event_array_t *array, uint32_t cpu)
{
    if (cpu >= array->cpu_count)
        return 0;
    return atomic_load_explicit(&array->rings[cpu].lost, memory_order_relaxed);
}

uint64_t ebpf_perf_event_array_lost_total(const ebpf_perf_event_array_t *array)
{
    uint64_t total = 0;
    for (uint32_t cpu = 0; cpu < array->cpu_count; cpu++)
        total += atomic_load_explicit(&array->rings[cpu].lost, memory_order_relaxed);
    return total;
}

bool ebpf_perf_event_array_contains(const ebpf_perf_event_array_t *array, const void *p, size_t n)
{
    uintptr_t address = (uintptr_t)p;
    size_t span = 2 * (size_t)array->data_size;
    if (n > span)
        return false;
    for (uint32_t cpu = 0; cpu < array->cpu_count; cpu++) {
        uintptr_t start = (uintptr_t)array->rings[cpu].data;
        if (address >= start && address - start <= span - n)
            return true;
    }
    return false;
}

int ebpf_perf_event_array_memory_fd(const ebpf_perf_event_array_t *array, uint32_t cpu)
{
    if (cpu >= array->cpu_count)
        return ebpf_error(-EINVAL, "perf event array: CPU index %u, the array has %u", cpu,
                          array->cpu_count);
    return array->rings[cpu].memory.fd;
}

int ebpf_perf_event_array_wakeup_fd(const ebpf_perf_event_array_t *array, uint32_t cpu)
{
    if (cpu >= array->cpu_count)
        return ebpf_error(-EINVAL, "perf event array: CPU index %u, the array has %u", cpu,
                          array->cpu_count);
    return array->rings[cpu].wakeup_fd;
}

/* ---------------------------------------------------------------------------------------- */
/* Consumer side.                                                                           */
/* ---------------------------------------------------------------------------------------- */

static int bad_record(uint32_t cpu, uint64_t tail, unsigned type, unsigned size)
{
    return ebpf_error(-EBADMSG,
                      "perf event array CPU %u: malformed record (type %u, size %u) "
                      "at %llu",
                      cpu, type, size, (unsigned long long)tail);
}

int ebpf_perf_event_array_consume(ebpf_perf_event_array_t *array, uint32_t cpu,
                                  ebpf_perf_event_sample_callback_t sample_callback,
                                  ebpf_perf_event_lost_callback_t lost_callback, void *context)
{
    perf_ring_t *ring;
    uint64_t tail, published, start, publish_every;
    int count = 0, result = 0;

    if (cpu >= array->cpu_count)
        return ebpf_error(-EINVAL, "perf event array: CPU index %u, the array has %u", cpu,
                          array->cpu_count);
    ring = &array->rings[cpu];
    tail = atomic_load_explicit(ring->tail, memory_order_relaxed);
    published = start = tail;
    /* Publish at least every quarter ring so the producer regains space during a long batch. */
    publish_every = (ring->mask + 1) / 4;

    /* Bounded to one lap per call so a fast producer cannot keep the caller here forever. */
    while (tail - start <= ring->mask) {
        uint64_t head = atomic_load_explicit(ring->head, memory_order_acquire);
        if (head == tail)
            break;
        if (head - tail > ring->mask + 1) {
            result = ebpf_error(-EBADMSG,
                                "perf event array CPU %u: head %llu and tail %llu are more than "
                                "a ring apart",
                                cpu, (unsigned long long)head, (unsigned long long)tail);
            goto out;
        }
        while (tail != head) {
            uint8_t *record = ring->data + (tail & ring->mask);
            struct perf_event_header header;
            int status = 0;

            memcpy(&header, record, sizeof(header));
            if (header.size < sizeof(header) || header.size % 8 != 0 || header.size > head - tail) {
                result = bad_record(cpu, tail, header.type, header.size);
                goto out;
            }
            if (header.type == PERF_RECORD_SAMPLE) {
                uint32_t raw_size;
                if (header.size < SAMPLE_OVERHEAD) {
                    result = bad_record(cpu, tail, header.type, header.size);
                    goto out;
                }
                memcpy(&raw_size, record + sizeof(header), sizeof(raw_size));
                if (raw_size > header.size - SAMPLE_OVERHEAD) {
                    result = bad_record(cpu, tail, header.type, header.size);
                    goto out;
                }
                tail += header.size;
                status = sample_callback(context, cpu, record + SAMPLE_OVERHEAD, raw_size);
                count++;
            } else if (header.type == PERF_RECORD_LOST) {
                perf_lost_record_t lost;
                if (header.size < LOST_RECORD_SIZE) {
                    result = bad_record(cpu, tail, header.type, header.size);
                    goto out;
                }
                memcpy(&lost, record, sizeof(lost));
                tail += header.size;
                if (lost_callback != NULL)
                    status = lost_callback(context, cpu, lost.lost);
                count++;
            } else {
                /* A record type this engine does not write: skip it, as perf readers do. */
                tail += header.size;
            }
            if (status != 0) {
                result = status;
                goto out;
            }
            if (tail - published >= publish_every) {
                atomic_store_explicit(ring->tail, tail, memory_order_release);
                published = tail;
            }
        }
    }
out:
    if (tail != published)
        atomic_store_explicit(ring->tail, tail, memory_order_release);
    return result != 0 ? result : count;
}

/* After waiting = 1 and the heavy fence: true (and waiting back to 0) when data is there. */
static bool ready_after_announcing(perf_ring_t *ring)
{
    uint64_t tail = atomic_load_explicit(ring->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(ring->head, EBPF_FENCED_ORDER(memory_order_acquire));
    if (head == tail)
        return false;
    atomic_store_explicit(ring->waiting, 0, memory_order_relaxed);
    return true;
}

/* The consumer's side of the fence. Producers are threads of this process, which
 * membarrier(PRIVATE_EXPEDITED) always reaches once registered; it cannot fail then. */
static void heavy_fence(const ebpf_perf_event_array_t *array)
{
    if (ebpf_fence_heavy(array->asymmetric_wakeup) != 0) {
        ebpf_log(EBPF_LOG_ERROR, "perf event array: %s", ebpf_last_error());
        abort(); /* a lost wake-up would hang the consumer silently */
    }
}

bool ebpf_perf_event_array_wait_prepare(ebpf_perf_event_array_t *array, uint32_t cpu)
{
    perf_ring_t *ring;

    if (cpu >= array->cpu_count)
        return true; /* nothing to sleep for: let the caller's consume report the bad index */
    ring = &array->rings[cpu];
    /* Store, heavy fence, loads: see the wake-up protocol above. */
    atomic_store_explicit(ring->waiting, 1, EBPF_FENCED_ORDER(memory_order_relaxed));
    heavy_fence(array);
    return ready_after_announcing(ring);
}

bool ebpf_perf_event_array_wait_prepare_all(ebpf_perf_event_array_t *array)
{
    bool ready = false;

    for (uint32_t cpu = 0; cpu < array->cpu_count; cpu++)
        atomic_store_explicit(array->rings[cpu].waiting, 1,
                              EBPF_FENCED_ORDER(memory_order_relaxed));
    heavy_fence(array); /* one for every index */
    for (uint32_t cpu = 0; cpu < array->cpu_count; cpu++) {
        if (ready_after_announcing(&array->rings[cpu]))
            ready = true;
    }
    return ready;
}

bool ebpf_perf_event_array_has_data(const ebpf_perf_event_array_t *array)
{
    for (uint32_t cpu = 0; cpu < array->cpu_count; cpu++) {
        const perf_ring_t *ring = &array->rings[cpu];
        if (atomic_load_explicit(ring->head, memory_order_acquire) !=
            atomic_load_explicit(ring->tail, memory_order_relaxed))
            return true;
    }
    return false;
}

void ebpf_perf_event_array_wait_finish(ebpf_perf_event_array_t *array, uint32_t cpu)
{
    uint64_t count;
    if (cpu >= array->cpu_count)
        return;
    atomic_store_explicit(array->rings[cpu].waiting, 0, memory_order_relaxed);
    /* Non-blocking: EAGAIN when nobody wrote. */
    if (read(array->rings[cpu].wakeup_fd, &count, sizeof(count)) < 0) {
    }
}
