/* Modules ("drivers"): shared objects found on a search path, loaded with dlopen and started
 * through their ebpf_module_entry descriptor. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_private.h"
#include "ebpf_module.h"

#ifndef EBPF_INSTALL_PREFIX
#define EBPF_INSTALL_PREFIX "/usr/local"
#endif
#define INSTALLED_MODULE_DIR EBPF_INSTALL_PREFIX "/lib/ebpf/modules"

struct ebpf_driver {
    ebpf_driver_t *next;
    char *name; /* the descriptor's */
    char *path;
    void *handle;
    const ebpf_module_descriptor_t *descriptor;
};

/* Serialises loads and unloads (so that start and stop of modules never overlap) and guards
 * the list of loaded drivers. A module's start or stop must not load or unload modules. */
static pthread_mutex_t drivers_lock = PTHREAD_MUTEX_INITIALIZER;
static ebpf_driver_t *drivers;

/* ------------------------------------------------------------------------------------------
 * Finding the file.
 * ------------------------------------------------------------------------------------------ */

static bool has_suffix(const char *text, const char *suffix)
{
    size_t length = strlen(text), suffix_length = strlen(suffix);
    return length >= suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

/* Appends "folder/file" to the searched list and returns true when it exists. */
static bool try_candidate(const char *folder, size_t folder_length, const char *file, char *path,
                          size_t size, char *searched, size_t searched_size)
{
    if (folder_length == 0)
        return false;
    snprintf(path, size, "%.*s/%s", (int)folder_length, folder, file);
    size_t used = strlen(searched);
    snprintf(searched + used, searched_size - used, "%s%.*s", used ? ", " : "", (int)folder_length,
             folder);
    return access(path, F_OK) == 0;
}

static int find_module(const char *name, char *path, size_t size)
{
    char file[NAME_MAX + 1], searched[2048] = "", executable[PATH_MAX];
    const char *list = getenv("EBPF_DRIVER_PATH");

    if (strchr(name, '/') != NULL) {
        if (access(name, F_OK) != 0)
            return ebpf_error(-ENOENT, "module %s: no such file", name);
        snprintf(path, size, "%s", name);
        return 0;
    }
    if (snprintf(file, sizeof(file), has_suffix(name, ".so") ? "%s" : "%s.so", name) >=
        (int)sizeof(file))
        return ebpf_error(-ENAMETOOLONG, "module %s: name too long", name);
    /* The build tree (or the user's choice) first. */
    while (list != NULL && *list != '\0') {
        size_t length = strcspn(list, ":");
        if (try_candidate(list, length, file, path, size, searched, sizeof(searched)))
            return 0;
        list += length;
        if (*list == ':')
            list++;
    }
    /* Then next to the program: an installed tool ships its modules beside it. */
    ssize_t length = readlink("/proc/self/exe", executable, sizeof(executable) - 1);
    if (length > 0) {
        executable[length] = '\0';
        char *slash = strrchr(executable, '/');
        if (slash != NULL && try_candidate(executable, (size_t)(slash - executable), file, path,
                                           size, searched, sizeof(searched)))
            return 0;
    }
    if (try_candidate(INSTALLED_MODULE_DIR, strlen(INSTALLED_MODULE_DIR), file, path, size,
                      searched, sizeof(searched)))
        return 0;
    return ebpf_error(-ENOENT, "module %s not found: no %s in %s (set EBPF_DRIVER_PATH)", name,
                      file, searched);
}

/* ------------------------------------------------------------------------------------------
 * Load and unload.
 * ------------------------------------------------------------------------------------------ */

/* Caller holds drivers_lock. */
static ebpf_driver_t *loaded_driver(const void *handle, const char *name)
{
    for (ebpf_driver_t *driver = drivers; driver != NULL; driver = driver->next) {
        if (driver->handle == handle || strcmp(driver->name, name) == 0)
            return driver;
    }
    return NULL;
}

static int check_descriptor(const ebpf_module_descriptor_t *descriptor, const char *path)
{
    if (descriptor->header.version != EBPF_MODULE_DESCRIPTOR_VERSION)
        return ebpf_error(-ENOTSUP, "module %s: descriptor version %u (this host reads %u)", path,
                          descriptor->header.version, EBPF_MODULE_DESCRIPTOR_VERSION);
    if (!EBPF_EXTENSION_HAS_FIELD(&descriptor->header, ebpf_module_descriptor_t, stop))
        return ebpf_error(-ENOEXEC, "module %s: descriptor of %u bytes is too small", path,
                          descriptor->header.size);
    if (descriptor->name == NULL || descriptor->start == NULL || descriptor->stop == NULL)
        return ebpf_error(-ENOEXEC, "module %s: descriptor without name, start or stop", path);
    return 0;
}

static int load_locked(const char *name_or_path, const char *parameters, ebpf_driver_t **out)
{
    char path[PATH_MAX];
    ebpf_driver_t *driver;
    int rc = find_module(name_or_path, path, sizeof(path));
    if (rc != 0)
        return rc;
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL)
        return ebpf_error(-ENOEXEC, "module %s: cannot load %s: %s", name_or_path, path, dlerror());
    const ebpf_module_descriptor_t *descriptor = dlsym(handle, EBPF_MODULE_ENTRY_SYMBOL);
    if (descriptor == NULL) {
        dlclose(handle);
        return ebpf_error(-ENOEXEC, "module %s: %s has no %s symbol: not an eBPF module",
                          name_or_path, path, EBPF_MODULE_ENTRY_SYMBOL);
    }
    rc = check_descriptor(descriptor, path);
    if (rc != 0) {
        dlclose(handle);
        return rc;
    }
    if ((driver = loaded_driver(handle, descriptor->name)) != NULL) {
        rc = ebpf_error(-EEXIST, "module %s is loaded already (from %s)", descriptor->name,
                        driver->path);
        /* dlopen counted this load too. */
        dlclose(handle);
        return rc;
    }
    driver = ebpf_allocate(sizeof(*driver));
    char *name_copy = ebpf_strdup(descriptor->name), *path_copy = ebpf_strdup(path);
    if (driver == NULL || name_copy == NULL || path_copy == NULL) {
        ebpf_free(driver);
        ebpf_free(name_copy);
        ebpf_free(path_copy);
        dlclose(handle);
        return ebpf_error(-ENOMEM, "module %s: out of memory", name_or_path);
    }
    ebpf_error_clear();
    rc = descriptor->start(parameters);
    if (rc != 0) {
        /* Words from the module's own message, before its code (and strings) go. */
        const char *reason = ebpf_last_error();
        char message[512];
        snprintf(message, sizeof(message), "%s", reason[0] != '\0' ? reason : strerror(-rc));
        rc = ebpf_error(rc < 0 ? rc : -EIO, "module %s: start failed (%d): %s", name_copy, rc,
                        message);
        ebpf_free(driver);
        ebpf_free(name_copy);
        ebpf_free(path_copy);
        dlclose(handle);
        return rc;
    }
    *driver = (ebpf_driver_t){.next = drivers,
                              .name = name_copy,
                              .path = path_copy,
                              .handle = handle,
                              .descriptor = descriptor};
    drivers = driver;
    *out = driver;
    return 0;
}

