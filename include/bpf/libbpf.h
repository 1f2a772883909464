/* libbpf's object API (libbpf.h): objects from ELF files, programs, maps, links, ring and perf
 * buffers, with the names and signatures of libbpf 1.x. */
#ifndef EBPF_BPF_LIBBPF_H
#define EBPF_BPF_LIBBPF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "bpf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Functions returning a pointer return NULL on failure and set errno (libbpf 1.x); those
 * returning int return a negative errno. ebpf_last_error() (ebpf_platform.h) gives the reason
 * in words. */

struct bpf_object;
struct bpf_program;
struct bpf_map;
struct bpf_link;
struct ring_buffer;
struct perf_buffer;

/* ------------------------------------------------------------------------------------------
 * Diagnostics.
 * ------------------------------------------------------------------------------------------ */

enum libbpf_print_level {
    LIBBPF_WARN,
    LIBBPF_INFO,
    LIBBPF_DEBUG,
};

typedef int (*libbpf_print_fn_t)(enum libbpf_print_level level, const char *format, va_list args);

/* Installs the function failures are reported through (NULL silences them) and returns the
 * previous one. The default prints warnings and information to stderr. */
libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn);

/* -errno when ptr is NULL, else 0: for code written against libbpf before 1.0. */
long libbpf_get_error(const void *ptr);
/* The text of a negative or positive errno. */
int libbpf_strerror(int err, char *buf, size_t size);

/* ------------------------------------------------------------------------------------------
 * Objects.
 * ------------------------------------------------------------------------------------------ */

struct bpf_object_open_opts {
    size_t sz;
    /* The object's name instead of the one derived from the file name. */
    const char *object_name;
    /* Accepted for source compatibility; map definitions are always read strictly. */
    bool relaxed_maps;
    /* Where maps with pinning = LIBBPF_PIN_BY_NAME are pinned ("/sys/fs/bpf" by default). */
    const char *pin_root_path;
};

/* Reads the ELF object and lists its programs and maps; nothing is created before load. The
 * program type of each program comes from its section through the eBPF store. */
struct bpf_object *bpf_object__open(const char *path);
struct bpf_object *bpf_object__open_file(const char *path, const struct bpf_object_open_opts *opts);
struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz,
                                        const struct bpf_object_open_opts *opts);
/* Creates the maps and programs; each program binds to the extension of its program type,
 * which must be loaded. All or nothing; -EALREADY when loaded already. */
int bpf_object__load(struct bpf_object *obj);
/* Releases every fd the object holds and the object; NULL is ignored. Maps, programs and
 * links held elsewhere (fds, pins, links) stay. */
void bpf_object__close(struct bpf_object *obj);
const char *bpf_object__name(const struct bpf_object *obj);

struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj,
                                                     const char *name);
/* The program after prog (the first for NULL), or NULL after the last. */
struct bpf_program *bpf_object__next_program(const struct bpf_object *obj,
                                             struct bpf_program *prog);
struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj, const char *name);
int bpf_object__find_map_fd_by_name(const struct bpf_object *obj, const char *name);
struct bpf_map *bpf_object__next_map(const struct bpf_object *obj, const struct bpf_map *map);

#define bpf_object__for_each_program(pos, obj)                                                     \
    for ((pos) = bpf_object__next_program((obj), NULL); (pos) != NULL;                             \
         (pos) = bpf_object__next_program((obj), (pos)))
#define bpf_object__for_each_map(pos, obj)                                                         \
    for ((pos) = bpf_object__next_map((obj), NULL); (pos) != NULL;                                 \
         (pos) = bpf_object__next_map((obj), (pos)))

/* ------------------------------------------------------------------------------------------
 * Programs.
 * ------------------------------------------------------------------------------------------ */

/* The program's fd after load; -ENOENT before. */
int bpf_program__fd(const struct bpf_program *prog);
const char *bpf_program__name(const struct bpf_program *prog);
const char *bpf_program__section_name(const struct bpf_program *prog);
/* BPF_PROG_TYPE_UNSPEC when the store does not know the section. */
enum bpf_prog_type bpf_program__type(const struct bpf_program *prog);
/* Before load: the program type by its number, for a section the store does not know (the
 * number must be a program type the store knows). -EBUSY after load. */
int bpf_program__set_type(struct bpf_program *prog, enum bpf_prog_type type);
enum bpf_attach_type bpf_program__expected_attach_type(const struct bpf_program *prog);
/* Attaches to the hook of the section's attach type (or the program type's default), with no
 * attach parameters. NULL and errno on failure. */
struct bpf_link *bpf_program__attach(const struct bpf_program *prog);
int bpf_program__pin(struct bpf_program *prog, const char *path);
int bpf_program__unpin(struct bpf_program *prog, const char *path);

/* ------------------------------------------------------------------------------------------
 * Links.
 * ------------------------------------------------------------------------------------------ */

int bpf_link__fd(const struct bpf_link *link);
/* Detaches (if still attached), releases the link's fd and frees it; NULL is ignored. The
 * link's fd is closed afterwards: bpf_link_detach must come before, not after. */
int bpf_link__destroy(struct bpf_link *link);
/* bpf_link_detach(bpf_link__fd(link)). */
int bpf_link__detach(struct bpf_link *link);
int bpf_link__pin(struct bpf_link *link, const char *path);
int bpf_link__unpin(struct bpf_link *link);

/* ------------------------------------------------------------------------------------------
 * Maps.
 * ------------------------------------------------------------------------------------------ */

