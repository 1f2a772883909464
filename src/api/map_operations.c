/* libbpf's fd-level calls (bpf.h) for maps and programs: what bpf(2) would do, over the core. */
#include <errno.h>
#include <string.h>

#include "api_private.h"

static int map_of(int fd, ebpf_map_t **map)
{
    void *object;
    int rc = api_fd_get(fd, API_OBJECT_MAP, &object);
    if (rc == 0)
        *map = object;
    return rc;
}

int bpf_map_create(enum bpf_map_type map_type, const char *map_name, __u32 key_size,
                   __u32 value_size, __u32 max_entries, const struct bpf_map_create_opts *opts)
{
    ebpf_map_definition_t definition = {
        .type = (uint32_t)map_type,
        .key_size = key_size,
        .value_size = value_size,
        .max_entries = max_entries,
        .map_flags = API_OPTION(opts, map_flags, 0),
    };
    ebpf_map_t *inner = NULL, *map;
    int rc = api_check_options(opts, sizeof(*opts), "bpf_map_create_opts");
    if (rc != 0)
        return libbpf_result(rc);
    if (API_OPTION(opts, btf_fd, 0) != 0)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_map_create: there are no BTF objects here"));
    if (API_OPTION(opts, map_extra, 0) != 0)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_map_create: map_extra is not supported"));
    if (API_OPTION(opts, map_ifindex, 0) != 0)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_map_create: no device offload here"));
    uint32_t inner_fd = API_OPTION(opts, inner_map_fd, 0);
    if (inner_fd != 0) {
        rc = map_of((int)inner_fd, &inner);
        if (rc != 0)
            return libbpf_result(ebpf_error_prefix(rc, "bpf_map_create: inner map: "));
        definition.inner_map = ebpf_map_get_definition(inner);
    }
    rc = ebpf_map_create(&definition, map_name, &map);
    if (inner != NULL)
        ebpf_map_release(inner);
    if (rc != 0)
        return libbpf_result(rc);
    rc = api_fd_open(API_OBJECT_MAP, map);
    ebpf_map_release(map);
    return libbpf_result(rc);
}

int bpf_map_lookup_elem_flags(int fd, const void *key, void *value, __u64 flags)
{
    ebpf_map_t *map;
    if (value == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "map lookup: no value buffer"));
    int rc = map_of(fd, &map);
    if (rc != 0)
        return libbpf_result(rc);
    rc = ebpf_map_lookup_user(map, key, value, flags);
    ebpf_map_release(map);
    return libbpf_result(rc);
}

int bpf_map_lookup_elem(int fd, const void *key, void *value)
{
    return bpf_map_lookup_elem_flags(fd, key, value, 0);
}

int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
    ebpf_map_t *map;
    if (value == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "map update: no value"));
    int rc = map_of(fd, &map);
    if (rc != 0)
        return libbpf_result(rc);
    rc = ebpf_map_update_user(map, key, value, flags);
    ebpf_map_release(map);
    return libbpf_result(rc);
}

int bpf_map_delete_elem(int fd, const void *key)
{
    ebpf_map_t *map;
    int rc = map_of(fd, &map);
    if (rc != 0)
        return libbpf_result(rc);
    rc = ebpf_map_delete_user(map, key);
    ebpf_map_release(map);
    return libbpf_result(rc);
}

int bpf_map_get_next_key(int fd, const void *key, void *next_key)
{
    ebpf_map_t *map;
    if (next_key == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "map next key: no key buffer"));
    int rc = map_of(fd, &map);
    if (rc != 0)
        return libbpf_result(rc);
    rc = ebpf_map_get_next_key(map, key, next_key);
    ebpf_map_release(map);
    return libbpf_result(rc);
}

int bpf_map_lookup_and_delete_elem(int fd, const void *key, void *value)
{
    ebpf_map_t *map;
    if (value == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "map lookup and delete: no value buffer"));
    int rc = map_of(fd, &map);
    if (rc != 0)
        return libbpf_result(rc);
    rc = ebpf_map_lookup_and_delete_user(map, key, value, 0);
    ebpf_map_release(map);
    return libbpf_result(rc);
}

int bpf_map_freeze(int fd)
{
    ebpf_map_t *map;
    int rc = map_of(fd, &map);
    if (rc != 0)
        return libbpf_result(rc);
    rc = ebpf_map_freeze(map);
    ebpf_map_release(map);
    return libbpf_result(rc);
}

int bpf_prog_test_run_opts(int prog_fd, struct bpf_test_run_opts *opts)
{
    void *program;
    int rc;

    if (opts == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_prog_test_run_opts: no options"));
    rc = api_check_options(opts, sizeof(*opts), "bpf_test_run_opts");
    if (rc != 0)
        return libbpf_result(rc);
    if (API_OPTION(opts, repeat, 0) < 0)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_prog_test_run_opts: negative repeat"));
    if (API_OPTION(opts, cpu, 0) != 0 || API_OPTION(opts, batch_size, 0) != 0)
        return libbpf_result(
            ebpf_error(-EINVAL, "bpf_prog_test_run_opts: cpu and batch_size must be 0"));
    ebpf_test_run_options_t options = {
        .data_in = API_OPTION(opts, data_in, NULL),
        .data_out = API_OPTION(opts, data_out, NULL),
        .data_size_in = API_OPTION(opts, data_size_in, 0),
        .data_size_out = API_OPTION(opts, data_size_out, 0),
        .ctx_in = API_OPTION(opts, ctx_in, NULL),
        .ctx_out = API_OPTION(opts, ctx_out, NULL),
        .ctx_size_in = API_OPTION(opts, ctx_size_in, 0),
        .ctx_size_out = API_OPTION(opts, ctx_size_out, 0),
        .repeat = (uint32_t)API_OPTION(opts, repeat, 0),
        .flags = API_OPTION(opts, flags, 0),
    };
    /* As Linux: data_size_out without data_out is only an output, and ctx_size_out is
     * written only when there is a ctx_out (so one opts struct serves several runs). */
    if (options.data_out == NULL)
        options.data_size_out = 0;
    rc = api_fd_get(prog_fd, API_OBJECT_PROGRAM, &program);
    if (rc != 0)
        return libbpf_result(rc);
    rc = ebpf_program_test_run(program, &options);
    ebpf_program_release(program);
    /* Sizes come back on -ENOSPC too: they say what was needed. */
    if (rc == 0 || rc == -ENOSPC) {
        if (API_HAS_OPTION(opts, data_size_out))
            opts->data_size_out = options.data_size_out;
        if (API_HAS_OPTION(opts, ctx_size_out) && options.ctx_out != NULL)
            opts->ctx_size_out = options.ctx_size_out;
        if (API_HAS_OPTION(opts, retval))
            opts->retval = options.retval;
        if (API_HAS_OPTION(opts, duration))
            opts->duration = options.duration;
    }
    return libbpf_result(rc);
}
