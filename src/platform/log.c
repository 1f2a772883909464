/* Leveled logging to stderr or a sink installed by the embedder or a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ebpf_platform.h"

/* -1 until read from EBPF_LOG_LEVEL on first use; then a valid level. */
static _Atomic int log_level = -1;
/* Sink and its context change together under sink_lock; logging reads both under it too
 * (logging is never on the event path, so a mutex is fine). */
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static ebpf_log_sink_t log_sink;
static void *log_sink_context;

static int level_from_environment(void)
{
    const char *value = getenv("EBPF_LOG_LEVEL");
    static const char *const names[] = {"error", "warn", "info", "debug"};

    if (value == NULL)
        return EBPF_LOG_WARN;
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(names); i++) {
        if (strcasecmp(value, names[i]) == 0)
            return (int)i;
    }
    return EBPF_LOG_WARN;
}

ebpf_log_level_t ebpf_log_get_level(void)
{
    int level = atomic_load_explicit(&log_level, memory_order_relaxed);
    if (level < 0) {
        level = level_from_environment();
        atomic_store_explicit(&log_level, level, memory_order_relaxed);
    }
    return (ebpf_log_level_t)level;
}

void ebpf_log_set_level(ebpf_log_level_t level)
{
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

bool ebpf_log_enabled(ebpf_log_level_t level)
{
    return level <= ebpf_log_get_level();
}

void ebpf_log_set_sink(ebpf_log_sink_t sink, void *context)
{
    pthread_mutex_lock(&sink_lock);
    log_sink = sink;
    log_sink_context = context;
    pthread_mutex_unlock(&sink_lock);
}

void ebpf_log(ebpf_log_level_t level, const char *fmt, ...)
{
    static const char *const prefixes[] = {"error", "warning", "info", "debug"};
    char message[2048];
    va_list ap;

    if (!ebpf_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&sink_lock);
    if (log_sink != NULL)
        log_sink(level, message, log_sink_context);
    else
        fprintf(stderr, "ebpf: %s: %s\n", prefixes[level], message);
    pthread_mutex_unlock(&sink_lock);
}
