/* neteventebpfext as a module: start publishes the program type, the hook and the maps user
 * space reads; stop takes them down in the reverse order. */
#include <errno.h>
#include <string.h>

#include "ebpf_api.h"
#include "ebpf_module.h"
#include "ebpf_netevent_program_attach_type_guids.h"
#include "netevent_ext_private.h"

netevent_extension_t netevent_extension;

static int create_map(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t entries,
                      const char *name, const char *pin, ebpf_map_t **map)
{
    ebpf_map_definition_t definition = {type, key_size, value_size, entries, 0, NULL};
    int rc = ebpf_map_create(&definition, name, map);
    if (rc != 0)
        return ebpf_error_prefix(rc, "neteventebpfext: ");
    rc = ebpf_pin_map(*map, pin);
    if (rc != 0) {
        ebpf_map_release(*map);
        *map = NULL;
        return ebpf_error_prefix(rc, "neteventebpfext: pinning %s: ", pin);
    }
    return 0;
}

static void release_map(ebpf_map_t **map, const char *pin)
{
    if (*map == NULL)
        return;
    ebpf_unpin(pin);
    ebpf_map_release(*map);
    *map = NULL;
}

static void netevent_stop(void);

static int netevent_start(const char *parameters)
{
    netevent_extension_t *extension = &netevent_extension;
    int rc;

    memset(extension, 0, sizeof(*extension));
    pthread_mutex_init(&extension->lock, NULL);
    rc = ebpf_thread_scratch_create(&extension->event_copies);
    if (rc == 0)
        rc = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(uint32_t),
                        sizeof(netevent_ext_statistics_t), 1, "netevent_stats",
                        NETEVENT_STATISTICS_PIN_NAME, &extension->statistics);
    if (rc == 0)
        rc =
            create_map(BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(uint32_t),
                       sizeof(netevent_ext_link_statistics_t), NETEVENT_MAX_LINKS, "netevent_links",
                       NETEVENT_LINK_STATISTICS_PIN_NAME, &extension->link_statistics);
    if (rc == 0)
        rc = ebpf_map_array_layout(extension->statistics, &extension->statistics_layout);
    if (rc == 0)
        rc = ebpf_map_array_layout(extension->link_statistics, &extension->link_statistics_layout);
    if (rc == 0)
        rc = create_map(BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), sizeof(netevent_ext_link_slot_t),
                        NETEVENT_MAX_LINKS, "netevent_slots", NETEVENT_LINK_SLOTS_PIN_NAME,
                        &extension->link_slots);
    if (rc == 0)
        rc = create_map(BPF_MAP_TYPE_RINGBUF, 0, 0, 512 * 1024, "netevent_push",
                        NETEVENT_EVENTS_PIN_NAME, &extension->push_events);
    /* Programs bind to the type first, so links find bound programs. */
    if (rc == 0)
        rc = ebpf_ext_program_info_provider_register(&netevent_program_data,
                                                     &extension->program_info_provider);
    if (rc == 0) {
        ebpf_ext_hook_provider_parameters_t hook = {
            .attach_type = &EBPF_ATTACH_TYPE_NETEVENT,
            .program_type = &EBPF_PROGRAM_TYPE_NETEVENT,
            .bpf_attach_type = BPF_ATTACH_TYPE_NETEVENT,
            .attach = netevent_link_attach,
            .detach = netevent_link_detach,
            .classes = netevent_link_classes,
            .context = extension,
        };
        rc = ebpf_ext_hook_provider_register(&hook, &extension->hook_provider);
    }
    /* Links that bound while the hook registered are waiting for the providers. */
    if (rc == 0) {
        pthread_mutex_lock(&extension->lock);
        extension->started = true;
        if (extension->attached_links > 0)
            rc = netevent_npi_client_register();
        pthread_mutex_unlock(&extension->lock);
    }
    if (rc != 0)
        netevent_stop();
    return rc;
}

static void netevent_stop(void)
{
    netevent_extension_t *extension = &netevent_extension;

    /* Links detach (each after its rundown); the last one takes the NPI client with it, so no
     * provider pushes any more. */
    ebpf_ext_hook_provider_unregister(extension->hook_provider);
    extension->hook_provider = NULL;
    /* Programs unbind: none can call bpf_netevent_push_event any more. */
    ebpf_ext_program_info_provider_unregister(extension->program_info_provider);
    extension->program_info_provider = NULL;
    netevent_npi_client_deregister(); /* in case a start failed half-way */
    release_map(&extension->push_events, NETEVENT_EVENTS_PIN_NAME);
    release_map(&extension->link_slots, NETEVENT_LINK_SLOTS_PIN_NAME);
    release_map(&extension->link_statistics, NETEVENT_LINK_STATISTICS_PIN_NAME);
    release_map(&extension->statistics, NETEVENT_STATISTICS_PIN_NAME);
    ebpf_thread_scratch_destroy(extension->event_copies);
    extension->event_copies = NULL;
    pthread_mutex_destroy(&extension->lock);
    /* Maps free after a grace period through deferred work that runs our code's data: wait for
     * it before the host unloads us. */
    ebpf_epoch_drain();
}

EBPF_MODULE_DEFINE("neteventebpfext", netevent_start, netevent_stop);
