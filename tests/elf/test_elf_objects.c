/* ELF loader tests on the objects clang builds from tests/bpf: exact maps, programs and linking. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebpf_elf.h"
#include "ebpf_platform.h"
#include "elf_test_support.h"

#define OPCODE_LD_IMM64 (BPF_LD | BPF_IMM | BPF_DW)
#define OPCODE_CALL     (BPF_JMP | BPF_CALL)
/* LIBBPF_PIN_BY_NAME of bpf_helpers.h, which host code does not include. */
#define LIBBPF_PIN_BY_NAME_VALUE 1

static ebpf_elf_object_t *open_object(const char *name)
{
    ebpf_elf_object_t *object = NULL;
    int err = ebpf_elf_open_file(test_object_path(name), &object);
    if (err)
        fail_msg("opening %s: %d: %s", name, err, ebpf_last_error());
    assert_non_null(object);
    return object;
}

static const ebpf_elf_map_t *map_named(const ebpf_elf_object_t *object, const char *name)
{
    const ebpf_elf_map_t *map = ebpf_elf_find_map(object, name);
    if (!map)
        fail_msg("map %s not found", name);
    return map;
}

static uint32_t map_index(const ebpf_elf_object_t *object, const char *name)
{
    return (uint32_t)(map_named(object, name) - object->maps);
}

static const ebpf_elf_program_t *program_named(const ebpf_elf_object_t *object, const char *name)
{
    const ebpf_elf_program_t *program = ebpf_elf_find_program_by_function(object, name);
    if (!program)
        fail_msg("program %s not found", name);
    return program;
}

static const ebpf_elf_linked_function_t *linked_function(const ebpf_elf_program_t *program,
                                                         const char *name)
{
    for (size_t i = 0; i < program->function_count; i++)
        if (strcmp(program->functions[i].name, name) == 0)
            return &program->functions[i];
    return NULL;
}

static bool instruction_is_relocated(const ebpf_elf_program_t *program, size_t index)
{
    for (size_t i = 0; i < program->relocation_count; i++)
        if (program->relocations[i].instruction_index == index)
            return true;
    return false;
}

/* Every piece of the linked program is its function's instructions from the object, except the
 * fields the loader must rewrite: the map / function of an ld_imm64 and the offset of a
 * bpf-to-bpf call. The pieces tile the program exactly. */
static void assert_linked_from_object(const ebpf_elf_program_t *program, const uint8_t *image,
                                      size_t size)
{
    size_t covered = 0;

    assert_true(program->function_count >= 1);
    assert_string_equal(program->functions[0].name, program->function_name);
    for (size_t f = 0; f < program->function_count; f++) {
        const ebpf_elf_linked_function_t *piece = &program->functions[f];
        const struct bpf_insn *raw;
        size_t raw_count;

        assert_int_equal(piece->start, covered);
        assert_true(test_function_raw(image, size, piece->name, &raw, &raw_count));
        assert_int_equal(piece->count, raw_count);
        for (size_t i = 0; i < raw_count; i++) {
            const struct bpf_insn *linked = &program->instructions[piece->start + i];
            assert_int_equal(linked->code, raw[i].code);
            assert_int_equal(linked->dst_reg, raw[i].dst_reg);
            assert_int_equal(linked->off, raw[i].off);
            if (raw[i].code == OPCODE_LD_IMM64) {
                bool relocated = instruction_is_relocated(program, piece->start + i) ||
                                 linked->src_reg == BPF_PSEUDO_FUNC;
                if (!relocated) {
                    assert_int_equal(linked->src_reg, raw[i].src_reg);
                    assert_int_equal(linked->imm, raw[i].imm);
                    assert_int_equal(linked[1].imm, raw[i + 1].imm);
                }
                i++;
                continue;
            }
            assert_int_equal(linked->src_reg, raw[i].src_reg);
            if (!(raw[i].code == OPCODE_CALL && raw[i].src_reg == BPF_PSEUDO_CALL))
                assert_int_equal(linked->imm, raw[i].imm);
        }
        covered += piece->count;
    }
    assert_int_equal(covered, program->instruction_count);
}

