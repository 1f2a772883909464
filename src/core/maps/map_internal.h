/* Private contract between the generic map layer (map.c) and each map type's implementation. */
#ifndef EBPF_MAP_INTERNAL_H
#define EBPF_MAP_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>

#include "ebpf_map.h"
#include "ebpf_platform.h"

/* Linux limits the checks reproduce (x86-64, 4 KiB pages). */
#define EBPF_MAP_KMALLOC_MAX      (1u << 22)  /* KMALLOC_MAX_SIZE */
#define EBPF_MAP_PERCPU_VALUE_MAX (32u << 10) /* PCPU_MIN_UNIT_SIZE */
#define EBPF_MAP_STACK_MAX        512u        /* MAX_BPF_STACK: keys live on the stack */
/* Beyond this, a map's memory is an absurd request rather than a shortage: -E2BIG. */
#define EBPF_MAP_MEMORY_MAX (1ull << 34)

/* Flags every type accepts when its mask includes them. */
#define EBPF_MAP_ACCESS_FLAGS (BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)

#define EBPF_ROUND_UP_8(x) ((((uint64_t)(x)) + 7u) & ~(uint64_t)7u)
#define EBPF_CONTAINER_OF(pointer, type, member)                                                   \
    ((type *)(void *)((char *)(pointer)-offsetof(type, member)))

struct ebpf_map {
    ebpf_map_definition_t definition; /* inner_map points at inner_definition or is NULL */
    ebpf_map_definition_t inner_definition;
    const struct ebpf_map_ops *ops;
    /* Holders of the map; the one that drops it to 0 schedules the free. */
    _Atomic uint64_t references;
    /* 1 for the map's own life plus 1 per deferred callback that still touches the map's
     * memory; whoever drops it to 0 destroys the map. */
    _Atomic uint64_t pending_callbacks;
    ebpf_epoch_work_t release_work;
    /* Set once by ebpf_map_freeze; read by user-side writers. */
    _Atomic bool frozen;
    uint32_t id;
    char name[BPF_OBJ_NAME_LEN];
};

/* One per map type. A NULL operation means the type does not have it: the dispatcher answers
 * NULL (lookup) or -EOPNOTSUPP. Flags have been checked against BPF_ANY / NOEXIST / EXIST and
 * BPF_F_LOCK before update_program / update_user run. */
typedef struct ebpf_map_ops {
    /* Type-specific checks of a definition (after the generic ones); name is for messages. */
    int (*check)(const ebpf_map_definition_t *definition, const char *name);
    /* Allocates the type's structure, whose first member is the ebpf_map_t. */
    int (*create)(const ebpf_map_definition_t *definition, const char *name, ebpf_map_t **map);
    /* Frees everything; no reader and no deferred callback of the map remains. */
    void (*destroy)(ebpf_map_t *map);

    void *(*lookup_program)(ebpf_map_t *map, const void *key);
    int (*update_program)(ebpf_map_t *map, const void *key, const void *value, uint64_t flags);
    int (*delete_program)(ebpf_map_t *map, const void *key);
    int (*push)(ebpf_map_t *map, const void *value, uint64_t flags);
    int (*pop)(ebpf_map_t *map, void *value);
    int (*peek)(ebpf_map_t *map, void *value);
    void *(*get_program)(ebpf_map_t *map, uint32_t index);

    /* User side: called outside read sections; they record their own error messages. */
    int (*lookup_user)(ebpf_map_t *map, const void *key, void *value);
    int (*update_user)(ebpf_map_t *map, const void *key, const void *value, uint64_t flags);
    int (*delete_user)(ebpf_map_t *map, const void *key);
    int (*get_next_key)(ebpf_map_t *map, const void *key, void *next_key);
    int (*lookup_and_delete_user)(ebpf_map_t *map, const void *key, void *value);
    int (*update_object)(ebpf_map_t *map, const void *key, void *object, uint64_t flags);

    bool (*owns_memory)(const ebpf_map_t *map, const void *p, size_t n);
} ebpf_map_ops_t;

extern const ebpf_map_ops_t ebpf_array_map_ops;
extern const ebpf_map_ops_t ebpf_percpu_array_map_ops;
extern const ebpf_map_ops_t ebpf_hash_map_ops;
extern const ebpf_map_ops_t ebpf_percpu_hash_map_ops;
extern const ebpf_map_ops_t ebpf_lru_hash_map_ops;
extern const ebpf_map_ops_t ebpf_lru_percpu_hash_map_ops;
extern const ebpf_map_ops_t ebpf_prog_array_map_ops;
extern const ebpf_map_ops_t ebpf_queue_map_ops;
extern const ebpf_map_ops_t ebpf_stack_map_ops;
extern const ebpf_map_ops_t ebpf_lpm_trie_map_ops;
extern const ebpf_map_ops_t ebpf_array_of_maps_map_ops;
extern const ebpf_map_ops_t ebpf_hash_of_maps_map_ops;
extern const ebpf_map_ops_t ebpf_ringbuf_map_ops;
extern const ebpf_map_ops_t ebpf_perf_event_array_map_ops;

/* Runs callback after a grace period while keeping the map's memory alive until it returns;
 * the callback must end with ebpf_map_deferred_done(map) and not touch the map after it. */
void ebpf_map_defer(ebpf_map_t *map, ebpf_epoch_work_t *work,
                    void (*callback)(ebpf_epoch_work_t *work));
void ebpf_map_deferred_done(ebpf_map_t *map);

/* The full definition check of ebpf_map_create, without creating (inner map templates). */
int ebpf_map_check_definition(const ebpf_map_definition_t *definition, const char *name);

/* Registered hooks, or NULL. */
const ebpf_map_program_ops_t *ebpf_map_program_ops(void);
const ebpf_map_fd_resolver_t *ebpf_map_fd_resolver(void);

/* Array checks shared by the array-shaped types (array, per-CPU array, prog_array,
 * array_of_maps, perf_event_array): key_size 4, value_size > 0, max_entries > 0, flags. */
int ebpf_array_check_common(const ebpf_map_definition_t *definition, const char *name,
                            uint32_t allowed_flags);
/* Linux iteration over array indexes. */
int ebpf_array_get_next_index(uint32_t max_entries, const void *key, void *next_key);
/* Hash checks shared by the hash-shaped types. */
int ebpf_hash_check_common(const ebpf_map_definition_t *definition, const char *name, bool lru,
                           bool percpu);

static inline bool ebpf_is_power_of_two(uint64_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

#endif /* EBPF_MAP_INTERNAL_H */
