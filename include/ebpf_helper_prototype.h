/* Helper prototypes: what a helper takes and returns, shared by the core, interpreter and verifier.
 */
#ifndef EBPF_HELPER_PROTOTYPE_H
#define EBPF_HELPER_PROTOTYPE_H

#include <stdbool.h>
#include <stdint.h>

#include "ebpf_extension_header.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A helper as every execution engine calls it: five 64-bit arguments, one 64-bit result. */
typedef uint64_t (*ebpf_helper_function_t)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                           uint64_t r5);

/* First id of the helpers a program type's provider adds (BPF_FUNC_netevent_push_event is the
 * first netevent one). Ids below it are the Linux UAPI ids (enum bpf_func_id). */
#define EBPF_PROGRAM_TYPE_HELPER_BASE 0x10000u
/* Program-type-neutral helpers of eBPF for Windows (memcpy, memset, ...) sit above the Linux
 * range and below the program-type range. */
#define EBPF_GENERAL_EXTRA_HELPER_BASE 0xF000u

typedef enum ebpf_argument_type {
    EBPF_ARG_DONTCARE = 0,            /* argument not used */
    EBPF_ARG_ANYTHING,                /* any initialised scalar */
    EBPF_ARG_CONST_SIZE,              /* size (> 0) of the preceding memory argument */
    EBPF_ARG_CONST_SIZE_OR_ZERO,      /* size (>= 0) of the preceding memory argument */
    EBPF_ARG_PTR_TO_CTX,              /* the program's context */
    EBPF_ARG_CONST_PTR_TO_MAP,        /* a map (ld_imm64 pseudo map fd) */
    EBPF_ARG_PTR_TO_MAP_KEY,          /* readable key_size bytes of the map argument */
    EBPF_ARG_PTR_TO_MAP_VALUE,        /* readable value_size bytes of the map argument */
    EBPF_ARG_PTR_TO_UNINIT_MAP_VALUE, /* writable value_size bytes (pop / peek) */
    EBPF_ARG_PTR_TO_READABLE_MEM,     /* readable, size in the next argument */
    EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL,
    EBPF_ARG_PTR_TO_WRITABLE_MEM,      /* writable (may be uninitialised), size next */
    EBPF_ARG_PTR_TO_ALLOC_MEM,         /* a record from bpf_ringbuf_reserve (released) */
    EBPF_ARG_CONST_ALLOC_SIZE_OR_ZERO, /* constant size of memory the helper allocates */
    EBPF_ARG_PTR_TO_CONST_STR,         /* NUL-terminated read-only string (trace_printk fmt) */
} ebpf_argument_type_t;

typedef enum ebpf_return_type {
    EBPF_RET_INTEGER = 0,
    EBPF_RET_VOID,
    EBPF_RET_PTR_TO_MAP_VALUE_OR_NULL, /* value_size bytes of the map argument */
    EBPF_RET_PTR_TO_ALLOC_MEM_OR_NULL, /* size from the EBPF_ARG_CONST_ALLOC_SIZE argument;
                                        * a reference to release */
} ebpf_return_type_t;

#define EBPF_HELPER_PROTOTYPE_VERSION 1

typedef struct ebpf_helper_prototype {
    ebpf_extension_header_t header; /* EBPF_HELPER_PROTOTYPE_VERSION */
    uint32_t id;
    const char *name;
    ebpf_return_type_t return_type;
    ebpf_argument_type_t arguments[5];
    /* The helper may change where packet data lives: packet pointers die after the call. */
    bool changes_packet;
    /* bpf_tail_call: on success execution continues in another program. */
    bool is_tail_call;
} ebpf_helper_prototype_t;

#ifdef __cplusplus
}
#endif

#endif /* EBPF_HELPER_PROTOTYPE_H */
