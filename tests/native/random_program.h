/* Random programs the verifier mostly accepts (ALU of every kind, context and stack memory,
 * atomics, forward branches, a local call), for differential tests of native code. */
#ifndef RANDOM_PROGRAM_H
#define RANDOM_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "ebpf_exec.h"
#include "ebpf_native.h"
#include "ebpf_program_info.h"

/* Bytes of the context every random program gets in r1 (read and written). */
#define RANDOM_CONTEXT_SIZE 64
/* Instructions a random program has at most. */
#define RANDOM_PROGRAM_CAPACITY 160

/* Where choices come from: the given bytes first (a fuzzer's input), then a generator seeded
 * with state. */
typedef struct random_source {
    const uint8_t *bytes;
    size_t size;
    size_t used;
    uint64_t state;
} random_source_t;

uint32_t random_next(random_source_t *source);

/* Writes a program into code (RANDOM_PROGRAM_CAPACITY entries); returns its length. */
uint32_t random_program(random_source_t *source, struct bpf_insn *code);

/* The program type the programs are verified against: a plain context of
 * RANDOM_CONTEXT_SIZE bytes, general helpers only. */
const ebpf_program_info_t *random_program_info(void);

/* Runs the program in the checked interpreter and natively on copies of context; returns true
 * when r0, the error and the context afterwards agree (else describes the difference on
 * stderr). */
bool random_program_compare(const struct bpf_insn *code, uint32_t count,
                            const ebpf_native_module_t *module, uint32_t index,
                            const uint8_t context[RANDOM_CONTEXT_SIZE]);

#endif /* RANDOM_PROGRAM_H */
