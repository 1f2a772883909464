/* Native modules: opening and checking bpf2c's shared objects, and running their programs in the
 * core (instead of the interpreter) or on their own. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core_private.h"
#include "ebpf_elf.h"
#include "ebpf_native.h"
#include "native_run.h"

_Static_assert(EBPF_NATIVE_MAP_BTF == EBPF_ELF_MAP_BTF &&
                   EBPF_NATIVE_MAP_LEGACY == EBPF_ELF_MAP_LEGACY &&
                   EBPF_NATIVE_MAP_GLOBAL_DATA == EBPF_ELF_MAP_GLOBAL_DATA,
               "map origins mean the same in modules and ELF objects");
_Static_assert(EBPF_NATIVE_FRAME_SIZE == EBPF_EXEC_FRAME_SIZE &&
                   EBPF_NATIVE_MAX_CALL_FRAMES == EBPF_EXEC_MAX_CALL_FRAMES,
               "native code has the interpreter's stack");
_Static_assert(sizeof(struct bpf_insn) == 8, "instructions are 8 bytes in the table");

/* The native code of one program of an attached module. */

struct ebpf_native_module {
    char *name;
    void *handle;
    struct link_map *link_map; /* what dladdr reports for addresses inside the module */
    const ebpf_native_module_metadata_t *metadata;
    /* Set while attached to an object (by one thread: the object's owner). */
    bool attached;
    ebpf_program_t **programs; /* a reference each */
    core_native_program_t **native;
    uint64_t *maps;
    uint64_t *map_values;
    ebpf_native_array_t *arrays; /* layouts of the array maps, for inlined lookups */
};

struct ebpf_native_program {
    const ebpf_native_module_t *module;
    const ebpf_native_program_metadata_t *metadata;
    ebpf_helper_resolver_t resolve;
    void *resolver_context;
    ebpf_helper_function_t helpers[];
};

/* ------------------------------------------------------------------------------------------
 * Native runs: what tail-call helpers reach on the running thread.
 * ------------------------------------------------------------------------------------------ */

EBPF_HOT_THREAD_LOCAL core_native_run_t *core_current_native_run;

int ebpf_native_tail_call_request(const void *target)
{
    core_native_run_t *run = core_current_native_run;

    if (run == NULL)
        return ebpf_error(-EINVAL, "tail call requested while no native program runs");
    if (target == NULL)
        return ebpf_error(-EINVAL, "tail call to no program");
    if (run->tail_call_target != NULL)
        return ebpf_error(-EBUSY, "a tail call is already pending");
    if (run->tail_calls_taken >= EBPF_EXEC_MAX_TAIL_CALLS)
        return ebpf_error(-E2BIG, "the invocation already made %u tail calls",
                          EBPF_EXEC_MAX_TAIL_CALLS);
    run->tail_call_target = target;
    return 0;
}

bool ebpf_native_run_active(void)
{
    return core_current_native_run != NULL;
}

static bool tail_call_requested(void)
{
    return core_current_native_run != NULL && core_current_native_run->tail_call_target != NULL;
}

__attribute__((noinline, cold)) int core_native_failure(int rc, const char *name,
                                                        uint32_t instruction)
{
    switch (rc) {
    case -EOVERFLOW:
        return ebpf_error(rc, "%s: instruction %u: local call exceeds %u call levels", name,
                          instruction, EBPF_NATIVE_MAX_CALL_FRAMES);
    case -ENOENT:
        return ebpf_error(rc, "%s: instruction %u: callx of a helper id this program cannot call",
                          name, instruction);
    default:
        return ebpf_error(rc < 0 ? rc : -EINVAL, "%s: instruction %u: native code failed (%d)",
                          name, instruction, rc);
    }
}

/* ------------------------------------------------------------------------------------------
 * Opening a module and checking its table.
 * ------------------------------------------------------------------------------------------ */

bool ebpf_native_is_shared_object(const void *data, size_t size)
{
    Elf64_Ehdr header;

    if (data == NULL || size < sizeof(header))
        return false;
    memcpy(&header, data, sizeof(header));
    return memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 && header.e_ident[EI_CLASS] == ELFCLASS64 &&
           header.e_type == ET_DYN;
}

/* True when [address, address + size) lies in the module's own mapping. */
static bool inside_module(const ebpf_native_module_t *module, const void *address, size_t size)
{
    Dl_info info;
    struct link_map *map = NULL;

    if (address == NULL)
        return false;
    if (dladdr1(address, &info, (void **)&map, RTLD_DL_LINKMAP) == 0 || map != module->link_map)
        return false;
    if (size <= 1)
        return true;
    map = NULL;
    return dladdr1((const uint8_t *)address + size - 1, &info, (void **)&map, RTLD_DL_LINKMAP) !=
               0 &&
           map == module->link_map;
}

static int check_string(const ebpf_native_module_t *module, const char *text, const char *what,
                        uint32_t index)
{
    if (!inside_module(module, text, 1) ||
        strnlen(text, EBPF_NATIVE_MAX_NAME) == EBPF_NATIVE_MAX_NAME)
        return ebpf_error(-EINVAL, "native module %s: %s %u has no valid name", module->name, what,
                          index);
    return 0;
}

