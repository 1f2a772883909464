/* A native program's call on the event path: the run tail-call helpers reach, and the call. */
#ifndef EBPF_CORE_NATIVE_RUN_H
#define EBPF_CORE_NATIVE_RUN_H

#include "ebpf_exec.h"
#include "ebpf_native.h"
#include "ebpf_platform.h"

/* A loaded native program: the module's code with this object's helpers and maps. */
typedef struct core_native_program {
    ebpf_native_runtime_t runtime;
    ebpf_native_entry_t entry;
    const ebpf_native_program_metadata_t *metadata;
    ebpf_helper_function_t helpers[];
} core_native_program_t;

typedef struct core_native_run {
    const void *tail_call_target;
    uint32_t tail_calls_taken;
    struct core_native_run *outer; /* the run this one is nested in (a helper that runs one) */
} core_native_run_t;

/* The innermost native run of this thread; only this thread reads or writes it. */
extern EBPF_HOT_THREAD_LOCAL core_native_run_t *core_current_native_run;

/* A native call that failed, in words (out of line: the event path only takes the success). */
int core_native_failure(int rc, const char *name, uint32_t instruction);

/* Calls entry inside a native run and turns its result into the interpreter's. Inline: it is
 * on every invocation of a native program, and the call around it cost as much as itself. */
static inline int core_native_run_entry(ebpf_native_entry_t entry,
                                        const ebpf_native_runtime_t *runtime, uint64_t r1,
                                        uint64_t r2, uint32_t tail_calls_taken, const char *name,
                                        ebpf_exec_result_t *result)
{
    core_native_run_t run = {NULL, tail_calls_taken, core_current_native_run};
    ebpf_native_result_t out;
    int rc;

    out.r0 = 0;
    out.error_instruction = 0;
    core_current_native_run = &run;
    rc = entry(r1, r2, runtime, &out);
    core_current_native_run = run.outer;
    if (rc != 0)
        return core_native_failure(rc, name, out.error_instruction);
    result->r0 = out.r0;
    result->tail_call_target = run.tail_call_target;
    result->instructions = 0; /* native code does not count them */
    return 0;
}

/* Runs a program's native code as the interpreter would run it: r1 = context, r2 = 0; a tail
 * call comes back in result->tail_call_target. */
static inline int core_native_invoke(const core_native_program_t *native, void *context,
                                     uint32_t tail_calls_taken, ebpf_exec_result_t *result)
{
    return core_native_run_entry(native->entry, &native->runtime, (uint64_t)(uintptr_t)context, 0,
                                 tail_calls_taken, native->metadata->name, result);
}

#endif /* EBPF_CORE_NATIVE_RUN_H */
