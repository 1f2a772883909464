/* Programs: loading (relocating map references, preparing for execution), references, ids. */
#include <errno.h>
#include <string.h>

#include "core_private.h"

/* Only grows; ids are never reused. */
static _Atomic uint32_t next_program_id = 1;

static void program_acquire_opaque(void *program)
{
    ebpf_program_acquire(program);
}

static void program_release_opaque(void *program)
{
    ebpf_program_release(program);
}

static uint32_t program_id_opaque(const void *program)
{
    return ebpf_program_get_id(program);
}

static const ebpf_map_program_ops_t program_ops = {
    program_acquire_opaque,
    program_release_opaque,
    program_id_opaque,
};
static pthread_once_t program_ops_once = PTHREAD_ONCE_INIT;

static void register_program_ops(void)
{
    ebpf_map_set_program_ops(&program_ops);
}

static void program_free(ebpf_program_t *program)
{
    core_program_unbind(program);
    ebpf_free(atomic_load(&program->binding));
    pthread_mutex_destroy(&program->binding_lock);
    ebpf_interpreter_program_destroy(program->interpreter);
    for (uint32_t i = 0; i < program->map_count; i++)
        ebpf_map_release(program->maps[i]);
    ebpf_free(program->maps);
    ebpf_free(program->instructions);
    ebpf_free(program->section_name);
    ebpf_free(program->name);
    ebpf_free(program);
}

/* The copy that runs: every pseudo ld_imm64 becomes the address it stands for. */
static int relocate(const ebpf_program_t *program, struct bpf_insn *code)
{
    for (uint32_t pc = 0; pc < program->instruction_count; pc++) {
        struct bpf_insn *insn = &code[pc];
        uint64_t address;

        if (insn->code != (BPF_LD | BPF_IMM | BPF_DW))
            continue;
        if (pc + 1 >= program->instruction_count)
            return ebpf_error(-EINVAL, "%s: instruction %u: ld_imm64 is missing its second half",
                              program->name, pc);
        if (insn->src_reg == 0) {
            pc++;
            continue;
        }
        if (insn->src_reg != BPF_PSEUDO_MAP_FD && insn->src_reg != BPF_PSEUDO_MAP_VALUE)
            return ebpf_error(-ENOTSUP,
                              "%s: instruction %u: ld_imm64 with source %u (%s) is not "
                              "supported",
                              program->name, pc, insn->src_reg,
                              insn->src_reg == BPF_PSEUDO_FUNC ? "callback function"
                                                               : "unknown pseudo source");
        if (insn->imm < 0 || (uint32_t)insn->imm >= program->map_count)
            return ebpf_error(-EINVAL, "%s: instruction %u: map index %d out of range (%u maps)",
                              program->name, pc, insn->imm, program->map_count);
        ebpf_map_t *map = program->maps[insn->imm];
        if (insn->src_reg == BPF_PSEUDO_MAP_FD) {
            address = (uint64_t)(uintptr_t)map;
        } else {
            const ebpf_map_definition_t *definition = ebpf_map_get_definition(map);
            uint32_t offset = (uint32_t)code[pc + 1].imm;
            uint8_t *value = ebpf_map_array_value_address(map, 0);
            if (value == NULL || offset >= definition->value_size)
                return ebpf_error(-EINVAL,
                                  "%s: instruction %u: direct value access at offset "
                                  "%u of map %s (%s, value size %u)",
                                  program->name, pc, offset, ebpf_map_get_name(map),
                                  value == NULL ? "not an array" : "out of range",
                                  definition->value_size);
            address = (uint64_t)(uintptr_t)(value + offset);
        }
        insn->src_reg = 0;
        insn->imm = (int32_t)(uint32_t)address;
        code[pc + 1].imm = (int32_t)(uint32_t)(address >> 32);
        pc++;
    }
    return 0;
}

