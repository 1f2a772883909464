/* Opening the store: which folders hold it, for reading and for writing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"

static int user_root(char *root, size_t size)
{
    const char *data_home = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;

    if (data_home != NULL && data_home[0] == '/')
        n = snprintf(root, size, "%s/ebpf/store", data_home);
    else if (home != NULL && home[0] == '/')
        n = snprintf(root, size, "%s/.local/share/ebpf/store", home);
    else
        return ebpf_error(-ENOENT, "store: neither XDG_DATA_HOME nor HOME is set; set "
                                   "EBPF_STORE_DIR to choose a store");
    if (n < 0 || (size_t)n >= size)
        return ebpf_error(-ENAMETOOLONG, "store: user store path too long");
    return 0;
}

static int copy_root(char *destination, const char *source)
{
    if (strlen(source) >= PATH_MAX)
        return ebpf_error(-ENAMETOOLONG, "store: root path too long: %s", source);
    strcpy(destination, source);
    return 0;
}

int ebpf_store_open(const char *root, ebpf_store_scope_t scope, ebpf_store_t **out)
{
    const char *override = getenv("EBPF_STORE_DIR");
    ebpf_store_t *store;
    int rc = 0;

    if (out == NULL)
        return ebpf_error(-EINVAL, "store: no place for the handle");
    store = ebpf_allocate(sizeof(*store));
    if (store == NULL)
        return ebpf_error(-ENOMEM, "store: out of memory");
    if (root != NULL)
        rc = copy_root(store->write_root, root);
    else if (override != NULL && override[0] != '\0')
        rc = copy_root(store->write_root, override);
    else if (scope == EBPF_STORE_SYSTEM)
        rc = copy_root(store->write_root, EBPF_STORE_SYSTEM_ROOT);
    else {
        rc = user_root(store->write_root, sizeof(store->write_root));
        if (rc == 0)
            rc = copy_root(store->fallback_root, EBPF_STORE_SYSTEM_ROOT);
    }
    if (rc != 0) {
        ebpf_free(store);
        return rc;
    }
    *out = store;
    return 0;
}

void ebpf_store_close(ebpf_store_t *store)
{
    ebpf_free(store);
}

const char *ebpf_store_root(const ebpf_store_t *store)
{
    return store->write_root;
}
