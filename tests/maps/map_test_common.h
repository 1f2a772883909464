/* Helpers shared by the map tests: creating maps in one line and waiting for deferred frees. */
#ifndef MAP_TEST_COMMON_H
#define MAP_TEST_COMMON_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ebpf_map.h"
#include "ebpf_platform.h"

static inline ebpf_map_definition_t map_definition(uint32_t type, uint32_t key_size,
                                                   uint32_t value_size, uint32_t max_entries,
                                                   uint32_t flags)
{
    ebpf_map_definition_t definition = {
        .type = type,
        .key_size = key_size,
        .value_size = value_size,
        .max_entries = max_entries,
        .map_flags = flags,
    };
    return definition;
}

static inline ebpf_map_t *create_map(uint32_t type, uint32_t key_size, uint32_t value_size,
                                     uint32_t max_entries, uint32_t flags)
{
    ebpf_map_definition_t definition =
        map_definition(type, key_size, value_size, max_entries, flags);
    ebpf_map_t *map = NULL;

    assert_int_equal(0, ebpf_map_create(&definition, "test_map", &map));
    assert_non_null(map);
    return map;
}

/* Every deferred free (and the frees those schedule in turn) has run. */
static inline void drain_deferred(void)
{
    ebpf_epoch_drain();
}

/* Starts the epoch worker so its start-up does not count in leak checks. */
static inline int64_t settled_outstanding(void)
{
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
    ebpf_map_release(map);
    drain_deferred();
    return ebpf_allocation_outstanding();
}

static inline uint32_t user_cpu_count(void)
{
    return ebpf_cpu_count();
}

#endif /* MAP_TEST_COMMON_H */
