/* Programs: functions of code sections, their relocations, and bpf-to-bpf call linking. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf_platform.h"
#include "elf_loader.h"

/* Relocation types of the BPF ELF ABI (llvm's BPF backend). */
#define R_BPF_NONE_TYPE  0u
#define R_BPF_64_64_TYPE 1u  /* ld_imm64: map, global data or function address */
#define R_BPF_64_32_TYPE 10u /* call: bpf-to-bpf call target */

#define INSTRUCTION_SIZE ((uint64_t)sizeof(struct bpf_insn))
#define OPCODE_LD_IMM64  (BPF_LD | BPF_IMM | BPF_DW)
#define OPCODE_CALL      (BPF_JMP | BPF_CALL)

void elf_program_release(ebpf_elf_program_t *program)
{
    ebpf_free(program->section_name);
    ebpf_free(program->function_name);
    ebpf_free(program->instructions);
    ebpf_free(program->relocations);
    ebpf_free(program->line_info);
    if (program->functions) {
        for (size_t i = 0; i < program->function_count; i++)
            ebpf_free(program->functions[i].name);
    }
    ebpf_free(program->functions);
    memset(program, 0, sizeof(*program));
}

static bool elf_section_is_code(const elf_section_t *section)
{
    return section->kind == ELF_SECTION_PROGRAM || section->kind == ELF_SECTION_TEXT;
}

static struct bpf_insn elf_instruction_at(const elf_section_t *section, uint64_t offset)
{
    struct bpf_insn instruction;
    memcpy(&instruction, section->data + offset, sizeof(instruction));
    return instruction;
}

static int compare_function(const void *left, const void *right)
{
    const elf_function_t *a = left;
    const elf_function_t *b = right;
    if (a->section != b->section)
        return a->section < b->section ? -1 : 1;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

const elf_function_t *elf_function_at(const elf_loader_t *loader, uint32_t section, uint64_t offset)
{
    size_t low = 0;
    size_t high = loader->function_count;

    /* The last function of section starting at or before offset. */
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        const elf_function_t *function = &loader->functions[middle];
        if (function->section < section ||
            (function->section == section && function->offset <= offset))
            low = middle + 1;
        else
            high = middle;
    }
    if (low == 0)
        return NULL;
    const elf_function_t *function = &loader->functions[low - 1];
    if (function->section != section || offset - function->offset >= function->size)
        return NULL;
    return function;
}

int elf_functions_read(elf_loader_t *loader)
{
    size_t capacity = 0;
    size_t count = 0;

    for (size_t i = 0; i < loader->symbol_count; i++) {
        const elf_symbol_t *symbol = &loader->symbols[i];
        if (symbol->type == STT_FUNC && symbol->section < loader->section_count &&
            elf_section_is_code(&loader->sections[symbol->section]))
            capacity++;
    }
    for (size_t i = 1; i < loader->section_count; i++)
        capacity += loader->sections[i].kind == ELF_SECTION_PROGRAM;
    if (capacity == 0)
        return 0;
    loader->functions = ebpf_allocate_array(capacity, sizeof(*loader->functions));
    if (!loader->functions)
        return elf_out_of_memory(loader, "the function table");

    for (size_t i = 0; i < loader->symbol_count; i++) {
        const elf_symbol_t *symbol = &loader->symbols[i];
        const elf_section_t *section;
        elf_function_t *function;

        if (symbol->type != STT_FUNC || symbol->section >= loader->section_count ||
            !elf_section_is_code(&loader->sections[symbol->section]))
            continue;
        section = &loader->sections[symbol->section];
        if (symbol->size == 0 || symbol->value % INSTRUCTION_SIZE != 0 ||
            symbol->size % INSTRUCTION_SIZE != 0 || symbol->value > section->size ||
            section->size - symbol->value < symbol->size)
            return elf_fail(loader, -EINVAL,
                            "function %s: bytes [%llu, +%llu) are not whole instructions inside "
                            "the %llu-byte section %s",
                            elf_symbol_display_name(symbol), (unsigned long long)symbol->value,
                            (unsigned long long)symbol->size, (unsigned long long)section->size,
                            section->name);
        loader->sections[symbol->section].has_functions = true;
        function = &loader->functions[count++];
        function->name = elf_symbol_display_name(symbol);
        function->section = symbol->section;
        function->offset = symbol->value;
        function->size = symbol->size;
    }
    /* A code section without function symbols (hand-written assembly) is one program named
     * after its section. */
    for (size_t i = 1; i < loader->section_count; i++) {
        const elf_section_t *section = &loader->sections[i];
        if (section->kind != ELF_SECTION_PROGRAM || section->size == 0 || section->has_functions)
            continue;
        loader->functions[count].name = section->name;
        loader->functions[count].section = (uint32_t)i;
        loader->functions[count].offset = 0;
        loader->functions[count].size = section->size;
        count++;
    }
    loader->function_count = count;
    qsort(loader->functions, count, sizeof(*loader->functions), compare_function);
    for (size_t i = 0; i < count; i++) {
        const elf_function_t *function = &loader->functions[i];
        if (i > 0 && function[-1].section == function->section &&
            function[-1].offset + function[-1].size > function->offset)
            return elf_fail(loader, -EINVAL, "section %s: functions %s and %s overlap",
                            loader->sections[function->section].name, function[-1].name,
                            function->name);
        loader->functions[i].program_index = -1;
    }
    return 0;
}

