/* Links: a program attached to a hook, as a client of the hook NPI. The hook provider runs the
 * program through the dispatch table the link gives it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core_private.h"

struct ebpf_link {
    uint32_t id;
    ebpf_program_t *program; /* holds a reference */
    ebpf_guid_t attach_type;
    bool any_attach_type; /* created with NULL: the hook of the program's type */
    void *attach_parameters;
    size_t attach_parameters_size;
    ebpf_link_client_data_t client_data;
    nmr_client_characteristics_t characteristics;
    nmr_module_id_t module_id;
    nmr_client_t *client;
    /* lock guards bound_hooks, last_refusal and detached. */
    pthread_mutex_t lock;
    uint32_t bound_hooks;
    int last_refusal; /* the last hook provider's refusal, 0 when none */
    char refusal_message[256];
    bool detached;
};

/* Only grows; ids are never reused. */
static _Atomic uint32_t next_link_id = 1;

static int link_invoke(const void *client_binding_context, void *program_context, uint64_t *result)
{
    const ebpf_link_t *link = client_binding_context;
    return ebpf_program_invoke(link->program, program_context, result);
}

/* Inside a batch the epoch section and the CPU claim are the batch's own. */
static int link_batch_invoke(const void *client_binding_context, void *program_context,
                             uint64_t *result)
{
    const ebpf_link_t *link = client_binding_context;
    return core_program_invoke_claimed(link->program, program_context, result);
}

/* A batch is one epoch read section and one CPU claim around several invocations. */
static void link_batch_begin(void)
{
    ebpf_epoch_enter();
    ebpf_cpu_enter();
}

static void link_batch_end(void)
{
    ebpf_cpu_exit();
    ebpf_epoch_exit();
}

static const ebpf_link_dispatch_t link_dispatch = {
    EBPF_EXTENSION_HEADER(EBPF_LINK_DISPATCH_VERSION, ebpf_link_dispatch_t), link_invoke,
    link_batch_begin, link_batch_invoke, link_batch_end};

static int attach_provider(nmr_binding_t *binding, void *client_context,
                           const nmr_registration_instance_t *provider)
{
    ebpf_link_t *link = client_context;
    const ebpf_hook_provider_data_t *data = provider->npi_specific_characteristics;
    void *provider_binding_context;
    const void *provider_dispatch;
    int rc;

    if (data == NULL || data->header.size < sizeof(*data) ||
        !ebpf_guid_equal(&data->program_type, ebpf_program_get_type(link->program)))
        return NMR_NOINTERFACE;
    if (!link->any_attach_type && !ebpf_guid_equal(provider->module_id, &link->attach_type))
        return NMR_NOINTERFACE;
    if (link->any_attach_type)
        link->client_data.attach_type = *provider->module_id;

    ebpf_error_clear();
    rc = nmr_client_attach_provider(binding, link, &link_dispatch, &provider_binding_context,
                                    &provider_dispatch);
    pthread_mutex_lock(&link->lock);
    if (rc == 0) {
        link->bound_hooks++;
        link->last_refusal = 0;
    } else {
        link->last_refusal = rc;
        snprintf(link->refusal_message, sizeof(link->refusal_message), "%s", ebpf_last_error());
    }
    pthread_mutex_unlock(&link->lock);
    return rc;
}

static int detach_provider(void *client_binding_context)
{
    ebpf_link_t *link = client_binding_context;
    /* Invocations in flight are the hook provider's to wait for; the link only counts. */
    pthread_mutex_lock(&link->lock);
    link->bound_hooks--;
    pthread_mutex_unlock(&link->lock);
    return 0;
}

/* Conservative: unverified programs, programs the verifier saw writing packet data, and programs
 * that tail-call (the target is only known at run time) may write. */
static bool program_may_write_packet(const ebpf_program_t *program)
{
    const ebpf_program_verification_t *verification = ebpf_program_get_verification(program);
    uint32_t count;
    const struct bpf_insn *instructions = ebpf_program_get_instructions(program, &count);

    if (!verification->verified || verification->writes_packet)
        return true;
    for (uint32_t i = 0; i < count; i++) {
        if (instructions[i].code == (BPF_JMP | BPF_CALL) && instructions[i].src_reg == 0 &&
            instructions[i].imm == BPF_FUNC_tail_call)
            return true;
    }
    return false;
}

