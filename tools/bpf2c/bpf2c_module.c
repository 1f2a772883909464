/* bpf2c: a module of programs (each verified first) into C with its metadata table, and the C
 * into a shared object. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf2c_private.h"
#include "ebpf_platform.h"
#include "ebpf_verifier.h"

extern char **environ;

/* ------------------------------------------------------------------------------------------
 * Verification.
 * ------------------------------------------------------------------------------------------ */

static void verifier_map_of(const ebpf_elf_map_t *from, ebpf_verifier_map_t *to)
{
    *to = (ebpf_verifier_map_t){
        .type = from->type,
        .key_size = from->key_size,
        .value_size = from->value_size,
        .max_entries = from->max_entries,
        .map_flags = from->map_flags | (from->read_only ? BPF_F_RDONLY_PROG : 0),
        .name = from->name,
    };
}

/* maps and inner_maps have module->map_count entries each. */
static void describe_maps(const bpf2c_module_t *module, ebpf_verifier_map_t *maps,
                          ebpf_verifier_map_t *inner_maps)
{
    for (size_t i = 0; i < module->map_count; i++)
        verifier_map_of(&module->maps[i], &maps[i]);
    for (size_t i = 0; i < module->map_count; i++) {
        const ebpf_elf_map_t *map = &module->maps[i];
        if (map->inner_map != NULL) {
            verifier_map_of(map->inner_map, &inner_maps[i]);
            maps[i].inner_map = &inner_maps[i];
        } else if (map->inner_map_index >= 0 && (size_t)map->inner_map_index < module->map_count) {
            maps[i].inner_map = &maps[map->inner_map_index];
        }
    }
}

static int verify_program(const bpf2c_module_t *module, const bpf2c_program_t *program,
                          const ebpf_verifier_map_t *maps)
{
    ebpf_verifier_options_t options = {0};
    ebpf_verifier_result_t result = {0};
    ebpf_verifier_line_info_t *lines = NULL;
    int rc;

    if (program->program_info == NULL)
        return ebpf_error(-EINVAL,
                          "program %s: no program type to verify it against (give one with "
                          "--type, or export its extension's program information to the store)",
                          program->name);
    if (program->line_info != NULL) {
        lines = ebpf_allocate_array(program->instruction_count, sizeof(*lines));
        if (lines == NULL)
            return ebpf_error(-ENOMEM, "program %s: out of memory", program->name);
        for (uint32_t i = 0; i < program->instruction_count; i++)
            lines[i] = (ebpf_verifier_line_info_t){
                program->line_info[i].file_name, program->line_info[i].line_text,
                program->line_info[i].line, program->line_info[i].column};
        options.line_info = lines;
    }
    if (program->find_helper != NULL) {
        options.find_helper = program->find_helper;
        options.find_helper_context = program->find_helper_context;
    } else {
        options.find_helper = ebpf_native_find_helper_prototype;
        options.find_helper_context = (void *)program->program_info;
    }
    rc = ebpf_verify_program(program->instructions, program->instruction_count,
                             program->program_info, maps, (uint32_t)module->map_count, &options,
                             &result);
    ebpf_free(lines);
    if (rc == -EACCES) {
        rc = ebpf_error(-EACCES,
                        "program %s (section \"%s\") is rejected by the verifier; no code is "
                        "emitted:\n%s",
                        program->name, program->section_name ? program->section_name : "",
                        result.log != NULL ? result.log : "(no log)");
    } else if (rc != 0) {
        ebpf_error_prefix(rc, "verifying program %s: ", program->name);
    }
    ebpf_verifier_result_free(&result);
    return rc;
}

