/* bpf2c: one BPF program into one C function, one statement per instruction, with the
 * interpreter's semantics (RFC 9669). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "bpf2c_private.h"
#include "ebpf_exec.h"
#include "ebpf_platform.h"
#include "ebpf_verifier.h"

#define LDDW_CODE (BPF_LD | BPF_IMM | BPF_DW)

const ebpf_helper_prototype_t *bpf2c_program_helper(const bpf2c_program_t *program, uint32_t id)
{
    if (program->find_helper != NULL)
        return program->find_helper(program->find_helper_context, id);
    return ebpf_native_find_helper_prototype((void *)program->program_info, id);
}

static int reject(const program_plan_t *plan, uint32_t pc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reject(const program_plan_t *plan, uint32_t pc, const char *fmt, ...)
{
    char reason[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return ebpf_error(-EINVAL, "program %s: instruction %u: %s", plan->program->name, pc, reason);
}

/* ------------------------------------------------------------------------------------------
 * Planning.
 * ------------------------------------------------------------------------------------------ */

typedef enum branch {
    BRANCH_CONDITIONAL,
    BRANCH_ALWAYS,
    BRANCH_NEVER,
} branch_t;

/* Comparisons with an immediate that the operand's range decides (x >= 0 for unsigned x, ...):
 * written as what they are, so the C holds no comparison a compiler calls always true. */
static branch_t branch_kind(const struct bpf_insn *insn)
{
    bool wide = BPF_CLASS(insn->code) == BPF_JMP;
    uint8_t op = BPF_OP(insn->code);

    if (BPF_SRC(insn->code) != BPF_K) {
        /* A register compared with itself. */
        if (insn->dst_reg != insn->src_reg || op == BPF_JSET)
            return BRANCH_CONDITIONAL;
        return op == BPF_JEQ || op == BPF_JGE || op == BPF_JLE || op == BPF_JSGE || op == BPF_JSLE
                   ? BRANCH_ALWAYS
                   : BRANCH_NEVER;
    }
    if (wide) {
        uint64_t value = (uint64_t)(int64_t)insn->imm;
        if ((op == BPF_JGE && value == 0) || (op == BPF_JLE && value == UINT64_MAX))
            return BRANCH_ALWAYS;
        if ((op == BPF_JLT && value == 0) || (op == BPF_JGT && value == UINT64_MAX))
            return BRANCH_NEVER;
        return BRANCH_CONDITIONAL;
    }
    uint32_t value = (uint32_t)insn->imm;
    if ((op == BPF_JGE && value == 0) || (op == BPF_JLE && value == UINT32_MAX) ||
        (op == BPF_JSGE && insn->imm == INT32_MIN) || (op == BPF_JSLE && insn->imm == INT32_MAX))
        return BRANCH_ALWAYS;
    if ((op == BPF_JLT && value == 0) || (op == BPF_JGT && value == UINT32_MAX) ||
        (op == BPF_JSLT && insn->imm == INT32_MIN) || (op == BPF_JSGT && insn->imm == INT32_MAX))
        return BRANCH_NEVER;
    return BRANCH_CONDITIONAL;
}

static int add_unique(uint32_t **list, uint32_t *count, uint32_t value)
{
    for (uint32_t i = 0; i < *count; i++) {
        if ((*list)[i] == value)
            return 0;
    }
    uint32_t *grown = ebpf_reallocate(*list, (*count + 1) * sizeof(**list));
    if (grown == NULL)
        return -ENOMEM;
    grown[(*count)++] = value;
    *list = grown;
    return 0;
}

static int target_of(const program_plan_t *plan, uint32_t pc, int64_t offset, const char *what,
                     uint32_t *target)
{
    int64_t destination = (int64_t)pc + 1 + offset;
    uint32_t count = plan->program->instruction_count;

    if (destination < 0 || destination >= count)
        return reject(plan, pc, "%s target %" PRId64 " is outside the program (%u instructions)",
                      what, destination, count);
    if (plan->second_slot[destination])
        return reject(plan, pc, "%s target %" PRId64 " is the second half of an ld_imm64", what,
                      destination);
    *target = (uint32_t)destination;
    return 0;
}

static int plan_alu(const program_plan_t *plan, uint32_t pc, const struct bpf_insn *insn)
{
    bool wide = BPF_CLASS(insn->code) == BPF_ALU64;
    uint8_t op = BPF_OP(insn->code);
    bool reg = BPF_SRC(insn->code) == BPF_X;

    if (insn->dst_reg == BPF_REG_10)
        return reject(plan, pc, "writes r10, which is read-only");
    switch (op) {
    case BPF_END:
        if ((wide && reg) || insn->src_reg != 0 || insn->off != 0 ||
            (insn->imm != 16 && insn->imm != 32 && insn->imm != 64))
            return reject(plan, pc, "byte swap 0x%02x of width %d", insn->code, insn->imm);
        return 0;
    case BPF_NEG:
        if (reg || insn->src_reg != 0 || insn->imm != 0 || insn->off != 0)
            return reject(plan, pc, "malformed neg (opcode 0x%02x)", insn->code);
        return 0;
    case BPF_ADD:
    case BPF_SUB:
    case BPF_MUL:
    case BPF_OR:
    case BPF_AND:
    case BPF_LSH:
    case BPF_RSH:
    case BPF_XOR:
    case BPF_ARSH:
        if (insn->off != 0)
            return reject(plan, pc, "offset %d is not defined for opcode 0x%02x", insn->off,
                          insn->code);
        break;
    case BPF_DIV:
    case BPF_MOD:
        if (insn->off != 0 && insn->off != EBPF_OFFSET_SIGNED)
            return reject(plan, pc, "offset %d is not defined for opcode 0x%02x", insn->off,
                          insn->code);
        break;
    case BPF_MOV:
        if (insn->off != 0 &&
            !(reg && (insn->off == 8 || insn->off == 16 || (insn->off == 32 && wide))))
            return reject(plan, pc, "offset %d is not defined for opcode 0x%02x", insn->off,
                          insn->code);
        break;
    default:
        return reject(plan, pc, "unknown opcode 0x%02x", insn->code);
    }
    if (reg ? insn->imm != 0 : insn->src_reg != 0)
        return reject(plan, pc, "malformed operands (opcode 0x%02x)", insn->code);
    return 0;
}

