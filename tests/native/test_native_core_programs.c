/* The core's test programs (tests/core/core_programs.bpf.c) native and in the interpreter: the
 * same test-run sequence on two objects loaded from the same module gives the same results and
 * leaves the same maps; plus what attaching a module checks. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core_test_type.h"
#include "ebpf_core.h"
#include "ebpf_exec.h"
#include "ebpf_map.h"
#include "ebpf_object.h"
#include "ebpf_platform.h"
#include "native_test_support.h"

/* The one program of the object no verifier accepts (it reads past the packet). */
#define REJECTED_PROGRAM "reads_past_packet"

typedef struct fixture {
    native_test_directory_t directory;
    ebpf_elf_object_t *elf;         /* core_programs.o */
    ebpf_native_module_t *module;   /* its verified programs, translated */
    ebpf_elf_object_t *description; /* the module as an object */
    ebpf_object_t *interpreted;     /* loaded from the description, interpreter */
    ebpf_object_t *native;          /* loaded from the description, the module attached */
} fixture_t;

static int resolve(void *context, const char *section, const ebpf_program_data_t **data)
{
    *data = context;
    return 0;
}

/* Every program of the object but those named skip (NULL: all). */
static size_t programs_of(const ebpf_elf_object_t *elf, const char *skip, bpf2c_program_t *out)
{
    size_t count = 0;
    for (size_t i = 0; i < elf->program_count; i++) {
        const ebpf_elf_program_t *program = &elf->programs[i];
        if (skip != NULL && strcmp(program->function_name, skip) == 0)
            continue;
        out[count++] = (bpf2c_program_t){
            .name = program->function_name,
            .section_name = program->section_name,
            .instructions = program->instructions,
            .instruction_count = (uint32_t)program->instruction_count,
            .line_info = program->line_info,
            .program_info = core_test_program_data.program_info,
            .object_index = (uint32_t)i,
        };
    }
    return count;
}

