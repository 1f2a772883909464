/* Asymmetric fences: membarrier(2) on the rare side so the hot side needs no fence. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/membarrier.h>

#include "ebpf_platform.h"

/* Written only by choose_mode, which runs before main (and before any thread of ours), so
 * every later relaxed load sees the final value. */
_Atomic bool ebpf_fence_asymmetric_mode;

static int membarrier(int command)
{
#ifdef __NR_membarrier
    return (int)syscall(__NR_membarrier, command, 0, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

__attribute__((constructor)) static void choose_mode(void)
{
    const char *setting = getenv("EBPF_MEMBARRIER");
    int supported;

    if (EBPF_TSAN || (setting != NULL && strcmp(setting, "0") == 0))
        return;
    supported = membarrier(MEMBARRIER_CMD_QUERY);
    if (supported < 0 || !(supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
        return;
    if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
        atomic_store_explicit(&ebpf_fence_asymmetric_mode, true, memory_order_relaxed);
}

int ebpf_fence_heavy(bool asymmetric)
{
#if !EBPF_TSAN
    atomic_thread_fence(memory_order_seq_cst);
#endif
    if (!asymmetric || membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return 0;
    return ebpf_error(-errno, "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): %s", strerror(errno));
}