static int check_array(const ebpf_native_module_t *module, const void *array, size_t count,
                       size_t element, const char *what, const char *owner)
{
    if (count == 0)
        return 0;
    if (!inside_module(module, array, count * element))
        return ebpf_error(-EINVAL,
                          "native module %s: %s: the %s table (%zu entries) lies outside "
                          "the module",
                          module->name, owner, what, count);
    return 0;
}

static const ebpf_native_program_metadata_t *program_at(const ebpf_native_module_metadata_t *table,
                                                        uint32_t index)
{
    return (const ebpf_native_program_metadata_t *)((const uint8_t *)table->programs +
                                                    (size_t)index * table->program_metadata_size);
}

static const ebpf_native_map_metadata_t *map_at(const ebpf_native_module_metadata_t *table,
                                                uint32_t index)
{
    return (const ebpf_native_map_metadata_t *)((const uint8_t *)table->maps +
                                                (size_t)index * table->map_metadata_size);
}

static int check_program(const ebpf_native_module_t *module, uint32_t index)
{
    const ebpf_native_module_metadata_t *table = module->metadata;
    const ebpf_native_program_metadata_t *program = program_at(table, index);
    int rc;

    if ((rc = check_string(module, program->name, "program", index)) != 0 ||
        (rc = check_string(module, program->section_name, "program section", index)) != 0)
        return rc;
    if (program->instruction_count == 0 ||
        program->instruction_count > EBPF_NATIVE_MAX_INSTRUCTIONS ||
        program->helper_count > EBPF_NATIVE_MAX_PROGRAM_HELPERS ||
        program->map_count > table->map_count)
        return ebpf_error(-EINVAL,
                          "native module %s: program %s: %u instructions, %u helpers, %u maps "
                          "(damaged table)",
                          module->name, program->name, program->instruction_count,
                          program->helper_count, program->map_count);
    if ((rc = check_array(module, program->instructions, program->instruction_count, 8,
                          "instruction", program->name)) != 0 ||
        (rc = check_array(module, program->helper_ids, program->helper_count, sizeof(uint32_t),
                          "helper", program->name)) != 0 ||
        (rc = check_array(module, program->map_indexes, program->map_count, sizeof(uint32_t), "map",
                          program->name)) != 0)
        return rc;
    for (uint32_t i = 0; i < program->map_count; i++) {
        if (program->map_indexes[i] >= table->map_count)
            return ebpf_error(-EINVAL, "native module %s: program %s references map %u of %u",
                              module->name, program->name, program->map_indexes[i],
                              table->map_count);
    }
    if (!inside_module(module, (const void *)(uintptr_t)program->entry, 1))
        return ebpf_error(-EINVAL,
                          "native module %s: program %s: its entry function lies outside the "
                          "module",
                          module->name, program->name);
    return 0;
}

static int check_map_definition(const ebpf_native_module_t *module,
                                const ebpf_native_map_metadata_t *map, uint32_t index)
{
    const ebpf_native_module_metadata_t *table = module->metadata;
    int rc;

    if ((rc = check_string(module, map->name, "map", index)) != 0 ||
        (rc = check_string(module, map->section_name, "map section", index)) != 0)
        return rc;
    if (map->origin < EBPF_NATIVE_MAP_BTF || map->origin > EBPF_NATIVE_MAP_GLOBAL_DATA ||
        map->inner_map_index < -1 || map->inner_map_index >= (int32_t)table->map_count ||
        (map->initial_data_size != 0 && map->initial_data_size != map->value_size))
        return ebpf_error(-EINVAL, "native module %s: map %s: damaged definition", module->name,
                          map->name);
    if ((rc = check_array(module, map->initial_data, map->initial_data_size, 1, "initial data",
                          map->name)) != 0 ||
        (rc = check_array(module, map->initial_values, map->initial_value_count,
                          sizeof(ebpf_native_map_slot_t), "initial value", map->name)) != 0)
        return rc;
    uint32_t targets =
        map->type == BPF_MAP_TYPE_PROG_ARRAY ? table->program_count : table->map_count;
    for (uint32_t i = 0; i < map->initial_value_count; i++) {
        if (map->initial_values[i].target_index >= targets)
            return ebpf_error(-EINVAL, "native module %s: map %s: slot %u names %u of %u",
                              module->name, map->name, map->initial_values[i].key,
                              map->initial_values[i].target_index, targets);
    }
    return 0;
}

static int check_map(const ebpf_native_module_t *module, uint32_t index)
{
    const ebpf_native_map_metadata_t *map = map_at(module->metadata, index);
    int rc = check_map_definition(module, map, index);

    if (rc == 0 && map->inner_map != NULL) {
        if (!inside_module(module, map->inner_map, sizeof(*map->inner_map)) ||
            map->inner_map->inner_map != NULL || map->inner_map->initial_value_count != 0)
            return ebpf_error(-EINVAL, "native module %s: map %s: damaged inner map", module->name,
                              map->name);
        rc = check_map_definition(module, map->inner_map, index);
    }
    return rc;
}

