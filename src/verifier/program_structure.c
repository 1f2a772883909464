/* Structural checks before the analysis: encodings, jumps, functions, reachability, liveness. */
#include <errno.h>
#include <string.h>

#include "ebpf_platform.h"
#include "verifier_private.h"

/* RFC 9669 encodings the kernel 6.1 UAPI headers lack (the same as include/ebpf_exec.h). */
#define MODE_MEMSX 0x80
#define OP_GOTOL   (BPF_JMP32 | BPF_JA | BPF_K)

#define ALL_ARGUMENT_REGISTERS 0x3e /* r1..r5 */
#define CALL_CLOBBERED         0x3f /* r0..r5 */

const ebpf_helper_prototype_t *verifier_find_helper(const verifier_t *verifier, uint32_t id)
{
    const ebpf_verifier_options_t *options = verifier->options;
    const ebpf_program_info_t *info = verifier->info;

    if (options->find_helper)
        return options->find_helper(options->find_helper_context, id);
    for (uint32_t i = 0; i < info->count_of_program_type_specific_helpers; i++)
        if (info->program_type_specific_helper_prototype[i].id == id)
            return &info->program_type_specific_helper_prototype[i];
    for (uint32_t i = 0; i < info->count_of_global_helpers; i++)
        if (info->global_helper_prototype[i].id == id)
            return &info->global_helper_prototype[i];
    return NULL;
}

static bool is_second_slot(const verifier_t *verifier, int64_t pc)
{
    return verifier->insn_flags[pc] & INSN_SECOND_SLOT;
}

static bool is_conditional_jump(const struct bpf_insn *insn)
{
    uint8_t class = BPF_CLASS(insn->code), op = BPF_OP(insn->code);
    return (class == BPF_JMP || class == BPF_JMP32) && op != BPF_JA && op != BPF_CALL &&
           op != BPF_EXIT;
}

static bool is_unconditional_jump(const struct bpf_insn *insn)
{
    return insn->code == (BPF_JMP | BPF_JA) || insn->code == OP_GOTOL;
}

static bool is_local_call(const struct bpf_insn *insn)
{
    return insn->code == (BPF_JMP | BPF_CALL) && insn->src_reg == BPF_PSEUDO_CALL;
}

/* The jump target of a jump instruction. */
static int64_t jump_target(uint32_t pc, const struct bpf_insn *insn)
{
    if (insn->code == OP_GOTOL || is_local_call(insn))
        return (int64_t)pc + 1 + insn->imm;
    return (int64_t)pc + 1 + insn->off;
}

static int reject_opcode(verifier_t *verifier, uint32_t pc, const char *why)
{
    return verifier_reject(verifier, pc, "invalid opcode 0x%02x: %s", verifier->insns[pc].code,
                           why);
}

static int check_ld_imm64(verifier_t *verifier, uint32_t pc)
{
    const struct bpf_insn *insn = &verifier->insns[pc];

    if (insn->code != (BPF_LD | BPF_IMM | BPF_DW)) {
        if (BPF_MODE(insn->code) == BPF_ABS || BPF_MODE(insn->code) == BPF_IND)
            return reject_opcode(verifier, pc,
                                 "legacy packet access (ld_abs / ld_ind) is not supported");
        return reject_opcode(verifier, pc, "not an instruction of the BPF_LD class");
    }
    if (insn->dst_reg == BPF_REG_10)
        return verifier_reject(verifier, pc, "r10 is read-only: ld_imm64 cannot write it");
    if (insn->off != 0)
        return reject_opcode(verifier, pc, "ld_imm64 with a nonzero offset");
    if (pc + 1 >= verifier->count)
        return verifier_reject(verifier, pc,
                               "ld_imm64 is split: the program ends before its second half");
    const struct bpf_insn *next = insn + 1;
    if (next->code != 0 || next->dst_reg != 0 || next->src_reg != 0 || next->off != 0)
        return verifier_reject(verifier, pc,
                               "ld_imm64 is split: its second half (instruction %u) must have "
                               "opcode 0 and no registers or offset",
                               pc + 1);
    switch (insn->src_reg) {
    case 0:
        return 0;
    case BPF_PSEUDO_MAP_FD:
        if ((uint32_t)insn->imm >= verifier->map_count)
            return verifier_reject(verifier, pc,
                                   "ld_imm64 refers to map %u but the program has %u maps",
                                   (uint32_t)insn->imm, verifier->map_count);
        if (next->imm != 0)
            return verifier_reject(verifier, pc, "ld_imm64 of a map with a nonzero second half %d",
                                   next->imm);
        return 0;
    case BPF_PSEUDO_MAP_VALUE: {
        if ((uint32_t)insn->imm >= verifier->map_count)
            return verifier_reject(verifier, pc,
                                   "ld_imm64 refers to map %u but the program has %u maps",
                                   (uint32_t)insn->imm, verifier->map_count);
        const ebpf_verifier_map_t *map = &verifier->maps[insn->imm];
        char name[64];
        if (map->type != BPF_MAP_TYPE_ARRAY || map->max_entries == 0)
            return verifier_reject(verifier, pc,
                                   "ld_imm64 takes the address of a value of map %s, which is "
                                   "not an array: only array values have a fixed address",
                                   verifier_map_name(map, name, sizeof(name)));
        if ((uint32_t)next->imm >= map->value_size)
            return verifier_reject(verifier, pc,
                                   "ld_imm64 points %u bytes into the value of map %s, out of "
                                   "bounds of its %u-byte value",
                                   (uint32_t)next->imm, verifier_map_name(map, name, sizeof(name)),
                                   map->value_size);
        return 0;
    }
    case BPF_PSEUDO_FUNC:
        return verifier_reject(verifier, pc,
                               "ld_imm64 of a function address (a callback) is not supported");
    default:
        return verifier_reject(verifier, pc, "invalid opcode 0x18: unknown ld_imm64 source %u",
                               insn->src_reg);
    }
}