/* Each relocation names an ld_imm64 that says the same thing. */
static void assert_relocations_consistent(const ebpf_elf_object_t *object,
                                          const ebpf_elf_program_t *program)
{
    size_t pseudo_count = 0;

    for (size_t i = 0; i < program->relocation_count; i++) {
        const ebpf_elf_relocation_t *relocation = &program->relocations[i];
        const struct bpf_insn *instruction = &program->instructions[relocation->instruction_index];
        assert_true(relocation->instruction_index + 1 < program->instruction_count);
        if (i > 0)
            assert_true(relocation->instruction_index >
                        program->relocations[i - 1].instruction_index);
        assert_int_equal(instruction->code, OPCODE_LD_IMM64);
        assert_int_equal(instruction->src_reg, relocation->kind);
        assert_int_equal(instruction->imm, relocation->map_index);
        assert_int_equal(instruction[1].imm, relocation->value_offset);
        assert_true(relocation->map_index < object->map_count);
        if (relocation->kind == EBPF_ELF_RELOCATION_MAP_VALUE)
            assert_true(relocation->value_offset <= object->maps[relocation->map_index].value_size);
        else
            assert_int_equal(relocation->value_offset, 0);
    }
    for (size_t i = 0; i < program->instruction_count; i++) {
        const struct bpf_insn *instruction = &program->instructions[i];
        if (instruction->code == OPCODE_LD_IMM64 &&
            (instruction->src_reg == BPF_PSEUDO_MAP_FD ||
             instruction->src_reg == BPF_PSEUDO_MAP_VALUE)) {
            assert_true(instruction_is_relocated(program, i));
            pseudo_count++;
        }
    }
    assert_int_equal(pseudo_count, program->relocation_count);
}

/* The bpf-to-bpf call at index of program lands on the first instruction of callee. */
static void assert_calls(const ebpf_elf_program_t *program, size_t index, const char *callee)
{
    const struct bpf_insn *instruction = &program->instructions[index];
    const ebpf_elf_linked_function_t *target = linked_function(program, callee);

    assert_non_null(target);
    assert_int_equal(instruction->code, OPCODE_CALL);
    assert_int_equal(instruction->src_reg, BPF_PSEUDO_CALL);
    assert_int_equal((int64_t)index + 1 + instruction->imm, target->start);
}

/* The single bpf-to-bpf call inside the piece of caller in program lands on callee. */
static void assert_piece_calls(const ebpf_elf_program_t *program, const char *caller,
                               const char *callee)
{
    const ebpf_elf_linked_function_t *piece = linked_function(program, caller);
    size_t found = 0;

    assert_non_null(piece);
    for (size_t i = piece->start; i < piece->start + piece->count; i++) {
        const struct bpf_insn *instruction = &program->instructions[i];
        if (instruction->code == OPCODE_CALL && instruction->src_reg == BPF_PSEUDO_CALL) {
            assert_calls(program, i, callee);
            found++;
        }
    }
    assert_int_equal(found, 1);
}

static void check_program(const ebpf_elf_object_t *object, const char *object_name,
                          const ebpf_elf_program_t *program)
{
    size_t size;
    uint8_t *image = test_object_read(object_name, &size);

    assert_linked_from_object(program, image, size);
    assert_relocations_consistent(object, program);
    free(image);
}

static void expect_btf_map(const ebpf_elf_object_t *object, const char *name, uint32_t type,
                           uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                           uint32_t map_flags)
{
    const ebpf_elf_map_t *map = map_named(object, name);
    assert_int_equal(map->origin, EBPF_ELF_MAP_BTF);
    assert_string_equal(map->section_name, ".maps");
    assert_int_equal(map->type, type);
    assert_int_equal(map->key_size, key_size);
    assert_int_equal(map->value_size, value_size);
    assert_int_equal(map->max_entries, max_entries);
    assert_int_equal(map->map_flags, map_flags);
    assert_null(map->initial_data);
    assert_int_equal(map->inner_map_index, -1);
}