/* symbol_size: what the ELF symbol table says the table holds. */
static int check_table(const ebpf_native_module_t *module, size_t symbol_size)
{
    const ebpf_native_module_metadata_t *table = module->metadata;
    const size_t header = offsetof(ebpf_native_module_metadata_t, program_metadata_size);
    int rc;

    if (symbol_size < header)
        return ebpf_error(-EINVAL,
                          "native module %s: truncated metadata table: %s holds %zu bytes, "
                          "not even a header",
                          module->name, EBPF_NATIVE_METADATA_SYMBOL, symbol_size);
    if (table->magic != EBPF_NATIVE_MAGIC)
        return ebpf_error(-EINVAL,
                          "native module %s: %s is not a bpf2c metadata table (wrong magic "
                          "number)",
                          module->name, EBPF_NATIVE_METADATA_SYMBOL);
    if (table->version != EBPF_NATIVE_FORMAT_VERSION)
        return ebpf_error(-EINVAL,
                          "native module %s: metadata format version %u, but this loader reads "
                          "version %d: translate the program again with this bpf2c",
                          module->name, table->version, EBPF_NATIVE_FORMAT_VERSION);
    /* Nothing past the header is read before the symbol is known to hold it. */
    if (table->size < sizeof(*table) || table->size > symbol_size)
        return ebpf_error(-EINVAL,
                          "native module %s: truncated metadata table: the table says %u bytes, "
                          "the symbol holds %zu, and format %d needs %zu",
                          module->name, table->size, symbol_size, EBPF_NATIVE_FORMAT_VERSION,
                          sizeof(*table));
    if (table->program_metadata_size < sizeof(ebpf_native_program_metadata_t) ||
        table->map_metadata_size < sizeof(ebpf_native_map_metadata_t))
        return ebpf_error(-EINVAL,
                          "native module %s: truncated metadata table: entries of %u bytes per "
                          "program and %u per map, format %d needs %zu and %zu",
                          module->name, table->program_metadata_size, table->map_metadata_size,
                          EBPF_NATIVE_FORMAT_VERSION, sizeof(ebpf_native_program_metadata_t),
                          sizeof(ebpf_native_map_metadata_t));
    if (table->program_count == 0 || table->program_count > EBPF_NATIVE_MAX_PROGRAMS ||
        table->map_count > EBPF_NATIVE_MAX_MAPS)
        return ebpf_error(-EINVAL, "native module %s: %u programs and %u maps (damaged table)",
                          module->name, table->program_count, table->map_count);
    if ((rc = check_string(module, table->name, "module", 0)) != 0 ||
        (table->license != NULL && (rc = check_string(module, table->license, "license", 0)) != 0))
        return rc;
    if ((rc = check_array(module, table->programs, table->program_count,
                          table->program_metadata_size, "program", "module")) != 0 ||
        (rc = check_array(module, table->maps, table->map_count, table->map_metadata_size, "map",
                          "module")) != 0)
        return rc;
    for (uint32_t i = 0; i < table->program_count && rc == 0; i++)
        rc = check_program(module, i);
    for (uint32_t i = 0; i < table->map_count && rc == 0; i++)
        rc = check_map(module, i);
    return rc;
}

/* dlopens path (named name in messages) and checks its table. */
static int open_module(const char *path, const char *name, ebpf_native_module_t **out)
{
    ebpf_native_module_t *module = ebpf_allocate(sizeof(*module));
    const ElfW(Sym) *symbol = NULL;
    Dl_info info;
    void *address;
    int rc;

    if (module == NULL || (module->name = ebpf_strdup(name)) == NULL) {
        ebpf_free(module);
        return ebpf_error(-ENOMEM, "native module %s: out of memory", name);
    }
    module->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (module->handle == NULL) {
        rc = ebpf_error(-EINVAL, "native module %s: cannot load it: %s", name, dlerror());
        goto failed;
    }
    if (dlinfo(module->handle, RTLD_DI_LINKMAP, &module->link_map) != 0) {
        rc = ebpf_error(-EINVAL, "native module %s: %s", name, dlerror());
        goto failed;
    }
    address = dlsym(module->handle, EBPF_NATIVE_METADATA_SYMBOL);
    if (address == NULL || !inside_module(module, address, 1) ||
        dladdr1(address, &info, (void **)&symbol, RTLD_DL_SYMENT) == 0 || symbol == NULL) {
        rc = ebpf_error(-EINVAL,
                        "native module %s: not a native eBPF module: it exports no %s (build it "
                        "with bpf2c)",
                        name, EBPF_NATIVE_METADATA_SYMBOL);
        goto failed;
    }
    module->metadata = address;
    rc = check_table(module, symbol->st_size);
    if (rc != 0)
        goto failed;
    *out = module;
    return 0;

failed:
    if (module->handle != NULL)
        dlclose(module->handle);
    ebpf_free(module->name);
    ebpf_free(module);
    return rc;
}

int ebpf_native_module_open(const char *path, ebpf_native_module_t **module)
{
    Elf64_Ehdr header;
    ssize_t got;
    int fd;

    if (path == NULL || module == NULL)
        return ebpf_error(-EINVAL, "native module: no path");
    *module = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -ENOEXEC; /* The BPF object loader reports on files it cannot read. */
    got = read(fd, &header, sizeof(header));
    close(fd);
    if (got != (ssize_t)sizeof(header) || !ebpf_native_is_shared_object(&header, sizeof(header)))
        return -ENOEXEC;
    return open_module(path, path, module);
}

