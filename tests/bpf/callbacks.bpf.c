/* Test object: a subprogram passed by address (ld_imm64 of a function) to bpf_loop. */
#include "bpf_helpers.h"

/* Not in bpf_helper_defs.h: only this object needs it. Linux id of bpf_loop. */
static long (*bpf_loop)(__u32 iterations, void *callback, void *callback_context,
                        __u64 flags) = (void *)181;

static long add_index(__u32 index, void *callback_context)
{
    *(__u64 *)callback_context += index;
    return 0;
}

SEC("netevent_monitor")
int sum_indexes(void *context)
{
    __u64 sum = 0;
    bpf_loop(10, add_index, &sum, 0);
    return (int)sum;
}

char _license[] SEC("license") = "GPL";