static int check_memory_encoding(verifier_t *verifier, uint32_t pc)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    uint8_t mode = BPF_MODE(insn->code), size = BPF_SIZE(insn->code);

    switch (BPF_CLASS(insn->code)) {
    case BPF_LDX:
        if (mode != BPF_MEM && !(mode == MODE_MEMSX && size != BPF_DW))
            return reject_opcode(verifier, pc, "unknown load mode");
        if (insn->imm != 0)
            return reject_opcode(verifier, pc, "load with a nonzero immediate");
        if (insn->dst_reg == BPF_REG_10)
            return verifier_reject(verifier, pc, "r10 is read-only: a load cannot write it");
        return 0;
    case BPF_ST:
        if (mode != BPF_MEM)
            return reject_opcode(verifier, pc, "unknown store mode");
        if (insn->src_reg != 0)
            return reject_opcode(verifier, pc, "store of an immediate with a source register");
        return 0;
    default: /* BPF_STX */
        if (mode == BPF_ATOMIC) {
            static const int32_t operations[] = {
                BPF_ADD,  BPF_ADD | BPF_FETCH, BPF_OR,  BPF_OR | BPF_FETCH,
                BPF_AND,  BPF_AND | BPF_FETCH, BPF_XOR, BPF_XOR | BPF_FETCH,
                BPF_XCHG, BPF_CMPXCHG,
            };
            bool known = false;
            if (size != BPF_W && size != BPF_DW)
                return reject_opcode(verifier, pc, "atomic operations are 32 or 64 bits wide");
            for (size_t i = 0; i < EBPF_ARRAY_SIZE(operations); i++)
                known |= operations[i] == insn->imm;
            if (!known)
                return verifier_reject(verifier, pc,
                                       "invalid opcode 0x%02x: unknown atomic operation 0x%x",
                                       insn->code, (unsigned)insn->imm);
            if ((insn->imm & BPF_FETCH) && insn->src_reg == BPF_REG_10)
                return verifier_reject(verifier, pc,
                                       "r10 is read-only: an atomic fetch cannot write it");
            return 0;
        }
        if (mode != BPF_MEM)
            return reject_opcode(verifier, pc, "unknown store mode");
        if (insn->imm != 0)
            return reject_opcode(verifier, pc, "store with a nonzero immediate");
        return 0;
    }
}