static int plan_memory(const program_plan_t *plan, uint32_t pc, const struct bpf_insn *insn)
{
    uint8_t mode = BPF_MODE(insn->code);

    switch (BPF_CLASS(insn->code)) {
    case BPF_LDX:
        if ((mode != BPF_MEM && mode != EBPF_MODE_MEMSX) ||
            (mode == EBPF_MODE_MEMSX && BPF_SIZE(insn->code) == BPF_DW) || insn->imm != 0)
            return reject(plan, pc, "unknown load 0x%02x", insn->code);
        if (insn->dst_reg == BPF_REG_10)
            return reject(plan, pc, "writes r10, which is read-only");
        return 0;
    case BPF_ST:
        if (mode != BPF_MEM || insn->src_reg != 0)
            return reject(plan, pc, "unknown store 0x%02x", insn->code);
        return 0;
    default: /* BPF_STX */
        if (mode == BPF_ATOMIC) {
            static const int32_t operations[] = {
                BPF_ADD,  BPF_ADD | BPF_FETCH, BPF_OR,  BPF_OR | BPF_FETCH,
                BPF_AND,  BPF_AND | BPF_FETCH, BPF_XOR, BPF_XOR | BPF_FETCH,
                BPF_XCHG, BPF_CMPXCHG,
            };
            bool known = false;
            for (size_t i = 0; i < EBPF_ARRAY_SIZE(operations); i++)
                known = known || operations[i] == insn->imm;
            if (!known || (BPF_SIZE(insn->code) != BPF_W && BPF_SIZE(insn->code) != BPF_DW))
                return reject(plan, pc, "unknown atomic operation 0x%x of opcode 0x%02x",
                              (unsigned)insn->imm, insn->code);
            if ((insn->imm & BPF_FETCH) && insn->src_reg == BPF_REG_10)
                return reject(plan, pc, "atomic fetch writes r10, which is read-only");
            return 0;
        }
        if (mode != BPF_MEM || insn->imm != 0)
            return reject(plan, pc, "unknown store 0x%02x", insn->code);
        return 0;
    }
}

static int plan_lddw(program_plan_t *plan, uint32_t pc, const struct bpf_insn *insn)
{
    const bpf2c_module_t *module = plan->module;
    const struct bpf_insn *next;

    if (insn->code != LDDW_CODE)
        return reject(plan, pc, "opcode 0x%02x is not supported (legacy packet access?)",
                      insn->code);
    if (insn->dst_reg == BPF_REG_10)
        return reject(plan, pc, "writes r10, which is read-only");
    if (pc + 1 >= plan->program->instruction_count)
        return reject(plan, pc, "ld_imm64 is missing its second half");
    next = insn + 1;
    if (insn->off != 0 || next->code != 0 || next->dst_reg != 0 || next->src_reg != 0 ||
        next->off != 0)
        return reject(plan, pc, "malformed ld_imm64");
    switch (insn->src_reg) {
    case 0:
        return 0;
    case BPF_PSEUDO_MAP_FD:
    case BPF_PSEUDO_MAP_VALUE:
        if (insn->imm < 0 || (size_t)insn->imm >= module->map_count)
            return reject(plan, pc, "map index %d out of range (%zu maps)", insn->imm,
                          module->map_count);
        if (insn->src_reg == BPF_PSEUDO_MAP_VALUE) {
            const ebpf_elf_map_t *map = &module->maps[insn->imm];
            if (map->type != BPF_MAP_TYPE_ARRAY || (uint32_t)next->imm >= map->value_size)
                return reject(plan, pc, "direct value access at offset %u of map %s (%s)",
                              (uint32_t)next->imm, map->name,
                              map->type != BPF_MAP_TYPE_ARRAY ? "not an array" : "out of range");
        }
        return add_unique(&plan->map_indexes, &plan->map_count, (uint32_t)insn->imm) == 0 ? 0
                                                                                          : -ENOMEM;
    default:
        return reject(plan, pc, "ld_imm64 with source %u is not supported", insn->src_reg);
    }
}

