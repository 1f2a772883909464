/* netevent_replay: an example event provider that replays events read from a file of hex lines
 * (see sample_events.hex) to its clients, once or in a loop, at a chosen pace. Written as a
 * third party would, against netevent_npi.h and nmr.h only (plus the module entry of
 * ebpf_module.h and the host's error reporting).
 *
 * Load parameters: File=<path> (or environment NETEVENT_REPLAY_FILE), Interval=<microseconds
 * between events, default 1000>, Loop=<0|1, default 0>. Events are replayed while at least one
 * client is bound, with their timestamp set to the time of replay. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ebpf_module.h"
#include "ebpf_platform.h"
#include "netevent_npi.h"
#include "netevent_types.h"

#define REPLAY_MAX_CLIENTS 8
#define REPLAY_MAX_EVENTS  1024
#define REPLAY_POOL_SIZE   (512 * 1024)
/* Two hex digits per byte of the largest event, with room for blanks and a comment. */
#define REPLAY_LINE_MAX (4 * NETEVENT_EVENT_MAX_SIZE)

/* 9b0c2d31-4a5e-4f60-8e71-3c2b1a0f9e02 */
static const nmr_module_id_t replay_module_id = {
    0x9b0c2d31, 0x4a5e, 0x4f60, {0x8e, 0x71, 0x3c, 0x2b, 0x1a, 0x0f, 0x9e, 0x02}};

/* The events of the file, back to back in a fixed pool: no allocation at all. Written by start
 * before the replay thread exists; then only that thread touches them. */
static uint8_t pool[REPLAY_POOL_SIZE];
static struct {
    uint32_t offset;
    uint32_t size;
} events[REPLAY_MAX_EVENTS];
static size_t event_count;
static char line[REPLAY_LINE_MAX];

/* Guards clients. The replay thread pushes each event holding it for reading, so a detach
 * (holding it for writing) knows no push to its client is in flight once it has it. Writers are
 * preferred: a waiting attach or detach gets in at the next event, however fast the replay. */
static pthread_rwlock_t clients_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static netevent_push_event_fn clients[REPLAY_MAX_CLIENTS]; /* NULL = free slot */
/* Bound clients; changed under clients_lock, read by the replay thread under wait_lock. */
static _Atomic int client_count;

/* Guards stopping; changed wakes the replay thread for a new client or for stop. */
static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed;
static bool stopping;

static pthread_t replay_thread;
static nmr_provider_t *provider;
static uint64_t interval_us;
static bool loop;

static int replay_attach_client(nmr_binding_t *binding, void *provider_context,
                                const nmr_registration_instance_t *client,
                                void *client_binding_context, const void *client_dispatch,
                                void **provider_binding_context, const void **provider_dispatch)
{
    const netevent_client_dispatch_t *dispatch = client_dispatch;
    int rc = -ENOSPC;

    if (dispatch == NULL || dispatch->header.version < NETEVENT_CLIENT_DISPATCH_VERSION ||
        !EBPF_EXTENSION_HAS_FIELD(&dispatch->header, netevent_client_dispatch_t,
                                  helper_function_address) ||
        dispatch->helper_function_count < 1 || dispatch->helper_function_address[0] == NULL)
        return ebpf_error(-EINVAL, "netevent_replay: the client's dispatch has no push_event");
    pthread_rwlock_wrlock(&clients_lock);
    for (int slot = 0; slot < REPLAY_MAX_CLIENTS; slot++) {
        if (clients[slot] == NULL) {
            clients[slot] = (netevent_push_event_fn)dispatch->helper_function_address[0];
            atomic_fetch_add(&client_count, 1);
            *provider_binding_context = &clients[slot];
            *provider_dispatch = NULL;
            rc = 0;
            break;
        }
    }
    pthread_rwlock_unlock(&clients_lock);
    if (rc != 0)
        return ebpf_error(rc, "netevent_replay: more than %d clients", REPLAY_MAX_CLIENTS);
    pthread_mutex_lock(&wait_lock);
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&wait_lock);
    return 0;
}

