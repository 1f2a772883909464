/* Maps: the key/value stores programs and user space share, with the semantics of Linux. */
#ifndef EBPF_MAP_H
#define EBPF_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "perf_event_array.h"
#include "ring_buffer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors are those of the bpf(2) syscall and helpers, as negative errno values. Where Linux
 * returns its kernel-internal ENOTSUPP (524) for an operation a map type does not have, these
 * functions return -EOPNOTSUPP (== -ENOTSUP), the user-space value. */

typedef struct ebpf_map ebpf_map_t;

typedef struct ebpf_map_definition {
    uint32_t type; /* enum bpf_map_type */
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
    uint32_t map_flags; /* BPF_F_* of BPF_MAP_CREATE */
    /* Map-in-map only (Linux's inner_map_fd): the definition every inner map must match. To
     * use an existing map as the template, pass ebpf_map_get_definition(inner). Copied at
     * creation; NULL for every other type. */
    const struct ebpf_map_definition *inner_map;
} ebpf_map_definition_t;

/* Creates a map after checking the definition as Linux does (-EINVAL for a wrong size, flag
 * or type, -E2BIG for sizes beyond the limits, -ENOMEM). name: NULL or up to
 * BPF_OBJ_NAME_LEN - 1 characters of [A-Za-z0-9_.]. The new map holds one reference. */
int ebpf_map_create(const ebpf_map_definition_t *definition, const char *name, ebpf_map_t **map);
/* References: programs, user-space fds, map-in-map slots and pins each hold one. The last
 * release frees the map after an epoch grace period, so programs still inside a read section
 * keep valid value pointers. */
void ebpf_map_acquire(ebpf_map_t *map);
void ebpf_map_release(ebpf_map_t *map);

/* Process-wide, increasing from 1, never reused. */
uint32_t ebpf_map_get_id(const ebpf_map_t *map);
const char *ebpf_map_get_name(const ebpf_map_t *map);
/* inner_map points into the map (the copied template) for map-in-map, else NULL. */
const ebpf_map_definition_t *ebpf_map_get_definition(const ebpf_map_t *map);
/* Bytes of a value as user space reads and writes it: value_size, or for per-CPU maps one
 * value per CPU (ebpf_cpu_count()), each rounded up to 8 bytes, as Linux. */
uint32_t ebpf_map_user_value_size(const ebpf_map_t *map);

/* ------------------------------------------------------------------------------------------
 * Program side: what helpers call. The caller is inside ebpf_epoch_enter (a program run) and,
 * for per-CPU maps, inside ebpf_cpu_enter (outside it per-CPU lookups return NULL and updates
 * -EINVAL). Never blocks on the epoch; preallocated maps never allocate. No error message is
 * recorded (these are helper results on the event path, not failures).
 * ------------------------------------------------------------------------------------------ */

/* Pointer to the value (per-CPU maps: the claimed CPU's slot; LPM trie: longest prefix
 * match; map-in-map: the inner ebpf_map_t *), valid until the caller's read section ends even
 * if the element is deleted meanwhile. NULL when absent or for types programs cannot look up
 * (queue, stack, ring buffer, perf event array, prog_array). */
void *ebpf_map_lookup_program(ebpf_map_t *map, const void *key);
/* flags: BPF_ANY, BPF_NOEXIST (-EEXIST when present), BPF_EXIST (-ENOENT when absent);
 * BPF_F_LOCK is -EINVAL (no map value holds a bpf_spin_lock). -E2BIG when full (arrays: index
 * out of range), -EPERM on a BPF_F_RDONLY_PROG map, -EINVAL for map-in-map and prog_array
 * (programs cannot change them). */
int ebpf_map_update_program(ebpf_map_t *map, const void *key, const void *value, uint64_t flags);
int ebpf_map_delete_program(ebpf_map_t *map, const void *key);
/* Queue and stack. push: flags BPF_ANY (-E2BIG when full) or BPF_EXIST (a full map drops its
 * oldest value). pop / peek: -ENOENT when empty. Other types: -EOPNOTSUPP. */
int ebpf_map_push(ebpf_map_t *map, const void *value, uint64_t flags);
int ebpf_map_pop(ebpf_map_t *map, void *value);
int ebpf_map_peek(ebpf_map_t *map, void *value);
/* prog_array: the program handle at index (for bpf_tail_call), NULL when empty, out of range
 * or not a prog_array. Valid until the caller's read section ends. */
void *ebpf_map_get_program(ebpf_map_t *map, uint32_t index);

/* ------------------------------------------------------------------------------------------
 * User side: what the bpf(2)-like user API calls. Values are copied. The caller must not be
 * inside an epoch read section (a preallocated hash map whose free elements all wait for a
 * grace period waits for it here). Failures record a message (ebpf_last_error).
 * ------------------------------------------------------------------------------------------ */

/* flags must be 0 (BPF_F_LOCK: -EINVAL). Per-CPU maps copy every CPU's value
 * (ebpf_map_user_value_size bytes). Queue / stack: peek (key NULL). prog_array and map-in-map
 * give the u32 id of the program or map in the slot. -EPERM on a BPF_F_WRONLY map. */
int ebpf_map_lookup_user(ebpf_map_t *map, const void *key, void *value, uint64_t flags);
/* As ebpf_map_update_program but per-CPU maps take every CPU's value. Queue / stack: push.
 * prog_array and map-in-map: the value is a u32 fd resolved through the registered
 * ebpf_map_fd_resolver_t (flags must be BPF_ANY for arrays). -EPERM on a frozen or BPF_F_RDONLY
 * map. */