static int compare_relocation(const void *left, const void *right)
{
    const elf_code_relocation_t *a = left;
    const elf_code_relocation_t *b = right;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static const elf_code_relocation_t *elf_relocation_at(const elf_section_t *section, uint64_t offset)
{
    elf_code_relocation_t key = {.offset = offset};
    if (section->relocation_count == 0)
        return NULL;
    return bsearch(&key, section->relocations, section->relocation_count, sizeof(key),
                   compare_relocation);
}

/* Decides what relocation number of relocations does to its instruction in target. Returns
 * 1 when it does nothing (R_BPF_NONE). */
static int elf_code_relocation_resolve(elf_loader_t *loader, const elf_section_t *relocations,
                                       const elf_section_t *target, size_t number,
                                       elf_code_relocation_t *resolved)
{
    uint64_t offset;
    uint32_t symbol_index, type;
    const elf_symbol_t *symbol;
    const elf_section_t *symbol_section;
    struct bpf_insn instruction;
    const char *where = relocations->name;
    int64_t position;

    elf_relocation_read(relocations, number, &offset, &symbol_index, &type);
    if (type == R_BPF_NONE_TYPE)
        return 1;
    if (offset % INSTRUCTION_SIZE != 0 || offset >= target->size)
        return elf_fail(loader, -EINVAL,
                        "section %s: relocation %zu at offset %llu is not an instruction of the "
                        "%llu-byte section %s",
                        where, number, (unsigned long long)offset, (unsigned long long)target->size,
                        target->name);
    if (symbol_index >= loader->symbol_count)
        return elf_fail(loader, -EINVAL,
                        "section %s: relocation %zu refers to symbol %u but the symbol table has "
                        "%zu entries",
                        where, number, symbol_index, loader->symbol_count);
    symbol = &loader->symbols[symbol_index];
    instruction = elf_instruction_at(target, offset);
    resolved->offset = offset;
    resolved->number = (uint32_t)number;

    if (type != R_BPF_64_64_TYPE && type != R_BPF_64_32_TYPE)
        return elf_fail(loader, -EINVAL,
                        "section %s: relocation %zu has type %u, which code sections do not use",
                        where, number, type);
    if (symbol->section == SHN_UNDEF)
        return elf_fail(loader, -ENOTSUP,
                        "section %s: relocation %zu refers to undefined symbol %s (extern "
                        "variables, kfuncs and .kconfig are not supported)",
                        where, number, elf_symbol_display_name(symbol));
    if (symbol->section >= loader->section_count)
        return elf_fail(loader, -EINVAL,
                        "section %s: relocation %zu refers to symbol %s in special section "
                        "0x%x",
                        where, number, elf_symbol_display_name(symbol), symbol->section);
    symbol_section = &loader->sections[symbol->section];
    /* An offset no section can have: the sums below would overflow (found by fuzz_elf). */
    if (symbol->value > symbol_section->size)
        return elf_fail(loader, -EINVAL,
                        "section %s: relocation %zu refers to symbol %s at offset %llu, past the "
                        "end of its section %s (%llu bytes)",
                        where, number, elf_symbol_display_name(symbol),
                        (unsigned long long)symbol->value, symbol_section->name,
                        (unsigned long long)symbol_section->size);

    if (type == R_BPF_64_32_TYPE) {
        if (instruction.code != OPCODE_CALL || instruction.src_reg != BPF_PSEUDO_CALL)
            return elf_fail(loader, -EINVAL,
                            "section %s: relocation %zu (R_BPF_64_32) applies to instruction %llu "
                            "(opcode 0x%02x), which is not a bpf-to-bpf call",
                            where, number, (unsigned long long)(offset / INSTRUCTION_SIZE),
                            instruction.code);
        if (!elf_section_is_code(symbol_section))
            return elf_fail(loader, -EINVAL,
                            "section %s: relocation %zu calls %s in section %s, which holds no "
                            "code",
                            where, number, elf_symbol_display_name(symbol), symbol_section->name);
        /* For a function symbol imm is -1; for a section symbol it counts instructions from
         * the start of the section, less one. */
        position = (int64_t)symbol->value + ((int64_t)instruction.imm + 1) * 8;
        resolved->kind = ELF_CODE_RELOCATION_CALL;
    } else {
        if (instruction.code != OPCODE_LD_IMM64)
            return elf_fail(loader, -EINVAL,
                            "section %s: relocation %zu (R_BPF_64_64) applies to instruction %llu "
                            "(opcode 0x%02x), which is not an ld_imm64",
                            where, number, (unsigned long long)(offset / INSTRUCTION_SIZE),
                            instruction.code);
        if (target->size - offset < 2 * INSTRUCTION_SIZE)
            return elf_fail(loader, -EINVAL,
                            "section %s: relocation %zu: the ld_imm64 at instruction %llu is cut "
                            "off by the end of section %s",
                            where, number, (unsigned long long)(offset / INSTRUCTION_SIZE),
                            target->name);
        /* The addend is in imm (REL relocations): a section symbol plus the offset of a
         * static variable, or a variable symbol plus the offset of a member. */
        position = (int64_t)symbol->value + instruction.imm;
        switch (symbol_section->kind) {
        case ELF_SECTION_MAPS_BTF:
        case ELF_SECTION_MAPS_LEGACY: {
            int64_t map =
                position < 0 ? -1 : elf_map_at(loader, symbol->section, (uint64_t)position);
            if (map < 0)
                return elf_fail(loader, -EINVAL,
                                "section %s: relocation %zu refers to %s at offset %lld of "
                                "section %s, where no map is defined",
                                where, number, elf_symbol_display_name(symbol), (long long)position,
                                symbol_section->name);
            resolved->kind = ELF_CODE_RELOCATION_MAP_FD;
            resolved->map_index = (uint32_t)map;
            return 0;
        }
        case ELF_SECTION_GLOBAL_DATA:
            if (symbol_section->size == 0 || position < 0 ||
                (uint64_t)position > symbol_section->size)
                return elf_fail(loader, -EINVAL,
                                "section %s: relocation %zu refers to offset %lld of the "
                                "%llu-byte section %s",
                                where, number, (long long)position,
                                (unsigned long long)symbol_section->size, symbol_section->name);
            resolved->kind = ELF_CODE_RELOCATION_MAP_VALUE;
            resolved->map_index = symbol_section->map_index;
            resolved->value_offset = (uint32_t)position;
            return 0;
        case ELF_SECTION_PROGRAM:
        case ELF_SECTION_TEXT:
            resolved->kind = ELF_CODE_RELOCATION_FUNCTION_ADDRESS;
            break;
        default:
            return elf_fail(loader, -EINVAL,
                            "section %s: relocation %zu refers to %s in section %s, which holds "
                            "no maps, global data or code",
                            where, number, elf_symbol_display_name(symbol), symbol_section->name);
        }
    }

    /* Calls and function addresses: the target must be an instruction of a function. */
    if (position < 0 || position % 8 != 0 || (uint64_t)position >= symbol_section->size ||
        !elf_function_at(loader, symbol->section, (uint64_t)position))
        return elf_fail(loader, -EINVAL,
                        "section %s: relocation %zu targets byte %lld of section %s, which is "
                        "not an instruction of a function",
                        where, number, (long long)position, symbol_section->name);
    resolved->target_section = symbol->section;
    resolved->target_offset = (uint64_t)position;
    return 0;
}

int elf_code_relocations_read(elf_loader_t *loader)
{
    for (size_t i = 1; i < loader->section_count; i++) {
        const elf_section_t *relocations = &loader->sections[i];
        elf_section_t *target;
        size_t count;
        size_t kept = 0;
        int err;

        if (relocations->kind != ELF_SECTION_RELOCATIONS)
            continue;
        if (relocations->header.sh_info == 0 ||
            relocations->header.sh_info >= loader->section_count)
            return elf_fail(loader, -EINVAL,
                            "section %s: applies to section %u, but the object has %zu sections",
                            relocations->name, relocations->header.sh_info, loader->section_count);
        target = &loader->sections[relocations->header.sh_info];
        if (!elf_section_is_code(target))
            continue; /* debug info, BTF, .maps (read with the maps) */
        err = elf_relocation_section_check(loader, relocations, &count);
        if (err)
            return err;
        if (target->relocation_section_name)
            return elf_fail(loader, -EINVAL, "sections %s and %s both relocate section %s",
                            target->relocation_section_name, relocations->name, target->name);
        target->relocation_section_name = relocations->name;
        if (count == 0)
            continue;
        target->relocations = ebpf_allocate_array(count, sizeof(*target->relocations));
        if (!target->relocations)
            return elf_out_of_memory(loader, "relocations");
        for (size_t number = 0; number < count; number++) {
            err = elf_code_relocation_resolve(loader, relocations, target, number,
                                              &target->relocations[kept]);
            if (err < 0)
                return err;
            kept += err == 0;
        }
        target->relocation_count = kept;
        qsort(target->relocations, kept, sizeof(*target->relocations), compare_relocation);
        for (size_t k = 1; k < kept; k++)
            if (target->relocations[k].offset == target->relocations[k - 1].offset)
                return elf_fail(
                    loader, -EINVAL,
                    "section %s: relocations %u and %u both apply to instruction "
                    "%llu",
                    relocations->name, target->relocations[k - 1].number,
                    target->relocations[k].number,
                    (unsigned long long)(target->relocations[k].offset / INSTRUCTION_SIZE));
    }
    return 0;
}

/* State of linking one program. */
typedef struct elf_link {
    elf_loader_t *loader;
    ebpf_elf_program_t *program;
    size_t instruction_capacity;
    size_t relocation_capacity;
    bool with_lines;
    uint32_t *linked_start; /* per loader function: first instruction in the program, or
                             * UINT32_MAX while not linked */
    size_t *linked_order;   /* loader function indexes in the order they were appended */
} elf_link_t;

static void elf_line_for(const elf_section_t *section, const elf_function_t *function,
                         uint64_t offset, ebpf_elf_line_info_t *line)
{
    size_t low = 0;
    size_t high = section->line_count;

    memset(line, 0, sizeof(*line));
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (section->lines[middle].offset <= offset)
            low = middle + 1;
        else
            high = middle;
    }
    /* A record before the function's start belongs to the function before it. */
    if (low > 0 && section->lines[low - 1].offset >= function->offset)
        *line = section->lines[low - 1].info;
}

