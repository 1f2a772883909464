/* Per-thread error messages: the words behind a negative errno. */
#include <stdio.h>
#include <string.h>

#include "ebpf_platform.h"

#define EBPF_ERROR_MESSAGE_MAX 1024

static _Thread_local char error_message[EBPF_ERROR_MESSAGE_MAX];

int ebpf_verror(int err, const char *fmt, va_list ap)
{
    vsnprintf(error_message, sizeof(error_message), fmt, ap);
    return err;
}

int ebpf_error(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ebpf_verror(err, fmt, ap);
    va_end(ap);
    return err;
}

int ebpf_error_prefix(int err, const char *fmt, ...)
{
    char previous[EBPF_ERROR_MESSAGE_MAX];
    int length;
    va_list ap;

    memcpy(previous, error_message, sizeof(previous));
    va_start(ap, fmt);
    length = vsnprintf(error_message, sizeof(error_message), fmt, ap);
    va_end(ap);
    if (length < 0)
        length = 0;
    if ((size_t)length < sizeof(error_message) - 1) {
        size_t room = sizeof(error_message) - 1 - (size_t)length;
        size_t kept = strnlen(previous, room);
        memcpy(error_message + length, previous, kept);
        error_message[(size_t)length + kept] = '\0';
    }
    return err;
}

const char *ebpf_last_error(void)
{
    return error_message;
}

void ebpf_error_clear(void)
{
    error_message[0] = '\0';
}
