/* The extension's state shared by its files. */
#ifndef NETEVENT_EXT_PRIVATE_H
#define NETEVENT_EXT_PRIVATE_H

#include "ebpf_ext.h"
#include "ebpf_map.h"
#include "ebpf_netevent_hooks.h"
#include "ebpf_platform.h"
#include "netevent_npi.h"
#include "neteventebpfext.h"

/* What a link carries on the event path. */
typedef struct netevent_link_state {
    netevent_capture_type_t capture_type;
    uint32_t slot; /* index in the link statistics maps */
} netevent_link_state_t;

typedef struct netevent_extension {
    ebpf_ext_program_info_provider_t *program_info_provider;
    ebpf_ext_hook_provider_t *hook_provider;
    ebpf_thread_scratch_t *event_copies; /* per-thread copy of the event programs read */
    ebpf_map_t *statistics;              /* PERCPU_ARRAY[1] of netevent_ext_statistics_t */
    ebpf_map_t *link_statistics;         /* PERCPU_ARRAY[NETEVENT_MAX_LINKS] */
    ebpf_map_t *link_slots;              /* ARRAY[NETEVENT_MAX_LINKS] of link slots */
    ebpf_map_t *push_events;             /* RINGBUF of bpf_netevent_push_event */
    /* Where statistics and link_statistics keep each CPU's values (set at start, fixed while
     * the maps live): the event path adds to them without a map lookup per event. */
    ebpf_array_layout_t statistics_layout;
    ebpf_array_layout_t link_statistics_layout;
    /* lock guards attached_links, slot_used, started and the netevent NPI client registration.
     * The client registers only once started: providers push as soon as it binds, and the event
     * path needs every field set by start. */
    pthread_mutex_t lock;
    bool started;
    uint32_t attached_links;
    bool slot_used[NETEVENT_MAX_LINKS];
    nmr_client_t *npi_client;
    nmr_client_characteristics_t npi_characteristics;
    /* Providers bound to our NPI client; push_event refuses events while it is 0. */
    _Atomic uint32_t bound_providers;
} netevent_extension_t;

extern netevent_extension_t netevent_extension;
extern const ebpf_program_data_t netevent_program_data;

/* The netevent NPI client (registered while links are attached). */
int netevent_npi_client_register(void);
void netevent_npi_client_deregister(void);

/* Hook callbacks. */
int netevent_link_attach(void *context, const ebpf_link_client_data_t *link, void **state);
void netevent_link_detach(void *context, void *state);
uint64_t netevent_link_classes(void *context, const void *link_state);

/* The statistics of CPU index cpu (the caller's claim, from ebpf_cpu_enter). */
static inline netevent_ext_statistics_t *netevent_statistics_of(uint32_t cpu)
{
    const ebpf_array_layout_t *layout = &netevent_extension.statistics_layout;
    return (netevent_ext_statistics_t *)(layout->base + cpu * layout->cpu_stride);
}

/* The per-CPU statistics of the claimed CPU (inside ebpf_cpu_enter and an epoch section). */
static inline netevent_ext_statistics_t *netevent_statistics_here(void)
{
    return netevent_statistics_of(ebpf_cpu_claimed());
}

/* The counters of link slot slot on CPU index cpu. */
static inline netevent_ext_link_statistics_t *netevent_link_statistics_of(uint32_t cpu,
                                                                          uint32_t slot)
{
    const ebpf_array_layout_t *layout = &netevent_extension.link_statistics_layout;
    return (netevent_ext_link_statistics_t *)(layout->base + cpu * layout->cpu_stride +
                                              slot * layout->value_stride);
}

#endif /* NETEVENT_EXT_PRIVATE_H */
