/* The "core_test" program type of the core tests: context with packet pointers, one type helper
 * (core_test_double) and test-run support. Shared by every test that runs core_programs. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core_test_type.h"
#include "ebpf_object.h"
#include "ebpf_platform.h"

static int context_create(const uint8_t *data_in, size_t data_size_in, const uint8_t *context_in,
                          size_t context_size_in, void **context)
{
    if (context_size_in != 0 && context_size_in != sizeof(core_test_context_t))
        return -EINVAL;
    core_test_context_t *created = ebpf_allocate(sizeof(*created) + data_size_in);
    if (created == NULL)
        return -ENOMEM;
    if (context_in != NULL)
        memcpy(created, context_in, sizeof(*created));
    uint8_t *packet = (uint8_t *)(created + 1);
    if (data_size_in)
        memcpy(packet, data_in, data_size_in);
    created->data = (uint64_t)(uintptr_t)packet;
    created->data_end = (uint64_t)(uintptr_t)(packet + data_size_in);
    *context = created;
    return 0;
}

static void context_destroy(void *context, uint8_t *data_out, size_t *data_size_out,
                            uint8_t *context_out, size_t *context_size_out)
{
    core_test_context_t *ended = context;
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

static uint64_t helper_double(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    return r1 * 2;
}

static const ebpf_context_descriptor_t context_descriptor = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t),
    sizeof(core_test_context_t), offsetof(core_test_context_t, data),
    offsetof(core_test_context_t, data_end), -1};
static const ebpf_program_type_descriptor_t type_descriptor = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "core_test",
    .context_descriptor = &context_descriptor,
    .program_type = {0xc0c0c0c0, 1, 2, {3, 4, 5, 6, 7, 8, 9, 10}},
    .bpf_prog_type = 1000,
};
static const ebpf_helper_prototype_t type_helpers[] = {
    {.header = EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),
     .id = CORE_TEST_HELPER_DOUBLE,
     .name = "core_test_double",
     .return_type = EBPF_RET_INTEGER,
     .arguments = {EBPF_ARG_ANYTHING}},
};
static const ebpf_helper_function_t type_helper_functions[] = {helper_double};
static const ebpf_program_info_t program_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &type_descriptor,
    .count_of_program_type_specific_helpers = 1,
    .program_type_specific_helper_prototype = type_helpers,
};
static const ebpf_helper_function_addresses_t type_helper_addresses = {
    EBPF_EXTENSION_HEADER(EBPF_HELPER_FUNCTION_ADDRESSES_VERSION, ebpf_helper_function_addresses_t),
    1, type_helper_functions};
const ebpf_program_data_t core_test_program_data = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_DATA_VERSION, ebpf_program_data_t),
    .program_info = &program_info,
    .program_type_specific_helper_function_addresses = &type_helper_addresses,
    .context_create = context_create,
    .context_destroy = context_destroy,
};

static int bind_core_test(void *context, size_t index, const ebpf_elf_program_t *program,
                          ebpf_object_program_binding_t *binding)
{
    binding->program_data = &core_test_program_data;
    return 0;
}

int core_test_load_object(const ebpf_elf_object_t *elf, bool verified, ebpf_object_t **object)
{
    ebpf_object_load_options_t options = {
        .resolve = bind_core_test,
        .test_hook_run_unverified_in_checked_interpreter = !verified,
    };
    return ebpf_object_load_elf_with_options(elf, &options, object);
}