static int check_alu_encoding(verifier_t *verifier, uint32_t pc)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    bool alu64 = BPF_CLASS(insn->code) == BPF_ALU64, source_register = BPF_SRC(insn->code) == BPF_X;
    uint8_t op = BPF_OP(insn->code);

    if (op > BPF_END)
        return reject_opcode(verifier, pc, "unknown arithmetic operation");
    if (insn->dst_reg == BPF_REG_10)
        return verifier_reject(verifier, pc, "r10 is read-only");
    if (op == BPF_END) {
        if (alu64 && source_register)
            return reject_opcode(verifier, pc, "unknown byte swap");
        if (insn->src_reg != 0 || insn->off != 0)
            return reject_opcode(verifier, pc, "byte swap with a source register or offset");
        if (insn->imm != 16 && insn->imm != 32 && insn->imm != 64)
            return reject_opcode(verifier, pc, "byte swap width must be 16, 32 or 64");
        return 0;
    }
    if (op == BPF_NEG) {
        if (source_register || insn->src_reg != 0 || insn->imm != 0 || insn->off != 0)
            return reject_opcode(verifier, pc, "neg takes no source");
        return 0;
    }
    if (source_register && insn->imm != 0)
        return reject_opcode(verifier, pc, "nonzero immediate with a register source");
    if (!source_register && insn->src_reg != 0)
        return reject_opcode(verifier, pc, "source register with an immediate source");
    if (insn->off == 0)
        return 0;
    if ((op == BPF_DIV || op == BPF_MOD) && insn->off == 1)
        return 0;
    if (op == BPF_MOV && source_register &&
        (insn->off == 8 || insn->off == 16 || (insn->off == 32 && alu64)))
        return 0;
    return reject_opcode(verifier, pc, "offset not defined for this operation");
}

static int check_target(verifier_t *verifier, uint32_t pc, int64_t target, bool call)
{
    if (target < 0 || target >= verifier->count)
        return verifier_reject(verifier, pc,
                               "%s out of range: target %lld is outside the program (%u "
                               "instructions)",
                               call ? "call" : "jump", (long long)target, verifier->count);
    if (is_second_slot(verifier, target))
        return verifier_reject(verifier, pc,
                               "%s out of range: target %lld is the second half of an ld_imm64",
                               call ? "call" : "jump", (long long)target);
    return 0;
}

static int check_jump_encoding(verifier_t *verifier, uint32_t pc)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    bool jmp32 = BPF_CLASS(insn->code) == BPF_JMP32, source_register = BPF_SRC(insn->code) == BPF_X;
    uint8_t op = BPF_OP(insn->code);

    switch (op) {
    case BPF_JA:
        if (source_register || insn->dst_reg != 0 || insn->src_reg != 0)
            return reject_opcode(verifier, pc, "ja takes no registers");
        if (!jmp32 && insn->imm != 0)
            return reject_opcode(verifier, pc, "ja with a nonzero immediate");
        if (jmp32 && insn->off != 0)
            return reject_opcode(verifier, pc, "gotol with a nonzero offset");
        return check_target(verifier, pc, jump_target(pc, insn), false);
    case BPF_CALL:
        if (jmp32)
            return reject_opcode(verifier, pc, "call is not a 32-bit jump");
        if (insn->off != 0)
            return reject_opcode(verifier, pc, "call with a nonzero offset");
        if (source_register) {
            if (insn->src_reg != 0)
                return reject_opcode(verifier, pc, "callx with a source register");
            if (insn->dst_reg != 0 && insn->imm != 0)
                return reject_opcode(verifier, pc, "callx names a register twice");
            if (insn->dst_reg == 0 && (insn->imm < 0 || insn->imm > BPF_REG_10))
                return verifier_reject(verifier, pc, "invalid register r%d", insn->imm);
            return 0;
        }
        if (insn->dst_reg != 0)
            return reject_opcode(verifier, pc, "call with a destination register");
        if (insn->src_reg == 0)
            return 0;
        if (insn->src_reg == BPF_PSEUDO_CALL)
            return check_target(verifier, pc, jump_target(pc, insn), true);
        if (insn->src_reg == BPF_PSEUDO_KFUNC_CALL)
            return reject_opcode(verifier, pc, "calls to kernel functions are not supported");
        return reject_opcode(verifier, pc, "unknown call source");
    case BPF_EXIT:
        if (jmp32 || source_register)
            return reject_opcode(verifier, pc, "unknown exit");
        if (insn->dst_reg != 0 || insn->src_reg != 0 || insn->off != 0 || insn->imm != 0)
            return reject_opcode(verifier, pc, "exit takes no operands");
        return 0;
    default:
        if (op > BPF_JSLE)
            return reject_opcode(verifier, pc, "unknown jump");
        if (source_register && insn->imm != 0)
            return reject_opcode(verifier, pc, "nonzero immediate with a register source");
        if (!source_register && insn->src_reg != 0)
            return reject_opcode(verifier, pc, "source register with an immediate source");
        return check_target(verifier, pc, jump_target(pc, insn), false);
    }
}

