/* The program types, maps and helper lookup the verifier corpus and fuzz target verify against. */
#include <stddef.h>
#include <string.h>

#include "ebpf_core.h"
#include "ebpf_platform.h"
#include "verifier_environment.h"

#define HELPER_HEADER EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t)

const ebpf_verifier_map_t corpus_inner_map = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1, .name = "inner"};

const ebpf_verifier_map_t corpus_maps[CORPUS_MAP_COUNT] = {
    [CORPUS_MAP_ARRAY8] = {.type = BPF_MAP_TYPE_ARRAY,
                           .key_size = 4,
                           .value_size = 8,
                           .max_entries = 4,
                           .name = "array8"},
    [CORPUS_MAP_ARRAY16] = {.type = BPF_MAP_TYPE_ARRAY,
                            .key_size = 4,
                            .value_size = 16,
                            .max_entries = 4,
                            .name = "array16"},
    [CORPUS_MAP_ARRAY64] = {.type = BPF_MAP_TYPE_ARRAY,
                            .key_size = 4,
                            .value_size = 64,
                            .max_entries = 4,
                            .name = "array64"},
    [CORPUS_MAP_HASH] = {.type = BPF_MAP_TYPE_HASH,
                         .key_size = 8,
                         .value_size = 16,
                         .max_entries = 16,
                         .name = "hash"},
    [CORPUS_MAP_RINGBUF] = {.type = BPF_MAP_TYPE_RINGBUF,
                            .key_size = 0,
                            .value_size = 0,
                            .max_entries = 4096,
                            .name = "ringbuf"},
    [CORPUS_MAP_PROG_ARRAY] = {.type = BPF_MAP_TYPE_PROG_ARRAY,
                               .key_size = 4,
                               .value_size = 4,
                               .max_entries = 4,
                               .name = "prog_array"},
    [CORPUS_MAP_QUEUE] = {.type = BPF_MAP_TYPE_QUEUE,
                          .key_size = 0,
                          .value_size = 8,
                          .max_entries = 8,
                          .name = "queue"},
    [CORPUS_MAP_ARRAY_OF_MAPS] = {.type = BPF_MAP_TYPE_ARRAY_OF_MAPS,
                                  .key_size = 4,
                                  .value_size = 4,
                                  .max_entries = 2,
                                  .inner_map = &corpus_inner_map,
                                  .name = "array_of_maps"},
    [CORPUS_MAP_RDONLY] = {.type = BPF_MAP_TYPE_ARRAY,
                           .key_size = 4,
                           .value_size = 16,
                           .max_entries = 4,
                           .map_flags = BPF_F_RDONLY_PROG,
                           .name = "rdonly"},
};

/* ------------------------------------------------------------------------------------------
 * The "test" type: a context with a packet and one helper of its own.
 * ------------------------------------------------------------------------------------------ */

static uint64_t context_sum(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    /* The interpreter checked [r2, r2 + r3) before the call: the prototype says so. */
    const corpus_test_context_t *context = (const corpus_test_context_t *)(uintptr_t)r1;
    const uint8_t *memory = (const uint8_t *)(uintptr_t)r2;
    uint64_t sum = context->len;
    for (uint64_t i = 0; i < (uint32_t)r3; i++)
        sum += memory[i];
    return sum;
}

static uint64_t log_text(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    return 0;
}

static const ebpf_context_descriptor_t test_context_descriptor = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t),
    sizeof(corpus_test_context_t), offsetof(corpus_test_context_t, data),
    offsetof(corpus_test_context_t, data_end), -1};

static const ebpf_program_type_descriptor_t test_type_descriptor = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "verifier_corpus_test",
    .context_descriptor = &test_context_descriptor,
    .program_type = {0x7e57c0de, 0x5e1f, 0x0001, {1, 2, 3, 4, 5, 6, 7, 8}},
    .bpf_prog_type = 1001,
};

static const ebpf_helper_prototype_t test_type_helpers[] = {
    {.header = HELPER_HEADER,
     .id = CORPUS_TEST_HELPER_CONTEXT_SUM,
     .name = "context_sum",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_PTR_TO_CTX, EBPF_ARG_PTR_TO_READABLE_MEM, EBPF_ARG_CONST_SIZE}},
    {.header = HELPER_HEADER,
     .id = CORPUS_TEST_HELPER_LOG_TEXT,
     .name = "log_text",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_PTR_TO_CONST_STR}},
};
static const ebpf_helper_function_t test_type_helper_functions[] = {context_sum, log_text};

static const ebpf_program_info_t test_program_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &test_type_descriptor,
    .count_of_program_type_specific_helpers = EBPF_ARRAY_SIZE(test_type_helpers),
    .program_type_specific_helper_prototype = test_type_helpers,
};

static const ebpf_helper_function_addresses_t test_type_helper_addresses = {
    EBPF_EXTENSION_HEADER(EBPF_HELPER_FUNCTION_ADDRESSES_VERSION, ebpf_helper_function_addresses_t),
    EBPF_ARRAY_SIZE(test_type_helper_functions), test_type_helper_functions};

static const ebpf_program_data_t test_program_data = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_DATA_VERSION, ebpf_program_data_t),
    .program_info = &test_program_info,
    .program_type_specific_helper_function_addresses = &test_type_helper_addresses,
};

/* ------------------------------------------------------------------------------------------
 * The "plain" type: a 16-byte context without packet, general helpers only.
 * ------------------------------------------------------------------------------------------ */

static const ebpf_context_descriptor_t plain_context_descriptor = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t),
    sizeof(corpus_plain_context_t), -1, -1, -1};

static const ebpf_program_type_descriptor_t plain_type_descriptor = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "verifier_corpus_plain",
    .context_descriptor = &plain_context_descriptor,
    .program_type = {0x7e57c0de, 0x5e1f, 0x0002, {1, 2, 3, 4, 5, 6, 7, 8}},
    .bpf_prog_type = 1002,
};

static const ebpf_program_info_t plain_program_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &plain_type_descriptor,
};

static const ebpf_program_data_t plain_program_data = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_DATA_VERSION, ebpf_program_data_t),
    .program_info = &plain_program_info,
};

/* ------------------------------------------------------------------------------------------
 * Lookup.
 * ------------------------------------------------------------------------------------------ */

const ebpf_helper_prototype_t *corpus_find_helper(void *context, uint32_t id)
{
    const ebpf_program_info_t *info = context;

    for (uint32_t i = 0; i < info->count_of_program_type_specific_helpers; i++) {
        if (info->program_type_specific_helper_prototype[i].id == id)
            return &info->program_type_specific_helper_prototype[i];
    }
    return ebpf_core_find_general_helper(id, NULL);
}

const ebpf_program_info_t *corpus_program_info(corpus_program_type_t type)
{
    return type == CORPUS_TYPE_TEST ? &test_program_info : &plain_program_info;
}

const ebpf_program_data_t *corpus_program_data(corpus_program_type_t type)
{
    return type == CORPUS_TYPE_TEST ? &test_program_data : &plain_program_data;
}

void corpus_verifier_options(corpus_program_type_t type, ebpf_verifier_options_t *options)
{
    memset(options, 0, sizeof(*options));
    options->find_helper = corpus_find_helper;
    /* The lookup only reads the program information, which is static. */
    options->find_helper_context = (void *)corpus_program_info(type);
}