static void test_maps_all(void **state)
{
    ebpf_elf_object_t *object = open_object("maps_all");
    /* In the order the program uses them, which is the order of their relocations. */
    static const char *const used[] = {
        "array_map",
        "hash_map",
        "percpu_array_map",
        "percpu_hash_map",
        "lru_hash_map",
        "lru_percpu_hash_map",
        "queue_map",
        "stack_map",
        "lpm_trie_map",
        "array_of_maps",
        "hash_of_maps",
        "ringbuf_map",
        "perf_event_array_map",
        "prog_array_map",
    };
    const ebpf_elf_program_t *program;

    assert_int_equal(object->map_count, 14);
    expect_btf_map(object, "array_map", BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0);
    expect_btf_map(object, "hash_map", BPF_MAP_TYPE_HASH, 12, 16, 1024, 0);
    expect_btf_map(object, "percpu_array_map", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, 0);
    expect_btf_map(object, "percpu_hash_map", BPF_MAP_TYPE_PERCPU_HASH, 8, 4, 32,
                   BPF_F_NO_PREALLOC);
    expect_btf_map(object, "lru_hash_map", BPF_MAP_TYPE_LRU_HASH, 4, 16, 64, 0);
    expect_btf_map(object, "lru_percpu_hash_map", BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 128, 0);
    expect_btf_map(object, "prog_array_map", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 8, 0);
    expect_btf_map(object, "queue_map", BPF_MAP_TYPE_QUEUE, 0, 4, 10, 0);
    expect_btf_map(object, "stack_map", BPF_MAP_TYPE_STACK, 0, 8, 20, 0);
    expect_btf_map(object, "lpm_trie_map", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 256, BPF_F_NO_PREALLOC);
    expect_btf_map(object, "array_of_maps", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 3, 0);
    expect_btf_map(object, "hash_of_maps", BPF_MAP_TYPE_HASH_OF_MAPS, 8, 4, 5, 0);
    expect_btf_map(object, "ringbuf_map", BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0);
    /* No max_entries in the object: left 0 for the core to choose. */
    expect_btf_map(object, "perf_event_array_map", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0, 0);

    assert_int_equal(map_named(object, "hash_map")->pinning, LIBBPF_PIN_BY_NAME_VALUE);
    assert_int_equal(map_named(object, "array_map")->pinning, 0);

    /* Key and value BTF ids: present for __type, absent for __uint(key_size), and the same
     * C type gives the same id. */
    assert_int_not_equal(map_named(object, "array_map")->key_btf_type_id, 0);
    assert_int_equal(map_named(object, "array_map")->key_btf_type_id,
                     map_named(object, "lru_hash_map")->key_btf_type_id);
    assert_int_equal(map_named(object, "array_map")->value_btf_type_id,
                     map_named(object, "lru_percpu_hash_map")->value_btf_type_id);
    assert_int_equal(map_named(object, "hash_map")->value_btf_type_id,
                     map_named(object, "lru_hash_map")->value_btf_type_id);
    assert_int_not_equal(map_named(object, "hash_map")->key_btf_type_id,
                         map_named(object, "array_map")->key_btf_type_id);
    assert_int_equal(map_named(object, "percpu_array_map")->key_btf_type_id, 0);
    assert_int_equal(map_named(object, "percpu_array_map")->value_btf_type_id, 0);
    assert_int_equal(map_named(object, "queue_map")->key_btf_type_id, 0);
    assert_int_not_equal(map_named(object, "queue_map")->value_btf_type_id, 0);

    /* Map-in-map: the inner definitions, owned by the outer map and not in maps[]. */
    const ebpf_elf_map_t *inner = map_named(object, "array_of_maps")->inner_map;
    assert_non_null(inner);
    assert_string_equal(inner->name, "array_of_maps.inner");
    assert_int_equal(inner->type, BPF_MAP_TYPE_ARRAY);
    assert_int_equal(inner->key_size, 4);
    assert_int_equal(inner->value_size, 4);
    assert_int_equal(inner->max_entries, 2);
    assert_null(inner->inner_map);
    inner = map_named(object, "hash_of_maps")->inner_map;
    assert_non_null(inner);
    assert_int_equal(inner->type, BPF_MAP_TYPE_HASH);
    assert_int_equal(inner->key_size, 4);
    assert_int_equal(inner->value_size, 2);
    assert_int_equal(inner->max_entries, 7);
    assert_null(map_named(object, "array_map")->inner_map);
    assert_null(ebpf_elf_find_map(object, "array_of_maps.inner"));

    assert_int_equal(object->program_count, 1);
    program = &object->programs[0];
    assert_string_equal(program->section_name, "netevent_monitor");
    assert_string_equal(program->function_name, "use_every_map");
    assert_int_equal(program->function_count, 1);
    assert_int_equal(program->relocation_count, EBPF_ARRAY_SIZE(used));
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(used); i++) {
        assert_int_equal(program->relocations[i].kind, EBPF_ELF_RELOCATION_MAP_FD);
        assert_int_equal(program->relocations[i].map_index, map_index(object, used[i]));
    }
    check_program(object, "maps_all", program);
    assert_string_equal(object->license, "GPL");
    assert_false(object->has_kernel_version);
    assert_non_null(object->btf);
    assert_non_null(object->btf_ext);
    ebpf_elf_free(object);
}

static void expect_global(const ebpf_elf_object_t *object, const char *name, uint32_t size,
                          bool read_only)
{
    const ebpf_elf_map_t *map = map_named(object, name);
    assert_int_equal(map->origin, EBPF_ELF_MAP_GLOBAL_DATA);
    assert_string_equal(map->section_name, name);
    assert_int_equal(map->type, BPF_MAP_TYPE_ARRAY);
    assert_int_equal(map->key_size, 4);
    assert_int_equal(map->value_size, size);
    assert_int_equal(map->max_entries, 1);
    assert_int_equal(map->initial_data_size, size);
    assert_int_equal(map->read_only, read_only);
    /* The value type is the section's DATASEC. */
    assert_int_not_equal(map->value_btf_type_id, 0);
}

