/* Preparing programs for the interpreter: structural checks, helper resolution, decoding. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ebpf_platform.h"
#include "interpreter_private.h"

typedef struct prepare_state {
    const struct bpf_insn *in;
    uint32_t count;
    /* true at the second slot of each LDDW: never a jump target, never executed. */
    bool *second_slot;
    ebpf_interpreter_program_t *program;
    uint32_t helper_capacity;
} prepare_state_t;

/* ALU operations indexed by BPF_OP(code) >> 4; 0 (OP_INVALID) marks codes that need more than a
 * table lookup (END, and NEG for X) or do not exist. */
static const uint8_t alu64_k_ops[16] = {
    [BPF_ADD >> 4] = OP_ADD64_K,   [BPF_SUB >> 4] = OP_SUB64_K, [BPF_MUL >> 4] = OP_MUL64_K,
    [BPF_DIV >> 4] = OP_DIV64_K,   [BPF_OR >> 4] = OP_OR64_K,   [BPF_AND >> 4] = OP_AND64_K,
    [BPF_LSH >> 4] = OP_LSH64_K,   [BPF_RSH >> 4] = OP_RSH64_K, [BPF_NEG >> 4] = OP_NEG64,
    [BPF_MOD >> 4] = OP_MOD64_K,   [BPF_XOR >> 4] = OP_XOR64_K, [BPF_MOV >> 4] = OP_MOV64_K,
    [BPF_ARSH >> 4] = OP_ARSH64_K,
};
static const uint8_t alu64_x_ops[16] = {
    [BPF_ADD >> 4] = OP_ADD64_X, [BPF_SUB >> 4] = OP_SUB64_X, [BPF_MUL >> 4] = OP_MUL64_X,
    [BPF_DIV >> 4] = OP_DIV64_X, [BPF_OR >> 4] = OP_OR64_X,   [BPF_AND >> 4] = OP_AND64_X,
    [BPF_LSH >> 4] = OP_LSH64_X, [BPF_RSH >> 4] = OP_RSH64_X, [BPF_MOD >> 4] = OP_MOD64_X,
    [BPF_XOR >> 4] = OP_XOR64_X, [BPF_MOV >> 4] = OP_MOV64_X, [BPF_ARSH >> 4] = OP_ARSH64_X,
};
static const uint8_t alu32_k_ops[16] = {
    [BPF_ADD >> 4] = OP_ADD32_K,   [BPF_SUB >> 4] = OP_SUB32_K, [BPF_MUL >> 4] = OP_MUL32_K,
    [BPF_DIV >> 4] = OP_DIV32_K,   [BPF_OR >> 4] = OP_OR32_K,   [BPF_AND >> 4] = OP_AND32_K,
    [BPF_LSH >> 4] = OP_LSH32_K,   [BPF_RSH >> 4] = OP_RSH32_K, [BPF_NEG >> 4] = OP_NEG32,
    [BPF_MOD >> 4] = OP_MOD32_K,   [BPF_XOR >> 4] = OP_XOR32_K, [BPF_MOV >> 4] = OP_MOV32_K,
    [BPF_ARSH >> 4] = OP_ARSH32_K,
};
static const uint8_t alu32_x_ops[16] = {
    [BPF_ADD >> 4] = OP_ADD32_X, [BPF_SUB >> 4] = OP_SUB32_X, [BPF_MUL >> 4] = OP_MUL32_X,
    [BPF_DIV >> 4] = OP_DIV32_X, [BPF_OR >> 4] = OP_OR32_X,   [BPF_AND >> 4] = OP_AND32_X,
    [BPF_LSH >> 4] = OP_LSH32_X, [BPF_RSH >> 4] = OP_RSH32_X, [BPF_MOD >> 4] = OP_MOD32_X,
    [BPF_XOR >> 4] = OP_XOR32_X, [BPF_MOV >> 4] = OP_MOV32_X, [BPF_ARSH >> 4] = OP_ARSH32_X,
};

