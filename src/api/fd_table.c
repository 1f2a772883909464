/* The process-local fd table and pin namespace through which user space names maps, programs
 * and links (no bpf(2) here: a later service mode maps the same numbers to daemon handles). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "api_private.h"

typedef struct fd_entry {
    api_object_kind_t kind; /* 0: free */
    void *object;
} fd_entry_t;

typedef struct pin {
    struct pin *next;
    char *name;
    api_object_kind_t kind;
    void *object;
} pin_t;

/* Guards every field below: the table, its free-slot hint and the pin list. References are
 * taken under it (so an object cannot go between lookup and acquire) but released outside. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static fd_entry_t *entries;
static size_t entry_capacity;
static size_t lowest_free; /* no free slot below this index */
static pin_t *pins;

/* ------------------------------------------------------------------------------------------
 * Objects by kind.
 * ------------------------------------------------------------------------------------------ */

int api_link_wrap(ebpf_link_t *link, api_link_t **wrapped)
{
    api_link_t *created = ebpf_allocate(sizeof(*created));
    if (created == NULL)
        return ebpf_error(-ENOMEM, "link: out of memory");
    atomic_init(&created->references, 1);
    created->link = link;
    *wrapped = created;
    return 0;
}

void api_link_acquire(api_link_t *link)
{
    atomic_fetch_add_explicit(&link->references, 1, memory_order_relaxed);
}

void api_link_release(api_link_t *link)
{
    if (atomic_fetch_sub_explicit(&link->references, 1, memory_order_acq_rel) != 1)
        return;
    ebpf_link_release(link->link);
    ebpf_free(link);
}

void api_object_acquire(api_object_kind_t kind, void *object)
{
    switch (kind) {
    case API_OBJECT_MAP:
        ebpf_map_acquire(object);
        break;
    case API_OBJECT_PROGRAM:
        ebpf_program_acquire(object);
        break;
    case API_OBJECT_LINK:
        api_link_acquire(object);
        break;
    }
}

void api_object_release(api_object_kind_t kind, void *object)
{
    switch (kind) {
    case API_OBJECT_MAP:
        ebpf_map_release(object);
        break;
    case API_OBJECT_PROGRAM:
        ebpf_program_release(object);
        break;
    case API_OBJECT_LINK:
        api_link_release(object);
        break;
    }
}

const char *api_object_kind_name(api_object_kind_t kind)
{
    switch (kind) {
    case API_OBJECT_MAP:
        return "map";
    case API_OBJECT_PROGRAM:
        return "program";
    case API_OBJECT_LINK:
        return "link";
    }
    return "object";
}

