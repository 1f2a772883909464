/* bpf2c: translates the programs of a BPF object, once verified, into the C of a native module. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf2c.h"
#include "ebpf_platform.h"

/* Exit statuses: translated, a program was rejected by the verifier, anything else. */
enum { EXIT_TRANSLATED = 0, EXIT_REJECTED = 1, EXIT_TROUBLE = 2 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bpf2c FILE.o [--section S] [--type TYPE] [--line-directives] [-o FILE.c]\n"
            "       bpf2c --raw FILE --no-verify [--name NAME] [-o FILE.c]\n"
            "\n"
            "Verifies every program of a BPF object and writes C that compiles (gcc or clang\n"
            "-O2 -shared -fPIC) into a native module: a shared object whose only exported\n"
            "symbol is its metadata table. A program the verifier rejects gets no code: the\n"
            "verifier's message is printed instead.\n"
            "\n"
            "  --section S         only the programs of section S\n"
            "  --type TYPE         verify against TYPE (a store type by name or GUID) instead\n"
            "                      of the type the eBPF store gives each section\n"
            "  --line-directives   #line directives to the BPF source, for debuggers\n"
            "  -o FILE.c           output (default: FILE with .c for .o)\n"
            "  --raw FILE          FILE holds bare instructions (8 bytes each), one program\n"
            "  --no-verify         with --raw only: translate without a proof (to test the\n"
            "                      translator; such code must never run untrusted programs)\n"
            "  --name NAME         with --raw: the program's name (default: program)\n"
            "\n"
            "The store is $EBPF_STORE_DIR, else the user store, else /var/lib/ebpf/store.\n"
            "Exit status: 0 translated, 1 a program was rejected, 2 anything else.\n");
}

static char *default_output(const char *input)
{
    size_t length = strlen(input);
    char *output = malloc(length + 3);

    if (output == NULL)
        return NULL;
    memcpy(output, input, length + 1);
    if (length > 2 && strcmp(input + length - 2, ".o") == 0)
        output[length - 1] = 'c';
    else
        strcat(output, ".c");
    return output;
}

static int translate_raw(const char *path, const char *name, const char *output)
{
    FILE *in = fopen(path, "rb");
    uint8_t *code = NULL;
    size_t size = 0, capacity = 0;
    int rc;

    if (in == NULL)
        return ebpf_error(-errno, "%s: %s", path, strerror(errno));
    for (;;) {
        if (size == capacity) {
            capacity = capacity ? capacity * 2 : 4096;
            uint8_t *grown = ebpf_reallocate(code, capacity);
            if (grown == NULL) {
                fclose(in);
                ebpf_free(code);
                return ebpf_error(-ENOMEM, "%s: out of memory", path);
            }
            code = grown;
        }
        size_t got = fread(code + size, 1, capacity - size, in);
        size += got;
        if (got == 0)
            break;
    }
    fclose(in);
    if (size == 0 || size % sizeof(struct bpf_insn) != 0 ||
        size / sizeof(struct bpf_insn) > EBPF_NATIVE_MAX_INSTRUCTIONS) {
        ebpf_free(code);
        return ebpf_error(-EINVAL, "%s: %zu bytes are not a program (8 bytes per instruction)",
                          path, size);
    }
    bpf2c_program_t program = {
        .name = name,
        .section_name = "",
        .instructions = (const struct bpf_insn *)code,
        .instruction_count = (uint32_t)(size / sizeof(struct bpf_insn)),
    };
    bpf2c_module_t module = {
        .name = path,
        .programs = &program,
        .program_count = 1,
        .verify = false,
    };
    rc = bpf2c_translate_to_file(&module, output);
    ebpf_free(code);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"section", required_argument, NULL, 's'},
        {"type", required_argument, NULL, 't'},
        {"line-directives", no_argument, NULL, 'l'},
        {"raw", no_argument, NULL, 'r'},
        {"no-verify", no_argument, NULL, 'n'},
        {"name", required_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bpf2c_object_options_t options = {0};
    const char *output = NULL, *name = "program";
    bool raw = false, no_verify = false;
    char *allocated_output = NULL;
    int option, rc;

    while ((option = getopt_long(argc, argv, "o:h", long_options, NULL)) != -1) {
        switch (option) {
        case 's':
            options.section = optarg;
            break;
        case 't':
            options.type_name = optarg;
            break;
        case 'l':
            options.line_directives = true;
            break;
        case 'r':
            raw = true;
            break;
        case 'n':
            no_verify = true;
            break;
        case 'N':
            name = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_TRANSLATED;
        default:
            usage(stderr);
            return EXIT_TROUBLE;
        }
    }
    if (optind + 1 != argc || raw != no_verify) {
        if (raw != no_verify)
            fprintf(stderr, "bpf2c: --raw translates without the verifier: it needs --no-verify "
                            "(and --no-verify needs --raw)\n");
        usage(stderr);
        return EXIT_TROUBLE;
    }
    if (output == NULL) {
        output = allocated_output = default_output(argv[optind]);
        if (output == NULL) {
            fprintf(stderr, "bpf2c: out of memory\n");
            return EXIT_TROUBLE;
        }
    }
    rc = raw ? translate_raw(argv[optind], name, output)
             : bpf2c_translate_object(argv[optind], &options, output);
    if (rc != 0)
        fprintf(stderr, "bpf2c: %s\n", ebpf_last_error());
    free(allocated_output);
    if (rc == -EACCES)
        return EXIT_REJECTED;
    return rc == 0 ? EXIT_TRANSLATED : EXIT_TROUBLE;
}