int ebpf_link_create(ebpf_program_t *program, const ebpf_guid_t *attach_type,
                     const void *attach_parameters, size_t attach_parameters_size,
                     ebpf_link_t **out)
{
    ebpf_link_t *link;
    int rc;

    if (program == NULL || out == NULL)
        return ebpf_error(-EINVAL, "link: a program is required");
    if (attach_parameters == NULL && attach_parameters_size != 0)
        return ebpf_error(-EINVAL, "link: attach parameter size %zu without parameters",
                          attach_parameters_size);
    if (!program->has_program_type)
        return ebpf_error(-EINVAL, "link: %s has no program type to attach by",
                          ebpf_program_get_name(program));
    link = ebpf_allocate(sizeof(*link));
    if (link == NULL)
        return ebpf_error(-ENOMEM, "link: out of memory");
    if (attach_parameters_size != 0) {
        link->attach_parameters = ebpf_allocate(attach_parameters_size);
        if (link->attach_parameters == NULL) {
            ebpf_free(link);
            return ebpf_error(-ENOMEM, "link: out of memory");
        }
        memcpy(link->attach_parameters, attach_parameters, attach_parameters_size);
        link->attach_parameters_size = attach_parameters_size;
    }
    pthread_mutex_init(&link->lock, NULL);
    ebpf_program_acquire(program);
    link->program = program;
    link->id = atomic_fetch_add(&next_link_id, 1);
    link->any_attach_type = attach_type == NULL;
    if (attach_type != NULL)
        link->attach_type = *attach_type;
    link->client_data = (ebpf_link_client_data_t){
        .header = EBPF_EXTENSION_HEADER(EBPF_LINK_CLIENT_DATA_VERSION, ebpf_link_client_data_t),
        .attach_type = link->attach_type,
        .program_type = *ebpf_program_get_type(program),
        .program_id = ebpf_program_get_id(program),
        .link_id = link->id,
        .attach_parameters = link->attach_parameters,
        .attach_parameters_size = link->attach_parameters_size,
        .program_may_write_packet = program_may_write_packet(program),
    };
    link->module_id = (nmr_module_id_t){link->id, 0x11c, 0x11c, {'l', 'i', 'n', 'k', 0}};
    link->characteristics = (nmr_client_characteristics_t){
        .version = NMR_CHARACTERISTICS_VERSION,
        .size = sizeof(nmr_client_characteristics_t),
        .attach_provider = attach_provider,
        .detach_provider = detach_provider,
        .registration_instance = {NMR_REGISTRATION_INSTANCE_VERSION,
                                  sizeof(nmr_registration_instance_t), &EBPF_HOOK_NPI_ID,
                                  &link->module_id, 0, &link->client_data},
    };
    rc = nmr_register_client(&link->characteristics, link, &link->client);
    if (rc == 0) {
        pthread_mutex_lock(&link->lock);
        bool bound = link->bound_hooks > 0;
        int refusal = link->last_refusal;
        pthread_mutex_unlock(&link->lock);
        if (!bound) {
            char type[EBPF_GUID_STRING_LENGTH + 1];
            ebpf_guid_to_string(
                link->any_attach_type ? ebpf_program_get_type(program) : &link->attach_type, type);
            if (refusal != 0)
                rc = ebpf_error(refusal, "attaching %s: %s", ebpf_program_get_name(program),
                                link->refusal_message[0] ? link->refusal_message
                                                         : "the hook refused the link");
            else
                rc = ebpf_error(-ENOENT,
                                "attaching %s: no extension provides the hook %s %s "
                                "(is it loaded?)",
                                ebpf_program_get_name(program),
                                link->any_attach_type ? "of program type" : "of attach type", type);
            /* Keep the message: deregistering may overwrite it. */
            char message[512];
            snprintf(message, sizeof(message), "%s", ebpf_last_error());
            link->detached = true;
            if (nmr_deregister_client(link->client) >= 0)
                nmr_wait_for_client_deregister_complete(link->client);
            ebpf_error(rc, "%s", message);
        }
    }
    if (rc != 0) {
        ebpf_program_release(program);
        pthread_mutex_destroy(&link->lock);
        ebpf_free(link->attach_parameters);
        ebpf_free(link);
        return rc;
    }
    *out = link;
    return 0;
}

int ebpf_link_detach(ebpf_link_t *link)
{
    if (link == NULL)
        return ebpf_error(-EINVAL, "link: NULL link");
    pthread_mutex_lock(&link->lock);
    bool already = link->detached;
    link->detached = true;
    pthread_mutex_unlock(&link->lock);
    if (already)
        return 0;
    int rc = nmr_deregister_client(link->client);
    if (rc >= 0)
        rc = nmr_wait_for_client_deregister_complete(link->client);
    return rc;
}

void ebpf_link_release(ebpf_link_t *link)
{
    if (link == NULL)
        return;
    ebpf_link_detach(link);
    ebpf_program_release(link->program);
    pthread_mutex_destroy(&link->lock);
    ebpf_free(link->attach_parameters);
    ebpf_free(link);
}

uint32_t ebpf_link_get_id(const ebpf_link_t *link)
{
    return link->id;
}

ebpf_program_t *ebpf_link_get_program(const ebpf_link_t *link)
{
    return link->program;
}

const ebpf_guid_t *ebpf_link_get_attach_type(const ebpf_link_t *link)
{
    return link->any_attach_type ? &link->client_data.attach_type : &link->attach_type;
}

bool ebpf_link_is_attached(const ebpf_link_t *link)
{
    pthread_mutex_lock((pthread_mutex_t *)&link->lock);
    bool attached = link->bound_hooks > 0 && !link->detached;
    pthread_mutex_unlock((pthread_mutex_t *)&link->lock);
    return attached;
}
