/* What the user API adds to libbpf's names: attach with parameters, self-driven ring and perf
 * buffers, module ("driver") load and unload, fds and pins for C code in modules. */
#ifndef EBPF_API_H
#define EBPF_API_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/bpf.h"
#include "bpf/libbpf.h"
#include "ebpf_core.h"
#include "ebpf_guid.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * fds. There is no bpf(2) here, so maps, programs and links are referenced by fds of a
 * process-local table; they start at EBPF_FD_BASE so that they never collide with real
 * descriptors (a later service mode maps the same numbers to handles of the daemon). Each fd
 * holds one reference to its object.
 * ------------------------------------------------------------------------------------------ */

#define EBPF_FD_BASE 0x40000000
/* Most fds open at once in one process. */
#define EBPF_FD_MAX 65536

/* Drops the fd's reference. -EBADF when fd is not open (a second close included). */
int ebpf_close_fd(int fd);

/* The object behind an fd, with a reference of the caller's own (release it with
 * ebpf_map_release / ebpf_program_release). -EBADF when not open, -EINVAL for another kind. */
int ebpf_map_from_fd(int fd, ebpf_map_t **map);
int ebpf_program_from_fd(int fd, ebpf_program_t **program);
/* A new fd for a map (the fd takes a reference of its own). */
int ebpf_map_open_fd(ebpf_map_t *map);

/* ------------------------------------------------------------------------------------------
 * Pins, for C code in modules (the extension pins its event ring buffer under
 * NETEVENT_EVENTS_PIN_NAME). Same namespace as bpf_obj_pin / bpf_obj_get: one per process.
 * ------------------------------------------------------------------------------------------ */

/* The pin takes a reference of its own. -EEXIST when the name is taken, -EINVAL for an empty
 * name, -ENAMETOOLONG beyond EBPF_PIN_NAME_MAX. */
int ebpf_pin_map(ebpf_map_t *map, const char *name);
/* -ENOENT when nothing is pinned there. */
int ebpf_unpin(const char *name);
#define EBPF_PIN_NAME_MAX 255

/* ------------------------------------------------------------------------------------------
 * Attach with parameters.
 * ------------------------------------------------------------------------------------------ */

/* Attaches program to the hook of attach_type (NULL: the section's attach type, else the
 * program type's default hook), passing attach_params (copied; NULL for none) to the hook
 * provider. 0 and *link, or a negative errno: -ENOENT when no extension provides the hook,
 * the provider's error (-EINVAL for bad parameters) with its message. */
int ebpf_program_attach(struct bpf_program *program, const ebpf_guid_t *attach_type,
                        const void *attach_params, size_t attach_params_size,
                        struct bpf_link **link);
/* Same for a program known by its fd (bpf_obj_get, bpf_prog_get_fd_by_id). */
int ebpf_program_attach_by_fd(int program_fd, const ebpf_guid_t *attach_type,
                              const void *attach_params, size_t attach_params_size,
                              struct bpf_link **link);

/* ------------------------------------------------------------------------------------------
 * Ring and perf buffers that call back by themselves.
 * ------------------------------------------------------------------------------------------ */

/* A consumer thread waits for records and calls the callbacks itself: the application never
 * polls (ring_buffer__poll / __consume then return -EINVAL). Callbacks run on that thread, one
 * at a time; __free stops and joins it (so no callback runs after __free returns). */
#define EBPF_RINGBUF_FLAG_AUTO_CALLBACK 1u
/* Before it sleeps, a poll (or the consumer thread) watches the rings for a while - adaptive,
 * 5 to 50 microseconds - so a burst of records costs one wake-up, not one per record, and
 * producers rarely pay for waking it. This flag turns that off: the consumer sleeps as soon
 * as the rings are empty (less CPU when records are rare, a wake-up per record in bursts). */
#define EBPF_RINGBUF_FLAG_NO_SPIN 2u

struct ebpf_ring_buffer_opts {
    size_t sz;
    uint64_t flags; /* EBPF_RINGBUF_FLAG_AUTO_CALLBACK | EBPF_RINGBUF_FLAG_NO_SPIN */
};

struct ring_buffer *ebpf_ring_buffer__new(int map_fd, ring_buffer_sample_fn sample_cb, void *ctx,
                                          const struct ebpf_ring_buffer_opts *opts);

#define EBPF_PERFBUF_FLAG_AUTO_CALLBACK 1u

struct ebpf_perf_buffer_opts {
    size_t sz;
    uint64_t flags; /* EBPF_PERFBUF_FLAG_AUTO_CALLBACK */
};

struct perf_buffer *ebpf_perf_buffer__new(int map_fd, size_t page_cnt,
                                          perf_buffer_sample_fn sample_cb,
                                          perf_buffer_lost_fn lost_cb, void *ctx,
                                          const struct ebpf_perf_buffer_opts *opts);

/* ------------------------------------------------------------------------------------------
 * Modules ("drivers"): shared objects exporting an ebpf_module_descriptor_t (ebpf_module.h).
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_driver ebpf_driver_t;

/* Loads a module and calls its start(parameters). name_or_path: a path (contains '/'), or a
 * name looked up as <name>.so in, in order: each folder of $EBPF_DRIVER_PATH (colon-separated),
 * the folder of the running executable, <install prefix>/lib/ebpf/modules. Returns 0, -EEXIST
 * when that module is loaded already, -ENOENT when no file is found, -ENOEXEC when the file is
 * no module (not loadable, or no ebpf_module_entry), or start's error; each with a message. */
int ebpf_driver_load(const char *name_or_path, const char *parameters, ebpf_driver_t **driver);
/* Calls stop() (which waits until nothing runs in the module), then unloads the code. NULL is
 * ignored. */
int ebpf_driver_unload(ebpf_driver_t *driver);
/* The module's own name (its descriptor's) and the file it was loaded from. */
const char *ebpf_driver_name(const ebpf_driver_t *driver);
const char *ebpf_driver_path(const ebpf_driver_t *driver);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_API_H */