static int check_encoding(verifier_t *verifier, uint32_t pc)
{
    const struct bpf_insn *insn = &verifier->insns[pc];

    if (insn->dst_reg > BPF_REG_10)
        return verifier_reject(verifier, pc, "invalid register r%u (registers are r0 to r10)",
                               insn->dst_reg);
    if (insn->src_reg > BPF_REG_10 && BPF_CLASS(insn->code) != BPF_LD)
        return verifier_reject(verifier, pc, "invalid register r%u (registers are r0 to r10)",
                               insn->src_reg);
    switch (BPF_CLASS(insn->code)) {
    case BPF_LD:
        return check_ld_imm64(verifier, pc);
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX:
        return check_memory_encoding(verifier, pc);
    case BPF_ALU:
    case BPF_ALU64:
        return check_alu_encoding(verifier, pc);
    default:
        return check_jump_encoding(verifier, pc);
    }
}

/* Successors inside the function (a local call continues after itself). */
static uint32_t successors(const verifier_t *verifier, uint32_t pc, uint32_t out[2])
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    uint32_t count = 0;

    if (insn->code == (BPF_JMP | BPF_EXIT))
        return 0;
    if (is_unconditional_jump(insn)) {
        out[0] = (uint32_t)jump_target(pc, insn);
        return 1;
    }
    uint32_t next = pc + (insn->code == (BPF_LD | BPF_IMM | BPF_DW) ? 2 : 1);
    if (next < verifier->count)
        out[count++] = next;
    if (is_conditional_jump(insn))
        out[count++] = (uint32_t)jump_target(pc, insn);
    return count;
}

static int find_functions(verifier_t *verifier)
{
    uint32_t count = verifier->count, functions = 0;

    verifier->insn_flags[0] |= INSN_FUNCTION_START;
    for (uint32_t pc = 0; pc < count; pc++) {
        const struct bpf_insn *insn = &verifier->insns[pc];
        if (is_local_call(insn)) {
            int64_t target = jump_target(pc, insn);
            if (target >= 0 && target < count)
                verifier->insn_flags[target] |= INSN_FUNCTION_START;
        }
    }
    for (uint32_t pc = 0; pc < count; pc++)
        functions += (verifier->insn_flags[pc] & INSN_FUNCTION_START) != 0;
    verifier->functions = ebpf_allocate_array(functions, sizeof(*verifier->functions));
    if (!verifier->functions)
        return verifier_out_of_memory(verifier);
    verifier->function_count = functions;
    uint32_t index = 0;
    for (uint32_t pc = 0; pc < count; pc++) {
        if (verifier->insn_flags[pc] & INSN_FUNCTION_START) {
            if (index > 0)
                verifier->functions[index - 1].end = pc;
            verifier->functions[index++].start = pc;
        }
        verifier->function_of[pc] = index - 1;
    }
    verifier->functions[index - 1].end = count;
    return 0;
}

/* Jumps stay in their function and no function runs past its last instruction. */
static int check_function_bounds(verifier_t *verifier)
{
    for (uint32_t pc = 0; pc < verifier->count; pc++) {
        const struct bpf_insn *insn = &verifier->insns[pc];
        const function_info_t *function = &verifier->functions[verifier->function_of[pc]];
        if (is_second_slot(verifier, pc))
            continue;
        if (is_conditional_jump(insn) || is_unconditional_jump(insn)) {
            int64_t target = jump_target(pc, insn);
            if (target < function->start || target >= function->end)
                return verifier_reject(verifier, pc,
                                       "jump out of range: target %lld is outside the function "
                                       "at instructions %u..%u",
                                       (long long)target, function->start, function->end - 1);
        }
    }
    for (uint32_t i = 0; i < verifier->function_count; i++) {
        const function_info_t *function = &verifier->functions[i];
        uint32_t last = function->end - 1;
        const struct bpf_insn *insn = &verifier->insns[last];
        if (is_second_slot(verifier, last) ||
            (insn->code != (BPF_JMP | BPF_EXIT) && !is_unconditional_jump(insn))) {
            if (function->end == verifier->count)
                return verifier_reject(verifier, last,
                                       "execution falls off the end of the program: the last "
                                       "instruction must be exit or a jump");
            return verifier_reject(verifier, last,
                                   "execution falls off the end of the function at instruction "
                                   "%u into the next one: its last instruction must be exit or "
                                   "a jump",
                                   function->start);
        }
    }
    return 0;
}

