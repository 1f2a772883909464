/* libbpf's bpf_object: an ELF file opened, its programs bound to their program types through the
 * store, loaded into the core, and its maps and programs handed out as fds. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api_private.h"
#include "ebpf_elf.h"
#include "ebpf_native.h"
#include "ebpf_object.h"

#define DEFAULT_PIN_ROOT "/sys/fs/bpf"

struct bpf_program {
    struct bpf_object *object;
    size_t index; /* in elf->programs and loaded->programs */
    const ebpf_elf_program_t *elf;
    int fd; /* -1 before load */
    /* From the section through the store at open (and again at load), or set explicitly. */
    bool has_type;
    api_section_type_t type;
    bool type_set;            /* bpf_program__set_type was called */
    uint32_t type_set_number; /* what it was called with */
};

struct bpf_map {
    struct bpf_object *object;
    size_t index; /* in elf->maps and loaded->maps */
    const ebpf_elf_map_t *elf;
    int fd;               /* -1 before load */
    uint32_t max_entries; /* 0: as the object says */
    char *pin_path;       /* where load pins (or finds) the map; NULL: not pinned by load */
    bool pinned;          /* pinned at pin_path by this map */
};

struct bpf_object {
    char *name;
    char *pin_root_path;
    ebpf_elf_object_t *elf;
    struct bpf_program *programs;
    size_t program_count;
    struct bpf_map *maps;
    size_t map_count;
    ebpf_object_t *loaded; /* NULL before load */
    /* A native module (bpf2c): elf describes it, and its programs run its code once loaded. */
    ebpf_native_module_t *native;
};

/* ------------------------------------------------------------------------------------------
 * Open.
 * ------------------------------------------------------------------------------------------ */

/* libbpf's default name: the file's base name up to its first '.'. */
static char *name_from_path(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    size_t length = strcspn(base, ".");
    char *name = ebpf_allocate(length + 1);
    if (name != NULL)
        memcpy(name, base, length);
    return name;
}

static char *join_pin_path(const char *root, const char *name)
{
    size_t size = strlen(root) + 1 + strlen(name) + 1;
    char *path = ebpf_allocate(size);
    if (path != NULL)
        snprintf(path, size, "%s/%s", root, name);
    return path;
}

static void free_object(struct bpf_object *object)
{
    if (object == NULL)
        return;
    for (size_t m = 0; m < object->map_count; m++)
        ebpf_free(object->maps[m].pin_path);
    ebpf_free(object->maps);
    ebpf_free(object->programs);
    ebpf_elf_free(object->elf);
    ebpf_native_module_close(object->native);
    ebpf_free(object->pin_root_path);
    ebpf_free(object->name);
    ebpf_free(object);
}

/* Takes elf (freed on failure). */
static int build_object(ebpf_elf_object_t *elf, char *name, const struct bpf_object_open_opts *opts,
                        struct bpf_object **out)
{
    struct bpf_object *object = ebpf_allocate(sizeof(*object));
    const char *root = API_OPTION(opts, pin_root_path, NULL);
    int rc = 0;

    if (object == NULL) {
        ebpf_elf_free(elf);
        ebpf_free(name);
        return ebpf_error(-ENOMEM, "object: out of memory");
    }
    object->elf = elf;
    object->name = name;
    object->pin_root_path = ebpf_strdup(root != NULL ? root : DEFAULT_PIN_ROOT);
    object->programs = ebpf_allocate_array(elf->program_count ? elf->program_count : 1,
                                           sizeof(struct bpf_program));
    object->maps = ebpf_allocate_array(elf->map_count ? elf->map_count : 1, sizeof(struct bpf_map));
    if (object->name == NULL || object->pin_root_path == NULL || object->programs == NULL ||
        object->maps == NULL) {
        free_object(object);
        return ebpf_error(-ENOMEM, "object: out of memory");
    }
    object->program_count = elf->program_count;
    for (size_t p = 0; p < elf->program_count; p++) {
        struct bpf_program *program = &object->programs[p];
        *program =
            (struct bpf_program){.object = object, .index = p, .elf = &elf->programs[p], .fd = -1};
        /* What the store says now; load asks again, so an entry added in between counts. */
        program->has_type = api_resolve_section(program->elf->section_name, &program->type) == 0;
    }
    object->map_count = elf->map_count;
    for (size_t m = 0; m < elf->map_count && rc == 0; m++) {
        struct bpf_map *map = &object->maps[m];
        *map = (struct bpf_map){.object = object, .index = m, .elf = &elf->maps[m], .fd = -1};
        if (map->elf->pinning == LIBBPF_PIN_BY_NAME) {
            map->pin_path = join_pin_path(object->pin_root_path, map->elf->name);
            if (map->pin_path == NULL)
                rc = ebpf_error(-ENOMEM, "object: out of memory");
        }
    }
    if (rc != 0) {
        free_object(object);
        return rc;
    }
    ebpf_error_clear();
    *out = object;
    return 0;
}

