/* The logic of bench_checksum.bpf.c as plain C compiled -O2: the floor for the execution
 * scenario. Separate file so the compiler cannot fold it into the timing loop. */
#include <stdint.h>
#include <string.h>

#include "bench.h"
#include "bpf/bench_checksum.h"

int bench_checksum_c(const uint8_t *start, const uint8_t *end)
{
    uint64_t hash = BENCH_FNV_OFFSET;
    for (int i = 0; i < BENCH_CHECKSUM_MAX_WORDS; i++) {
        const uint8_t *word = start + i * 8;
        uint64_t value;
        if (word + 8 > end)
            break;
        memcpy(&value, word, sizeof(value));
        hash = (hash ^ value) * BENCH_FNV_PRIME;
    }
    return (int)(hash ^ (hash >> 32));
}
