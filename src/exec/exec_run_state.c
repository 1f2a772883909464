/* Per-thread run state: how helpers reach the program running on their thread. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "ebpf_platform.h"
#include "interpreter_private.h"

/* The innermost run on this thread; only this thread reads or writes it. */
static EBPF_HOT_THREAD_LOCAL exec_run_t *current_run;

exec_run_t *exec_run_current(void)
{
    return current_run;
}

void exec_run_enter(exec_run_t *run)
{
    run->outer = current_run;
    current_run = run;
}

void exec_run_leave(exec_run_t *run)
{
    current_run = run->outer;
}

bool exec_access_allowed_outside_stack(const exec_run_t *run, uintptr_t address, size_t size,
                                       bool write)
{
    const ebpf_exec_environment_t *env = run->env;

    for (size_t i = 0; i < env->region_count; i++) {
        const ebpf_exec_region_t *region = &env->regions[i];
        /* A read-only region may overlap a writable one, so keep looking on a refused write. */
        if (exec_range_within((uintptr_t)region->start, region->size, address, size) &&
            (!write || region->writable))
            return true;
    }
    if (env->check_memory && address != 0)
        return env->check_memory(env->check_memory_cookie, (const void *)address, size, write);
    return false;
}

void exec_describe_access_fault(const exec_run_t *run, uintptr_t address, size_t size, bool write,
                                char *buffer, size_t capacity)
{
    const ebpf_exec_environment_t *env = run->env;
    const char *access = write ? "write" : "read";
    uintptr_t end = address + size;

    if (address < 4096) {
        snprintf(buffer, capacity, "%s of %zu bytes at 0x%" PRIxPTR ": NULL pointer dereference",
                 access, size, address);
        return;
    }
    /* Regions first: one may lie just above the stack top. */
    for (size_t i = 0; i < env->region_count; i++) {
        uintptr_t start = (uintptr_t)env->regions[i].start;
        size_t region_size = env->regions[i].size;

        if (address < start || address - start >= region_size)
            continue;
        if (exec_range_within(start, region_size, address, size))
            snprintf(buffer, capacity,
                     "%s of %zu bytes at 0x%" PRIxPTR ": region %zu (%zu bytes at 0x%" PRIxPTR
                     ") is read-only",
                     access, size, address, i, region_size, start);
        else
            snprintf(buffer, capacity,
                     "%s of %zu bytes at 0x%" PRIxPTR ": runs past the end of region %zu (%zu "
                     "bytes at 0x%" PRIxPTR ")",
                     access, size, address, i, region_size, start);
        return;
    }
    if (address < run->stack_top + EBPF_EXEC_FRAME_SIZE && end > run->stack_base &&
        end >= address) {
        if (address < run->stack_low)
            snprintf(buffer, capacity,
                     "%s of %zu bytes at r10%+" PRIdPTR ": below the current stack frame "
                     "(stack overflow)",
                     access, size, (intptr_t)(address - (run->stack_low + EBPF_EXEC_FRAME_SIZE)));
        else
            snprintf(buffer, capacity,
                     "%s of %zu bytes at 0x%" PRIxPTR ": runs past the top of the stack "
                     "(stack underflow)",
                     access, size, address);
        return;
    }
    snprintf(buffer, capacity,
             "%s of %zu bytes at 0x%" PRIxPTR
             ": outside the stack and every region the program may access",
             access, size, address);
}

bool ebpf_exec_check_access(const void *address, size_t size, bool write)
{
    exec_run_t *run = current_run;
    char reason[200];

    if (!run || !run->checked)
        return true;
    if (size == 0 || exec_access_allowed(run, (uintptr_t)address, size, write))
        return true;
    if (run->fault == 0) {
        exec_describe_access_fault(run, (uintptr_t)address, size, write, reason, sizeof(reason));
        snprintf(run->fault_message, sizeof(run->fault_message),
                 "instruction %u: memory given to a helper: %s", run->pc, reason);
        run->fault = -EFAULT;
    }
    return false;
}

int ebpf_exec_tail_call_request(const void *target)
{
    exec_run_t *run = current_run;

    if (!run)
        return ebpf_error(-EINVAL, "tail call requested while no program runs on this thread");
    if (!target)
        return ebpf_error(-EINVAL, "instruction %u: tail call to no program", run->pc);
    if (run->tail_call_target)
        return ebpf_error(-EBUSY, "instruction %u: a tail call is already pending", run->pc);
    if (run->env->tail_calls_taken >= EBPF_EXEC_MAX_TAIL_CALLS)
        return ebpf_error(-E2BIG, "instruction %u: the invocation already made %u tail calls",
                          run->pc, EBPF_EXEC_MAX_TAIL_CALLS);
    run->tail_call_target = target;
    return 0;
}
