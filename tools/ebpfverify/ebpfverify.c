/* ebpfverify: verifies the programs of a BPF object offline and says why any is rejected. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf_core.h"
#include "ebpf_elf.h"
#include "ebpf_platform.h"
#include "ebpf_store.h"
#include "ebpf_verifier.h"

/* Exit statuses: every program accepted, some rejected, or the tool could not do its job. */
enum { EXIT_ACCEPTED = 0, EXIT_REJECTED = 1, EXIT_TROUBLE = 2 };

typedef struct arguments {
    const char *path;
    const char *section;
    const char *function;
    const char *type;
    bool verbose;
    uint64_t budget;
} arguments_t;

/* A program type from the store, loaded once. */
typedef struct stored_type {
    ebpf_guid_t guid;
    ebpf_stored_program_info_t *info;
    struct stored_type *next;
} stored_type_t;

/* What a program is verified against. */
typedef struct program_type {
    const char *name;
    const ebpf_program_info_t *info;                      /* store types */
    const ebpf_verifier_linux_program_type_t *linux_type; /* Linux types */
} program_type_t;

typedef struct tool {
    arguments_t arguments;
    ebpf_elf_object_t *object;
    ebpf_verifier_map_t *maps;
    ebpf_verifier_map_t *inner_maps; /* one per map, used when the map defines its inner map */
    ebpf_store_t *store;
    stored_type_t *stored_types;
} tool_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ebpfverify FILE.o [--section S] [--function F] [--type TYPE] [--budget N] "
            "[-v]\n"
            "\n"
            "Verifies each program of a BPF object and prints whether it is accepted, with the\n"
            "reason when it is not. Without --type the program type comes from the eBPF store\n"
            "(SectionData) or, for objects built for Linux, from the section name as libbpf\n"
            "reads it.\n"
            "\n"
            "  --section S    only programs of section S\n"
            "  --function F   only the program whose function is F\n"
            "  --type TYPE    verify against TYPE: a Linux type (xdp, sched_cls, sched_act,\n"
            "                 socket_filter, cgroup_skb, sock_ops, kprobe, tracepoint,\n"
            "                 raw_tracepoint, perf_event), or a store type by name or GUID\n"
            "  --budget N     instructions the analysis may process (default 1000000)\n"
            "  -v, --verbose  print the abstract state along the failing path\n"
            "\n"
            "Exit status: 0 when every program verified is accepted, 1 when one is rejected,\n"
            "2 when the object or the arguments are wrong.\n");
}

