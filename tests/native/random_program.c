/* Random programs for differential tests: every register initialised first, forward branches
 * only, memory within the context and the stack slots written at the start. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ebpf_platform.h"
#include "random_program.h"

#define INSN(code_, dst_, src_, off_, imm_)                                                        \
    ((struct bpf_insn){.code = (code_),                                                            \
                       .dst_reg = (dst_),                                                          \
                       .src_reg = (src_),                                                          \
                       .off = (int16_t)(off_),                                                     \
                       .imm = (int32_t)(imm_)})

uint32_t random_next(random_source_t *source)
{
    if (source->used + 4 <= source->size) {
        uint32_t value;
        memcpy(&value, source->bytes + source->used, sizeof(value));
        source->used += sizeof(value);
        return value;
    }
    /* xorshift64* */
    source->state ^= source->state >> 12;
    source->state ^= source->state << 25;
    source->state ^= source->state >> 27;
    return (uint32_t)((source->state * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint32_t below(random_source_t *source, uint32_t limit)
{
    return random_next(source) % limit;
}

/* Scalars the body may use: r1 keeps the context (moved to r6), r10 the stack. */
static const uint8_t scalars[] = {0, 2, 3, 4, 5, 7, 8, 9};

static uint8_t any_scalar(random_source_t *source)
{
    return scalars[below(source, sizeof(scalars))];
}

/* Immediates around the interesting edges as often as anywhere else. */
static int32_t any_immediate(random_source_t *source)
{
    static const int32_t edges[] = {0, 1, -1, 2, 31, 32, 63, 64, INT32_MIN, INT32_MAX, 255, -256};
    if (below(source, 2) == 0)
        return edges[below(source, sizeof(edges) / sizeof(edges[0]))];
    return (int32_t)random_next(source);
}

static const uint8_t sizes[] = {BPF_B, BPF_H, BPF_W, BPF_DW};
static const uint8_t size_bytes[] = {1, 2, 4, 8};

static struct bpf_insn alu(random_source_t *source)
{
    static const uint8_t operations[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,  BPF_AND,
                                         BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH};
    uint8_t op = operations[below(source, sizeof(operations))];
    uint8_t class = below(source, 2) ? BPF_ALU64 : BPF_ALU;
    uint8_t dst = any_scalar(source);
    int16_t off = 0;

    if ((op == BPF_DIV || op == BPF_MOD) && below(source, 2))
        off = 1; /* signed */
    if (below(source, 2))
        return INSN(class | op | BPF_K, dst, 0, off, any_immediate(source));
    if (op == BPF_MOV && below(source, 3) == 0) {
        static const int16_t widths[] = {8, 16, 32};
        off = widths[below(source, class == BPF_ALU64 ? 3 : 2)]; /* movsx */
    }
    return INSN(class | op | BPF_X, dst, any_scalar(source), off, 0);
}

static struct bpf_insn unary(random_source_t *source)
{
    static const int32_t widths[] = {16, 32, 64};
    uint8_t dst = any_scalar(source);
    switch (below(source, 4)) {
    case 0:
        return INSN(BPF_ALU64 | BPF_NEG | BPF_K, dst, 0, 0, 0);
    case 1:
        return INSN(BPF_ALU | BPF_NEG | BPF_K, dst, 0, 0, 0);
    case 2:
        return INSN(BPF_ALU | BPF_END | (below(source, 2) ? BPF_TO_BE : BPF_TO_LE), dst, 0, 0,
                    widths[below(source, 3)]);
    default:
        return INSN(EBPF_OP_BSWAP, dst, 0, 0, widths[below(source, 3)]);
    }
}

static struct bpf_insn memory(random_source_t *source)
{
    uint32_t size = below(source, 4);
    uint8_t bytes = size_bytes[size];
    bool context = below(source, 2);
    /* Naturally aligned offsets inside the 64 context bytes or the 64 stack bytes written. */
    int16_t off = context ? (int16_t)(below(source, RANDOM_CONTEXT_SIZE / bytes) * bytes)
                          : (int16_t)(-(int16_t)((below(source, 64 / bytes) + 1) * bytes));
    uint8_t base = context ? BPF_REG_6 : BPF_REG_10;

    switch (below(source, 4)) {
    case 0:
        return INSN(BPF_STX | BPF_MEM | sizes[size], base, any_scalar(source), off, 0);
    case 1:
        return INSN(BPF_ST | BPF_MEM | sizes[size], base, 0, off, any_immediate(source));
    case 2:
        if (bytes != 8)
            return INSN(BPF_LDX | EBPF_MODE_MEMSX | sizes[size], any_scalar(source), base, off, 0);
        /* fallthrough */
    default:
        return INSN(BPF_LDX | BPF_MEM | sizes[size], any_scalar(source), base, off, 0);
    }
}

static struct bpf_insn atomic(random_source_t *source)
{
    static const int32_t operations[] = {
        BPF_ADD, BPF_ADD | BPF_FETCH, BPF_OR,   BPF_OR | BPF_FETCH, BPF_AND, BPF_AND | BPF_FETCH,
        BPF_XOR, BPF_XOR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG,
    };
    bool wide = below(source, 2);
    uint8_t bytes = wide ? 8 : 4;
    int16_t off = (int16_t)(-(int16_t)((below(source, 64 / bytes) + 1) * bytes));
    return INSN(BPF_STX | BPF_ATOMIC | (wide ? BPF_DW : BPF_W), BPF_REG_10, any_scalar(source), off,
                operations[below(source, sizeof(operations) / sizeof(operations[0]))]);
}

static struct bpf_insn branch(random_source_t *source, uint32_t distance)
{
    static const uint8_t operations[] = {BPF_JEQ,  BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
                                         BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE};
    uint8_t op = operations[below(source, sizeof(operations))];
    uint8_t class = below(source, 2) ? BPF_JMP : BPF_JMP32;
    int16_t off = (int16_t)below(source, distance + 1);
    if (below(source, 2))
        return INSN(class | op | BPF_K, any_scalar(source), 0, off, any_immediate(source));
    return INSN(class | op | BPF_X, any_scalar(source), any_scalar(source), off, 0);
}

uint32_t random_program(random_source_t *source, struct bpf_insn *code)
{
    uint32_t n = 0, body;
    bool local_call = below(source, 3) == 0;

    /* Prologue: the context in r6, every scalar and 64 bytes of stack initialised. */
    code[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
    for (size_t i = 0; i < sizeof(scalars); i++) {
        if (below(source, 4) == 0) {
            code[n++] = INSN(BPF_LD | BPF_IMM | BPF_DW, scalars[i], 0, 0, random_next(source));
            code[n++] = INSN(0, 0, 0, 0, random_next(source));
        } else {
            code[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, scalars[i], 0, 0, any_immediate(source));
        }
    }
    for (int16_t slot = 1; slot <= 8; slot++)
        code[n++] =
            INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8 * slot, any_immediate(source));

    /* Body: one instruction per step, branches forward to the body or the epilogue. */
    body = 8 + below(source, 72);
    for (uint32_t step = 0; step < body; step++) {
        uint32_t kind = below(source, 16), remaining = body - step - 1;
        if (kind < 7)
            code[n++] = alu(source);
        else if (kind < 8)
            code[n++] = unary(source);
        else if (kind < 11)
            code[n++] = memory(source);
        else if (kind < 12)
            code[n++] = atomic(source);
        else
            code[n++] = branch(source, remaining < 8 ? remaining : 8);
    }

    /* Epilogue: everything folded into r0, so any difference shows. */
    code[n++] = INSN(BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_7, BPF_REG_2, 0, 0);
    code[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_8, BPF_REG_3, 0, 0);
    code[n++] = INSN(BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_9, BPF_REG_4, 0, 0);
    code[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_7, BPF_REG_5, 0, 0);
    code[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_9, BPF_REG_0, 0, 0);
    uint32_t call = n;
    if (local_call) {
        code[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0);
        code[n++] = INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0); /* target below */
        call = n - 1;
        code[n++] = INSN(BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_9, BPF_REG_0, 0, 0);
    }
    code[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_9, 0, 0);
    code[n++] = INSN(BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_0, BPF_REG_7, 0, 0);
    code[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_0, BPF_REG_8, 0, 0);
    for (int16_t slot = 1; slot <= 8; slot++) {
        code[n++] = INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_2, BPF_REG_10, -8 * slot, 0);
        code[n++] =
            INSN(BPF_ALU64 | (slot & 1 ? BPF_XOR : BPF_ADD) | BPF_X, BPF_REG_0, BPF_REG_2, 0, 0);
    }
    code[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

    if (local_call) {
        /* The callee: arguments r1 (the context) to r5, its own stack frame. */
        code[call].imm = (int32_t)(n - call - 1);
        code[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_2, 0, 0);
        code[n++] = INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_3, -8, 0);
        for (uint32_t i = 0, steps = 1 + below(source, 6); i < steps; i++) {
            static const uint8_t operations[] = {BPF_ADD, BPF_XOR, BPF_MUL, BPF_LSH, BPF_SUB};
            code[n++] = INSN(BPF_ALU64 | operations[below(source, 5)] | BPF_X, BPF_REG_0,
                             (uint8_t)(2 + below(source, 4)), 0, 0);
        }
        code[n++] =
            INSN(BPF_LDX | BPF_MEM | BPF_B, BPF_REG_4, BPF_REG_1, (int16_t)below(source, 64), 0);
        code[n++] = INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_5, BPF_REG_10, -8, 0);
        code[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_0, BPF_REG_4, 0, 0);
        code[n++] = INSN(BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_0, BPF_REG_5, 0, 0);
        code[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    }
    return n;
}

