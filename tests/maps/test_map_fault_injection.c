/* Fault injection: every allocation of map creation (and of the update paths that allocate)
 * fails in turn; each failure is clean and leaks nothing. */
#include <unistd.h>

#include "map_test_common.h"

#define SITES_MAX 64

static const ebpf_map_definition_t inner_template = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 4};

typedef struct map_kind {
    const char *what;
    ebpf_map_definition_t definition;
} map_kind_t;

static map_kind_t kinds[] = {
    {"array", {BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0, NULL}},
    {"percpu_array", {BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, 0, NULL}},
    {"hash", {BPF_MAP_TYPE_HASH, 8, 8, 64, 0, NULL}},
    {"hash_no_prealloc", {BPF_MAP_TYPE_HASH, 8, 8, 64, BPF_F_NO_PREALLOC, NULL}},
    {"percpu_hash", {BPF_MAP_TYPE_PERCPU_HASH, 8, 8, 64, 0, NULL}},
    {"lru_hash", {BPF_MAP_TYPE_LRU_HASH, 8, 8, 64, 0, NULL}},
    {"lru_percpu_hash", {BPF_MAP_TYPE_LRU_PERCPU_HASH, 8, 8, 64, 0, NULL}},
    {"prog_array", {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 8, 0, NULL}},
    {"queue", {BPF_MAP_TYPE_QUEUE, 0, 8, 8, 0, NULL}},
    {"stack", {BPF_MAP_TYPE_STACK, 0, 8, 8, 0, NULL}},
    {"lpm_trie", {BPF_MAP_TYPE_LPM_TRIE, 8, 8, 8, BPF_F_NO_PREALLOC, NULL}},
    {"array_of_maps", {BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 8, 0, &inner_template}},
    {"hash_of_maps", {BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 8, 0, &inner_template}},
    {"ringbuf", {BPF_MAP_TYPE_RINGBUF, 0, 0, 0 /* set at run time */, 0, NULL}},
    {"perf_event_array", {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0, NULL}},
};

static void test_creation_sites(void **state)
{
    int64_t start = settled_outstanding();

    for (size_t k = 0; k < EBPF_ARRAY_SIZE(kinds); k++) {
        const char *sites[SITES_MAX];
        ebpf_map_t *map = NULL;
        uint64_t before;
        size_t count;
        int64_t attempts;

        if (kinds[k].definition.type == BPF_MAP_TYPE_RINGBUF)
            kinds[k].definition.max_entries = 4 * (uint32_t)sysconf(_SC_PAGESIZE);

        ebpf_fault_record_sites(true);
        before = ebpf_allocation_count();
        assert_int_equal(0, ebpf_map_create(&kinds[k].definition, "faulty", &map));
        attempts = (int64_t)(ebpf_allocation_count() - before);
        count = ebpf_fault_sites(sites, SITES_MAX);
        ebpf_fault_record_sites(false);
        ebpf_map_release(map);
        drain_deferred();
        assert_true(count >= 1 && count <= SITES_MAX);
        assert_int_equal(start, ebpf_allocation_outstanding());

        /* Every site fails in turn. */
        for (size_t s = 0; s < count; s++) {
            int err;
            map = (ebpf_map_t *)1;
            ebpf_error_clear();
            ebpf_fault_fail_site(sites[s]);
            err = ebpf_map_create(&kinds[k].definition, "faulty", &map);
            ebpf_fault_reset();
            if (err == 0)
                fail_msg("%s: creation succeeded with site %s failing", kinds[k].what, sites[s]);
            assert_null(map);
            assert_true(strlen(ebpf_last_error()) > 0);
            drain_deferred();
            if (start != ebpf_allocation_outstanding())
                fail_msg("%s: leak after failing site %s", kinds[k].what, sites[s]);
        }
        /* And every single allocation attempt, in order. */
        for (int64_t n = 1; n <= attempts; n++) {
            int err;
            map = (ebpf_map_t *)1;
            ebpf_fault_fail_nth((uint64_t)n);
            err = ebpf_map_create(&kinds[k].definition, "faulty", &map);
            ebpf_fault_reset();
            if (err == 0)
                fail_msg("%s: creation succeeded with allocation %lld failing", kinds[k].what,
                         (long long)n);
            assert_null(map);
            drain_deferred();
            if (start != ebpf_allocation_outstanding())
                fail_msg("%s: leak after failing allocation %lld", kinds[k].what, (long long)n);
        }
    }
}

