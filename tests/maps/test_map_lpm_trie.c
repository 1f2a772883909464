/* Tests of the LPM trie: longest-prefix lookups, exact updates and deletes, iteration order. */
#include "map_test_common.h"

typedef struct ipv4_key {
    uint32_t prefixlen;
    uint8_t address[4];
} ipv4_key_t;

static ipv4_key_t prefix(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint32_t length)
{
    ipv4_key_t key = {length, {a, b, c, d}};
    return key;
}

static ebpf_map_t *create_trie(uint32_t max_entries)
{
    return create_map(BPF_MAP_TYPE_LPM_TRIE, sizeof(ipv4_key_t), 4, max_entries, BPF_F_NO_PREALLOC);
}

static void insert(ebpf_map_t *map, ipv4_key_t key, uint32_t value)
{
    assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
}

/* The value of the longest prefix matching the address, or 0 when none. */
static uint32_t match(ebpf_map_t *map, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    ipv4_key_t key = prefix(a, b, c, d, 32);
    uint32_t *value, found = 0, copied = 0;
    int err;

    ebpf_epoch_enter();
    value = ebpf_map_lookup_program(map, &key);
    if (value != NULL)
        found = *value;
    ebpf_epoch_exit();
    err = ebpf_map_lookup_user(map, &key, &copied, 0);
    assert_int_equal(found == 0 ? -ENOENT : 0, err);
    assert_int_equal(found, copied);
    return found;
}

