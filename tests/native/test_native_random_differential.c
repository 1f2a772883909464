/* Random verified programs (fixed seed), native against the interpreter: every program the
 * verifier accepts is translated into one module and run on a few random contexts both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebpf_platform.h"
#include "ebpf_verifier.h"
#include "native_test_support.h"
#include "random_program.h"

/* NATIVE_RANDOM_PROGRAMS and NATIVE_RANDOM_SEED explore further by hand; ctest uses these. */
#define PROGRAMS     300
#define MAX_PROGRAMS 20000
#define CONTEXTS     3
#define SEED         0x5eed2025c0ffeeull

static bool verified(const struct bpf_insn *code, uint32_t count)
{
    ebpf_verifier_options_t options = {
        .find_helper = ebpf_native_find_helper_prototype,
        .find_helper_context = (void *)random_program_info(),
    };
    ebpf_verifier_result_t result = {0};
    int rc = ebpf_verify_program(code, count, random_program_info(), NULL, 0, &options, &result);
    ebpf_verifier_result_free(&result);
    return rc == 0;
}

static uint64_t setting(const char *name, uint64_t fallback)
{
    const char *text = getenv(name);
    return text != NULL && text[0] != '\0' ? strtoull(text, NULL, 0) : fallback;
}

static void test_random_verified_programs(void **state)
{
    size_t total = (size_t)setting("NATIVE_RANDOM_PROGRAMS", PROGRAMS);
    if (total > MAX_PROGRAMS)
        total = MAX_PROGRAMS;
    struct bpf_insn(*code)[RANDOM_PROGRAM_CAPACITY] = calloc(total, sizeof(*code));
    uint32_t *counts = calloc(total, sizeof(*counts));
    bpf2c_program_t *programs = calloc(total, sizeof(*programs));
    char(*names)[16] = calloc(total, sizeof(*names));
    random_source_t source = {.state = setting("NATIVE_RANDOM_SEED", SEED)};
    native_test_directory_t directory;
    ebpf_native_module_t *module = NULL;
    char so_path[512];
    size_t accepted = 0, differences = 0;

    assert_true(code != NULL && counts != NULL && programs != NULL && names != NULL);
    for (size_t i = 0; i < total; i++) {
        uint32_t count = random_program(&source, code[accepted]);
        assert_true(count <= RANDOM_PROGRAM_CAPACITY);
        if (!verified(code[accepted], count))
            continue;
        counts[accepted] = count;
        snprintf(names[accepted], sizeof(names[accepted]), "random_%zu", i);
        programs[accepted] = (bpf2c_program_t){
            .name = names[accepted],
            .section_name = "random",
            .instructions = code[accepted],
            .instruction_count = count,
            .program_info = random_program_info(),
            .object_index = (uint32_t)accepted,
        };
        accepted++;
    }
    print_message("random programs: %zu of %zu accepted by the verifier\n", accepted, total);
    /* Fewer would mean the generator drifted from what the verifier takes. */
    assert_true(accepted >= total / 3);

    bpf2c_module_t description = {
        .name = "random_programs",
        .programs = programs,
        .program_count = accepted,
        .verify = true,
    };
    assert_int_equal(native_test_directory_create(&directory), 0);
    if (native_test_build(&description, &directory, "random_programs", so_path, sizeof(so_path)) !=
            0 ||
        ebpf_native_module_open(so_path, &module) != 0)
        fail_msg("building the module: %s", ebpf_last_error());
    for (size_t p = 0; p < accepted; p++) {
        for (int c = 0; c < CONTEXTS; c++) {
            uint8_t context[RANDOM_CONTEXT_SIZE];
            for (size_t b = 0; b < sizeof(context); b += 4) {
                uint32_t value = random_next(&source);
                memcpy(context + b, &value, 4);
            }
            if (!random_program_compare(code[p], counts[p], module, (uint32_t)p, context))
                differences++;
        }
    }
    ebpf_native_module_close(module);
    native_test_directory_remove(&directory);
    print_message("random programs: %zu runs, %zu differ\n", accepted * CONTEXTS, differences);
    free(code);
    free(counts);
    free(programs);
    free(names);
    assert_int_equal(differences, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_verified_programs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
