/* Perf event array engine: one Linux-format perf ring per CPU index, in shared memory. */
#ifndef EBPF_PERF_EVENT_ARRAY_H
#define EBPF_PERF_EVENT_ARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest cpu_count an array accepts (each CPU index costs a memfd and an eventfd). */
#define EBPF_PERF_EVENT_ARRAY_MAX_CPUS 4096u
/* Consumer-waiting word (u32) in page 0 of each CPU's shared memory, after the
 * struct perf_event_mmap_page (see ebpf_perf_event_array_wait_prepare). */
#define EBPF_PERF_EVENT_ARRAY_WAITING_OFFSET 2048u

/* Shared-memory layout of each CPU index (the Linux perf mmap layout): page 0 is a
 * struct perf_event_mmap_page whose data_head (producer) and data_tail (consumer) are the
 * positions, data_offset is the page size and data_size the data area's size; the data area
 * follows, mapped twice back to back so every record is contiguous. Records are
 * struct perf_event_header {u32 type; u16 misc; u16 size} followed by:
 *   PERF_RECORD_SAMPLE: u32 size, then size bytes of raw data (size is the data's length
 *     rounded so that the record is a multiple of 8, padding zeroed, as Linux);
 *   PERF_RECORD_LOST: u64 id (the CPU index), u64 lost (samples dropped since the previous
 *     lost record), written before the next sample once space returns. */

typedef struct ebpf_perf_event_array ebpf_perf_event_array_t;

/* cpu_count: 1 .. EBPF_PERF_EVENT_ARRAY_MAX_CPUS; per_cpu_data_size: power of two, multiple of
 * the page size. */
int ebpf_perf_event_array_create(uint32_t cpu_count, uint32_t per_cpu_data_size,
                                 ebpf_perf_event_array_t **array);
void ebpf_perf_event_array_destroy(ebpf_perf_event_array_t *array);
uint32_t ebpf_perf_event_array_cpu_count(const ebpf_perf_event_array_t *array);
uint32_t ebpf_perf_event_array_data_size(const ebpf_perf_event_array_t *array);

/* Producer side (any thread; never allocates; a per-CPU spinlock serialises writers of one
 * index, uncontended when they hold the index through ebpf_cpu_enter).
 * flags: the CPU index in BPF_F_INDEX_MASK, or BPF_F_CURRENT_CPU (the index claimed with
 * ebpf_cpu_enter, else ebpf_cpu_current()). 0, -EINVAL for other flag bits or a size that can
 * never fit, -E2BIG for an index >= cpu_count, -ENOSPC when that CPU's ring is full (counted
 * as lost and reported to the consumer by a PERF_RECORD_LOST). */
int ebpf_perf_event_array_output(ebpf_perf_event_array_t *array, uint64_t flags, const void *data,
                                 uint64_t size);
/* Samples dropped on one CPU index since creation (0 for a bad index), and on all of them. */
uint64_t ebpf_perf_event_array_lost(const ebpf_perf_event_array_t *array, uint32_t cpu);
uint64_t ebpf_perf_event_array_lost_total(const ebpf_perf_event_array_t *array);
/* true when [p, p+n) lies inside one CPU's data area (mapped twice). */
bool ebpf_perf_event_array_contains(const ebpf_perf_event_array_t *array, const void *p, size_t n);

/* Per CPU index: the memfd of its shared memory and its own eventfd (non-blocking), readable
 * after a producer woke the consumer (one eventfd per CPU, so epoll tells which CPU has data).
 * -EINVAL for a bad index. The array owns both. */
int ebpf_perf_event_array_memory_fd(const ebpf_perf_event_array_t *array, uint32_t cpu);
int ebpf_perf_event_array_wakeup_fd(const ebpf_perf_event_array_t *array, uint32_t cpu);

typedef int (*ebpf_perf_event_sample_callback_t)(void *context, uint32_t cpu, void *data,
                                                 uint32_t size);
typedef int (*ebpf_perf_event_lost_callback_t)(void *context, uint32_t cpu, uint64_t lost);

/* Consumer side (one consumer per CPU index at a time). Calls sample_callback for each sample
 * and lost_callback (may be NULL) for each lost record of that CPU, in order, stopping early
 * when one returns non-zero (that value is returned; that record counts as consumed);
 * otherwise returns the number of records consumed. -EINVAL for a bad index, -EBADMSG when the
 * shared memory holds a record no producer wrote. */
int ebpf_perf_event_array_consume(ebpf_perf_event_array_t *array, uint32_t cpu,
                                  ebpf_perf_event_sample_callback_t sample_callback,
                                  ebpf_perf_event_lost_callback_t lost_callback, void *context);
/* Sleeping consumer protocol, per CPU index, as ebpf_ring_buffer_wait_prepare: true when data
 * is already there (do not sleep); otherwise sleep on the wakeup fd, then call wait_finish. A
 * producer signals only a CPU index whose consumer announced it is going to sleep. */
bool ebpf_perf_event_array_wait_prepare(ebpf_perf_event_array_t *array, uint32_t cpu);
/* wait_prepare for every CPU index at once (one fence for all): true when one has data. */
bool ebpf_perf_event_array_wait_prepare_all(ebpf_perf_event_array_t *array);
/* true when some CPU index holds unconsumed records (loads only: for a consumer's spin). */
bool ebpf_perf_event_array_has_data(const ebpf_perf_event_array_t *array);
void ebpf_perf_event_array_wait_finish(ebpf_perf_event_array_t *array, uint32_t cpu);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_PERF_EVENT_ARRAY_H */
