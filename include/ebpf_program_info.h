/* Program information: what a program type's provider tells the core, the verifier and the store
 * about its programs (type descriptor, context layout, helpers, test-run context). */
#ifndef EBPF_PROGRAM_INFO_H
#define EBPF_PROGRAM_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpf_extension_header.h"
#include "ebpf_guid.h"
#include "ebpf_helper_prototype.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the packet pointers live in the context: byte offsets of the `data`, `end` and `meta`
 * pointer fields, or -1 when the context has none. size is the context's size in bytes. */
typedef struct ebpf_context_descriptor {
    ebpf_extension_header_t header; /* EBPF_CONTEXT_DESCRIPTOR_VERSION */
    int32_t size;
    int32_t data;
    int32_t end;
    int32_t meta;
} ebpf_context_descriptor_t;
#define EBPF_CONTEXT_DESCRIPTOR_VERSION 1

typedef struct ebpf_program_type_descriptor {
    ebpf_extension_header_t header; /* EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION */
    const char *name;               /* "netevent_monitor" */
    const ebpf_context_descriptor_t *context_descriptor;
    ebpf_guid_t program_type;
    uint32_t bpf_prog_type; /* the number libbpf users see (enum bpf_prog_type or ours) */
    bool is_privileged;
} ebpf_program_type_descriptor_t;
#define EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION 1

typedef struct ebpf_program_info {
    ebpf_extension_header_t header; /* EBPF_PROGRAM_INFO_VERSION */
    const ebpf_program_type_descriptor_t *program_type_descriptor;
    uint32_t count_of_program_type_specific_helpers;
    const ebpf_helper_prototype_t *program_type_specific_helper_prototype;
    /* General helpers the type overrides or adds (rare); usually 0. */
    uint32_t count_of_global_helpers;
    const ebpf_helper_prototype_t *global_helper_prototype;
} ebpf_program_info_t;
#define EBPF_PROGRAM_INFO_VERSION 1

typedef struct ebpf_helper_function_addresses {
    ebpf_extension_header_t header; /* EBPF_HELPER_FUNCTION_ADDRESSES_VERSION */
    uint32_t helper_function_count;
    const ebpf_helper_function_t *helper_function_address; /* parallel to the prototypes */
} ebpf_helper_function_addresses_t;
#define EBPF_HELPER_FUNCTION_ADDRESSES_VERSION 1

/* Test-run support: context_create builds a context from user-supplied data and context bytes
 * (0 or a negative errno); context_destroy frees it after copying the data and the context
 * back: *data_size_out and *context_size_out come in as the capacities of the buffers (which
 * may be NULL with capacity 0) and go out as the sizes the program produced; at most the
 * capacity is copied, so a larger size out means the buffer was too small. */
typedef int (*ebpf_program_context_create_t)(const uint8_t *data_in, size_t data_size_in,
                                             const uint8_t *context_in, size_t context_size_in,
                                             void **context);
typedef void (*ebpf_program_context_destroy_t)(void *context, uint8_t *data_out,
                                               size_t *data_size_out, uint8_t *context_out,
                                               size_t *context_size_out);

/* The data of a program-information provider: its module id is the program type GUID. */
typedef struct ebpf_program_data {
    ebpf_extension_header_t header; /* EBPF_PROGRAM_DATA_VERSION */
    const ebpf_program_info_t *program_info;
    const ebpf_helper_function_addresses_t *program_type_specific_helper_function_addresses;
    const ebpf_helper_function_addresses_t *global_helper_function_addresses;
    ebpf_program_context_create_t context_create;   /* optional */
    ebpf_program_context_destroy_t context_destroy; /* optional, with context_create */
} ebpf_program_data_t;
#define EBPF_PROGRAM_DATA_VERSION 1

/* A section prefix and the program and attach type it means (the store's SectionData). */
typedef struct ebpf_program_section_info {
    ebpf_extension_header_t header; /* EBPF_PROGRAM_SECTION_INFO_VERSION */
    const char *section_prefix;
    const ebpf_guid_t *program_type;
    const ebpf_guid_t *attach_type;
    uint32_t bpf_program_type;
    uint32_t bpf_attach_type;
} ebpf_program_section_info_t;
#define EBPF_PROGRAM_SECTION_INFO_VERSION 1

#ifdef __cplusplus
}
#endif

#endif /* EBPF_PROGRAM_INFO_H */