static int replay_detach_client(void *provider_binding_context)
{
    netevent_push_event_fn *slot = provider_binding_context;
    pthread_rwlock_wrlock(&clients_lock);
    *slot = NULL;
    atomic_fetch_sub(&client_count, 1);
    pthread_rwlock_unlock(&clients_lock);
    return 0;
}

static const nmr_provider_characteristics_t replay_characteristics = {
    NMR_CHARACTERISTICS_VERSION,
    sizeof(nmr_provider_characteristics_t),
    replay_attach_client,
    replay_detach_client,
    NULL,
    {NMR_REGISTRATION_INSTANCE_VERSION, sizeof(nmr_registration_instance_t), &NETEVENT_NPI_ID,
     &replay_module_id, 0, NULL},
};

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends the event of one line to the pool. 0 also for a blank or comment-only line. */
static int parse_line(const char *path, int number, char *text, size_t *used)
{
    size_t start = *used, size = 0;
    int high = -1;

    char *comment = strchr(text, '#');
    if (comment != NULL)
        *comment = '\0';
    for (const char *c = text; *c != '\0'; c++) {
        if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r')
            continue;
        int digit = hex_digit(*c);
        if (digit < 0)
            return ebpf_error(-EINVAL, "netevent_replay: %s:%d: '%c' is not a hex digit", path,
                              number, *c);
        if (high < 0) {
            high = digit;
            continue;
        }
        if (size == NETEVENT_EVENT_MAX_SIZE || start + size == REPLAY_POOL_SIZE)
            return ebpf_error(-EINVAL,
                              "netevent_replay: %s:%d: event too large, or the file "
                              "holds more than %d bytes of events",
                              path, number, REPLAY_POOL_SIZE);
        pool[start + size++] = (uint8_t)(high << 4 | digit);
        high = -1;
    }
    if (high >= 0)
        return ebpf_error(-EINVAL, "netevent_replay: %s:%d: odd number of hex digits", path,
                          number);
    if (size == 0)
        return 0;
    if (size < sizeof(netevent_event_header_t))
        return ebpf_error(-EINVAL,
                          "netevent_replay: %s:%d: %zu bytes, shorter than an event "
                          "header",
                          path, number, size);
    if (event_count == REPLAY_MAX_EVENTS)
        return ebpf_error(-EINVAL, "netevent_replay: %s:%d: more than %d events", path, number,
                          REPLAY_MAX_EVENTS);
    events[event_count].offset = (uint32_t)start;
    events[event_count].size = (uint32_t)size;
    event_count++;
    *used = start + size;
    return 0;
}

static int read_events(const char *path)
{
    size_t used = 0;
    int number = 0, rc = 0;

    FILE *file = fopen(path, "r");
    if (file == NULL)
        return ebpf_error(-errno, "netevent_replay: cannot open %s: %s", path, strerror(errno));
    event_count = 0;
    while (rc == 0 && fgets(line, sizeof(line), file) != NULL) {
        number++;
        if (strchr(line, '\n') == NULL && !feof(file))
            rc = ebpf_error(-EINVAL, "netevent_replay: %s:%d: line too long", path, number);
        else
            rc = parse_line(path, number, line, &used);
    }
    if (rc == 0 && ferror(file))
        rc = ebpf_error(-EIO, "netevent_replay: reading %s failed", path);
    fclose(file);
    if (rc == 0 && event_count == 0)
        rc = ebpf_error(-EINVAL, "netevent_replay: %s holds no event", path);
    return rc;
}

static struct timespec deadline_after(uint64_t microseconds)
{
    struct timespec when;
    clock_gettime(CLOCK_MONOTONIC, &when);
    uint64_t nanoseconds = (uint64_t)when.tv_nsec + microseconds % 1000000 * 1000;
    when.tv_sec += (time_t)(microseconds / 1000000 + nanoseconds / 1000000000);
    when.tv_nsec = (long)(nanoseconds % 1000000000);
    return when;
}

