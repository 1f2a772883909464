/* bench_maps: netevent_monitor programs that each do BENCH_MAP_OPS map or ring buffer operations
 * per run, so test-run's per-run overhead (measured by BenchEmpty) divides out. */
#include "bpf_helpers.h"
#include "ebpf_netevent_hooks.h"
#include "bench_maps.h"

#define DEFINE_MAP(name, map_type, entries)                                                        \
    struct {                                                                                       \
        __uint(type, map_type);                                                                    \
        __type(key, uint32_t);                                                                     \
        __type(value, uint64_t);                                                                   \
        __uint(max_entries, entries);                                                              \
    } name SEC(".maps")

DEFINE_MAP(bench_array, BPF_MAP_TYPE_ARRAY, BENCH_MAP_ENTRIES);
DEFINE_MAP(bench_hash, BPF_MAP_TYPE_HASH, BENCH_MAP_ENTRIES);
DEFINE_MAP(bench_lru_hash, BPF_MAP_TYPE_LRU_HASH, BENCH_MAP_ENTRIES);
DEFINE_MAP(bench_percpu_array, BPF_MAP_TYPE_PERCPU_ARRAY, BENCH_MAP_ENTRIES);
DEFINE_MAP(bench_percpu_hash, BPF_MAP_TYPE_PERCPU_HASH, BENCH_MAP_ENTRIES);

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, BENCH_RING_SIZE);
} bench_ring SEC(".maps");

/* Keys spread over the filled half of the map (user space fills it), so lookups hit. */
#define KEY(i) (((i)*97u + 13u) % (BENCH_MAP_ENTRIES / 2))

/* Lookups feed a sum the program returns, so the compiler keeps every one. */
#define LOOKUP_PROGRAM(function, map)                                                              \
    SEC("netevent_monitor")                                                                        \
    int function(netevent_event_md_t *ctx)                                                         \
    {                                                                                              \
        uint64_t sum = 0;                                                                          \
        _Pragma("unroll") for (uint32_t i = 0; i < BENCH_MAP_OPS; i++)                             \
        {                                                                                          \
            uint32_t key = KEY(i);                                                                 \
            uint64_t *value = bpf_map_lookup_elem(&map, &key);                                     \
            if (value != NULL)                                                                     \
                sum += *value;                                                                     \
        }                                                                                          \
        return (int)sum;                                                                           \
    }

#define UPDATE_PROGRAM(function, map)                                                              \
    SEC("netevent_monitor")                                                                        \
    int function(netevent_event_md_t *ctx)                                                         \
    {                                                                                              \
        int failures = 0;                                                                          \
        _Pragma("unroll") for (uint32_t i = 0; i < BENCH_MAP_OPS; i++)                             \
        {                                                                                          \
            uint32_t key = KEY(i);                                                                 \
            uint64_t value = i;                                                                    \
            if (bpf_map_update_elem(&map, &key, &value, BPF_ANY) != 0)                             \
                failures++;                                                                        \
        }                                                                                          \
        return failures;                                                                           \
    }

LOOKUP_PROGRAM(ArrayLookup, bench_array)
UPDATE_PROGRAM(ArrayUpdate, bench_array)
LOOKUP_PROGRAM(HashLookup, bench_hash)
UPDATE_PROGRAM(HashUpdate, bench_hash)
LOOKUP_PROGRAM(LruHashLookup, bench_lru_hash)
UPDATE_PROGRAM(LruHashUpdate, bench_lru_hash)
LOOKUP_PROGRAM(PercpuArrayLookup, bench_percpu_array)
UPDATE_PROGRAM(PercpuArrayUpdate, bench_percpu_array)
LOOKUP_PROGRAM(PercpuHashLookup, bench_percpu_hash)
UPDATE_PROGRAM(PercpuHashUpdate, bench_percpu_hash)

SEC("netevent_monitor")
int RingbufOutput(netevent_event_md_t *ctx)
{
    uint64_t record[BENCH_RING_RECORD_SIZE / 8] = {0};
    int failures = 0;
#pragma unroll
    for (uint32_t i = 0; i < BENCH_MAP_OPS; i++) {
        record[0] = i;
        if (bpf_ringbuf_output(&bench_ring, record, sizeof(record), 0) != 0)
            failures++;
    }
    return failures;
}

SEC("netevent_monitor")
int RingbufReserveSubmit(netevent_event_md_t *ctx)
{
    int failures = 0;
#pragma unroll
    for (uint32_t i = 0; i < BENCH_MAP_OPS; i++) {
        uint64_t *record = bpf_ringbuf_reserve(&bench_ring, BENCH_RING_RECORD_SIZE, 0);
        if (record == NULL) {
            failures++;
            continue;
        }
        record[0] = i;
        record[1] = 0;
        bpf_ringbuf_submit(record, 0);
    }
    return failures;
}

/* The baseline: what test-run costs per run with no operation. */
SEC("netevent_monitor")
int BenchEmpty(netevent_event_md_t *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "MIT";
