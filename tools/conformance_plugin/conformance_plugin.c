/* bpf_conformance plugin: runs one program from stdin in the interpreter (or, with --native, as
 * native code from bpf2c) and prints r0. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf2c.h"
#include "ebpf_elf.h"
#include "ebpf_exec.h"
#include "ebpf_native.h"
#include "ebpf_platform.h"

/*
 * The protocol of the bpf_conformance suite (github.com/Alan-Jowett/bpf_conformance):
 *
 *   ebpf_conformance_plugin [<memory as base16>] [options]
 *
 * stdin holds the program as base16 bytes ("b7  00  00  00  ..."); the memory argument uses the
 * same encoding and may be empty. The program starts with r1 pointing to a writable copy of the
 * memory (0 when there is none), r2 holding its length and r10 at the top of the stack. Helper 5
 * returns its first argument. On success r0 is printed in hex on stdout and the exit status is 0;
 * on failure a message goes to stderr and the exit status is 1 (2 for a bad command line).
 *
 * The suite passes options as one argument, so an argument may hold several, separated by
 * spaces; empty arguments are ignored.
 */

#define EXIT_RUN_FAILED 1
#define EXIT_USAGE      2

/* Bytes addressable just above the stack top. The suite's call_local test stores 8 bytes at
 * r10-4 in the outermost frame, which runtimes with memory above their stack accept. The whole
 * stack buffer is declared as a region for it, so in this plugin (only) a program may also reach
 * the frames of returned calls. */
#define STACK_SLACK 16

typedef struct plugin_options {
    const char *memory_text;
    bool debug;
    bool elf;
    bool native;
    uint64_t instruction_budget;
} plugin_options_t;

static uint64_t helper_identity(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
    return r1;
}

static const ebpf_helper_prototype_t identity_prototype = {
    .header = EBPF_EXTENSION_HEADER(EBPF_HELPER_PROTOTYPE_VERSION, ebpf_helper_prototype_t),
    .id = 5,
    .name = "conformance_identity",
    .return_type = EBPF_RET_INTEGER,
    .arguments = {EBPF_ARG_ANYTHING},
};

static const ebpf_helper_prototype_t *resolve_helper(void *context, uint32_t id,
                                                     ebpf_helper_function_t *function)
{
    if (id != identity_prototype.id)
        return NULL;
    *function = helper_identity;
    return &identity_prototype;
}

static void trace_instruction(void *cookie, uint32_t pc, const struct bpf_insn *instruction,
                              const uint64_t registers[11])
{
    fprintf(stderr, "%5u: %02x %x %x %+6d %+11d |", pc, instruction->code, instruction->dst_reg,
            instruction->src_reg, instruction->off, instruction->imm);
    for (int i = 0; i <= 10; i++)
        fprintf(stderr, " r%d=%" PRIx64, i, registers[i]);
    fputc('\n', stderr);
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes base16 text (pairs of hex digits, any whitespace between bytes) into a new buffer. */
static int decode_base16(const char *what, const char *text, size_t length, uint8_t **bytes,
                         size_t *size)
{
    uint8_t *buffer = ebpf_allocate(length / 2 + 1);
    size_t count = 0;

    if (!buffer)
        return ebpf_error(-ENOMEM, "%s: no memory for %zu bytes", what, length / 2);
    for (size_t i = 0; i < length;) {
        int high, low;

        if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') {
            i++;
            continue;
        }
        high = hex_digit((unsigned char)text[i]);
        low = i + 1 < length ? hex_digit((unsigned char)text[i + 1]) : -1;
        if (high < 0 || low < 0) {
            ebpf_free(buffer);
            return ebpf_error(-EINVAL, "%s: offset %zu: expected two hex digits, found \"%.2s\"",
                              what, i, text + i);
        }
        buffer[count++] = (uint8_t)(high << 4 | low);
        i += 2;
    }
    *bytes = buffer;
    *size = count;
    return 0;
}

static int read_stdin(char **text, size_t *length)
{
    size_t capacity = 4096, used = 0;
    char *buffer = ebpf_allocate(capacity);

    if (!buffer)
        return ebpf_error(-ENOMEM, "stdin: no memory");
    for (;;) {
        size_t got;

        if (used == capacity) {
            char *grown = ebpf_reallocate(buffer, capacity * 2);
            if (!grown) {
                ebpf_free(buffer);
                return ebpf_error(-ENOMEM, "stdin: no memory for %zu bytes", capacity * 2);
            }
            buffer = grown;
            capacity *= 2;
        }
        got = fread(buffer + used, 1, capacity - used, stdin);
        used += got;
        if (got == 0) {
            if (ferror(stdin)) {
                ebpf_free(buffer);
                return ebpf_error(-EIO, "stdin: read error");
            }
            break;
        }
    }
    *text = buffer;
    *length = used;
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: ebpf_conformance_plugin [<memory as base16>] [--elf] [--debug] "
                 "[--budget=<instructions>] [--native]\n"
                 "reads the program as base16 on stdin and prints r0 in hex\n"
                 "--native: the program goes through bpf2c, the C compiler ($CC, else gcc) and\n"
                 "the native loader instead of the interpreter (--debug and --budget do not\n"
                 "apply; $EBPF_NATIVE_INCLUDE_DIR overrides where ebpf_native.h is)\n");
}

