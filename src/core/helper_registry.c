/* Helper resolution for a program: the program type's own helpers (through trampolines, so the
 * extension behind them may be unloaded and loaded again) and the core's general helpers. */
#include <errno.h>
#include <string.h>

#include "core_private.h"

/* Finds a prototype by id in program data: type-specific first, then the type's overrides of
 * general helpers. *function gets the address; *type_specific says which list. */
static const ebpf_helper_prototype_t *find_in_data(const ebpf_program_data_t *data, uint32_t id,
                                                   ebpf_helper_function_t *function,
                                                   bool *type_specific)
{
    const ebpf_program_info_t *info = data->program_info;
    const ebpf_helper_function_addresses_t *specific =
        data->program_type_specific_helper_function_addresses;
    const ebpf_helper_function_addresses_t *global = data->global_helper_function_addresses;

    for (uint32_t i = 0; i < info->count_of_program_type_specific_helpers; i++) {
        if (info->program_type_specific_helper_prototype[i].id == id) {
            *function = specific->helper_function_address[i];
            *type_specific = true;
            return &info->program_type_specific_helper_prototype[i];
        }
    }
    for (uint32_t i = 0;
         global != NULL && i < info->count_of_global_helpers && i < global->helper_function_count;
         i++) {
        if (info->global_helper_prototype[i].id == id) {
            *function = global->helper_function_address[i];
            *type_specific = true;
            return &info->global_helper_prototype[i];
        }
    }
    return NULL;
}

/* One trampoline per slot: finds the function the program's current binding has there. */
static uint64_t call_slot(uint32_t slot, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                          uint64_t r5)
{
    program_binding_t *binding = core_run_binding();
    if (binding == NULL || binding->functions[slot] == NULL)
        return (uint64_t)-ENOLINK; /* the extension went away during the run */
    return binding->functions[slot](r1, r2, r3, r4, r5);
}

#define TRAMPOLINE(n)                                                                              \
    static uint64_t trampoline_##n(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,             \
                                   uint64_t r5)                                                    \
    {                                                                                              \
        return call_slot(n, r1, r2, r3, r4, r5);                                                   \
    }
/* clang-format off */
TRAMPOLINE(0)  TRAMPOLINE(1)  TRAMPOLINE(2)  TRAMPOLINE(3)  TRAMPOLINE(4)  TRAMPOLINE(5)
TRAMPOLINE(6)  TRAMPOLINE(7)  TRAMPOLINE(8)  TRAMPOLINE(9)  TRAMPOLINE(10) TRAMPOLINE(11)
TRAMPOLINE(12) TRAMPOLINE(13) TRAMPOLINE(14) TRAMPOLINE(15) TRAMPOLINE(16) TRAMPOLINE(17)
TRAMPOLINE(18) TRAMPOLINE(19) TRAMPOLINE(20) TRAMPOLINE(21) TRAMPOLINE(22) TRAMPOLINE(23)
TRAMPOLINE(24) TRAMPOLINE(25) TRAMPOLINE(26) TRAMPOLINE(27) TRAMPOLINE(28) TRAMPOLINE(29)
TRAMPOLINE(30) TRAMPOLINE(31)

static const ebpf_helper_function_t trampolines[CORE_MAX_TYPE_HELPERS] = {
    trampoline_0,  trampoline_1,  trampoline_2,  trampoline_3,  trampoline_4,  trampoline_5,
    trampoline_6,  trampoline_7,  trampoline_8,  trampoline_9,  trampoline_10, trampoline_11,
    trampoline_12, trampoline_13, trampoline_14, trampoline_15, trampoline_16, trampoline_17,
    trampoline_18, trampoline_19, trampoline_20, trampoline_21, trampoline_22, trampoline_23,
    trampoline_24, trampoline_25, trampoline_26, trampoline_27, trampoline_28, trampoline_29,
    trampoline_30, trampoline_31,
};
/* clang-format on */

const ebpf_helper_prototype_t *core_resolve_helper(void *context, uint32_t id,
                                                   ebpf_helper_function_t *function)
{
    ebpf_program_t *program = context;
    program_binding_t *binding = atomic_load(&program->binding);
    bool type_specific = false;
    ebpf_helper_function_t address;

    for (uint32_t slot = 0; slot < program->type_helper_count; slot++) {
        if (program->type_helper_ids[slot] == id) {
            *function = trampolines[slot];
            return &program->type_helper_prototypes[slot];
        }
    }
    if (binding != NULL) {
        const ebpf_helper_prototype_t *prototype =
            find_in_data(binding->data, id, &address, &type_specific);
        if (prototype != NULL) {
            uint32_t slot = program->type_helper_count;
            if (slot == CORE_MAX_TYPE_HELPERS) {
                ebpf_error(-E2BIG, "%s calls more than %u program-type helpers", program->name,
                           CORE_MAX_TYPE_HELPERS);
                return NULL;
            }
            program->type_helper_ids[slot] = id;
            program->type_helper_prototypes[slot] = *prototype;
            program->type_helper_prototypes[slot].name = NULL; /* owned by the extension */
            program->type_helper_count++;
            *function = trampolines[slot];
            return &program->type_helper_prototypes[slot];
        }
    }
    return ebpf_core_find_general_helper(id, function);
}

static bool same_prototype(const ebpf_helper_prototype_t *a, const ebpf_helper_prototype_t *b)
{
    return a->id == b->id && a->return_type == b->return_type &&
           memcmp(a->arguments, b->arguments, sizeof(a->arguments)) == 0 &&
           a->changes_packet == b->changes_packet && a->is_tail_call == b->is_tail_call;
}

int core_binding_create(const ebpf_program_t *program, const ebpf_program_data_t *data,
                        program_binding_t **out)
{
    program_binding_t *binding = ebpf_allocate(sizeof(*binding));

    if (binding == NULL)
        return ebpf_error(-ENOMEM, "%s: out of memory binding to its program type", program->name);
    binding->data = data;
    for (uint32_t slot = 0; slot < program->type_helper_count; slot++) {
        bool type_specific;
        const ebpf_helper_prototype_t *prototype = find_in_data(
            data, program->type_helper_ids[slot], &binding->functions[slot], &type_specific);
        if (prototype == NULL ||
            !same_prototype(prototype, &program->type_helper_prototypes[slot])) {
            ebpf_free(binding);
            return ebpf_error(-EINVAL,
                              "%s: program type %s %s helper %u the program was "
                              "loaded against",
                              program->name, data->program_info->program_type_descriptor->name,
                              prototype == NULL ? "no longer has" : "changed the prototype of",
                              program->type_helper_ids[slot]);
        }
    }
    *out = binding;
    return 0;
}

program_binding_t *core_run_binding(void)
{
    core_run_t *run = core_run_current();
    return run == NULL ? NULL : ebpf_epoch_dereference(&run->program->binding);
}
