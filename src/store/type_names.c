/* Names of helper argument and return kinds, as the store writes them. */
#include <errno.h>
#include <string.h>

#include "ebpf_platform.h"
#include "ebpf_store.h"

static const char *const argument_names[] = {
    [EBPF_ARG_DONTCARE] = "dontcare",
    [EBPF_ARG_ANYTHING] = "anything",
    [EBPF_ARG_CONST_SIZE] = "const_size",
    [EBPF_ARG_CONST_SIZE_OR_ZERO] = "const_size_or_zero",
    [EBPF_ARG_PTR_TO_CTX] = "ptr_to_ctx",
    [EBPF_ARG_CONST_PTR_TO_MAP] = "const_ptr_to_map",
    [EBPF_ARG_PTR_TO_MAP_KEY] = "ptr_to_map_key",
    [EBPF_ARG_PTR_TO_MAP_VALUE] = "ptr_to_map_value",
    [EBPF_ARG_PTR_TO_UNINIT_MAP_VALUE] = "ptr_to_uninit_map_value",
    [EBPF_ARG_PTR_TO_READABLE_MEM] = "ptr_to_readable_mem",
    [EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL] = "ptr_to_readable_mem_or_null",
    [EBPF_ARG_PTR_TO_WRITABLE_MEM] = "ptr_to_writable_mem",
    [EBPF_ARG_PTR_TO_ALLOC_MEM] = "ptr_to_alloc_mem",
    [EBPF_ARG_CONST_ALLOC_SIZE_OR_ZERO] = "const_alloc_size_or_zero",
    [EBPF_ARG_PTR_TO_CONST_STR] = "ptr_to_const_str",
};

static const char *const return_names[] = {
    [EBPF_RET_INTEGER] = "integer",
    [EBPF_RET_VOID] = "void",
    [EBPF_RET_PTR_TO_MAP_VALUE_OR_NULL] = "ptr_to_map_value_or_null",
    [EBPF_RET_PTR_TO_ALLOC_MEM_OR_NULL] = "ptr_to_alloc_mem_or_null",
};

const char *ebpf_argument_type_name(ebpf_argument_type_t type)
{
    if ((size_t)type >= EBPF_ARRAY_SIZE(argument_names) || argument_names[type] == NULL)
        return NULL;
    return argument_names[type];
}

const char *ebpf_return_type_name(ebpf_return_type_t type)
{
    if ((size_t)type >= EBPF_ARRAY_SIZE(return_names) || return_names[type] == NULL)
        return NULL;
    return return_names[type];
}

int ebpf_argument_type_from_name(const char *name, ebpf_argument_type_t *type)
{
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(argument_names); i++) {
        if (argument_names[i] != NULL && strcmp(argument_names[i], name) == 0) {
            *type = (ebpf_argument_type_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

int ebpf_return_type_from_name(const char *name, ebpf_return_type_t *type)
{
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(return_names); i++) {
        if (return_names[i] != NULL && strcmp(return_names[i], name) == 0) {
            *type = (ebpf_return_type_t)i;
            return 0;
        }
    }
    return -EINVAL;
}
