/* The "api_test" program type for the user API tests (see api_test_support.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api_test_support.h"
#include "ebpf_platform.h"
#include "ebpf_store.h"

const ebpf_guid_t api_test_program_type = {
    0x7e57a91d, 0x0001, 0x4a11, {0x9a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00}};
const ebpf_guid_t api_test_attach_type = {
    0x7e57a91d, 0x0002, 0x4a11, {0x9a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00}};

static int context_create(const uint8_t *data_in, size_t data_size_in, const uint8_t *context_in,
                          size_t context_size_in, void **context)
{
    if (context_size_in != 0 && context_size_in != sizeof(api_test_context_t))
        return ebpf_error(-EINVAL, "api_test: context of %zu bytes", context_size_in);
    api_test_context_t *created = ebpf_allocate(sizeof(*created) + data_size_in);
    if (created == NULL)
        return -ENOMEM;
    if (context_in != NULL)
        memcpy(created, context_in, sizeof(*created));
    uint8_t *packet = (uint8_t *)(created + 1);
    if (data_size_in != 0)
        memcpy(packet, data_in, data_size_in);
    created->data = (uint64_t)(uintptr_t)packet;
    created->data_end = (uint64_t)(uintptr_t)(packet + data_size_in);
    *context = created;
    return 0;
}

static void context_destroy(void *context, uint8_t *data_out, size_t *data_size_out,
                            uint8_t *context_out, size_t *context_size_out)
{
    api_test_context_t *ended = context;
    size_t data_size = ended->data_end - ended->data;
    if (data_out != NULL)
        memcpy(data_out, (void *)(uintptr_t)ended->data,
               data_size < *data_size_out ? data_size : *data_size_out);
    *data_size_out = data_size;
    if (context_out != NULL)
        memcpy(context_out, ended,
               sizeof(*ended) < *context_size_out ? sizeof(*ended) : *context_size_out);
    *context_size_out = sizeof(*ended);
    ebpf_free(ended);
}

static uint64_t add_thousand(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    return r1 + 1000;
}

static const ebpf_context_descriptor_t context_descriptor = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t),
    sizeof(api_test_context_t), offsetof(api_test_context_t, data),
    offsetof(api_test_context_t, data_end), -1};
static const ebpf_program_type_descriptor_t type_descriptor = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "api_test",
    .context_descriptor = &context_descriptor,
    .program_type = {0x7e57a91d, 0x0001, 0x4a11, {0x9a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00}},
    .bpf_prog_type = API_TEST_BPF_PROG_TYPE,
};
static const ebpf_helper_prototype_t type_helpers[] = {
    {.header = EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),
     .id = API_TEST_HELPER_ADD_THOUSAND,
     .name = "api_test_add_thousand",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_ANYTHING}},
};
static const ebpf_helper_function_t type_helper_functions[] = {add_thousand};
static const ebpf_program_info_t program_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &type_descriptor,
    .count_of_program_type_specific_helpers = 1,
    .program_type_specific_helper_prototype = type_helpers,
};
static const ebpf_helper_function_addresses_t type_helper_addresses = {
    EBPF_EXTENSION_HEADER(EBPF_HELPER_FUNCTION_ADDRESSES_VERSION, ebpf_helper_function_addresses_t),
    1, type_helper_functions};
static const ebpf_program_data_t program_data = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_DATA_VERSION, ebpf_program_data_t),
    .program_info = &program_info,
    .program_type_specific_helper_function_addresses = &type_helper_addresses,
    .context_create = context_create,
    .context_destroy = context_destroy,
};

void api_test_store_export(void)
{
    ebpf_store_t *store;
    const ebpf_program_section_info_t section = {
        .header =
            EBPF_EXTENSION_HEADER(EBPF_PROGRAM_SECTION_INFO_VERSION, ebpf_program_section_info_t),
        .section_prefix = "api_test",
        .program_type = &api_test_program_type,
        .attach_type = &api_test_attach_type,
        .bpf_program_type = API_TEST_BPF_PROG_TYPE,
        .bpf_attach_type = API_TEST_BPF_ATTACH_TYPE,
    };
    assert_int_equal(ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store), 0);
    assert_int_equal(ebpf_store_update_program_info(store, &program_info), 0);
    assert_int_equal(ebpf_store_update_section_info(store, &section, 1), 0);
    ebpf_store_close(store);
}

static ebpf_ext_program_info_provider_t *information_provider;

void api_test_program_info_register(void)
{
    assert_null(information_provider);
    assert_int_equal(ebpf_ext_program_info_provider_register(&program_data, &information_provider),
                     0);
}

void api_test_program_info_unregister(void)
{
    ebpf_ext_program_info_provider_unregister(information_provider);
    information_provider = NULL;
}

/* ---- hook ---- */

static int hook_attach(void *context, const ebpf_link_client_data_t *link, void **link_state)
{
    uint32_t *limit;
    if (link->attach_parameters == NULL) {
        *link_state = NULL;
        return 0;
    }
    if (link->attach_parameters_size != sizeof(uint32_t) ||
        *(const uint32_t *)link->attach_parameters >= 100)
        return ebpf_error(-EINVAL, "api_test hook: the attach parameter is a uint32_t below 100");
    limit = ebpf_allocate(sizeof(*limit));
    if (limit == NULL)
        return ebpf_error(-ENOMEM, "api_test hook: out of memory");
    *limit = *(const uint32_t *)link->attach_parameters;
    *link_state = limit;
    return 0;
}

static void hook_detach(void *context, void *link_state)
{
    ebpf_free(link_state);
}

static ebpf_ext_hook_provider_t *hook_provider;

void api_test_hook_register(void)
{
    const ebpf_ext_hook_provider_parameters_t parameters = {
        .attach_type = &api_test_attach_type,
        .program_type = &api_test_program_type,
        .bpf_attach_type = API_TEST_BPF_ATTACH_TYPE,
        .attach = hook_attach,
        .detach = hook_detach,
    };
    assert_null(hook_provider);
    assert_int_equal(ebpf_ext_hook_provider_register(&parameters, &hook_provider), 0);
}

void api_test_hook_unregister(void)
{
    ebpf_ext_hook_provider_unregister(hook_provider);
    hook_provider = NULL;
}

uint32_t api_test_hook_invoke(const void *packet, size_t size)
{
    api_test_context_t context = {
        .data = (uint64_t)(uintptr_t)packet,
        .data_end = (uint64_t)(uintptr_t)packet + size,
    };
    return ebpf_ext_hook_invoke(hook_provider, &context, NULL, NULL, NULL, NULL, NULL);
}

uint32_t api_test_hook_attached(void)
{
    return ebpf_ext_hook_attached_count(hook_provider);
}

const char *api_test_object(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s.o", API_TEST_BPF_DIR, name);
    return path;
}