static const ebpf_context_descriptor_t context_descriptor = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t),
    RANDOM_CONTEXT_SIZE, -1, -1, -1};
static const ebpf_program_type_descriptor_t type_descriptor = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "random_test",
    .context_descriptor = &context_descriptor,
    .program_type = {0x7a7d0e57, 0x1, 0x2, {3, 4, 5, 6, 7, 8, 9, 0xa}},
    .bpf_prog_type = 1002,
};
static const ebpf_program_info_t program_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &type_descriptor,
};

const ebpf_program_info_t *random_program_info(void)
{
    return &program_info;
}

bool random_program_compare(const struct bpf_insn *code, uint32_t count,
                            const ebpf_native_module_t *module, uint32_t index,
                            const uint8_t context[RANDOM_CONTEXT_SIZE])
{
    _Alignas(8) uint8_t interpreted_context[RANDOM_CONTEXT_SIZE],
        native_context[RANDOM_CONTEXT_SIZE];
    ebpf_interpreter_program_t *interpreter = NULL;
    ebpf_native_program_t *native = NULL;
    ebpf_exec_result_t interpreted = {0}, ran = {0};
    int interpreted_rc, native_rc;

    memcpy(interpreted_context, context, RANDOM_CONTEXT_SIZE);
    memcpy(native_context, context, RANDOM_CONTEXT_SIZE);
    if (ebpf_interpreter_program_create(code, count, NULL, NULL, &interpreter) != 0 ||
        ebpf_native_program_create(module, index, NULL, NULL, &native) != 0) {
        fprintf(stderr, "random program %u: %s\n", index, ebpf_last_error());
        ebpf_interpreter_program_destroy(interpreter);
        return false;
    }
    ebpf_exec_region_t region = {interpreted_context, RANDOM_CONTEXT_SIZE, true};
    ebpf_exec_environment_t env = {.regions = &region, .region_count = 1};
    interpreted_rc =
        ebpf_interpreter_run(interpreter, (uintptr_t)interpreted_context, 0, &env, &interpreted);
    native_rc = ebpf_native_program_run(native, (uintptr_t)native_context, 0, NULL, NULL, 0, &ran);
    ebpf_interpreter_program_destroy(interpreter);
    ebpf_native_program_destroy(native);
    if (interpreted_rc != native_rc || interpreted.r0 != ran.r0 ||
        memcmp(interpreted_context, native_context, RANDOM_CONTEXT_SIZE) != 0) {
        fprintf(stderr,
                "random program %u differs: interpreter rc %d r0 0x%" PRIx64 ", native rc %d r0 "
                "0x%" PRIx64 "%s\n",
                index, interpreted_rc, interpreted.r0, native_rc, ran.r0,
                memcmp(interpreted_context, native_context, RANDOM_CONTEXT_SIZE) != 0
                    ? " (the context differs)"
                    : "");
        return false;
    }
    return true;
}
