/* libbpf's error conventions: the print callback, libbpf_get_error, options structs. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api_private.h"

static int print_to_stderr(enum libbpf_print_level level, const char *format, va_list args)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    return vfprintf(stderr, format, args);
}

/* The printer; swapped whole, read by any thread that reports. */
static _Atomic(libbpf_print_fn_t) printer = print_to_stderr;

libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn)
{
    return atomic_exchange(&printer, fn);
}

static int call_printer(libbpf_print_fn_t print, enum libbpf_print_level level, const char *format,
                        ...)
{
    va_list args;
    va_start(args, format);
    int rc = print(level, format, args);
    va_end(args);
    return rc;
}

void libbpf_report(enum libbpf_print_level level, const char *format, ...)
{
    libbpf_print_fn_t print = atomic_load(&printer);
    char message[1024];
    va_list args;

    if (print == NULL)
        return;
    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);
    call_printer(print, level, "libbpf: %s\n", message);
}

long libbpf_get_error(const void *ptr)
{
    /* Pointers that encode an error (libbpf before 1.0) sit in the last page of the address
     * space. */
    if ((uintptr_t)ptr >= (uintptr_t)-4095)
        return (long)(intptr_t)ptr;
    if (ptr == NULL)
        return errno != 0 ? -errno : -EINVAL;
    return 0;
}

int libbpf_strerror(int err, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return libbpf_result(-EINVAL);
    if (err < 0)
        err = -err;
    snprintf(buf, size, "%s", strerror(err));
    return 0;
}

int api_check_options(const void *options, size_t known_size, const char *what)
{
    if (options == NULL)
        return 0;
    size_t size = *(const size_t *)options;
    if (size < sizeof(size_t))
        return ebpf_error(-EINVAL, "%s: sz %zu is smaller than the sz field", what, size);
    /* A newer caller's fields are fine as long as it left them zero. */
    const unsigned char *bytes = options;
    for (size_t i = known_size; i < size; i++) {
        if (bytes[i] != 0)
            return ebpf_error(-EINVAL, "%s: unknown field set at byte %zu (sz %zu, known %zu)",
                              what, i, size, known_size);
    }
    return 0;
}

int libbpf_num_possible_cpus(void)
{
    return (int)ebpf_cpu_count();
}