static void push_to_clients(size_t index)
{
    uint8_t *event = pool + events[index].offset;
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t timestamp = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
    memcpy(event + offsetof(netevent_event_header_t, timestamp_ns), &timestamp, sizeof(timestamp));
    const netevent_event_info_t info = {event, event + events[index].size};
    pthread_rwlock_rdlock(&clients_lock);
    for (int slot = 0; slot < REPLAY_MAX_CLIENTS; slot++) {
        if (clients[slot] != NULL)
            clients[slot](&info); /* a refused event is the client's business */
    }
    pthread_rwlock_unlock(&clients_lock);
}

static void *replay(void *argument)
{
    size_t next = 0;

    pthread_mutex_lock(&wait_lock);
    for (;;) {
        /* Sleep while nobody listens or, played once, nothing is left. */
        while (!stopping && (atomic_load(&client_count) == 0 || (next == event_count && !loop)))
            pthread_cond_wait(&changed, &wait_lock);
        if (stopping)
            break;
        pthread_mutex_unlock(&wait_lock);

        if (next == event_count)
            next = 0;
        push_to_clients(next++);

        pthread_mutex_lock(&wait_lock);
        if (interval_us != 0) {
            struct timespec deadline = deadline_after(interval_us);
            while (!stopping &&
                   pthread_cond_timedwait(&changed, &wait_lock, &deadline) != ETIMEDOUT)
                ;
        }
    }
    pthread_mutex_unlock(&wait_lock);
    return NULL;
}

static int read_unsigned(const char *parameters, const char *key, uint64_t maximum, uint64_t *value)
{
    char text[24], *end;
    if (ebpf_module_parameter(parameters, key, text, sizeof(text)) != 0)
        return 0; /* absent: keep the default */
    unsigned long long number = strtoull(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == '-' || number > maximum)
        return ebpf_error(-EINVAL, "netevent_replay: %s=\"%s\" is not a number up to %llu", key,
                          text, (unsigned long long)maximum);
    *value = number;
    return 0;
}

static int replay_start(const char *parameters)
{
    static char path[4096];
    uint64_t loop_value = 0;
    pthread_condattr_t attributes;
    int rc;

    if (provider != NULL)
        return ebpf_error(-EALREADY, "netevent_replay: already started");
    interval_us = 1000;
    if (ebpf_module_parameter(parameters, "File", path, sizeof(path)) != 0) {
        const char *environment = getenv("NETEVENT_REPLAY_FILE");
        if (environment == NULL || environment[0] == '\0')
            return ebpf_error(-EINVAL, "netevent_replay: no File= load parameter and no "
                                       "NETEVENT_REPLAY_FILE");
        snprintf(path, sizeof(path), "%s", environment);
    }
    rc = read_unsigned(parameters, "Interval", 60000000, &interval_us);
    if (rc == 0)
        rc = read_unsigned(parameters, "Loop", 1, &loop_value);
    if (rc == 0)
        rc = read_events(path);
    if (rc != 0)
        return rc;
    loop = loop_value != 0;

    stopping = false;
    atomic_store(&client_count, 0);
    memset(clients, 0, sizeof(clients));
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&changed, &attributes);
    pthread_condattr_destroy(&attributes);
    rc = nmr_register_provider(&replay_characteristics, NULL, &provider);
    if (rc != 0) {
        pthread_cond_destroy(&changed);
        provider = NULL;
        return rc;
    }
    rc = pthread_create(&replay_thread, NULL, replay, NULL);
    if (rc != 0) {
        if (nmr_deregister_provider(provider) >= 0)
            nmr_wait_for_provider_deregister_complete(provider);
        provider = NULL;
        pthread_cond_destroy(&changed);
        return ebpf_error(-rc, "netevent_replay: cannot create the replay thread");
    }
    return 0;
}

static void replay_stop(void)
{
    if (provider == NULL)
        return;
    pthread_mutex_lock(&wait_lock);
    stopping = true;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&wait_lock);
    pthread_join(replay_thread, NULL); /* from here on nothing pushes */
    if (nmr_deregister_provider(provider) >= 0)
        nmr_wait_for_provider_deregister_complete(provider);
    provider = NULL;
    pthread_cond_destroy(&changed);
}

EBPF_MODULE_DEFINE("netevent_replay", replay_start, replay_stop);