int ebpf_native_module_open_memory(const void *data, size_t size, const char *name,
                                   ebpf_native_module_t **module)
{
    char path[64];
    size_t done = 0;
    int fd, rc;

    if (module == NULL)
        return ebpf_error(-EINVAL, "native module: nowhere to return it");
    *module = NULL;
    if (name == NULL)
        name = "<memory>";
    if (!ebpf_native_is_shared_object(data, size))
        return -ENOEXEC;
    /* dlopen wants a file: a memory file, which goes away with its last mapping. */
    fd = memfd_create("ebpf_native_module", MFD_CLOEXEC);
    if (fd < 0)
        return ebpf_error(-errno, "native module %s: memory file: %s", name, strerror(errno));
    while (done < size) {
        ssize_t wrote = write(fd, (const uint8_t *)data + done, size - done);
        if (wrote <= 0) {
            rc = wrote < 0 ? -errno : -EIO;
            close(fd);
            return ebpf_error(rc, "native module %s: writing the memory file: %s", name,
                              strerror(-rc));
        }
        done += (size_t)wrote;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    rc = open_module(path, name, module);
    close(fd);
    return rc;
}

void ebpf_native_module_close(ebpf_native_module_t *module)
{
    if (module == NULL)
        return;
    ebpf_native_module_detach(module);
    /* No program runs the code any more (detach waited), so it may go. */
    dlclose(module->handle);
    ebpf_free(module->name);
    ebpf_free(module);
}

const ebpf_native_module_metadata_t *
ebpf_native_module_get_metadata(const ebpf_native_module_t *module)
{
    return module->metadata;
}

const char *ebpf_native_module_get_name(const ebpf_native_module_t *module)
{
    return module->name;
}

/* ------------------------------------------------------------------------------------------
 * The module as an ELF object description.
 * ------------------------------------------------------------------------------------------ */

static int describe_program(const ebpf_native_program_metadata_t *from, ebpf_elf_program_t *to)
{
    const struct bpf_insn *code;
    size_t relocations = 0;

    to->section_name = ebpf_strdup(from->section_name);
    to->function_name = ebpf_strdup(from->name);
    to->instructions = ebpf_allocate_array(from->instruction_count, sizeof(struct bpf_insn));
    to->functions = ebpf_allocate(sizeof(*to->functions));
    if (to->section_name == NULL || to->function_name == NULL || to->instructions == NULL ||
        to->functions == NULL)
        return -ENOMEM;
    memcpy(to->instructions, from->instructions, (size_t)from->instruction_count * 8);
    to->instruction_count = from->instruction_count;
    to->function_count = 1;
    to->functions[0] =
        (ebpf_elf_linked_function_t){ebpf_strdup(from->name), 0, from->instruction_count};
    if (to->functions[0].name == NULL)
        return -ENOMEM;
    code = to->instructions;
    for (uint32_t pc = 0; pc + 1 < from->instruction_count; pc++) {
        if (code[pc].code == (BPF_LD | BPF_IMM | BPF_DW) &&
            (code[pc].src_reg == BPF_PSEUDO_MAP_FD || code[pc].src_reg == BPF_PSEUDO_MAP_VALUE))
            relocations++;
    }
    if (relocations == 0)
        return 0;
    to->relocations = ebpf_allocate_array(relocations, sizeof(*to->relocations));
    if (to->relocations == NULL)
        return -ENOMEM;
    for (uint32_t pc = 0; pc + 1 < from->instruction_count; pc++) {
        if (code[pc].code != (BPF_LD | BPF_IMM | BPF_DW))
            continue;
        if (code[pc].src_reg == BPF_PSEUDO_MAP_FD || code[pc].src_reg == BPF_PSEUDO_MAP_VALUE)
            to->relocations[to->relocation_count++] = (ebpf_elf_relocation_t){
                .instruction_index = pc,
                .kind = code[pc].src_reg == BPF_PSEUDO_MAP_FD ? EBPF_ELF_RELOCATION_MAP_FD
                                                              : EBPF_ELF_RELOCATION_MAP_VALUE,
                .map_index = (uint32_t)code[pc].imm,
                .value_offset =
                    code[pc].src_reg == BPF_PSEUDO_MAP_FD ? 0 : (uint32_t)code[pc + 1].imm,
            };
        pc++;
    }
    return 0;
}

static int describe_map(const ebpf_native_map_metadata_t *from, ebpf_elf_map_t *to)
{
    *to = (ebpf_elf_map_t){
        .origin = (ebpf_elf_map_origin_t)from->origin,
        .type = from->type,
        .key_size = from->key_size,
        .value_size = from->value_size,
        .max_entries = from->max_entries,
        .map_flags = from->map_flags,
        .pinning = from->pinning,
        .inner_map_index = from->inner_map_index,
        .read_only = from->read_only,
    };
    to->name = ebpf_strdup(from->name);
    to->section_name = ebpf_strdup(from->section_name);
    if (to->name == NULL || to->section_name == NULL)
        return -ENOMEM;
    if (from->initial_value_count != 0) {
        to->initial_values =
            ebpf_allocate_array(from->initial_value_count, sizeof(*to->initial_values));
        if (to->initial_values == NULL)
            return -ENOMEM;
        for (uint32_t i = 0; i < from->initial_value_count; i++)
            to->initial_values[i] = (ebpf_elf_map_initial_value_t){
                from->initial_values[i].key, from->initial_values[i].target_index};
        to->initial_value_count = from->initial_value_count;
    }
    if (from->initial_data_size != 0) {
        to->initial_data = ebpf_allocate(from->initial_data_size);
        if (to->initial_data == NULL)
            return -ENOMEM;
        memcpy(to->initial_data, from->initial_data, from->initial_data_size);
        to->initial_data_size = from->initial_data_size;
    }
    if (from->inner_map != NULL) {
        to->inner_map = ebpf_allocate(sizeof(*to->inner_map));
        if (to->inner_map == NULL)
            return -ENOMEM;
        return describe_map(from->inner_map, to->inner_map);
    }
    return 0;
}

int ebpf_native_module_describe(const ebpf_native_module_t *module, ebpf_elf_object_t **out)
{
    const ebpf_native_module_metadata_t *table = module->metadata;
    ebpf_elf_object_t *elf = ebpf_allocate(sizeof(*elf));
    int rc = 0;

    if (elf == NULL)
        return ebpf_error(-ENOMEM, "native module %s: out of memory", module->name);
    elf->name = ebpf_strdup(module->name);
    elf->license = ebpf_strdup(table->license != NULL ? table->license : "");
    elf->programs = ebpf_allocate_array(table->program_count, sizeof(*elf->programs));
    elf->maps = ebpf_allocate_array(table->map_count ? table->map_count : 1, sizeof(*elf->maps));
    if (elf->name == NULL || elf->license == NULL || elf->programs == NULL || elf->maps == NULL)
        rc = -ENOMEM;
    /* Counts grow with each entry, so ebpf_elf_free releases exactly what exists. */
    for (uint32_t i = 0; i < table->program_count && rc == 0; i++) {
        elf->program_count++;
        rc = describe_program(program_at(table, i), &elf->programs[i]);
    }
    for (uint32_t i = 0; i < table->map_count && rc == 0; i++) {
        elf->map_count++;
        rc = describe_map(map_at(table, i), &elf->maps[i]);
    }
    if (rc != 0) {
        ebpf_elf_free(elf);
        return ebpf_error(rc, "native module %s: out of memory", module->name);
    }
    *out = elf;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * The program-information hash.
 * ------------------------------------------------------------------------------------------ */

typedef struct hash_buffer {
    uint8_t *bytes;
    size_t used;
    size_t capacity;
    bool failed;
} hash_buffer_t;

static void put_bytes(hash_buffer_t *buffer, const void *data, size_t size)
{
    if (buffer->failed)
        return;
    if (buffer->used + size > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity * 2 : 256;
        while (capacity < buffer->used + size)
            capacity *= 2;
        uint8_t *grown = ebpf_reallocate(buffer->bytes, capacity);
        if (grown == NULL) {
            buffer->failed = true;
            return;
        }
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->used, data, size);
    buffer->used += size;
}

/* Fixed-width little-endian integers, so the hash does not depend on the host. */
static void put_u32(hash_buffer_t *buffer, uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                        (uint8_t)(value >> 24)};
    put_bytes(buffer, bytes, sizeof(bytes));
}

static void put_string(hash_buffer_t *buffer, const char *text)
{
    size_t length = text != NULL ? strlen(text) : 0;
    put_u32(buffer, (uint32_t)length);
    put_bytes(buffer, text, length);
}

static void put_guid(hash_buffer_t *buffer, const ebpf_guid_t *guid)
{
    put_u32(buffer, guid->data1);
    put_u32(buffer, (uint32_t)guid->data2 | (uint32_t)guid->data3 << 16);
    put_bytes(buffer, guid->data4, sizeof(guid->data4));
}

const ebpf_helper_prototype_t *ebpf_native_find_helper_prototype(void *context, uint32_t id)
{
    const ebpf_program_info_t *info = context;

    for (uint32_t i = 0; info != NULL && i < info->count_of_program_type_specific_helpers; i++) {
        if (info->program_type_specific_helper_prototype[i].id == id)
            return &info->program_type_specific_helper_prototype[i];
    }
    for (uint32_t i = 0; info != NULL && i < info->count_of_global_helpers; i++) {
        if (info->global_helper_prototype[i].id == id)
            return &info->global_helper_prototype[i];
    }
    return ebpf_core_find_general_helper(id, NULL);
}

int ebpf_native_program_info_hash(const ebpf_program_info_t *info, const uint32_t *helper_ids,
                                  uint32_t helper_count, ebpf_native_helper_lookup_t find_helper,
                                  void *find_helper_context, uint8_t hash[EBPF_NATIVE_HASH_SIZE])
{
    static const char prefix[] = "ebpf-native-program-info-1";
    hash_buffer_t buffer = {0};
    uint32_t *sorted = NULL;
    unsigned int size = 0;
    int rc = 0;

    put_bytes(&buffer, prefix, sizeof(prefix));
    if (info != NULL && info->program_type_descriptor != NULL) {
        const ebpf_program_type_descriptor_t *type = info->program_type_descriptor;
        put_u32(&buffer, 1);
        put_string(&buffer, type->name);
        put_guid(&buffer, &type->program_type);
        put_u32(&buffer, type->bpf_prog_type);
        put_u32(&buffer, type->is_privileged ? 1 : 0);
        const ebpf_context_descriptor_t *context = type->context_descriptor;
        put_u32(&buffer, context != NULL ? (uint32_t)context->size : 0);
        put_u32(&buffer, context != NULL ? (uint32_t)context->data : UINT32_MAX);
        put_u32(&buffer, context != NULL ? (uint32_t)context->end : UINT32_MAX);
        put_u32(&buffer, context != NULL ? (uint32_t)context->meta : UINT32_MAX);
    } else {
        put_u32(&buffer, 0);
    }
    if (helper_count != 0) {
        sorted = ebpf_allocate_array(helper_count, sizeof(*sorted));
        if (sorted == NULL) {
            ebpf_free(buffer.bytes);
            return ebpf_error(-ENOMEM, "program information hash: out of memory");
        }
        memcpy(sorted, helper_ids, helper_count * sizeof(*sorted));
        for (uint32_t i = 1; i < helper_count; i++) {
            for (uint32_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                uint32_t swap = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = swap;
            }
        }
    }
    put_u32(&buffer, helper_count);
    for (uint32_t i = 0; i < helper_count; i++) {
        const ebpf_helper_prototype_t *prototype =
            find_helper != NULL ? find_helper(find_helper_context, sorted[i]) : NULL;
        put_u32(&buffer, sorted[i]);
        if (prototype == NULL) {
            put_u32(&buffer, 0);
            continue;
        }
        put_u32(&buffer, 1);
        put_string(&buffer, prototype->name);
        put_u32(&buffer, (uint32_t)prototype->return_type);
        for (size_t a = 0; a < EBPF_ARRAY_SIZE(prototype->arguments); a++)
            put_u32(&buffer, (uint32_t)prototype->arguments[a]);
        put_u32(&buffer, prototype->changes_packet ? 1 : 0);
        put_u32(&buffer, prototype->is_tail_call ? 1 : 0);
    }
    ebpf_free(sorted);
    if (buffer.failed)
        rc = ebpf_error(-ENOMEM, "program information hash: out of memory");
    else if (EVP_Digest(buffer.bytes, buffer.used, hash, &size, EVP_sha256(), NULL) != 1 ||
             size != EBPF_NATIVE_HASH_SIZE)
        rc = ebpf_error(-EIO, "program information hash: SHA-256 failed");
    ebpf_free(buffer.bytes);
    return rc;
}

static void hash_text(const uint8_t hash[EBPF_NATIVE_HASH_SIZE], char text[17])
{
    /* The first 8 bytes are enough to tell two hashes apart in a message. */
    for (int i = 0; i < 8; i++)
        snprintf(text + 2 * i, 3, "%02x", hash[i]);
}

/* ------------------------------------------------------------------------------------------
 * Attached to a core object.
 * ------------------------------------------------------------------------------------------ */

/* bpf_tail_call for native code: the core's checks, then the native run's request (the core's
 * own helper asks the interpreter's run, which native code does not have). */
static uint64_t native_tail_call(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    ebpf_map_t *map = (ebpf_map_t *)(uintptr_t)r2;
    core_run_t *run = core_run_current();
    const ebpf_program_t *target;

    if (map == NULL || !core_run_knows_map(run, map) ||
        ebpf_map_get_definition(map)->type != BPF_MAP_TYPE_PROG_ARRAY)
        return (uint64_t)-EINVAL;
    target = ebpf_map_get_program(map, (uint32_t)r3);
    if (target == NULL)
        return (uint64_t)-ENOENT;
    /* A tail call stays within one program type (the context means the same thing). */
    if (run != NULL && !ebpf_guid_equal(&target->program_type, &run->program->program_type))
        return (uint64_t)-EINVAL;
    return (uint64_t)(int64_t)ebpf_native_tail_call_request(target);
}

static ebpf_helper_function_t core_find_helper(const ebpf_native_runtime_t *runtime, uint64_t id)
{
    const core_native_program_t *native = runtime->owner;
    ebpf_helper_function_t function = NULL;

    for (uint32_t i = 0; i < native->metadata->helper_count; i++) {
        if (native->metadata->helper_ids[i] == id)
            return native->helpers[i];
    }
    if (id > UINT32_MAX || ebpf_core_find_general_helper((uint32_t)id, &function) == NULL)
        return NULL;
    return id == BPF_FUNC_tail_call ? native_tail_call : function;
}

/* The prototype a program of the bound type sees for id (read under an epoch section). */
static const ebpf_helper_prototype_t *bound_helper(void *context, uint32_t id)
{
    return ebpf_native_find_helper_prototype(context, id);
}

static int check_hash(const ebpf_native_module_t *module, ebpf_program_t *program,
                      const ebpf_native_program_metadata_t *metadata)
{
    uint8_t hash[EBPF_NATIVE_HASH_SIZE];
    char built[17], now[17];
    const char *type_name = "(general helpers only)";
    int rc;

    /* The extension may unbind meanwhile: its information stays valid inside the section. */
    ebpf_epoch_enter();
    program_binding_t *binding = ebpf_epoch_dereference(&program->binding);
    const ebpf_program_info_t *info = binding != NULL ? binding->data->program_info : NULL;
    if (info != NULL && info->program_type_descriptor->name != NULL)
        type_name = info->program_type_descriptor->name;
    rc = ebpf_native_program_info_hash(info, metadata->helper_ids, metadata->helper_count,
                                       bound_helper, (void *)info, hash);
    if (rc == 0 && memcmp(hash, metadata->program_info_hash, sizeof(hash)) != 0) {
        hash_text(metadata->program_info_hash, built);
        hash_text(hash, now);
        rc = ebpf_error(-EINVAL,
                        "native module %s: program %s was verified against other program "
                        "information than program type %s has now (hash %s... at translation, "
                        "%s... now): the extension changed since verification; translate the "
                        "program again with bpf2c",
                        module->name, metadata->name, type_name, built, now);
    }
    ebpf_epoch_exit();
    return rc;
}

static int build_native(ebpf_native_module_t *module, ebpf_program_t *program,
                        const ebpf_native_program_metadata_t *metadata, core_native_program_t **out)
{
    core_native_program_t *native;
    ebpf_helper_function_t general_tail_call = NULL;
    int rc = check_hash(module, program, metadata);

    if (rc != 0)
        return rc;
    if (strcmp(ebpf_program_get_name(program), metadata->name) != 0)
        return ebpf_error(-EINVAL, "native module %s: program %s stands where %s should be",
                          module->name, ebpf_program_get_name(program), metadata->name);
    native = ebpf_allocate(sizeof(*native) + metadata->helper_count * sizeof(native->helpers[0]));
    if (native == NULL)
        return ebpf_error(-ENOMEM, "native module %s: out of memory", module->name);
    ebpf_core_find_general_helper(BPF_FUNC_tail_call, &general_tail_call);
    for (uint32_t i = 0; i < metadata->helper_count; i++) {
        ebpf_helper_function_t function = NULL;
        /* The slots the interpreter's preparation made: trampolines for the type's helpers,
         * so the extension can come and go under the program. */
        if (core_resolve_helper(program, metadata->helper_ids[i], &function) == NULL ||
            function == NULL) {
            ebpf_free(native);
            return ebpf_error(-EINVAL, "native module %s: program %s: helper %u is not available",
                              module->name, metadata->name, metadata->helper_ids[i]);
        }
        native->helpers[i] = function == general_tail_call ? native_tail_call : function;
    }
    native->entry = metadata->entry;
    native->metadata = metadata;
    native->runtime = (ebpf_native_runtime_t){
        .helpers = native->helpers,
        .maps = module->maps,
        .map_values = module->map_values,
        .find_helper = core_find_helper,
        .tail_call_requested = tail_call_requested,
        .owner = native,
        .arrays = module->arrays,
        .cpu_claimed = ebpf_cpu_claimed,
    };
    *out = native;
    return 0;
}

static void release_attachment(ebpf_native_module_t *module, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        ebpf_free(module->native[i]);
        if (module->programs[i] != NULL)
            ebpf_program_release(module->programs[i]);
    }
    ebpf_free(module->native);
    ebpf_free(module->programs);
    ebpf_free(module->maps);
    ebpf_free(module->map_values);
    ebpf_free(module->arrays);
    module->native = NULL;
    module->programs = NULL;
    module->maps = NULL;
    module->map_values = NULL;
    module->arrays = NULL;
}