static int check_program_data(const ebpf_program_data_t *data, const char *name)
{
    const ebpf_program_info_t *info;

    if (data == NULL)
        return 0;
    if (data->header.size < sizeof(ebpf_extension_header_t) + sizeof(void *) ||
        data->program_info == NULL)
        return ebpf_error(-EINVAL, "%s: program data without program information", name);
    info = data->program_info;
    if (info->program_type_descriptor == NULL ||
        info->program_type_descriptor->context_descriptor == NULL)
        return ebpf_error(-EINVAL,
                          "%s: program information without a type or context "
                          "descriptor",
                          name);
    if (info->count_of_program_type_specific_helpers != 0 &&
        (data->program_type_specific_helper_function_addresses == NULL ||
         data->program_type_specific_helper_function_addresses->helper_function_count !=
             info->count_of_program_type_specific_helpers))
        return ebpf_error(-EINVAL,
                          "%s: program type %s declares %u helpers but gives a "
                          "different number of addresses",
                          name, info->program_type_descriptor->name,
                          info->count_of_program_type_specific_helpers);
    return 0;
}

int ebpf_program_create(const ebpf_program_load_parameters_t *parameters, ebpf_program_t **out)
{
    ebpf_program_t *program;
    struct bpf_insn *runnable = NULL;
    int rc;

    if (parameters == NULL || out == NULL || parameters->name == NULL ||
        parameters->instructions == NULL || parameters->instruction_count == 0)
        return ebpf_error(-EINVAL, "program: a name and at least one instruction are required");
    if (parameters->instruction_count > EBPF_EXEC_MAX_INSTRUCTIONS)
        return ebpf_error(-E2BIG, "%s: %u instructions (at most %u)", parameters->name,
                          parameters->instruction_count, EBPF_EXEC_MAX_INSTRUCTIONS);
    if (parameters->map_count != 0 && parameters->maps == NULL)
        return ebpf_error(-EINVAL, "%s: %u maps but no map table", parameters->name,
                          parameters->map_count);
    rc = check_program_data(parameters->program_data, parameters->name);
    if (rc != 0)
        return rc;
    pthread_once(&program_ops_once, register_program_ops);

    program = ebpf_allocate(sizeof(*program));
    if (program == NULL)
        return ebpf_error(-ENOMEM, "%s: out of memory", parameters->name);
    atomic_init(&program->references, 1);
    pthread_mutex_init(&program->binding_lock, NULL);
    program->name = ebpf_strdup(parameters->name);
    program->section_name = ebpf_strdup(parameters->section_name ? parameters->section_name : "");
    program->instructions =
        ebpf_allocate_array(parameters->instruction_count, sizeof(struct bpf_insn));
    program->maps = ebpf_allocate_array(parameters->map_count ? parameters->map_count : 1,
                                        sizeof(ebpf_map_t *));
    runnable = ebpf_allocate_array(parameters->instruction_count, sizeof(struct bpf_insn));
    if (program->name == NULL || program->section_name == NULL || program->instructions == NULL ||
        program->maps == NULL || runnable == NULL) {
        rc = ebpf_error(-ENOMEM, "%s: out of memory", parameters->name);
        goto failed;
    }
    program->instruction_count = parameters->instruction_count;
    memcpy(program->instructions, parameters->instructions,
           parameters->instruction_count * sizeof(struct bpf_insn));
    for (uint32_t i = 0; i < parameters->map_count; i++) {
        if (parameters->maps[i] == NULL) {
            rc = ebpf_error(-EINVAL, "%s: map %u of the table is NULL", parameters->name, i);
            goto failed;
        }
        ebpf_map_acquire(parameters->maps[i]);
        program->maps[program->map_count++] = parameters->maps[i];
    }
    program->context_descriptor =
        (ebpf_context_descriptor_t){.size = 0, .data = -1, .end = -1, .meta = -1};
    if (parameters->program_data != NULL) {
        const ebpf_program_type_descriptor_t *type =
            parameters->program_data->program_info->program_type_descriptor;
        program_binding_t *binding;
        program->program_type = type->program_type;
        program->has_program_type = true;
        program->context_descriptor = *type->context_descriptor;
        rc = core_binding_create(program, parameters->program_data, &binding);
        if (rc != 0)
            goto failed;
        atomic_store(&program->binding, binding);
    } else if (parameters->program_type != NULL) {
        program->program_type = *parameters->program_type;
        program->has_program_type = true;
        rc = core_program_bind(program);
        if (rc != 0)
            goto failed;
    }

    if (!parameters->test_hook_run_unverified_in_checked_interpreter) {
        rc = core_program_verify(program, parameters->line_info);
        if (rc != 0)
            goto failed;
    }
    memcpy(runnable, program->instructions, program->instruction_count * sizeof(struct bpf_insn));
    rc = relocate(program, runnable);
    /* Preparing resolves the helpers against the data bound now, so the extension may not
     * unbind meanwhile; then the binding is rebuilt with the functions behind the slots. */
    pthread_mutex_lock(&program->binding_lock);
    if (rc == 0)
        rc = ebpf_interpreter_program_create(runnable, program->instruction_count,
                                             core_resolve_helper, program, &program->interpreter);
    program_binding_t *current = atomic_load(&program->binding);
    if (rc == 0 && current != NULL) {
        program_binding_t *complete;
        rc = core_binding_create(program, current->data, &complete);
        if (rc == 0) {
            /* Nobody can run the program yet: the old binding has no readers. */
            atomic_store(&program->binding, complete);
            ebpf_free(current);
        }
    }
    pthread_mutex_unlock(&program->binding_lock);
    if (rc != 0) {
        ebpf_error_prefix(rc, "loading %s: ", parameters->name);
        goto failed;
    }
    ebpf_free(runnable);
    program->id = atomic_fetch_add(&next_program_id, 1);
    *out = program;
    return 0;

failed:
    ebpf_free(runnable);
    program_free(program);
    return rc;
}

