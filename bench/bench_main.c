/* ebpf_bench: runs every benchmark scenario, prints a table and writes results.json (a list of
 * {"name", "unit", "median", "min", "max"}). Not a test: nothing here asserts speed. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "ebpf_platform.h"
#include "ebpf_store.h"
#include "netevent_ext_program_info.h"

bench_options_t bench_options = {BENCH_RUNS_DEFAULT, 1.0, NULL};

typedef struct bench_result {
    char name[96];
    char unit[24];
    double median, min, max;
    unsigned runs;
} bench_result_t;

#define BENCH_RESULTS_MAX 160
#define BENCH_NOTES_MAX   64
static bench_result_t results[BENCH_RESULTS_MAX];
static unsigned result_count;
static char *notes[BENCH_NOTES_MAX];
static unsigned note_count;
static int failures;

uint64_t bench_scaled(uint64_t count, uint64_t minimum)
{
    double scaled = (double)count * bench_options.scale;
    return scaled < (double)minimum ? minimum : (uint64_t)scaled;
}

bool bench_selected(const char *group)
{
    return bench_options.filter == NULL ||
           strncmp(group, bench_options.filter, strlen(bench_options.filter)) == 0 ||
           strncmp(bench_options.filter, group, strlen(group)) == 0;
}

uint64_t bench_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_report(const char *name, const char *unit, const double *samples, unsigned count)
{
    double sorted[BENCH_RUNS_MAX];
    bench_result_t *result;

    if (count == 0 || count > BENCH_RUNS_MAX || result_count == BENCH_RESULTS_MAX)
        return;
    memcpy(sorted, samples, count * sizeof(*sorted));
    qsort(sorted, count, sizeof(*sorted), compare_doubles);
    result = &results[result_count++];
    snprintf(result->name, sizeof(result->name), "%s", name);
    snprintf(result->unit, sizeof(result->unit), "%s", unit);
    result->min = sorted[0];
    result->max = sorted[count - 1];
    result->median =
        count % 2 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0;
    result->runs = count;
    printf("  %-46s %14.4g %14.4g %14.4g  %s\n", result->name, result->median, result->min,
           result->max, result->unit);
    fflush(stdout);
}

void bench_note(const char *format, ...)
{
    va_list arguments;
    char text[512];

    va_start(arguments, format);
    vsnprintf(text, sizeof(text), format, arguments);
    va_end(arguments);
    printf("  note: %s\n", text);
    if (note_count < BENCH_NOTES_MAX) {
        size_t length = strlen(text) + 1;
        notes[note_count] = ebpf_allocate(length);
        if (notes[note_count] != NULL)
            memcpy(notes[note_count++], text, length);
    }
}

int bench_fail(int rc, const char *format, ...)
{
    va_list arguments;

    fprintf(stderr, "ebpf_bench: ");
    va_start(arguments, format);
    vfprintf(stderr, format, arguments);
    va_end(arguments);
    fprintf(stderr, ": %s\n", ebpf_last_error());
    failures++;
    return rc < 0 ? rc : -EIO;
}

const char *bench_object_path(const char *file)
{
    /* One static buffer per call site would be safer; callers copy or use the path at once. */
    static char path[4][512];
    static unsigned next;
    char *slot = path[next++ % 4];
    snprintf(slot, sizeof(path[0]), "%s/%s", BENCH_BPF_DIR, file);
    return slot;
}

/* JSON numbers: finite, enough digits to keep the measurement. */
static void write_number(FILE *file, double value)
{
    if (isfinite(value))
        fprintf(file, "%.6g", value);
    else
        fprintf(file, "null");
}