static int parse_arguments(int argc, char **argv, arguments_t *arguments)
{
    static const struct option options[] = {
        {"section", required_argument, NULL, 's'},
        {"function", required_argument, NULL, 'f'},
        {"type", required_argument, NULL, 't'},
        {"budget", required_argument, NULL, 'b'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;

    while ((option = getopt_long(argc, argv, "s:f:t:b:vh", options, NULL)) != -1) {
        switch (option) {
        case 's':
            arguments->section = optarg;
            break;
        case 'f':
            arguments->function = optarg;
            break;
        case 't':
            arguments->type = optarg;
            break;
        case 'b': {
            char *end;
            errno = 0;
            arguments->budget = strtoull(optarg, &end, 0);
            if (errno || *end || arguments->budget == 0) {
                fprintf(stderr, "ebpfverify: --budget needs a positive number, not '%s'\n", optarg);
                return -EINVAL;
            }
            break;
        }
        case 'v':
            arguments->verbose = true;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_ACCEPTED);
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return -EINVAL;
    }
    arguments->path = argv[optind];
    return 0;
}

/* ---- maps ---- */

static void describe_map(const ebpf_elf_map_t *from, ebpf_verifier_map_t *to)
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

static int build_maps(tool_t *tool)
{
    const ebpf_elf_object_t *object = tool->object;
    size_t count = object->map_count;

    if (count == 0)
        return 0;
    tool->maps = ebpf_allocate_array(count, sizeof(*tool->maps));
    tool->inner_maps = ebpf_allocate_array(count, sizeof(*tool->inner_maps));
    if (!tool->maps || !tool->inner_maps)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++)
        describe_map(&object->maps[i], &tool->maps[i]);
    for (size_t i = 0; i < count; i++) {
        const ebpf_elf_map_t *map = &object->maps[i];
        if (map->inner_map) {
            describe_map(map->inner_map, &tool->inner_maps[i]);
            tool->maps[i].inner_map = &tool->inner_maps[i];
        } else if (map->inner_map_index >= 0 && (size_t)map->inner_map_index < count) {
            tool->maps[i].inner_map = &tool->maps[map->inner_map_index];
        }
    }
    return 0;
}

/* ---- program types ---- */

static const ebpf_stored_program_info_t *stored_type(tool_t *tool, const ebpf_guid_t *guid)
{
    for (stored_type_t *type = tool->stored_types; type; type = type->next)
        if (ebpf_guid_equal(&type->guid, guid))
            return type->info;
    if (!tool->store)
        return NULL;
    stored_type_t *type = ebpf_allocate(sizeof(*type));
    if (!type)
        return NULL;
    if (ebpf_store_load_program_info(tool->store, guid, &type->info) != 0) {
        ebpf_free(type);
        return NULL;
    }
    type->guid = *guid;
    type->next = tool->stored_types;
    tool->stored_types = type;
    return type->info;
}

static void set_stored(program_type_t *type, const ebpf_stored_program_info_t *info)
{
    type->info = &info->info;
    type->name = info->name ? info->name : "(unnamed)";
}

/* --type: a Linux type, a store GUID, or the name of a type some store section uses. */
static int type_by_name(tool_t *tool, const char *name, program_type_t *type)
{
    ebpf_guid_t guid;
    const ebpf_stored_program_info_t *info;

    memset(type, 0, sizeof(*type));
    type->linux_type = ebpf_verifier_linux_program_type_by_name(name);
    if (type->linux_type) {
        type->name = type->linux_type->name;
        return 0;
    }
    if (ebpf_guid_from_string(name, &guid) == 0) {
        if (!(info = stored_type(tool, &guid)))
            return ebpf_error(-ENOENT, "program type %s is not in the eBPF store", name);
        set_stored(type, info);
        return 0;
    }
    ebpf_stored_section_t *sections = NULL;
    size_t count = 0;
    if (tool->store && ebpf_store_list_sections(tool->store, &sections, &count) == 0) {
        for (size_t i = 0; i < count; i++) {
            info = stored_type(tool, &sections[i].program_type);
            if (info && info->name && strcmp(info->name, name) == 0) {
                set_stored(type, info);
                ebpf_free(sections);
                return 0;
            }
        }
    }
    ebpf_free(sections);
    return ebpf_error(-ENOENT,
                      "unknown program type '%s': not a Linux type this tool knows, nor a type "
                      "in the eBPF store",
                      name);
}

static int type_of_section(tool_t *tool, const char *section, program_type_t *type)
{
    ebpf_stored_section_t stored;

    memset(type, 0, sizeof(*type));
    if (tool->store) {
        int rc = ebpf_store_resolve_section(tool->store, section, &stored);
        if (rc == 0) {
            const ebpf_stored_program_info_t *info = stored_type(tool, &stored.program_type);
            if (!info)
                return ebpf_error(-ENOENT,
                                  "section %s: the store names a program type whose "
                                  "information it does not hold",
                                  section);
            set_stored(type, info);
            return 0;
        }
        if (rc != -ENOENT)
            return rc;
    }
    type->linux_type = ebpf_verifier_linux_program_type_from_section(section);
    if (type->linux_type) {
        type->name = type->linux_type->name;
        return 0;
    }
    return ebpf_error(-ENOENT,
                      "no program type is known for section '%s': export its extension's "
                      "program information into the store, or give --type",
                      section);
}

/* Helpers of a store type: its own, then the core's general ones. */
static const ebpf_helper_prototype_t *find_stored_helper(void *context, uint32_t id)
{
    const ebpf_program_info_t *info = context;
    for (uint32_t i = 0; i < info->count_of_program_type_specific_helpers; i++)
        if (info->program_type_specific_helper_prototype[i].id == id)
            return &info->program_type_specific_helper_prototype[i];
    for (uint32_t i = 0; i < info->count_of_global_helpers; i++)
        if (info->global_helper_prototype[i].id == id)
            return &info->global_helper_prototype[i];
    return ebpf_core_find_general_helper(id, NULL);
}

/* ---- verifying ---- */

static int verify_one(tool_t *tool, const ebpf_elf_program_t *program)
{
    program_type_t type;
    ebpf_verifier_options_t options = {0};
    ebpf_verifier_result_t result;
    ebpf_verifier_line_info_t *lines = NULL;
    const char *label_section = program->section_name, *label_function = program->function_name;
    int rc;

    rc = tool->arguments.type ? type_by_name(tool, tool->arguments.type, &type)
                              : type_of_section(tool, program->section_name, &type);
    if (rc != 0) {
        printf("%s/%s: not verified: %s\n", label_section, label_function, ebpf_last_error());
        return EXIT_TROUBLE;
    }
    if (program->instruction_count > UINT32_MAX) {
        printf("%s/%s: not verified: too many instructions\n", label_section, label_function);
        return EXIT_TROUBLE;
    }
    options.verbose = tool->arguments.verbose;
    options.instruction_budget = tool->arguments.budget;
    if (program->line_info) {
        lines = ebpf_allocate_array(program->instruction_count, sizeof(*lines));
        if (!lines) {
            printf("%s/%s: not verified: out of memory\n", label_section, label_function);
            return EXIT_TROUBLE;
        }
        for (size_t i = 0; i < program->instruction_count; i++)
            lines[i] = (ebpf_verifier_line_info_t){
                program->line_info[i].file_name, program->line_info[i].line_text,
                program->line_info[i].line, program->line_info[i].column};
        options.line_info = lines;
    }
    const ebpf_program_info_t *info;
    if (type.linux_type) {
        ebpf_verifier_linux_options(type.linux_type, &options);
        info = type.linux_type->program_info;
    } else {
        options.find_helper = find_stored_helper;
        options.find_helper_context = (void *)type.info;
        info = type.info;
    }

    rc = ebpf_verify_program(program->instructions, (uint32_t)program->instruction_count, info,
                             tool->maps, (uint32_t)tool->object->map_count, &options, &result);
    ebpf_free(lines);
    if (rc != 0 && rc != -EACCES) {
        printf("%s/%s: not verified: %s\n", label_section, label_function, ebpf_last_error());
        return EXIT_TROUBLE;
    }
    double microseconds = (double)result.elapsed_ns / 1000.0;
    if (result.accepted) {
        printf("%s/%s: accepted as %s (%zu instructions, %" PRIu64
               " processed, stack %u bytes, %.1f us)\n",
               label_section, label_function, type.name, program->instruction_count,
               result.processed_instructions, result.max_stack_depth, microseconds);
        ebpf_verifier_result_free(&result);
        return EXIT_ACCEPTED;
    }
    printf("%s/%s: rejected as %s (%zu instructions, %" PRIu64 " processed, %.1f us)\n",
           label_section, label_function, type.name, program->instruction_count,
           result.processed_instructions, microseconds);
    /* The log, indented under its program. */
    const char *line = result.log ? result.log : "";
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen(line);
        printf("    %.*s\n", (int)length, line);
        line += length + (end ? 1 : 0);
    }
    ebpf_verifier_result_free(&result);
    return EXIT_REJECTED;
}

