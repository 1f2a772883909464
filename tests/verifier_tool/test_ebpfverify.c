/* The ebpfverify command on the objects the build compiles: statuses, reasons, types and bad
 * input. */
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

#include "ebpf_platform.h"
#include "verifier_tool_support.h"

static const char *tool_path;

typedef struct run {
    int status; /* exit status, or -1 when the tool did not exit normally */
    char output[65536];
} run_t;

/* Runs the tool with arguments (a shell word list) and keeps its stdout and stderr. */
static void run_tool(run_t *run, const char *fmt, ...)
{
    char arguments[1024], command[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(arguments, sizeof(arguments), fmt, ap);
    va_end(ap);
    snprintf(command, sizeof(command), "'%s' %s 2>&1", tool_path, arguments);
    FILE *pipe = popen(command, "r");
    assert_non_null(pipe);
    size_t length = fread(run->output, 1, sizeof(run->output) - 1, pipe);
    run->output[length] = '\0';
    int status = pclose(pipe);
    run->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle))
        count++;
    return count;
}

static void expect(const run_t *run, int status, const char *needle)
{
    if (run->status != status || (needle && !strstr(run->output, needle)))
        fail_msg("expected status %d and \"%s\", got status %d:\n%s", status, needle ? needle : "",
                 run->status, run->output);
}

static int setup(void **state)
{
    if (core_test_write_store() != 0) {
        fprintf(stderr, "cannot write the store: %s\n", ebpf_last_error());
        return -1;
    }
    return 0;
}

/* Every program of core_programs is verified against core_test from the store; only
 * reads_past_packet is rejected, so the status is 1. */
static void test_whole_object(void **state)
{
    run_t *run = malloc(sizeof(*run));
    assert_non_null(run);
    run_tool(run, BPF_OBJECT_DIR "/core_programs.o");
    expect(run, 1, "core_test/reads_past_packet: rejected as core_test");
    assert_non_null(strstr(run->output, "packet access out of bounds"));
    assert_non_null(strstr(run->output, "core_test/sum_packet: accepted as core_test"));
    assert_int_equal(count_of(run->output, ": rejected"), 1);
    assert_true(count_of(run->output, ": accepted") >= 10);
    free(run);
}

static void test_one_function(void **state)
{
    run_t *run = malloc(sizeof(*run));
    assert_non_null(run);
    run_tool(run, BPF_OBJECT_DIR "/core_programs.o --function ring_writer");
    expect(run, 0, "core_test/ring_writer: accepted");
    assert_int_equal(count_of(run->output, "accepted"), 1);
    /* By the type's name in the store, too. */
    run_tool(run, BPF_OBJECT_DIR "/core_programs.o --type core_test --function sum_packet");
    expect(run, 0, "core_test/sum_packet: accepted as core_test");
    free(run);
}

static void test_verbose_rejection(void **state)
{
    run_t *run = malloc(sizeof(*run));
    assert_non_null(run);
    run_tool(run, BPF_OBJECT_DIR "/core_programs.o --function reads_past_packet -v");
    expect(run, 1, "compare against data_end first");
    assert_non_null(strstr(run->output, "instruction "));
    assert_non_null(strstr(run->output, "the path to the error"));
    free(run);
}

/* A Linux section name gives the Linux type, as libbpf infers it. */
static void test_linux_section(void **state)
{
    run_t *run = malloc(sizeof(*run));
    assert_non_null(run);
    run_tool(run, BPF_OBJECT_DIR "/multi_prog.o --section xdp");
    expect(run, 0, "xdp/drop_all: accepted as xdp");
    run_tool(run, BPF_OBJECT_DIR "/multi_prog.o --function drop_all --type kprobe");
    expect(run, 0, "xdp/drop_all: accepted as kprobe");
    free(run);
}

/* Programs written for Linux: each good one accepted, each bad one rejected for its reason. */
static void test_linux_programs(void **state)
{
    static const struct {
        const char *function;
        const char *reason; /* NULL: accepted */
    } expected[] = {
        {"good_xdp_parser", NULL},
        {"good_xdp_flags", NULL},
        {"good_tc_checksum", NULL},
        {"good_socket_filter", NULL},
        {"good_kprobe", NULL},
        {"good_tracepoint", NULL},
        {"good_raw_tracepoint", NULL},
        {"good_perf_event", NULL},
        {"good_cgroup_skb", NULL},
        {"good_sock_ops", NULL},
        {"bad_null_dereference", "r0 may be NULL: check the result of bpf_map_lookup_elem"},
        {"bad_off_by_one", "only proves 14 bytes"},
        {"bad_unreleased_record", "unreleased reference"},
        {"bad_context_write", "read-only"},
        {"bad_socket_direct_access", "invalid context access"},
        {"bad_helper_for_another_type", "unknown helper 23"},
    };
    run_t *run = malloc(sizeof(*run));
    assert_non_null(run);
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(expected); i++) {
        char verdict[128];
        const char *object =
            expected[i].reason ? REJECTED_OBJECT : BPF_OBJECT_DIR "/verifier_linux_programs.o";
        run_tool(run, "%s --function %s", object, expected[i].function);
        snprintf(verdict, sizeof(verdict), "/%s: %s", expected[i].function,
                 expected[i].reason ? "rejected" : "accepted");
        expect(run, expected[i].reason ? 1 : 0, verdict);
        if (expected[i].reason)
            expect(run, 1, expected[i].reason);
    }
    /* Whole objects: every program reported, the status saying whether one was rejected. */
    run_tool(run, BPF_OBJECT_DIR "/verifier_linux_programs.o");
    expect(run, 0, "good_xdp_parser: accepted as xdp");
    assert_int_equal(count_of(run->output, ": accepted as "), 10);
    run_tool(run, REJECTED_OBJECT);
    expect(run, 1, "bad_off_by_one: rejected as xdp");
    assert_int_equal(count_of(run->output, ": rejected as "), 6);
    free(run);
}

static void test_bad_input(void **state)
{
    run_t *run = malloc(sizeof(*run));
    char path[] = "/tmp/ebpfverify_garbage_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "this is not an ELF object", 25), 25);
    close(fd);
    assert_non_null(run);

    run_tool(run, "'%s'", path);
    expect(run, 2, "cannot read the object");
    unlink(path);
    run_tool(run, "/nonexistent/object.o");
    expect(run, 2, "cannot read the object");
    run_tool(run, BPF_OBJECT_DIR "/core_programs.o --type no_such_type");
    expect(run, 2, "unknown program type 'no_such_type'");
    run_tool(run, BPF_OBJECT_DIR "/core_programs.o --function no_such_function");
    expect(run, 2, "no program matches");
    run_tool(run, "--budget zero " BPF_OBJECT_DIR "/core_programs.o");
    expect(run, 2, "--budget needs a positive number");
    run_tool(run, "");
    expect(run, 2, "usage: ebpfverify");
    free(run);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_object),      cmocka_unit_test(test_one_function),
        cmocka_unit_test(test_verbose_rejection), cmocka_unit_test(test_linux_section),
        cmocka_unit_test(test_linux_programs),    cmocka_unit_test(test_bad_input),
    };
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH_TO_EBPFVERIFY\n", argv[0]);
        return 2;
    }
    tool_path = argv[1];
    return cmocka_run_group_tests(tests, setup, NULL);
}