static bool has_value_relocation(const ebpf_elf_object_t *object, const ebpf_elf_program_t *program,
                                 const char *map, uint32_t offset)
{
    for (size_t i = 0; i < program->relocation_count; i++) {
        const ebpf_elf_relocation_t *relocation = &program->relocations[i];
        if (relocation->kind == EBPF_ELF_RELOCATION_MAP_VALUE &&
            relocation->map_index == map_index(object, map) && relocation->value_offset == offset)
            return true;
    }
    return false;
}

static void test_globals(void **state)
{
    ebpf_elf_object_t *object = open_object("globals");
    const ebpf_elf_program_t *program;
    const ebpf_elf_map_t *map;
    uint32_t u32;
    uint16_t u16;
    uint64_t u64;

    assert_int_equal(object->map_count, 6);
    assert_int_equal(map_named(object, "totals")->origin, EBPF_ELF_MAP_BTF);
    expect_global(object, ".data", 16, false);
    expect_global(object, ".rodata", 16, true);
    expect_global(object, ".bss", 24, false);
    expect_global(object, ".data.counters", 4, false);
    expect_global(object, ".rodata.tags", 8, true);
    /* BTF maps come before global data. */
    assert_true(map_index(object, "totals") < map_index(object, ".data"));

    map = map_named(object, ".data");
    memcpy(&u32, map->initial_data, 4);
    assert_int_equal(u32, 0x11223344);
    memcpy(&u64, map->initial_data + 8, 8);
    assert_int_equal(u64, 0x0102030405060708ULL);
    map = map_named(object, ".rodata");
    memcpy(&u32, map->initial_data, 4);
    assert_int_equal(u32, 6);
    memcpy(&u16, map->initial_data + 4, 2);
    assert_int_equal(u16, 443);
    assert_string_equal((const char *)map->initial_data + 6, "seen %llu");
    map = map_named(object, ".bss");
    assert_null(map->initial_data); /* all zeros */
    map = map_named(object, ".data.counters");
    memcpy(&u32, map->initial_data, 4);
    assert_int_equal(u32, 0xCAFE);
    assert_memory_equal(map_named(object, ".rodata.tags")->initial_data, "tag0123", 8);

    assert_int_equal(object->program_count, 1);
    program = &object->programs[0];
    assert_string_equal(program->function_name, "count_packets");
    assert_int_equal(program->relocation_count, 11);
    assert_true(has_value_relocation(object, program, ".rodata", 0)); /* protocol_filter */
    assert_true(has_value_relocation(object, program, ".rodata", 4)); /* port_filter */
    assert_true(has_value_relocation(object, program, ".rodata", 6)); /* the printk format */
    assert_true(has_value_relocation(object, program, ".data", 0));   /* packet_limit */
    assert_true(has_value_relocation(object, program, ".data", 8));   /* start_time */
    assert_true(has_value_relocation(object, program, ".bss", 0));    /* packets_seen */
    assert_true(has_value_relocation(object, program, ".bss", 8));    /* drops */
    assert_true(has_value_relocation(object, program, ".data.counters", 0));
    check_program(object, "globals", program);

    assert_string_equal(object->license, "Dual BSD/GPL");
    assert_true(object->has_kernel_version);
    assert_int_equal(object->kernel_version, 0x050a00);
    ebpf_elf_free(object);
}

