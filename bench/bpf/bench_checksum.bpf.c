/* bench_checksum: a compute-heavy netevent_monitor program (FNV-1a over the event, 8 bytes a
 * step) that the benchmark runs interpreted, native and as plain C (bench_checksum_c). */
#include "bpf_helpers.h"
#include "ebpf_netevent_hooks.h"
#include "bench_checksum.h"

SEC("netevent_monitor")
int BenchChecksum(netevent_event_md_t *ctx)
{
    uint8_t *start = ctx->event_data_start;
    uint8_t *end = ctx->event_data_end;
    uint64_t hash = BENCH_FNV_OFFSET;

    /* A fixed bound the verifier can see; the packet check ends the walk early. */
    for (int i = 0; i < BENCH_CHECKSUM_MAX_WORDS; i++) {
        uint8_t *word = start + i * 8;
        if (word + 8 > end)
            break;
        hash = (hash ^ *(uint64_t *)word) * BENCH_FNV_PRIME;
    }
    return (int)(hash ^ (hash >> 32));
}

char LICENSE[] SEC("license") = "MIT";
