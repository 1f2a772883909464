/* The allocator every layer uses: zeroed memory, live counts, and deterministic fault injection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf_platform.h"

#define EBPF_FAULT_SITE_MAX 1024

/* Allocations minus frees of non-NULL pointers; returns to its start value when nothing
 * leaked. */
static _Atomic int64_t outstanding;
/* Every allocation attempt increments it; fail_nth compares against it. */
static _Atomic uint64_t attempts;
/* The attempt number (in `attempts`) that fails, or 0 for none. */
static _Atomic uint64_t fail_at_attempt;
/* A site string that fails every time, or NULL. Compared by content, read on each
 * allocation while set. */
static _Atomic(const char *) fail_site;
static _Atomic uint64_t injected;

/* Recording of distinct allocation sites; sites[] and site_count change only under
 * site_lock; recording is read without it as a cheap switch. */
static _Atomic bool recording;
static pthread_mutex_t site_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *sites[EBPF_FAULT_SITE_MAX];
static size_t site_count;

static void record_site(const char *site)
{
    pthread_mutex_lock(&site_lock);
    for (size_t i = 0; i < site_count; i++) {
        if (strcmp(sites[i], site) == 0) {
            pthread_mutex_unlock(&site_lock);
            return;
        }
    }
    if (site_count < EBPF_FAULT_SITE_MAX)
        sites[site_count++] = site;
    pthread_mutex_unlock(&site_lock);
}

/* Decides whether this attempt fails by injection. */
static bool inject_failure(const char *site)
{
    uint64_t attempt = atomic_fetch_add_explicit(&attempts, 1, memory_order_relaxed) + 1;
    uint64_t nth = atomic_load_explicit(&fail_at_attempt, memory_order_relaxed);
    const char *failing_site = atomic_load_explicit(&fail_site, memory_order_acquire);

    if (atomic_load_explicit(&recording, memory_order_relaxed))
        record_site(site);
    if ((nth != 0 && attempt == nth) || (failing_site != NULL && strcmp(failing_site, site) == 0)) {
        atomic_fetch_add_explicit(&injected, 1, memory_order_relaxed);
        return true;
    }
    return false;
}

static void *account(void *memory)
{
    if (memory != NULL)
        atomic_fetch_add_explicit(&outstanding, 1, memory_order_relaxed);
    return memory;
}

void *ebpf_allocate_at(size_t size, const char *site)
{
    if (inject_failure(site))
        return NULL;
    return account(calloc(1, size == 0 ? 1 : size));
}

void *ebpf_allocate_array_at(size_t count, size_t size, const char *site)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    return ebpf_allocate_at(count * size, site);
}

void *ebpf_reallocate_at(void *memory, size_t size, const char *site)
{
    void *resized;

    if (inject_failure(site))
        return NULL;
    resized = realloc(memory, size == 0 ? 1 : size);
    if (resized != NULL && memory == NULL)
        atomic_fetch_add_explicit(&outstanding, 1, memory_order_relaxed);
    return resized;
}

void *ebpf_allocate_aligned_at(size_t alignment, size_t size, const char *site)
{
    void *memory = NULL;

    if (inject_failure(site))
        return NULL;
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    if (posix_memalign(&memory, alignment, size == 0 ? 1 : size) != 0)
        return NULL;
    memset(memory, 0, size);
    return account(memory);
}

char *ebpf_strdup_at(const char *text, const char *site)
{
    size_t length = strlen(text) + 1;
    char *copy = ebpf_allocate_at(length, site);

    if (copy != NULL)
        memcpy(copy, text, length);
    return copy;
}

void ebpf_free(void *memory)
{
    if (memory == NULL)
        return;
    atomic_fetch_sub_explicit(&outstanding, 1, memory_order_relaxed);
    free(memory);
}

int64_t ebpf_allocation_outstanding(void)
{
    return atomic_load_explicit(&outstanding, memory_order_relaxed);
}

uint64_t ebpf_allocation_count(void)
{
    return atomic_load_explicit(&attempts, memory_order_relaxed);
}

void ebpf_fault_fail_nth(uint64_t n)
{
    uint64_t now = atomic_load_explicit(&attempts, memory_order_relaxed);
    atomic_store_explicit(&fail_at_attempt, n == 0 ? 0 : now + n, memory_order_relaxed);
}

void ebpf_fault_fail_site(const char *site)
{
    atomic_store_explicit(&fail_site, site, memory_order_release);
}

uint64_t ebpf_fault_injected_count(void)
{
    return atomic_load_explicit(&injected, memory_order_relaxed);
}

void ebpf_fault_record_sites(bool enable)
{
    if (enable) {
        pthread_mutex_lock(&site_lock);
        site_count = 0;
        pthread_mutex_unlock(&site_lock);
    }
    atomic_store_explicit(&recording, enable, memory_order_relaxed);
}

size_t ebpf_fault_sites(const char **out, size_t capacity)
{
    size_t count;

    pthread_mutex_lock(&site_lock);
    count = site_count;
    for (size_t i = 0; i < count && i < capacity; i++)
        out[i] = sites[i];
    pthread_mutex_unlock(&site_lock);
    return count;
}

void ebpf_fault_reset(void)
{
    atomic_store_explicit(&fail_at_attempt, 0, memory_order_relaxed);
    atomic_store_explicit(&fail_site, NULL, memory_order_release);
    atomic_store_explicit(&recording, false, memory_order_relaxed);
    atomic_store_explicit(&injected, 0, memory_order_relaxed);
}
