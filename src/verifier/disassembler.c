/* Instructions in the assembly syntax of the kernel's verifier log, for messages. */
#include <inttypes.h>
#include <stdio.h>

#include "verifier_private.h"

#define MODE_MEMSX 0x80
#define OP_GOTOL   (BPF_JMP32 | BPF_JA | BPF_K)

static const char *size_name(uint8_t code, bool sign_extend)
{
    switch (BPF_SIZE(code)) {
    case BPF_B:
        return sign_extend ? "s8" : "u8";
    case BPF_H:
        return sign_extend ? "s16" : "u16";
    case BPF_W:
        return sign_extend ? "s32" : "u32";
    default:
        return "u64";
    }
}

/* "(r2 + 4)" */
static int address(char *text, size_t size, const char *type, uint8_t reg, int16_t off)
{
    return snprintf(text, size, "*(%s *)(r%u %c %d)", type, reg, off < 0 ? '-' : '+',
                    off < 0 ? -(int)off : (int)off);
}

static const char *alu_symbol(uint8_t op, int16_t off)
{
    switch (op) {
    case BPF_ADD:
        return "+=";
    case BPF_SUB:
        return "-=";
    case BPF_MUL:
        return "*=";
    case BPF_DIV:
        return off == 1 ? "s/=" : "/=";
    case BPF_OR:
        return "|=";
    case BPF_AND:
        return "&=";
    case BPF_LSH:
        return "<<=";
    case BPF_RSH:
        return ">>=";
    case BPF_MOD:
        return off == 1 ? "s%=" : "%=";
    case BPF_XOR:
        return "^=";
    case BPF_ARSH:
        return "s>>=";
    default:
        return "?=";
    }
}

static const char *jump_symbol(uint8_t op)
{
    switch (op) {
    case BPF_JEQ:
        return "==";
    case BPF_JGT:
        return ">";
    case BPF_JGE:
        return ">=";
    case BPF_JSET:
        return "&";
    case BPF_JNE:
        return "!=";
    case BPF_JSGT:
        return "s>";
    case BPF_JSGE:
        return "s>=";
    case BPF_JLT:
        return "<";
    case BPF_JLE:
        return "<=";
    case BPF_JSLT:
        return "s<";
    case BPF_JSLE:
        return "s<=";
    default:
        return "?";
    }
}

static int disassemble_alu(const struct bpf_insn *insn, char *text, size_t size)
{
    char r = BPF_CLASS(insn->code) == BPF_ALU64 ? 'r' : 'w';
    uint8_t op = BPF_OP(insn->code);
    bool source_register = BPF_SRC(insn->code) == BPF_X;

    if (op == BPF_END) {
        const char *kind = BPF_CLASS(insn->code) == BPF_ALU64 ? "bswap"
                           : source_register                  ? "be"
                                                              : "le";
        return snprintf(text, size, "r%u = %s%d r%u", insn->dst_reg, kind, insn->imm,
                        insn->dst_reg);
    }
    if (op == BPF_NEG)
        return snprintf(text, size, "%c%u = -%c%u", r, insn->dst_reg, r, insn->dst_reg);
    if (op == BPF_MOV) {
        if (!source_register)
            return snprintf(text, size, "%c%u = %d", r, insn->dst_reg, insn->imm);
        if (insn->off)
            return snprintf(text, size, "%c%u = (s%d)%c%u", r, insn->dst_reg, insn->off, r,
                            insn->src_reg);
        return snprintf(text, size, "%c%u = %c%u", r, insn->dst_reg, r, insn->src_reg);
    }
    if (source_register)
        return snprintf(text, size, "%c%u %s %c%u", r, insn->dst_reg, alu_symbol(op, insn->off), r,
                        insn->src_reg);
    return snprintf(text, size, "%c%u %s %d", r, insn->dst_reg, alu_symbol(op, insn->off),
                    insn->imm);
}

static int disassemble_atomic(const struct bpf_insn *insn, char *text, size_t size)
{
    bool wide = BPF_SIZE(insn->code) == BPF_DW;
    char r = wide ? 'r' : 'w', target[64];
    const char *prefix = wide ? "atomic64" : "atomic";
    const char *name;

    address(target, sizeof(target), wide ? "u64" : "u32", insn->dst_reg, insn->off);
    switch (insn->imm & ~BPF_FETCH) {
    case BPF_ADD:
        name = "add";
        break;
    case BPF_OR:
        name = "or";
        break;
    case BPF_AND:
        name = "and";
        break;
    case BPF_XOR:
        name = "xor";
        break;
    default:
        name = NULL;
        break;
    }
    if (insn->imm == BPF_XCHG)
        return snprintf(text, size, "%c%u = %s_xchg(%s, %c%u)", r, insn->src_reg, prefix,
                        target + 1, r, insn->src_reg);
    if (insn->imm == BPF_CMPXCHG)
        return snprintf(text, size, "%c0 = %s_cmpxchg(%s, %c0, %c%u)", r, prefix, target + 1, r, r,
                        insn->src_reg);
    if (!name)
        return snprintf(text, size, "invalid atomic operation 0x%x", (unsigned)insn->imm);
    if (insn->imm & BPF_FETCH)
        return snprintf(text, size, "%c%u = %s_fetch_%s(%s, %c%u)", r, insn->src_reg, prefix, name,
                        target + 1, r, insn->src_reg);
    static const char *const symbols[] = {"+=", "|=", "&=", "^="};
    int which = (insn->imm & ~BPF_FETCH) == BPF_ADD   ? 0
                : (insn->imm & ~BPF_FETCH) == BPF_OR  ? 1
                : (insn->imm & ~BPF_FETCH) == BPF_AND ? 2
                                                      : 3;
    return snprintf(text, size, "lock %s %s %c%u", target, symbols[which], r, insn->src_reg);
}