/* Conditional jumps indexed by BPF_OP(code) >> 4; JA, CALL and EXIT are decoded apart. */
static const uint8_t jmp64_k_ops[16] = {
    [BPF_JEQ >> 4] = OP_JEQ64_K,   [BPF_JGT >> 4] = OP_JGT64_K,   [BPF_JGE >> 4] = OP_JGE64_K,
    [BPF_JSET >> 4] = OP_JSET64_K, [BPF_JNE >> 4] = OP_JNE64_K,   [BPF_JSGT >> 4] = OP_JSGT64_K,
    [BPF_JSGE >> 4] = OP_JSGE64_K, [BPF_JLT >> 4] = OP_JLT64_K,   [BPF_JLE >> 4] = OP_JLE64_K,
    [BPF_JSLT >> 4] = OP_JSLT64_K, [BPF_JSLE >> 4] = OP_JSLE64_K,
};
static const uint8_t jmp64_x_ops[16] = {
    [BPF_JEQ >> 4] = OP_JEQ64_X,   [BPF_JGT >> 4] = OP_JGT64_X,   [BPF_JGE >> 4] = OP_JGE64_X,
    [BPF_JSET >> 4] = OP_JSET64_X, [BPF_JNE >> 4] = OP_JNE64_X,   [BPF_JSGT >> 4] = OP_JSGT64_X,
    [BPF_JSGE >> 4] = OP_JSGE64_X, [BPF_JLT >> 4] = OP_JLT64_X,   [BPF_JLE >> 4] = OP_JLE64_X,
    [BPF_JSLT >> 4] = OP_JSLT64_X, [BPF_JSLE >> 4] = OP_JSLE64_X,
};
static const uint8_t jmp32_k_ops[16] = {
    [BPF_JEQ >> 4] = OP_JEQ32_K,   [BPF_JGT >> 4] = OP_JGT32_K,   [BPF_JGE >> 4] = OP_JGE32_K,
    [BPF_JSET >> 4] = OP_JSET32_K, [BPF_JNE >> 4] = OP_JNE32_K,   [BPF_JSGT >> 4] = OP_JSGT32_K,
    [BPF_JSGE >> 4] = OP_JSGE32_K, [BPF_JLT >> 4] = OP_JLT32_K,   [BPF_JLE >> 4] = OP_JLE32_K,
    [BPF_JSLT >> 4] = OP_JSLT32_K, [BPF_JSLE >> 4] = OP_JSLE32_K,
};
static const uint8_t jmp32_x_ops[16] = {
    [BPF_JEQ >> 4] = OP_JEQ32_X,   [BPF_JGT >> 4] = OP_JGT32_X,   [BPF_JGE >> 4] = OP_JGE32_X,
    [BPF_JSET >> 4] = OP_JSET32_X, [BPF_JNE >> 4] = OP_JNE32_X,   [BPF_JSGT >> 4] = OP_JSGT32_X,
    [BPF_JSGE >> 4] = OP_JSGE32_X, [BPF_JLT >> 4] = OP_JLT32_X,   [BPF_JLE >> 4] = OP_JLE32_X,
    [BPF_JSLT >> 4] = OP_JSLT32_X, [BPF_JSLE >> 4] = OP_JSLE32_X,
};

/* Loads and stores indexed by BPF_SIZE(code) >> 3 (W, H, B, DW). */
static const uint8_t ldx_ops[4] = {OP_LDX_W, OP_LDX_H, OP_LDX_B, OP_LDX_DW};
static const uint8_t ldxsx_ops[4] = {OP_LDXSX_W, OP_LDXSX_H, OP_LDXSX_B, OP_INVALID};
static const uint8_t st_ops[4] = {OP_ST_W, OP_ST_H, OP_ST_B, OP_ST_DW};
static const uint8_t stx_ops[4] = {OP_STX_W, OP_STX_H, OP_STX_B, OP_STX_DW};

