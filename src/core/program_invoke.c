/* Invocation: running a program (and its tail calls) on a context, under an epoch read section
 * and an exclusive CPU claim, with the checked interpreter's memory map of the run. */
#include <errno.h>
#include <string.h>

#include "core_private.h"
#include "native_run.h"

EBPF_HOT_THREAD_LOCAL core_run_t *core_current_run;

bool core_run_knows_map(const core_run_t *run, const ebpf_map_t *map)
{
    if (run == NULL)
        return true;
    for (uint32_t i = 0; i < run->program->map_count; i++) {
        if (run->program->maps[i] == map)
            return true;
    }
    for (uint32_t i = 0; i < run->extra_map_count; i++) {
        if (run->extra_maps[i] == map)
            return true;
    }
    return false;
}

bool core_run_note_map(ebpf_map_t *map)
{
    core_run_t *run = core_current_run;

    if (core_run_knows_map(run, map))
        return true;
    if (run->extra_map_count == CORE_RUN_EXTRA_MAPS)
        return false;
    run->extra_maps[run->extra_map_count++] = map;
    return true;
}

/* Memory a checked run may touch besides its stack and regions: values of maps the program
 * names, or of maps its helpers were given during this run (inner maps). */
static bool run_owns_memory(void *cookie, const void *address, size_t size, bool write)
{
    const core_run_t *run = cookie;

    for (uint32_t i = 0; i < run->program->map_count; i++) {
        if (ebpf_map_owns_memory(run->program->maps[i], address, size, write))
            return true;
    }
    for (uint32_t i = 0; i < run->extra_map_count; i++) {
        if (ebpf_map_owns_memory(run->extra_maps[i], address, size, write))
            return true;
    }
    return false;
}

/* The packet between the context's data and end pointers, when the type has them and they
 * are ordered. */
static size_t packet_region(const ebpf_program_t *program, void *context,
                            ebpf_exec_region_t *region)
{
    const ebpf_context_descriptor_t *descriptor = &program->context_descriptor;
    uintptr_t data, end;

    if (context == NULL || descriptor->data < 0 || descriptor->end < 0)
        return 0;
    memcpy(&data, (const uint8_t *)context + descriptor->data, sizeof(data));
    memcpy(&end, (const uint8_t *)context + descriptor->end, sizeof(end));
    if (data == 0 || end < data)
        return 0;
    *region = (ebpf_exec_region_t){(const void *)data, end - data, true};
    return 1;
}

/* The interpreter's view of a run: the context and packet regions it may touch, and the maps
 * of the run for everything else. Built only when a program of the run is interpreted: native
 * code was verified and runs without these checks. */
static void checked_environment(core_run_t *run, ebpf_exec_environment_t *environment,
                                ebpf_exec_region_t regions[2])
{
    const ebpf_program_t *program = run->program;
    void *context = run->context;
    size_t region_count = 0;

    if (context != NULL && program->context_descriptor.size > 0)
        regions[region_count++] =
            (ebpf_exec_region_t){context, (size_t)program->context_descriptor.size, true};
    region_count += packet_region(program, context, &regions[region_count]);
    *environment = (ebpf_exec_environment_t){
        .regions = regions,
        .region_count = region_count,
        .check_memory = run_owns_memory,
        .check_memory_cookie = run,
        .instruction_budget =
            atomic_load_explicit(&program->instruction_budget, memory_order_relaxed),
    };
}

/* One interpreted program of a run (the first, or a tail call's target). Out of line so the
 * native path does not carry the environment in its frame. */
static __attribute__((noinline)) int run_interpreted(core_run_t *run, void *context,
                                                     uint32_t tail_calls_taken,
                                                     ebpf_exec_result_t *result)
{
    ebpf_exec_region_t regions[2];
    ebpf_exec_environment_t environment;

    checked_environment(run, &environment, regions);
    environment.tail_calls_taken = tail_calls_taken;
    return ebpf_interpreter_run(run->program->interpreter, (uint64_t)(uintptr_t)context, 0,
                                &environment, result);
}

/* The run itself; the caller is inside an epoch read section and holds a CPU claim. */
int core_program_invoke_claimed(ebpf_program_t *program, void *context, uint64_t *result)
{
    ebpf_exec_result_t exec_result;
    uint32_t tail_calls_taken = 0;
    /* Only the header of the run is set: extra_maps (half a kilobyte) is read only up to
     * extra_map_count, and zeroing it on every invocation was the largest cost of a call. */
    core_run_t run;
    core_run_t *outer;
    int rc;

    if (program->has_program_type && ebpf_epoch_dereference(&program->binding) == NULL)
        return -ENOLINK; /* the extension of the program's type is not loaded */
    run.program = program;
    run.context = context;
    run.extra_map_count = 0;
    outer = core_current_run;
    core_current_run = &run;
    for (;;) {
        const struct core_native_program *native = ebpf_epoch_dereference(&run.program->native);
        run.checked = native == NULL;
        if (native != NULL)
            rc = core_native_invoke(native, context, tail_calls_taken, &exec_result);
        else
            rc = run_interpreted(&run, context, tail_calls_taken, &exec_result);
        if (rc != 0 || exec_result.tail_call_target == NULL)
            break;
        /* The tail-call helper checked the target's type; prog_array slots keep it alive
         * until our read section ends. */
        run.program = exec_result.tail_call_target;
        run.extra_map_count = 0;
        tail_calls_taken++;
    }
    core_current_run = outer;

    if (rc != 0)
        return ebpf_error_prefix(rc, "%s: ", run.program->name);
    *result = exec_result.r0;
    return 0;
}

int ebpf_program_invoke(ebpf_program_t *program, void *context, uint64_t *result)
{
    int rc;

    if (program == NULL || result == NULL)
        return ebpf_error(-EINVAL, "invoke: program and result are required");
    ebpf_epoch_enter();
    ebpf_cpu_enter();
    rc = core_program_invoke_claimed(program, context, result);
    ebpf_cpu_exit();
    ebpf_epoch_exit();
    return rc;
}