static struct bpf_object *open_failed(int rc)
{
    libbpf_report(LIBBPF_WARN, "%s", ebpf_last_error());
    return libbpf_null(rc);
}

/* The object takes the module: its programs have the types bpf2c verified them against. */
static void adopt_native_module(struct bpf_object *object, ebpf_native_module_t *native)
{
    const ebpf_native_module_metadata_t *table = ebpf_native_module_get_metadata(native);

    object->native = native;
    for (size_t p = 0; p < object->program_count; p++) {
        const ebpf_native_program_metadata_t *program =
            (const ebpf_native_program_metadata_t *)((const uint8_t *)table->programs +
                                                     p * table->program_metadata_size);
        object->programs[p].has_type = true;
        object->programs[p].type = (api_section_type_t){
            .from_store = true,
            .program_type = program->program_type,
            .attach_type = program->attach_type,
            .bpf_prog_type = program->bpf_prog_type,
            .bpf_attach_type = program->bpf_attach_type,
        };
    }
}

struct bpf_object *bpf_object__open_file(const char *path, const struct bpf_object_open_opts *opts)
{
    ebpf_elf_object_t *elf;
    struct bpf_object *object;
    int rc;

    if (path == NULL)
        return open_failed(ebpf_error(-EINVAL, "bpf_object__open: no path"));
    rc = api_check_options(opts, sizeof(*opts), "bpf_object_open_opts");
    if (rc != 0)
        return open_failed(rc);
    /* A native module (an ELF shared object from bpf2c), else a BPF object. */
    ebpf_native_module_t *native = NULL;
    rc = ebpf_native_module_open(path, &native);
    if (rc == 0)
        rc = ebpf_native_module_describe(native, &elf);
    else if (rc == -ENOEXEC)
        rc = ebpf_elf_open_file(path, &elf);
    if (rc != 0) {
        ebpf_native_module_close(native);
        return open_failed(rc);
    }
    const char *given = API_OPTION(opts, object_name, NULL);
    char *name = given != NULL ? ebpf_strdup(given) : name_from_path(path);
    rc = build_object(elf, name, opts, &object);
    if (rc != 0) {
        ebpf_native_module_close(native);
        return open_failed(ebpf_error_prefix(rc, "%s: ", path));
    }
    if (native != NULL)
        adopt_native_module(object, native);
    return object;
}

struct bpf_object *bpf_object__open(const char *path)
{
    return bpf_object__open_file(path, NULL);
}

struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz,
                                        const struct bpf_object_open_opts *opts)
{
    ebpf_elf_object_t *elf;
    struct bpf_object *object;
    char generated[64];
    int rc;

    if (obj_buf == NULL || obj_buf_sz == 0)
        return open_failed(ebpf_error(-EINVAL, "bpf_object__open_mem: empty buffer"));
    rc = api_check_options(opts, sizeof(*opts), "bpf_object_open_opts");
    if (rc != 0)
        return open_failed(rc);
    const char *name = API_OPTION(opts, object_name, NULL);
    if (name == NULL) {
        /* libbpf names an anonymous buffer by its address and size. */
        snprintf(generated, sizeof(generated), "%lx-%zx", (unsigned long)(uintptr_t)obj_buf,
                 obj_buf_sz);
        name = generated;
    }
    ebpf_native_module_t *native = NULL;
    if (ebpf_native_is_shared_object(obj_buf, obj_buf_sz)) {
        rc = ebpf_native_module_open_memory(obj_buf, obj_buf_sz, name, &native);
        if (rc == 0)
            rc = ebpf_native_module_describe(native, &elf);
    } else {
        rc = ebpf_elf_open_memory(obj_buf, obj_buf_sz, name, &elf);
    }
    if (rc != 0) {
        ebpf_native_module_close(native);
        return open_failed(rc);
    }
    rc = build_object(elf, ebpf_strdup(name), opts, &object);
    if (rc != 0) {
        ebpf_native_module_close(native);
        return open_failed(rc);
    }
    if (native != NULL)
        adopt_native_module(object, native);
    return object;
}

const char *bpf_object__name(const struct bpf_object *obj)
{
    if (obj == NULL)
        return libbpf_null(-EINVAL);
    return obj->name;
}

/* ------------------------------------------------------------------------------------------
 * Load.
 * ------------------------------------------------------------------------------------------ */

/* The program type each program is created with, decided before anything is created. */
static int resolve_program_type(struct bpf_program *program)
{
    const char *section = program->elf->section_name;
    int rc;

    if (program->type_set) {
        rc = api_program_type_by_number(program->type_set_number, &program->type);
        program->has_type = rc == 0;
        if (rc == -ENOENT)
            return ebpf_error(-ENOENT,
                              "program %s: program type %u (set with bpf_program__set_type) is "
                              "not in the eBPF store: export its extension's program "
                              "information first",
                              program->elf->function_name, program->type_set_number);
        return rc == 0 ? 0 : ebpf_error_prefix(rc, "program %s: ", program->elf->function_name);
    }
    rc = api_resolve_section(section, &program->type);
    program->has_type = rc == 0;
    if (rc == -ESRCH || (rc == 0 && !program->type.from_store))
        return ebpf_error(-ENOENT,
                          "program %s: section \"%s\" is not in the eBPF store: export the "
                          "program information of the extension that provides it, or set the "
                          "program type with bpf_program__set_type",
                          program->elf->function_name, section);
    if (rc != 0)
        return ebpf_error_prefix(rc, "program %s: ", program->elf->function_name);
    return 0;
}

static int bind_program(void *context, size_t index, const ebpf_elf_program_t *elf,
                        ebpf_object_program_binding_t *binding)
{
    struct bpf_object *object = context;
    static const ebpf_guid_t general_helpers_only;
    binding->program_type = &object->programs[index].type.program_type;
    /* A native program translated without a program type binds to none. */
    if (object->native != NULL && ebpf_guid_equal(binding->program_type, &general_helpers_only))
        binding->program_type = NULL;
    return 0;
}

static int program_failed(void *context, size_t index, int error)
{
    struct bpf_object *object = context;
    const struct bpf_program *program = &object->programs[index];
    char guid[EBPF_GUID_STRING_LENGTH + 1], name[128];

    if (error != -ENOENT)
        return error;
    /* The core found no extension for the type: say which, in the user's words. */
    ebpf_guid_to_string(&program->type.program_type, guid);
    if (!api_program_type_name(&program->type.program_type, name, sizeof(name)))
        snprintf(name, sizeof(name), "of section %s", program->elf->section_name);
    return ebpf_error(error,
                      "%s: program %s: program type %s (%s) is not loaded: load its extension "
                      "first (ebpf_driver_load)",
                      object->name, program->elf->function_name, name, guid);
}

/* Pinned maps this object reuses: for each map with a pin path, what is pinned there (a
 * reference each), or NULL. */