static int plan_jump(program_plan_t *plan, uint32_t pc, const struct bpf_insn *insn)
{
    bool wide = BPF_CLASS(insn->code) == BPF_JMP;
    bool reg = BPF_SRC(insn->code) == BPF_X;
    uint8_t op = BPF_OP(insn->code);
    uint32_t target;
    int rc;

    switch (op) {
    case BPF_JA:
        if (reg || insn->dst_reg != 0 || insn->src_reg != 0 || (wide && insn->imm != 0) ||
            (!wide && insn->off != 0))
            return reject(plan, pc, "malformed jump (opcode 0x%02x)", insn->code);
        rc = target_of(plan, pc, wide ? insn->off : insn->imm, "jump", &target);
        if (rc == 0)
            plan->label[target] = true;
        return rc;
    case BPF_EXIT:
        if (!wide || reg || insn->dst_reg != 0 || insn->src_reg != 0 || insn->off != 0 ||
            insn->imm != 0)
            return reject(plan, pc, "malformed exit");
        return 0;
    case BPF_CALL:
        if (!wide || insn->off != 0)
            return reject(plan, pc, "malformed call");
        if (reg) {
            uint8_t target_register = insn->dst_reg != 0 ? insn->dst_reg : (uint8_t)insn->imm;
            if (insn->src_reg != 0 || (insn->dst_reg != 0 && insn->imm != 0) || insn->imm < 0 ||
                insn->imm > BPF_REG_10 || target_register > BPF_REG_10)
                return reject(plan, pc, "malformed callx");
            if (target_register == BPF_REG_10)
                plan->uses_stack = true;
            return 0;
        }
        if (insn->dst_reg != 0)
            return reject(plan, pc, "call with nonzero dst_reg r%u", insn->dst_reg);
        if (insn->src_reg == 0)
            return add_unique(&plan->helper_ids, &plan->helper_count, (uint32_t)insn->imm) == 0
                       ? 0
                       : -ENOMEM;
        if (insn->src_reg != BPF_PSEUDO_CALL)
            return reject(plan, pc, "call with src_reg %u is not supported", insn->src_reg);
        rc = target_of(plan, pc, insn->imm, "call", &target);
        if (rc != 0)
            return rc;
        plan->label[target] = true;
        plan->has_local_calls = true;
        /* The instruction after the call is where the callee's exit returns. */
        if (pc + 1 >= plan->program->instruction_count)
            return reject(plan, pc, "a local call is the last instruction");
        plan->label[pc + 1] = true;
        return add_unique(&plan->return_sites, &plan->return_site_count, pc + 1) == 0 ? 0 : -ENOMEM;
    case BPF_JEQ:
    case BPF_JGT:
    case BPF_JGE:
    case BPF_JSET:
    case BPF_JNE:
    case BPF_JSGT:
    case BPF_JSGE:
    case BPF_JLT:
    case BPF_JLE:
    case BPF_JSLT:
    case BPF_JSLE:
        if (reg ? insn->imm != 0 : insn->src_reg != 0)
            return reject(plan, pc, "malformed operands (opcode 0x%02x)", insn->code);
        rc = target_of(plan, pc, insn->off, "jump", &target);
        if (rc == 0 && branch_kind(insn) != BRANCH_NEVER)
            plan->label[target] = true;
        return rc;
    default:
        return reject(plan, pc, "unknown opcode 0x%02x", insn->code);
    }
}

void bpf2c_plan_free(program_plan_t *plan)
{
    ebpf_free(plan->label);
    ebpf_free(plan->second_slot);
    ebpf_free(plan->helper_ids);
    ebpf_free(plan->map_indexes);
    ebpf_free(plan->return_sites);
    memset(plan, 0, sizeof(*plan));
}