static int write_results(const char *path)
{
    FILE *file = fopen(path, "w");
    if (file == NULL)
        return ebpf_error(-errno, "cannot write %s: %s", path, strerror(errno));
    fprintf(file, "[\n");
    for (unsigned i = 0; i < result_count; i++) {
        const bench_result_t *result = &results[i];
        fprintf(file, "  {\"name\": \"%s\", \"unit\": \"%s\", \"median\": ", result->name,
                result->unit);
        write_number(file, result->median);
        fprintf(file, ", \"min\": ");
        write_number(file, result->min);
        fprintf(file, ", \"max\": ");
        write_number(file, result->max);
        fprintf(file, ", \"runs\": %u}%s\n", result->runs, i + 1 < result_count ? "," : "");
    }
    fprintf(file, "]\n");
    if (fclose(file) != 0)
        return ebpf_error(-EIO, "cannot write %s", path);
    return 0;
}

/* The benchmark types its programs through a private store, never the user's. */
static int export_program_info(void)
{
    ebpf_store_t *store;
    int rc = ebpf_store_open(NULL, EBPF_STORE_DEFAULT, &store);
    if (rc != 0)
        return rc;
    rc = ebpf_store_update_program_info(store, &netevent_program_info);
    if (rc == 0)
        rc = ebpf_store_update_section_info(store, netevent_section_info,
                                            netevent_section_info_count);
    ebpf_store_close(store);
    return rc;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: ebpf_bench [--runs N] [--scale X] [--only GROUP] [--output FILE]\n"
                "  groups: event_path fanout registrar exec maps verifier\n"
                "  --scale multiplies every iteration count (0.01 for a smoke run)\n");
}

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"runs", required_argument, NULL, 'r'}, {"scale", required_argument, NULL, 's'},
        {"only", required_argument, NULL, 'o'}, {"output", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    const char *output = BENCH_RESULTS_PATH;
    int option;

    while ((option = getopt_long(argc, argv, "r:s:o:w:h", long_options, NULL)) != -1) {
        switch (option) {
        case 'r':
            bench_options.runs = (unsigned)strtoul(optarg, NULL, 10);
            if (bench_options.runs < 1 || bench_options.runs > BENCH_RUNS_MAX) {
                fprintf(stderr, "ebpf_bench: --runs takes 1 to %d\n", BENCH_RUNS_MAX);
                return 2;
            }
            break;
        case 's':
            bench_options.scale = strtod(optarg, NULL);
            if (!(bench_options.scale > 0 && bench_options.scale <= 100)) {
                fprintf(stderr, "ebpf_bench: --scale takes a number in (0, 100]\n");
                return 2;
            }
            break;
        case 'o':
            bench_options.filter = optarg;
            break;
        case 'w':
            output = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    /* Defaults that keep the benchmark away from the user's store and find the build's
     * modules; the environment overrides both. */
    setenv("EBPF_STORE_DIR", BENCH_STORE_DIR, 0);
    setenv("EBPF_DRIVER_PATH", BENCH_MODULE_DIR, 0);
    if (export_program_info() != 0) {
        fprintf(stderr, "ebpf_bench: exporting the program information: %s\n", ebpf_last_error());
        return 1;
    }

    printf("ebpf_bench: %u runs per scenario, scale %g\n", bench_options.runs, bench_options.scale);
    printf("  %-46s %14s %14s %14s  %s\n", "name", "median", "min", "max", "unit");
    if (bench_selected("event_path"))
        bench_event_path();
    if (bench_selected("fanout"))
        bench_fanout();
    if (bench_selected("registrar"))
        bench_registrar();
    if (bench_selected("exec"))
        bench_execution();
    if (bench_selected("maps"))
        bench_maps();
    if (bench_selected("verifier"))
        bench_verifier();

    int rc = write_results(output);
    if (rc != 0) {
        fprintf(stderr, "ebpf_bench: %s\n", ebpf_last_error());
        failures++;
    } else {
        printf("ebpf_bench: %u results written to %s\n", result_count, output);
    }
    for (unsigned i = 0; i < note_count; i++)
        ebpf_free(notes[i]);
    return failures == 0 ? 0 : 1;
}