static void tool_cleanup(tool_t *tool)
{
    while (tool->stored_types) {
        stored_type_t *next = tool->stored_types->next;
        ebpf_store_free_program_info(tool->stored_types->info);
        ebpf_free(tool->stored_types);
        tool->stored_types = next;
    }
    if (tool->store)
        ebpf_store_close(tool->store);
    ebpf_free(tool->maps);
    ebpf_free(tool->inner_maps);
    ebpf_elf_free(tool->object);
}

int main(int argc, char **argv)
{
    tool_t tool = {0};
    int status = EXIT_ACCEPTED, rc;
    size_t verified = 0;

    if (parse_arguments(argc, argv, &tool.arguments) != 0)
        return EXIT_TROUBLE;
    rc = ebpf_elf_open_file(tool.arguments.path, &tool.object);
    if (rc != 0) {
        fprintf(stderr, "ebpfverify: %s: cannot read the object: %s\n", tool.arguments.path,
                ebpf_last_error());
        return EXIT_TROUBLE;
    }
    if (build_maps(&tool) != 0) {
        fprintf(stderr, "ebpfverify: out of memory\n");
        tool_cleanup(&tool);
        return EXIT_TROUBLE;
    }
    if (ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &tool.store) != 0)
        tool.store = NULL; /* Linux types still work without a store. */

    for (size_t i = 0; i < tool.object->program_count; i++) {
        const ebpf_elf_program_t *program = &tool.object->programs[i];
        if (tool.arguments.section && strcmp(program->section_name, tool.arguments.section) != 0)
            continue;
        if (tool.arguments.function && strcmp(program->function_name, tool.arguments.function) != 0)
            continue;
        int result = verify_one(&tool, program);
        verified++;
        if (result > status)
            status = result;
    }
    if (verified == 0) {
        fprintf(stderr, "ebpfverify: %s: no program matches%s%s%s%s\n", tool.arguments.path,
                tool.arguments.section ? " section " : "",
                tool.arguments.section ? tool.arguments.section : "",
                tool.arguments.function ? " function " : "",
                tool.arguments.function ? tool.arguments.function : "");
        status = EXIT_TROUBLE;
    }
    tool_cleanup(&tool);
    return status;
}