static int elf_link_append(elf_link_t *link, size_t function_index)
{
    elf_loader_t *loader = link->loader;
    ebpf_elf_program_t *program = link->program;
    const elf_function_t *function = &loader->functions[function_index];
    const elf_section_t *section = &loader->sections[function->section];
    size_t count = (size_t)(function->size / INSTRUCTION_SIZE);
    size_t start = program->instruction_count;

    if (count > EBPF_ELF_MAX_PROGRAM_INSTRUCTIONS - start)
        return elf_fail(loader, -E2BIG,
                        "program %s: linking %s makes it longer than %u instructions",
                        program->function_name, function->name, EBPF_ELF_MAX_PROGRAM_INSTRUCTIONS);
    if (start + count > link->instruction_capacity) {
        size_t capacity = link->instruction_capacity ? link->instruction_capacity : 64;
        while (capacity < start + count)
            capacity *= 2;
        struct bpf_insn *instructions =
            ebpf_reallocate(program->instructions, capacity * sizeof(*instructions));
        if (!instructions)
            return elf_out_of_memory(loader, "program instructions");
        program->instructions = instructions;
        if (link->with_lines) {
            ebpf_elf_line_info_t *lines =
                ebpf_reallocate(program->line_info, capacity * sizeof(*lines));
            if (!lines)
                return elf_out_of_memory(loader, "program line info");
            program->line_info = lines;
        }
        link->instruction_capacity = capacity;
    }
    memcpy(program->instructions + start, section->data + function->offset, function->size);
    if (link->with_lines) {
        for (size_t i = 0; i < count; i++)
            elf_line_for(section, function, function->offset + i * INSTRUCTION_SIZE,
                         &program->line_info[start + i]);
    }
    program->functions[program->function_count].name = ebpf_strdup(function->name);
    if (!program->functions[program->function_count].name)
        return elf_out_of_memory(loader, "a function name");
    program->functions[program->function_count].start = (uint32_t)start;
    program->functions[program->function_count].count = (uint32_t)count;
    link->linked_order[program->function_count] = function_index;
    program->function_count++;
    program->instruction_count = start + count;
    link->linked_start[function_index] = (uint32_t)start;
    return 0;
}

