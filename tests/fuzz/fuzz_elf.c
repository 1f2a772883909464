/* libFuzzer target: arbitrary bytes opened as a BPF ELF object must fail cleanly or load whole. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ebpf_elf.h"
#include "ebpf_platform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ebpf_elf_object_t *object = NULL;
    int64_t before = ebpf_allocation_outstanding();
    int err = ebpf_elf_open_memory(data, size, "fuzz.o", &object);

    if (err == 0) {
        /* Touch what the core would read, so a bad pointer shows up under ASan here. */
        for (size_t i = 0; i < object->program_count; i++) {
            const ebpf_elf_program_t *program = &object->programs[i];
            volatile uint8_t sink = 0;
            for (size_t j = 0; j < program->instruction_count; j++)
                sink ^= program->instructions[j].code;
            for (size_t j = 0; program->line_info && j < program->instruction_count; j++)
                if (program->line_info[j].line_text)
                    sink ^= (uint8_t)program->line_info[j].line_text[0];
            (void)sink;
        }
        ebpf_elf_free(object);
    } else if (err > 0 || object != NULL || ebpf_last_error()[0] == '\0') {
        abort(); /* the contract: a negative errno, no object, a message */
    }
    if (ebpf_allocation_outstanding() != before)
        abort(); /* every path frees what it took */
    return 0;
}
