/* Conformance plugin tests: runs the plugin binary the way the bpf_conformance suite does. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_test_program.h"

#define R0  BPF_REG_0
#define R1  BPF_REG_1
#define R2  BPF_REG_2
#define R10 BPF_REG_10

static const char *plugin_path;

typedef struct plugin_run {
    int status; /* exit status, or -1 when the plugin did not exit normally */
    char out[4096];
    char err[16384];
} plugin_run_t;

/* Appends what fd has to buffer; returns false at end of file. */
static bool drain(int fd, char *buffer, size_t capacity)
{
    size_t used = strlen(buffer);
    char scratch[1024];
    ssize_t got = read(fd, scratch, sizeof(scratch));

    if (got <= 0)
        return got < 0 && errno == EINTR;
    if (used + 1 < capacity) {
        size_t keep = (size_t)got < capacity - used - 1 ? (size_t)got : capacity - used - 1;
        memcpy(buffer + used, scratch, keep);
        buffer[used + keep] = '\0';
    }
    return true;
}

/* Runs the plugin with arguments (NULL-terminated) and stdin text. */
static void run_plugin(const char *const *arguments, const char *input, plugin_run_t *run)
{
    int in[2], out[2], err[2];
    const char *argv[16] = {plugin_path};
    size_t argc = 1;
    pid_t pid;
    int wait_status;

    memset(run, 0, sizeof(*run));
    for (; arguments && arguments[argc - 1]; argc++)
        argv[argc] = arguments[argc - 1];
    argv[argc] = NULL;
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        close(err[0]);
        close(err[1]);
        execv(plugin_path, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    /* Programs are small: the pipe holds them whole before the plugin reads. */
    assert_int_equal(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
    close(in[1]);

    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    bool open_out = true, open_err = true;
    while (open_out || open_err) {
        fds[0].fd = open_out ? out[0] : -1;
        fds[1].fd = open_err ? err[0] : -1;
        if (poll(fds, 2, 30000) <= 0)
            break;
        if (open_out && fds[0].revents)
            open_out = drain(out[0], run->out, sizeof(run->out));
        if (open_err && fds[1].revents)
            open_err = drain(err[0], run->err, sizeof(run->err));
    }
    close(out[0]);
    close(err[0]);
    assert_int_equal(waitpid(pid, &wait_status, 0), pid);
    run->status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
}

/* The suite's encoding: each byte as two hex digits and two spaces. */
static char *encode(const void *bytes, size_t size)
{
    char *text = malloc(size * 4 + 1);
    const uint8_t *b = bytes;

    assert_non_null(text);
    text[0] = '\0';
    for (size_t i = 0; i < size; i++)
        sprintf(text + 4 * i, "%02x  ", b[i]);
    return text;
}

#define ENCODE_PROGRAM(...)                                                                        \
    encode((const struct bpf_insn[]){__VA_ARGS__}, sizeof((const struct bpf_insn[]){__VA_ARGS__}))

static void expect_output(const char *const *arguments, char *program, const char *expected)
{
    plugin_run_t run;

    run_plugin(arguments, program, &run);
    if (run.status != 0)
        fail_msg("plugin exited with %d: %s", run.status, run.err);
    assert_string_equal(run.out, expected);
    assert_string_equal(run.err, "");
    free(program);
}

static void expect_failure(const char *const *arguments, char *program, int status,
                           const char *text)
{
    plugin_run_t run;

    run_plugin(arguments, program, &run);
    assert_int_equal(run.status, status);
    assert_string_equal(run.out, "");
    if (!strstr(run.err, text))
        fail_msg("stderr \"%s\" lacks \"%s\"", run.err, text);
    free(program);
}

static void test_prints_r0_in_hex(void **state)
{
    expect_output(NULL, ENCODE_PROGRAM(MOV64_IMM(R0, 42), EXIT()), "2a\n");
    expect_output(NULL, ENCODE_PROGRAM(LDDW(R0, UINT64_MAX), EXIT()), "ffffffffffffffff\n");
    expect_output(NULL, ENCODE_PROGRAM(MOV64_IMM(R0, 0), EXIT()), "0\n");
}

static void test_memory_argument_and_registers(void **state)
{
    const char *const memory[] = {"01  02  03  04  ", NULL};
    const char *const empty_arguments[] = {"", "", NULL};

    expect_output(memory, ENCODE_PROGRAM(LDX(BPF_W, R0, R1, 0), EXIT()), "4030201\n");
    expect_output(memory, ENCODE_PROGRAM(MOV64_REG(R0, R2), EXIT()), "4\n");
    /* The program may write its copy of the memory. */
    expect_output(memory, ENCODE_PROGRAM(ST(BPF_B, R1, 3, 9), LDX(BPF_B, R0, R1, 3), EXIT()),
                  "9\n");
    /* No memory: r1 and r2 are 0 (the suite passes empty arguments). */
    expect_output(empty_arguments,
                  ENCODE_PROGRAM(MOV64_REG(R0, R1), ALU64_REG(BPF_OR, R0, R2), EXIT()), "0\n");
    expect_failure(memory, ENCODE_PROGRAM(LDX(BPF_W, R0, R1, 2), EXIT()), 1,
                   "running the program: instruction 0");
}

static void test_helper_5_and_callx(void **state)
{
    expect_output(NULL, ENCODE_PROGRAM(MOV64_IMM(R1, 7), CALL_HELPER(5), EXIT()), "7\n");
    /* The suite's callx test: mov %r1, -1; mov %r2, 5; call %r2; mov %r0, 2; exit. */
    expect_output(
        NULL,
        ENCODE_PROGRAM(MOV64_IMM(R1, -1), MOV64_IMM(R2, 5), CALLX(R2), MOV64_IMM(R0, 2), EXIT()),
        "2\n");
    expect_failure(NULL, ENCODE_PROGRAM(CALL_HELPER(6), EXIT()), 1, "unknown helper id 6");
}

static void test_store_straddling_the_stack_top(void **state)
{
    /* As in the suite's call_local test: 8 bytes at r10-4 in the outermost frame. */
    expect_output(NULL,
                  ENCODE_PROGRAM(ST(BPF_DW, R10, -4, 0x44332211), LDX(BPF_W, R0, R10, -4), EXIT()),
                  "44332211\n");
}

static void test_errors(void **state)
{
    const char *const unknown[] = {"", "--frobnicate", NULL};
    const char *const elf[] = {"", "--elf", NULL};

    expect_failure(NULL, ENCODE_PROGRAM(INSN(0xff, 0, 0, 0, 0), EXIT()), 1,
                   "preparing the program: instruction 0: unknown opcode 0xff");
    expect_failure(NULL, ENCODE_PROGRAM(LDX(BPF_DW, R0, R10, 16), EXIT()), 1,
                   "runs past the top of the stack");
    expect_failure(unknown, ENCODE_PROGRAM(MOV64_IMM(R0, 1), EXIT()), 2,
                   "unknown option \"--frobnicate\"");
    /* --elf with raw instructions instead of an object: refused by the loader. */
    expect_failure(elf, ENCODE_PROGRAM(MOV64_IMM(R0, 1), EXIT()), 1, "not an ELF file");
    expect_failure(NULL, strdup("b7  00  0g  00"), 1, "expected two hex digits");
    expect_failure(NULL, strdup("b7  00  00  00"), 1, "not a positive multiple of 8");
    expect_failure(NULL, strdup(""), 1, "not a positive multiple of 8");
}

static void test_options(void **state)
{
    const char *const debug[] = {"", "--debug", NULL};
    const char *const budget[] = {"", "--debug --budget=5", NULL};
    const char *const bad_budget[] = {"", "--budget=many", NULL};
    plugin_run_t run;
    char *program = ENCODE_PROGRAM(MOV64_IMM(R0, 3), EXIT());

    run_plugin(debug, program, &run);
    free(program);
    assert_int_equal(run.status, 0);
    assert_string_equal(run.out, "3\n");
    assert_non_null(strstr(run.err, "    0: b7 0 0"));
    assert_non_null(strstr(run.err, "    1: 95"));
    assert_non_null(strstr(run.err, "r0=3"));

    expect_failure(budget, ENCODE_PROGRAM(JA(-1), EXIT()), 1, "budget of 5 is exhausted");
    expect_failure(bad_budget, ENCODE_PROGRAM(MOV64_IMM(R0, 1), EXIT()), 2, "not a number");

    /* Any whitespace, upper case and unseparated pairs are accepted. */
    expect_output(NULL, strdup("B7000000 2A000000\n9500000000000000"), "2a\n");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prints_r0_in_hex),
        cmocka_unit_test(test_memory_argument_and_registers),
        cmocka_unit_test(test_helper_5_and_callx),
        cmocka_unit_test(test_store_straddling_the_stack_top),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_options),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s <path of ebpf_conformance_plugin>\n", argv[0]);
        return 2;
    }
    plugin_path = argv[1];
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