static int disassemble_at(const struct bpf_insn *insns, uint32_t count, uint32_t index, char *text,
                          size_t size, const verifier_t *verifier)
{
    const struct bpf_insn *insn;
    char target[64], name[64];

    if (!insns || index >= count)
        return snprintf(text, size, "(no instruction %u)", index);
    insn = &insns[index];
    switch (BPF_CLASS(insn->code)) {
    case BPF_LD: {
        if (insn->code != (BPF_LD | BPF_IMM | BPF_DW))
            return snprintf(text, size, "invalid opcode 0x%02x", insn->code);
        int32_t high = index + 1 < count ? insns[index + 1].imm : 0;
        uint64_t value = (uint64_t)(uint32_t)insn->imm | ((uint64_t)(uint32_t)high << 32);
        const ebpf_verifier_map_t *map = NULL;
        if (verifier &&
            (insn->src_reg == BPF_PSEUDO_MAP_FD || insn->src_reg == BPF_PSEUDO_MAP_VALUE) &&
            (uint32_t)insn->imm < verifier->map_count)
            map = &verifier->maps[insn->imm];
        if (map)
            snprintf(target, sizeof(target), "%s", verifier_map_name(map, name, sizeof(name)));
        else
            snprintf(target, sizeof(target), "#%d", insn->imm);
        switch (insn->src_reg) {
        case 0:
            return snprintf(text, size, "r%u = %#" PRIx64 " ll", insn->dst_reg, value);
        case BPF_PSEUDO_MAP_FD:
            return snprintf(text, size, "r%u = map[%s] ll", insn->dst_reg, target);
        case BPF_PSEUDO_MAP_VALUE:
            return snprintf(text, size, "r%u = map_value[%s] + %u ll", insn->dst_reg, target,
                            (uint32_t)high);
        case BPF_PSEUDO_FUNC:
            return snprintf(text, size, "r%u = func pc%+d ll", insn->dst_reg, insn->imm);
        default:
            return snprintf(text, size, "r%u = pseudo%u(%d) ll", insn->dst_reg, insn->src_reg,
                            insn->imm);
        }
    }
    case BPF_LDX:
        address(target, sizeof(target), size_name(insn->code, BPF_MODE(insn->code) == MODE_MEMSX),
                insn->src_reg, insn->off);
        return snprintf(text, size, "r%u = %s", insn->dst_reg, target);
    case BPF_ST:
        address(target, sizeof(target), size_name(insn->code, false), insn->dst_reg, insn->off);
        return snprintf(text, size, "%s = %d", target, insn->imm);
    case BPF_STX:
        if (BPF_MODE(insn->code) == BPF_ATOMIC)
            return disassemble_atomic(insn, text, size);
        address(target, sizeof(target), size_name(insn->code, false), insn->dst_reg, insn->off);
        return snprintf(text, size, "%s = r%u", target, insn->src_reg);
    case BPF_ALU:
    case BPF_ALU64:
        return disassemble_alu(insn, text, size);
    default:
        break;
    }
    uint8_t op = BPF_OP(insn->code);
    if (insn->code == (BPF_JMP | BPF_JA))
        return snprintf(text, size, "goto pc%+d", insn->off);
    if (insn->code == OP_GOTOL)
        return snprintf(text, size, "gotol pc%+d", insn->imm);
    if (op == BPF_EXIT)
        return snprintf(text, size, "exit");
    if (op == BPF_CALL) {
        if (BPF_SRC(insn->code) == BPF_X)
            return snprintf(text, size, "callx r%d", insn->dst_reg ? insn->dst_reg : insn->imm);
        if (insn->src_reg == BPF_PSEUDO_CALL)
            return snprintf(text, size, "call pc%+d", insn->imm);
        if (insn->src_reg == BPF_PSEUDO_KFUNC_CALL)
            return snprintf(text, size, "call kernel_function#%d", insn->imm);
        if (verifier) {
            const ebpf_helper_prototype_t *prototype =
                verifier_find_helper(verifier, (uint32_t)insn->imm);
            if (prototype && prototype->name)
                return snprintf(text, size, "call %s#%d", prototype->name, insn->imm);
        }
        return snprintf(text, size, "call #%d", insn->imm);
    }
    char r = BPF_CLASS(insn->code) == BPF_JMP32 ? 'w' : 'r';
    if (BPF_SRC(insn->code) == BPF_X)
        return snprintf(text, size, "if %c%u %s %c%u goto pc%+d", r, insn->dst_reg, jump_symbol(op),
                        r, insn->src_reg, insn->off);
    return snprintf(text, size, "if %c%u %s 0x%x goto pc%+d", r, insn->dst_reg, jump_symbol(op),
                    (unsigned)insn->imm, insn->off);
}

int ebpf_disassemble(const struct bpf_insn *instructions, uint32_t count, uint32_t index,
                     char *text, size_t size)
{
    return disassemble_at(instructions, count, index, text, size, NULL);
}

int verifier_disassemble(const verifier_t *verifier, uint32_t index, char *text, size_t size)
{
    return disassemble_at(verifier->insns, verifier->count, index, text, size, verifier);
}