/* The index in the program of the instruction at offset of section, appending its function
 * first when the program does not contain it yet. */
static int elf_link_target(elf_link_t *link, uint32_t section, uint64_t offset, uint32_t *index)
{
    const elf_function_t *function = elf_function_at(link->loader, section, offset);
    size_t function_index;
    int err;

    if (!function)
        return elf_fail(link->loader, -EINVAL,
                        "program %s: call to byte %llu of section %s, which is not inside a "
                        "function",
                        link->program->function_name, (unsigned long long)offset,
                        link->loader->sections[section].name);
    function_index = (size_t)(function - link->loader->functions);
    if (link->linked_start[function_index] == UINT32_MAX) {
        err = elf_link_append(link, function_index);
        if (err)
            return err;
    }
    *index = link->linked_start[function_index] +
             (uint32_t)((offset - function->offset) / INSTRUCTION_SIZE);
    return 0;
}

static int elf_link_add_relocation(elf_link_t *link, uint32_t index,
                                   ebpf_elf_relocation_kind_t kind, uint32_t map_index,
                                   uint32_t value_offset)
{
    ebpf_elf_program_t *program = link->program;

    if (program->relocation_count == link->relocation_capacity) {
        size_t capacity = link->relocation_capacity ? link->relocation_capacity * 2 : 8;
        ebpf_elf_relocation_t *grown =
            ebpf_reallocate(program->relocations, capacity * sizeof(*grown));
        if (!grown)
            return elf_out_of_memory(link->loader, "program relocations");
        program->relocations = grown;
        link->relocation_capacity = capacity;
    }
    program->relocations[program->relocation_count++] = (ebpf_elf_relocation_t){
        .instruction_index = index,
        .kind = kind,
        .map_index = map_index,
        .value_offset = value_offset,
    };
    return 0;
}

