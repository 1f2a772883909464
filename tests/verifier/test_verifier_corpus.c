/* Runs the verifier corpus: every case accepted or rejected with its reason, one test per topic. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebpf_platform.h"
#include "ebpf_verifier.h"
#include "verifier_corpus.h"

typedef struct corpus_group {
    const char *topic;
    const corpus_case_t *cases;
    const size_t *count;
} corpus_group_t;

#define GROUP(topic)                                                                               \
    {                                                                                              \
#topic, corpus_##topic##_cases, &corpus_##topic##_case_count                               \
    }

static const corpus_group_t groups[] = {
    GROUP(null),
    GROUP(packet),
    GROUP(map_value),
    GROUP(stack),
    GROUP(registers),
    GROUP(leaks),
    GROUP(ringbuf),
    GROUP(loops),
    GROUP(helpers),
    GROUP(alu32),
    GROUP(signedness),
    GROUP(structure),
    GROUP(atomics),
    GROUP(context),
    GROUP(extensions),
    GROUP(tail_calls),
    GROUP(pointer_arithmetic),
    GROUP(pruning),
};

/* True when log contains one of the '|'-separated alternatives of expected ("" matches all). */
static bool log_matches(const char *log, const char *expected)
{
    const char *start = expected;

    if (expected[0] == '\0')
        return true;
    if (log == NULL)
        return false;
    for (;;) {
        const char *bar = strchr(start, '|');
        size_t length = bar != NULL ? (size_t)(bar - start) : strlen(start);
        if (length > 0 && memmem(log, strlen(log), start, length) != NULL)
            return true;
        if (bar == NULL)
            return false;
        start = bar + 1;
    }
}

/* ------------------------------------------------------------------------------------------
 * Self-check of the corpus: a case meant to be accepted must at least be well formed, so a
 * miscounted jump offset in the corpus shows up as a corpus error rather than as a verifier
 * disagreement.
 * ------------------------------------------------------------------------------------------ */

static bool is_ld_imm64(const struct bpf_insn *instruction)
{
    return instruction->code == (BPF_LD | BPF_DW | BPF_IMM);
}

static bool is_local_call(const struct bpf_insn *instruction)
{
    return instruction->code == (BPF_JMP | BPF_CALL) && instruction->src_reg == BPF_PSEUDO_CALL;
}

/* The targets of instruction pc (up to two), as indexes; returns how many. */
static int successors(const corpus_case_t *c, uint32_t pc, int64_t next[2])
{
    const struct bpf_insn *instruction = &c->instructions[pc];
    uint8_t class = BPF_CLASS(instruction->code);
    uint8_t op = BPF_OP(instruction->code);

    if (is_ld_imm64(instruction)) {
        next[0] = pc + 2;
        return 1;
    }
    if (class != BPF_JMP && class != BPF_JMP32) {
        next[0] = pc + 1;
        return 1;
    }
    if (op == BPF_EXIT)
        return 0;
    if (op == BPF_CALL) {
        next[0] = pc + 1;
        if (is_local_call(instruction)) {
            next[1] = (int64_t)pc + 1 + instruction->imm;
            return 2;
        }
        return 1;
    }
    if (op == BPF_JA) {
        next[0] = (int64_t)pc + 1 + (class == BPF_JMP32 ? instruction->imm : instruction->off);
        return 1;
    }
    next[0] = pc + 1;
    next[1] = (int64_t)pc + 1 + instruction->off;
    return 2;
}

