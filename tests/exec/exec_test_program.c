/* Interpreter tests: the test helpers and the run/expect shorthands every test file uses. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "exec_test_program.h"

/* Calls per helper id; helpers may run on several threads at once in the concurrency test. */
static _Atomic uint64_t helper_calls[16];

const void *test_tail_call_targets[4];

uint64_t test_helper_calls(enum test_helper_id id)
{
    return atomic_load(&helper_calls[id]);
}

void test_helper_calls_reset(void)
{
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(helper_calls); i++)
        atomic_store(&helper_calls[i], 0);
}

static uint64_t helper_add(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    atomic_fetch_add(&helper_calls[TEST_HELPER_ADD], 1);
    return r1 + r2;
}

static uint64_t helper_sum_memory(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    const uint8_t *bytes = (const uint8_t *)(uintptr_t)r1;
    uint64_t sum = 0;

    atomic_fetch_add(&helper_calls[TEST_HELPER_SUM_MEMORY], 1);
    for (uint64_t i = 0; i < r2; i++)
        sum += bytes[i];
    return sum;
}

static uint64_t helper_fill_memory(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    atomic_fetch_add(&helper_calls[TEST_HELPER_FILL_MEMORY], 1);
    memset((void *)(uintptr_t)r1, (int)(uint8_t)r3, (size_t)r2);
    return 0;
}

static uint64_t helper_optional(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    atomic_fetch_add(&helper_calls[TEST_HELPER_OPTIONAL], 1);
    return r1 ? r2 : 0;
}

static uint64_t helper_identity(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    atomic_fetch_add(&helper_calls[TEST_HELPER_IDENTITY], 1);
    return r1;
}

static uint64_t helper_check_access(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    atomic_fetch_add(&helper_calls[TEST_HELPER_CHECK_ACCESS], 1);
    return ebpf_exec_check_access((const void *)(uintptr_t)r1, (size_t)r2, r3 != 0) ? 1 : 0;
}

static uint64_t helper_tail_call(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    atomic_fetch_add(&helper_calls[TEST_HELPER_TAIL_CALL], 1);
    if (r2 >= EBPF_ARRAY_SIZE(test_tail_call_targets) || !test_tail_call_targets[r2])
        return (uint64_t)-ENOENT;
    return (uint64_t)(int64_t)ebpf_exec_tail_call_request(test_tail_call_targets[r2]);
}

static uint64_t helper_strlen(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    atomic_fetch_add(&helper_calls[TEST_HELPER_STRLEN], 1);
    return strlen((const char *)(uintptr_t)r1);
}

#define TEST_PROTOTYPE(id_, name_, ...)                                                            \
    {                                                                                              \
        .header = EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),   \
        .id = (id_), .name = (name_), .return_type = EBPF_RET_INTEGER, .arguments = {__VA_ARGS__}, \
    }

static const struct {
    ebpf_helper_prototype_t prototype;
    ebpf_helper_function_t function;
} test_helpers[] = {
    {TEST_PROTOTYPE(TEST_HELPER_ADD, "test_add", EBPF_ARG_ANYTHING, EBPF_ARG_ANYTHING), helper_add},
    {TEST_PROTOTYPE(TEST_HELPER_SUM_MEMORY, "test_sum_memory", EBPF_ARG_PTR_TO_READABLE_MEM,
                    EBPF_ARG_CONST_SIZE),
     helper_sum_memory},
    {TEST_PROTOTYPE(TEST_HELPER_FILL_MEMORY, "test_fill_memory", EBPF_ARG_PTR_TO_WRITABLE_MEM,
                    EBPF_ARG_CONST_SIZE, EBPF_ARG_ANYTHING),
     helper_fill_memory},
    {TEST_PROTOTYPE(TEST_HELPER_OPTIONAL, "test_optional", EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL,
                    EBPF_ARG_CONST_SIZE_OR_ZERO),
     helper_optional},
    {TEST_PROTOTYPE(TEST_HELPER_IDENTITY, "test_identity", EBPF_ARG_ANYTHING), helper_identity},
    {TEST_PROTOTYPE(TEST_HELPER_CHECK_ACCESS, "test_check_access", EBPF_ARG_ANYTHING,
                    EBPF_ARG_ANYTHING, EBPF_ARG_ANYTHING),
     helper_check_access},
    /* Its is_tail_call flag is not needed: the interpreter honours the request itself. */
    {TEST_PROTOTYPE(TEST_HELPER_TAIL_CALL, "test_tail_call", EBPF_ARG_PTR_TO_CTX,
                    EBPF_ARG_ANYTHING),
     helper_tail_call},
    {TEST_PROTOTYPE(TEST_HELPER_STRLEN, "test_strlen", EBPF_ARG_PTR_TO_CONST_STR), helper_strlen},
};

const ebpf_helper_prototype_t *test_helper_resolver(void *context, uint32_t id,
                                                    ebpf_helper_function_t *function)
{
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(test_helpers); i++) {
        if (test_helpers[i].prototype.id == id) {
            *function = test_helpers[i].function;
            return &test_helpers[i].prototype;
        }
    }
    return NULL;
}

ebpf_interpreter_program_t *test_program_create(const struct bpf_insn *instructions, uint32_t count)
{
    ebpf_interpreter_program_t *program = NULL;
    int err =
        ebpf_interpreter_program_create(instructions, count, test_helper_resolver, NULL, &program);
    if (err)
        fail_msg("preparing failed (%d): %s", err, ebpf_last_error());
    return program;
}

int test_program_run(const struct bpf_insn *instructions, uint32_t count,
                     const ebpf_exec_environment_t *env, uint64_t r1, ebpf_exec_result_t *result)
{
    ebpf_interpreter_program_t *program = NULL;
    int err =
        ebpf_interpreter_program_create(instructions, count, test_helper_resolver, NULL, &program);
    if (err)
        return err;
    err = ebpf_interpreter_run(program, r1, 0, env, result);
    ebpf_interpreter_program_destroy(program);
    return err;
}

void test_expect_message(const char *text)
{
    if (!strstr(ebpf_last_error(), text))
        fail_msg("message \"%s\" lacks \"%s\"", ebpf_last_error(), text);
}

void test_expect_r0_env(const struct bpf_insn *instructions, uint32_t count,
                        const ebpf_exec_environment_t *env, uint64_t r1, uint64_t expected)
{
    ebpf_exec_result_t result;
    int err = test_program_run(instructions, count, env, r1, &result);

    if (err)
        fail_msg("run failed (%d): %s", err, ebpf_last_error());
    assert_int_equal(result.r0, expected);
}

void test_expect_r0(const struct bpf_insn *instructions, uint32_t count, uint64_t expected)
{
    test_expect_r0_env(instructions, count, NULL, 0, expected);
}

void test_expect_rejected(const struct bpf_insn *instructions, uint32_t count, const char *text)
{
    ebpf_interpreter_program_t *program = NULL;
    int err =
        ebpf_interpreter_program_create(instructions, count, test_helper_resolver, NULL, &program);

    assert_int_equal(err, -EINVAL);
    assert_null(program);
    test_expect_message(text);
}

void test_expect_run_error(const struct bpf_insn *instructions, uint32_t count,
                           const ebpf_exec_environment_t *env, uint64_t r1, int err,
                           const char *text)
{
    ebpf_interpreter_program_t *program = test_program_create(instructions, count);
    ebpf_exec_result_t result;

    assert_int_equal(ebpf_interpreter_run(program, r1, 0, env, &result), err);
    test_expect_message(text);
    ebpf_interpreter_program_destroy(program);
}
