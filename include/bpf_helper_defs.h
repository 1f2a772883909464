/* Helper ids, map types and helper declarations seen by BPF programs (Linux UAPI numbering). */
#ifndef BPF_HELPER_DEFS_H
#define BPF_HELPER_DEFS_H

/* The numbers live in X-macro lists so that host code (the tests) can check every one against
 * <linux/bpf.h> without including the declarations, which only make sense for a BPF target. */

/* Linux helper ids: X(name, id) with name as in enum bpf_func_id without BPF_FUNC_. */
#define EBPF_LINUX_HELPER_IDS(X)                                                                   \
    X(map_lookup_elem, 1)                                                                          \
    X(map_update_elem, 2)                                                                          \
    X(map_delete_elem, 3)                                                                          \
    X(ktime_get_ns, 5)                                                                             \
    X(trace_printk, 6)                                                                             \
    X(get_prandom_u32, 7)                                                                          \
    X(get_smp_processor_id, 8)                                                                     \
    X(tail_call, 12)                                                                               \
    X(get_current_pid_tgid, 14)                                                                    \
    X(perf_event_output, 25)                                                                       \
    X(csum_diff, 28)                                                                               \
    X(map_push_elem, 87)                                                                           \
    X(map_pop_elem, 88)                                                                            \
    X(map_peek_elem, 89)                                                                           \
    X(ktime_get_boot_ns, 125)                                                                      \
    X(ringbuf_output, 130)                                                                         \
    X(ringbuf_reserve, 131)                                                                        \
    X(ringbuf_submit, 132)                                                                         \
    X(ringbuf_discard, 133)                                                                        \
    X(ringbuf_query, 134)

/* Program-type-neutral helpers of eBPF for Windows, placed at EBPF_GENERAL_EXTRA_HELPER_BASE
 * (0xF000, include/ebpf_helper_prototype.h) so they never meet a Linux id. */
#define EBPF_GENERAL_EXTRA_HELPER_IDS(X)                                                           \
    X(memcpy, 0xF000)                                                                              \
    X(memset, 0xF001)                                                                              \
    X(memcmp, 0xF002)                                                                              \
    X(memmove, 0xF003)

/* Linux map types: X(name, value) with name as in enum bpf_map_type without BPF_MAP_TYPE_. */
#define EBPF_LINUX_MAP_TYPES(X)                                                                    \
    X(UNSPEC, 0)                                                                                   \
    X(HASH, 1)                                                                                     \
    X(ARRAY, 2)                                                                                    \
    X(PROG_ARRAY, 3)                                                                               \
    X(PERF_EVENT_ARRAY, 4)                                                                         \
    X(PERCPU_HASH, 5)                                                                              \
    X(PERCPU_ARRAY, 6)                                                                             \
    X(STACK_TRACE, 7)                                                                              \
    X(CGROUP_ARRAY, 8)                                                                             \
    X(LRU_HASH, 9)                                                                                 \
    X(LRU_PERCPU_HASH, 10)                                                                         \
    X(LPM_TRIE, 11)                                                                                \
    X(ARRAY_OF_MAPS, 12)                                                                           \
    X(HASH_OF_MAPS, 13)                                                                            \
    X(DEVMAP, 14)                                                                                  \
    X(SOCKMAP, 15)                                                                                 \
    X(CPUMAP, 16)                                                                                  \
    X(XSKMAP, 17)                                                                                  \
    X(SOCKHASH, 18)                                                                                \
    X(CGROUP_STORAGE, 19)                                                                          \
    X(REUSEPORT_SOCKARRAY, 20)                                                                     \
    X(PERCPU_CGROUP_STORAGE, 21)                                                                   \
    X(QUEUE, 22)                                                                                   \
    X(STACK, 23)                                                                                   \
    X(SK_STORAGE, 24)                                                                              \
    X(DEVMAP_HASH, 25)                                                                             \
    X(STRUCT_OPS, 26)                                                                              \
    X(RINGBUF, 27)                                                                                 \
    X(INODE_STORAGE, 28)                                                                           \
    X(TASK_STORAGE, 29)                                                                            \
    X(BLOOM_FILTER, 30)                                                                            \
    X(USER_RINGBUF, 31)

/* Flags and constants of the map and ring buffer helpers: X(name, value). */
#define EBPF_LINUX_HELPER_FLAGS(X)                                                                 \
    X(BPF_ANY, 0)                                                                                  \
    X(BPF_NOEXIST, 1)                                                                              \
    X(BPF_EXIST, 2)                                                                                \
    X(BPF_F_LOCK, 4)                                                                               \
    X(BPF_F_NO_PREALLOC, 1)                                                                        \
    X(BPF_F_NO_COMMON_LRU, 2)                                                                      \
    X(BPF_F_NUMA_NODE, 4)                                                                          \
    X(BPF_F_RDONLY, 8)                                                                             \
    X(BPF_F_WRONLY, 16)                                                                            \
    X(BPF_F_ZERO_SEED, 64)                                                                         \
    X(BPF_F_RDONLY_PROG, 128)                                                                      \
    X(BPF_F_WRONLY_PROG, 256)                                                                      \
    X(BPF_F_MMAPABLE, 1024)                                                                        \
    X(BPF_F_INNER_MAP, 4096)                                                                       \
    X(BPF_RB_NO_WAKEUP, 1)                                                                         \
    X(BPF_RB_FORCE_WAKEUP, 2)                                                                      \
    X(BPF_RB_AVAIL_DATA, 0)                                                                        \
    X(BPF_RB_RING_SIZE, 1)                                                                         \
    X(BPF_RB_CONS_POS, 2)                                                                          \
    X(BPF_RB_PROD_POS, 3)

