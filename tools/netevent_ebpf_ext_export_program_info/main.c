/* netevent_ebpf_ext_export_program_info: exports the netevent_monitor program type and section
 * information to the eBPF store, or removes exactly that with --clear. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ebpf_platform.h"
#include "ebpf_store.h"
#include "netevent_ext_program_info.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: netevent_ebpf_ext_export_program_info [--clear]\n"
                 "  (no argument)  export the netevent_monitor program information to the store\n"
                 "  --clear        remove what this tool exports\n"
                 "The store is $EBPF_STORE_DIR, else $XDG_DATA_HOME/ebpf/store (or "
                 "~/.local/share/ebpf/store).\n");
}

static int export_information(ebpf_store_t *store)
{
    const ebpf_program_type_descriptor_t *type = netevent_program_info.program_type_descriptor;
    char guid[EBPF_GUID_STRING_LENGTH + 1];
    int rc = ebpf_store_update_program_info(store, &netevent_program_info);

    if (rc == 0)
        rc = ebpf_store_update_section_info(store, netevent_section_info,
                                            netevent_section_info_count);
    if (rc != 0)
        return rc;
    ebpf_guid_to_string(&type->program_type, guid);
    printf("exported program type %s (%s) and section \"%s\" to %s\n", type->name, guid,
           netevent_section_info[0].section_prefix, ebpf_store_root(store));
    return 0;
}

static int clear_information(ebpf_store_t *store)
{
    const ebpf_program_type_descriptor_t *type = netevent_program_info.program_type_descriptor;
    int rc = ebpf_store_delete_program_info(store, &type->program_type);

    /* Clearing what is already gone is not an error: --clear is idempotent. */
    if (rc != 0 && rc != -ENOENT)
        return rc;
    for (size_t i = 0; i < netevent_section_info_count; i++) {
        rc = ebpf_store_delete_section_info(store, netevent_section_info[i].section_prefix);
        if (rc != 0 && rc != -ENOENT)
            return rc;
    }
    printf("cleared program type %s and its sections from %s\n", type->name,
           ebpf_store_root(store));
    return 0;
}

int main(int argc, char **argv)
{
    ebpf_store_t *store;
    bool clear = false;
    int rc;

    if (argc == 2 && strcmp(argv[1], "--clear") == 0) {
        clear = true;
    } else if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    } else if (argc != 1) {
        usage(stderr);
        return 1;
    }
    rc = ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store);
    if (rc == 0) {
        rc = clear ? clear_information(store) : export_information(store);
        ebpf_store_close(store);
    }
    if (rc != 0) {
        fprintf(stderr, "netevent_ebpf_ext_export_program_info: %s failed: %s (%s)\n",
                clear ? "clear" : "export", ebpf_last_error(), strerror(-rc));
        return 1;
    }
    return 0;
}
