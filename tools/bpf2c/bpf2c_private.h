/* Internals of bpf2c shared by its files: the plan of one program's translation. */
#ifndef BPF2C_PRIVATE_H
#define BPF2C_PRIVATE_H

#include "bpf2c.h"

/* What the emitter needs to know about a program before writing it. */
typedef struct program_plan {
    const bpf2c_program_t *program;
    const bpf2c_module_t *module;
    uint32_t index;      /* in the module */
    char identifier[96]; /* C identifier of its function and tables */
    bool *label;         /* instructions some jump, call or return lands on */
    bool *second_slot;   /* second halves of ld_imm64 */
    bool has_local_calls;
    bool uses_stack;
    uint32_t *helper_ids; /* distinct, in order of first call */
    uint32_t helper_count;
    uint32_t *map_indexes; /* distinct, in order of first reference */
    uint32_t map_count;
    uint32_t *return_sites; /* instruction after each local call, by call order */
    uint32_t return_site_count;
} program_plan_t;

/* Checks the program's structure (what the interpreter would refuse, so generated code never
 * names a missing label) and fills the plan. -EINVAL with a message naming the instruction. */
int bpf2c_plan_program(const bpf2c_module_t *module, uint32_t index, program_plan_t *plan);
void bpf2c_plan_free(program_plan_t *plan);
/* Writes the program's function (static, named after plan->identifier). */
int bpf2c_emit_program(const program_plan_t *plan, FILE *out);

/* The prototype of helper id as the program sees it, or NULL. */
const ebpf_helper_prototype_t *bpf2c_program_helper(const bpf2c_program_t *program, uint32_t id);

#endif /* BPF2C_PRIVATE_H */
