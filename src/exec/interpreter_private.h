/* Interpreter internals shared by preparation, the run loop and the per-thread run state. */
#ifndef EBPF_INTERPRETER_PRIVATE_H
#define EBPF_INTERPRETER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpf_exec.h"

/* Operations of the decoded form: one per distinct behaviour, so the run loop dispatches once
 * and never looks at offset or imm to decide what to do. */
/* clang-format off */
typedef enum interpreter_op {
    OP_INVALID = 0,

    OP_ADD64_K, OP_SUB64_K, OP_MUL64_K, OP_DIV64_K, OP_SDIV64_K, OP_OR64_K, OP_AND64_K,
    OP_LSH64_K, OP_RSH64_K, OP_NEG64, OP_MOD64_K, OP_SMOD64_K, OP_XOR64_K, OP_MOV64_K,
    OP_ARSH64_K,
    OP_ADD64_X, OP_SUB64_X, OP_MUL64_X, OP_DIV64_X, OP_SDIV64_X, OP_OR64_X, OP_AND64_X,
    OP_LSH64_X, OP_RSH64_X, OP_MOD64_X, OP_SMOD64_X, OP_XOR64_X, OP_MOV64_X, OP_ARSH64_X,
    OP_MOVSX64_8, OP_MOVSX64_16, OP_MOVSX64_32,

    OP_ADD32_K, OP_SUB32_K, OP_MUL32_K, OP_DIV32_K, OP_SDIV32_K, OP_OR32_K, OP_AND32_K,
    OP_LSH32_K, OP_RSH32_K, OP_NEG32, OP_MOD32_K, OP_SMOD32_K, OP_XOR32_K, OP_MOV32_K,
    OP_ARSH32_K,
    OP_ADD32_X, OP_SUB32_X, OP_MUL32_X, OP_DIV32_X, OP_SDIV32_X, OP_OR32_X, OP_AND32_X,
    OP_LSH32_X, OP_RSH32_X, OP_MOD32_X, OP_SMOD32_X, OP_XOR32_X, OP_MOV32_X, OP_ARSH32_X,
    OP_MOVSX32_8, OP_MOVSX32_16,

    OP_LE16, OP_LE32, OP_LE64, OP_BE16, OP_BE32, OP_BE64, OP_BSWAP16, OP_BSWAP32, OP_BSWAP64,

    OP_LDDW,
    OP_LDX_B, OP_LDX_H, OP_LDX_W, OP_LDX_DW, OP_LDXSX_B, OP_LDXSX_H, OP_LDXSX_W,
    OP_ST_B, OP_ST_H, OP_ST_W, OP_ST_DW,
    OP_STX_B, OP_STX_H, OP_STX_W, OP_STX_DW,

    OP_ATOMIC32_ADD, OP_ATOMIC32_FETCH_ADD, OP_ATOMIC32_OR, OP_ATOMIC32_FETCH_OR,
    OP_ATOMIC32_AND, OP_ATOMIC32_FETCH_AND, OP_ATOMIC32_XOR, OP_ATOMIC32_FETCH_XOR,
    OP_ATOMIC32_XCHG, OP_ATOMIC32_CMPXCHG,
    OP_ATOMIC64_ADD, OP_ATOMIC64_FETCH_ADD, OP_ATOMIC64_OR, OP_ATOMIC64_FETCH_OR,
    OP_ATOMIC64_AND, OP_ATOMIC64_FETCH_AND, OP_ATOMIC64_XOR, OP_ATOMIC64_FETCH_XOR,
    OP_ATOMIC64_XCHG, OP_ATOMIC64_CMPXCHG,

    /* JA and gotol both become OP_JA with an absolute target. */
    OP_JA,
    OP_JEQ64_K, OP_JGT64_K, OP_JGE64_K, OP_JSET64_K, OP_JNE64_K, OP_JSGT64_K, OP_JSGE64_K,
    OP_JLT64_K, OP_JLE64_K, OP_JSLT64_K, OP_JSLE64_K,
    OP_JEQ64_X, OP_JGT64_X, OP_JGE64_X, OP_JSET64_X, OP_JNE64_X, OP_JSGT64_X, OP_JSGE64_X,
    OP_JLT64_X, OP_JLE64_X, OP_JSLT64_X, OP_JSLE64_X,
    OP_JEQ32_K, OP_JGT32_K, OP_JGE32_K, OP_JSET32_K, OP_JNE32_K, OP_JSGT32_K, OP_JSGE32_K,
    OP_JLT32_K, OP_JLE32_K, OP_JSLT32_K, OP_JSLE32_K,
    OP_JEQ32_X, OP_JGT32_X, OP_JGE32_X, OP_JSET32_X, OP_JNE32_X, OP_JSGT32_X, OP_JSGE32_X,
    OP_JLT32_X, OP_JLE32_X, OP_JSLT32_X, OP_JSLE32_X,

    OP_CALL_HELPER, OP_CALL_LOCAL, OP_CALLX, OP_EXIT,

    OP_COUNT
} interpreter_op_t;
/* clang-format on */

