/* Monotonic and boot clocks, the sources of bpf_ktime_get_ns and bpf_ktime_get_boot_ns. */
#include <time.h>

#include "ebpf_platform.h"

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ebpf_clock_monotonic_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t ebpf_clock_boot_ns(void)
{
    return clock_ns(CLOCK_BOOTTIME);
}