static void test_subprograms(void **state)
{
    ebpf_elf_object_t *object = open_object("subprograms");
    const ebpf_elf_program_t *first, *second;
    size_t size;
    uint8_t *image = test_object_read("subprograms", &size);
    const struct bpf_insn *raw;
    size_t raw_count;
    size_t expected;

    /* .text functions are subprograms, never programs. */
    assert_int_equal(object->program_count, 2);
    assert_null(ebpf_elf_find_program_by_function(object, "weigh_event"));
    assert_null(ebpf_elf_find_program_by_function(object, "scale_global"));
    assert_null(ebpf_elf_find_program_by_section(object, ".text"));

    first = ebpf_elf_find_program_by_section(object, "netevent_monitor");
    second = ebpf_elf_find_program_by_section(object, "netevent_monitor/second");
    assert_non_null(first);
    assert_non_null(second);
    assert_ptr_equal(first, program_named(object, "first_program"));
    assert_ptr_equal(second, program_named(object, "second_program"));

    /* first_program -> weigh_event -> count_call: the nested call is linked transitively. */
    assert_int_equal(first->function_count, 3);
    assert_string_equal(first->functions[1].name, "weigh_event");
    assert_string_equal(first->functions[2].name, "count_call");
    assert_piece_calls(first, "first_program", "weigh_event");
    assert_piece_calls(first, "weigh_event", "count_call");
    expected = 0;
    const char *first_functions[] = {"first_program", "weigh_event", "count_call"};
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(first_functions); i++) {
        assert_true(test_function_raw(image, size, first_functions[i], &raw, &raw_count));
        expected += raw_count;
    }
    assert_int_equal(first->instruction_count, expected);

    /* second_program calls all three; count_call is shared with first_program and linked
     * once. */
    assert_int_equal(second->function_count, 4);
    assert_non_null(linked_function(second, "weigh_event"));
    assert_non_null(linked_function(second, "scale_global"));
    assert_non_null(linked_function(second, "count_call"));
    assert_piece_calls(second, "weigh_event", "count_call");
    free(image);

    /* The map reference inside count_call follows it into both programs. */
    assert_int_equal(first->relocation_count, 1);
    assert_int_equal(second->relocation_count, 1);
    assert_true(first->relocations[0].instruction_index >=
                linked_function(first, "count_call")->start);
    assert_true(second->relocations[0].instruction_index >=
                linked_function(second, "count_call")->start);
    assert_int_equal(first->relocations[0].map_index, map_index(object, "call_counts"));
    check_program(object, "subprograms", first);
    check_program(object, "subprograms", second);
    ebpf_elf_free(object);
}

static void test_subprogram_calls_of_second_program(void **state)
{
    ebpf_elf_object_t *object = open_object("subprograms");
    const ebpf_elf_program_t *second = program_named(object, "second_program");
    const ebpf_elf_linked_function_t *own = &second->functions[0];
    const char *expected[] = {"weigh_event", "scale_global", "count_call"};
    size_t call = 0;

    for (size_t i = own->start; i < own->start + own->count; i++) {
        const struct bpf_insn *instruction = &second->instructions[i];
        if (instruction->code == OPCODE_CALL && instruction->src_reg == BPF_PSEUDO_CALL) {
            assert_true(call < EBPF_ARRAY_SIZE(expected));
            assert_calls(second, i, expected[call]);
            call++;
        }
    }
    assert_int_equal(call, 3);
    ebpf_elf_free(object);
}

static void test_line_info(void **state)
{
    ebpf_elf_object_t *object = open_object("subprograms");
    const ebpf_elf_program_t *first = program_named(object, "first_program");
    const ebpf_elf_linked_function_t *count_call = linked_function(first, "count_call");
    bool saw_lookup = false;

    assert_non_null(first->line_info);
    assert_non_null(first->line_info[0].file_name);
    assert_non_null(strstr(first->line_info[0].file_name, "subprograms.bpf.c"));
    assert_non_null(strstr(first->line_info[0].line_text, "weigh_event("));
    assert_true(first->line_info[0].line > 0);
    assert_true(first->line_info[0].column > 0);
    /* Lines of an appended subprogram are its own. */
    for (size_t i = count_call->start; i < count_call->start + count_call->count; i++) {
        const ebpf_elf_line_info_t *line = &first->line_info[i];
        assert_non_null(line->file_name);
        if (strstr(line->line_text, "bpf_map_lookup_elem(&call_counts"))
            saw_lookup = true;
        assert_null(strstr(line->line_text, "weigh_event("));
    }
    assert_true(saw_lookup);
    ebpf_elf_free(object);
}

static void test_multi_prog(void **state)
{
    ebpf_elf_object_t *object = open_object("multi_prog");
    static const char *const sections[] = {"netevent_monitor", "netevent_monitor", "xdp", "bind"};
    static const char *const functions[] = {"accept_all", "count_in_same_section", "drop_all",
                                            "record_bind"};

    assert_int_equal(object->program_count, 4);
    for (size_t i = 0; i < object->program_count; i++) {
        assert_string_equal(object->programs[i].section_name, sections[i]);
        assert_string_equal(object->programs[i].function_name, functions[i]);
        assert_int_equal(object->programs[i].function_count, 1);
        check_program(object, "multi_prog", &object->programs[i]);
    }
    /* Two programs in one section: by section finds the first, by function finds each. */
    assert_ptr_equal(ebpf_elf_find_program_by_section(object, "netevent_monitor"),
                     &object->programs[0]);
    assert_ptr_equal(ebpf_elf_find_program_by_function(object, "count_in_same_section"),
                     &object->programs[1]);
    assert_ptr_equal(ebpf_elf_find_program_by_section(object, "xdp"), &object->programs[2]);
    assert_null(ebpf_elf_find_program_by_section(object, "netevent"));
    assert_null(ebpf_elf_find_program_by_function(object, "missing"));
    assert_null(ebpf_elf_find_program_by_function(NULL, "accept_all"));
    assert_int_equal(object->programs[0].instruction_count, 2);
    assert_int_equal(object->programs[2].instruction_count, 2);
    assert_int_equal(object->programs[1].relocation_count, 1);
    assert_int_equal(object->programs[3].relocation_count, 1);
    assert_int_equal(object->programs[0].relocation_count, 0);
    assert_string_equal(object->license, "MIT");
    ebpf_elf_free(object);
}