void ebpf_program_acquire(ebpf_program_t *program)
{
    atomic_fetch_add_explicit(&program->references, 1, memory_order_relaxed);
}

static void program_free_deferred(ebpf_epoch_work_t *work)
{
    program_free((ebpf_program_t *)((char *)work - offsetof(ebpf_program_t, free_work)));
}

void ebpf_program_release(ebpf_program_t *program)
{
    if (program == NULL)
        return;
    /* acq_rel: the releaser that frees must see every other holder's last use. */
    if (atomic_fetch_sub_explicit(&program->references, 1, memory_order_acq_rel) == 1)
        ebpf_epoch_defer(&program->free_work, program_free_deferred);
}

uint32_t ebpf_program_get_id(const ebpf_program_t *program)
{
    return program->id;
}

const char *ebpf_program_get_name(const ebpf_program_t *program)
{
    return program->name;
}

const char *ebpf_program_get_section_name(const ebpf_program_t *program)
{
    return program->section_name;
}

const struct bpf_insn *ebpf_program_get_instructions(const ebpf_program_t *program, uint32_t *count)
{
    *count = program->instruction_count;
    return program->instructions;
}

const ebpf_program_data_t *ebpf_program_get_program_data(const ebpf_program_t *program)
{
    program_binding_t *binding = atomic_load(&((ebpf_program_t *)program)->binding);
    return binding == NULL ? NULL : binding->data;
}

bool ebpf_program_is_bound(const ebpf_program_t *program)
{
    return atomic_load(&((ebpf_program_t *)program)->binding) != NULL;
}

const ebpf_guid_t *ebpf_program_get_type(const ebpf_program_t *program)
{
    return &program->program_type;
}

const ebpf_program_verification_t *ebpf_program_get_verification(const ebpf_program_t *program)
{
    return &program->verification;
}

void ebpf_program_set_instruction_budget(ebpf_program_t *program, uint64_t budget)
{
    atomic_store_explicit(&program->instruction_budget, budget, memory_order_relaxed);
}