static uint32_t object_id(api_object_kind_t kind, const void *object)
{
    switch (kind) {
    case API_OBJECT_MAP:
        return ebpf_map_get_id(object);
    case API_OBJECT_PROGRAM:
        return ebpf_program_get_id(object);
    case API_OBJECT_LINK:
        return ebpf_link_get_id(((const api_link_t *)object)->link);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Program arrays: Linux empties one when its last user reference (fd or pin) goes, so that a
 * program and the array holding it cannot keep each other alive.
 * ------------------------------------------------------------------------------------------ */

/* Caller holds table_lock. */
static bool map_has_user_references(const void *map)
{
    for (size_t i = 0; i < entry_capacity; i++) {
        if (entries[i].kind == API_OBJECT_MAP && entries[i].object == map)
            return true;
    }
    for (const pin_t *pin = pins; pin != NULL; pin = pin->next) {
        if (pin->kind == API_OBJECT_MAP && pin->object == map)
            return true;
    }
    return false;
}

/* Caller holds table_lock: whether dropping one user reference of a map (already removed
 * from the table or pins) leaves a program array with none. */
static bool last_user_reference_of_program_array(api_object_kind_t kind, void *object)
{
    return kind == API_OBJECT_MAP &&
           ebpf_map_get_definition(object)->type == BPF_MAP_TYPE_PROG_ARRAY &&
           !map_has_user_references(object);
}

static void release_user_reference(api_object_kind_t kind, void *object, bool empty_array)
{
    if (empty_array)
        ebpf_map_release_programs(object);
    api_object_release(kind, object);
}

/* ------------------------------------------------------------------------------------------
 * fds.
 * ------------------------------------------------------------------------------------------ */

/* How prog_array and map-in-map updates from user space turn fds into objects. */
static int program_from_fd(void *context, int fd, void **program)
{
    return api_fd_get(fd, API_OBJECT_PROGRAM, program);
}

static int map_from_fd(void *context, int fd, ebpf_map_t **map)
{
    void *object;
    int rc = api_fd_get(fd, API_OBJECT_MAP, &object);
    if (rc == 0)
        *map = object;
    return rc;
}

static const ebpf_map_fd_resolver_t fd_resolver = {program_from_fd, map_from_fd, NULL};
static pthread_once_t fd_resolver_once = PTHREAD_ONCE_INIT;

static void register_fd_resolver(void)
{
    ebpf_map_set_fd_resolver(&fd_resolver);
}

static fd_entry_t *entry_of(int fd)
{
    if (fd < EBPF_FD_BASE)
        return NULL;
    size_t index = (size_t)(fd - EBPF_FD_BASE);
    if (index >= entry_capacity || entries[index].kind == 0)
        return NULL;
    return &entries[index];
}

int api_fd_open(api_object_kind_t kind, void *object)
{
    size_t index;

    pthread_once(&fd_resolver_once, register_fd_resolver);
    pthread_mutex_lock(&table_lock);
    for (index = lowest_free; index < entry_capacity; index++) {
        if (entries[index].kind == 0)
            break;
    }
    if (index == entry_capacity) {
        size_t capacity = entry_capacity ? entry_capacity * 2 : 64;
        if (capacity > EBPF_FD_MAX)
            capacity = EBPF_FD_MAX;
        if (capacity <= entry_capacity) {
            pthread_mutex_unlock(&table_lock);
            return ebpf_error(-EMFILE, "fd table: %d fds open already", EBPF_FD_MAX);
        }
        fd_entry_t *grown = ebpf_reallocate(entries, capacity * sizeof(*grown));
        if (grown == NULL) {
            pthread_mutex_unlock(&table_lock);
            return ebpf_error(-ENOMEM, "fd table: out of memory");
        }
        memset(grown + entry_capacity, 0, (capacity - entry_capacity) * sizeof(*grown));
        entries = grown;
        entry_capacity = capacity;
    }
    api_object_acquire(kind, object);
    entries[index] = (fd_entry_t){kind, object};
    lowest_free = index + 1;
    pthread_mutex_unlock(&table_lock);
    return EBPF_FD_BASE + (int)index;
}

int api_fd_get_any(int fd, api_object_kind_t *kind, void **object)
{
    pthread_mutex_lock(&table_lock);
    fd_entry_t *entry = entry_of(fd);
    if (entry == NULL) {
        pthread_mutex_unlock(&table_lock);
        return ebpf_error(-EBADF, "fd %d is not open", fd);
    }
    api_object_acquire(entry->kind, entry->object);
    *kind = entry->kind;
    *object = entry->object;
    pthread_mutex_unlock(&table_lock);
    return 0;
}

int api_fd_get(int fd, api_object_kind_t kind, void **object)
{
    api_object_kind_t found;
    void *held;
    int rc = api_fd_get_any(fd, &found, &held);
    if (rc != 0)
        return rc;
    if (found != kind) {
        api_object_release(found, held);
        return ebpf_error(-EINVAL, "fd %d is a %s, not a %s", fd, api_object_kind_name(found),
                          api_object_kind_name(kind));
    }
    *object = held;
    return 0;
}

int ebpf_close_fd(int fd)
{
    pthread_mutex_lock(&table_lock);
    fd_entry_t *entry = entry_of(fd);
    if (entry == NULL) {
        pthread_mutex_unlock(&table_lock);
        return libbpf_result(ebpf_error(-EBADF, "fd %d is not open", fd));
    }
    fd_entry_t closed = *entry;
    *entry = (fd_entry_t){0};
    size_t index = (size_t)(fd - EBPF_FD_BASE);
    if (index < lowest_free)
        lowest_free = index;
    bool empty_array = last_user_reference_of_program_array(closed.kind, closed.object);
    pthread_mutex_unlock(&table_lock);
    release_user_reference(closed.kind, closed.object, empty_array);
    return 0;
}

int ebpf_map_from_fd(int fd, ebpf_map_t **map)
{
    void *object;
    int rc = api_fd_get(fd, API_OBJECT_MAP, &object);
    if (rc == 0)
        *map = object;
    return libbpf_result(rc);
}

int ebpf_program_from_fd(int fd, ebpf_program_t **program)
{
    void *object;
    int rc = api_fd_get(fd, API_OBJECT_PROGRAM, &object);
    if (rc == 0)
        *program = object;
    return libbpf_result(rc);
}

int ebpf_map_open_fd(ebpf_map_t *map)
{
    if (map == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "map fd: no map"));
    return libbpf_result(api_fd_open(API_OBJECT_MAP, map));
}

/* ------------------------------------------------------------------------------------------
 * Pins.
 * ------------------------------------------------------------------------------------------ */

/* "/sys/fs/bpf/a/b", "/a/b" and "a/b" are one name: programs written for Linux pin under the
 * bpffs mount, modules here use bare names. */
static int normalized_pin_name(const char *path, const char **name)
{
    static const char bpffs[] = "/sys/fs/bpf/";

    if (path == NULL)
        return ebpf_error(-EINVAL, "pin: no name");
    if (strncmp(path, bpffs, sizeof(bpffs) - 1) == 0)
        path += sizeof(bpffs) - 1;
    while (*path == '/')
        path++;
    if (*path == '\0')
        return ebpf_error(-EINVAL, "pin: empty name");
    if (strlen(path) > EBPF_PIN_NAME_MAX)
        return ebpf_error(-ENAMETOOLONG, "pin: name longer than %d characters", EBPF_PIN_NAME_MAX);
    *name = path;
    return 0;
}

/* Caller holds table_lock. */
static pin_t **pin_slot(const char *name)
{
    pin_t **slot = &pins;
    while (*slot != NULL && strcmp((*slot)->name, name) != 0)
        slot = &(*slot)->next;
    return slot;
}

int api_pin(api_object_kind_t kind, void *object, const char *path)
{
    const char *name;
    int rc = normalized_pin_name(path, &name);
    if (rc != 0)
        return rc;
    pin_t *pin = ebpf_allocate(sizeof(*pin));
    char *copy = ebpf_strdup(name);
    if (pin == NULL || copy == NULL) {
        ebpf_free(pin);
        ebpf_free(copy);
        return ebpf_error(-ENOMEM, "pin %s: out of memory", name);
    }
    pthread_mutex_lock(&table_lock);
    pin_t **slot = pin_slot(name);
    if (*slot != NULL) {
        api_object_kind_t taken = (*slot)->kind;
        pthread_mutex_unlock(&table_lock);
        ebpf_free(pin);
        ebpf_free(copy);
        return ebpf_error(-EEXIST, "pin %s: a %s is pinned there already", name,
                          api_object_kind_name(taken));
    }
    api_object_acquire(kind, object);
    *pin = (pin_t){.next = NULL, .name = copy, .kind = kind, .object = object};
    *slot = pin;
    pthread_mutex_unlock(&table_lock);
    return 0;
}

int api_pin_get(const char *path, api_object_kind_t *kind, void **object)
{
    const char *name;
    int rc = normalized_pin_name(path, &name);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&table_lock);
    pin_t *pin = *pin_slot(name);
    if (pin == NULL) {
        pthread_mutex_unlock(&table_lock);
        return ebpf_error(-ENOENT, "pin %s: nothing is pinned there", name);
    }
    api_object_acquire(pin->kind, pin->object);
    *kind = pin->kind;
    *object = pin->object;
    pthread_mutex_unlock(&table_lock);
    return 0;
}