int ebpf_map_update_user(ebpf_map_t *map, const void *key, const void *value, uint64_t flags);
int ebpf_map_delete_user(ebpf_map_t *map, const void *key);
/* Linux iteration: key NULL or absent gives the first key; the last key gives -ENOENT. */
int ebpf_map_get_next_key(ebpf_map_t *map, const void *key, void *next_key);
/* Hash maps (all four kinds): copy out and delete; queue / stack: pop (key NULL, flags 0).
 * Other types: -EOPNOTSUPP. */
int ebpf_map_lookup_and_delete_user(ebpf_map_t *map, const void *key, void *value, uint64_t flags);
/* prog_array (object: a program handle) and map-in-map (object: an ebpf_map_t * matching the
 * inner template, else -EINVAL): stores the object, taking a reference of its own. What
 * ebpf_map_update_user does after resolving an fd. */
int ebpf_map_update_object(ebpf_map_t *map, const void *key, void *object, uint64_t flags);
/* BPF_MAP_FREEZE: user space can no longer write the map (-EPERM); -EBUSY when frozen
 * already. Programs are unaffected (BPF_F_RDONLY_PROG is what makes .rodata constant). */
int ebpf_map_freeze(ebpf_map_t *map);
bool ebpf_map_is_frozen(const ebpf_map_t *map);

/* ------------------------------------------------------------------------------------------
 * Objects held by maps. The core registers how programs are referenced; the user API
 * registers how fds written by user space become programs and maps. Both are process-wide,
 * set once at start-up (before the first prog_array or map-in-map update), and the structs
 * must outlive every map.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_map_program_ops {
    void (*acquire)(void *program);
    /* Called after a grace period when a slot lets go of the program. */
    void (*release)(void *program);
    /* The id a user-side lookup of a prog_array slot returns. */
    uint32_t (*get_id)(const void *program);
} ebpf_map_program_ops_t;

typedef struct ebpf_map_fd_resolver {
    /* Each returns 0 and a referenced object, which the caller (the map) releases after
     * storing it with a reference of its own, or a negative errno (-EBADF). */
    int (*program_from_fd)(void *context, int fd, void **program);
    int (*map_from_fd)(void *context, int fd, ebpf_map_t **map);
    void *context;
} ebpf_map_fd_resolver_t;

void ebpf_map_set_program_ops(const ebpf_map_program_ops_t *ops);
void ebpf_map_set_fd_resolver(const ebpf_map_fd_resolver_t *resolver);

/* Drops every program a prog_array holds (Linux does it when the last user-space reference
 * goes), so a program and a prog_array holding it cannot keep each other alive. */
void ebpf_map_release_programs(ebpf_map_t *map);

/* ------------------------------------------------------------------------------------------
 * Memory access for the execution engines.
 * ------------------------------------------------------------------------------------------ */

/* true when [p, p + n) lies inside one value of this map (any CPU's slot of a per-CPU map) or
 * inside a ring buffer map's data area (reserved records). write: false for
 * BPF_F_RDONLY_PROG maps. Lock-free; callable from any thread. */
bool ebpf_map_owns_memory(const ebpf_map_t *map, const void *p, size_t n, bool write);
/* Direct value access (ld_imm64 BPF_PSEUDO_MAP_VALUE, global data): the value at index of a
 * BPF_MAP_TYPE_ARRAY, or NULL for another type or an index out of range. */
void *ebpf_map_array_value_address(ebpf_map_t *map, uint32_t index);
/* Where a BPF_MAP_TYPE_ARRAY or PERCPU_ARRAY keeps its values, fixed for the map's life: the
 * value at index i of CPU index c is at base + c * cpu_stride + i * value_stride, for
 * i < max_entries and c < cpu_count (1, and cpu_stride 0, for a plain array). For hot paths
 * that need no lookup per access: an extension's own per-CPU counters (under its CPU claim),
 * native code's inlined array lookups. -EINVAL for another type. */
typedef struct ebpf_array_layout {
    uint8_t *base;
    uint64_t cpu_stride;
    uint64_t value_stride;
    uint32_t cpu_count;
    uint32_t max_entries;
} ebpf_array_layout_t;
int ebpf_map_array_layout(const ebpf_map_t *map, ebpf_array_layout_t *layout);

/* Ring engines behind BPF_MAP_TYPE_RINGBUF and BPF_MAP_TYPE_PERF_EVENT_ARRAY (NULL for other
 * types). The ring buffer exists from creation. The perf event array's per-CPU rings exist
 * once user space opened them (perf_buffer__new): until then output is -ENOENT, as Linux
 * with no perf event in the slot. */
ebpf_ring_buffer_t *ebpf_map_get_ring_buffer(const ebpf_map_t *map);
ebpf_perf_event_array_t *ebpf_map_get_perf_event_array(const ebpf_map_t *map);
/* Creates the per-CPU rings (max_entries CPU indexes of per_cpu_data_size bytes: a power of
 * two, multiple of the page size) on the first call; later calls return the same engine
 * whatever the size. The engine lives as long as the map. */
int ebpf_map_open_perf_event_array(ebpf_map_t *map, uint32_t per_cpu_data_size,
                                   ebpf_perf_event_array_t **array);
/* bpf_perf_event_output: -ENOENT before the rings are opened, else as
 * ebpf_perf_event_array_output; -EINVAL for another map type. */
int ebpf_map_perf_event_output(ebpf_map_t *map, uint64_t flags, const void *data, uint64_t size);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_MAP_H */