/* The map's fd after load; -ENOENT before. */
int bpf_map__fd(const struct bpf_map *map);
/* The variable's name, or the section name for global data (".data", ".rodata", ".bss"). */
const char *bpf_map__name(const struct bpf_map *map);
enum bpf_map_type bpf_map__type(const struct bpf_map *map);
__u32 bpf_map__max_entries(const struct bpf_map *map);
/* Before load only (-EBUSY after). */
int bpf_map__set_max_entries(struct bpf_map *map, __u32 max_entries);
__u32 bpf_map__key_size(const struct bpf_map *map);
__u32 bpf_map__value_size(const struct bpf_map *map);
__u32 bpf_map__map_flags(const struct bpf_map *map);
/* Pins the loaded map at path (NULL: the pin path the object gave it). */
int bpf_map__pin(struct bpf_map *map, const char *path);
/* Removes the pin at path (NULL: where the map was pinned). */
int bpf_map__unpin(struct bpf_map *map, const char *path);
int bpf_map__set_pin_path(struct bpf_map *map, const char *path);
const char *bpf_map__pin_path(const struct bpf_map *map);
bool bpf_map__is_pinned(const struct bpf_map *map);

/* LIBBPF_PIN_BY_NAME in a BTF map definition (__uint(pinning, LIBBPF_PIN_BY_NAME)): load pins
 * the map under <pin_root_path>/<name>, or reuses the map already pinned there. */
#ifndef LIBBPF_PIN_NONE /* bpf_helpers.h defines them as macros */
enum libbpf_pin_type {
    LIBBPF_PIN_NONE,
    LIBBPF_PIN_BY_NAME,
};
#endif

/* ------------------------------------------------------------------------------------------
 * Names of types.
 * ------------------------------------------------------------------------------------------ */

/* From a section name: the eBPF store's entries first (longest prefix), then the Linux section
 * names libbpf knows. -ESRCH when none matches. */
int libbpf_prog_type_by_name(const char *name, enum bpf_prog_type *prog_type,
                             enum bpf_attach_type *expected_attach_type);
int libbpf_attach_type_by_name(const char *name, enum bpf_attach_type *attach_type);
/* Names of numbers ("xdp", "cgroup_inet_ingress", "ringbuf"; a type from the store by its
 * section prefix); NULL for unknown numbers. */
const char *libbpf_bpf_prog_type_str(enum bpf_prog_type t);
const char *libbpf_bpf_attach_type_str(enum bpf_attach_type t);
const char *libbpf_bpf_map_type_str(enum bpf_map_type t);
const char *libbpf_bpf_link_type_str(enum bpf_link_type t);

/* ------------------------------------------------------------------------------------------
 * Ring buffer (BPF_MAP_TYPE_RINGBUF) consumer.
 * ------------------------------------------------------------------------------------------ */

/* Called for each record; a nonzero return stops the poll / consume and is returned by it. */
typedef int (*ring_buffer_sample_fn)(void *ctx, void *data, size_t size);

struct ring_buffer_opts {
    size_t sz;
};

struct ring_buffer *ring_buffer__new(int map_fd, ring_buffer_sample_fn sample_cb, void *ctx,
                                     const struct ring_buffer_opts *opts);
void ring_buffer__free(struct ring_buffer *rb);
/* Adds another ring buffer map, with its own callback. */
int ring_buffer__add(struct ring_buffer *rb, int map_fd, ring_buffer_sample_fn sample_cb,
                     void *ctx);
/* Waits up to timeout_ms (-1: forever) for records, then consumes every ring. Returns the
 * number of records consumed, or a negative errno (-EINTR). */
int ring_buffer__poll(struct ring_buffer *rb, int timeout_ms);
/* Consumes what is there without waiting. */
int ring_buffer__consume(struct ring_buffer *rb);
/* An epoll fd that becomes readable when a record is there: for an application's own event
 * loop (then call ring_buffer__consume). */
int ring_buffer__epoll_fd(const struct ring_buffer *rb);

/* ------------------------------------------------------------------------------------------
 * Perf buffer (BPF_MAP_TYPE_PERF_EVENT_ARRAY) consumer.
 * ------------------------------------------------------------------------------------------ */

typedef void (*perf_buffer_sample_fn)(void *ctx, int cpu, void *data, __u32 size);
typedef void (*perf_buffer_lost_fn)(void *ctx, int cpu, __u64 cnt);

struct perf_buffer_opts {
    size_t sz;
    __u32 sample_period; /* accepted; every sample wakes the consumer that waits */
};

/* page_cnt: pages of each CPU's ring, a power of two. The rings are created on the first
 * perf_buffer__new of the map; later ones share them. */
struct perf_buffer *perf_buffer__new(int map_fd, size_t page_cnt, perf_buffer_sample_fn sample_cb,
                                     perf_buffer_lost_fn lost_cb, void *ctx,
                                     const struct perf_buffer_opts *opts);
void perf_buffer__free(struct perf_buffer *pb);
int perf_buffer__epoll_fd(const struct perf_buffer *pb);
/* As ring_buffer__poll: the number of records (samples and lost records) handled. */
int perf_buffer__poll(struct perf_buffer *pb, int timeout_ms);
int perf_buffer__consume(struct perf_buffer *pb);
int perf_buffer__consume_buffer(struct perf_buffer *pb, size_t buf_idx);
size_t perf_buffer__buffer_cnt(const struct perf_buffer *pb);

/* The number of CPU indexes per-CPU maps and perf event arrays have. */
int libbpf_num_possible_cpus(void);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_BPF_LIBBPF_H */
