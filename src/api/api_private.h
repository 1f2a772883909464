/* Internals of the user API shared by its files: the fd table, pins, links and error reporting. */
#ifndef EBPF_API_PRIVATE_H
#define EBPF_API_PRIVATE_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/libbpf.h"
#include "ebpf_api.h"
#include "ebpf_core.h"
#include "ebpf_map.h"
#include "ebpf_platform.h"

/* What an fd or a pin refers to. */
typedef enum api_object_kind {
    API_OBJECT_MAP = 1,
    API_OBJECT_PROGRAM = 2,
    API_OBJECT_LINK = 3,
} api_object_kind_t;

/* A core link shared by fds and pins (the core's link has a single owner). */
typedef struct api_link {
    /* Holders: each fd and pin. The last release releases (and so detaches) the core link. */
    _Atomic uint32_t references;
    ebpf_link_t *link;
} api_link_t;

/* Wraps a new core link (which it then owns); the result holds one reference. */
int api_link_wrap(ebpf_link_t *link, api_link_t **wrapped);
void api_link_acquire(api_link_t *link);
void api_link_release(api_link_t *link);

void api_object_acquire(api_object_kind_t kind, void *object);
void api_object_release(api_object_kind_t kind, void *object);
const char *api_object_kind_name(api_object_kind_t kind);

/* fd table. Each open fd holds its own reference: open acquires one for the fd, close drops
 * it. */
int api_fd_open(api_object_kind_t kind, void *object);
/* The object behind fd with a reference for the caller: -EBADF when not open, -EINVAL (with a
 * message) when it is another kind. */
int api_fd_get(int fd, api_object_kind_t kind, void **object);
int api_fd_get_any(int fd, api_object_kind_t *kind, void **object);

/* Pins (same references as fds). */
int api_pin(api_object_kind_t kind, void *object, const char *name);
int api_pin_get(const char *name, api_object_kind_t *kind, void **object);
/* The object with this id among those held by fds and pins, referenced; -ENOENT otherwise. */
int api_find_by_id(api_object_kind_t kind, uint32_t id, void **object);

/* libbpf's error convention: errno = -rc for a failure, rc returned unchanged. */
static inline int libbpf_result(int rc)
{
    if (rc < 0)
        errno = -rc;
    return rc;
}

/* For functions returning a pointer: NULL with errno = -rc. */
static inline void *libbpf_null(int rc)
{
    errno = rc < 0 ? -rc : EINVAL;
    return NULL;
}

/* Reports through the printer installed with libbpf_set_print, prefixed "libbpf: ". */
void libbpf_report(enum libbpf_print_level level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Checks an options struct (the first field is its size): NULL is fine; a size smaller than
 * the size field, or nonzero bytes beyond known_size, is -EINVAL. */
int api_check_options(const void *options, size_t known_size, const char *what);
/* Whether the caller's options struct is large enough to hold field. */
#define API_HAS_OPTION(options, field)                                                             \
    ((options) != NULL &&                                                                          \
     (options)->sz >= offsetof(__typeof__(*(options)), field) + sizeof((options)->field))
/* The field of an options struct, or fallback when the caller's struct is too small for it. */
#define API_OPTION(options, field, fallback)                                                       \
    (API_HAS_OPTION(options, field) ? (options)->field : (fallback))

/* Section-name resolution through the eBPF store and the Linux names (type_names.c). */
typedef struct api_section_type {
    bool from_store; /* the program and attach type GUIDs are valid */
    ebpf_guid_t program_type;
    ebpf_guid_t attach_type;
    uint32_t bpf_prog_type;
    uint32_t bpf_attach_type;
} api_section_type_t;

/* -ESRCH when neither the store nor the Linux names know the section; -EINVAL for a damaged
 * store entry; each with a message. */
int api_resolve_section(const char *section, api_section_type_t *type);
/* The program type of a number from the store's sections. -ENOENT when none has it. */
int api_program_type_by_number(uint32_t bpf_prog_type, api_section_type_t *type);
/* A readable name of a program type GUID: its name in the store (true), else the GUID. */
bool api_program_type_name(const ebpf_guid_t *program_type, char *name, size_t size);

/* The waiting and consuming shared by ring and perf buffers: an epoll set over the sources'
 * wake-up fds plus a kick fd, and optionally a thread that consumes by itself. */
typedef struct api_consumer {
    int epoll_fd;
    /* eventfd in the epoll set: written when the sources had data already when armed (no
     * producer will signal it), and to stop the thread. */
    int kick_fd;
    /* One consumer at a time: guards the owner's sources and their consumer positions. */
    pthread_mutex_t lock;
    bool automatic;
    bool thread_started;
    pthread_t thread;
    _Atomic bool stopping; /* set once, before the kick that stops the thread */
    /* Under lock. arm: announce the consumer is about to sleep on every source; true when one
     * already has data. disarm: end the sleep (drain the wake-up fds). consume: everything
     * there, returning the count or a callback's nonzero result. */
    bool (*arm)(void *owner);
    void (*disarm)(void *owner);
    int (*consume)(void *owner);
    /* Optional, under lock: true when a record waits (loads only; for the spin).
     * sleep_limit_ms: -1, or the longest a sleep may last (a source that cannot be woken
     * reliably). */
    bool (*has_data)(void *owner);
    int (*sleep_limit_ms)(void *owner);
    /* The adaptive spin before sleeping (see consumer.c): relaxed, a hint that concurrent
     * polls may both update. spin_max_ns, set before the consumer starts: 0 never spins. */
    _Atomic uint32_t spin_ns;
    uint32_t spin_max_ns;
    /* Under lock: the application asked for the epoll fd, so the sources stay armed between
     * our calls (see consumer.c). */
    bool external_wait;
    void *owner;
    const char *name; /* "ring buffer", "perf buffer" */
} api_consumer_t;

/* Longest spin before sleeping, by default. */
#define API_CONSUMER_SPIN_MAX_NS 50000u

int api_consumer_init(api_consumer_t *consumer, const char *name, void *owner);
/* Sets the longest spin before sleeping (0: never spin). Before the consumer starts. */
void api_consumer_set_spin(api_consumer_t *consumer, uint32_t max_ns);
/* Adds a wake-up fd to the epoll set (cookie comes back in epoll events). */
int api_consumer_watch(api_consumer_t *consumer, int fd, uint64_t cookie);
/* After the sources are set: arms them, and starts the thread when automatic. */
int api_consumer_start(api_consumer_t *consumer);
/* Caller holds lock: when the application waits on the epoll fd itself, arms the sources and
 * kicks when one has data already; otherwise nothing (polls arm only before they sleep). */
void api_consumer_rearm(api_consumer_t *consumer);
int api_consumer_poll(api_consumer_t *consumer, int timeout_ms);
/* The epoll fd for an application's own loop: from now on the sources stay armed between
 * calls, so the fd becomes readable when records arrive. */
int api_consumer_epoll_fd(api_consumer_t *consumer);
int api_consumer_consume(api_consumer_t *consumer);
/* Stops the thread (no callback runs after this returns) and closes the fds. */
void api_consumer_destroy(api_consumer_t *consumer);

#endif /* EBPF_API_PRIVATE_H */