static int find_pinned_maps(struct bpf_object *object, ebpf_map_t **existing)
{
    for (size_t m = 0; m < object->map_count; m++) {
        const struct bpf_map *map = &object->maps[m];
        api_object_kind_t kind;
        void *pinned;
        if (map->pin_path == NULL)
            continue;
        int rc = api_pin_get(map->pin_path, &kind, &pinned);
        if (rc == -ENOENT) {
            ebpf_error_clear();
            continue;
        }
        if (rc == 0 && kind != API_OBJECT_MAP) {
            api_object_release(kind, pinned);
            rc = ebpf_error(-EINVAL, "a %s is pinned at %s", api_object_kind_name(kind),
                            map->pin_path);
        }
        if (rc != 0)
            return ebpf_error_prefix(rc, "%s: map %s: ", object->name, map->elf->name);
        existing[m] = pinned;
    }
    return 0;
}

/* Undoes what a failed load did after the core object existed. */
static void unload_partially(struct bpf_object *object, ebpf_object_t *loaded)
{
    for (size_t m = 0; m < object->map_count; m++) {
        struct bpf_map *map = &object->maps[m];
        if (map->pinned) {
            ebpf_unpin(map->pin_path);
            map->pinned = false;
        }
    }
    for (size_t p = 0; p < object->program_count; p++) {
        if (object->programs[p].fd >= 0)
            ebpf_close_fd(object->programs[p].fd);
        object->programs[p].fd = -1;
    }
    for (size_t m = 0; m < object->map_count; m++) {
        if (object->maps[m].fd >= 0)
            ebpf_close_fd(object->maps[m].fd);
        object->maps[m].fd = -1;
    }
    /* Program arrays that never got an fd still hold their programs. */
    loaded->program_arrays_released_by_caller = false;
    ebpf_object_unload(loaded);
}

static int hand_out(struct bpf_object *object, ebpf_object_t *loaded, ebpf_map_t **existing)
{
    for (size_t m = 0; m < object->map_count; m++) {
        int fd = api_fd_open(API_OBJECT_MAP, loaded->maps[m]);
        if (fd < 0)
            return fd;
        object->maps[m].fd = fd;
    }
    for (size_t p = 0; p < object->program_count; p++) {
        int fd = api_fd_open(API_OBJECT_PROGRAM, loaded->programs[p]);
        if (fd < 0)
            return fd;
        object->programs[p].fd = fd;
    }
    for (size_t m = 0; m < object->map_count; m++) {
        struct bpf_map *map = &object->maps[m];
        if (map->pin_path == NULL || existing[m] != NULL)
            continue;
        int rc = api_pin(API_OBJECT_MAP, loaded->maps[m], map->pin_path);
        if (rc != 0)
            return ebpf_error_prefix(rc, "map %s: ", map->elf->name);
        map->pinned = true;
    }
    return 0;
}

