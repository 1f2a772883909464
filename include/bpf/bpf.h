/* libbpf's low-level API (bpf.h): maps, programs, links and pins addressed by fds. */
#ifndef EBPF_BPF_BPF_H
#define EBPF_BPF_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every function here follows libbpf 1.x: it returns 0 (or an fd, a count) on success, and on
 * failure a negative errno, which it also stores in errno; ebpf_last_error() explains it.
 *
 * fds are not kernel descriptors: there is no bpf(2) here. They come from a process-local
 * table, numbered from EBPF_FD_BASE so that they can never be mistaken for (or closed as) real
 * descriptors; release one with ebpf_close_fd (include/ebpf_api.h), not close(2). */

/* Options structs start with their own size, so a program built against an older or newer
 * layout still works: fields beyond sz read as zero, and unknown nonzero fields are refused.
 *   LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = 64); */
#define LIBBPF_OPTS(TYPE, NAME, ...) struct TYPE NAME = {.sz = sizeof(struct TYPE), __VA_ARGS__}
#define DECLARE_LIBBPF_OPTS          LIBBPF_OPTS

/* ------------------------------------------------------------------------------------------
 * Maps.
 * ------------------------------------------------------------------------------------------ */

struct bpf_map_create_opts {
    size_t sz;
    __u32 btf_fd;            /* accepted, must be 0: maps carry no BTF here */
    __u32 btf_key_type_id;   /* ignored */
    __u32 btf_value_type_id; /* ignored */
    __u32 btf_vmlinux_value_type_id;
    __u32 inner_map_fd; /* map-in-map: a map whose definition every inner map must match */
    __u32 map_flags;
    __u64 map_extra;
    __u32 numa_node;
    __u32 map_ifindex;
};

/* A new map and an fd that owns a reference to it. map_name may be NULL. */
int bpf_map_create(enum bpf_map_type map_type, const char *map_name, __u32 key_size,
                   __u32 value_size, __u32 max_entries, const struct bpf_map_create_opts *opts);

int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
int bpf_map_lookup_elem(int fd, const void *key, void *value);
int bpf_map_lookup_elem_flags(int fd, const void *key, void *value, __u64 flags);
int bpf_map_lookup_and_delete_elem(int fd, const void *key, void *value);
int bpf_map_delete_elem(int fd, const void *key);
/* key NULL (or absent) gives the first key; -ENOENT after the last one. */
int bpf_map_get_next_key(int fd, const void *key, void *next_key);
int bpf_map_freeze(int fd);

/* ------------------------------------------------------------------------------------------
 * Pins: a process-wide namespace of names. "/sys/fs/bpf/x" and "x" name the same pin.
 * ------------------------------------------------------------------------------------------ */

/* Pins the map, program or link behind fd (the pin holds its own reference). -EEXIST when the
 * name is taken. */
int bpf_obj_pin(int fd, const char *pathname);
/* A new fd for what is pinned at pathname; -ENOENT when nothing is. */
int bpf_obj_get(const char *pathname);

/* A new fd for the program or map with this id, found among the objects this process holds
 * through fds or pins; -ENOENT otherwise. */
int bpf_prog_get_fd_by_id(__u32 id);
int bpf_map_get_fd_by_id(__u32 id);

/* ------------------------------------------------------------------------------------------
 * Programs and links.
 * ------------------------------------------------------------------------------------------ */

struct bpf_test_run_opts {
    size_t sz;
    const void *data_in; /* optional */
    void *data_out;      /* optional */
    __u32 data_size_in;
    __u32 data_size_out; /* in: capacity of data_out; out: bytes the program produced */
    const void *ctx_in;  /* optional */
    void *ctx_out;       /* optional */
    __u32 ctx_size_in;
    __u32 ctx_size_out; /* in: capacity of ctx_out; out: size of the context */
    __u32 retval;       /* out: the program's return value */
    int repeat;         /* 0 means 1 */
    __u32 duration;     /* out: average ns per run */
    __u32 flags;        /* must be 0 */
    __u32 cpu;          /* must be 0 */
    __u32 batch_size;   /* must be 0 */
};

/* Runs the program on a context its program type builds from data_in and ctx_in, and copies
 * data and context back. -ENOTSUP when the program type has no test-run support; -ENOSPC when
 * data_out or ctx_out is too small (what fits is copied, the sizes say what was needed). */
int bpf_prog_test_run_opts(int prog_fd, struct bpf_test_run_opts *opts);

/* Detaches the link from its hook; the link (and its fd) stay until released. Detaching a
 * detached link succeeds. */
int bpf_link_detach(int link_fd);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_BPF_BPF_H */
