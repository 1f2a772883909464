/* libFuzzer target: every program the verifier accepts runs in the checked interpreter safely. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../verifier/verifier_environment.h"
#include "ebpf_core.h"
#include "ebpf_map.h"
#include "ebpf_platform.h"
#include "ebpf_verifier.h"

#define MAX_INSTRUCTIONS 512
#define PACKET_SIZE      64
/* An accepted program terminates; the budget only bounds a run that chains tail calls. */
#define RUN_BUDGET (1u << 24)

/* Input: one byte choosing the program type (bit 0: the plain type, else the test type), then
 * instructions, 8 bytes each (struct bpf_insn, little-endian), verified against the maps and
 * types of the verifier corpus. An accepted program runs once on a context with a 64-byte
 * packet, with real maps and itself in slot 0 of the prog_array; a bounds violation (-EFAULT)
 * or any failure the verifier should have ruled out aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_verifier: %s (%s)\n", what, ebpf_last_error());
    abort();
}

/* The maps of corpus_maps, created for one run (so runs do not depend on each other). */
static void create_maps(ebpf_map_t *maps[CORPUS_MAP_COUNT])
{
    const ebpf_map_definition_t inner_definition = {
        .type = corpus_inner_map.type,
        .key_size = corpus_inner_map.key_size,
        .value_size = corpus_inner_map.value_size,
        .max_entries = corpus_inner_map.max_entries,
    };

    for (int i = 0; i < CORPUS_MAP_COUNT; i++) {
        const ebpf_verifier_map_t *map = &corpus_maps[i];
        ebpf_map_definition_t definition = {
            .type = map->type,
            .key_size = map->key_size,
            .value_size = map->value_size,
            .max_entries = map->max_entries,
            .map_flags = map->map_flags,
            .inner_map = map->inner_map != NULL ? &inner_definition : NULL,
        };
        if (ebpf_map_create(&definition, map->name, &maps[i]) != 0)
            fail("creating a map");
    }

    ebpf_map_t *inner;
    uint32_t slot = 0;
    if (ebpf_map_create(&inner_definition, "inner", &inner) != 0 ||
        ebpf_map_update_object(maps[CORPUS_MAP_ARRAY_OF_MAPS], &slot, inner, BPF_ANY) != 0)
        fail("filling the array of maps");
    ebpf_map_release(inner);
}

static void run_accepted(const struct bpf_insn *instructions, uint32_t count,
                         corpus_program_type_t type, const uint8_t *data, size_t size)
{
    ebpf_map_t *maps[CORPUS_MAP_COUNT];
    ebpf_program_t *program;
    uint8_t packet[PACKET_SIZE];
    corpus_test_context_t test_context;
    corpus_plain_context_t plain_context;
    void *context;
    uint64_t r0;
    uint32_t slot = 0;
    int rc;

    create_maps(maps);
    ebpf_program_load_parameters_t parameters = {
        .name = "fuzzed",
        .instructions = instructions,
        .instruction_count = count,
        .maps = maps,
        .map_count = CORPUS_MAP_COUNT,
        .program_data = corpus_program_data(type),
    };
    if (ebpf_program_create(&parameters, &program) != 0)
        fail("the core refused a program the verifier accepted");
    ebpf_program_set_instruction_budget(program, RUN_BUDGET);
    if (ebpf_map_update_object(maps[CORPUS_MAP_PROG_ARRAY], &slot, program, BPF_ANY) != 0)
        fail("filling the prog_array");

    for (size_t i = 0; i < sizeof(packet); i++)
        packet[i] = data[i % size];
    test_context = (corpus_test_context_t){
        .data = (uint64_t)(uintptr_t)packet,
        .data_end = (uint64_t)(uintptr_t)(packet + sizeof(packet)),
        .meta_or_value = 0x1122334455667788ull,
        .len = sizeof(packet),
        .mark = 7,
    };
    plain_context = (corpus_plain_context_t){.first = size, .second = count};
    context = type == CORPUS_TYPE_TEST ? (void *)&test_context : (void *)&plain_context;

    rc = ebpf_program_invoke(program, context, &r0);
    if (rc != 0 && rc != -ETIMEDOUT)
        fail(rc == -EFAULT ? "an accepted program violated memory bounds"
                           : "an accepted program failed at run time");
    if (test_context.data != (uint64_t)(uintptr_t)packet ||
        test_context.data_end != (uint64_t)(uintptr_t)(packet + sizeof(packet)))
        fail("an accepted program rewrote the packet pointers of its context");

    ebpf_map_release_programs(maps[CORPUS_MAP_PROG_ARRAY]);
    ebpf_program_release(program);
    for (int i = 0; i < CORPUS_MAP_COUNT; i++)
        ebpf_map_release(maps[i]);
    ebpf_epoch_drain();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bpf_insn instructions[MAX_INSTRUCTIONS];
    corpus_program_type_t type;
    ebpf_verifier_options_t options;
    ebpf_verifier_result_t result;
    uint32_t count;
    int64_t outstanding;
    int rc;

    if (size < 1 + sizeof(struct bpf_insn))
        return 0;
    type = (data[0] & 1) ? CORPUS_TYPE_PLAIN : CORPUS_TYPE_TEST;
    count = (uint32_t)((size - 1) / sizeof(struct bpf_insn));
    if (count > MAX_INSTRUCTIONS)
        count = MAX_INSTRUCTIONS;
    memcpy(instructions, data + 1, count * sizeof(struct bpf_insn));
    /* Keep map references pointing at a map most of the time, so mutations explore maps. */
    for (uint32_t pc = 0; pc + 1 < count; pc++) {
        struct bpf_insn *instruction = &instructions[pc];
        if (instruction->code == (BPF_LD | BPF_DW | BPF_IMM) &&
            (instruction->src_reg == BPF_PSEUDO_MAP_FD ||
             instruction->src_reg == BPF_PSEUDO_MAP_VALUE) &&
            instruction->imm >= 0)
            instruction->imm %= CORPUS_MAP_COUNT;
    }

    corpus_verifier_options(type, &options);
    memset(&result, 0, sizeof(result));
    outstanding = ebpf_allocation_outstanding();
    rc = ebpf_verify_program(instructions, count, corpus_program_info(type), corpus_maps,
                             CORPUS_MAP_COUNT, &options, &result);
    if (rc != 0 && rc != -EACCES)
        fail("the verifier failed instead of deciding");
    if (rc == 0 && !result.accepted)
        fail("0 returned without acceptance");
    if (rc == -EACCES && (result.accepted || result.log == NULL || result.log[0] == '\0' ||
                          result.error_instruction >= count))
        fail("a rejection without a reason or an instruction");
    ebpf_verifier_result_free(&result);
    if (ebpf_allocation_outstanding() != outstanding)
        fail("the verifier leaked memory");

    if (rc == 0)
        run_accepted(instructions, count, type, data, size);
    return 0;
}