int bpf_object__load(struct bpf_object *obj)
{
    ebpf_map_t **existing = NULL;
    uint32_t *max_entries = NULL;
    ebpf_object_t *loaded = NULL;
    int rc = 0;

    if (obj == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_object__load: no object"));
    if (obj->loaded != NULL)
        return libbpf_result(ebpf_error(-EALREADY, "%s: loaded already", obj->name));
    /* A native module's programs keep the types they were verified against. */
    for (size_t p = 0; p < obj->program_count && rc == 0 && obj->native == NULL; p++)
        rc = resolve_program_type(&obj->programs[p]);
    if (rc != 0)
        goto failed;
    existing = ebpf_allocate_array(obj->map_count ? obj->map_count : 1, sizeof(*existing));
    max_entries = ebpf_allocate_array(obj->map_count ? obj->map_count : 1, sizeof(*max_entries));
    if (existing == NULL || max_entries == NULL) {
        rc = ebpf_error(-ENOMEM, "%s: out of memory", obj->name);
        goto failed;
    }
    for (size_t m = 0; m < obj->map_count; m++)
        max_entries[m] = obj->maps[m].max_entries;
    rc = find_pinned_maps(obj, existing);
    if (rc != 0)
        goto failed;
    ebpf_object_load_options_t options = {
        .resolve = bind_program,
        .program_failed = program_failed,
        .context = obj,
        .existing_maps = existing,
        .max_entries = max_entries,
    };
    rc = ebpf_object_load_elf_with_options(obj->elf, &options, &loaded);
    if (rc != 0)
        goto failed;
    if (obj->native != NULL) {
        rc = ebpf_native_module_attach(obj->native, loaded->programs, loaded->program_count,
                                       loaded->maps, loaded->map_count);
        if (rc != 0) {
            ebpf_object_unload(loaded);
            goto failed;
        }
    }
    /* From here on, emptying program arrays follows their user references (fds and pins). */
    loaded->program_arrays_released_by_caller = true;
    rc = hand_out(obj, loaded, existing);
    if (rc != 0) {
        ebpf_error_prefix(rc, "%s: ", obj->name);
        unload_partially(obj, loaded);
        ebpf_native_module_detach(obj->native);
        goto failed;
    }
    obj->loaded = loaded;
failed:
    for (size_t m = 0; existing != NULL && m < obj->map_count; m++) {
        if (existing[m] != NULL)
            ebpf_map_release(existing[m]);
    }
    ebpf_free(existing);
    ebpf_free(max_entries);
    if (rc != 0)
        libbpf_report(LIBBPF_WARN, "failed to load object '%s': %s", obj->name, ebpf_last_error());
    return libbpf_result(rc);
}

void bpf_object__close(struct bpf_object *obj)
{
    if (obj == NULL)
        return;
    int saved = errno;
    /* Programs first: closing a program array's last fd then empties it. */
    for (size_t p = 0; p < obj->program_count; p++) {
        if (obj->programs[p].fd >= 0)
            ebpf_close_fd(obj->programs[p].fd);
    }
    for (size_t m = 0; m < obj->map_count; m++) {
        if (obj->maps[m].fd >= 0)
            ebpf_close_fd(obj->maps[m].fd);
    }
    ebpf_object_unload(obj->loaded);
    free_object(obj);
    errno = saved;
}

/* ------------------------------------------------------------------------------------------
 * Finding programs and maps.
 * ------------------------------------------------------------------------------------------ */

struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj, const char *name)
{
    if (obj == NULL || name == NULL)
        return libbpf_null(ebpf_error(-EINVAL, "find program: NULL argument"));
    for (size_t p = 0; p < obj->program_count; p++) {
        if (strcmp(obj->programs[p].elf->function_name, name) == 0)
            return &obj->programs[p];
    }
    return libbpf_null(ebpf_error(-ENOENT, "%s: no program %s", obj->name, name));
}

struct bpf_program *bpf_object__next_program(const struct bpf_object *obj, struct bpf_program *prog)
{
    size_t next = prog == NULL ? 0 : prog->index + 1;
    if (obj == NULL || (prog != NULL && prog->object != obj) || next >= obj->program_count)
        return NULL;
    return &obj->programs[next];
}

struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj, const char *name)
{
    if (obj == NULL || name == NULL)
        return libbpf_null(ebpf_error(-EINVAL, "find map: NULL argument"));
    for (size_t m = 0; m < obj->map_count; m++) {
        const ebpf_elf_map_t *map = obj->maps[m].elf;
        if (strcmp(map->name, name) == 0 ||
            (map->origin == EBPF_ELF_MAP_GLOBAL_DATA && strcmp(map->section_name, name) == 0))
            return &obj->maps[m];
    }
    return libbpf_null(ebpf_error(-ENOENT, "%s: no map %s", obj->name, name));
}

int bpf_object__find_map_fd_by_name(const struct bpf_object *obj, const char *name)
{
    struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
    if (map == NULL)
        return -errno;
    return bpf_map__fd(map);
}

struct bpf_map *bpf_object__next_map(const struct bpf_object *obj, const struct bpf_map *map)
{
    size_t next = map == NULL ? 0 : map->index + 1;
    if (obj == NULL || (map != NULL && map->object != obj) || next >= obj->map_count)
        return NULL;
    return &obj->maps[next];
}

/* ------------------------------------------------------------------------------------------
 * Programs.
 * ------------------------------------------------------------------------------------------ */