static void test_legacy_maps(void **state)
{
    ebpf_elf_object_t *object = open_object("legacy_maps");
    const ebpf_elf_map_t *map;

    assert_int_equal(object->map_count, 4);
    map = &object->maps[0];
    assert_string_equal(map->name, "legacy_array");
    assert_int_equal(map->origin, EBPF_ELF_MAP_LEGACY);
    assert_string_equal(map->section_name, "maps");
    assert_int_equal(map->type, BPF_MAP_TYPE_ARRAY);
    assert_int_equal(map->key_size, 4);
    assert_int_equal(map->value_size, 8);
    assert_int_equal(map->max_entries, 32);
    assert_int_equal(map->map_flags, 0);
    map = &object->maps[1];
    assert_string_equal(map->name, "legacy_hash");
    assert_int_equal(map->type, BPF_MAP_TYPE_HASH);
    assert_int_equal(map->key_size, 8);
    assert_int_equal(map->value_size, 16);
    assert_int_equal(map->max_entries, 100);
    assert_int_equal(map->map_flags, BPF_F_NO_PREALLOC);
    map = &object->maps[2];
    assert_string_equal(map->name, "legacy_ringbuf");
    assert_int_equal(map->type, BPF_MAP_TYPE_RINGBUF);
    assert_int_equal(map->max_entries, 8192);
    /* clang put the record initializer in .rodata.cst16, which becomes global data. */
    map = &object->maps[3];
    assert_string_equal(map->name, ".rodata.cst16");
    assert_int_equal(map->origin, EBPF_ELF_MAP_GLOBAL_DATA);
    assert_true(map->read_only);

    assert_int_equal(object->program_count, 1);
    assert_int_equal(object->programs[0].relocation_count, 4);
    assert_int_equal(object->programs[0].relocations[0].map_index, 0);
    assert_int_equal(object->programs[0].relocations[0].kind, EBPF_ELF_RELOCATION_MAP_FD);
    assert_int_equal(object->programs[0].relocations[1].kind, EBPF_ELF_RELOCATION_MAP_VALUE);
    assert_int_equal(object->programs[0].relocations[1].map_index, 3);
    check_program(object, "legacy_maps", &object->programs[0]);
    assert_true(object->has_kernel_version);
    assert_int_equal(object->kernel_version, 0x060100);
    ebpf_elf_free(object);
}

