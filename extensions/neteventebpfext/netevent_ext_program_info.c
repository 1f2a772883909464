/* The netevent_monitor program type: type descriptor, context layout, helper prototypes and the
 * section it answers to. */
#include <stddef.h>

#include "ebpf_netevent_hooks.h"
#include "ebpf_netevent_program_attach_type_guids.h"
#include "netevent_ext_program_info.h"

/* The verifier treats event_data_start / event_data_end as packet pointers. */
const ebpf_context_descriptor_t netevent_context_descriptor = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t),
    sizeof(netevent_event_md_t), offsetof(netevent_event_md_t, event_data_start),
    offsetof(netevent_event_md_t, event_data_end), -1};

static const ebpf_program_type_descriptor_t netevent_type_descriptor = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "netevent_monitor",
    .context_descriptor = &netevent_context_descriptor,
    .program_type = EBPF_PROGRAM_TYPE_NETEVENT_GUID,
    .bpf_prog_type = BPF_PROG_TYPE_NETEVENT,
    .is_privileged = false,
};

static const ebpf_helper_prototype_t netevent_helper_prototypes[] = {
    {.header = EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),
     .id = BPF_FUNC_netevent_push_event,
     .name = "bpf_netevent_push_event",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_PTR_TO_CTX}},
};

const ebpf_program_info_t netevent_program_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &netevent_type_descriptor,
    .count_of_program_type_specific_helpers = 1,
    .program_type_specific_helper_prototype = netevent_helper_prototypes,
};

const ebpf_program_section_info_t netevent_section_info[] = {
    {EBPF_EXTENSION_HEADER(EBPF_PROGRAM_SECTION_INFO_VERSION, ebpf_program_section_info_t),
     "netevent_monitor", &EBPF_PROGRAM_TYPE_NETEVENT, &EBPF_ATTACH_TYPE_NETEVENT,
     BPF_PROG_TYPE_NETEVENT, BPF_ATTACH_TYPE_NETEVENT},
};
const size_t netevent_section_info_count = 1;
