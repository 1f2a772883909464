/* What user space reads from neteventebpfext: the pinned maps it publishes and their layouts. */
#ifndef NETEVENTEBPFEXT_H
#define NETEVENTEBPFEXT_H

#include <stdint.h>

/* Pinned names (bpf_obj_get). */
/* BPF_MAP_TYPE_PERCPU_ARRAY, one entry: netevent_ext_statistics_t per CPU (sum them). The event
 * path updates them without atomics (each CPU slot has one writer at a time): a read while
 * events flow may be a moment behind; read after the providers stop for exact accounting. */
#define NETEVENT_STATISTICS_PIN_NAME "netevent/statistics"
/* BPF_MAP_TYPE_PERCPU_ARRAY, NETEVENT_MAX_LINKS entries: netevent_ext_link_statistics_t per
 * link slot and CPU. */
#define NETEVENT_LINK_STATISTICS_PIN_NAME "netevent/link_statistics"
/* BPF_MAP_TYPE_ARRAY, NETEVENT_MAX_LINKS entries: which link a slot belongs to now. */
#define NETEVENT_LINK_SLOTS_PIN_NAME "netevent/link_slots"
/* NETEVENT_EVENTS_PIN_NAME (ebpf_netevent_hooks.h): the ring buffer of bpf_netevent_push_event. */

/* Links attached at once. */
#define NETEVENT_MAX_LINKS 256

typedef struct netevent_ext_statistics {
    uint64_t received;       /* events providers pushed */
    uint64_t malformed;      /* dropped by validation (never reached a program) */
    uint64_t delivered;      /* program invocations that returned */
    uint64_t program_errors; /* program invocations that failed */
    uint64_t filtered;       /* link skipped an event by its capture type */
    uint64_t helper_pushed;  /* events bpf_netevent_push_event copied to its ring */
    uint64_t helper_dropped; /* ... that found the ring full */
    uint64_t unattached;     /* events received while no program was attached (e.g. during the
                              * last detach, before providers were told to stop) */
    uint64_t copied;         /* events copied because an attached program may write them (the
                              * others ran on the provider's bytes) */
} netevent_ext_statistics_t;

typedef struct netevent_ext_link_statistics {
    uint64_t delivered;
    uint64_t errors;
} netevent_ext_link_statistics_t;

typedef struct netevent_ext_link_slot {
    uint32_t link_id; /* 0 when the slot is free */
    uint32_t program_id;
    uint32_t capture_type;
    uint32_t reserved;
} netevent_ext_link_slot_t;

#endif /* NETEVENTEBPFEXT_H */
