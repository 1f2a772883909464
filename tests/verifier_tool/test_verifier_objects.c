/* The verifier on the objects the build compiles: what must be accepted is, what must not is
 * rejected with its reason, and failures of memory leave nothing behind. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebpf_core.h"
#include "ebpf_elf.h"
#include "ebpf_platform.h"
#include "ebpf_verifier.h"
#include "verifier_tool_support.h"

typedef struct loaded {
    ebpf_elf_object_t *object;
    ebpf_verifier_map_t *maps;
} loaded_t;

static void load(const char *name, loaded_t *loaded)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.o", BPF_OBJECT_DIR, name);
    if (ebpf_elf_open_file(path, &loaded->object) != 0)
        fail_msg("cannot open %s: %s", path, ebpf_last_error());
    loaded->maps = verifier_maps_of(loaded->object);
    assert_non_null(loaded->maps);
}

static void unload(loaded_t *loaded)
{
    verifier_maps_free(loaded->maps);
    ebpf_elf_free(loaded->object);
}

static const ebpf_elf_program_t *program_named(const loaded_t *loaded, const char *function)
{
    const ebpf_elf_program_t *program = ebpf_elf_find_program_by_function(loaded->object, function);
    if (!program)
        fail_msg("no program %s", function);
    return program;
}

static int verify(const loaded_t *loaded, const ebpf_elf_program_t *program,
                  ebpf_verifier_options_t *options, ebpf_verifier_result_t *result)
{
    ebpf_verifier_line_info_t *lines = NULL;
    if (program->line_info) {
        lines = calloc(program->instruction_count, sizeof(*lines));
        assert_non_null(lines);
        for (size_t i = 0; i < program->instruction_count; i++)
            lines[i] = (ebpf_verifier_line_info_t){
                program->line_info[i].file_name, program->line_info[i].line_text,
                program->line_info[i].line, program->line_info[i].column};
    }
    options->line_info = lines;
    options->find_helper = core_test_find_helper;
    int rc = ebpf_verify_program(program->instructions, (uint32_t)program->instruction_count,
                                 &core_test_program_info, loaded->maps,
                                 (uint32_t)loaded->object->map_count, options, result);
    free(lines);
    options->line_info = NULL;
    return rc;
}

/* Every core_test program is accepted but the one reading past the packet. */
static void test_core_programs(void **state)
{
    loaded_t loaded;
    size_t accepted = 0;

    load("core_programs", &loaded);
    for (size_t i = 0; i < loaded.object->program_count; i++) {
        const ebpf_elf_program_t *program = &loaded.object->programs[i];
        ebpf_verifier_options_t options = {0};
        ebpf_verifier_result_t result;
        int rc = verify(&loaded, program, &options, &result);
        bool expect_reject = strcmp(program->function_name, "reads_past_packet") == 0;
        if (expect_reject) {
            assert_int_equal(rc, -EACCES);
            assert_false(result.accepted);
            assert_non_null(result.log);
            assert_non_null(strstr(result.log, "packet access out of bounds"));
            assert_non_null(strstr(result.log, "compare against data_end first"));
            /* The source line is named. */
            assert_non_null(strstr(result.log, "core_programs.bpf.c:"));
            assert_non_null(strstr(ebpf_last_error(), "packet access out of bounds"));
        } else {
            if (rc != 0)
                fail_msg("%s rejected: %s", program->function_name, result.log);
            assert_true(result.accepted);
            assert_null(result.log);
            assert_true(result.processed_instructions >= program->instruction_count / 2);
            accepted++;
        }
        ebpf_verifier_result_free(&result);
    }
    assert_int_equal(accepted, loaded.object->program_count - 1);
    unload(&loaded);
}

/* The verbose log replays the failing path with the state before each instruction. */
static void test_verbose_log_shows_the_path(void **state)
{
    loaded_t loaded;
    ebpf_verifier_options_t options = {.verbose = true};
    ebpf_verifier_result_t result;

    load("core_programs", &loaded);
    assert_int_equal(
        verify(&loaded, program_named(&loaded, "reads_past_packet"), &options, &result), -EACCES);
    assert_non_null(strstr(result.log, "the path to the error"));
    assert_non_null(strstr(result.log, "r1=ctx+0"));
    assert_non_null(strstr(result.log, "pkt+0(r=0)"));
    ebpf_verifier_result_free(&result);
    unload(&loaded);
}