int ebpf_unpin(const char *path)
{
    const char *name;
    int rc = normalized_pin_name(path, &name);
    if (rc != 0)
        return libbpf_result(rc);
    pthread_mutex_lock(&table_lock);
    pin_t **slot = pin_slot(name);
    pin_t *pin = *slot;
    if (pin == NULL) {
        pthread_mutex_unlock(&table_lock);
        return libbpf_result(ebpf_error(-ENOENT, "unpin %s: nothing is pinned there", name));
    }
    *slot = pin->next;
    bool empty_array = last_user_reference_of_program_array(pin->kind, pin->object);
    pthread_mutex_unlock(&table_lock);
    release_user_reference(pin->kind, pin->object, empty_array);
    ebpf_free(pin->name);
    ebpf_free(pin);
    return 0;
}

int ebpf_pin_map(ebpf_map_t *map, const char *name)
{
    if (map == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "pin %s: no map", name ? name : "(null)"));
    return libbpf_result(api_pin(API_OBJECT_MAP, map, name));
}

int bpf_obj_pin(int fd, const char *pathname)
{
    api_object_kind_t kind;
    void *object;
    int rc = api_fd_get_any(fd, &kind, &object);
    if (rc != 0)
        return libbpf_result(rc);
    rc = api_pin(kind, object, pathname);
    api_object_release(kind, object);
    return libbpf_result(rc);
}

int bpf_obj_get(const char *pathname)
{
    api_object_kind_t kind;
    void *object;
    int rc = api_pin_get(pathname, &kind, &object);
    if (rc != 0)
        return libbpf_result(rc);
    rc = api_fd_open(kind, object);
    api_object_release(kind, object);
    return libbpf_result(rc);
}

/* ------------------------------------------------------------------------------------------
 * Ids.
 * ------------------------------------------------------------------------------------------ */

int api_find_by_id(api_object_kind_t kind, uint32_t id, void **object)
{
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < entry_capacity; i++) {
        if (entries[i].kind == kind && object_id(kind, entries[i].object) == id) {
            api_object_acquire(kind, entries[i].object);
            *object = entries[i].object;
            pthread_mutex_unlock(&table_lock);
            return 0;
        }
    }
    for (const pin_t *pin = pins; pin != NULL; pin = pin->next) {
        if (pin->kind == kind && object_id(kind, pin->object) == id) {
            api_object_acquire(kind, pin->object);
            *object = pin->object;
            pthread_mutex_unlock(&table_lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&table_lock);
    return ebpf_error(-ENOENT, "no %s with id %u is held by this process",
                      api_object_kind_name(kind), id);
}

static int fd_by_id(api_object_kind_t kind, uint32_t id)
{
    void *object;
    int rc = api_find_by_id(kind, id, &object);
    if (rc != 0)
        return libbpf_result(rc);
    rc = api_fd_open(kind, object);
    api_object_release(kind, object);
    return libbpf_result(rc);
}

int bpf_prog_get_fd_by_id(__u32 id)
{
    return fd_by_id(API_OBJECT_PROGRAM, id);
}

int bpf_map_get_fd_by_id(__u32 id)
{
    return fd_by_id(API_OBJECT_MAP, id);
}