int ebpf_driver_load(const char *name_or_path, const char *parameters, ebpf_driver_t **driver)
{
    if (name_or_path == NULL || name_or_path[0] == '\0' || driver == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "ebpf_driver_load: no module name"));
    pthread_mutex_lock(&drivers_lock);
    int rc = load_locked(name_or_path, parameters, driver);
    pthread_mutex_unlock(&drivers_lock);
    return libbpf_result(rc);
}

int ebpf_driver_unload(ebpf_driver_t *driver)
{
    if (driver == NULL)
        return 0;
    pthread_mutex_lock(&drivers_lock);
    ebpf_driver_t **slot = &drivers;
    while (*slot != NULL && *slot != driver)
        slot = &(*slot)->next;
    if (*slot == NULL) {
        pthread_mutex_unlock(&drivers_lock);
        return libbpf_result(ebpf_error(-EINVAL, "ebpf_driver_unload: not a loaded module"));
    }
    *slot = driver->next;
    /* stop returns once nothing can call into the module: then its code may go. */
    driver->descriptor->stop();
    dlclose(driver->handle);
    pthread_mutex_unlock(&drivers_lock);
    ebpf_free(driver->name);
    ebpf_free(driver->path);
    ebpf_free(driver);
    return 0;
}

const char *ebpf_driver_name(const ebpf_driver_t *driver)
{
    return driver != NULL ? driver->name : NULL;
}

const char *ebpf_driver_path(const ebpf_driver_t *driver)
{
    return driver != NULL ? driver->path : NULL;
}