static int check_reachability(verifier_t *verifier)
{
    uint32_t *stack = ebpf_allocate_array(verifier->count, sizeof(*stack));
    uint32_t depth = 0;

    if (!stack)
        return verifier_out_of_memory(verifier);
    verifier->insn_flags[0] |= INSN_REACHED;
    stack[depth++] = 0;
    while (depth > 0) {
        uint32_t pc = stack[--depth], next[3];
        uint32_t n = successors(verifier, pc, next);
        if (is_local_call(&verifier->insns[pc]))
            next[n++] = (uint32_t)jump_target(pc, &verifier->insns[pc]);
        for (uint32_t i = 0; i < n; i++) {
            if (!(verifier->insn_flags[next[i]] & INSN_REACHED)) {
                verifier->insn_flags[next[i]] |= INSN_REACHED;
                stack[depth++] = next[i];
            }
        }
    }
    ebpf_free(stack);
    for (uint32_t pc = 0; pc < verifier->count; pc++) {
        if (is_second_slot(verifier, pc))
            continue;
        if (!(verifier->insn_flags[pc] & INSN_REACHED))
            return verifier_reject(verifier, pc,
                                   "unreachable instruction: no path from the start leads here");
    }
    return 0;
}

/* The call graph is acyclic and no chain of calls is deeper than the interpreter allows. */
static int check_call_graph(verifier_t *verifier)
{
    uint32_t functions = verifier->function_count;
    /* Depth of the deepest chain of calls from each function (1: it calls nothing); 0: not
     * computed, UINT32_MAX: on the current path. */
    uint32_t *depth = ebpf_allocate_array(functions, sizeof(*depth));
    uint32_t *stack = ebpf_allocate_array(functions, sizeof(*stack));
    uint32_t *cursor = ebpf_allocate_array(functions, sizeof(*cursor));
    uint32_t top = 0;
    int err = 0;

    if (!depth || !stack || !cursor) {
        err = verifier_out_of_memory(verifier);
        goto out;
    }
    stack[top++] = 0;
    depth[0] = UINT32_MAX;
    cursor[0] = verifier->functions[0].start;
    while (top > 0) {
        uint32_t function = stack[top - 1];
        const function_info_t *info = &verifier->functions[function];
        bool descended = false;
        for (; cursor[function] < info->end; cursor[function]++) {
            uint32_t pc = cursor[function];
            if (!is_local_call(&verifier->insns[pc]))
                continue;
            uint32_t callee = verifier->function_of[jump_target(pc, &verifier->insns[pc])];
            if (depth[callee] == UINT32_MAX) {
                err = verifier_reject(verifier, pc,
                                      "recursive call: the function at instruction %u calls "
                                      "itself again, and the call depth is bounded",
                                      verifier->functions[callee].start);
                goto out;
            }
            if (depth[callee] == 0) {
                depth[callee] = UINT32_MAX;
                cursor[callee] = verifier->functions[callee].start;
                stack[top++] = callee;
                descended = true;
                break;
            }
            if (depth[callee] + 1 > VERIFIER_MAX_FRAMES) {
                err = verifier_reject(verifier, pc,
                                      "call depth: this call makes a chain of more than %d "
                                      "nested functions",
                                      VERIFIER_MAX_FRAMES);
                goto out;
            }
        }
        if (descended)
            continue;
        /* Every call of the function is explored: its depth is known. */
        uint32_t deepest = 1;
        for (uint32_t pc = info->start; pc < info->end; pc++) {
            if (!is_local_call(&verifier->insns[pc]))
                continue;
            uint32_t callee = verifier->function_of[jump_target(pc, &verifier->insns[pc])];
            if (depth[callee] + 1 > deepest)
                deepest = depth[callee] + 1;
        }
        depth[function] = deepest;
        top--;
    }
out:
    ebpf_free(depth);
    ebpf_free(stack);
    ebpf_free(cursor);
    return err;
}

