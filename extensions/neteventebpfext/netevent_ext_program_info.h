/* The netevent_monitor program type as the core, the verifier and the store see it. */
#ifndef NETEVENT_EXT_PROGRAM_INFO_H
#define NETEVENT_EXT_PROGRAM_INFO_H

#include "ebpf_program_info.h"

/* Descriptors and prototypes (no addresses): what the store and the verifier need. */
extern const ebpf_program_info_t netevent_program_info;
extern const ebpf_program_section_info_t netevent_section_info[];
extern const size_t netevent_section_info_count;
extern const ebpf_context_descriptor_t netevent_context_descriptor;

#endif /* NETEVENT_EXT_PROGRAM_INFO_H */