static bpf2c_module_t module_of(const ebpf_elf_object_t *elf, bpf2c_program_t *programs,
                                size_t count)
{
    return (bpf2c_module_t){
        .name = "core_programs.o",
        .license = elf->license,
        .programs = programs,
        .program_count = count,
        .maps = elf->maps,
        .map_count = elf->map_count,
        .verify = true,
    };
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    bpf2c_program_t programs[32];
    char so_path[512];

    *state = f;
    if (f == NULL || native_test_directory_create(&f->directory) != 0 ||
        ebpf_elf_open_file(CORE_PROGRAMS_OBJECT, &f->elf) != 0 || f->elf->program_count > 32) {
        fprintf(stderr, "setup: %s\n", ebpf_last_error());
        return -1;
    }
    size_t count = programs_of(f->elf, REJECTED_PROGRAM, programs);
    bpf2c_module_t module = module_of(f->elf, programs, count);
    if (native_test_build(&module, &f->directory, "core_programs", so_path, sizeof(so_path)) != 0 ||
        ebpf_native_module_open(so_path, &f->module) != 0 ||
        ebpf_native_module_describe(f->module, &f->description) != 0 ||
        ebpf_object_load_elf(f->description, resolve, (void *)&core_test_program_data,
                             &f->interpreted) != 0 ||
        ebpf_object_load_elf(f->description, resolve, (void *)&core_test_program_data,
                             &f->native) != 0 ||
        ebpf_native_module_attach(f->module, f->native->programs, f->native->program_count,
                                  f->native->maps, f->native->map_count) != 0) {
        fprintf(stderr, "setup: %s\n", ebpf_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    ebpf_object_unload(f->native);
    ebpf_object_unload(f->interpreted);
    ebpf_native_module_close(f->module);
    ebpf_elf_free(f->description);
    ebpf_elf_free(f->elf);
    native_test_directory_remove(&f->directory);
    free(f);
    ebpf_epoch_drain();
    return 0;
}

/* ---- one test-run ---- */

typedef struct outcome {
    const char *program;
    int rc;
    uint32_t retval;
    core_test_context_t context;
    uint8_t data[128];
    uint32_t data_size;
} outcome_t;

static ebpf_program_t *find_program(const ebpf_object_t *object, const ebpf_elf_object_t *elf,
                                    const char *name)
{
    ebpf_program_t *program = ebpf_object_find_program(object, elf, name);
    if (program == NULL)
        fail_msg("no program %s", name);
    return program;
}

static void run(const fixture_t *f, const ebpf_object_t *object, const char *name, const void *data,
                uint32_t size, uint64_t value, outcome_t *out)
{
    core_test_context_t in = {.value = value};
    ebpf_test_run_options_t options = {
        .data_in = data,
        .data_size_in = size,
        .data_out = out->data,
        .data_size_out = sizeof(out->data),
        .ctx_in = &in,
        .ctx_size_in = sizeof(in),
        .ctx_out = &out->context,
        .ctx_size_out = sizeof(out->context),
    };
    memset(out, 0, sizeof(*out));
    out->program = name;
    out->rc = ebpf_program_test_run(find_program(object, f->description, name), &options);
    out->retval = options.retval;
    out->data_size = options.data_size_out;
    /* The packet pointers differ from run to run; the rest must not. */
    out->context.data = 0;
    out->context.data_end = 0;
}

/* The same sequence for both objects (maps carry state from one run to the next). */
static size_t scenario(const fixture_t *f, const ebpf_object_t *object, outcome_t *outcomes)
{
    uint8_t packet[100], one = 9, eight[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t n = 0;

    for (int i = 0; i < 100; i++)
        packet[i] = (uint8_t)(i * 7);
    run(f, object, "sum_packet", packet, sizeof(packet), 0, &outcomes[n++]);
    run(f, object, "sum_packet", &one, 1, 0, &outcomes[n++]);
    run(f, object, "map_operations", &one, 1, 77, &outcomes[n++]);
    run(f, object, "map_operations", &one, 1, 78, &outcomes[n++]);
    run(f, object, "ring_writer", eight, sizeof(eight), 0, &outcomes[n++]);
    run(f, object, "ring_writer", &one, 1, 0, &outcomes[n++]);
    run(f, object, "queue_and_stack", &one, 1, 0, &outcomes[n++]);
    for (uint64_t slot = 0; slot < 4; slot++)
        run(f, object, "tail_caller", &one, 1, slot, &outcomes[n++]);
    run(f, object, "tail_target", &one, 1, 0, &outcomes[n++]);
    for (int i = 0; i < 3; i++)
        run(f, object, "use_globals", packet, 10, 0, &outcomes[n++]);
    run(f, object, "inner_map_lookup", &one, 1, 0, &outcomes[n++]);
    run(f, object, "inner_map_lookup", &one, 1, 0, &outcomes[n++]);
    run(f, object, "misc_helpers", &one, 1, 0, &outcomes[n++]);
    run(f, object, "perf_writer", eight, sizeof(eight), 0, &outcomes[n++]);
    for (uint64_t value = 0; value < 12; value++)
        run(f, object, "table_touch", &one, 1, value, &outcomes[n++]);
    for (uint64_t value = 0; value < 3; value++)
        run(f, object, "ring_sequence", &one, 1, value << 32 | value, &outcomes[n++]);
    /* In range, at the end of each array, past it, and far past it (inlined lookups). */
    static const uint64_t keys[] = {0, 1, 3, 4, 5, UINT32_MAX, UINT64_C(1) << 32};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        run(f, object, "array_lookup_bounds", &one, 1, keys[i], &outcomes[n++]);
    return n;
}

static void test_every_program_gives_the_interpreters_results(void **state)
{
    fixture_t *f = *state;
    outcome_t interpreted[64], native[64];
    size_t count = scenario(f, f->interpreted, interpreted);

    assert_int_equal(scenario(f, f->native, native), count);
    for (size_t i = 0; i < count; i++) {
        if (interpreted[i].rc != native[i].rc || interpreted[i].retval != native[i].retval ||
            memcmp(&interpreted[i].context, &native[i].context, sizeof(native[i].context)) != 0 ||
            interpreted[i].data_size != native[i].data_size ||
            memcmp(interpreted[i].data, native[i].data, sizeof(native[i].data)) != 0)
            fail_msg("run %zu (%s): interpreter rc %d retval %u value %llu, native rc %d retval "
                     "%u value %llu",
                     i, interpreted[i].program, interpreted[i].rc, interpreted[i].retval,
                     (unsigned long long)interpreted[i].context.value, native[i].rc,
                     native[i].retval, (unsigned long long)native[i].context.value);
    }
    /* Spot checks of what the programs compute (tests/core checks them in detail). */
    assert_int_equal(native[0].rc, 0);
    assert_int_equal(native[0].context.value, 100);
    assert_int_equal(native[9].retval, 42); /* tail call through slot 2 */
    assert_int_equal(native[8].retval, 7);  /* slot 1 is empty */
    print_message("core programs: %zu test-runs identical in native code and the interpreter\n",
                  count);
}

static void compare_map(const fixture_t *f, const char *name, uint32_t keys)
{
    ebpf_map_t *a = ebpf_object_find_map(f->interpreted, f->description, name);
    ebpf_map_t *b = ebpf_object_find_map(f->native, f->description, name);
    assert_non_null(a);
    assert_non_null(b);
    uint32_t size = ebpf_map_user_value_size(a);
    uint8_t *va = calloc(1, size), *vb = calloc(1, size);
    for (uint32_t key = 0; key < keys; key++) {
        int ra = ebpf_map_lookup_user(a, &key, va, 0), rb = ebpf_map_lookup_user(b, &key, vb, 0);
        assert_int_equal(ra, rb);
        if (ra == 0 && memcmp(va, vb, size) != 0)
            fail_msg("map %s key %u differs", name, key);
    }
    free(va);
    free(vb);
}

static void test_maps_end_the_same(void **state)
{
    fixture_t *f = *state;
    compare_map(f, "counters", 4);
    compare_map(f, "table", 16);
    compare_map(f, "per_cpu", 1);
    compare_map(f, "inner", 1);
    compare_map(f, ".data", 1);
    compare_map(f, ".bss", 1);
}

static void test_rejected_program_gets_no_code(void **state)
{
    fixture_t *f = *state;
    bpf2c_program_t programs[32];
    size_t count = programs_of(f->elf, NULL, programs);
    bpf2c_module_t module = module_of(f->elf, programs, count);
    char path[512];

    native_test_path(&f->directory, "rejected.c", path, sizeof(path));
    assert_int_equal(bpf2c_translate_to_file(&module, path), -EACCES);
    assert_non_null(strstr(ebpf_last_error(), REJECTED_PROGRAM));
    assert_non_null(strstr(ebpf_last_error(), "rejected by the verifier"));
    assert_int_equal(access(path, F_OK), -1); /* nothing left behind */
}

static void test_attach_twice_refused(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(ebpf_native_module_attach(f->module, f->interpreted->programs,
                                               f->interpreted->program_count, f->interpreted->maps,
                                               f->interpreted->map_count),
                     -EALREADY);
    assert_non_null(strstr(ebpf_last_error(), "cannot be loaded twice"));
}

/* The type's information changed since translation (here its name and number): refused. */
static void test_changed_program_information_refused(void **state)
{
    fixture_t *f = *state;
    ebpf_native_module_t *second;
    ebpf_object_t *object;
    char so_path[512];
    const ebpf_program_info_t *original = core_test_program_data.program_info;
    ebpf_program_type_descriptor_t descriptor = *original->program_type_descriptor;
    ebpf_program_info_t info = *original;
    ebpf_program_data_t data = core_test_program_data;

    descriptor.name = "core_test_v2";
    descriptor.bpf_prog_type = 1999;
    info.program_type_descriptor = &descriptor;
    data.program_info = &info;
    native_test_path(&f->directory, "core_programs.so", so_path, sizeof(so_path));
    assert_int_equal(ebpf_native_module_open(so_path, &second), 0);
    assert_int_equal(ebpf_object_load_elf(f->description, resolve, &data, &object), 0);
    assert_int_equal(ebpf_native_module_attach(second, object->programs, object->program_count,
                                               object->maps, object->map_count),
                     -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "extension changed since verification"));
    assert_non_null(strstr(ebpf_last_error(), "core_test_v2"));
    assert_false(ebpf_native_module_is_attached(second));
    ebpf_object_unload(object);
    ebpf_native_module_close(second);
}

/* Detached, the programs run the interpreter again with the same results. */
static void test_detached_programs_run_the_interpreter(void **state)
{
    fixture_t *f = *state;
    uint8_t packet[3] = {1, 2, 3};
    outcome_t before, after;

    run(f, f->native, "sum_packet", packet, sizeof(packet), 0, &before);
    ebpf_native_module_detach(f->module);
    assert_false(ebpf_native_module_is_attached(f->module));
    run(f, f->native, "sum_packet", packet, sizeof(packet), 0, &after);
    assert_int_equal(before.rc, 0);
    assert_int_equal(after.rc, 0);
    assert_int_equal(before.retval, 6);
    assert_int_equal(after.retval, 6);
    /* And it can be attached again. */
    assert_int_equal(ebpf_native_module_attach(f->module, f->native->programs,
                                               f->native->program_count, f->native->maps,
                                               f->native->map_count),
                     0);
}

/* ---- unloading under running invocations ---- */

typedef struct invoker {
    ebpf_program_t *program;
    _Atomic uint64_t runs;
    _Atomic uint64_t failures;
    _Atomic bool stop;
} invoker_t;

static void *invoke_until_stopped(void *argument)
{
    invoker_t *invoker = argument;
    uint8_t byte = 9;

    while (!atomic_load(&invoker->stop)) {
        ebpf_test_run_options_t options = {.data_in = &byte, .data_size_in = 1};
        if (ebpf_program_test_run(invoker->program, &options) != 0 || options.retval != 9)
            atomic_fetch_add(&invoker->failures, 1);
        atomic_fetch_add(&invoker->runs, 1);
    }
    return NULL;
}

/* Waits (bounded) until the invoker made count runs in all. */
static bool runs_reach(invoker_t *invoker, uint64_t count)
{
    for (uint64_t spins = 0; spins < 100000000ull; spins++) {
        if (atomic_load(&invoker->runs) >= count)
            return true;
        sched_yield();
    }
    return false;
}

/* A thread invokes a native program without pause while its module is closed: the close waits
 * out the invocations inside the code, dlclose unmaps it, and the program (still referenced by
 * the thread) runs on in the interpreter with the same result. */
static void test_unload_waits_for_running_invocations(void **state)
{
    fixture_t *f = *state;
    char original[512], copy[512], command[1200];
    ebpf_native_module_t *module;
    ebpf_object_t *object;
    invoker_t invoker = {0};
    pthread_t thread;

    /* A copy of its own, so closing it really unmaps the code. */
    native_test_path(&f->directory, "core_programs.so", original, sizeof(original));
    native_test_path(&f->directory, "unload_copy.so", copy, sizeof(copy));
    snprintf(command, sizeof(command), "cp '%s' '%s'", original, copy);
    assert_int_equal(system(command), 0);
    assert_int_equal(ebpf_native_module_open(copy, &module), 0);
    assert_int_equal(
        ebpf_object_load_elf(f->description, resolve, (void *)&core_test_program_data, &object), 0);
    assert_int_equal(ebpf_native_module_attach(module, object->programs, object->program_count,
                                               object->maps, object->map_count),
                     0);
    invoker.program = find_program(object, f->description, "sum_packet");
    ebpf_program_acquire(invoker.program);
    assert_int_equal(pthread_create(&thread, NULL, invoke_until_stopped, &invoker), 0);
    assert_true(runs_reach(&invoker, 200));

    ebpf_object_unload(object);
    ebpf_native_module_close(module);
    assert_null(dlopen(copy, RTLD_NOW | RTLD_NOLOAD)); /* the code is gone */
    uint64_t at_close = atomic_load(&invoker.runs);
    assert_true(runs_reach(&invoker, at_close + 200));

    atomic_store(&invoker.stop, true);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(atomic_load(&invoker.failures), 0);
    ebpf_program_release(invoker.program);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_program_gives_the_interpreters_results),
        cmocka_unit_test(test_maps_end_the_same),
        cmocka_unit_test(test_rejected_program_gets_no_code),
        cmocka_unit_test(test_attach_twice_refused),
        cmocka_unit_test(test_changed_program_information_refused),
        cmocka_unit_test(test_detached_programs_run_the_interpreter),
        cmocka_unit_test(test_unload_waits_for_running_invocations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
