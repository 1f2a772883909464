/* Test run (bpf_prog_test_run_opts): build a context from user bytes, run, give results back. */
#include <errno.h>
#include <string.h>

#include "core_private.h"

int ebpf_program_test_run(ebpf_program_t *program, ebpf_test_run_options_t *options)
{
    const ebpf_program_data_t *data;
    void *context = NULL;
    uint32_t repeat;
    uint64_t result = 0, started, elapsed;
    size_t data_size_out, context_size_out;
    int rc;

    if (program == NULL || options == NULL)
        return ebpf_error(-EINVAL, "test run: program and options are required");
    if (options->flags != 0)
        return ebpf_error(-EINVAL, "test run: unknown flags 0x%x", options->flags);
    if ((options->data_in == NULL) != (options->data_size_in == 0) ||
        (options->ctx_in == NULL && options->ctx_size_in != 0) ||
        (options->data_out == NULL && options->data_size_out != 0) ||
        (options->ctx_out == NULL && options->ctx_size_out != 0))
        return ebpf_error(-EINVAL, "test run: a buffer and its size must come together");
    /* One read section for the whole run: the extension's context functions stay loaded. */
    ebpf_epoch_enter();
    program_binding_t *binding = ebpf_epoch_dereference(&program->binding);
    data = binding == NULL ? NULL : binding->data;
    if (program->has_program_type && data == NULL) {
        ebpf_epoch_exit();
        return ebpf_error(-ENOLINK,
                          "test run: the extension of %s's program type is not "
                          "loaded",
                          program->name);
    }
    if (data == NULL || data->context_create == NULL || data->context_destroy == NULL) {
        ebpf_epoch_exit();
        return ebpf_error(-ENOTSUP, "test run: program type %s has no test-run support",
                          data ? data->program_info->program_type_descriptor->name : "(none)");
    }

    rc = data->context_create(options->data_in, options->data_size_in, options->ctx_in,
                              options->ctx_size_in, &context);
    if (rc != 0) {
        ebpf_epoch_exit();
        return ebpf_error(rc < 0 ? rc : -EINVAL,
                          "test run: program type %s refused the input data or context (%d)",
                          data->program_info->program_type_descriptor->name, rc);
    }
    repeat = options->repeat == 0 ? 1 : options->repeat;
    started = ebpf_clock_monotonic_ns();
    for (uint32_t i = 0; i < repeat && rc == 0; i++)
        rc = ebpf_program_invoke(program, context, &result);
    elapsed = ebpf_clock_monotonic_ns() - started;

    data_size_out = options->data_size_out;
    context_size_out = options->ctx_size_out;
    data->context_destroy(context, options->data_out, &data_size_out, options->ctx_out,
                          &context_size_out);
    ebpf_epoch_exit();
    if (rc != 0)
        return rc;
    options->retval = (uint32_t)result;
    options->duration = (uint32_t)(elapsed / repeat > UINT32_MAX ? UINT32_MAX : elapsed / repeat);
    /* context_destroy copied at most the capacities and reports the sizes it had. */
    bool data_truncated = options->data_out != NULL && data_size_out > options->data_size_out;
    bool context_truncated = options->ctx_out != NULL && context_size_out > options->ctx_size_out;
    options->data_size_out = (uint32_t)data_size_out;
    options->ctx_size_out = (uint32_t)context_size_out;
    if (data_truncated || context_truncated)
        return ebpf_error(-ENOSPC, "test run: %s buffer too small (%zu bytes needed)",
                          data_truncated ? "data_out" : "ctx_out",
                          data_truncated ? data_size_out : context_size_out);
    return 0;
}