static void test_legacy_maps_windows_layout(void **state)
{
    ebpf_elf_object_t *object = open_object("legacy_maps_windows");
    const ebpf_elf_map_t *outer = map_named(object, "outer_by_index");
    const ebpf_elf_map_t *inner = map_named(object, "inner_template");

    assert_int_equal(object->map_count, 2);
    assert_int_equal(inner->type, BPF_MAP_TYPE_HASH);
    assert_int_equal(inner->max_entries, 16);
    assert_int_equal(inner->inner_map_index, -1);
    assert_int_equal(outer->type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    assert_int_equal(outer->inner_map_index, inner - object->maps);
    assert_int_equal(outer->pinning, LIBBPF_PIN_BY_NAME_VALUE);
    assert_int_equal(outer->map_flags, 0);
    ebpf_elf_free(object);
}

static void test_libbpf_style(void **state)
{
    ebpf_elf_object_t *object = open_object("libbpf_style");
    const ebpf_elf_program_t *program = program_named(object, "record_event");

    assert_int_equal(object->map_count, 2);
    expect_btf_map(object, "events", BPF_MAP_TYPE_RINGBUF, 0, 0, 1 << 14, 0);
    expect_btf_map(object, "event_count", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, 0);
    assert_string_equal(program->section_name, "netevent_monitor");
    assert_int_equal(program->function_count, 2);
    assert_piece_calls(program, "record_event", "clamp_length");
    assert_int_equal(program->relocation_count, 2);
    assert_int_equal(program->relocations[0].map_index, map_index(object, "event_count"));
    assert_int_equal(program->relocations[1].map_index, map_index(object, "events"));
    check_program(object, "libbpf_style", program);
    assert_string_equal(object->license, "Dual BSD/GPL");
    ebpf_elf_free(object);
}

static void test_netevent_capture(void **state)
{
    ebpf_elf_object_t *object = open_object("netevent_capture");
    const ebpf_elf_program_t *program =
        ebpf_elf_find_program_by_section(object, "netevent_monitor");

    assert_non_null(program);
    assert_string_equal(program->function_name, "netevent_monitor_capture");
    assert_int_equal(object->map_count, 1);
    expect_btf_map(object, "netevent_events", BPF_MAP_TYPE_RINGBUF, 0, 0, 256 * 1024, 0);
    assert_int_equal(program->relocation_count, 1);
    check_program(object, "netevent_capture", program);
    ebpf_elf_free(object);
}

static void test_map_initial_values(void **state)
{
    ebpf_elf_object_t *object = open_object("map_initial_values");
    const ebpf_elf_map_t *outer = map_named(object, "outer_array");
    const ebpf_elf_map_t *jump_table = map_named(object, "jump_table");

    assert_int_equal(object->map_count, 4);
    assert_non_null(outer->inner_map);
    assert_int_equal(outer->inner_map->type, BPF_MAP_TYPE_ARRAY);
    assert_int_equal(outer->inner_map->value_size, 8);
    assert_int_equal(outer->value_size, 4);
    assert_int_equal(outer->initial_value_count, 2);
    assert_int_equal(outer->initial_values[0].key, 0);
    assert_int_equal(outer->initial_values[0].target_index, map_index(object, "inner_first"));
    assert_int_equal(outer->initial_values[1].key, 2);
    assert_int_equal(outer->initial_values[1].target_index, map_index(object, "inner_second"));

    /* A program array with __array(values, int (void *)) holds programs. */
    assert_null(jump_table->inner_map);
    assert_int_equal(jump_table->value_size, 4);
    assert_int_equal(jump_table->initial_value_count, 1);
    assert_int_equal(jump_table->initial_values[0].key, 1);
    assert_ptr_equal(&object->programs[jump_table->initial_values[0].target_index],
                     program_named(object, "tail_target"));
    assert_int_equal(map_named(object, "inner_first")->initial_value_count, 0);
    check_program(object, "map_initial_values", program_named(object, "dispatch"));
    ebpf_elf_free(object);
}

static void test_callback_address(void **state)
{
    ebpf_elf_object_t *object = open_object("callbacks");
    const ebpf_elf_program_t *program = program_named(object, "sum_indexes");
    const ebpf_elf_linked_function_t *callback = linked_function(program, "add_index");
    size_t found = 0;

    assert_non_null(callback);
    for (size_t i = 0; i < program->instruction_count; i++) {
        const struct bpf_insn *instruction = &program->instructions[i];
        if (instruction->code == OPCODE_LD_IMM64 && instruction->src_reg == BPF_PSEUDO_FUNC) {
            assert_int_equal((int64_t)i + 1 + instruction->imm, callback->start);
            found++;
        }
    }
    assert_int_equal(found, 1);
    assert_int_equal(program->relocation_count, 0);
    check_program(object, "callbacks", program);
    ebpf_elf_free(object);
}

/* The same bytes through memory give the same result; the buffer may be freed right after. */
static void test_open_memory_matches_file(void **state)
{
    size_t size;
    uint8_t *image = test_object_read("subprograms", &size);
    ebpf_elf_object_t *from_memory = NULL;
    ebpf_elf_object_t *from_file = open_object("subprograms");

    assert_int_equal(ebpf_elf_open_memory(image, size, "in-memory.o", &from_memory), 0);
    memset(image, 0xAB, size);
    free(image);
    assert_string_equal(from_memory->name, "in-memory.o");
    assert_int_equal(from_memory->program_count, from_file->program_count);
    assert_int_equal(from_memory->map_count, from_file->map_count);
    for (size_t i = 0; i < from_file->program_count; i++) {
        const ebpf_elf_program_t *a = &from_memory->programs[i];
        const ebpf_elf_program_t *b = &from_file->programs[i];
        assert_int_equal(a->instruction_count, b->instruction_count);
        assert_memory_equal(a->instructions, b->instructions,
                            a->instruction_count * sizeof(struct bpf_insn));
        assert_string_equal(a->line_info[0].line_text, b->line_info[0].line_text);
    }
    ebpf_elf_free(from_memory);
    ebpf_elf_free(from_file);
}

static void test_open_errors(void **state)
{
    ebpf_elf_object_t *object = (ebpf_elf_object_t *)&object;
    int err;

    err = ebpf_elf_open_file("/nonexistent/object.o", &object);
    assert_int_equal(err, -ENOENT);
    assert_null(object);
    assert_non_null(strstr(ebpf_last_error(), "/nonexistent/object.o"));
    err = ebpf_elf_open_file(EBPF_TEST_BPF_DIR, &object);
    assert_int_equal(err, -EINVAL);
    assert_non_null(strstr(ebpf_last_error(), "not a regular file"));
    err = ebpf_elf_open_memory("", 0, "empty.o", &object);
    assert_int_equal(err, -ENOEXEC);
    assert_non_null(strstr(ebpf_last_error(), "empty.o: empty object"));
    assert_int_equal(ebpf_elf_open_memory(NULL, 10, NULL, &object), -EINVAL);
    assert_int_equal(ebpf_elf_open_memory("x", 1, NULL, NULL), -EINVAL);
    err = ebpf_elf_open_memory("not an elf at all", 17, NULL, &object);
    assert_int_equal(err, -ENOEXEC);
    assert_non_null(strstr(ebpf_last_error(), "<memory>: not an ELF file"));
    ebpf_elf_free(NULL);
}

/* Loads share nothing: several threads loading at once all get the same, whole result. */
static void *open_repeatedly(void *argument)
{
    size_t *instructions = argument;
    for (int i = 0; i < 20; i++) {
        ebpf_elf_object_t *object = NULL;
        if (ebpf_elf_open_file(test_object_path("subprograms"), &object) != 0)
            return NULL;
        *instructions +=
            object->programs[0].instruction_count + object->programs[1].instruction_count;
        ebpf_elf_free(object);
    }
    return argument;
}

static void test_concurrent_opens(void **state)
{
    pthread_t threads[4];
    size_t instructions[4] = {0};
    ebpf_elf_object_t *object = open_object("subprograms");
    size_t expected =
        20 * (object->programs[0].instruction_count + object->programs[1].instruction_count);

    ebpf_elf_free(object);
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(threads); i++)
        assert_int_equal(pthread_create(&threads[i], NULL, open_repeatedly, &instructions[i]), 0);
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(threads); i++) {
        void *result;
        assert_int_equal(pthread_join(threads[i], &result), 0);
        assert_ptr_equal(result, &instructions[i]);
        assert_int_equal(instructions[i], expected);
    }
}