/* Registers an instruction reads and writes (bit n: rn), for liveness. */
static void uses_and_defs(const verifier_t *verifier, uint32_t pc, uint16_t *uses, uint16_t *defs)
{
    const struct bpf_insn *insn = &verifier->insns[pc];
    uint16_t dst = (uint16_t)(1u << insn->dst_reg), src = (uint16_t)(1u << insn->src_reg);
    uint8_t op = BPF_OP(insn->code);

    *uses = 0;
    *defs = 0;
    switch (BPF_CLASS(insn->code)) {
    case BPF_LD:
        *defs = dst;
        break;
    case BPF_LDX:
        *uses = src;
        *defs = dst;
        break;
    case BPF_ST:
        *uses = dst;
        break;
    case BPF_STX:
        *uses = dst | src;
        if (BPF_MODE(insn->code) == BPF_ATOMIC) {
            if (insn->imm == BPF_CMPXCHG) {
                *uses |= 1;
                *defs = 1;
            } else if (insn->imm & BPF_FETCH) {
                *defs = src;
            }
        }
        break;
    case BPF_ALU:
    case BPF_ALU64:
        *defs = dst;
        if (op == BPF_MOV)
            *uses = BPF_SRC(insn->code) == BPF_X ? src : 0;
        else
            *uses = dst | (BPF_SRC(insn->code) == BPF_X && op != BPF_END ? src : 0);
        break;
    default:
        if (op == BPF_EXIT) {
            *uses = 1;
        } else if (op == BPF_CALL) {
            *uses = ALL_ARGUMENT_REGISTERS;
            *defs = CALL_CLOBBERED;
            if (BPF_SRC(insn->code) == BPF_X)
                *uses |= (uint16_t)(1u << (insn->dst_reg ? insn->dst_reg : insn->imm));
        } else if (op != BPF_JA) {
            *uses = dst | (BPF_SRC(insn->code) == BPF_X ? src : 0);
        }
        break;
    }
    *uses &= 0x3ff;
    *defs &= 0x3ff;
}

static void compute_liveness(verifier_t *verifier)
{
    bool changed = true;

    while (changed) {
        changed = false;
        for (uint32_t pc = verifier->count; pc-- > 0;) {
            uint32_t next[2], n;
            uint16_t out = 0, uses, defs, in;
            if (is_second_slot(verifier, pc))
                continue;
            n = successors(verifier, pc, next);
            for (uint32_t i = 0; i < n; i++)
                out |= verifier->live[next[i]];
            uses_and_defs(verifier, pc, &uses, &defs);
            in = (uint16_t)(uses | (out & ~defs));
            if (in != verifier->live[pc]) {
                verifier->live[pc] = in;
                changed = true;
            }
        }
    }
}

static void mark_prune_points(verifier_t *verifier)
{
    for (uint32_t pc = 0; pc < verifier->count; pc++) {
        const struct bpf_insn *insn = &verifier->insns[pc];
        if (is_second_slot(verifier, pc))
            continue;
        if (verifier->insn_flags[pc] & INSN_FUNCTION_START)
            verifier->insn_flags[pc] |= INSN_PRUNE_POINT;
        if (is_conditional_jump(insn) || is_unconditional_jump(insn)) {
            int64_t target = jump_target(pc, insn);
            verifier->insn_flags[target] |= INSN_PRUNE_POINT;
            if (target <= pc)
                verifier->insn_flags[target] |= INSN_LOOP_HEAD;
            if (is_conditional_jump(insn) && pc + 1 < verifier->count)
                verifier->insn_flags[pc + 1] |= INSN_PRUNE_POINT;
        }
        if (insn->code == (BPF_JMP | BPF_CALL) && pc + 1 < verifier->count)
            verifier->insn_flags[pc + 1] |= INSN_PRUNE_POINT;
    }
}

int verifier_check_structure(verifier_t *verifier)
{
    uint32_t count = verifier->count;
    int err;

    /* Second halves first, so checking a jump knows where every ld_imm64 lies. */
    for (uint32_t pc = 0; pc + 1 < count; pc++) {
        if (verifier->insns[pc].code == (BPF_LD | BPF_IMM | BPF_DW)) {
            verifier->insn_flags[pc + 1] |= INSN_SECOND_SLOT;
            pc++;
        }
    }
    for (uint32_t pc = 0; pc < count; pc++) {
        if (is_second_slot(verifier, pc))
            continue;
        if ((err = check_encoding(verifier, pc)) != 0)
            return err;
    }
    if ((err = find_functions(verifier)) != 0 || (err = check_function_bounds(verifier)) != 0 ||
        (err = check_reachability(verifier)) != 0 || (err = check_call_graph(verifier)) != 0)
        return err;
    compute_liveness(verifier);
    mark_prune_points(verifier);
    return 0;
}