int bpf2c_plan_program(const bpf2c_module_t *module, uint32_t index, program_plan_t *plan)
{
    const bpf2c_program_t *program = &module->programs[index];
    const struct bpf_insn *code = program->instructions;
    uint32_t count = program->instruction_count;
    size_t length = 0;
    int rc = 0;

    memset(plan, 0, sizeof(*plan));
    plan->program = program;
    plan->module = module;
    plan->index = index;
    if (code == NULL || count == 0 || count > EBPF_NATIVE_MAX_INSTRUCTIONS)
        return ebpf_error(-EINVAL, "program %s: %u instructions", program->name, count);
    length = (size_t)snprintf(plan->identifier, sizeof(plan->identifier), "program_%u_", index);
    for (const char *c = program->name; *c != '\0' && length + 1 < sizeof(plan->identifier); c++) {
        bool word = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || *c == '_';
        plan->identifier[length++] = word ? *c : '_';
    }
    plan->identifier[length] = '\0';
    plan->label = ebpf_allocate_array(count, sizeof(bool));
    plan->second_slot = ebpf_allocate_array(count, sizeof(bool));
    if (plan->label == NULL || plan->second_slot == NULL) {
        bpf2c_plan_free(plan);
        return ebpf_error(-ENOMEM, "program %s: out of memory", program->name);
    }
    for (uint32_t pc = 0; pc + 1 < count; pc++) {
        if (code[pc].code == LDDW_CODE) {
            plan->second_slot[pc + 1] = true;
            pc++;
        }
    }
    for (uint32_t pc = 0; pc < count && rc == 0; pc++) {
        const struct bpf_insn *insn = &code[pc];
        if (insn->dst_reg > BPF_REG_10 || insn->src_reg > BPF_REG_10) {
            rc = reject(plan, pc, "register r%u does not exist",
                        insn->dst_reg > BPF_REG_10 ? insn->dst_reg : insn->src_reg);
            break;
        }
        if (insn->dst_reg == BPF_REG_10 || insn->src_reg == BPF_REG_10)
            plan->uses_stack = true;
        switch (BPF_CLASS(insn->code)) {
        case BPF_LD:
            rc = plan_lddw(plan, pc, insn);
            pc++;
            break;
        case BPF_LDX:
        case BPF_ST:
        case BPF_STX:
            rc = plan_memory(plan, pc, insn);
            break;
        case BPF_ALU:
        case BPF_ALU64:
            rc = plan_alu(plan, pc, insn);
            break;
        default:
            rc = plan_jump(plan, pc, insn);
            break;
        }
    }
    if (rc == 0) {
        uint8_t last = code[count - 1].code;
        if (plan->second_slot[count - 1] ||
            (last != (BPF_JMP | BPF_EXIT) && last != (BPF_JMP | BPF_JA) && last != EBPF_OP_GOTOL))
            rc = reject(plan, count - 1,
                        "execution can fall off the end of the program (the last instruction "
                        "must be exit or ja)");
    }
    /* The callx encoding of LLVM before 19 (register in imm) and local calls pass r10 on. */
    if (plan->has_local_calls)
        plan->uses_stack = true;
    if (rc != 0) {
        if (rc == -ENOMEM)
            ebpf_error(rc, "program %s: out of memory", program->name);
        bpf2c_plan_free(plan);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Emitting.
 * ------------------------------------------------------------------------------------------ */

typedef struct emitter {
    FILE *out;
    const program_plan_t *plan;
    uint32_t pc;
    char statement[512];
    char note[160]; /* added to the instruction's comment */
    bool failed;
    /* The module map r1 holds here (an ld_imm64 of it earlier in the same basic block, r1 not
     * written since), or -1: lets a bpf_map_lookup_elem of an array be inlined. */
    int32_t r1_map;
} emitter_t;

/* Sets the statement of the current instruction. */
static void say(emitter_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(emitter_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(e->statement, sizeof(e->statement), fmt, ap) >= (int)sizeof(e->statement))
        e->failed = true;
    va_end(ap);
}

/* A signed 32-bit value as a C int expression (INT32_MIN has no literal). */
static const char *signed_text(int32_t value, char *buffer, size_t size)
{
    if (value == INT32_MIN)
        snprintf(buffer, size, "(-2147483647 - 1)");
    else
        snprintf(buffer, size, "%d", value);
    return buffer;
}

/* The immediate sign-extended to 64 bits, as a uint64_t expression. */
static const char *imm64_text(int32_t imm, char *buffer, size_t size)
{
    char value[32];
    if (imm >= 0)
        snprintf(buffer, size, "%d", imm);
    else
        snprintf(buffer, size, "(uint64_t)%s", signed_text(imm, value, sizeof(value)));
    return buffer;
}

/* The immediate as a uint32_t expression. */
static const char *imm32_text(int32_t imm, char *buffer, size_t size)
{
    if (imm >= 0)
        snprintf(buffer, size, "%du", imm);
    else
        snprintf(buffer, size, "0x%xu", (uint32_t)imm);
    return buffer;
}

/* "r1 + 4", "r10 - 8", "r2". */
static const char *address_text(uint8_t reg, int16_t off, char *buffer, size_t size)
{
    if (off == 0)
        snprintf(buffer, size, "r%u", reg);
    else
        snprintf(buffer, size, "r%u %c %d", reg, off < 0 ? '-' : '+', off < 0 ? -(int)off : off);
    return buffer;
}

static void emit_alu(emitter_t *e, const struct bpf_insn *insn)
{
    bool wide = BPF_CLASS(insn->code) == BPF_ALU64;
    bool reg = BPF_SRC(insn->code) == BPF_X;
    bool is_signed = insn->off == EBPF_OFFSET_SIGNED;
    uint8_t op = BPF_OP(insn->code);
    unsigned d = insn->dst_reg, s = insn->src_reg;
    char source[64], text[32];
    const char *symbol = NULL;

    if (op == BPF_END) {
        static const char *const macros[2][3] = {
            {"EBPF_NATIVE_TO_LE16", "EBPF_NATIVE_TO_LE32", "EBPF_NATIVE_TO_LE64"},
            {"EBPF_NATIVE_TO_BE16", "EBPF_NATIVE_TO_BE32", "EBPF_NATIVE_TO_BE64"},
        };
        int width = insn->imm == 16 ? 0 : insn->imm == 32 ? 1 : 2;
        if (wide) {
            static const char *const swaps[3] = {"(uint64_t)__builtin_bswap16((uint16_t)",
                                                 "(uint64_t)__builtin_bswap32((uint32_t)",
                                                 "__builtin_bswap64("};
            say(e, "r%u = %sr%u);", d, swaps[width], d);
        } else {
            say(e, "r%u = %s(r%u);", d, macros[reg ? 1 : 0][width], d);
        }
        return;
    }
    if (wide) {
        if (reg)
            snprintf(source, sizeof(source), "r%u", s);
        else
            imm64_text(insn->imm, source, sizeof(source));
    } else {
        if (reg)
            snprintf(source, sizeof(source), "(uint32_t)r%u", s);
        else
            imm32_text(insn->imm, source, sizeof(source));
    }
    switch (op) {
    case BPF_ADD:
        symbol = "+";
        break;
    case BPF_SUB:
        symbol = "-";
        break;
    case BPF_MUL:
        symbol = "*";
        break;
    case BPF_OR:
        symbol = "|";
        break;
    case BPF_AND:
        symbol = "&";
        break;
    case BPF_XOR:
        symbol = "^";
        break;
    default:
        break;
    }
    if (symbol != NULL) {
        /* r &= r and r |= r change nothing (and compilers call them self-assignments). */
        if (wide && reg && d == s && (op == BPF_AND || op == BPF_OR)) {
            say(e, "(void)0;");
            snprintf(e->note, sizeof(e->note), "no change");
            return;
        }
        if (wide)
            say(e, "r%u %s= %s;", d, symbol, source);
        else
            say(e, "r%u = (uint32_t)((uint32_t)r%u %s %s);", d, d, symbol, source);
        return;
    }
    switch (op) {
    case BPF_DIV:
    case BPF_MOD:
        say(e, "r%u = ebpf_native_%s%s%s((uint%s_t)r%u, %s);", d, is_signed ? "s" : "u",
            op == BPF_DIV ? "div" : "mod", wide ? "64" : "32", wide ? "64" : "32", d, source);
        return;
    case BPF_LSH:
    case BPF_RSH:
    case BPF_ARSH: {
        const char *shift = op == BPF_LSH ? "<<" : ">>";
        unsigned mask = wide ? 63 : 31;
        char count[64];
        if (reg)
            snprintf(count, sizeof(count), "(r%u & %u)", s, mask);
        else
            snprintf(count, sizeof(count), "%u", (uint32_t)insn->imm & mask);
        if (op == BPF_ARSH)
            say(e,
                wide ? "r%u = (uint64_t)((int64_t)r%u %s %s);"
                     : "r%u = (uint32_t)((int32_t)(uint32_t)r%u %s %s);",
                d, d, shift, count);
        else if (wide)
            say(e, "r%u %s= %s;", d, shift, count);
        else
            say(e, "r%u = (uint32_t)((uint32_t)r%u %s %s);", d, d, shift, count);
        return;
    }
    case BPF_NEG:
        say(e, wide ? "r%u = 0 - r%u;" : "r%u = (uint32_t)(0u - (uint32_t)r%u);", d, d);
        return;
    case BPF_MOV:
        if (reg && insn->off != 0) {
            static const char *const casts[] = {"int8_t", "int16_t", "int32_t"};
            const char *cast = casts[insn->off == 8 ? 0 : insn->off == 16 ? 1 : 2];
            say(e, wide ? "r%u = (uint64_t)(int64_t)(%s)r%u;" : "r%u = (uint32_t)(int32_t)(%s)r%u;",
                d, cast, s);
        } else if (reg && wide && d == s) {
            say(e, "(void)0;");
            snprintf(e->note, sizeof(e->note), "no change");
        } else if (wide) {
            say(e, "r%u = %s;", d, source);
        } else {
            say(e, "r%u = %s;", d, reg ? source : imm32_text(insn->imm, text, sizeof(text)));
        }
        return;
    default:
        e->failed = true;
        return;
    }
}

static void emit_memory(emitter_t *e, const struct bpf_insn *insn)
{
    static const char *const widths[4] = {"32", "16", "8", "64"}; /* by BPF_SIZE >> 3 */
    const char *bits = widths[BPF_SIZE(insn->code) >> 3];
    char address[48], value[48], text[32];

    switch (BPF_CLASS(insn->code)) {
    case BPF_LDX:
        address_text(insn->src_reg, insn->off, address, sizeof(address));
        if (BPF_MODE(insn->code) == EBPF_MODE_MEMSX)
            say(e, "r%u = (uint64_t)(int64_t)(int%s_t)ebpf_native_load_u%s(%s);", insn->dst_reg,
                bits, bits, address);
        else
            say(e, "r%u = ebpf_native_load_u%s(%s);", insn->dst_reg, bits, address);
        return;
    case BPF_ST:
        address_text(insn->dst_reg, insn->off, address, sizeof(address));
        if (strcmp(bits, "64") == 0)
            imm64_text(insn->imm, value, sizeof(value));
        else
            snprintf(value, sizeof(value), "(uint%s_t)%s", bits,
                     signed_text(insn->imm, text, sizeof(text)));
        say(e, "ebpf_native_store_u%s(%s, %s);", bits, address, value);
        return;
    default:
        break;
    }
    address_text(insn->dst_reg, insn->off, address, sizeof(address));
    if (BPF_MODE(insn->code) == BPF_MEM) {
        say(e, "ebpf_native_store_u%s(%s, (uint%s_t)r%u);", bits, address, bits, insn->src_reg);
        return;
    }
    /* Atomics (ebpf_native.h); 32-bit fetches zero-extend into the register. */
    const char *type = strcmp(bits, "64") == 0 ? "uint64_t" : "uint32_t";
    unsigned s = insn->src_reg;
    if (insn->imm == BPF_CMPXCHG) {
        say(e, "r0 = ebpf_native_atomic_compare_exchange%s(%s, (%s)r0, (%s)r%u);", bits, address,
            type, type, s);
        return;
    }
    if (insn->imm == BPF_XCHG) {
        say(e, "r%u = ebpf_native_atomic_exchange%s(%s, (%s)r%u);", s, bits, address, type, s);
        return;
    }
    const char *operation;
    switch (insn->imm & ~BPF_FETCH) {
    case BPF_ADD:
        operation = "add";
        break;
    case BPF_OR:
        operation = "or";
        break;
    case BPF_AND:
        operation = "and";
        break;
    default:
        operation = "xor";
        break;
    }
    if (insn->imm & BPF_FETCH)
        say(e, "r%u = ebpf_native_atomic_fetch_%s%s(%s, (%s)r%u);", s, operation, bits, address,
            type, s);
    else
        say(e, "(void)ebpf_native_atomic_fetch_%s%s(%s, (%s)r%u);", operation, bits, address, type,
            s);
}

static void emit_lddw(emitter_t *e, const struct bpf_insn *insn)
{
    const bpf2c_module_t *module = e->plan->module;
    uint64_t value = (uint64_t)(uint32_t)insn[0].imm | (uint64_t)(uint32_t)insn[1].imm << 32;

    switch (insn->src_reg) {
    case BPF_PSEUDO_MAP_FD:
        say(e, "r%u = runtime->maps[%d];", insn->dst_reg, insn->imm);
        snprintf(e->note, sizeof(e->note), "map %s", module->maps[insn->imm].name);
        return;
    case BPF_PSEUDO_MAP_VALUE:
        say(e, "r%u = runtime->map_values[%d] + %u;", insn->dst_reg, insn->imm,
            (uint32_t)insn[1].imm);
        snprintf(e->note, sizeof(e->note), "value of map %s", module->maps[insn->imm].name);
        return;
    default:
        say(e, "r%u = UINT64_C(0x%" PRIx64 ");", insn->dst_reg, value);
        return;
    }
}

static const char *jump_operator(uint8_t op)
{
    switch (op) {
    case BPF_JEQ:
        return "==";
    case BPF_JNE:
        return "!=";
    case BPF_JGT:
    case BPF_JSGT:
        return ">";
    case BPF_JGE:
    case BPF_JSGE:
        return ">=";
    case BPF_JLT:
    case BPF_JSLT:
        return "<";
    default: /* JLE, JSLE */
        return "<=";
    }
}

static bool signed_jump(uint8_t op)
{
    return op == BPF_JSGT || op == BPF_JSGE || op == BPF_JSLT || op == BPF_JSLE;
}

/* After a helper call: a tail call requested by the helper ends the program here. */
static void tail_call_check(emitter_t *e, const char *call)
{
    say(e, "%s if (runtime->tail_call_requested()) { result->r0 = r0; return 0; }", call);
}

static void emit_call(emitter_t *e, const struct bpf_insn *insn)
{
    const program_plan_t *plan = e->plan;
    char call[200];

    if (BPF_SRC(insn->code) == BPF_X) {
        unsigned target = insn->dst_reg != 0 ? insn->dst_reg : (unsigned)insn->imm;
        snprintf(call, sizeof(call),
                 "{ ebpf_helper_function_t function = runtime->find_helper(runtime, r%u); if "
                 "(function == NULL) { result->error_instruction = %u; return -ENOENT; } r0 = "
                 "function(r1, r2, r3, r4, r5); }",
                 target, e->pc);
        tail_call_check(e, call);
        return;
    }
    if (insn->src_reg == BPF_PSEUDO_CALL) {
        uint32_t site = 0, target = (uint32_t)((int64_t)e->pc + 1 + insn->imm);
        while (site < plan->return_site_count && plan->return_sites[site] != e->pc + 1)
            site++;
        say(e, "EBPF_NATIVE_LOCAL_CALL(%u, %u);%s goto i%u;", e->pc, site,
            plan->module->verify
                ? ""
                : " __builtin_memset((void *)(uintptr_t)(r10 - EBPF_NATIVE_FRAME_SIZE), 0, "
                  "EBPF_NATIVE_FRAME_SIZE);",
            target);
        return;
    }
    uint32_t slot = 0;
    while (slot < plan->helper_count && plan->helper_ids[slot] != (uint32_t)insn->imm)
        slot++;
    if (insn->src_reg == 0 && insn->imm == BPF_FUNC_map_lookup_elem && e->r1_map >= 0) {
        uint32_t type = plan->module->maps[e->r1_map].type;
        if (type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY) {
            /* As Linux's JIT inlines array lookups: the value's address without the call
             * (ebpf_native_array_lookup falls back to it if the map given at load is no
             * array). */
            say(e, "r0 = ebpf_native_array_lookup(runtime, %d, r2, helpers[%u], r1);", e->r1_map,
                slot);
            snprintf(e->note, sizeof(e->note), "inlined: an array");
            return;
        }
    }
    snprintf(call, sizeof(call), "r0 = helpers[%u](r1, r2, r3, r4, r5);", slot);
    const ebpf_helper_prototype_t *prototype =
        bpf2c_program_helper(plan->program, (uint32_t)insn->imm);
    if (prototype == NULL || prototype->is_tail_call)
        tail_call_check(e, call);
    else
        say(e, "%s", call);
}

static void emit_jump(emitter_t *e, const struct bpf_insn *insn)
{
    bool wide = BPF_CLASS(insn->code) == BPF_JMP;
    bool reg = BPF_SRC(insn->code) == BPF_X;
    uint8_t op = BPF_OP(insn->code);
    unsigned d = insn->dst_reg, s = insn->src_reg;
    char left[48], right[48];
    uint32_t target;

    if (op == BPF_EXIT) {
        if (e->plan->has_local_calls)
            say(e, "goto exit_frame;");
        else
            say(e, "result->r0 = r0; return 0;");
        return;
    }
    if (op == BPF_CALL) {
        emit_call(e, insn);
        return;
    }
    target = (uint32_t)((int64_t)e->pc + 1 + (op == BPF_JA && !wide ? insn->imm : insn->off));
    if (op == BPF_JA) {
        say(e, "goto i%u;", target);
        return;
    }
    switch (branch_kind(insn)) {
    case BRANCH_ALWAYS:
        say(e, "goto i%u;", target);
        snprintf(e->note, sizeof(e->note), "always taken");
        return;
    case BRANCH_NEVER:
        say(e, "(void)0;");
        snprintf(e->note, sizeof(e->note), "never taken");
        return;
    default:
        break;
    }
    if (op == BPF_JSET && reg && d == s) {
        say(e, wide ? "if (r%u != 0) goto i%u;" : "if ((uint32_t)r%u != 0) goto i%u;", d, target);
        return;
    }
    if (op == BPF_JSET) {
        if (wide)
            say(e, "if ((r%u & %s) != 0) goto i%u;", d,
                reg ? (snprintf(right, sizeof(right), "r%u", s), right)
                    : imm64_text(insn->imm, right, sizeof(right)),
                target);
        else
            say(e, "if (((uint32_t)r%u & %s) != 0) goto i%u;", d,
                reg ? (snprintf(right, sizeof(right), "(uint32_t)r%u", s), right)
                    : imm32_text(insn->imm, right, sizeof(right)),
                target);
        return;
    }
    if (signed_jump(op)) {
        const char *type = wide ? "(int64_t)" : "(int32_t)(uint32_t)";
        snprintf(left, sizeof(left), "%sr%u", type, d);
        if (reg)
            snprintf(right, sizeof(right), "%sr%u", type, s);
        else
            signed_text(insn->imm, right, sizeof(right));
    } else if (wide) {
        snprintf(left, sizeof(left), "r%u", d);
        if (reg)
            snprintf(right, sizeof(right), "r%u", s);
        else
            imm64_text(insn->imm, right, sizeof(right));
    } else {
        snprintf(left, sizeof(left), "(uint32_t)r%u", d);
        if (reg)
            snprintf(right, sizeof(right), "(uint32_t)r%u", s);
        else
            imm32_text(insn->imm, right, sizeof(right));
    }
    say(e, "if (%s %s %s) goto i%u;", left, jump_operator(op), right, target);
}

/* A comment-safe copy of text: no comment opener or terminator, no line break, no trigraph. */
static void comment_text(const char *text, char *buffer, size_t size)
{
    size_t used = 0;
    for (const char *c = text; *c != '\0' && used + 3 < size; c++) {
        char ch = *c;
        if (ch == '\n' || ch == '\r' || ch == '\t' || (unsigned char)ch < 0x20)
            ch = ' ';
        if (used > 0 &&
            ((ch == '/' && buffer[used - 1] == '*') || (ch == '*' && buffer[used - 1] == '/') ||
             (ch == '?' && buffer[used - 1] == '?')))
            buffer[used++] = ' ';
        buffer[used++] = ch;
    }
    while (used > 0 && buffer[used - 1] == ' ')
        used--;
    buffer[used] = '\0';
}

static void emit_source_line(emitter_t *e, const ebpf_elf_line_info_t *line,
                             const ebpf_elf_line_info_t **previous)
{
    char file[256], text[200];
    const char *base;

    if (line == NULL || line->file_name == NULL || line->line == 0)
        return;
    if (*previous != NULL && (*previous)->line == line->line && (*previous)->file_name != NULL &&
        strcmp((*previous)->file_name, line->file_name) == 0)
        return;
    *previous = line;
    base = strrchr(line->file_name, '/');
    comment_text(base != NULL ? base + 1 : line->file_name, file, sizeof(file));
    comment_text(line->line_text != NULL ? line->line_text : "", text, sizeof(text));
    const char *start = text;
    while (*start == ' ')
        start++;
    fprintf(e->out, "    /* %s:%u: %s */\n", file, line->line, start);
}

/* The map r1 holds after insn (see emitter_t.r1_map): an ld_imm64 of a map into r1 sets it;
 * anything that may write r1 (or leave the block: calls, exits, jumps) forgets it. Stores and
 * conditional jumps (whose fall-through stays in the block) keep it. */
static int32_t r1_map_after(const emitter_t *e, const struct bpf_insn *insn)
{
    uint8_t class = BPF_CLASS(insn->code);

    if (insn->code == LDDW_CODE)
        return insn->dst_reg == 1 ? (insn->src_reg == BPF_PSEUDO_MAP_FD ? insn->imm : -1)
                                  : e->r1_map;
    switch (class) {
    case BPF_ST:
        return e->r1_map;
    case BPF_STX:
        return BPF_MODE(insn->code) == BPF_MEM ? e->r1_map : -1; /* atomics may write a reg */
    case BPF_LDX:
    case BPF_ALU:
    case BPF_ALU64:
        return insn->dst_reg == 1 ? -1 : e->r1_map;
    case BPF_JMP:
    case BPF_JMP32: {
        uint8_t op = BPF_OP(insn->code);
        return op == BPF_CALL || op == BPF_EXIT || op == BPF_JA ? -1 : e->r1_map;
    }
    default:
        return -1;
    }
}

static void emit_instruction(emitter_t *e, const struct bpf_insn *insn)
{
    switch (BPF_CLASS(insn->code)) {
    case BPF_LD:
        emit_lddw(e, insn);
        break;
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX:
        emit_memory(e, insn);
        break;
    case BPF_ALU:
    case BPF_ALU64:
        emit_alu(e, insn);
        break;
    default:
        emit_jump(e, insn);
        break;
    }
}

int bpf2c_emit_program(const program_plan_t *plan, FILE *out)
{
    const bpf2c_program_t *program = plan->program;
    const struct bpf_insn *code = program->instructions;
    const ebpf_elf_line_info_t *previous_line = NULL;
    uint32_t frames = plan->has_local_calls ? EBPF_NATIVE_MAX_CALL_FRAMES : 1;
    emitter_t e = {.out = out, .plan = plan, .r1_map = -1};
    char disassembly[128], comment[320];

    fprintf(out,
            "/* Program %s (section \"%s\"): %u instructions. */\n"
            "static int %s(uint64_t r1, uint64_t r2, const ebpf_native_runtime_t *runtime,\n"
            "    ebpf_native_result_t *result)\n"
            "{\n",
            program->name, program->section_name ? program->section_name : "",
            program->instruction_count, plan->identifier);
    if (plan->uses_stack) {
        fprintf(out, "    _Alignas(16) uint8_t stack[%u * EBPF_NATIVE_FRAME_SIZE%s];\n", frames,
                plan->module->verify ? "" : " + EBPF_NATIVE_STACK_SLACK");
        fprintf(out,
                "    uint64_t r10 = (uint64_t)(uintptr_t)(stack + %u * EBPF_NATIVE_FRAME_SIZE);\n",
                frames);
    }
    fprintf(out, "    uint64_t r0 = 0, r3 = 0, r4 = 0, r5 = 0, r6 = 0, r7 = 0, r8 = 0, r9 = 0;\n");
    if (plan->helper_count != 0)
        fprintf(out, "    const ebpf_helper_function_t *const helpers = runtime->helpers;\n");
    if (plan->has_local_calls)
        fprintf(out,
                "    /* Registers r6..r9 and the return point of each caller (local calls). */\n"
                "    struct {\n"
                "        uint64_t r6, r7, r8, r9;\n"
                "        uint32_t return_site;\n"
                "    } frames[EBPF_NATIVE_MAX_CALL_FRAMES] = {{0}};\n"
                "    uint32_t depth = 0;\n");
    fprintf(out,
            "    (void)r0;\n    (void)r1;\n    (void)r2;\n    (void)r3;\n    (void)r4;\n"
            "    (void)r5;\n    (void)r6;\n    (void)r7;\n    (void)r8;\n    (void)r9;\n%s",
            plan->uses_stack ? "    (void)r10;\n" : "");
    fprintf(out, "    (void)runtime;\n");
    if (!plan->module->verify && plan->uses_stack)
        fprintf(out, "    /* Unverified code: the stack starts zeroed, as in the checked "
                     "interpreter. */\n"
                     "    __builtin_memset(stack, 0, sizeof(stack));\n");
    fprintf(out, "\n");

    for (uint32_t pc = 0; pc < program->instruction_count && !e.failed; pc++) {
        const struct bpf_insn *insn = &code[pc];
        e.pc = pc;
        const ebpf_elf_line_info_t *line = program->line_info ? &program->line_info[pc] : NULL;
        emit_source_line(&e, line, &previous_line);
        if (plan->module->line_directives && line != NULL && line->file_name != NULL &&
            line->line != 0) {
            char file[256];
            comment_text(line->file_name, file, sizeof(file));
            /* A name with a quote or backslash cannot be written in #line. */
            if (strpbrk(file, "\"\\") == NULL)
                fprintf(out, "#line %u \"%s\"\n", line->line, file);
        }
        if (plan->label[pc])
            e.r1_map = -1; /* reached from elsewhere: r1 may hold anything */
        emit_instruction(&e, insn);
        e.r1_map = r1_map_after(&e, insn);
        ebpf_disassemble(code, program->instruction_count, pc, disassembly, sizeof(disassembly));
        comment_text(disassembly, comment, sizeof(comment));
        if (BPF_CLASS(insn->code) == BPF_JMP && BPF_OP(insn->code) == BPF_CALL &&
            insn->src_reg == 0 && BPF_SRC(insn->code) == BPF_K) {
            const ebpf_helper_prototype_t *prototype =
                bpf2c_program_helper(program, (uint32_t)insn->imm);
            if (prototype != NULL && prototype->name != NULL && prototype->name[0] != '\0') {
                char how[32]; /* what emit_call said of the call, e.g. "inlined: an array" */
                snprintf(how, sizeof(how), "%.31s", e.note);
                snprintf(e.note, sizeof(e.note), "%.96s%s%s", prototype->name, how[0] ? ", " : "",
                         how);
            }
        }
        if (e.note[0] != '\0') {
            size_t used = strlen(comment);
            snprintf(comment + used, sizeof(comment) - used, " (%s)", e.note);
            e.note[0] = '\0';
        }
        /* The label shares the statement's line, so a #line directive maps that line. */
        char label[16] = "";
        if (plan->label[pc])
            snprintf(label, sizeof(label), "i%u:", pc);
        fprintf(out, "%-8s%-40s /* %u: %s */\n", label, e.statement, pc, comment);
        if (insn->code == LDDW_CODE)
            pc++;
    }
    if (plan->has_local_calls) {
        fprintf(out, "\n    /* exit: from the program, or back to the caller of a local call. */\n"
                     "exit_frame:\n"
                     "    if (depth == 0) {\n"
                     "        result->r0 = r0;\n"
                     "        return 0;\n"
                     "    }\n"
                     "    depth--;\n"
                     "    r6 = frames[depth].r6;\n"
                     "    r7 = frames[depth].r7;\n"
                     "    r8 = frames[depth].r8;\n"
                     "    r9 = frames[depth].r9;\n"
                     "    r10 += EBPF_NATIVE_FRAME_SIZE;\n"
                     "    switch (frames[depth].return_site) {\n");
        for (uint32_t site = 0; site < plan->return_site_count; site++) {
            if (site + 1 == plan->return_site_count)
                fprintf(out, "    default:\n");
            else
                fprintf(out, "    case %u:\n", site);
            fprintf(out, "        goto i%u;\n", plan->return_sites[site]);
        }
        fprintf(out, "    }\n");
    }
    fprintf(out, "}\n\n");
    if (e.failed)
        return ebpf_error(-EINVAL, "program %s: instruction %u cannot be translated", program->name,
                          e.pc);
    return ferror(out) ? ebpf_error(-EIO, "program %s: write error", program->name) : 0;
}