static int reject(uint32_t pc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int reject(uint32_t pc, const char *fmt, ...)
{
    char reason[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return ebpf_error(-EINVAL, "instruction %u: %s", pc, reason);
}

static int reject_unknown(uint32_t pc, const struct bpf_insn *in)
{
    return reject(pc, "unknown opcode 0x%02x", in->code);
}

void interpreter_describe_helper_arguments(resolved_helper_t *helper)
{
    const ebpf_helper_prototype_t *prototype = helper->prototype;

    helper->memory_argument_count = 0;
    for (uint8_t i = 0; i < 5; i++) {
        ebpf_argument_type_t type = prototype->arguments[i];
        helper_memory_argument_t *argument =
            &helper->memory_arguments[helper->memory_argument_count];

        if (type == EBPF_ARG_PTR_TO_CONST_STR) {
            *argument = (helper_memory_argument_t){.pointer_register = (uint8_t)(i + 1)};
            helper->memory_argument_count++;
            continue;
        }
        if (type != EBPF_ARG_PTR_TO_READABLE_MEM && type != EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL &&
            type != EBPF_ARG_PTR_TO_WRITABLE_MEM)
            continue;
        /* Without a size argument the helper knows the size and checks the memory itself. */
        if (i + 1 >= 5 || (prototype->arguments[i + 1] != EBPF_ARG_CONST_SIZE &&
                           prototype->arguments[i + 1] != EBPF_ARG_CONST_SIZE_OR_ZERO))
            continue;
        *argument = (helper_memory_argument_t){
            .pointer_register = (uint8_t)(i + 1),
            .size_register = (uint8_t)(i + 2),
            .write = type == EBPF_ARG_PTR_TO_WRITABLE_MEM,
            .may_be_null = type == EBPF_ARG_PTR_TO_READABLE_MEM_OR_NULL,
        };
        helper->memory_argument_count++;
    }
}

/* Index of helper id in the program's table, resolving it on first use. */
static int resolve_helper(prepare_state_t *state, uint32_t pc, uint32_t id, uint32_t *index)
{
    ebpf_interpreter_program_t *program = state->program;
    resolved_helper_t *helper;
    ebpf_helper_function_t function = NULL;
    const ebpf_helper_prototype_t *prototype;

    for (uint32_t i = 0; i < program->helper_count; i++) {
        if (program->helpers[i].id == id) {
            *index = i;
            return 0;
        }
    }
    if (!program->resolve)
        return reject(pc, "calls helper %u but no helper resolver was given", id);
    prototype = program->resolve(program->resolver_context, id, &function);
    if (!prototype || !function)
        return reject(pc, "unknown helper id %u", id);

    if (program->helper_count == state->helper_capacity) {
        uint32_t capacity = state->helper_capacity ? state->helper_capacity * 2 : 8;
        resolved_helper_t *grown =
            ebpf_reallocate(program->helpers, (size_t)capacity * sizeof(*program->helpers));
        if (!grown)
            return ebpf_error(-ENOMEM, "instruction %u: no memory for the helper table", pc);
        program->helpers = grown;
        state->helper_capacity = capacity;
    }
    helper = &program->helpers[program->helper_count];
    *helper = (resolved_helper_t){.id = id, .function = function, .prototype = prototype};
    interpreter_describe_helper_arguments(helper);
    *index = program->helper_count++;
    return 0;
}

static int check_register(uint32_t pc, const char *field, uint8_t reg)
{
    if (reg > BPF_REG_10)
        return reject(pc, "%s r%u does not exist (registers are r0..r10)", field, reg);
    return 0;
}

static int check_target(const prepare_state_t *state, uint32_t pc, int64_t offset, const char *what,
                        uint32_t *target)
{
    int64_t destination = (int64_t)pc + 1 + offset;

    if (destination < 0 || destination >= (int64_t)state->count)
        return reject(pc, "%s target %lld out of range (program has %u instructions)", what,
                      (long long)destination, state->count);
    if (state->second_slot[destination])
        return reject(pc, "%s target %lld is the second half of an LDDW", what,
                      (long long)destination);
    *target = (uint32_t)destination;
    return 0;
}

static int decode_end(uint32_t pc, const struct bpf_insn *in, bool alu64, interpreter_insn_t *out)
{
    static const uint8_t le_ops[3] = {OP_LE16, OP_LE32, OP_LE64};
    static const uint8_t be_ops[3] = {OP_BE16, OP_BE32, OP_BE64};
    static const uint8_t bswap_ops[3] = {OP_BSWAP16, OP_BSWAP32, OP_BSWAP64};
    int width;

    if (alu64 && BPF_SRC(in->code) == BPF_X)
        return reject_unknown(pc, in);
    if (in->src_reg != 0 || in->off != 0)
        return reject(pc, "byte swap with nonzero src_reg or offset");
    switch (in->imm) {
    case 16:
        width = 0;
        break;
    case 32:
        width = 1;
        break;
    case 64:
        width = 2;
        break;
    default:
        return reject(pc, "byte swap width %d (must be 16, 32 or 64)", in->imm);
    }
    if (alu64)
        out->op = bswap_ops[width];
    else
        out->op = BPF_SRC(in->code) == BPF_X ? be_ops[width] : le_ops[width];
    return 0;
}

static int decode_alu(uint32_t pc, const struct bpf_insn *in, interpreter_insn_t *out)
{
    bool alu64 = BPF_CLASS(in->code) == BPF_ALU64;
    bool source_register = BPF_SRC(in->code) == BPF_X;
    uint8_t code = BPF_OP(in->code);

    if (in->dst_reg == BPF_REG_10)
        return reject(pc, "writes r10, which is read-only");
    if (code == BPF_END)
        return decode_end(pc, in, alu64, out);
    if (code == BPF_NEG) {
        if (source_register)
            return reject(pc, "NEG is only defined with the K source (opcode 0x%02x)", in->code);
        if (in->src_reg != 0 || in->imm != 0 || in->off != 0)
            return reject(pc, "NEG with nonzero src_reg, imm or offset");
    } else if (source_register) {
        if (in->imm != 0)
            return reject(pc, "imm %d must be 0 when the source is a register", in->imm);
    } else if (in->src_reg != 0) {
        return reject(pc, "src_reg %u must be 0 when the source is the immediate", in->src_reg);
    }

    if (source_register)
        out->op = alu64 ? alu64_x_ops[code >> 4] : alu32_x_ops[code >> 4];
    else
        out->op = alu64 ? alu64_k_ops[code >> 4] : alu32_k_ops[code >> 4];
    if (out->op == OP_INVALID)
        return reject_unknown(pc, in);

    if (in->off == 0)
        return 0;
    if ((code == BPF_DIV || code == BPF_MOD) && in->off == EBPF_OFFSET_SIGNED) {
        static const struct {
            uint8_t unsigned_op, signed_op;
        } signed_ops[] = {
            {OP_DIV64_K, OP_SDIV64_K}, {OP_DIV64_X, OP_SDIV64_X}, {OP_MOD64_K, OP_SMOD64_K},
            {OP_MOD64_X, OP_SMOD64_X}, {OP_DIV32_K, OP_SDIV32_K}, {OP_DIV32_X, OP_SDIV32_X},
            {OP_MOD32_K, OP_SMOD32_K}, {OP_MOD32_X, OP_SMOD32_X},
        };
        for (size_t i = 0; i < EBPF_ARRAY_SIZE(signed_ops); i++) {
            if (signed_ops[i].unsigned_op == out->op) {
                out->op = signed_ops[i].signed_op;
                return 0;
            }
        }
    }
    if (code == BPF_MOV && source_register) {
        if (in->off == 8) {
            out->op = alu64 ? OP_MOVSX64_8 : OP_MOVSX32_8;
            return 0;
        }
        if (in->off == 16) {
            out->op = alu64 ? OP_MOVSX64_16 : OP_MOVSX32_16;
            return 0;
        }
        if (in->off == 32 && alu64) {
            out->op = OP_MOVSX64_32;
            return 0;
        }
    }
    return reject(pc, "offset %d is not defined for opcode 0x%02x", in->off, in->code);
}

static int decode_call(prepare_state_t *state, uint32_t pc, const struct bpf_insn *in,
                       interpreter_insn_t *out)
{
    if (in->off != 0)
        return reject(pc, "call with nonzero offset %d", in->off);

    if (BPF_SRC(in->code) == BPF_X) {
        if (in->src_reg != 0)
            return reject(pc, "callx with nonzero src_reg %u", in->src_reg);
        out->op = OP_CALLX;
        if (in->dst_reg != 0) {
            if (in->imm != 0)
                return reject(pc, "callx names both dst_reg r%u and imm %d", in->dst_reg, in->imm);
            out->dst = in->dst_reg;
        } else if (in->imm >= 0 && in->imm <= BPF_REG_10) {
            /* The encoding of LLVM before 19: the register number in imm. */
            out->dst = (uint8_t)in->imm;
        } else {
            return reject(pc, "callx register %d does not exist", in->imm);
        }
        return 0;
    }

    if (in->dst_reg != 0)
        return reject(pc, "call with nonzero dst_reg r%u", in->dst_reg);
    switch (in->src_reg) {
    case 0:
        out->op = OP_CALL_HELPER;
        return resolve_helper(state, pc, (uint32_t)in->imm, &out->target);
    case BPF_PSEUDO_CALL:
        out->op = OP_CALL_LOCAL;
        return check_target(state, pc, in->imm, "call", &out->target);
    case BPF_PSEUDO_KFUNC_CALL:
        return reject(pc, "calls to kernel functions (src_reg 2, BTF id %d) are not supported",
                      in->imm);
    default:
        return reject(pc, "call with unknown src_reg %u", in->src_reg);
    }
}

static int decode_jump(prepare_state_t *state, uint32_t pc, const struct bpf_insn *in,
                       interpreter_insn_t *out)
{
    bool jmp32 = BPF_CLASS(in->code) == BPF_JMP32;
    bool source_register = BPF_SRC(in->code) == BPF_X;
    uint8_t code = BPF_OP(in->code);

    switch (code) {
    case BPF_JA:
        if (source_register)
            return reject_unknown(pc, in);
        if (in->dst_reg != 0 || in->src_reg != 0)
            return reject(pc, "ja with nonzero dst_reg or src_reg");
        out->op = OP_JA;
        if (!jmp32) {
            if (in->imm != 0)
                return reject(pc, "ja with nonzero imm %d", in->imm);
            return check_target(state, pc, in->off, "jump", &out->target);
        }
        if (in->off != 0)
            return reject(pc, "gotol with nonzero offset %d", in->off);
        return check_target(state, pc, in->imm, "jump", &out->target);
    case BPF_CALL:
        if (jmp32)
            return reject_unknown(pc, in);
        return decode_call(state, pc, in, out);
    case BPF_EXIT:
        if (jmp32 || source_register)
            return reject_unknown(pc, in);
        if (in->dst_reg != 0 || in->src_reg != 0 || in->off != 0 || in->imm != 0)
            return reject(pc, "exit with nonzero fields");
        out->op = OP_EXIT;
        return 0;
    default:
        break;
    }

    if (jmp32)
        out->op = source_register ? jmp32_x_ops[code >> 4] : jmp32_k_ops[code >> 4];
    else
        out->op = source_register ? jmp64_x_ops[code >> 4] : jmp64_k_ops[code >> 4];
    if (out->op == OP_INVALID)
        return reject_unknown(pc, in);
    if (source_register && in->imm != 0)
        return reject(pc, "imm %d must be 0 when the source is a register", in->imm);
    if (!source_register && in->src_reg != 0)
        return reject(pc, "src_reg %u must be 0 when the source is the immediate", in->src_reg);
    return check_target(state, pc, in->off, "jump", &out->target);
}

static int decode_lddw(prepare_state_t *state, uint32_t pc, const struct bpf_insn *in,
                       interpreter_insn_t *out)
{
    const struct bpf_insn *next;

    if (in->code != (BPF_LD | BPF_IMM | BPF_DW)) {
        if (BPF_MODE(in->code) == BPF_ABS || BPF_MODE(in->code) == BPF_IND)
            return reject(pc, "legacy packet access (opcode 0x%02x) is not supported", in->code);
        return reject_unknown(pc, in);
    }
    if (in->src_reg != 0)
        return reject(pc,
                      "LDDW with src_reg %u: pseudo sources must be rewritten into constants "
                      "before the program is prepared",
                      in->src_reg);
    if (in->dst_reg == BPF_REG_10)
        return reject(pc, "writes r10, which is read-only");
    if (in->off != 0)
        return reject(pc, "LDDW with nonzero offset %d", in->off);
    if (pc + 1 >= state->count)
        return reject(pc, "LDDW is split: the program ends before its second slot");
    next = &state->in[pc + 1];
    if (next->code != 0 || next->dst_reg != 0 || next->src_reg != 0 || next->off != 0)
        return reject(pc,
                      "LDDW is split: its second slot (instruction %u) must have opcode 0 "
                      "and zero registers and offset",
                      pc + 1);
    out->op = OP_LDDW;
    out->imm64 = (uint64_t)(uint32_t)in->imm | ((uint64_t)(uint32_t)next->imm << 32);
    return 0;
}

static int decode_atomic(uint32_t pc, const struct bpf_insn *in, interpreter_insn_t *out)
{
    static const struct {
        int32_t imm;
        uint8_t op32, op64;
        bool writes_src;
    } atomic_ops[] = {
        {BPF_ADD, OP_ATOMIC32_ADD, OP_ATOMIC64_ADD, false},
        {BPF_ADD | BPF_FETCH, OP_ATOMIC32_FETCH_ADD, OP_ATOMIC64_FETCH_ADD, true},
        {BPF_OR, OP_ATOMIC32_OR, OP_ATOMIC64_OR, false},
        {BPF_OR | BPF_FETCH, OP_ATOMIC32_FETCH_OR, OP_ATOMIC64_FETCH_OR, true},
        {BPF_AND, OP_ATOMIC32_AND, OP_ATOMIC64_AND, false},
        {BPF_AND | BPF_FETCH, OP_ATOMIC32_FETCH_AND, OP_ATOMIC64_FETCH_AND, true},
        {BPF_XOR, OP_ATOMIC32_XOR, OP_ATOMIC64_XOR, false},
        {BPF_XOR | BPF_FETCH, OP_ATOMIC32_FETCH_XOR, OP_ATOMIC64_FETCH_XOR, true},
        {BPF_XCHG, OP_ATOMIC32_XCHG, OP_ATOMIC64_XCHG, true},
        {BPF_CMPXCHG, OP_ATOMIC32_CMPXCHG, OP_ATOMIC64_CMPXCHG, false},
    };
    bool wide = BPF_SIZE(in->code) == BPF_DW;

    if (!wide && BPF_SIZE(in->code) != BPF_W)
        return reject(pc, "atomic operations are only 32 or 64 bits wide (opcode 0x%02x)",
                      in->code);
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(atomic_ops); i++) {
        if (atomic_ops[i].imm != in->imm)
            continue;
        if (atomic_ops[i].writes_src && in->src_reg == BPF_REG_10)
            return reject(pc, "atomic fetch writes r10, which is read-only");
        out->op = wide ? atomic_ops[i].op64 : atomic_ops[i].op32;
        return 0;
    }
    return reject(pc, "unknown atomic operation imm 0x%x", (unsigned)in->imm);
}

static int decode_memory(uint32_t pc, const struct bpf_insn *in, interpreter_insn_t *out)
{
    unsigned size_index = BPF_SIZE(in->code) >> 3;

    switch (BPF_CLASS(in->code)) {
    case BPF_LDX:
        if (BPF_MODE(in->code) == BPF_MEM)
            out->op = ldx_ops[size_index];
        else if (BPF_MODE(in->code) == EBPF_MODE_MEMSX)
            out->op = ldxsx_ops[size_index];
        else
            return reject_unknown(pc, in);
        if (out->op == OP_INVALID)
            return reject_unknown(pc, in);
        if (in->dst_reg == BPF_REG_10)
            return reject(pc, "writes r10, which is read-only");
        if (in->imm != 0)
            return reject(pc, "load with nonzero imm %d", in->imm);
        return 0;
    case BPF_ST:
        if (BPF_MODE(in->code) != BPF_MEM)
            return reject_unknown(pc, in);
        if (in->src_reg != 0)
            return reject(pc, "store of an immediate with nonzero src_reg %u", in->src_reg);
        out->op = st_ops[size_index];
        return 0;
    case BPF_STX:
        if (BPF_MODE(in->code) == BPF_ATOMIC)
            return decode_atomic(pc, in, out);
        if (BPF_MODE(in->code) != BPF_MEM)
            return reject_unknown(pc, in);
        if (in->imm != 0)
            return reject(pc, "store with nonzero imm %d", in->imm);
        out->op = stx_ops[size_index];
        return 0;
    default:
        return reject_unknown(pc, in);
    }
}

static int decode(prepare_state_t *state, uint32_t pc, interpreter_insn_t *out)
{
    const struct bpf_insn *in = &state->in[pc];
    int err;

    if ((err = check_register(pc, "dst_reg", in->dst_reg)) != 0 ||
        (err = check_register(pc, "src_reg", in->src_reg)) != 0)
        return err;
    *out = (interpreter_insn_t){
        .dst = in->dst_reg, .src = in->src_reg, .offset = in->off, .imm = in->imm};

    switch (BPF_CLASS(in->code)) {
    case BPF_LD:
        return decode_lddw(state, pc, in, out);
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX:
        return decode_memory(pc, in, out);
    case BPF_ALU:
    case BPF_ALU64:
        return decode_alu(pc, in, out);
    default: /* BPF_JMP, BPF_JMP32 */
        return decode_jump(state, pc, in, out);
    }
}

static void program_free(ebpf_interpreter_program_t *program)
{
    ebpf_free(program->instructions);
    ebpf_free(program->original);
    ebpf_free(program->helpers);
    ebpf_free(program);
}

int ebpf_interpreter_program_create(const struct bpf_insn *instructions, uint32_t count,
                                    ebpf_helper_resolver_t resolve, void *resolver_context,
                                    ebpf_interpreter_program_t **program_out)
{
    prepare_state_t state = {.in = instructions, .count = count};
    ebpf_interpreter_program_t *program;
    uint32_t last;
    int err = 0;

    if (!program_out)
        return ebpf_error(-EINVAL, "interpreter: no place for the program");
    *program_out = NULL;
    if (!instructions || count == 0)
        return ebpf_error(-EINVAL, "interpreter: the program has no instructions");
    if (count > EBPF_EXEC_MAX_INSTRUCTIONS)
        return ebpf_error(-E2BIG, "interpreter: %u instructions exceed the limit of %u", count,
                          EBPF_EXEC_MAX_INSTRUCTIONS);

    program = ebpf_allocate(sizeof(*program));
    if (!program)
        return ebpf_error(-ENOMEM, "interpreter: no memory for a program");
    program->count = count;
    program->resolve = resolve;
    program->resolver_context = resolver_context;
    program->instructions = ebpf_allocate_array(count, sizeof(*program->instructions));
    program->original = ebpf_allocate_array(count, sizeof(*program->original));
    state.second_slot = ebpf_allocate_array(count, sizeof(*state.second_slot));
    if (!program->instructions || !program->original || !state.second_slot) {
        err = ebpf_error(-ENOMEM, "interpreter: no memory for %u instructions", count);
        goto fail;
    }
    memcpy(program->original, instructions, (size_t)count * sizeof(*instructions));
    state.program = program;

    /* Second slots first, so jumps decoded before an LDDW still see where it lies. */
    for (uint32_t pc = 0; pc + 1 < count; pc++) {
        if (instructions[pc].code == (BPF_LD | BPF_IMM | BPF_DW)) {
            state.second_slot[pc + 1] = true;
            pc++;
        }
    }
    for (uint32_t pc = 0; pc < count; pc++) {
        err = decode(&state, pc, &program->instructions[pc]);
        if (err)
            goto fail;
        if (program->instructions[pc].op == OP_LDDW)
            pc++;
    }

    /* Every other instruction falls through into one that exists; the last one must not. */
    last = count - 1;
    if (state.second_slot[last] ||
        (program->instructions[last].op != OP_EXIT && program->instructions[last].op != OP_JA)) {
        err = reject(last, "execution can fall off the end of the program (the last instruction "
                           "must be exit or ja)");
        goto fail;
    }

    ebpf_free(state.second_slot);
    *program_out = program;
    return 0;

fail:
    ebpf_free(state.second_slot);
    program_free(program);
    return err;
}

void ebpf_interpreter_program_destroy(ebpf_interpreter_program_t *program)
{
    if (program)
        program_free(program);
}

uint32_t ebpf_interpreter_program_instruction_count(const ebpf_interpreter_program_t *program)
{
    return program ? program->count : 0;
}
