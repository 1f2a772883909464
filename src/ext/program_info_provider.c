/* Program-information provider: offers a program type's data to the programs of that type. */
#include <errno.h>

#include "ebpf_ext.h"
#include "ebpf_platform.h"

struct ebpf_ext_program_info_provider {
    nmr_provider_characteristics_t characteristics; /* lives as long as the registration */
    nmr_module_id_t module_id;
    nmr_provider_t *registration;
};

static int attach_client(nmr_binding_t *binding, void *provider_context,
                         const nmr_registration_instance_t *client, void *client_binding_context,
                         const void *client_dispatch, void **provider_binding_context,
                         const void **provider_dispatch)
{
    /* Everything a program needs is in the registration's data; nothing per binding. */
    *provider_binding_context = NULL;
    *provider_dispatch = NULL;
    return 0;
}

static int detach_client(void *provider_binding_context)
{
    return 0;
}

int ebpf_ext_program_info_provider_register(const ebpf_program_data_t *data,
                                            ebpf_ext_program_info_provider_t **out)
{
    ebpf_ext_program_info_provider_t *provider;
    int rc;

    if (data == NULL || out == NULL || data->program_info == NULL ||
        data->program_info->program_type_descriptor == NULL)
        return ebpf_error(-EINVAL, "program information provider: incomplete program data");
    provider = ebpf_allocate(sizeof(*provider));
    if (provider == NULL)
        return ebpf_error(-ENOMEM, "program information provider: out of memory");
    provider->module_id = data->program_info->program_type_descriptor->program_type;
    provider->characteristics = (nmr_provider_characteristics_t){
        .version = NMR_CHARACTERISTICS_VERSION,
        .size = sizeof(nmr_provider_characteristics_t),
        .attach_client = attach_client,
        .detach_client = detach_client,
        .registration_instance = {NMR_REGISTRATION_INSTANCE_VERSION,
                                  sizeof(nmr_registration_instance_t), &EBPF_PROGRAM_INFO_NPI_ID,
                                  &provider->module_id, 0, data},
    };
    rc = nmr_register_provider(&provider->characteristics, provider, &provider->registration);
    if (rc != 0) {
        ebpf_free(provider);
        return rc;
    }
    *out = provider;
    return 0;
}

void ebpf_ext_program_info_provider_unregister(ebpf_ext_program_info_provider_t *provider)
{
    if (provider == NULL)
        return;
    if (nmr_deregister_provider(provider->registration) >= 0)
        nmr_wait_for_provider_deregister_complete(provider->registration);
    ebpf_free(provider);
}
