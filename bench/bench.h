/* The benchmark's shared pieces: results (median, min, max of repeated runs), timing, the
 * netevent test bed (extension, this process as an event provider, programs) and scenarios. */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/libbpf.h"
#include "netevent_npi.h"

/* Runs of every scenario: the median of them is reported, with min and max. */
#define BENCH_RUNS_DEFAULT 5
#define BENCH_RUNS_MAX     64

typedef struct bench_options {
    unsigned runs;      /* per scenario */
    double scale;       /* multiplies every iteration count (1 normal, small for the smoke test) */
    const char *filter; /* run only scenarios whose group starts with this; NULL for all */
} bench_options_t;

extern bench_options_t bench_options;

/* Iterations scaled by --scale, never below minimum. */
uint64_t bench_scaled(uint64_t count, uint64_t minimum);
bool bench_selected(const char *group);
uint64_t bench_now_ns(void);

/* Records one result from samples (one per run). */
void bench_report(const char *name, const char *unit, const double *samples, unsigned count);
/* Prints a note under the table (what a figure means, why a scenario was skipped). */
void bench_note(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Scenario failures: the message is printed and the run ends non-zero. */
int bench_fail(int rc, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* ---- the netevent test bed ---- */

/* Loads the extension and registers this process as a netevent provider. */
int bench_netevent_start(void);
void bench_netevent_stop(void);
/* Bound push_event, or NULL while the extension has no client registered (no link attached). */
int bench_push(const uint8_t *event, size_t size);
/* The netevent NPI's batch entry (push_events): events delivered, or a negative errno. */
int bench_push_events(const netevent_event_info_t *events, uint32_t count);
bool bench_provider_bound(void);

typedef struct bench_program {
    struct bpf_object *object;
    struct bpf_program *program;
    struct bpf_link *link;
} bench_program_t;

/* Opens and loads the object at path (a .o or a native .so) and finds function. */
int bench_program_load(bench_program_t *program, const char *path, const char *function);
int bench_program_attach(bench_program_t *program);
void bench_program_detach(bench_program_t *program);
void bench_program_close(bench_program_t *program);

/* Fills event with a well-formed flow event of size bytes (header + packet). */
void bench_build_event(uint8_t *event, size_t size, uint32_t sequence);

/* Paths of the build's objects. */
const char *bench_object_path(const char *file);

/* ---- scenarios ---- */
int bench_event_path(void);
int bench_fanout(void);
int bench_registrar(void);
int bench_execution(void);
int bench_exec_event_path(void);
int bench_maps(void);
int bench_verifier(void);

/* The plain C twin of bench_checksum.bpf.c. */
int bench_checksum_c(const uint8_t *start, const uint8_t *end);

#endif /* BENCH_H */
