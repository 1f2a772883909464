/* Program type and attach type GUIDs of netevent_monitor, with the values of the original. */
#ifndef EBPF_NETEVENT_PROGRAM_ATTACH_TYPE_GUIDS_H
#define EBPF_NETEVENT_PROGRAM_ATTACH_TYPE_GUIDS_H

#include "ebpf_guid.h"

/* fc4adc85-49c3-4f0a-8393-facce89cde91 */
#define EBPF_PROGRAM_TYPE_NETEVENT_GUID                                                            \
    {                                                                                              \
        0xfc4adc85, 0x49c3, 0x4f0a,                                                                \
        {                                                                                          \
            0x83, 0x93, 0xfa, 0xcc, 0xe8, 0x9c, 0xde, 0x91                                         \
        }                                                                                          \
    }
/* 68011b08-ab6b-4b46-85e4-67bae1afe741 */
#define EBPF_ATTACH_TYPE_NETEVENT_GUID                                                             \
    {                                                                                              \
        0x68011b08, 0xab6b, 0x4b46,                                                                \
        {                                                                                          \
            0x85, 0xe4, 0x67, 0xba, 0xe1, 0xaf, 0xe7, 0x41                                         \
        }                                                                                          \
    }

static const ebpf_guid_t EBPF_PROGRAM_TYPE_NETEVENT = EBPF_PROGRAM_TYPE_NETEVENT_GUID;
static const ebpf_guid_t EBPF_ATTACH_TYPE_NETEVENT = EBPF_ATTACH_TYPE_NETEVENT_GUID;

/* The numbers libbpf users see for them (outside Linux's ranges, as eBPF for Windows). */
#define BPF_PROG_TYPE_NETEVENT   1001
#define BPF_ATTACH_TYPE_NETEVENT 1001

#endif /* EBPF_NETEVENT_PROGRAM_ATTACH_TYPE_GUIDS_H */