int bpf_program__fd(const struct bpf_program *prog)
{
    if (prog == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_program__fd: no program"));
    if (prog->fd < 0)
        return libbpf_result(
            ebpf_error(-ENOENT, "program %s is not loaded", prog->elf->function_name));
    return prog->fd;
}

const char *bpf_program__name(const struct bpf_program *prog)
{
    return prog != NULL ? prog->elf->function_name : libbpf_null(-EINVAL);
}

const char *bpf_program__section_name(const struct bpf_program *prog)
{
    return prog != NULL ? prog->elf->section_name : libbpf_null(-EINVAL);
}

enum bpf_prog_type bpf_program__type(const struct bpf_program *prog)
{
    if (prog == NULL)
        return BPF_PROG_TYPE_UNSPEC;
    if (prog->type_set && !prog->has_type)
        return (enum bpf_prog_type)prog->type_set_number;
    return prog->has_type ? (enum bpf_prog_type)prog->type.bpf_prog_type : BPF_PROG_TYPE_UNSPEC;
}

int bpf_program__set_type(struct bpf_program *prog, enum bpf_prog_type type)
{
    if (prog == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_program__set_type: no program"));
    if (prog->object->loaded != NULL)
        return libbpf_result(
            ebpf_error(-EBUSY, "program %s: loaded already", prog->elf->function_name));
    prog->type_set = true;
    prog->type_set_number = (uint32_t)type;
    prog->has_type = api_program_type_by_number((uint32_t)type, &prog->type) == 0;
    ebpf_error_clear();
    return 0;
}

enum bpf_attach_type bpf_program__expected_attach_type(const struct bpf_program *prog)
{
    if (prog == NULL || !prog->has_type)
        return (enum bpf_attach_type)0;
    return (enum bpf_attach_type)prog->type.bpf_attach_type;
}

static ebpf_program_t *loaded_program(const struct bpf_program *prog)
{
    return prog->object->loaded != NULL ? prog->object->loaded->programs[prog->index] : NULL;
}

int bpf_program__pin(struct bpf_program *prog, const char *path)
{
    if (prog == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_program__pin: no program"));
    if (loaded_program(prog) == NULL)
        return libbpf_result(
            ebpf_error(-EINVAL, "program %s is not loaded", prog->elf->function_name));
    return libbpf_result(api_pin(API_OBJECT_PROGRAM, loaded_program(prog), path));
}

int bpf_program__unpin(struct bpf_program *prog, const char *path)
{
    if (prog == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_program__unpin: no program"));
    return ebpf_unpin(path);
}

/* ------------------------------------------------------------------------------------------
 * Attach.
 * ------------------------------------------------------------------------------------------ */

struct bpf_link {
    int fd;
    char *pin_path; /* where bpf_link__pin pinned it */
};

static bool guid_is_zero(const ebpf_guid_t *guid)
{
    static const ebpf_guid_t zero;
    return ebpf_guid_equal(guid, &zero);
}

static int attach_program(ebpf_program_t *program, const ebpf_guid_t *attach_type,
                          const void *params, size_t params_size, struct bpf_link **out)
{
    ebpf_link_t *core_link;
    api_link_t *link;
    struct bpf_link *handle;
    int rc;

    if (out == NULL)
        return ebpf_error(-EINVAL, "attach: no link to return");
    if (params == NULL && params_size != 0)
        return ebpf_error(-EINVAL, "attach: %zu bytes of parameters but no parameters",
                          params_size);
    handle = ebpf_allocate(sizeof(*handle));
    if (handle == NULL)
        return ebpf_error(-ENOMEM, "attach: out of memory");
    rc = ebpf_link_create(program, attach_type, params, params_size, &core_link);
    if (rc != 0) {
        ebpf_free(handle);
        return ebpf_error_prefix(rc, "program %s: attach: ", ebpf_program_get_name(program));
    }
    rc = api_link_wrap(core_link, &link);
    if (rc != 0) {
        ebpf_link_release(core_link);
        ebpf_free(handle);
        return rc;
    }
    handle->fd = api_fd_open(API_OBJECT_LINK, link);
    /* The fd holds the link now (or nothing does, and this detaches it). */
    api_link_release(link);
    if (handle->fd < 0) {
        rc = handle->fd;
        ebpf_free(handle);
        return rc;
    }
    *out = handle;
    return 0;
}

int ebpf_program_attach(struct bpf_program *program, const ebpf_guid_t *attach_type,
                        const void *attach_params, size_t attach_params_size,
                        struct bpf_link **link)
{
    if (program == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "attach: no program"));
    ebpf_program_t *loaded = loaded_program(program);
    if (loaded == NULL)
        return libbpf_result(
            ebpf_error(-EINVAL, "attach: program %s is not loaded", program->elf->function_name));
    if (attach_type == NULL && program->has_type && program->type.from_store &&
        !guid_is_zero(&program->type.attach_type))
        attach_type = &program->type.attach_type;
    return libbpf_result(
        attach_program(loaded, attach_type, attach_params, attach_params_size, link));
}

int ebpf_program_attach_by_fd(int program_fd, const ebpf_guid_t *attach_type,
                              const void *attach_params, size_t attach_params_size,
                              struct bpf_link **link)
{
    void *program;
    int rc = api_fd_get(program_fd, API_OBJECT_PROGRAM, &program);
    if (rc != 0)
        return libbpf_result(rc);
    rc = attach_program(program, attach_type, attach_params, attach_params_size, link);
    ebpf_program_release(program);
    return libbpf_result(rc);
}

struct bpf_link *bpf_program__attach(const struct bpf_program *prog)
{
    struct bpf_link *link;
    int rc = ebpf_program_attach((struct bpf_program *)prog, NULL, NULL, 0, &link);
    if (rc != 0) {
        libbpf_report(LIBBPF_WARN, "%s", ebpf_last_error());
        return libbpf_null(rc);
    }
    return link;
}

int bpf_link__fd(const struct bpf_link *link)
{
    if (link == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_link__fd: no link"));
    return link->fd;
}

int bpf_link__destroy(struct bpf_link *link)
{
    if (link == NULL)
        return 0;
    /* As Linux: closing the fd detaches the link unless a pin (or another fd) still holds it. */
    int rc = ebpf_close_fd(link->fd);
    ebpf_free(link->pin_path);
    ebpf_free(link);
    return libbpf_result(rc);
}

int bpf_link__detach(struct bpf_link *link)
{
    if (link == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_link__detach: no link"));
    return bpf_link_detach(link->fd);
}

int bpf_link_detach(int link_fd)
{
    void *link;
    int rc = api_fd_get(link_fd, API_OBJECT_LINK, &link);
    if (rc != 0)
        return libbpf_result(rc);
    rc = ebpf_link_detach(((api_link_t *)link)->link);
    api_link_release(link);
    return libbpf_result(rc);
}

int bpf_link__pin(struct bpf_link *link, const char *path)
{
    if (link == NULL || path == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_link__pin: NULL argument"));
    if (link->pin_path != NULL)
        return libbpf_result(ebpf_error(-EBUSY, "link pinned already at %s", link->pin_path));
    char *copy = ebpf_strdup(path);
    if (copy == NULL)
        return libbpf_result(ebpf_error(-ENOMEM, "bpf_link__pin: out of memory"));
    int rc = bpf_obj_pin(link->fd, path);
    if (rc != 0) {
        ebpf_free(copy);
        return rc;
    }
    link->pin_path = copy;
    return 0;
}

int bpf_link__unpin(struct bpf_link *link)
{
    if (link == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_link__unpin: no link"));
    if (link->pin_path == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "link is not pinned"));
    int rc = ebpf_unpin(link->pin_path);
    if (rc == 0) {
        ebpf_free(link->pin_path);
        link->pin_path = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Maps.
 * ------------------------------------------------------------------------------------------ */

static ebpf_map_t *loaded_map(const struct bpf_map *map)
{
    return map->object->loaded != NULL ? map->object->loaded->maps[map->index] : NULL;
}

int bpf_map__fd(const struct bpf_map *map)
{
    if (map == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_map__fd: no map"));
    if (map->fd < 0)
        return libbpf_result(ebpf_error(-ENOENT, "map %s is not loaded", map->elf->name));
    return map->fd;
}

const char *bpf_map__name(const struct bpf_map *map)
{
    return map != NULL ? map->elf->name : libbpf_null(-EINVAL);
}

enum bpf_map_type bpf_map__type(const struct bpf_map *map)
{
    return map != NULL ? (enum bpf_map_type)map->elf->type : BPF_MAP_TYPE_UNSPEC;
}

__u32 bpf_map__max_entries(const struct bpf_map *map)
{
    if (map == NULL)
        return 0;
    if (loaded_map(map) != NULL)
        return ebpf_map_get_definition(loaded_map(map))->max_entries;
    if (map->max_entries != 0)
        return map->max_entries;
    if (map->elf->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && map->elf->max_entries == 0)
        return ebpf_cpu_count();
    return map->elf->max_entries;
}

int bpf_map__set_max_entries(struct bpf_map *map, __u32 max_entries)
{
    if (map == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_map__set_max_entries: no map"));
    if (map->object->loaded != NULL)
        return libbpf_result(ebpf_error(-EBUSY, "map %s: loaded already", map->elf->name));
    map->max_entries = max_entries;
    return 0;
}

__u32 bpf_map__key_size(const struct bpf_map *map)
{
    return map != NULL ? map->elf->key_size : 0;
}

__u32 bpf_map__value_size(const struct bpf_map *map)
{
    return map != NULL ? map->elf->value_size : 0;
}

__u32 bpf_map__map_flags(const struct bpf_map *map)
{
    return map != NULL ? map->elf->map_flags : 0;
}

int bpf_map__set_pin_path(struct bpf_map *map, const char *path)
{
    if (map == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_map__set_pin_path: no map"));
    if (map->pinned)
        return libbpf_result(
            ebpf_error(-EBUSY, "map %s is pinned at %s", map->elf->name, map->pin_path));
    char *copy = NULL;
    if (path != NULL && (copy = ebpf_strdup(path)) == NULL)
        return libbpf_result(ebpf_error(-ENOMEM, "bpf_map__set_pin_path: out of memory"));
    ebpf_free(map->pin_path);
    map->pin_path = copy;
    return 0;
}

const char *bpf_map__pin_path(const struct bpf_map *map)
{
    return map != NULL ? map->pin_path : NULL;
}

bool bpf_map__is_pinned(const struct bpf_map *map)
{
    return map != NULL && map->pinned;
}

int bpf_map__pin(struct bpf_map *map, const char *path)
{
    if (map == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_map__pin: no map"));
    if (loaded_map(map) == NULL)
        return libbpf_result(ebpf_error(-ENOENT, "map %s is not loaded", map->elf->name));
    if (map->pinned) {
        if (path == NULL || strcmp(path, map->pin_path) == 0)
            return 0;
        return libbpf_result(
            ebpf_error(-EINVAL, "map %s is pinned at %s already", map->elf->name, map->pin_path));
    }
    if (path == NULL && map->pin_path == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "map %s: no pin path", map->elf->name));
    if (path != NULL && (map->pin_path == NULL || strcmp(path, map->pin_path) != 0)) {
        int rc = bpf_map__set_pin_path(map, path);
        if (rc != 0)
            return rc;
    }
    int rc = api_pin(API_OBJECT_MAP, loaded_map(map), map->pin_path);
    if (rc != 0)
        return libbpf_result(ebpf_error_prefix(rc, "map %s: ", map->elf->name));
    map->pinned = true;
    return 0;
}

int bpf_map__unpin(struct bpf_map *map, const char *path)
{
    if (map == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "bpf_map__unpin: no map"));
    if (path == NULL)
        path = map->pin_path;
    if (path == NULL)
        return libbpf_result(ebpf_error(-EINVAL, "map %s: no pin path", map->elf->name));
    bool own = map->pin_path != NULL && strcmp(path, map->pin_path) == 0;
    int rc = ebpf_unpin(path);
    if (rc == 0 && own)
        map->pinned = false;
    return rc;
}