static int verify_module(const bpf2c_module_t *module)
{
    size_t count = module->map_count ? module->map_count : 1;
    ebpf_verifier_map_t *maps = ebpf_allocate_array(count, sizeof(*maps));
    ebpf_verifier_map_t *inner_maps = ebpf_allocate_array(count, sizeof(*inner_maps));
    int rc = 0;

    if (maps == NULL || inner_maps == NULL) {
        rc = ebpf_error(-ENOMEM, "%s: out of memory", module->name);
    } else {
        describe_maps(module, maps, inner_maps);
        for (size_t p = 0; p < module->program_count && rc == 0; p++)
            rc = verify_program(module, &module->programs[p], maps);
    }
    ebpf_free(maps);
    ebpf_free(inner_maps);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Metadata tables.
 * ------------------------------------------------------------------------------------------ */

/* A C string literal (escaped). */
static void emit_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)(text ? text : ""); *c != '\0'; c++) {
        if (*c == '"' || *c == '\\' || *c == '?') /* '?': no trigraph can form */
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20 || *c >= 0x7f)
            fprintf(out, "\\%03o", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

static void emit_bytes(FILE *out, const uint8_t *bytes, size_t size, size_t per_line, int indent)
{
    for (size_t i = 0; i < size; i++) {
        if (i % per_line == 0)
            fprintf(out, "%*s", indent, "");
        fprintf(out, "0x%02x,%s", bytes[i], (i + 1) % per_line == 0 || i + 1 == size ? "\n" : " ");
    }
}

static void emit_guid(FILE *out, const ebpf_guid_t *guid)
{
    fprintf(out, "{0x%08" PRIx32 ", 0x%04x, 0x%04x, {", guid->data1, guid->data2, guid->data3);
    for (int i = 0; i < 8; i++)
        fprintf(out, "0x%02x%s", guid->data4[i], i < 7 ? ", " : "}}");
}

static void emit_u32_array(FILE *out, const char *name, const uint32_t *values, uint32_t count)
{
    if (count == 0)
        return;
    fprintf(out, "static const uint32_t %s[] = {", name);
    for (uint32_t i = 0; i < count; i++)
        fprintf(out, "%s%" PRIu32, i ? ", " : "", values[i]);
    fprintf(out, "};\n");
}

static int emit_program_tables(const bpf2c_module_t *module, const program_plan_t *plan, FILE *out)
{
    const bpf2c_program_t *program = plan->program;
    char name[160];

    snprintf(name, sizeof(name), "%s_helper_ids", plan->identifier);
    emit_u32_array(out, name, plan->helper_ids, plan->helper_count);
    snprintf(name, sizeof(name), "%s_map_indexes", plan->identifier);
    emit_u32_array(out, name, plan->map_indexes, plan->map_count);
    fprintf(out, "static const uint8_t %s_instructions[] = {\n", plan->identifier);
    emit_bytes(out, (const uint8_t *)program->instructions,
               (size_t)program->instruction_count * sizeof(struct bpf_insn), 8, 4);
    fprintf(out, "};\n\n");
    return 0;
}

static void emit_map_definition(FILE *out, const bpf2c_module_t *module, const ebpf_elf_map_t *map,
                                size_t index, const char *inner)
{
    fprintf(out, "    {\n        .name = ");
    emit_string(out, map->name);
    fprintf(out, ",\n        .section_name = ");
    emit_string(out, map->section_name);
    fprintf(out,
            ",\n        .origin = %u,\n        .type = %" PRIu32 ",\n        .key_size = %" PRIu32
            ",\n        .value_size = %" PRIu32 ",\n        .max_entries = %" PRIu32
            ",\n        .map_flags = 0x%" PRIx32 ",\n        .pinning = %" PRIu32
            ",\n        .inner_map_index = %" PRId32 ",\n",
            (unsigned)map->origin, map->type, map->key_size, map->value_size, map->max_entries,
            map->map_flags, map->pinning, map->inner_map_index);
    fprintf(out, "        .inner_map = %s,\n", inner);
    if (map->initial_value_count != 0)
        fprintf(out,
                "        .initial_values = map_%zu_slots,\n        .initial_value_count = %zu,\n",
                index, map->initial_value_count);
    else
        fprintf(out, "        .initial_values = NULL,\n        .initial_value_count = 0,\n");
    if (map->initial_data != NULL && map->initial_data_size != 0)
        fprintf(out, "        .initial_data_size = %zu,\n        .initial_data = map_%zu_data,\n",
                map->initial_data_size, index);
    else
        fprintf(out, "        .initial_data_size = 0,\n        .initial_data = NULL,\n");
    fprintf(out, "        .read_only = %s,\n    },\n", map->read_only ? "true" : "false");
}

/* The module index of the program at object_index, or -1 when the module leaves it out. */
static int64_t program_by_object_index(const bpf2c_module_t *module, uint32_t object_index)
{
    for (size_t p = 0; p < module->program_count; p++) {
        if (module->programs[p].object_index == object_index)
            return (int64_t)p;
    }
    return -1;
}

static int emit_map_tables(const bpf2c_module_t *module, FILE *out)
{
    for (size_t m = 0; m < module->map_count; m++) {
        const ebpf_elf_map_t *map = &module->maps[m];
        if (map->initial_data != NULL && map->initial_data_size != 0) {
            if (map->initial_data_size != map->value_size)
                return ebpf_error(-EINVAL, "%s: map %s: %zu bytes of initial data, value %u",
                                  module->name, map->name, map->initial_data_size, map->value_size);
            fprintf(out, "static const uint8_t map_%zu_data[] = {\n", m);
            emit_bytes(out, map->initial_data, map->initial_data_size, 16, 4);
            fprintf(out, "};\n");
        }
        if (map->initial_value_count != 0) {
            fprintf(out, "static const ebpf_native_map_slot_t map_%zu_slots[] = {\n", m);
            for (size_t v = 0; v < map->initial_value_count; v++) {
                uint32_t target = map->initial_values[v].target_index;
                if (map->type == BPF_MAP_TYPE_PROG_ARRAY) {
                    int64_t index = program_by_object_index(module, target);
                    if (index < 0)
                        return ebpf_error(-EINVAL,
                                          "%s: map %s: slot %u names program %u, which is not "
                                          "translated",
                                          module->name, map->name, map->initial_values[v].key,
                                          target);
                    target = (uint32_t)index;
                }
                fprintf(out, "    {%" PRIu32 ", %" PRIu32 "},\n", map->initial_values[v].key,
                        target);
            }
            fprintf(out, "};\n");
        }
        if (map->inner_map != NULL) {
            fprintf(out, "static const ebpf_native_map_metadata_t map_%zu_inner[] = {\n", m);
            emit_map_definition(out, module, map->inner_map, m, "NULL");
            fprintf(out, "};\n");
        }
    }
    if (module->map_count == 0)
        return 0;
    fprintf(out, "\nstatic const ebpf_native_map_metadata_t maps[] = {\n");
    for (size_t m = 0; m < module->map_count; m++) {
        char inner[48] = "NULL";
        if (module->maps[m].inner_map != NULL)
            snprintf(inner, sizeof(inner), "map_%zu_inner", m);
        emit_map_definition(out, module, &module->maps[m], m, inner);
    }
    fprintf(out, "};\n");
    return 0;
}

static void emit_program_entry(FILE *out, const program_plan_t *plan,
                               const uint8_t hash[EBPF_NATIVE_HASH_SIZE])
{
    const bpf2c_program_t *program = plan->program;
    const ebpf_program_type_descriptor_t *type =
        program->program_info != NULL ? program->program_info->program_type_descriptor : NULL;
    static const ebpf_guid_t no_type;

    fprintf(out, "    {\n        .name = ");
    emit_string(out, program->name);
    fprintf(out, ",\n        .section_name = ");
    emit_string(out, program->section_name);
    fprintf(out, ",\n        .program_type = ");
    emit_guid(out, type != NULL ? &type->program_type : &no_type);
    fprintf(out, ",\n        .attach_type = ");
    emit_guid(out, &program->attach_type);
    fprintf(out,
            ",\n        .bpf_prog_type = %" PRIu32 ",\n        .bpf_attach_type = %" PRIu32 ",\n",
            type != NULL ? type->bpf_prog_type : 0, program->bpf_attach_type);
    if (plan->helper_count != 0)
        fprintf(out, "        .helper_ids = %s_helper_ids,\n", plan->identifier);
    else
        fprintf(out, "        .helper_ids = NULL,\n");
    fprintf(out, "        .helper_count = %" PRIu32 ",\n", plan->helper_count);
    if (plan->map_count != 0)
        fprintf(out, "        .map_indexes = %s_map_indexes,\n", plan->identifier);
    else
        fprintf(out, "        .map_indexes = NULL,\n");
    fprintf(out,
            "        .map_count = %" PRIu32 ",\n        .instructions = %s_instructions,\n"
            "        .instruction_count = %" PRIu32 ",\n        .verified = %s,\n"
            "        .program_info_hash = {\n",
            plan->map_count, plan->identifier, program->instruction_count,
            plan->module->verify ? "true" : "false");
    emit_bytes(out, hash, EBPF_NATIVE_HASH_SIZE, 16, 12);
    fprintf(out, "        },\n        .entry = %s,\n    },\n", plan->identifier);
}

static int emit_module(const bpf2c_module_t *module, program_plan_t *plans, FILE *out)
{
    int rc;

    fprintf(out,
            "/* Native eBPF programs of %s, generated by bpf2c: each BPF instruction is one C\n"
            " * statement, with the instruction and its source line in a comment. The programs\n"
            " * %s; only the metadata table is exported. Do not edit. */\n"
            "#define EBPF_NATIVE_GENERATED_CODE 1\n"
            "#include \"ebpf_native.h\"\n\n",
            module->name,
            module->verify ? "were verified, so their code checks no bounds"
                           : "were NOT verified (translator tests only)");
    for (size_t p = 0; p < module->program_count; p++) {
        rc = bpf2c_emit_program(&plans[p], out);
        if (rc != 0)
            return rc;
    }
    fprintf(out, "/* ---- metadata ---- */\n\n");
    for (size_t p = 0; p < module->program_count; p++)
        emit_program_tables(module, &plans[p], out);
    rc = emit_map_tables(module, out);
    if (rc != 0)
        return rc;
    fprintf(out, "\nstatic const ebpf_native_program_metadata_t programs[] = {\n");
    for (size_t p = 0; p < module->program_count; p++) {
        const bpf2c_program_t *program = &module->programs[p];
        uint8_t hash[EBPF_NATIVE_HASH_SIZE];
        rc = ebpf_native_program_info_hash(
            program->program_info, plans[p].helper_ids, plans[p].helper_count,
            program->find_helper != NULL ? program->find_helper : ebpf_native_find_helper_prototype,
            program->find_helper != NULL ? program->find_helper_context
                                         : (void *)program->program_info,
            hash);
        if (rc != 0)
            return rc;
        emit_program_entry(out, &plans[p], hash);
    }
    fprintf(out, "};\n\n"
                 "__attribute__((visibility(\"default\"))) const ebpf_native_module_metadata_t\n"
                 "    EBPF_NATIVE_METADATA_NAME = {\n"
                 "        .magic = EBPF_NATIVE_MAGIC,\n"
                 "        .version = EBPF_NATIVE_FORMAT_VERSION,\n"
                 "        .reserved = 0,\n"
                 "        .size = sizeof(ebpf_native_module_metadata_t),\n"
                 "        .program_metadata_size = sizeof(ebpf_native_program_metadata_t),\n"
                 "        .map_metadata_size = sizeof(ebpf_native_map_metadata_t),\n"
                 "        .name = ");
    emit_string(out, module->name);
    fprintf(out, ",\n        .license = ");
    emit_string(out, module->license);
    fprintf(out,
            ",\n        .programs = programs,\n        .program_count = %zu,\n"
            "        .map_count = %zu,\n        .maps = %s,\n};\n",
            module->program_count, module->map_count, module->map_count ? "maps" : "NULL");
    return ferror(out) ? ebpf_error(-EIO, "%s: write error", module->name) : 0;
}

int bpf2c_translate(const bpf2c_module_t *module, FILE *out)
{
    program_plan_t *plans;
    size_t planned = 0;
    int rc = 0;

    if (module == NULL || out == NULL || module->programs == NULL || module->program_count == 0 ||
        (module->map_count != 0 && module->maps == NULL))
        return ebpf_error(-EINVAL, "bpf2c: no programs to translate");
    if (module->program_count > EBPF_NATIVE_MAX_PROGRAMS ||
        module->map_count > EBPF_NATIVE_MAX_MAPS)
        return ebpf_error(-E2BIG, "%s: %zu programs and %zu maps are more than a module holds",
                          module->name, module->program_count, module->map_count);
    if (module->verify) {
        rc = verify_module(module);
        if (rc != 0)
            return rc;
    }
    plans = ebpf_allocate_array(module->program_count, sizeof(*plans));
    if (plans == NULL)
        return ebpf_error(-ENOMEM, "%s: out of memory", module->name);
    for (; planned < module->program_count && rc == 0; planned++)
        rc = bpf2c_plan_program(module, (uint32_t)planned, &plans[planned]);
    if (rc == 0)
        rc = emit_module(module, plans, out);
    else
        planned--; /* The failed plan freed itself. */
    for (size_t p = 0; p < planned; p++)
        bpf2c_plan_free(&plans[p]);
    ebpf_free(plans);
    return rc;
}

int bpf2c_translate_to_file(const bpf2c_module_t *module, const char *path)
{
    FILE *out = fopen(path, "w");
    int rc;

    if (out == NULL)
        return ebpf_error(-errno, "%s: cannot create: %s", path, strerror(errno));
    rc = bpf2c_translate(module, out);
    if (fclose(out) != 0 && rc == 0)
        rc = ebpf_error(-EIO, "%s: write error", path);
    if (rc != 0)
        unlink(path);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Compiling.
 * ------------------------------------------------------------------------------------------ */

int bpf2c_compile(const char *source, const char *output, const char *include_dir)
{
    const char *compiler = getenv("CC");
    char include_option[4096], diagnostics[4096] = "";
    posix_spawn_file_actions_t actions;
    int pipe_fds[2], status = 0, rc;
    size_t used = 0;
    pid_t pid;

    if (compiler == NULL || compiler[0] == '\0' || strchr(compiler, ' ') != NULL)
        compiler = "gcc";
    snprintf(include_option, sizeof(include_option), "-I%s", include_dir ? include_dir : ".");
    char *const argv[] = {
        (char *)compiler,
        "-std=c11",
        "-O2",
        "-shared",
        "-fPIC",
        "-fvisibility=hidden",
        "-fno-strict-aliasing",
        "-Wall",
        "-Wextra",
        "-Werror",
        include_option,
        "-o",
        (char *)output,
        (char *)source,
        NULL,
    };

    if (pipe(pipe_fds) != 0)
        return ebpf_error(-errno, "bpf2c: pipe: %s", strerror(errno));
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    rc = posix_spawnp(&pid, compiler, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    if (rc != 0) {
        close(pipe_fds[0]);
        return ebpf_error(-rc, "bpf2c: cannot run the C compiler %s: %s", compiler, strerror(rc));
    }
    for (;;) {
        char scratch[1024];
        ssize_t got = read(pipe_fds[0], scratch, sizeof(scratch));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        size_t keep = (size_t)got;
        if (keep > sizeof(diagnostics) - 1 - used)
            keep = sizeof(diagnostics) - 1 - used;
        memcpy(diagnostics + used, scratch, keep);
        used += keep;
        diagnostics[used] = '\0';
    }
    close(pipe_fds[0]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return ebpf_error(-errno, "bpf2c: waiting for %s: %s", compiler, strerror(errno));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return ebpf_error(-EIO, "bpf2c: %s failed on %s:\n%s", compiler, source, diagnostics);
    return 0;
}