static void test_longest_prefix(void **state)
{
    ebpf_map_t *map = create_trie(16);
    ipv4_key_t key;
    uint32_t value = 0;

    assert_int_equal(0, match(map, 10, 1, 1, 1));
    insert(map, prefix(10, 0, 0, 0, 8), 1);
    insert(map, prefix(10, 1, 0, 0, 16), 2);
    insert(map, prefix(10, 1, 1, 0, 24), 3);
    insert(map, prefix(192, 168, 0, 0, 16), 4);
    insert(map, prefix(0, 0, 0, 0, 0), 5);
    insert(map, prefix(10, 128, 0, 0, 16), 6);
    insert(map, prefix(10, 1, 1, 7, 32), 7);

    assert_int_equal(3, match(map, 10, 1, 1, 5));
    assert_int_equal(7, match(map, 10, 1, 1, 7));
    assert_int_equal(2, match(map, 10, 1, 2, 3));
    assert_int_equal(1, match(map, 10, 2, 0, 0));
    assert_int_equal(6, match(map, 10, 128, 9, 9));
    assert_int_equal(4, match(map, 192, 168, 5, 5));
    assert_int_equal(5, match(map, 8, 8, 8, 8));

    /* Updates and deletes need the exact prefix. */
    key = prefix(10, 1, 0, 0, 24);
    assert_int_equal(-ENOENT, ebpf_map_delete_user(map, &key));
    assert_int_equal(-ENOENT, ebpf_map_update_user(map, &key, &value, BPF_EXIST));
    key = prefix(10, 1, 0, 0, 16);
    assert_int_equal(-EEXIST, ebpf_map_update_user(map, &key, &value, BPF_NOEXIST));
    value = 20;
    assert_int_equal(0, ebpf_map_update_program(map, &key, &value, BPF_EXIST));
    assert_int_equal(20, match(map, 10, 1, 2, 3));
    key = prefix(10, 0, 0, 0, 33);
    assert_int_equal(-EINVAL, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    assert_int_equal(-EINVAL, ebpf_map_delete_user(map, &key));

    /* 10/8 joins 10.1/16 and 10.128/16: deleting it keeps both reachable. */
    key = prefix(10, 0, 0, 0, 8);
    assert_int_equal(0, ebpf_map_delete_program(map, &key));
    assert_int_equal(-ENOENT, ebpf_map_delete_user(map, &key));
    assert_int_equal(5, match(map, 10, 2, 0, 0));
    assert_int_equal(20, match(map, 10, 1, 2, 3));
    assert_int_equal(6, match(map, 10, 128, 0, 1));
    key = prefix(10, 1, 1, 7, 32);
    assert_int_equal(0, ebpf_map_delete_user(map, &key));
    assert_int_equal(3, match(map, 10, 1, 1, 7));
    key = prefix(0, 0, 0, 0, 0);
    assert_int_equal(0, ebpf_map_delete_user(map, &key));
    assert_int_equal(0, match(map, 8, 8, 8, 8));
    /* Re-adding the intermediate prefix works. */
    insert(map, prefix(10, 0, 0, 0, 8), 11);
    assert_int_equal(11, match(map, 10, 2, 0, 0));
    assert_int_equal(3, match(map, 10, 1, 1, 7));
    ebpf_map_release(map);
    drain_deferred();
}

static void test_full_trie(void **state)
{
    ebpf_map_t *map = create_trie(2);
    ipv4_key_t key = prefix(1, 0, 0, 0, 8);
    uint32_t value = 1;

    insert(map, key, 1);
    insert(map, prefix(2, 0, 0, 0, 8), 2);
    key = prefix(3, 0, 0, 0, 8);
    assert_int_equal(-ENOSPC, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    assert_non_null(strstr(ebpf_last_error(), "full"));
    assert_int_equal(-ENOSPC, ebpf_map_update_program(map, &key, &value, BPF_ANY));
    key = prefix(1, 0, 0, 0, 8);
    value = 9;
    assert_int_equal(0, ebpf_map_update_user(map, &key, &value, BPF_ANY));
    assert_int_equal(9, match(map, 1, 2, 3, 4));
    ebpf_map_release(map);
    drain_deferred();
}

static void test_iteration_order(void **state)
{
    ebpf_map_t *map = create_trie(16);
    const ipv4_key_t keys[] = {
        prefix(10, 0, 0, 0, 8),     prefix(10, 1, 0, 0, 16), prefix(10, 1, 1, 0, 24),
        prefix(192, 168, 0, 0, 16), prefix(0, 0, 0, 0, 0),   prefix(10, 128, 0, 0, 16),
    };
    int position[EBPF_ARRAY_SIZE(keys)];
    ipv4_key_t key, next;
    int visits = 0;

    assert_int_equal(-ENOENT, ebpf_map_get_next_key(map, NULL, &next));
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(keys); i++) {
        insert(map, keys[i], (uint32_t)i);
        position[i] = -1;
    }
    for (int err = ebpf_map_get_next_key(map, NULL, &next); err == 0;
         err = ebpf_map_get_next_key(map, &key, &next)) {
        size_t i;
        for (i = 0; i < EBPF_ARRAY_SIZE(keys); i++)
            if (memcmp(&keys[i], &next, sizeof(next)) == 0)
                break;
        assert_true(i < EBPF_ARRAY_SIZE(keys));
        assert_int_equal(-1, position[i]); /* each key once */
        position[i] = visits++;
        key = next;
    }
    assert_int_equal(EBPF_ARRAY_SIZE(keys), visits);
    /* More specific prefixes come before the prefixes covering them. */
    assert_true(position[2] < position[1]);
    assert_true(position[1] < position[0]);
    assert_true(position[5] < position[0]);
    assert_true(position[0] < position[4]);
    assert_true(position[3] < position[4]);
    /* An absent key starts again from the first. */
    {
        ipv4_key_t first, absent = prefix(1, 2, 3, 4, 32);
        assert_int_equal(0, ebpf_map_get_next_key(map, NULL, &first));
        assert_int_equal(0, ebpf_map_get_next_key(map, &absent, &next));
        assert_memory_equal(&first, &next, sizeof(next));
    }
    ebpf_map_release(map);
    drain_deferred();
}

/* Deterministic pseudo-random numbers (xorshift) so a failure can be replayed. */
static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

typedef struct reference_entry {
    uint32_t address;
    uint32_t length;
    uint32_t value;
    bool live;
} reference_entry_t;

static bool covers(const reference_entry_t *entry, uint32_t address)
{
    uint32_t mask = entry->length == 0 ? 0 : ~0u << (32 - entry->length);
    return (address & mask) == (entry->address & mask);
}

/* Against a linear reference model: random prefixes, deletes and lookups. */
static void test_against_reference(void **state)
{
    enum { ENTRIES = 200, ROUNDS = 3000 };
    ebpf_map_t *map = create_trie(ENTRIES);
    reference_entry_t *model = test_calloc(ENTRIES, sizeof(*model));
    uint32_t seed = 12345;

    for (int round = 0; round < ROUNDS; round++) {
        uint32_t r = next_random(&seed);
        uint32_t slot = r % ENTRIES;
        reference_entry_t *entry = &model[slot];
        ipv4_key_t key;

        if ((r >> 8) % 3 != 0 && !entry->live) {
            /* Short prefixes over few distinct addresses, so prefixes nest often. */
            uint32_t length = next_random(&seed) % 33;
            uint32_t address = next_random(&seed) & 0xf0f00000u;
            bool duplicate = false;
            for (int i = 0; i < ENTRIES; i++)
                if (model[i].live && model[i].length == length && covers(&model[i], address))
                    duplicate = true;
            if (duplicate)
                continue;
            entry->address = address;
            entry->length = length;
            entry->value = r | 1;
            entry->live = true;
            key.prefixlen = length;
            key.address[0] = (uint8_t)(address >> 24);
            key.address[1] = (uint8_t)(address >> 16);
            key.address[2] = (uint8_t)(address >> 8);
            key.address[3] = (uint8_t)address;
            assert_int_equal(0, ebpf_map_update_user(map, &key, &entry->value, BPF_NOEXIST));
        } else if (entry->live) {
            key.prefixlen = entry->length;
            key.address[0] = (uint8_t)(entry->address >> 24);
            key.address[1] = (uint8_t)(entry->address >> 16);
            key.address[2] = (uint8_t)(entry->address >> 8);
            key.address[3] = (uint8_t)entry->address;
            assert_int_equal(0, ebpf_map_delete_user(map, &key));
            entry->live = false;
        }

        /* Check a lookup against the model. */
        uint32_t address = next_random(&seed) & 0xf0f0f0f0u;
        const reference_entry_t *best = NULL;
        for (int i = 0; i < ENTRIES; i++)
            if (model[i].live && covers(&model[i], address) &&
                (best == NULL || model[i].length > best->length))
                best = &model[i];
        assert_int_equal(best == NULL ? 0 : best->value,
                         match(map, (uint8_t)(address >> 24), (uint8_t)(address >> 16),
                               (uint8_t)(address >> 8), (uint8_t)address));
    }
    /* Iteration sees exactly the live entries. */
    {
        int live = 0, visits = 0;
        ipv4_key_t key, next;
        for (int i = 0; i < ENTRIES; i++)
            live += model[i].live;
        for (int err = ebpf_map_get_next_key(map, NULL, &next); err == 0;
             err = ebpf_map_get_next_key(map, &key, &next)) {
            visits++;
            key = next;
            assert_true(visits <= live);
        }
        assert_int_equal(live, visits);
    }
    test_free(model);
    ebpf_map_release(map);
    drain_deferred();
}

static void test_trie_memory(void **state)
{
    ebpf_map_t *map = create_trie(4);
    ipv4_key_t key = prefix(10, 0, 0, 0, 8);
    uint32_t *value;

    insert(map, key, 1);
    key.prefixlen = 32;
    ebpf_epoch_enter();
    value = ebpf_map_lookup_program(map, &key);
    assert_non_null(value);
    assert_true(ebpf_map_owns_memory(map, value, 4, true));
    assert_false(ebpf_map_owns_memory(map, value, 5, true));
    assert_false(ebpf_map_owns_memory(map, (uint8_t *)value - 4, 4, false));
    ebpf_epoch_exit();
    assert_int_equal(-EOPNOTSUPP, ebpf_map_lookup_and_delete_user(map, &key, value, 0));
    ebpf_map_release(map);
    drain_deferred();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_prefix),  cmocka_unit_test(test_full_trie),
        cmocka_unit_test(test_iteration_order), cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_trie_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