/* Failing each allocation of a load in turn gives -ENOMEM, a message, and no leak. */
static void check_allocation_failures(const char *name)
{
    size_t size;
    uint8_t *image = test_object_read(name, &size);
    int64_t baseline = ebpf_allocation_outstanding();
    uint64_t failures = 0;

    for (uint64_t n = 1;; n++) {
        ebpf_elf_object_t *object = NULL;
        int err;

        ebpf_fault_fail_nth(n);
        err = ebpf_elf_open_memory(image, size, name, &object);
        ebpf_fault_reset();
        if (err == 0) {
            assert_non_null(object);
            ebpf_elf_free(object);
            break;
        }
        assert_int_equal(err, -ENOMEM);
        assert_null(object);
        assert_non_null(strstr(ebpf_last_error(), "out of memory"));
        assert_int_equal(ebpf_allocation_outstanding(), baseline);
        failures++;
        assert_true(n < 100000);
    }
    assert_int_equal(ebpf_allocation_outstanding(), baseline);
    /* A load allocates many times; each of them was failed once. */
    assert_true(failures > 10);
    free(image);
}

static void test_allocation_failures(void **state)
{
    check_allocation_failures("subprograms");
    check_allocation_failures("globals");
    check_allocation_failures("map_initial_values");
    check_allocation_failures("maps_all");
    check_allocation_failures("legacy_maps_windows");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maps_all),
        cmocka_unit_test(test_globals),
        cmocka_unit_test(test_subprograms),
        cmocka_unit_test(test_subprogram_calls_of_second_program),
        cmocka_unit_test(test_line_info),
        cmocka_unit_test(test_multi_prog),
        cmocka_unit_test(test_legacy_maps),
        cmocka_unit_test(test_legacy_maps_windows_layout),
        cmocka_unit_test(test_libbpf_style),
        cmocka_unit_test(test_netevent_capture),
        cmocka_unit_test(test_map_initial_values),
        cmocka_unit_test(test_callback_address),
        cmocka_unit_test(test_open_memory_matches_file),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_concurrent_opens),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
