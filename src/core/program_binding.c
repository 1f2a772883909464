/* A program's binding to its extension: a client of the program-information NPI that binds to
 * the provider of its program type (and to the core's own provider of the general helpers). */
#include <errno.h>
#include <string.h>

#include "core_private.h"

/* ---- the core's provider of the general helpers ---- */

static ebpf_helper_function_t general_functions[64];
static ebpf_helper_function_addresses_t general_addresses;
static ebpf_program_type_descriptor_t general_type;
static ebpf_context_descriptor_t general_context = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t), 0, -1, -1,
    -1};
static ebpf_program_info_t general_info;
static ebpf_program_data_t general_data;
static nmr_provider_characteristics_t general_characteristics;
static nmr_provider_t *general_provider;
static pthread_once_t general_once = PTHREAD_ONCE_INIT;

static int general_attach_client(nmr_binding_t *binding, void *provider_context,
                                 const nmr_registration_instance_t *client,
                                 void *client_binding_context, const void *client_dispatch,
                                 void **provider_binding_context, const void **provider_dispatch)
{
    *provider_binding_context = NULL;
    *provider_dispatch = NULL;
    return 0;
}

static int general_detach_client(void *provider_binding_context)
{
    return 0;
}

/* Registered once, for the life of the process: the general helpers never go away. */
static void register_general_provider(void)
{
    size_t count;
    const ebpf_helper_prototype_t *prototypes = ebpf_core_general_helpers(&count);

    for (size_t i = 0; i < count && i < EBPF_ARRAY_SIZE(general_functions); i++)
        ebpf_core_find_general_helper(prototypes[i].id, &general_functions[i]);
    general_addresses = (ebpf_helper_function_addresses_t){
        EBPF_EXTENSION_HEADER(EBPF_HELPER_FUNCTION_ADDRESSES_VERSION,
                              ebpf_helper_function_addresses_t),
        (uint32_t)count, general_functions};
    general_type = (ebpf_program_type_descriptor_t){
        .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION,
                                        ebpf_program_type_descriptor_t),
        .name = "general",
        .context_descriptor = &general_context,
        .program_type = EBPF_GENERAL_HELPERS_MODULE_ID_GUID,
    };
    general_info = (ebpf_program_info_t){
        .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
        .program_type_descriptor = &general_type,
        .count_of_global_helpers = (uint32_t)count,
        .global_helper_prototype = prototypes,
    };
    general_data = (ebpf_program_data_t){
        .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_DATA_VERSION, ebpf_program_data_t),
        .program_info = &general_info,
        .global_helper_function_addresses = &general_addresses,
    };
    general_characteristics = (nmr_provider_characteristics_t){
        .version = NMR_CHARACTERISTICS_VERSION,
        .size = sizeof(nmr_provider_characteristics_t),
        .attach_client = general_attach_client,
        .detach_client = general_detach_client,
        .registration_instance = {NMR_REGISTRATION_INSTANCE_VERSION,
                                  sizeof(nmr_registration_instance_t), &EBPF_PROGRAM_INFO_NPI_ID,
                                  &EBPF_GENERAL_HELPERS_MODULE_ID, 0, &general_data},
    };
    if (nmr_register_provider(&general_characteristics, NULL, &general_provider) != 0)
        ebpf_log(EBPF_LOG_ERROR, "core: cannot register the general helpers: %s",
                 ebpf_last_error());
}

/* ---- the program's client ---- */

/* The program a binding tag belongs to. */
static ebpf_program_t *program_of(struct program_binding_tag *tag)
{
    return tag->general ? (ebpf_program_t *)((char *)tag - offsetof(ebpf_program_t, general_tag))
                        : (ebpf_program_t *)((char *)tag - offsetof(ebpf_program_t, type_tag));
}

static bool valid_program_data(const ebpf_program_data_t *data, const ebpf_guid_t *type)
{
    return data != NULL && data->header.size >= sizeof(ebpf_program_data_t) &&
           data->program_info != NULL &&
           data->program_info->header.size >= sizeof(ebpf_program_info_t) &&
           data->program_info->program_type_descriptor != NULL &&
           data->program_info->program_type_descriptor->context_descriptor != NULL &&
           ebpf_guid_equal(&data->program_info->program_type_descriptor->program_type, type) &&
           (data->program_info->count_of_program_type_specific_helpers == 0 ||
            (data->program_type_specific_helper_function_addresses != NULL &&
             data->program_type_specific_helper_function_addresses->helper_function_count ==
                 data->program_info->count_of_program_type_specific_helpers));
}