#ifndef BPF_HELPER_DEFS_IDS_ONLY

/* A program that includes <linux/bpf.h> first gets these names from there; defining them again
 * would be a redeclaration. */
#ifndef __LINUX_BPF_H__
#define EBPF_HELPER_ID_ENUMERATOR(name, id) BPF_FUNC_##name = id,
enum bpf_func_id { EBPF_LINUX_HELPER_IDS(EBPF_HELPER_ID_ENUMERATOR) };
#undef EBPF_HELPER_ID_ENUMERATOR

#define EBPF_MAP_TYPE_ENUMERATOR(name, value) BPF_MAP_TYPE_##name = value,
enum bpf_map_type { EBPF_LINUX_MAP_TYPES(EBPF_MAP_TYPE_ENUMERATOR) };
#undef EBPF_MAP_TYPE_ENUMERATOR

#define EBPF_FLAG_ENUMERATOR(name, value) name = value,
enum { EBPF_LINUX_HELPER_FLAGS(EBPF_FLAG_ENUMERATOR) };
#undef EBPF_FLAG_ENUMERATOR

/* Wider than an int, so macros rather than enumerators. */
#define BPF_F_INDEX_MASK  0xffffffffULL
#define BPF_F_CURRENT_CPU BPF_F_INDEX_MASK
#endif /* __LINUX_BPF_H__ */

#define EBPF_EXTRA_HELPER_ID_ENUMERATOR(name, id) EBPF_FUNC_##name = id,
enum ebpf_general_extra_helper_id {
    EBPF_GENERAL_EXTRA_HELPER_IDS(EBPF_EXTRA_HELPER_ID_ENUMERATOR)
};
#undef EBPF_EXTRA_HELPER_ID_ENUMERATOR

/* A helper is called through a constant "pointer" whose value is its id: clang turns the call
 * into `call id`, which is what the loader and verifier expect. */

/* Returns the value stored under key, or NULL. */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
/* flags: BPF_ANY, BPF_NOEXIST or BPF_EXIST. */
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value,
                                   __u64 flags) = (void *)BPF_FUNC_map_update_elem;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_delete_elem;
/* Queue and stack maps; flags BPF_EXIST replaces the oldest element when full. */
static long (*bpf_map_push_elem)(void *map, const void *value,
                                 __u64 flags) = (void *)BPF_FUNC_map_push_elem;
static long (*bpf_map_pop_elem)(void *map, void *value) = (void *)BPF_FUNC_map_pop_elem;
static long (*bpf_map_peek_elem)(void *map, void *value) = (void *)BPF_FUNC_map_peek_elem;
/* Does not return on success: execution continues in the program at index of the prog array. */
static long (*bpf_tail_call)(void *ctx, void *prog_array_map,
                             __u32 index) = (void *)BPF_FUNC_tail_call;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)BPF_FUNC_ktime_get_ns;
/* Like bpf_ktime_get_ns, but counts time spent in suspend. */
static __u64 (*bpf_ktime_get_boot_ns)(void) = (void *)BPF_FUNC_ktime_get_boot_ns;
static __u32 (*bpf_get_prandom_u32)(void) = (void *)BPF_FUNC_get_prandom_u32;
static __u32 (*bpf_get_smp_processor_id)(void) = (void *)BPF_FUNC_get_smp_processor_id;
/* tgid in the upper 32 bits, pid in the lower. */
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)BPF_FUNC_get_current_pid_tgid;
/* At most three arguments after fmt; prefer the bpf_printk macro. */
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size,
                                ...) = (void *)BPF_FUNC_trace_printk;
/* flags: BPF_F_CURRENT_CPU or a CPU index of the perf event array. */
static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data,
                                     __u64 size) = (void *)BPF_FUNC_perf_event_output;
/* Copies size bytes into a new ring buffer record; flags: BPF_RB_NO_WAKEUP or
 * BPF_RB_FORCE_WAKEUP. */
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size,
                                  __u64 flags) = (void *)BPF_FUNC_ringbuf_output;
/* A record of size bytes to fill and then submit or discard, or NULL when the ring is full. */
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size,
                                    __u64 flags) = (void *)BPF_FUNC_ringbuf_reserve;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)BPF_FUNC_ringbuf_submit;
static void (*bpf_ringbuf_discard)(void *data, __u64 flags) = (void *)BPF_FUNC_ringbuf_discard;
/* flags: BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS or BPF_RB_PROD_POS. */
static __u64 (*bpf_ringbuf_query)(void *ringbuf, __u64 flags) = (void *)BPF_FUNC_ringbuf_query;
/* Checksum difference of to minus from (sizes in bytes, multiples of 4), added to seed. */
static __s64 (*bpf_csum_diff)(__be32 *from, __u32 from_size, __be32 *to, __u32 to_size,
                              __wsum seed) = (void *)BPF_FUNC_csum_diff;

/* eBPF for Windows memory helpers: sizes are given for both sides so the helper can refuse an
 * overflow instead of trusting the program. */
static void *(*bpf_memcpy)(void *destination, __u32 destination_size, const void *source,
                           __u32 source_size) = (void *)EBPF_FUNC_memcpy;
static void *(*bpf_memset)(void *memory, __u32 size, int value) = (void *)EBPF_FUNC_memset;
static int (*bpf_memcmp)(const void *memory1, __u32 memory1_size, const void *memory2,
                         __u32 memory2_size) = (void *)EBPF_FUNC_memcmp;
static void *(*bpf_memmove)(void *destination, __u32 destination_size, const void *source,
                            __u32 source_size) = (void *)EBPF_FUNC_memmove;

#endif /* BPF_HELPER_DEFS_IDS_ONLY */

#endif /* BPF_HELPER_DEFS_H */
