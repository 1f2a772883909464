/* The BPF-side headers' numbers (helper ids, map types, flags) against the Linux UAPI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include "ebpf_helper_prototype.h"
#define BPF_HELPER_DEFS_IDS_ONLY
#include "bpf_helper_defs.h"

/* At compile time: a wrong number does not build. */
#define CHECK_HELPER_ID(name, id) _Static_assert(BPF_FUNC_##name == (id), "BPF_FUNC_" #name);
EBPF_LINUX_HELPER_IDS(CHECK_HELPER_ID)
#define CHECK_MAP_TYPE(name, value)                                                                \
    _Static_assert(BPF_MAP_TYPE_##name == (value), "BPF_MAP_TYPE_" #name);
EBPF_LINUX_MAP_TYPES(CHECK_MAP_TYPE)
#define CHECK_FLAG(name, value) _Static_assert((name) == (value), #name);
EBPF_LINUX_HELPER_FLAGS(CHECK_FLAG)

typedef struct numbered {
    const char *name;
    long long ours;
    long long linux_value;
} numbered_t;

static void test_helper_ids_match_linux(void **state)
{
#define HELPER_ROW(name, id) {#name, (id), BPF_FUNC_##name},
    static const numbered_t helpers[] = {EBPF_LINUX_HELPER_IDS(HELPER_ROW)};
    for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
        assert_int_equal(helpers[i].ours, helpers[i].linux_value);
        assert_true(helpers[i].ours > 0 && helpers[i].ours < EBPF_GENERAL_EXTRA_HELPER_BASE);
    }
    assert_int_equal(sizeof(helpers) / sizeof(helpers[0]), 20);
}

static void test_map_types_and_flags_match_linux(void **state)
{
#define MAP_ROW(name, value) {#name, (value), BPF_MAP_TYPE_##name},
    static const numbered_t types[] = {EBPF_LINUX_MAP_TYPES(MAP_ROW)};
#define FLAG_ROW(name, value) {#name, (value), (name)},
    static const numbered_t flags[] = {EBPF_LINUX_HELPER_FLAGS(FLAG_ROW)};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        assert_int_equal(types[i].ours, types[i].linux_value);
        assert_int_equal(types[i].ours, (long long)i); /* the list has no gaps */
    }
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        assert_int_equal(flags[i].ours, flags[i].linux_value);
    assert_int_equal(BPF_MAP_TYPE_RINGBUF, 27);
}

static void test_extra_helpers_sit_above_linux_ids(void **state)
{
#define EXTRA_ROW(name, id) {#name, (id), 0},
    static const numbered_t extras[] = {EBPF_GENERAL_EXTRA_HELPER_IDS(EXTRA_ROW)};
    for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
        assert_int_equal(extras[i].ours, EBPF_GENERAL_EXTRA_HELPER_BASE + i);
        assert_true(extras[i].ours > __BPF_FUNC_MAX_ID);
        assert_true(extras[i].ours < EBPF_PROGRAM_TYPE_HELPER_BASE);
    }
    assert_string_equal(extras[0].name, "memcpy");
    assert_string_equal(extras[3].name, "memmove");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helper_ids_match_linux),
        cmocka_unit_test(test_map_types_and_flags_match_linux),
        cmocka_unit_test(test_extra_helpers_sit_above_linux_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