/* A pool that grows (BPF_F_NO_PREALLOC) allocates a chunk when the first is used up. */
static void test_growing_hash_update(void **state)
{
    int64_t start = settled_outstanding();
    ebpf_map_t *probe = create_map(BPF_MAP_TYPE_HASH, 4, 4, 64, BPF_F_NO_PREALLOC);
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_HASH, 4, 4, 64, BPF_F_NO_PREALLOC);
    uint32_t key, value = 1, out = 0;
    const char *chunk_site = NULL;

    for (key = 0; key < 16; key++) {
        assert_int_equal(0, ebpf_map_update_user(probe, &key, &value, BPF_ANY));
        assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    }
    /* Find the site that allocates the second chunk. */
    ebpf_fault_record_sites(true);
    assert_int_equal(0, ebpf_map_update_user(probe, &key, &value, BPF_ANY));
    assert_int_equal(1, ebpf_fault_sites(&chunk_site, 1));
    ebpf_fault_record_sites(false);

    ebpf_fault_fail_site(chunk_site);
    /* User space retries after a grace period, then reports the shortage. */
    assert_int_equal(-ENOMEM, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    assert_true(strlen(ebpf_last_error()) > 0);
    ebpf_epoch_enter();
    assert_int_equal(-ENOMEM, ebpf_map_update_program(map, &key, &value, BPF_ANY));
    ebpf_epoch_exit();
    ebpf_fault_reset();
    /* Nothing changed: the key is absent, and can be added now. */
    assert_int_equal(-ENOENT, ebpf_map_lookup_user(map, &key, &out, 0));
    assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    ebpf_map_release(map);
    ebpf_map_release(probe);
    drain_deferred();
    assert_int_equal(start, ebpf_allocation_outstanding());
}

static void test_trie_update_and_iteration(void **state)
{
    int64_t start = settled_outstanding();
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 64, BPF_F_NO_PREALLOC);
    uint8_t key[8] = {8, 0, 0, 0, 10, 0, 0, 0}, next[8];
    uint32_t value = 3, out = 0;

    ebpf_fault_fail_nth(1); /* the first node needs the first chunk */
    assert_int_equal(-ENOMEM, ebpf_map_update_user(map, key, &value, BPF_ANY));
    ebpf_fault_reset();
    assert_int_equal(-ENOENT, ebpf_map_lookup_user(map, key, &out, 0));
    assert_int_equal(0, ebpf_map_update_user(map, key, &value, BPF_ANY));

    ebpf_fault_fail_nth(1);
    assert_int_equal(-ENOMEM, ebpf_map_get_next_key(map, NULL, next));
    ebpf_fault_reset();
    assert_int_equal(0, ebpf_map_get_next_key(map, NULL, next));
    assert_memory_equal(key, next, sizeof(key));
    ebpf_map_release(map);
    drain_deferred();
    assert_int_equal(start, ebpf_allocation_outstanding());
}

static _Atomic int references;

static void program_acquire(void *program)
{
    atomic_fetch_add(&references, 1);
}

static void program_release(void *program)
{
    atomic_fetch_sub(&references, 1);
}

static const ebpf_map_program_ops_t program_ops = {program_acquire, program_release, NULL};

/* Without memory to defer a program's release, the prog_array waits for the grace period. */
static void test_prog_array_release_without_memory(void **state)
{
    int64_t start = settled_outstanding();
    ebpf_map_t *map = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0);
    int program = 0;
    uint32_t key = 0, id = 7;

    ebpf_map_set_program_ops(&program_ops);
    assert_int_equal(0, ebpf_map_update_object(map, &key, &program, BPF_ANY));
    assert_int_equal(1, atomic_load(&references));
    /* No get_id: the lookup still finds the slot, with id 0. */
    assert_int_equal(0, ebpf_map_lookup_user(map, &key, &id, 0));
    assert_int_equal(0, id);
    ebpf_fault_fail_nth(1);
    assert_int_equal(0, ebpf_map_delete_user(map, &key));
    ebpf_fault_reset();
    assert_int_equal(0, atomic_load(&references));
    ebpf_map_release(map);
    drain_deferred();
    assert_int_equal(start, ebpf_allocation_outstanding());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creation_sites),
        cmocka_unit_test(test_growing_hash_update),
        cmocka_unit_test(test_trie_update_and_iteration),
        cmocka_unit_test(test_prog_array_release_without_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
