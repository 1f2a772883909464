/* The checksum both the BPF program and its plain C twin compute: constants shared by both. */
#ifndef BENCH_CHECKSUM_H
#define BENCH_CHECKSUM_H

#define BENCH_FNV_OFFSET 0xcbf29ce484222325ull
#define BENCH_FNV_PRIME  0x100000001b3ull
/* 1536 bytes: a full 1500-byte frame plus the event header. */
#define BENCH_CHECKSUM_MAX_WORDS 192

#endif /* BENCH_CHECKSUM_H */