/* A small budget stops the bounded loop of sum_packet with the budget's reason. */
static void test_instruction_budget(void **state)
{
    loaded_t loaded;
    ebpf_verifier_options_t options = {.instruction_budget = 50};
    ebpf_verifier_result_t result;

    load("core_programs", &loaded);
    assert_int_equal(verify(&loaded, program_named(&loaded, "sum_packet"), &options, &result),
                     -EACCES);
    assert_non_null(strstr(result.log, "exceeded the instruction budget of 50"));
    assert_true(result.processed_instructions <= 51);
    ebpf_verifier_result_free(&result);
    unload(&loaded);
}

/* Failing each allocation in turn gives -ENOMEM (or the normal result when the failed
 * allocation is not needed) and never leaks. */
static void test_allocation_failures(void **state)
{
    loaded_t loaded;
    const char *functions[] = {"sum_packet", "ring_writer", "reads_past_packet"};

    load("core_programs", &loaded);
    for (size_t f = 0; f < EBPF_ARRAY_SIZE(functions); f++) {
        const ebpf_elf_program_t *program = program_named(&loaded, functions[f]);
        bool reject = strcmp(functions[f], "reads_past_packet") == 0;
        for (uint64_t n = 1;; n++) {
            ebpf_verifier_options_t options = {.verbose = reject};
            ebpf_verifier_result_t result;
            int64_t before = ebpf_allocation_outstanding();
            ebpf_fault_fail_nth(n);
            int rc = verify(&loaded, program, &options, &result);
            bool injected = ebpf_fault_injected_count() > 0;
            ebpf_fault_reset();
            if (rc == -ENOMEM) {
                assert_true(injected);
                assert_false(result.accepted);
                assert_null(result.log);
            } else {
                assert_int_equal(rc, reject ? -EACCES : 0);
                ebpf_verifier_result_free(&result);
            }
            assert_int_equal(ebpf_allocation_outstanding(), before);
            if (!injected)
                break;
            assert_true(n < 100000);
        }
    }
    unload(&loaded);
}

/* The assembly of the kernel's verifier log. */
static void test_disassembly(void **state)
{
    const struct bpf_insn program[] = {
        {.code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 1, .src_reg = 2, .off = 4},
        {.code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = 10, .src_reg = 1, .off = -8},
        {.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 3, .imm = -4},
        {.code = BPF_ALU | BPF_MOV | BPF_X, .dst_reg = 3, .src_reg = 4},
        {.code = BPF_JMP | BPF_JGT | BPF_X, .dst_reg = 3, .src_reg = 4, .off = 2},
        {.code = BPF_JMP32 | BPF_JSLT | BPF_K, .dst_reg = 3, .imm = 5, .off = -3},
        {.code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = 1, .src_reg = 2, .imm = BPF_ADD},
        {.code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = 1, .imm = 0x12},
        {.code = 0, .imm = 0},
        {.code = BPF_JMP | BPF_CALL, .imm = 1},
        {.code = BPF_JMP | BPF_EXIT},
    };
    const char *expected[] = {
        "r1 = *(u32 *)(r2 + 4)",
        "*(u64 *)(r10 - 8) = r1",
        "r3 += -4",
        "w3 = w4",
        "if r3 > r4 goto pc+2",
        "if w3 s< 0x5 goto pc-3",
        "lock *(u64 *)(r1 + 0) += r2",
        "r1 = 0x12 ll",
        NULL,
        "call #1",
        "exit",
    };
    char text[128];
    for (uint32_t i = 0; i < EBPF_ARRAY_SIZE(program); i++) {
        if (!expected[i])
            continue;
        int written = ebpf_disassemble(program, EBPF_ARRAY_SIZE(program), i, text, sizeof(text));
        assert_int_equal(written, (int)strlen(expected[i]));
        assert_string_equal(text, expected[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core_programs),
        cmocka_unit_test(test_verbose_log_shows_the_path),
        cmocka_unit_test(test_instruction_budget),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_disassembly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