int ebpf_native_module_attach(ebpf_native_module_t *module, ebpf_program_t *const *programs,
                              size_t program_count, ebpf_map_t *const *maps, size_t map_count)
{
    const ebpf_native_module_metadata_t *table;
    uint32_t built = 0;
    int rc = 0;

    if (module == NULL || programs == NULL || (map_count != 0 && maps == NULL))
        return ebpf_error(-EINVAL, "native module: nothing to attach");
    table = module->metadata;
    if (module->attached)
        return ebpf_error(-EALREADY,
                          "native module %s is loaded already: a module cannot be loaded twice "
                          "into the same object",
                          module->name);
    if (program_count != table->program_count || map_count != table->map_count)
        return ebpf_error(
            -EINVAL, "native module %s has %u programs and %u maps, the object %zu and %zu",
            module->name, table->program_count, table->map_count, program_count, map_count);
    module->programs = ebpf_allocate_array(table->program_count, sizeof(*module->programs));
    module->native = ebpf_allocate_array(table->program_count, sizeof(*module->native));
    module->maps = ebpf_allocate_array(table->map_count ? table->map_count : 1, sizeof(uint64_t));
    module->map_values =
        ebpf_allocate_array(table->map_count ? table->map_count : 1, sizeof(uint64_t));
    module->arrays =
        ebpf_allocate_array(table->map_count ? table->map_count : 1, sizeof(*module->arrays));
    if (module->programs == NULL || module->native == NULL || module->maps == NULL ||
        module->map_values == NULL || module->arrays == NULL) {
        release_attachment(module, 0);
        return ebpf_error(-ENOMEM, "native module %s: out of memory", module->name);
    }
    for (uint32_t m = 0; m < table->map_count; m++) {
        module->maps[m] = (uint64_t)(uintptr_t)maps[m];
        module->map_values[m] = (uint64_t)(uintptr_t)ebpf_map_array_value_address(maps[m], 0);
        /* The map the object gave, whatever the module declared (a pinned map it reused may
         * differ): arrays get a layout, others a NULL base, so their lookups call the helper. */
        uint32_t type = ebpf_map_get_definition(maps[m])->type;
        ebpf_array_layout_t layout;
        if ((type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY) &&
            ebpf_map_array_layout(maps[m], &layout) == 0)
            module->arrays[m] =
                (ebpf_native_array_t){layout.base, layout.value_stride, layout.cpu_stride,
                                      layout.max_entries, layout.cpu_count};
    }
    for (; built < table->program_count && rc == 0; built++)
        rc =
            build_native(module, programs[built], program_at(table, built), &module->native[built]);
    if (rc != 0) {
        release_attachment(module, built);
        return rc;
    }
    for (uint32_t p = 0; p < table->program_count; p++) {
        module->programs[p] = programs[p];
        ebpf_program_acquire(module->programs[p]);
        ebpf_epoch_publish(&module->programs[p]->native, module->native[p]);
    }
    module->attached = true;
    return 0;
}