/* Parses one option word; returns 0, or the exit status for a bad one. */
static int parse_option(plugin_options_t *options, const char *word)
{
    if (strcmp(word, "--debug") == 0) {
        options->debug = true;
    } else if (strcmp(word, "--elf") == 0) {
        options->elf = true;
    } else if (strcmp(word, "--native") == 0) {
        options->native = true;
    } else if (strncmp(word, "--budget=", 9) == 0) {
        char *end;

        errno = 0;
        options->instruction_budget = strtoull(word + 9, &end, 0);
        if (errno || end == word + 9 || *end != '\0') {
            fprintf(stderr, "ebpf_conformance_plugin: %s: not a number\n", word);
            return EXIT_USAGE;
        }
    } else if (strcmp(word, "--help") == 0) {
        usage(stdout);
        exit(0);
    } else {
        fprintf(stderr, "ebpf_conformance_plugin: unknown option \"%s\"\n", word);
        usage(stderr);
        return EXIT_USAGE;
    }
    return 0;
}

static int parse_arguments(int argc, char **argv, plugin_options_t *options)
{
    for (int i = 1; i < argc; i++) {
        const char *argument = argv[i];
        char *copy, *word, *next_words = NULL;
        int status = 0;

        if (argument[0] != '-') {
            if (options->memory_text) {
                if (argument[0] == '\0')
                    continue;
                fprintf(stderr, "ebpf_conformance_plugin: unexpected argument \"%s\"\n", argument);
                return EXIT_USAGE;
            }
            options->memory_text = argument;
            continue;
        }
        copy = strdup(argument);
        if (!copy) {
            fprintf(stderr, "ebpf_conformance_plugin: no memory\n");
            return EXIT_RUN_FAILED;
        }
        for (word = strtok_r(copy, " \t", &next_words); word && status == 0;
             word = strtok_r(NULL, " \t", &next_words))
            status = parse_option(options, word);
        free(copy);
        if (status)
            return status;
    }
    return 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "ebpf_conformance_plugin: %s: %s\n", what, ebpf_last_error());
    return EXIT_RUN_FAILED;
}

/* Replaces an ELF object by the instructions of its first program. The plugin has no maps, so
 * a program that references any is refused. */
static int extract_elf_program(uint8_t **bytes, size_t *size)
{
    ebpf_elf_object_t *object;
    int rc = ebpf_elf_open_memory(*bytes, *size, "<stdin>", &object);

    if (rc != 0) {
        fail("reading the ELF object");
        return rc;
    }
    if (object->program_count == 0) {
        fprintf(stderr, "ebpf_conformance_plugin: the object has no program\n");
        ebpf_elf_free(object);
        return -ENOENT;
    }
    const ebpf_elf_program_t *program = &object->programs[0];
    if (program->relocation_count != 0) {
        fprintf(stderr,
                "ebpf_conformance_plugin: %s references maps, which the plugin does not "
                "provide\n",
                program->function_name);
        ebpf_elf_free(object);
        return -ENOTSUP;
    }
    size_t code_size = program->instruction_count * sizeof(struct bpf_insn);
    uint8_t *code = ebpf_allocate(code_size);
    if (code == NULL) {
        ebpf_elf_free(object);
        fprintf(stderr, "ebpf_conformance_plugin: no memory for the program\n");
        return -ENOMEM;
    }
    memcpy(code, program->instructions, code_size);
    ebpf_elf_free(object);
    ebpf_free(*bytes);
    *bytes = code;
    *size = code_size;
    return 0;
}

/* The prototype of the one helper the plugin offers, for bpf2c. */
static const ebpf_helper_prototype_t *helper_prototype(void *context, uint32_t id)
{
    ebpf_helper_function_t function;
    return resolve_helper(context, id, &function);
}

/* --native: bpf2c (without the verifier: the suite tests the instruction set, not safety), the
 * C compiler and the native loader, in a scratch directory removed afterwards. */
