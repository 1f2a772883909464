/* Tests of the allocator with fault injection, error messages, logging, GUIDs, scratch, CPUs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ebpf_guid.h"
#include "ebpf_platform.h"

static void test_allocation_is_zeroed_and_counted(void **state)
{
    int64_t before = ebpf_allocation_outstanding();
    unsigned char *memory = ebpf_allocate(100);
    assert_non_null(memory);
    for (int i = 0; i < 100; i++)
        assert_int_equal(memory[i], 0);
    assert_int_equal(ebpf_allocation_outstanding(), before + 1);
    char *copy = ebpf_strdup("netevent");
    assert_string_equal(copy, "netevent");
    void *aligned = ebpf_allocate_aligned(256, 1000);
    assert_non_null(aligned);
    assert_int_equal((uintptr_t)aligned % 256, 0);
    assert_int_equal(ebpf_allocation_outstanding(), before + 3);
    ebpf_free(memory);
    ebpf_free(copy);
    ebpf_free(aligned);
    ebpf_free(NULL);
    assert_int_equal(ebpf_allocation_outstanding(), before);
}

static void test_array_allocation_overflow_fails(void **state)
{
    assert_null(ebpf_allocate_array(SIZE_MAX / 2, 4));
    void *array = ebpf_allocate_array(10, 8);
    assert_non_null(array);
    ebpf_free(array);
}

static void test_fail_nth(void **state)
{
    ebpf_fault_reset();
    ebpf_fault_fail_nth(3);
    void *a = ebpf_allocate(8);
    void *b = ebpf_allocate(8);
    void *c = ebpf_allocate(8);
    void *d = ebpf_allocate(8);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    assert_non_null(d);
    assert_int_equal(ebpf_fault_injected_count(), 1);
    ebpf_free(a);
    ebpf_free(b);
    ebpf_free(d);
    ebpf_fault_reset();
}

static void *allocate_here(void)
{
    return ebpf_allocate(16);
}

static void test_fail_site_and_recording(void **state)
{
    const char *sites[16];
    size_t count;

    ebpf_fault_reset();
    ebpf_fault_record_sites(true);
    void *first = allocate_here();
    void *other = ebpf_allocate(16);
    count = ebpf_fault_sites(sites, 16);
    assert_int_equal(count, 2);
    assert_non_null(strstr(sites[0], "test_basics.c:"));
    assert_string_not_equal(sites[0], sites[1]);
    ebpf_free(first);
    ebpf_free(other);

    /* Failing the first site fails every allocation there and no other. */
    ebpf_fault_fail_site(sites[0]);
    assert_null(allocate_here());
    assert_null(allocate_here());
    other = ebpf_allocate(16);
    assert_non_null(other);
    ebpf_free(other);
    assert_int_equal(ebpf_fault_injected_count(), 2);
    ebpf_fault_reset();
    first = allocate_here();
    assert_non_null(first);
    ebpf_free(first);
}

static void test_error_messages(void **state)
{
    ebpf_error_clear();
    assert_string_equal(ebpf_last_error(), "");
    assert_int_equal(ebpf_error(-EINVAL, "map %s: key size %d", "events", 0), -EINVAL);
    assert_string_equal(ebpf_last_error(), "map events: key size 0");
    assert_int_equal(ebpf_error_prefix(-EINVAL, "loading %s: ", "a.o"), -EINVAL);
    assert_string_equal(ebpf_last_error(), "loading a.o: map events: key size 0");
}

static char captured[256];
static int captured_level = -1;

static void capture_sink(ebpf_log_level_t level, const char *message, void *context)
{
    captured_level = (int)level;
    snprintf(captured, sizeof(captured), "%s", message);
    (*(int *)context)++;
}

static void test_log_levels_and_sink(void **state)
{
    int calls = 0;
    ebpf_log_level_t saved = ebpf_log_get_level();

    ebpf_log_set_sink(capture_sink, &calls);
    ebpf_log_set_level(EBPF_LOG_WARN);
    ebpf_log(EBPF_LOG_DEBUG, "hidden %d", 1);
    assert_int_equal(calls, 0);
    ebpf_log(EBPF_LOG_ERROR, "shown %d", 2);
    assert_int_equal(calls, 1);
    assert_int_equal(captured_level, EBPF_LOG_ERROR);
    assert_string_equal(captured, "shown 2");
    assert_false(ebpf_log_enabled(EBPF_LOG_INFO));
    ebpf_log_set_level(EBPF_LOG_DEBUG);
    assert_true(ebpf_log_enabled(EBPF_LOG_DEBUG));
    ebpf_log_set_sink(NULL, NULL);
    ebpf_log_set_level(saved);
}

