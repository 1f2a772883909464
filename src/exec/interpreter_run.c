/* The interpreter's run loop: executes decoded programs with memory checks, calls and budgets. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ebpf_platform.h"
#include "interpreter_private.h"

#define LIKELY(x)   __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Registers r6..r9 and the return point of a caller, saved across a local call. */
typedef struct call_frame {
    uint32_t return_pc;
    uint64_t saved[4];
} call_frame_t;

static inline uint16_t swap16(uint64_t value)
{
    return __builtin_bswap16((uint16_t)value);
}

static inline uint32_t swap32(uint64_t value)
{
    return __builtin_bswap32((uint32_t)value);
}

static inline uint64_t swap64(uint64_t value)
{
    return __builtin_bswap64(value);
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_TO_LE16(v) ((uint16_t)(v))
#define HOST_TO_LE32(v) ((uint32_t)(v))
#define HOST_TO_LE64(v) ((uint64_t)(v))
#define HOST_TO_BE16(v) swap16(v)
#define HOST_TO_BE32(v) swap32(v)
#define HOST_TO_BE64(v) swap64(v)
#else
#define HOST_TO_LE16(v) swap16(v)
#define HOST_TO_LE32(v) swap32(v)
#define HOST_TO_LE64(v) swap64(v)
#define HOST_TO_BE16(v) ((uint16_t)(v))
#define HOST_TO_BE32(v) ((uint32_t)(v))
#define HOST_TO_BE64(v) ((uint64_t)(v))
#endif

/* RFC 9669: x / 0 = 0, x % 0 = x, and INT_MIN / -1 wraps (INT_MIN % -1 = 0) where C would trap. */
static inline uint64_t udiv64(uint64_t a, uint64_t b)
{
    return b ? a / b : 0;
}

static inline uint64_t umod64(uint64_t a, uint64_t b)
{
    return b ? a % b : a;
}

static inline uint32_t udiv32(uint32_t a, uint32_t b)
{
    return b ? a / b : 0;
}

static inline uint32_t umod32(uint32_t a, uint32_t b)
{
    return b ? a % b : a;
}

static inline uint64_t sdiv64(uint64_t a, uint64_t b)
{
    if (b == 0)
        return 0;
    if ((int64_t)b == -1)
        return 0 - a;
    return (uint64_t)((int64_t)a / (int64_t)b);
}

static inline uint64_t smod64(uint64_t a, uint64_t b)
{
    if (b == 0)
        return a;
    if ((int64_t)b == -1)
        return 0;
    return (uint64_t)((int64_t)a % (int64_t)b);
}

static inline uint32_t sdiv32(uint32_t a, uint32_t b)
{
    if (b == 0)
        return 0;
    if ((int32_t)b == -1)
        return 0 - a;
    return (uint32_t)((int32_t)a / (int32_t)b);
}

static inline uint32_t smod32(uint32_t a, uint32_t b)
{
    if (b == 0)
        return a;
    if ((int32_t)b == -1)
        return 0;
    return (uint32_t)((int32_t)a % (int32_t)b);
}

static __attribute__((noinline, cold)) int access_fault(const exec_run_t *run, uint32_t pc,
                                                        uintptr_t address, size_t size, bool write)
{
    char reason[200];

    exec_describe_access_fault(run, address, size, write, reason, sizeof(reason));
    return ebpf_error(-EFAULT, "instruction %u: %s", pc, reason);
}

static __attribute__((noinline, cold)) int misaligned_fault(uint32_t pc, uintptr_t address,
                                                            size_t size)
{
    return ebpf_error(-EFAULT,
                      "instruction %u: atomic operation of %zu bytes at 0x%" PRIxPTR
                      " is not aligned to %zu bytes",
                      pc, size, address, size);
}

static __attribute__((noinline, cold)) int budget_fault(uint32_t pc, uint64_t budget)
{
    return ebpf_error(-ETIMEDOUT,
                      "instruction %u: the instruction budget of %" PRIu64 " is exhausted", pc,
                      budget);
}

static __attribute__((noinline, cold)) int call_depth_fault(uint32_t pc, uint32_t frames)
{
    return ebpf_error(-EOVERFLOW, "instruction %u: local call exceeds %u call levels", pc, frames);
}

static __attribute__((noinline, cold)) int helper_fault(exec_run_t *run)
{
    return ebpf_error(run->fault, "%s", run->fault_message);
}

static int check_helper_string(exec_run_t *run, const resolved_helper_t *helper, uint8_t reg_index,
                               uintptr_t address, uint32_t pc)
{
    /* A format string longer than this is a runaway read, not a format. */
    enum { STRING_LIMIT = 65536 };
    char reason[200];

    for (size_t i = 0; i < STRING_LIMIT; i++) {
        if (!exec_access_allowed(run, address + i, 1, false)) {
            exec_describe_access_fault(run, address + i, 1, false, reason, sizeof(reason));
            return ebpf_error(-EFAULT, "instruction %u: helper %s (id %u) argument r%u: string %s",
                              pc, helper->prototype->name ? helper->prototype->name : "?",
                              helper->id, reg_index, reason);
        }
        if (*(const char *)(address + i) == '\0')
            return 0;
    }
    return ebpf_error(-EFAULT,
                      "instruction %u: helper %s (id %u) argument r%u: string not terminated "
                      "within %d bytes",
                      pc, helper->prototype->name ? helper->prototype->name : "?", helper->id,
                      reg_index, STRING_LIMIT);
}

static int check_helper_arguments(exec_run_t *run, const resolved_helper_t *helper,
                                  const uint64_t *reg, uint32_t pc)
{
    char reason[200];

    for (uint8_t i = 0; i < helper->memory_argument_count; i++) {
        const helper_memory_argument_t *argument = &helper->memory_arguments[i];
        uintptr_t address = (uintptr_t)reg[argument->pointer_register];
        uint64_t size;
        int err;

        if (argument->size_register == 0) {
            err = check_helper_string(run, helper, argument->pointer_register, address, pc);
            if (err)
                return err;
            continue;
        }
        size = reg[argument->size_register];
        if (size == 0 || (address == 0 && argument->may_be_null))
            continue;
        if ((uint64_t)(size_t)size != size ||
            !exec_access_allowed(run, address, (size_t)size, argument->write)) {
            exec_describe_access_fault(run, address, (size_t)size, argument->write, reason,
                                       sizeof(reason));
            return ebpf_error(-EFAULT, "instruction %u: helper %s (id %u) argument r%u: %s", pc,
                              helper->prototype->name ? helper->prototype->name : "?", helper->id,
                              argument->pointer_register, reason);
        }
    }
    return 0;
}

/* The helper a callx names; dynamic holds it when the program never calls it directly. */
static __attribute__((noinline)) int resolve_callx(const ebpf_interpreter_program_t *program,
                                                   uint64_t id, uint32_t pc,
                                                   resolved_helper_t *dynamic,
                                                   const resolved_helper_t **helper)
{
    ebpf_helper_function_t function = NULL;
    const ebpf_helper_prototype_t *prototype = NULL;

    for (uint32_t i = 0; i < program->helper_count; i++) {
        if (program->helpers[i].id == id) {
            *helper = &program->helpers[i];
            return 0;
        }
    }
    if (id <= UINT32_MAX && program->resolve)
        prototype = program->resolve(program->resolver_context, (uint32_t)id, &function);
    if (!prototype || !function)
        return ebpf_error(-ENOENT, "instruction %u: callx of unknown helper id %" PRIu64, pc, id);
    *dynamic =
        (resolved_helper_t){.id = (uint32_t)id, .function = function, .prototype = prototype};
    interpreter_describe_helper_arguments(dynamic);
    *helper = dynamic;
    return 0;
}

#define DST   reg[insn->dst]
#define SRC   reg[insn->src]
#define IMM64 ((uint64_t)(int64_t)insn->imm)
#define IMM32 ((uint32_t)insn->imm)
#define PC    ((uint32_t)(insn - instructions))

#define ALU64(name, op)                                                                            \
    case OP_##name##64_K:                                                                          \
        DST = DST op IMM64;                                                                        \
        break;                                                                                     \
    case OP_##name##64_X:                                                                          \
        DST = DST op SRC;                                                                          \
        break;

#define ALU32(name, op)                                                                            \
    case OP_##name##32_K:                                                                          \
        DST = (uint32_t)((uint32_t)DST op IMM32);                                                  \
        break;                                                                                     \
    case OP_##name##32_X:                                                                          \
        DST = (uint32_t)((uint32_t)DST op(uint32_t) SRC);                                          \
        break;

#define ALU64_CALL(name, function)                                                                 \
    case OP_##name##64_K:                                                                          \
        DST = function(DST, IMM64);                                                                \
        break;                                                                                     \
    case OP_##name##64_X:                                                                          \
        DST = function(DST, SRC);                                                                  \
        break;

#define ALU32_CALL(name, function)                                                                 \
    case OP_##name##32_K:                                                                          \
        DST = function((uint32_t)DST, IMM32);                                                      \
        break;                                                                                     \
    case OP_##name##32_X:                                                                          \
        DST = function((uint32_t)DST, (uint32_t)SRC);                                              \
        break;

#define JUMP(cond)                                                                                 \
    do {                                                                                           \
        if (cond)                                                                                  \
            pc = insn->target;                                                                     \
    } while (0)

#define JMP64(name, op, type)                                                                      \
    case OP_##name##64_K:                                                                          \
        JUMP((type)DST op(type) IMM64);                                                            \
        break;                                                                                     \
    case OP_##name##64_X:                                                                          \
        JUMP((type)DST op(type) SRC);                                                              \
        break;

#define JMP32(name, op, type)                                                                      \
    case OP_##name##32_K:                                                                          \
        JUMP((type)(uint32_t)DST op(type) IMM32);                                                  \
        break;                                                                                     \
    case OP_##name##32_X:                                                                          \
        JUMP((type)(uint32_t)DST op(type)(uint32_t) SRC);                                          \
        break;

/* Checks [address, address + size) before an access; stack first, it is the common case. */
#define CHECK_ACCESS(address, size, write)                                                         \
    do {                                                                                           \
        if (checked && !exec_range_within(stack_low, stack_top - stack_low, (address), (size)) &&  \
            !exec_access_allowed_outside_stack(run, (address), (size), (write))) {                 \
            err = access_fault(run, PC, (address), (size), (write));                               \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_ATOMIC(address, size)                                                                \
    do {                                                                                           \
        CHECK_ACCESS(address, size, true);                                                         \
        if (checked && ((address) & ((size)-1)) != 0) {                                            \
            err = misaligned_fault(PC, (address), (size));                                         \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

#define ADDRESS(base) ((uintptr_t)((base) + (uint64_t)(int64_t)insn->offset))

#define LOAD(type, extend)                                                                         \
    do {                                                                                           \
        uintptr_t address = ADDRESS(SRC);                                                          \
        type value;                                                                                \
        CHECK_ACCESS(address, sizeof(type), false);                                                \
        memcpy(&value, (const void *)address, sizeof(type));                                       \
        DST = (uint64_t)(extend)value;                                                             \
    } while (0)

#define STORE(type, source)                                                                        \
    do {                                                                                           \
        uintptr_t address = ADDRESS(DST);                                                          \
        type value = (type)(source);                                                               \
        CHECK_ACCESS(address, sizeof(type), true);                                                 \
        memcpy((void *)address, &value, sizeof(type));                                             \
    } while (0)

#define ATOMIC(bits, builtin, fetch)                                                               \
    do {                                                                                           \
        uintptr_t address = ADDRESS(DST);                                                          \
        uint##bits##_t old;                                                                        \
        CHECK_ATOMIC(address, bits / 8);                                                           \
        old = builtin((uint##bits##_t *)address, (uint##bits##_t)SRC, __ATOMIC_SEQ_CST);           \
        if (fetch)                                                                                 \
            SRC = old;                                                                             \
    } while (0)

#define CMPXCHG(bits)                                                                              \
    do {                                                                                           \
        uintptr_t address = ADDRESS(DST);                                                          \
        uint##bits##_t expected = (uint##bits##_t)reg[0];                                          \
        CHECK_ATOMIC(address, bits / 8);                                                           \
        __atomic_compare_exchange_n((uint##bits##_t *)address, &expected, (uint##bits##_t)SRC,     \
                                    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                    \
        reg[0] = expected;                                                                         \
    } while (0)

/* The run loop, specialised by the compiler for each combination of checked and traced. */
static inline __attribute__((always_inline)) int interpret(exec_run_t *run, uint64_t *reg,
                                                           uint32_t max_frames,
                                                           ebpf_exec_result_t *result,
                                                           const bool checked, const bool traced)
{
    const ebpf_interpreter_program_t *program = run->program;
    const ebpf_exec_environment_t *env = run->env;
    const interpreter_insn_t *instructions = program->instructions;
    const uint64_t budget = env->instruction_budget ? env->instruction_budget : UINT64_MAX;
    uint64_t remaining = budget;
    uintptr_t stack_low = run->stack_low;
    const uintptr_t stack_top = run->stack_top;
    call_frame_t frames[EBPF_EXEC_MAX_CALL_FRAMES];
    uint32_t depth = 0;
    uint32_t pc = 0;
    int err = 0;

    if (checked)
        memset((void *)stack_low, 0, EBPF_EXEC_FRAME_SIZE);

    for (;;) {
        const interpreter_insn_t *insn = &instructions[pc];
        const resolved_helper_t *helper;
        resolved_helper_t dynamic_helper;

        if (UNLIKELY(remaining == 0)) {
            err = budget_fault(pc, budget);
            goto out;
        }
        remaining--;
        if (traced)
            env->trace(env->trace_cookie, pc, &program->original[pc], reg);
        pc++;

        switch ((interpreter_op_t)insn->op) {
            ALU64(ADD, +)
            ALU64(SUB, -)
            ALU64(MUL, *)
            ALU64(OR, |)
            ALU64(AND, &)
            ALU64(XOR, ^)
            ALU64_CALL(DIV, udiv64)
            ALU64_CALL(SDIV, sdiv64)
            ALU64_CALL(MOD, umod64)
            ALU64_CALL(SMOD, smod64)
        case OP_LSH64_K:
            DST <<= IMM64 & 63;
            break;
        case OP_LSH64_X:
            DST <<= SRC & 63;
            break;
        case OP_RSH64_K:
            DST >>= IMM64 & 63;
            break;
        case OP_RSH64_X:
            DST >>= SRC & 63;
            break;
        case OP_ARSH64_K:
            DST = (uint64_t)((int64_t)DST >> (IMM64 & 63));
            break;
        case OP_ARSH64_X:
            DST = (uint64_t)((int64_t)DST >> (SRC & 63));
            break;
        case OP_NEG64:
            DST = 0 - DST;
            break;
        case OP_MOV64_K:
            DST = IMM64;
            break;
        case OP_MOV64_X:
            DST = SRC;
            break;
        case OP_MOVSX64_8:
            DST = (uint64_t)(int64_t)(int8_t)SRC;
            break;
        case OP_MOVSX64_16:
            DST = (uint64_t)(int64_t)(int16_t)SRC;
            break;
        case OP_MOVSX64_32:
            DST = (uint64_t)(int64_t)(int32_t)SRC;
            break;

            ALU32(ADD, +)
            ALU32(SUB, -)
            ALU32(MUL, *)
            ALU32(OR, |)
            ALU32(AND, &)
            ALU32(XOR, ^)
            ALU32_CALL(DIV, udiv32)
            ALU32_CALL(SDIV, sdiv32)
            ALU32_CALL(MOD, umod32)
            ALU32_CALL(SMOD, smod32)
        case OP_LSH32_K:
            DST = (uint32_t)((uint32_t)DST << (IMM32 & 31));
            break;
        case OP_LSH32_X:
            DST = (uint32_t)((uint32_t)DST << (SRC & 31));
            break;
        case OP_RSH32_K:
            DST = (uint32_t)DST >> (IMM32 & 31);
            break;
        case OP_RSH32_X:
            DST = (uint32_t)DST >> (SRC & 31);
            break;
        case OP_ARSH32_K:
            DST = (uint32_t)((int32_t)(uint32_t)DST >> (IMM32 & 31));
            break;
        case OP_ARSH32_X:
            DST = (uint32_t)((int32_t)(uint32_t)DST >> (SRC & 31));
            break;
        case OP_NEG32:
            DST = (uint32_t)(0u - (uint32_t)DST);
            break;
        case OP_MOV32_K:
            DST = IMM32;
            break;
        case OP_MOV32_X:
            DST = (uint32_t)SRC;
            break;
        case OP_MOVSX32_8:
            DST = (uint32_t)(int32_t)(int8_t)SRC;
            break;
        case OP_MOVSX32_16:
            DST = (uint32_t)(int32_t)(int16_t)SRC;
            break;

        case OP_LE16:
            DST = HOST_TO_LE16(DST);
            break;
        case OP_LE32:
            DST = HOST_TO_LE32(DST);
            break;
        case OP_LE64:
            DST = HOST_TO_LE64(DST);
            break;
        case OP_BE16:
            DST = HOST_TO_BE16(DST);
            break;
        case OP_BE32:
            DST = HOST_TO_BE32(DST);
            break;
        case OP_BE64:
            DST = HOST_TO_BE64(DST);
            break;
        case OP_BSWAP16:
            DST = swap16(DST);
            break;
        case OP_BSWAP32:
            DST = swap32(DST);
            break;
        case OP_BSWAP64:
            DST = swap64(DST);
            break;

        case OP_LDDW:
            DST = insn->imm64;
            pc++;
            break;

        case OP_LDX_B:
            LOAD(uint8_t, uint64_t);
            break;
        case OP_LDX_H:
            LOAD(uint16_t, uint64_t);
            break;
        case OP_LDX_W:
            LOAD(uint32_t, uint64_t);
            break;
        case OP_LDX_DW:
            LOAD(uint64_t, uint64_t);
            break;
        case OP_LDXSX_B:
            LOAD(int8_t, int64_t);
            break;
        case OP_LDXSX_H:
            LOAD(int16_t, int64_t);
            break;
        case OP_LDXSX_W:
            LOAD(int32_t, int64_t);
            break;
        case OP_ST_B:
            STORE(uint8_t, insn->imm);
            break;
        case OP_ST_H:
            STORE(uint16_t, insn->imm);
            break;
        case OP_ST_W:
            STORE(uint32_t, insn->imm);
            break;
        case OP_ST_DW:
            STORE(uint64_t, IMM64);
            break;
        case OP_STX_B:
            STORE(uint8_t, SRC);
            break;
        case OP_STX_H:
            STORE(uint16_t, SRC);
            break;
        case OP_STX_W:
            STORE(uint32_t, SRC);
            break;
        case OP_STX_DW:
            STORE(uint64_t, SRC);
            break;

        case OP_ATOMIC32_ADD:
            ATOMIC(32, __atomic_fetch_add, false);
            break;
        case OP_ATOMIC32_FETCH_ADD:
            ATOMIC(32, __atomic_fetch_add, true);
            break;
        case OP_ATOMIC32_OR:
            ATOMIC(32, __atomic_fetch_or, false);
            break;
        case OP_ATOMIC32_FETCH_OR:
            ATOMIC(32, __atomic_fetch_or, true);
            break;
        case OP_ATOMIC32_AND:
            ATOMIC(32, __atomic_fetch_and, false);
            break;
        case OP_ATOMIC32_FETCH_AND:
            ATOMIC(32, __atomic_fetch_and, true);
            break;
        case OP_ATOMIC32_XOR:
            ATOMIC(32, __atomic_fetch_xor, false);
            break;
        case OP_ATOMIC32_FETCH_XOR:
            ATOMIC(32, __atomic_fetch_xor, true);
            break;
        case OP_ATOMIC32_XCHG:
            ATOMIC(32, __atomic_exchange_n, true);
            break;
        case OP_ATOMIC32_CMPXCHG:
            CMPXCHG(32);
            break;
        case OP_ATOMIC64_ADD:
            ATOMIC(64, __atomic_fetch_add, false);
            break;
        case OP_ATOMIC64_FETCH_ADD:
            ATOMIC(64, __atomic_fetch_add, true);
            break;
        case OP_ATOMIC64_OR:
            ATOMIC(64, __atomic_fetch_or, false);
            break;
        case OP_ATOMIC64_FETCH_OR:
            ATOMIC(64, __atomic_fetch_or, true);
            break;
        case OP_ATOMIC64_AND:
            ATOMIC(64, __atomic_fetch_and, false);
            break;
        case OP_ATOMIC64_FETCH_AND:
            ATOMIC(64, __atomic_fetch_and, true);
            break;
        case OP_ATOMIC64_XOR:
            ATOMIC(64, __atomic_fetch_xor, false);
            break;
        case OP_ATOMIC64_FETCH_XOR:
            ATOMIC(64, __atomic_fetch_xor, true);
            break;
        case OP_ATOMIC64_XCHG:
            ATOMIC(64, __atomic_exchange_n, true);
            break;
        case OP_ATOMIC64_CMPXCHG:
            CMPXCHG(64);
            break;

        case OP_JA:
            pc = insn->target;
            break;
            JMP64(JEQ, ==, uint64_t)
            JMP64(JNE, !=, uint64_t)
            JMP64(JGT, >, uint64_t)
            JMP64(JGE, >=, uint64_t)
            JMP64(JLT, <, uint64_t)
            JMP64(JLE, <=, uint64_t)
            JMP64(JSGT, >, int64_t)
            JMP64(JSGE, >=, int64_t)
            JMP64(JSLT, <, int64_t)
            JMP64(JSLE, <=, int64_t)
        case OP_JSET64_K:
            JUMP((DST & IMM64) != 0);
            break;
        case OP_JSET64_X:
            JUMP((DST & SRC) != 0);
            break;
            JMP32(JEQ, ==, uint32_t)
            JMP32(JNE, !=, uint32_t)
            JMP32(JGT, >, uint32_t)
            JMP32(JGE, >=, uint32_t)
            JMP32(JLT, <, uint32_t)
            JMP32(JLE, <=, uint32_t)
            JMP32(JSGT, >, int32_t)
            JMP32(JSGE, >=, int32_t)
            JMP32(JSLT, <, int32_t)
            JMP32(JSLE, <=, int32_t)
        case OP_JSET32_K:
            JUMP(((uint32_t)DST & IMM32) != 0);
            break;
        case OP_JSET32_X:
            JUMP(((uint32_t)DST & (uint32_t)SRC) != 0);
            break;

        case OP_CALLX:
            err = resolve_callx(program, DST, PC, &dynamic_helper, &helper);
            if (err)
                goto out;
            goto call_helper;
        case OP_CALL_HELPER:
            helper = &program->helpers[insn->target];
        call_helper:
            run->pc = PC;
            if (checked && helper->memory_argument_count) {
                err = check_helper_arguments(run, helper, reg, PC);
                if (err)
                    goto out;
            }
            reg[0] = helper->function(reg[1], reg[2], reg[3], reg[4], reg[5]);
            if (UNLIKELY(run->fault != 0)) {
                err = helper_fault(run);
                goto out;
            }
            if (UNLIKELY(run->tail_call_target != NULL)) {
                /* Every call level ends here: the target replaces the whole program. */
                result->r0 = reg[0];
                result->tail_call_target = run->tail_call_target;
                goto out;
            }
            break;

        case OP_CALL_LOCAL:
            if (UNLIKELY(depth + 1 >= max_frames)) {
                err = call_depth_fault(PC, max_frames);
                goto out;
            }
            frames[depth].return_pc = pc;
            memcpy(frames[depth].saved, &reg[BPF_REG_6], sizeof(frames[depth].saved));
            depth++;
            reg[BPF_REG_10] -= EBPF_EXEC_FRAME_SIZE;
            stack_low -= EBPF_EXEC_FRAME_SIZE;
            run->stack_low = stack_low;
            if (checked)
                memset((void *)stack_low, 0, EBPF_EXEC_FRAME_SIZE);
            pc = insn->target;
            break;

        case OP_EXIT:
            if (depth == 0) {
                result->r0 = reg[0];
                goto out;
            }
            depth--;
            memcpy(&reg[BPF_REG_6], frames[depth].saved, sizeof(frames[depth].saved));
            reg[BPF_REG_10] += EBPF_EXEC_FRAME_SIZE;
            stack_low += EBPF_EXEC_FRAME_SIZE;
            run->stack_low = stack_low;
            pc = frames[depth].return_pc;
            break;

        default:
            /* Preparation never produces another operation; this guards the decoder. */
            err =
                ebpf_error(-EINVAL, "instruction %u: not executable (operation %u)", PC, insn->op);
            goto out;
        }
    }

out:
    result->instructions = budget - remaining;
    return err;
}

static __attribute__((noinline)) int run_checked(exec_run_t *run, uint64_t *reg,
                                                 uint32_t max_frames, ebpf_exec_result_t *result)
{
    return interpret(run, reg, max_frames, result, true, false);
}

static __attribute__((noinline)) int run_traced(exec_run_t *run, uint64_t *reg, uint32_t max_frames,
                                                ebpf_exec_result_t *result)
{
    return interpret(run, reg, max_frames, result, true, true);
}

static __attribute__((noinline)) int run_unchecked(exec_run_t *run, uint64_t *reg,
                                                   uint32_t max_frames, ebpf_exec_result_t *result)
{
    return interpret(run, reg, max_frames, result, false, false);
}

int ebpf_interpreter_run(const ebpf_interpreter_program_t *program, uint64_t r1, uint64_t r2,
                         const ebpf_exec_environment_t *env, ebpf_exec_result_t *result)
{
    static const ebpf_exec_environment_t no_environment;
    _Alignas(16) uint8_t host_stack[EBPF_EXEC_STACK_SIZE];
    uint64_t reg[11] = {0};
    uint8_t *stack = host_stack;
    size_t stack_size = sizeof(host_stack);
    uint32_t max_frames;
    exec_run_t run;
    int err;

    if (!program || !result)
        return ebpf_error(-EINVAL, "interpreter: run without a program or a result");
    *result = (ebpf_exec_result_t){0};
    if (!env)
        env = &no_environment;
    if (env->region_count && !env->regions)
        return ebpf_error(-EINVAL, "interpreter: %zu regions but no region array",
                          env->region_count);
    if (env->stack) {
        stack = env->stack;
        stack_size = env->stack_size;
        if (stack_size < EBPF_EXEC_FRAME_SIZE || stack_size % EBPF_EXEC_FRAME_SIZE != 0 ||
            ((uintptr_t)stack & 15) != 0)
            return ebpf_error(-EINVAL,
                              "interpreter: the stack must be a 16-byte aligned multiple of %d "
                              "bytes (got %zu bytes at %p)",
                              EBPF_EXEC_FRAME_SIZE, stack_size, env->stack);
    }
    max_frames = (uint32_t)(stack_size / EBPF_EXEC_FRAME_SIZE);
    if (max_frames > EBPF_EXEC_MAX_CALL_FRAMES)
        max_frames = EBPF_EXEC_MAX_CALL_FRAMES;

    /* Field by field: the fault message stays unwritten unless a helper faults. */
    run.program = program;
    run.env = env;
    run.checked = !env->unchecked;
    run.pc = 0;
    run.tail_call_target = NULL;
    run.fault = 0;
    run.stack_top = (uintptr_t)stack + stack_size;
    run.stack_low = run.stack_top - EBPF_EXEC_FRAME_SIZE;
    run.stack_base = run.stack_top - (uintptr_t)max_frames * EBPF_EXEC_FRAME_SIZE;

    reg[BPF_REG_1] = r1;
    reg[BPF_REG_2] = r2;
    reg[BPF_REG_10] = run.stack_top;

    exec_run_enter(&run);
    if (env->unchecked)
        err = run_unchecked(&run, reg, max_frames, result);
    else if (env->trace)
        err = run_traced(&run, reg, max_frames, result);
    else
        err = run_checked(&run, reg, max_frames, result);
    exec_run_leave(&run);
    return err;
}

int ebpf_interpreter_run_chain(const ebpf_interpreter_program_t *program, uint64_t r1, uint64_t r2,
                               const ebpf_exec_environment_t *env, ebpf_exec_result_t *result)
{
    ebpf_exec_environment_t chain = env ? *env : (ebpf_exec_environment_t){0};
    uint64_t total = 0;

    if (!result)
        return ebpf_error(-EINVAL, "interpreter: run without a result");
    for (;;) {
        ebpf_exec_result_t step = {0};
        int err = ebpf_interpreter_run(program, r1, r2, &chain, &step);

        total += step.instructions;
        if (err) {
            result->instructions = total;
            return err;
        }
        if (!step.tail_call_target) {
            *result = step;
            result->instructions = total;
            return 0;
        }
        program = step.tail_call_target;
        chain.tail_calls_taken++;
        if (chain.instruction_budget) {
            chain.instruction_budget -= step.instructions;
            if (chain.instruction_budget == 0) {
                result->instructions = total;
                return ebpf_error(-ETIMEDOUT,
                                  "interpreter: the instruction budget of %" PRIu64
                                  " is exhausted before tail call %u",
                                  env->instruction_budget, chain.tail_calls_taken);
            }
        }
    }
}
