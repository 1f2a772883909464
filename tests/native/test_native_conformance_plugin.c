/* The conformance plugin with --native gives the interpreter's answers: each program (every
 * instruction class, the plugin's memory and helper conventions, errors) runs through the
 * plugin binary twice and the outputs and exit statuses must match. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec_test_program.h"

#define R0  BPF_REG_0
#define R1  BPF_REG_1
#define R2  BPF_REG_2
#define R3  BPF_REG_3
#define R6  BPF_REG_6
#define R10 BPF_REG_10

static const char *plugin_path;
static char scratch[256];

typedef struct answer {
    int status;
    char out[256];
} answer_t;

/* Runs the plugin with input on stdin (from a file); arguments are single-quoted. */
static void run_plugin(const char *input, size_t input_size, const char *arguments,
                       answer_t *answer)
{
    char input_path[300], command[1024];
    FILE *file, *pipe;

    snprintf(input_path, sizeof(input_path), "%s/input", scratch);
    file = fopen(input_path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(input, 1, input_size, file), input_size);
    assert_int_equal(fclose(file), 0);
    snprintf(command, sizeof(command), "'%s' %s < '%s' 2>/dev/null", plugin_path, arguments,
             input_path);
    pipe = popen(command, "r");
    assert_non_null(pipe);
    memset(answer, 0, sizeof(*answer));
    size_t got = fread(answer->out, 1, sizeof(answer->out) - 1, pipe);
    answer->out[got] = '\0';
    int status = pclose(pipe);
    answer->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void base16(const struct bpf_insn *code, uint32_t count, char *text, size_t size)
{
    const uint8_t *bytes = (const uint8_t *)code;
    size_t used = 0;
    for (size_t i = 0; i < count * sizeof(*code) && used + 4 < size; i++)
        used += (size_t)snprintf(text + used, size - used, "%02x ", bytes[i]);
}

/* The program gives the same answer natively; returns that answer. */
static answer_t same_answer(const struct bpf_insn *code, uint32_t count, const char *arguments)
{
    char text[8192], native_arguments[512];
    answer_t interpreted, native;

    base16(code, count, text, sizeof(text));
    snprintf(native_arguments, sizeof(native_arguments), "%s --native", arguments);
    run_plugin(text, strlen(text), arguments, &interpreted);
    run_plugin(text, strlen(text), native_arguments, &native);
    if (interpreted.status != native.status || strcmp(interpreted.out, native.out) != 0)
        fail_msg("interpreter: status %d \"%s\"; native: status %d \"%s\"", interpreted.status,
                 interpreted.out, native.status, native.out);
    return native;
}

#define SAME(expected_out, arguments, ...)                                                         \
    do {                                                                                           \
        answer_t answer_ = same_answer(PROGRAM(__VA_ARGS__), arguments);                           \
        assert_int_equal(answer_.status, 0);                                                       \
        assert_string_equal(answer_.out, expected_out);                                            \
    } while (0)

static void test_alu_and_jumps(void **state)
{
    SAME("12345678\n", "", MOV64_IMM(R0, 0x12345678), EXIT());
    SAME("8000000000000000\n", "", LDDW(R0, 0x8000000000000000ull), LDDW(R1, -1),
         SALU64_REG(BPF_DIV, R0, R1), SALU64_REG(BPF_MOD, R1, R1), ALU64_REG(BPF_OR, R0, R1),
         EXIT());
    SAME("0\n", "", MOV64_IMM(R0, 7), MOV64_IMM(R1, 0), ALU64_REG(BPF_DIV, R0, R1), EXIT());
    SAME("7\n", "", MOV64_IMM(R0, 7), MOV32_IMM(R1, 0), ALU32_REG(BPF_MOD, R0, R1), EXIT());
    SAME("fffffff8\n", "", MOV32_IMM(R0, -1), ALU32_IMM(BPF_LSH, R0, 35), EXIT());
    SAME("ffffffffffffff80\n", "", MOV64_IMM(R1, 0x180), MOVSX64(R0, R1, 8), EXIT());
    SAME("201\n", "", MOV64_IMM(R0, 0x102), BSWAP(R0, 16), EXIT());
    SAME("2\n", "", MOV64_IMM(R0, 1), MOV32_IMM(R1, -5), JMP32_IMM(BPF_JSLT, R1, -4, 1), EXIT(),
         MOV64_IMM(R0, 2), EXIT());
    SAME("3\n", "", MOV64_IMM(R0, 3), GOTOL(1), MOV64_IMM(R0, 4), EXIT());
}

static void test_memory_and_registers(void **state)
{
    /* r1 is the memory, r2 its length. */
    SAME("4030201\n", "'01 02 03 04 05'", LDX(BPF_W, R0, R1, 0), EXIT());
    SAME("5\n", "'01 02 03 04 05'", MOV64_REG(R0, R2), EXIT());
    SAME("ffffffffffffff81\n", "'81 00'", LDXSX(BPF_B, R0, R1, 0), EXIT());
    SAME("2a\n", "'00 00 00 00 00 00 00 00'", ST(BPF_DW, R1, 0, 40), MOV64_IMM(R2, 2),
         ATOMIC(BPF_DW, BPF_ADD | BPF_FETCH, R1, R2, 0), LDX(BPF_DW, R0, R1, 0), EXIT());
    /* The suite's store across the stack top, which the plugin allows. */
    SAME("44332211\n", "", ST(BPF_DW, R10, -4, 0x44332211), LDX(BPF_W, R0, R10, -4), EXIT());
}

static void test_calls(void **state)
{
    SAME("2a\n", "", MOV64_IMM(R1, 42), CALL_HELPER(5), EXIT());
    SAME("2b\n", "", MOV64_IMM(R1, 43), MOV64_IMM(R6, 5), CALLX(R6), EXIT());
    /* A local call with its own frame, and r6..r9 kept across it. */
    SAME("9\n", "", MOV64_IMM(R6, 4), MOV64_IMM(R1, 5), CALL_LOCAL(2), ALU64_REG(BPF_ADD, R0, R6),
         EXIT(), ST(BPF_DW, R10, -8, 0), MOV64_REG(R0, R1), MOV64_IMM(R6, 100), EXIT());
}

static void test_errors_match(void **state)
{
    /* Endless recursion: both stop at the call depth limit with the same status. */
    answer_t answer = same_answer(PROGRAM(CALL_LOCAL(-1), EXIT()), "");
    assert_int_equal(answer.status, 1);
    /* callx of a helper the plugin does not have. */
    answer = same_answer(PROGRAM(MOV64_IMM(R6, 99), CALLX(R6), EXIT()), "");
    assert_int_equal(answer.status, 1);
}

static void test_elf_object(void **state)
{
    char native[64];
    answer_t interpreted, compiled;
    FILE *object = fopen(CONFORMANCE_ELF_OBJECT, "rb");
    static char bytes[65536];

    assert_non_null(object);
    size_t size = fread(bytes, 1, sizeof(bytes), object);
    fclose(object);
    snprintf(native, sizeof(native), "'05  07' --elf --native");
    run_plugin(bytes, size, "'05  07' --elf", &interpreted);
    run_plugin(bytes, size, native, &compiled);
    assert_int_equal(interpreted.status, 0);
    assert_int_equal(compiled.status, 0);
    assert_string_equal(compiled.out, interpreted.out);
    assert_string_equal(compiled.out, "c\n");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alu_and_jumps), cmocka_unit_test(test_memory_and_registers),
        cmocka_unit_test(test_calls),         cmocka_unit_test(test_errors_match),
        cmocka_unit_test(test_elf_object),
    };
    if (argc != 2) {
        fprintf(stderr, "usage: %s PLUGIN\n", argv[0]);
        return 2;
    }
    plugin_path = argv[1];
    snprintf(scratch, sizeof(scratch), "%s/ebpf-plugin-test-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(scratch) == NULL)
        return 2;
    int failures = cmocka_run_group_tests(tests, NULL, NULL);
    char input[300];
    snprintf(input, sizeof(input), "%s/input", scratch);
    unlink(input);
    rmdir(scratch);
    return failures;
}