void ebpf_native_module_detach(ebpf_native_module_t *module)
{
    if (module == NULL || !module->attached)
        return;
    for (uint32_t p = 0; p < module->metadata->program_count; p++)
        ebpf_epoch_publish(&module->programs[p]->native, NULL);
    /* Invocations that read the code before it was unpublished end inside their read
     * section: after this, none runs in the module. */
    ebpf_epoch_synchronize();
    release_attachment(module, module->metadata->program_count);
    module->attached = false;
}

bool ebpf_native_module_is_attached(const ebpf_native_module_t *module)
{
    return module != NULL && module->attached;
}

/* ------------------------------------------------------------------------------------------
 * Standalone programs.
 * ------------------------------------------------------------------------------------------ */

static ebpf_helper_function_t standalone_find_helper(const ebpf_native_runtime_t *runtime,
                                                     uint64_t id)
{
    const ebpf_native_program_t *program = runtime->owner;
    ebpf_helper_function_t function = NULL;

    for (uint32_t i = 0; i < program->metadata->helper_count; i++) {
        if (program->metadata->helper_ids[i] == id)
            return program->helpers[i];
    }
    if (id > UINT32_MAX || program->resolve == NULL ||
        program->resolve(program->resolver_context, (uint32_t)id, &function) == NULL)
        return NULL;
    return function;
}