/* One decoded instruction (16 bytes). */
typedef struct interpreter_insn {
    uint8_t op;
    uint8_t dst;
    uint8_t src;
    uint8_t reserved;
    int16_t offset;
    uint16_t reserved2;
    union {
        struct {
            int32_t imm;
            /* Jumps and local calls: absolute index of the target. Helper calls: index in
             * the program's helper table. */
            uint32_t target;
        };
        /* LDDW: the whole constant. */
        uint64_t imm64;
    };
} interpreter_insn_t;

_Static_assert(sizeof(interpreter_insn_t) == 16, "decoded instructions are 16 bytes");

/* Arguments of a helper checked before each call: a memory pointer and the register with its
 * size (registers 1..5), or a NUL-terminated string (size_register 0). */
typedef struct helper_memory_argument {
    uint8_t pointer_register;
    uint8_t size_register;
    bool write;
    bool may_be_null;
} helper_memory_argument_t;

typedef struct resolved_helper {
    uint32_t id;
    ebpf_helper_function_t function;
    const ebpf_helper_prototype_t *prototype;
    uint8_t memory_argument_count;
    helper_memory_argument_t memory_arguments[5];
} resolved_helper_t;

struct ebpf_interpreter_program {
    interpreter_insn_t *instructions;
    /* The instructions as given, for traces and messages. */
    struct bpf_insn *original;
    uint32_t count;
    resolved_helper_t *helpers;
    uint32_t helper_count;
    ebpf_helper_resolver_t resolve;
    void *resolver_context;
};

/* Fills helper->memory_arguments from helper->prototype. */
void interpreter_describe_helper_arguments(resolved_helper_t *helper);

/* State of one run, on the running thread's stack. Only that thread touches it (helpers reach
 * it through the thread-local current run), so it needs no synchronisation. */
typedef struct exec_run {
    const ebpf_interpreter_program_t *program;
    const ebpf_exec_environment_t *env;
    /* Stack bytes [stack_low, stack_top) belong to the current call level and its callers;
     * [stack_base, stack_low) to deeper levels that are not live. */
    uintptr_t stack_base;
    uintptr_t stack_low;
    uintptr_t stack_top;
    bool checked;
    /* Index of the instruction executing (kept current at helper calls for messages). */
    uint32_t pc;
    /* Set by ebpf_exec_tail_call_request during a helper. */
    const void *tail_call_target;
    /* Set by ebpf_exec_check_access during a helper that was given bad memory. */
    int fault;
    char fault_message[256];
    /* The run this one is nested in on the same thread (a helper that runs a program). */
    struct exec_run *outer;
} exec_run_t;

/* The run active on the calling thread, or NULL. */
exec_run_t *exec_run_current(void);
void exec_run_enter(exec_run_t *run);
void exec_run_leave(exec_run_t *run);

static inline bool exec_range_within(uintptr_t start, size_t size, uintptr_t address, size_t n)
{
    return address >= start && n <= size && address - start <= size - n;
}

/* Regions and callback only: the caller checked the stack already. */
bool exec_access_allowed_outside_stack(const exec_run_t *run, uintptr_t address, size_t size,
                                       bool write);

static inline bool exec_access_allowed(const exec_run_t *run, uintptr_t address, size_t size,
                                       bool write)
{
    if (exec_range_within(run->stack_low, run->stack_top - run->stack_low, address, size))
        return true;
    return exec_access_allowed_outside_stack(run, address, size, write);
}

/* Writes into buffer why [address, address + size) is refused. */
void exec_describe_access_fault(const exec_run_t *run, uintptr_t address, size_t size, bool write,
                                char *buffer, size_t capacity);

#endif /* EBPF_INTERPRETER_PRIVATE_H */
