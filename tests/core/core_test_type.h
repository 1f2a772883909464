/* The context of the "core_test" program type the core tests define (shared by the BPF
 * programs and the C tests). */
#ifndef CORE_TEST_TYPE_H
#define CORE_TEST_TYPE_H

#ifdef __BPF__
typedef unsigned long long core_test_u64;
#else
#include <stdint.h>
typedef uint64_t core_test_u64;
#endif

typedef struct core_test_context {
    core_test_u64 data;     /* pointer to the first packet byte */
    core_test_u64 data_end; /* pointer past the last packet byte */
    core_test_u64 value;    /* in and out through test-run */
} core_test_context_t;

/* The type-specific helper of core_test: returns twice its argument. */
#define CORE_TEST_HELPER_DOUBLE 0x10000

#ifndef __bpf__
#include "ebpf_program_info.h"
/* The program type, with test-run support (tests/core/core_test_type.c). */
extern const ebpf_program_data_t core_test_program_data;

#include <stdbool.h>

#include "ebpf_object.h"
/* Loads every program of elf as core_test. verified false uses the test hook that leaves the
 * programs to the bounds-checked interpreter unproven: core_programs holds one program,
 * reads_past_packet, that the verifier rejects on purpose. */
int core_test_load_object(const ebpf_elf_object_t *elf, bool verified, ebpf_object_t **object);
#endif

#endif
