/* Execution layer: the eBPF interpreter, the memory checks it applies and the per-thread run state
 * helpers use. */
#ifndef EBPF_EXEC_H
#define EBPF_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "ebpf_helper_prototype.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * Encodings RFC 9669 defines that the kernel 6.1 UAPI headers lack.
 * ------------------------------------------------------------------------------------------ */

/* Sign-extending loads: {MEMSX, size, LDX}. */
#define EBPF_MODE_MEMSX 0x80
/* 'offset' of {DIV, MOD} selecting the signed flavour (SDIV, SMOD). */
#define EBPF_OFFSET_SIGNED 1
/* callx: {CALL, X, JMP}, the helper id is in the register named by dst_reg. Objects built by
 * LLVM before 19 put the register number in 'imm' instead (dst_reg 0); both are accepted. */
#define EBPF_OP_CALLX (BPF_JMP | BPF_CALL | BPF_X)
/* Unconditional byte swap: {END, K, ALU64}. */
#define EBPF_OP_BSWAP (BPF_ALU64 | BPF_END | BPF_K)
/* gotol: {JA, K, JMP32}, the offset is in 'imm'. */
#define EBPF_OP_GOTOL (BPF_JMP32 | BPF_JA | BPF_K)

/* ------------------------------------------------------------------------------------------
 * Limits (the Linux ones).
 * ------------------------------------------------------------------------------------------ */

/* Bytes of stack of each call level: r10 points just past them. */
#define EBPF_EXEC_FRAME_SIZE 512
/* Call levels: the program plus up to seven nested local calls (MAX_CALL_FRAMES). */
#define EBPF_EXEC_MAX_CALL_FRAMES 8
#define EBPF_EXEC_STACK_SIZE      (EBPF_EXEC_FRAME_SIZE * EBPF_EXEC_MAX_CALL_FRAMES)
/* Tail calls one invocation may chain (MAX_TAIL_CALL_CNT). */
#define EBPF_EXEC_MAX_TAIL_CALLS 33
/* Largest program the interpreter prepares (BPF_COMPLEXITY_LIMIT_INSNS). */
#define EBPF_EXEC_MAX_INSTRUCTIONS 1000000u

/* ------------------------------------------------------------------------------------------
 * Programs.
 *
 * Preparing a program checks its structure (opcodes and their fields, registers, r10 never
 * written, jump and call targets, LDDW pairs, no path falling off the end), resolves every
 * helper it calls by id once, and decodes it into the form the interpreter runs. It does not
 * prove memory safety: that is the verifier's job, and in the meantime every access is checked
 * while the program runs. LDDW must have src_reg 0: the core rewrites the pseudo sources (map
 * fd, map value, ...) into plain 64-bit constants before preparing.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_interpreter_program ebpf_interpreter_program_t;

/* Returns the prototype of helper id and stores its function in *function, or NULL when the
 * id is unknown. Called while preparing, and while running for callx (whose id is only known
 * then): for a program using callx the resolver and its context must outlive the program, and
 * every prototype returned must outlive the programs using it. */
typedef const ebpf_helper_prototype_t *(*ebpf_helper_resolver_t)(void *context, uint32_t id,
                                                                 ebpf_helper_function_t *function);

/* resolve may be NULL for a program that calls no helper. */
int ebpf_interpreter_program_create(const struct bpf_insn *instructions, uint32_t count,
                                    ebpf_helper_resolver_t resolve, void *resolver_context,
                                    ebpf_interpreter_program_t **program);
void ebpf_interpreter_program_destroy(ebpf_interpreter_program_t *program);
uint32_t ebpf_interpreter_program_instruction_count(const ebpf_interpreter_program_t *program);

/* ------------------------------------------------------------------------------------------
 * Running.
 *
 * A run starts with r1 and r2 as given, r10 at the top of the first frame and the other
 * registers 0. Loads, stores and atomics may touch:
 *   - the stack frames of the current call level and of its callers;
 *   - the regions the environment lists (the context, packet data, ...);
 *   - any memory check_memory accepts (map values, memory helpers returned).
 * Anything else stops the program with -EFAULT and a message naming the instruction, the
 * address, the size and the reason; so do atomics that are not naturally aligned (plain loads
 * and stores may be unaligned). Before a helper runs, each argument its prototype declares as
 * readable or writable memory with a size in the next argument is checked the same way, and
 * so is a PTR_TO_CONST_STR string, so an unchecked program cannot make a helper touch host
 * memory. Helpers check map keys and values themselves with ebpf_exec_check_access.
 *
 * Checked runs start every call level with a zeroed frame, so a program never reads host data
 * from the stack.
 *
 * Errors of a run: -EFAULT (memory), -ETIMEDOUT (instruction budget exhausted), -EOVERFLOW
 * (more than EBPF_EXEC_MAX_CALL_FRAMES call levels), -ENOENT (callx of an unknown helper),
 * -EINVAL (bad environment). The run allocates nothing: its stack lives on the host thread's
 * stack unless the environment provides one.
 * ------------------------------------------------------------------------------------------ */