int ebpf_native_program_create(const ebpf_native_module_t *module, uint32_t program_index,
                               ebpf_helper_resolver_t resolve, void *resolver_context,
                               ebpf_native_program_t **out)
{
    const ebpf_native_program_metadata_t *metadata;
    ebpf_native_program_t *program;

    if (module == NULL || out == NULL || program_index >= module->metadata->program_count)
        return ebpf_error(-EINVAL, "native program: no program %u", program_index);
    metadata = program_at(module->metadata, program_index);
    program =
        ebpf_allocate(sizeof(*program) + metadata->helper_count * sizeof(program->helpers[0]));
    if (program == NULL)
        return ebpf_error(-ENOMEM, "native program %s: out of memory", metadata->name);
    *program = (ebpf_native_program_t){module, metadata, resolve, resolver_context};
    for (uint32_t i = 0; i < metadata->helper_count; i++) {
        if (resolve == NULL ||
            resolve(resolver_context, metadata->helper_ids[i], &program->helpers[i]) == NULL ||
            program->helpers[i] == NULL) {
            ebpf_free(program);
            return ebpf_error(-EINVAL, "native program %s calls helper %u, which is unknown",
                              metadata->name, metadata->helper_ids[i]);
        }
    }
    *out = program;
    return 0;
}

void ebpf_native_program_destroy(ebpf_native_program_t *program)
{
    ebpf_free(program);
}

int ebpf_native_program_run(const ebpf_native_program_t *program, uint64_t r1, uint64_t r2,
                            const uint64_t *maps, const uint64_t *map_values,
                            uint32_t tail_calls_taken, ebpf_exec_result_t *result)
{
    static const uint64_t no_maps[1];

    if (program == NULL || result == NULL)
        return ebpf_error(-EINVAL, "native program: run without a program or a result");
    if (program->metadata->map_count != 0 && maps == NULL)
        return ebpf_error(-EINVAL, "native program %s references maps, but none are given",
                          program->metadata->name);
    ebpf_native_runtime_t runtime = {
        .helpers = program->helpers,
        .maps = maps != NULL ? maps : no_maps,
        .map_values = map_values != NULL ? map_values : no_maps,
        .find_helper = standalone_find_helper,
        .tail_call_requested = tail_call_requested,
        .owner = (void *)program,
    };
    return core_native_run_entry(program->metadata->entry, &runtime, r1, r2, tail_calls_taken,
                                 program->metadata->name, result);
}