static int run_native(const uint8_t *code, size_t size, uint8_t *memory, size_t memory_size,
                      ebpf_exec_result_t *result)
{
    const char *base = getenv("TMPDIR"), *include = getenv("EBPF_NATIVE_INCLUDE_DIR");
    char directory[256], source[300], module_path[300];
    ebpf_native_module_t *module = NULL;
    ebpf_native_program_t *program = NULL;
    int rc;

    snprintf(directory, sizeof(directory), "%s/ebpf-conformance-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    if (mkdtemp(directory) == NULL)
        return ebpf_error(-errno, "scratch directory %s: %s", directory, strerror(errno));
    snprintf(source, sizeof(source), "%s/program.c", directory);
    snprintf(module_path, sizeof(module_path), "%s/program.so", directory);
    bpf2c_program_t description = {
        .name = "conformance",
        .section_name = "",
        .instructions = (const struct bpf_insn *)code,
        .instruction_count = (uint32_t)(size / sizeof(struct bpf_insn)),
        .find_helper = helper_prototype,
    };
    bpf2c_module_t translation = {
        .name = "conformance",
        .programs = &description,
        .program_count = 1,
        .verify = false,
    };
    rc = bpf2c_translate_to_file(&translation, source);
    if (rc == 0)
        rc = bpf2c_compile(source, module_path,
                           include != NULL && include[0] != '\0' ? include
                                                                 : EBPF_NATIVE_INCLUDE_DIR);
    if (rc == 0)
        rc = ebpf_native_module_open(module_path, &module);
    if (rc == 0)
        rc = ebpf_native_program_create(module, 0, resolve_helper, NULL, &program);
    if (rc == 0)
        rc =
            ebpf_native_program_run(program, (uintptr_t)memory, memory_size, NULL, NULL, 0, result);
    ebpf_native_program_destroy(program);
    ebpf_native_module_close(module);
    unlink(module_path);
    unlink(source);
    rmdir(directory);
    return rc;
}

int main(int argc, char **argv)
{
    plugin_options_t options = {0};
    char *program_text = NULL;
    size_t program_text_length = 0;
    uint8_t *program_bytes = NULL, *memory = NULL;
    size_t program_size = 0, memory_size = 0;
    uint8_t *stack = NULL;
    ebpf_interpreter_program_t *program = NULL;
    ebpf_exec_result_t result;
    int status;

    status = parse_arguments(argc, argv, &options);
    if (status)
        return status;
    status = EXIT_RUN_FAILED;
    if (read_stdin(&program_text, &program_text_length) != 0) {
        fail("reading the program");
        goto out;
    }
    /* --elf: the object comes raw, or base16-encoded like a plain program. */
    if (options.elf && program_text_length >= 4 &&
        memcmp(program_text,
               "\x7f"
               "ELF",
               4) == 0) {
        program_bytes = ebpf_allocate(program_text_length);
        if (program_bytes == NULL) {
            fprintf(stderr, "ebpf_conformance_plugin: no memory for the object\n");
            goto out;
        }
        memcpy(program_bytes, program_text, program_text_length);
        program_size = program_text_length;
    } else if (decode_base16("program", program_text, program_text_length, &program_bytes,
                             &program_size) != 0) {
        fail("decoding the program");
        goto out;
    }
    if (options.elf && extract_elf_program(&program_bytes, &program_size) != 0)
        goto out;
    if (program_size == 0 || program_size % sizeof(struct bpf_insn) != 0) {
        fprintf(stderr,
                "ebpf_conformance_plugin: the program has %zu bytes, not a positive "
                "multiple of 8\n",
                program_size);
        goto out;
    }
    if (options.memory_text &&
        decode_base16("memory", options.memory_text, strlen(options.memory_text), &memory,
                      &memory_size) != 0) {
        fail("decoding the memory");
        goto out;
    }
    if (memory_size == 0) {
        ebpf_free(memory);
        memory = NULL;
    }

    if (options.native) {
        if (run_native(program_bytes, program_size, memory, memory_size, &result) != 0) {
            fail("running the program natively");
            goto out;
        }
        printf("%" PRIx64 "\n", result.r0);
        status = 0;
        goto out;
    }

    /* struct bpf_insn has no alignment beyond 4 bytes; the decoded buffer is malloc-aligned. */
    if (ebpf_interpreter_program_create((const struct bpf_insn *)program_bytes,
                                        (uint32_t)(program_size / sizeof(struct bpf_insn)),
                                        resolve_helper, NULL, &program) != 0) {
        fail("preparing the program");
        goto out;
    }

    stack = ebpf_allocate_aligned(16, EBPF_EXEC_STACK_SIZE + STACK_SLACK);
    if (!stack) {
        fprintf(stderr, "ebpf_conformance_plugin: no memory for the stack\n");
        goto out;
    }
    ebpf_exec_region_t regions[2] = {
        /* The memory, then the stack with its slack: an access may straddle the stack top. */
        {memory, memory_size, true},
        {stack, EBPF_EXEC_STACK_SIZE + STACK_SLACK, true},
    };
    ebpf_exec_environment_t env = {
        .regions = memory ? regions : regions + 1,
        .region_count = memory ? 2 : 1,
        .instruction_budget = options.instruction_budget,
        .stack = stack,
        .stack_size = EBPF_EXEC_STACK_SIZE,
        .trace = options.debug ? trace_instruction : NULL,
    };
    if (ebpf_interpreter_run(program, (uintptr_t)memory, memory_size, &env, &result) != 0) {
        fail("running the program");
        goto out;
    }
    printf("%" PRIx64 "\n", result.r0);
    status = 0;

out:
    ebpf_interpreter_program_destroy(program);
    ebpf_free(stack);
    ebpf_free(memory);
    ebpf_free(program_bytes);
    ebpf_free(program_text);
    return status;
}