/* NULL when well formed, else what is wrong. */
static const char *corpus_structure_error(const corpus_case_t *c)
{
    bool reached[1024] = {false};
    bool second_half[1024] = {false};
    uint32_t stack[1024];
    uint32_t depth = 0;

    if (c->count == 0 || c->count > 1024)
        return "instruction count";
    for (uint32_t pc = 0; pc < c->count; pc++) {
        if (is_ld_imm64(&c->instructions[pc])) {
            if (pc + 1 >= c->count)
                return "ld_imm64 split at the end";
            second_half[++pc] = true;
        }
    }
    stack[depth++] = 0;
    reached[0] = true;
    while (depth > 0) {
        uint32_t pc = stack[--depth];
        int64_t next[2];
        int count = successors(c, pc, next);
        for (int i = 0; i < count; i++) {
            if (next[i] == (int64_t)c->count)
                return "falls off the end or jumps past it";
            if (next[i] < 0 || next[i] > (int64_t)c->count)
                return "jump out of range";
            if (second_half[next[i]])
                return "jump into the middle of ld_imm64";
            if (!reached[next[i]]) {
                reached[next[i]] = true;
                stack[depth++] = (uint32_t)next[i];
            }
        }
    }
    for (uint32_t pc = 0; pc < c->count; pc++) {
        if (!reached[pc] && !second_half[pc])
            return "unreachable instruction";
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------
 * Running the cases.
 * ------------------------------------------------------------------------------------------ */

/* Debugging aids: VERIFIER_CORPUS_CASE runs only the cases whose name contains it,
 * VERIFIER_CORPUS_TOPIC only the topic of that name; VERIFIER_CORPUS_SHOW prints every log. */
static const char *only_case;
static const char *only_topic;
static bool show_logs;

static bool run_case(const corpus_case_t *c)
{
    ebpf_verifier_options_t options;
    ebpf_verifier_result_t result;
    int64_t outstanding = ebpf_allocation_outstanding();
    bool ok;
    int rc;

    memset(&result, 0, sizeof(result));
    corpus_verifier_options(c->type, &options);
    ebpf_error_clear();
    rc = ebpf_verify_program(c->instructions, c->count, corpus_program_info(c->type), corpus_maps,
                             CORPUS_MAP_COUNT, &options, &result);
    if (c->expected == NULL)
        ok = rc == 0 && result.accepted;
    else
        ok = rc == -EACCES && !result.accepted && result.log != NULL &&
             log_matches(result.log, c->expected) && result.error_instruction < c->count &&
             ebpf_last_error()[0] != '\0';
    if (show_logs && ok)
        print_message("ok %s: %s\n", c->name, result.log != NULL ? result.log : "(accepted)\n");
    if (!ok) {
        print_message("FAIL %s\n  expected: %s\n  got: rc %d, %s, error at %u\n  log: %s\n"
                      "  last error: %s\n",
                      c->name, c->expected == NULL ? "accept" : c->expected, rc,
                      result.accepted ? "accepted" : "rejected", result.error_instruction,
                      result.log != NULL ? result.log : "(none)", ebpf_last_error());
    }
    ebpf_verifier_result_free(&result);
    if (ebpf_allocation_outstanding() != outstanding) {
        print_message("FAIL %s: the verifier leaked %lld allocations\n", c->name,
                      (long long)(ebpf_allocation_outstanding() - outstanding));
        ok = false;
    }
    return ok;
}

static void test_group(void **state)
{
    const corpus_group_t *group = *state;
    size_t failed = 0, run = 0;

    if (only_topic != NULL && strcmp(only_topic, group->topic) != 0)
        return;
    for (size_t i = 0; i < *group->count; i++) {
        const corpus_case_t *c = &group->cases[i];
        if (only_case != NULL && strstr(c->name, only_case) == NULL)
            continue;
        run++;
        if (!run_case(c))
            failed++;
    }
    print_message("%s: %zu of %zu cases agree with the corpus\n", group->topic, run - failed, run);
    assert_int_equal(failed, 0);
}

/* True when the case is rejected for its structure, so it may be malformed on purpose. */
static bool expects_structure_error(const corpus_case_t *c)
{
    static const char *const structural[] = {
        "invalid opcode", "jump out of range", "unreachable instruction",
        "ld_imm64",       "falls off the end", "reserved",
        "register",       "out of range",      "map",
    };
    if (c->expected == NULL)
        return false;
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(structural); i++) {
        if (strstr(c->expected, structural[i]) != NULL)
            return true;
    }
    return false;
}

/* The corpus itself: enough cases, unique names, both outcomes in every topic, and every case
 * not meant to fail on its structure well formed. */
static void test_corpus_is_sound(void **state)
{
    size_t total = 0, malformed = 0;

    for (size_t g = 0; g < EBPF_ARRAY_SIZE(groups); g++) {
        size_t accepted = 0, rejected = 0;
        for (size_t i = 0; i < *groups[g].count; i++) {
            const corpus_case_t *c = &groups[g].cases[i];
            if (c->expected == NULL)
                accepted++;
            else
                rejected++;
            if (!expects_structure_error(c)) {
                const char *error = corpus_structure_error(c);
                if (error != NULL) {
                    print_message("corpus error: %s: %s\n", c->name, error);
                    malformed++;
                }
            }
            assert_in_range(c->type, 0, CORPUS_TYPE_COUNT - 1);
            for (size_t h = 0; h <= g; h++) {
                size_t end = h == g ? i : *groups[h].count;
                for (size_t j = 0; j < end; j++) {
                    if (strcmp(groups[h].cases[j].name, c->name) == 0) {
                        print_message("corpus error: duplicate name %s\n", c->name);
                        malformed++;
                    }
                }
            }
        }
        print_message("%s: %zu accepted, %zu rejected\n", groups[g].topic, accepted, rejected);
        assert_true(accepted > 0);
        assert_true(rejected > 0);
        total += accepted + rejected;
    }
    print_message("corpus: %zu cases\n", total);
    assert_true(total >= 300);
    assert_int_equal(malformed, 0);
}

int main(void)
{
    struct CMUnitTest tests[EBPF_ARRAY_SIZE(groups) + 1];
    char names[EBPF_ARRAY_SIZE(groups)][64];

    only_case = getenv("VERIFIER_CORPUS_CASE");
    only_topic = getenv("VERIFIER_CORPUS_TOPIC");
    show_logs = getenv("VERIFIER_CORPUS_SHOW") != NULL;
    tests[0] = (struct CMUnitTest)cmocka_unit_test(test_corpus_is_sound);
    for (size_t g = 0; g < EBPF_ARRAY_SIZE(groups); g++) {
        snprintf(names[g], sizeof(names[g]), "corpus_%s", groups[g].topic);
        tests[g + 1] = (struct CMUnitTest){
            .name = names[g], .test_func = test_group, .initial_state = (void *)&groups[g]};
    }
    return _cmocka_run_group_tests("verifier_corpus", tests, EBPF_ARRAY_SIZE(tests), NULL, NULL);
}