static int attach_provider(nmr_binding_t *nmr_binding, void *client_context,
                           const nmr_registration_instance_t *provider)
{
    ebpf_program_t *program = client_context;
    void *provider_binding_context;
    const void *provider_dispatch;
    int rc;

    if (ebpf_guid_equal(provider->module_id, &EBPF_GENERAL_HELPERS_MODULE_ID)) {
        rc = nmr_client_attach_provider(nmr_binding, &program->general_tag, NULL,
                                        &provider_binding_context, &provider_dispatch);
        if (rc == 0) {
            pthread_mutex_lock(&program->binding_lock);
            program->bound_to_general_helpers = true;
            pthread_mutex_unlock(&program->binding_lock);
        }
        return rc;
    }
    if (!ebpf_guid_equal(provider->module_id, &program->program_type))
        return NMR_NOINTERFACE;

    const ebpf_program_data_t *data = provider->npi_specific_characteristics;
    if (!valid_program_data(data, &program->program_type)) {
        ebpf_log(EBPF_LOG_WARN,
                 "core: %s: the provider of its program type gives malformed "
                 "program data; not binding",
                 program->name);
        return NMR_NOINTERFACE;
    }
    pthread_mutex_lock(&program->binding_lock);
    if (atomic_load(&program->binding) != NULL) {
        /* A second extension for the same type: the first one keeps the program. */
        pthread_mutex_unlock(&program->binding_lock);
        return NMR_NOINTERFACE;
    }
    program_binding_t *binding = NULL;
    rc = core_binding_create(program, data, &binding);
    if (rc == 0)
        rc = nmr_client_attach_provider(nmr_binding, &program->type_tag, NULL,
                                        &provider_binding_context, &provider_dispatch);
    if (rc == 0) {
        program->context_descriptor =
            *data->program_info->program_type_descriptor->context_descriptor;
        ebpf_epoch_publish(&program->binding, binding);
    } else {
        ebpf_log(EBPF_LOG_WARN, "core: %s cannot bind to its program type: %s", program->name,
                 ebpf_last_error());
        ebpf_free(binding);
    }
    pthread_mutex_unlock(&program->binding_lock);
    return rc;
}

static int detach_type(ebpf_program_t *program)
{
    pthread_mutex_lock(&program->binding_lock);
    program_binding_t *binding = atomic_load(&program->binding);
    ebpf_epoch_publish(&program->binding, NULL);
    pthread_mutex_unlock(&program->binding_lock);
    /* Runs that already read the binding may still call into the extension: wait them out
     * before the extension's code can go. */
    ebpf_epoch_synchronize();
    ebpf_free(binding);
    return 0;
}

static int detach_general(ebpf_program_t *program)
{
    pthread_mutex_lock(&program->binding_lock);
    program->bound_to_general_helpers = false;
    pthread_mutex_unlock(&program->binding_lock);
    return 0;
}

static int detach_provider(void *client_binding_context)
{
    struct program_binding_tag *tag = client_binding_context;
    ebpf_program_t *program = program_of(tag);
    return tag->general ? detach_general(program) : detach_type(program);
}

int core_program_bind(ebpf_program_t *program)
{
    char type[EBPF_GUID_STRING_LENGTH + 1];
    int rc;

    pthread_once(&general_once, register_general_provider);
    program->general_tag.general = true;
    program->type_tag.general = false;
    /* The module id of the client names the program (its id is not known yet: use the
     * address, which is unique while the program lives). */
    uintptr_t unique = (uintptr_t)program;
    program->client_module_id = (nmr_module_id_t){(uint32_t)unique,
                                                  (uint16_t)(unique >> 32),
                                                  (uint16_t)(unique >> 48),
                                                  {'p', 'r', 'o', 'g', 'r', 'a', 'm', 0}};
    program->information_characteristics = (nmr_client_characteristics_t){
        .version = NMR_CHARACTERISTICS_VERSION,
        .size = sizeof(nmr_client_characteristics_t),
        .attach_provider = attach_provider,
        .detach_provider = detach_provider,
        .registration_instance = {NMR_REGISTRATION_INSTANCE_VERSION,
                                  sizeof(nmr_registration_instance_t), &EBPF_PROGRAM_INFO_NPI_ID,
                                  &program->client_module_id, 0, NULL},
    };
    rc = nmr_register_client(&program->information_characteristics, program,
                             &program->information_client);
    if (rc != 0)
        return ebpf_error_prefix(rc, "%s: ", program->name);
    if (atomic_load(&program->binding) == NULL) {
        core_program_unbind(program);
        ebpf_guid_to_string(&program->program_type, type);
        return ebpf_error(-ENOENT,
                          "%s: program type %s is not loaded: load its extension "
                          "first",
                          program->name, type);
    }
    return 0;
}

void core_program_unbind(ebpf_program_t *program)
{
    if (program->information_client == NULL)
        return;
    if (nmr_deregister_client(program->information_client) >= 0)
        nmr_wait_for_client_deregister_complete(program->information_client);
    program->information_client = NULL;
}
