/* The program types, maps and helper lookup the verifier corpus and fuzz target verify against. */
#ifndef VERIFIER_ENVIRONMENT_H
#define VERIFIER_ENVIRONMENT_H

#include <stdint.h>

#include "ebpf_program_info.h"
#include "ebpf_verifier.h"

typedef enum corpus_program_type {
    /* Context corpus_test_context_t: packet pointers at 0 (data) and 8 (end), no meta. Helpers:
     * the core's general helpers and the two below. */
    CORPUS_TYPE_TEST = 0,
    /* Context corpus_plain_context_t, no packet. Helpers: the general helpers only. */
    CORPUS_TYPE_PLAIN = 1,
    CORPUS_TYPE_COUNT
} corpus_program_type_t;

typedef struct corpus_test_context {
    uint64_t data;          /* first packet byte */
    uint64_t data_end;      /* past the last packet byte */
    uint64_t meta_or_value; /* a plain value: the type has no meta pointer */
    uint32_t len;
    uint32_t mark;
} corpus_test_context_t;

typedef struct corpus_plain_context {
    uint64_t first;
    uint64_t second;
} corpus_plain_context_t;

/* The test type's own helpers: long context_sum(ctx, const void *memory, u32 size) returns
 * ctx->len plus the sum of the bytes; long log_text(const char *text) takes a constant string
 * (EBPF_ARG_PTR_TO_CONST_STR, the one argument kind no general helper has) and returns 0. */
#define CORPUS_TEST_HELPER_CONTEXT_SUM EBPF_PROGRAM_TYPE_HELPER_BASE
#define CORPUS_TEST_HELPER_LOG_TEXT    (EBPF_PROGRAM_TYPE_HELPER_BASE + 1)

/* The map table every corpus case sees (ld_imm64 map indexes). */
typedef enum corpus_map_index {
    CORPUS_MAP_ARRAY8 = 0,    /* array, key 4, value 8, 4 entries */
    CORPUS_MAP_ARRAY16,       /* array, key 4, value 16, 4 entries */
    CORPUS_MAP_ARRAY64,       /* array, key 4, value 64, 4 entries */
    CORPUS_MAP_HASH,          /* hash, key 8, value 16, 16 entries */
    CORPUS_MAP_RINGBUF,       /* ring buffer of 4096 bytes */
    CORPUS_MAP_PROG_ARRAY,    /* prog_array, 4 slots */
    CORPUS_MAP_QUEUE,         /* queue of 8-byte values, 8 entries */
    CORPUS_MAP_ARRAY_OF_MAPS, /* array of maps, 2 slots, inner: array key 4 value 8 */
    CORPUS_MAP_RDONLY,        /* array, key 4, value 16, BPF_F_RDONLY_PROG */
    CORPUS_MAP_COUNT
} corpus_map_index_t;

extern const ebpf_verifier_map_t corpus_maps[CORPUS_MAP_COUNT];
/* The definition every inner map of CORPUS_MAP_ARRAY_OF_MAPS matches. */
extern const ebpf_verifier_map_t corpus_inner_map;

const ebpf_program_info_t *corpus_program_info(corpus_program_type_t type);
/* Program data (with helper addresses) for running programs of the type in the core. */
const ebpf_program_data_t *corpus_program_data(corpus_program_type_t type);
/* A helper lookup for any program type: context is its ebpf_program_info_t; the type's own
 * helpers first, then the core's general helpers. */
const ebpf_helper_prototype_t *corpus_find_helper(void *context, uint32_t id);
/* Default options with the helper lookup of the type. */
void corpus_verifier_options(corpus_program_type_t type, ebpf_verifier_options_t *options);

#endif /* VERIFIER_ENVIRONMENT_H */