static void test_guid_round_trip(void **state)
{
    /* The netevent NPI id of the original, written the Windows way. */
    const ebpf_guid_t npi = {
        0x2227e81a, 0x8d8b, 0x11d4, {0xab, 0xad, 0x00, 0x90, 0x27, 0x71, 0x9e, 0x09}};
    char text[EBPF_GUID_STRING_LENGTH + 1];
    ebpf_guid_t parsed;

    ebpf_guid_to_string(&npi, text);
    assert_string_equal(text, "2227e81a-8d8b-11d4-abad-009027719e09");
    assert_int_equal(ebpf_guid_from_string("{2227E81A-8D8B-11D4-ABAD-009027719E09}", &parsed), 0);
    assert_true(ebpf_guid_equal(&npi, &parsed));
    assert_int_equal(ebpf_guid_from_string("2227e81a-8d8b-11d4-abad-009027719e0", &parsed),
                     -EINVAL);
    assert_int_equal(ebpf_guid_from_string("2227e81a_8d8b-11d4-abad-009027719e09", &parsed),
                     -EINVAL);
    assert_int_equal(ebpf_guid_from_string("2227e81a-8d8b-11d4-abad-009027719g09", &parsed),
                     -EINVAL);
}

static void *scratch_thread(void *argument)
{
    ebpf_thread_scratch_t *scratch = argument;
    char *buffer = ebpf_thread_scratch_get(scratch, 32);
    if (buffer == NULL)
        return (void *)1;
    memset(buffer, 'x', 32);
    return buffer;
}

static void test_thread_scratch(void **state)
{
    ebpf_thread_scratch_t *scratch;
    int64_t before = ebpf_allocation_outstanding();
    pthread_t thread;
    void *other;

    assert_int_equal(ebpf_thread_scratch_create(&scratch), 0);
    char *mine = ebpf_thread_scratch_get(scratch, 100);
    assert_non_null(mine);
    memcpy(mine, "kept", 5);
    /* Same thread, no growth: the same buffer with its content. */
    assert_ptr_equal(ebpf_thread_scratch_get(scratch, 50), mine);
    assert_string_equal(mine, "kept");
    /* Another thread gets its own buffer. */
    assert_int_equal(pthread_create(&thread, NULL, scratch_thread, scratch), 0);
    pthread_join(thread, &other);
    assert_ptr_not_equal(other, mine);
    assert_ptr_not_equal(other, (void *)1);
    /* Growth gives a larger buffer. */
    char *grown = ebpf_thread_scratch_get(scratch, 10000);
    assert_non_null(grown);
    grown[9999] = 1;
    ebpf_thread_scratch_destroy(scratch);
    assert_int_equal(ebpf_allocation_outstanding(), before);
}

static void test_thread_scratch_growth_failure(void **state)
{
    ebpf_thread_scratch_t *scratch;
    assert_int_equal(ebpf_thread_scratch_create(&scratch), 0);
    char *small = ebpf_thread_scratch_get(scratch, 16);
    assert_non_null(small);
    ebpf_fault_fail_nth(1);
    assert_null(ebpf_thread_scratch_get(scratch, 4096));
    ebpf_fault_reset();
    /* The old buffer is still there and usable. */
    assert_ptr_equal(ebpf_thread_scratch_get(scratch, 16), small);
    ebpf_thread_scratch_destroy(scratch);
}

static void test_clocks(void **state)
{
    uint64_t a = ebpf_clock_monotonic_ns();
    uint64_t b = ebpf_clock_monotonic_ns();
    assert_true(b >= a);
    assert_true(ebpf_clock_boot_ns() >= ebpf_clock_monotonic_ns() / 2);
}

static _Atomic uint32_t inside[512];
static _Atomic int claim_violations;

static void *claim_thread(void *argument)
{
    for (int i = 0; i < 20000; i++) {
        uint32_t cpu = ebpf_cpu_enter();
        if (atomic_fetch_add(&inside[cpu], 1) != 0)
            atomic_fetch_add(&claim_violations, 1);
        /* Nested claims return the same index. */
        if (ebpf_cpu_enter() != cpu || ebpf_cpu_claimed() != cpu)
            atomic_fetch_add(&claim_violations, 1);
        ebpf_cpu_exit();
        atomic_fetch_sub(&inside[cpu], 1);
        ebpf_cpu_exit();
    }
    return NULL;
}

static void test_cpu_claims_are_exclusive(void **state)
{
    pthread_t threads[6];

    assert_true(ebpf_cpu_count() >= 1);
    assert_true(ebpf_cpu_current() < ebpf_cpu_count());
    assert_int_equal(ebpf_cpu_claimed(), UINT32_MAX);
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(threads); i++)
        assert_int_equal(pthread_create(&threads[i], NULL, claim_thread, NULL), 0);
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(threads); i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&claim_violations), 0);
    assert_int_equal(ebpf_cpu_claimed(), UINT32_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocation_is_zeroed_and_counted),
        cmocka_unit_test(test_array_allocation_overflow_fails),
        cmocka_unit_test(test_fail_nth),
        cmocka_unit_test(test_fail_site_and_recording),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_log_levels_and_sink),
        cmocka_unit_test(test_guid_round_trip),
        cmocka_unit_test(test_thread_scratch),
        cmocka_unit_test(test_thread_scratch_growth_failure),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_cpu_claims_are_exclusive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
