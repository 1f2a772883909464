/* Sizes shared by the map benchmark programs and the benchmark that runs them. */
#ifndef BENCH_MAPS_H
#define BENCH_MAPS_H

#define BENCH_MAP_OPS          8
#define BENCH_MAP_ENTRIES      1024
#define BENCH_RING_RECORD_SIZE 16
/* 1 MiB: room for every record of one measured batch, so none is dropped. */
#define BENCH_RING_SIZE (1024 * 1024)

#endif /* BENCH_MAPS_H */
