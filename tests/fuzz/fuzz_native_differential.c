/* Fuzz target: native code against the interpreter on random verified programs. The input
 * drives the program generator (tests/native/random_program.c) and the contexts; a program the
 * verifier accepts is translated by bpf2c, compiled, loaded and run both ways, and any
 * difference in r0, error or context aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebpf_platform.h"
#include "ebpf_verifier.h"
#include "native_test_support.h"
#include "random_program.h"

static native_test_directory_t directory;
static bool directory_ready;
static unsigned builds;

static void remove_directory(void)
{
    native_test_directory_remove(&directory);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bpf_insn code[RANDOM_PROGRAM_CAPACITY];
    ebpf_verifier_options_t options = {
        .find_helper = ebpf_native_find_helper_prototype,
        .find_helper_context = (void *)random_program_info(),
    };
    ebpf_verifier_result_t verdict = {0};
    ebpf_native_module_t *module = NULL;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    char name[32], so_path[512], source_path[512];

    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 0x100000001b3ull;
    random_source_t source = {.bytes = data, .size = size, .state = seed | 1};
    uint32_t count = random_program(&source, code);
    int rc = ebpf_verify_program(code, count, random_program_info(), NULL, 0, &options, &verdict);
    ebpf_verifier_result_free(&verdict);
    if (rc != 0)
        return 0;

    if (!directory_ready) {
        if (native_test_directory_create(&directory) != 0)
            abort();
        directory_ready = true;
        atexit(remove_directory);
    }
    /* A new name each time: a module dlopen still knows would not be read again. */
    snprintf(name, sizeof(name), "fuzz_%u", builds++);
    bpf2c_program_t program = {
        .name = "fuzzed",
        .section_name = "random",
        .instructions = code,
        .instruction_count = count,
        .program_info = random_program_info(),
    };
    bpf2c_module_t description = {
        .name = "fuzz", .programs = &program, .program_count = 1, .verify = true};
    if (native_test_build(&description, &directory, name, so_path, sizeof(so_path)) != 0 ||
        ebpf_native_module_open(so_path, &module) != 0) {
        fprintf(stderr, "fuzz_native_differential: %s\n", ebpf_last_error());
        abort();
    }
    for (int c = 0; c < 2; c++) {
        uint8_t context[RANDOM_CONTEXT_SIZE];
        for (size_t b = 0; b < sizeof(context); b += 4) {
            uint32_t value = random_next(&source);
            memcpy(context + b, &value, 4);
        }
        if (!random_program_compare(code, count, module, 0, context))
            abort();
    }
    ebpf_native_module_close(module);
    unlink(so_path);
    native_test_path(&directory, name, source_path, sizeof(source_path));
    strncat(source_path, ".c", sizeof(source_path) - strlen(source_path) - 1);
    unlink(source_path);
    return 0;
}