typedef struct ebpf_exec_region {
    const void *start;
    size_t size;
    bool writable;
} ebpf_exec_region_t;

/* True when the program may access [address, address + size) (for writing when write). */
typedef bool (*ebpf_exec_memory_check_t)(void *cookie, const void *address, size_t size,
                                         bool write);
/* Called before each instruction executes (debugging; not in unchecked runs); registers are
 * r0..r10. */
typedef void (*ebpf_exec_trace_t)(void *cookie, uint32_t pc, const struct bpf_insn *instruction,
                                  const uint64_t registers[11]);

typedef struct ebpf_exec_environment {
    const ebpf_exec_region_t *regions;
    size_t region_count;
    /* Consulted for accesses outside the stack and the regions; NULL refuses them. */
    ebpf_exec_memory_check_t check_memory;
    void *check_memory_cookie;
    /* Instructions the run may execute; 0 means unlimited (an unverified program may loop). */
    uint64_t instruction_budget;
    /* Optional stack memory (a multiple of EBPF_EXEC_FRAME_SIZE bytes, 16-byte aligned); r10
     * starts at stack + stack_size and the call depth is limited to stack_size / frame size.
     * NULL uses EBPF_EXEC_STACK_SIZE bytes of the host thread's stack. */
    void *stack;
    size_t stack_size;
    /* Tail calls the invocation already made before this run (see tail calls below). */
    uint32_t tail_calls_taken;
    /* Skips the memory checks. Only for programs the verifier proved safe. */
    bool unchecked;
    ebpf_exec_trace_t trace;
    void *trace_cookie;
} ebpf_exec_environment_t;

typedef struct ebpf_exec_result {
    uint64_t r0;
    /* Non-NULL when the program ended with a successful tail call: the target the helper
     * passed to ebpf_exec_tail_call_request, to run next on the same context. */
    const void *tail_call_target;
    /* Instructions executed. */
    uint64_t instructions;
} ebpf_exec_result_t;

/* Runs program to its exit. env may be NULL (stack only, no budget). Returns 0 with the result
 * filled in, or a negative errno with the reason in ebpf_last_error(). Safe to call from many
 * threads at once on the same program. */
int ebpf_interpreter_run(const ebpf_interpreter_program_t *program, uint64_t r1, uint64_t r2,
                         const ebpf_exec_environment_t *env, ebpf_exec_result_t *result);

/* ------------------------------------------------------------------------------------------
 * Tail calls.
 *
 * The bpf_tail_call helper (owned by the core, which knows program arrays) looks up the target
 * and, when it exists, calls ebpf_exec_tail_call_request(target) and returns 0. The request
 * fails with -E2BIG once the invocation has chained EBPF_EXEC_MAX_TAIL_CALLS tail calls (the
 * helper then returns an error to the program, which simply continues), and with -EINVAL
 * outside a run. When a helper returns after a successful request, the interpreter ends the
 * program at once, discarding every call level, and ebpf_interpreter_run returns 0 with
 * result->tail_call_target set. Whoever runs the invocation then runs the target on the same
 * context with env->tail_calls_taken one higher, until a program exits without a tail call.
 * ebpf_interpreter_run_chain does exactly this when every target is an interpreter program.
 * ------------------------------------------------------------------------------------------ */

int ebpf_exec_tail_call_request(const void *target);

/* Runs program and the interpreter programs it tail-calls (targets must be
 * const ebpf_interpreter_program_t *). The budget, if any, covers the whole chain; the result
 * is the last program's r0 and the total instruction count. */
int ebpf_interpreter_run_chain(const ebpf_interpreter_program_t *program, uint64_t r1, uint64_t r2,
                               const ebpf_exec_environment_t *env, ebpf_exec_result_t *result);

/* ------------------------------------------------------------------------------------------
 * For helpers.
 * ------------------------------------------------------------------------------------------ */

/* True when the program being run on this thread may access [address, address + size) (for
 * writing when write), and always true when no checked run is active. On false the run is
 * marked faulted: the helper should return an error at once, and the interpreter stops the
 * program with -EFAULT when the helper returns. */
bool ebpf_exec_check_access(const void *address, size_t size, bool write);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_EXEC_H */