/* Rewrites instruction j of the piece of the program that came from function. */
static int elf_link_instruction(elf_link_t *link, const elf_function_t *function, uint32_t start,
                                uint32_t *j)
{
    ebpf_elf_program_t *program = link->program;
    const elf_section_t *section = &link->loader->sections[function->section];
    uint32_t index = start + *j;
    uint64_t offset = function->offset + (uint64_t)*j * INSTRUCTION_SIZE;
    const elf_code_relocation_t *relocation = elf_relocation_at(section, offset);
    struct bpf_insn *instruction = &program->instructions[index];
    uint32_t target;
    int err;

    if (instruction->code == OPCODE_LD_IMM64) {
        if ((uint64_t)*j + 1 >= function->size / INSTRUCTION_SIZE)
            return elf_fail(link->loader, -EINVAL,
                            "function %s: the ld_imm64 at its instruction %u is cut off by the "
                            "function's end",
                            function->name, *j);
        (*j)++; /* the second slot belongs to this instruction */
        if (!relocation) {
            if (instruction->src_reg != 0)
                return elf_fail(link->loader, -EINVAL,
                                "function %s: instruction %u is an ld_imm64 with src_reg %u but "
                                "has no relocation saying what it refers to",
                                function->name, *j - 1, instruction->src_reg);
            return 0;
        }
        switch (relocation->kind) {
        case ELF_CODE_RELOCATION_MAP_FD:
            instruction[0].src_reg = BPF_PSEUDO_MAP_FD;
            instruction[0].imm = (int32_t)relocation->map_index;
            instruction[1].imm = 0;
            return elf_link_add_relocation(link, index, EBPF_ELF_RELOCATION_MAP_FD,
                                           relocation->map_index, 0);
        case ELF_CODE_RELOCATION_MAP_VALUE:
            instruction[0].src_reg = BPF_PSEUDO_MAP_VALUE;
            instruction[0].imm = (int32_t)relocation->map_index;
            instruction[1].imm = (int32_t)relocation->value_offset;
            return elf_link_add_relocation(link, index, EBPF_ELF_RELOCATION_MAP_VALUE,
                                           relocation->map_index, relocation->value_offset);
        case ELF_CODE_RELOCATION_FUNCTION_ADDRESS:
            err = elf_link_target(link, relocation->target_section, relocation->target_offset,
                                  &target);
            if (err)
                return err;
            instruction = &program->instructions[index]; /* the array may have moved */
            instruction[0].src_reg = BPF_PSEUDO_FUNC;
            instruction[0].imm = (int32_t)((int64_t)target - (int64_t)index - 1);
            instruction[1].imm = 0;
            return 0;
        default:
            return elf_fail(link->loader, -EINVAL,
                            "function %s: ld_imm64 at instruction %u has a call relocation",
                            function->name, *j - 1);
        }
    }
    if (instruction->code == OPCODE_CALL && instruction->src_reg == BPF_PSEUDO_CALL) {
        uint32_t target_section = function->section;
        int64_t target_offset;

        if (relocation) {
            target_section = relocation->target_section;
            target_offset = (int64_t)relocation->target_offset;
        } else {
            /* A call inside one section needs no relocation: imm is already relative. */
            target_offset = (int64_t)offset + ((int64_t)instruction->imm + 1) * 8;
            if (target_offset < 0 || (uint64_t)target_offset >= section->size)
                return elf_fail(link->loader, -EINVAL,
                                "function %s: call at instruction %u jumps outside section %s",
                                function->name, *j, section->name);
        }
        err = elf_link_target(link, target_section, (uint64_t)target_offset, &target);
        if (err)
            return err;
        program->instructions[index].imm = (int32_t)((int64_t)target - (int64_t)index - 1);
        return 0;
    }
    if (relocation)
        return elf_fail(link->loader, -EINVAL,
                        "function %s: relocation %u applies to instruction %u, which is neither "
                        "an ld_imm64 nor a call",
                        function->name, relocation->number, *j);
    return 0;
}

