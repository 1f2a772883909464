/* The extension model: the NPIs between the eBPF core and extensions (program information and
 * hooks), and what crosses them. */
#ifndef EBPF_EXTENSION_H
#define EBPF_EXTENSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpf_extension_header.h"
#include "ebpf_guid.h"
#include "ebpf_program_info.h"
#include "nmr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Program-information NPI. A provider's module id is the program type GUID and its
 * npi_specific_characteristics an ebpf_program_data_t. Each loaded program is a client: it
 * binds to the provider of its type (and to the core's own provider of the general helpers,
 * module id EBPF_GENERAL_HELPERS_MODULE_ID). */
#define EBPF_PROGRAM_INFO_NPI_ID_GUID                                                              \
    {                                                                                              \
        0xf0a3b6c1, 0x7d1e, 0x4b8a,                                                                \
        {                                                                                          \
            0x9c, 0x3e, 0x51, 0x0b, 0x2a, 0x6f, 0x8d, 0x01                                         \
        }                                                                                          \
    }
#define EBPF_GENERAL_HELPERS_MODULE_ID_GUID                                                        \
    {                                                                                              \
        0xf0a3b6c1, 0x7d1e, 0x4b8a,                                                                \
        {                                                                                          \
            0x9c, 0x3e, 0x51, 0x0b, 0x2a, 0x6f, 0x8d, 0x02                                         \
        }                                                                                          \
    }
/* Hook NPI. A provider's module id is the attach type GUID and its npi_specific
 * characteristics an ebpf_hook_provider_data_t. Each link is a client carrying an
 * ebpf_link_client_data_t. */
#define EBPF_HOOK_NPI_ID_GUID                                                                      \
    {                                                                                              \
        0xf0a3b6c1, 0x7d1e, 0x4b8a,                                                                \
        {                                                                                          \
            0x9c, 0x3e, 0x51, 0x0b, 0x2a, 0x6f, 0x8d, 0x03                                         \
        }                                                                                          \
    }

static const nmr_npi_id_t EBPF_PROGRAM_INFO_NPI_ID = EBPF_PROGRAM_INFO_NPI_ID_GUID;
static const nmr_module_id_t EBPF_GENERAL_HELPERS_MODULE_ID = EBPF_GENERAL_HELPERS_MODULE_ID_GUID;
static const nmr_npi_id_t EBPF_HOOK_NPI_ID = EBPF_HOOK_NPI_ID_GUID;

typedef struct ebpf_hook_provider_data {
    ebpf_extension_header_t header; /* EBPF_HOOK_PROVIDER_DATA_VERSION */
    ebpf_guid_t program_type;       /* the program type its programs must have */
    uint32_t bpf_attach_type;       /* the libbpf number of the attach type */
} ebpf_hook_provider_data_t;
#define EBPF_HOOK_PROVIDER_DATA_VERSION 1

/* What a link tells the hook provider it binds to. */
typedef struct ebpf_link_client_data {
    ebpf_extension_header_t header; /* EBPF_LINK_CLIENT_DATA_VERSION */
    ebpf_guid_t attach_type;
    ebpf_guid_t program_type;
    uint32_t program_id;
    uint32_t link_id;
    const void *attach_parameters; /* NULL: none; valid while the link lives */
    size_t attach_parameters_size;
    /* false only when the verifier proved that no path of the program writes the packet data
     * of its context and the program makes no tail call: a hook may then hand it the
     * provider's bytes instead of a copy. */
    bool program_may_write_packet;
} ebpf_link_client_data_t;
#define EBPF_LINK_CLIENT_DATA_VERSION 1

/* How a hook provider runs the program behind a link (the link's client dispatch). The
 * binding context is the link's client binding context from the attach. A provider calls
 * invoke for one program; for several programs on one event it brackets them with
 * batch_begin / batch_end (one epoch section and CPU claim for all) and calls batch_invoke in
 * between. Results: 0 with *result = r0, or a negative errno (the run failed; counted). */
typedef struct ebpf_link_dispatch {
    ebpf_extension_header_t header; /* EBPF_LINK_DISPATCH_VERSION */
    int (*invoke)(const void *client_binding_context, void *program_context, uint64_t *result);
    void (*batch_begin)(void);
    int (*batch_invoke)(const void *client_binding_context, void *program_context,
                        uint64_t *result);
    void (*batch_end)(void);
} ebpf_link_dispatch_t;
#define EBPF_LINK_DISPATCH_VERSION 1

#ifdef __cplusplus
}
#endif

#endif /* EBPF_EXTENSION_H */
