/* The "api_test" program type the user API tests define: its context, numbers and GUIDs
 * (shared by the BPF programs and the C tests). */
#ifndef API_TEST_TYPE_H
#define API_TEST_TYPE_H

#ifdef __BPF__
typedef unsigned long long api_test_u64;
#else
#include <stdint.h>
typedef uint64_t api_test_u64;
#endif

typedef struct api_test_context {
    api_test_u64 data;     /* pointer to the first packet byte */
    api_test_u64 data_end; /* pointer past the last packet byte */
    api_test_u64 value;    /* in and out through test-run */
} api_test_context_t;

/* Numbers libbpf users see for the type and its hook (outside the Linux ranges). */
#define API_TEST_BPF_PROG_TYPE   1100
#define API_TEST_BPF_ATTACH_TYPE 1100

/* The type-specific helper: returns its argument plus 1000. */
#define API_TEST_HELPER_ADD_THOUSAND 0x10000

#endif