static int elf_link_program(elf_link_t *link, size_t function_index)
{
    ebpf_elf_program_t *program = link->program;
    int err;

    memset(link->linked_start, 0xff, link->loader->function_count * sizeof(*link->linked_start));
    program->functions =
        ebpf_allocate_array(link->loader->function_count, sizeof(*program->functions));
    if (!program->functions)
        return elf_out_of_memory(link->loader, "the program's function list");
    err = elf_link_append(link, function_index);
    /* Appending inside the loop grows function_count: newly called functions get linked in
     * turn, which makes the linking transitive. */
    for (size_t piece = 0; !err && piece < program->function_count; piece++) {
        const elf_function_t *function = &link->loader->functions[link->linked_order[piece]];
        uint32_t start = program->functions[piece].start;
        uint32_t count = program->functions[piece].count;
        for (uint32_t j = 0; !err && j < count; j++)
            err = elf_link_instruction(link, function, start, &j);
    }
    return err;
}

int elf_programs_link(elf_loader_t *loader)
{
    ebpf_elf_object_t *object = loader->object;
    elf_link_t link = {.loader = loader};
    size_t count = 0;
    int err = 0;

    for (size_t i = 0; i < loader->function_count; i++)
        if (loader->sections[loader->functions[i].section].kind == ELF_SECTION_PROGRAM)
            loader->functions[i].program_index = (int64_t)count++;
    if (count == 0)
        return 0;
    for (size_t i = 1; i < loader->section_count; i++)
        link.with_lines = link.with_lines || loader->sections[i].line_count > 0;
    object->programs = ebpf_allocate_array(count, sizeof(*object->programs));
    link.linked_start = ebpf_allocate_array(loader->function_count, sizeof(*link.linked_start));
    link.linked_order = ebpf_allocate_array(loader->function_count, sizeof(*link.linked_order));
    if (!object->programs || !link.linked_start || !link.linked_order) {
        err = elf_out_of_memory(loader, "the program table");
        goto done;
    }
    for (size_t i = 0; i < loader->function_count && !err; i++) {
        const elf_function_t *function = &loader->functions[i];
        ebpf_elf_program_t *program;

        if (function->program_index < 0)
            continue;
        program = &object->programs[object->program_count++];
        program->section_name = ebpf_strdup(loader->sections[function->section].name);
        program->function_name = ebpf_strdup(function->name);
        if (!program->section_name || !program->function_name) {
            err = elf_out_of_memory(loader, "a program name");
            break;
        }
        link.program = program;
        link.instruction_capacity = 0;
        link.relocation_capacity = 0;
        err = elf_link_program(&link, i);
    }
done:
    ebpf_free(link.linked_start);
    ebpf_free(link.linked_order);
    return err;
}
