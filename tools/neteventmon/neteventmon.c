/* neteventmon: loads the netevent modules and a netevent_monitor program, and prints every
 * network event it sees, as text or JSON lines, with live and final counters. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ebpf_api.h"
#include "ebpf_map.h"
#include "ebpf_netevent_hooks.h"
#include "ebpf_platform.h"
#include "netevent_decode.h"
#include "neteventebpfext.h"

typedef struct options {
    const char *program;
    const char *function;
    const char *map;
    const char *provider;
    const char *provider_parameters;
    netevent_capture_type_t capture;
    uint64_t count;  /* 0: no limit */
    double duration; /* seconds; 0: no limit */
    bool json;
    bool quiet; /* counters only */
} options_t;

typedef struct monitor_state {
    const options_t *options;
    uint64_t seen;
    uint64_t flows;
    uint64_t drops;
    uint64_t undecodable;
} monitor_state_t;

static volatile sig_atomic_t stop_requested;

static void request_stop(int signal_number)
{
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: neteventmon [options]\n"
            "Watch network events: loads neteventebpfext and an event provider, attaches a\n"
            "netevent_monitor program and prints one line per event.\n\n"
            "  --program FILE        BPF object to load (default: the bundled netevent_monitor)\n"
            "  --function NAME       program in the object (default: the first netevent one)\n"
            "  --map NAME            ring buffer map to read (default: the object's first)\n"
            "  --provider NAME       provider module (default: netevent_sim)\n"
            "  --provider-parameters \"key=value;...\"  e.g. \"NetEventInterval=1000\" (µs)\n"
            "  --capture all|flow|drop|none   events this program receives (default: all)\n"
            "  --count N             stop after N events\n"
            "  --duration S          stop after S seconds\n"
            "  --json                one JSON object per line\n"
            "  --quiet               print only the counters\n"
            "  -h, --help            this text\n");
}

static int parse_options(int argc, char **argv, options_t *options)
{
    static const struct option long_options[] = {
        {"program", required_argument, NULL, 'p'},
        {"function", required_argument, NULL, 'f'},
        {"map", required_argument, NULL, 'm'},
        {"provider", required_argument, NULL, 'P'},
        {"provider-parameters", required_argument, NULL, 'a'},
        {"capture", required_argument, NULL, 'c'},
        {"count", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;
    char *end;

    *options = (options_t){.provider = "netevent_sim", .capture = NeteventCapture_All};
    while ((option = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (option) {
        case 'p':
            options->program = optarg;
            break;
        case 'f':
            options->function = optarg;
            break;
        case 'm':
            options->map = optarg;
            break;
        case 'P':
            options->provider = optarg;
            break;
        case 'a':
            options->provider_parameters = optarg;
            break;
        case 'c':
            if (strcmp(optarg, "all") == 0)
                options->capture = NeteventCapture_All;
            else if (strcmp(optarg, "flow") == 0)
                options->capture = NeteventCapture_Flow;
            else if (strcmp(optarg, "drop") == 0)
                options->capture = NeteventCapture_Drop;
            else if (strcmp(optarg, "none") == 0)
                options->capture = NeteventCapture_None;
            else {
                fprintf(stderr,
                        "neteventmon: --capture takes all, flow, drop or none, not "
                        "\"%s\"\n",
                        optarg);
                return 2;
            }
            break;
        case 'n':
            errno = 0;
            options->count = strtoull(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || optarg[0] == '-') {
                fprintf(stderr, "neteventmon: --count takes a whole number, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'd':
            options->duration = strtod(optarg, &end);
            if (*end != '\0' || options->duration < 0) {
                fprintf(stderr, "neteventmon: --duration takes seconds, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'j':
            options->json = true;
            break;
        case 'q':
            options->quiet = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "neteventmon: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return 0;
}

/* Modules sit next to the build's binaries or under the install prefix. */
static void default_driver_path(void)
{
    char executable[PATH_MAX], path[3 * PATH_MAX];
    ssize_t length;

    if (getenv("EBPF_DRIVER_PATH") != NULL)
        return;
    length = readlink("/proc/self/exe", executable, sizeof(executable) - 1);
    if (length <= 0)
        return;
    executable[length] = '\0';
    const char *folder = dirname(executable);
    snprintf(path, sizeof(path), "%s/../modules:%s/../lib/ebpf/modules", folder, folder);
    setenv("EBPF_DRIVER_PATH", path, 0);
}

static const char *default_program(void)
{
    if (access(NETEVENTMON_DEFAULT_PROGRAM, R_OK) == 0)
        return NETEVENTMON_DEFAULT_PROGRAM;
    return NETEVENTMON_INSTALLED_PROGRAM;
}

static int print_event(void *context, void *data, size_t size)
{
    monitor_state_t *state = context;
    netevent_decoded_t decoded;
    char line[NETEVENT_FORMAT_TEXT_MAX * 2];

    if (state->options->count != 0 && state->seen >= state->options->count)
        return 0;
    state->seen++;
    if (netevent_decode(data, size, &decoded) != 0) {
        state->undecodable++;
        if (!state->options->quiet)
            fprintf(stdout, "undecodable event of %zu bytes: %s\n", size, decoded.error);
        return 0;
    }
    if (decoded.kind == NETEVENT_KIND_FLOW)
        state->flows++;
    else if (decoded.kind == NETEVENT_KIND_DROP)
        state->drops++;
    if (state->options->quiet)
        return 0;
    if (state->options->json)
        netevent_format_json(&decoded, line, sizeof(line));
    else
        netevent_format_text(&decoded, line, sizeof(line));
    fprintf(stdout, "%s\n", line);
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool extension_statistics(netevent_ext_statistics_t *total)
{
    int fd = bpf_obj_get(NETEVENT_STATISTICS_PIN_NAME);
    int cpus = libbpf_num_possible_cpus();
    uint32_t zero = 0;
    bool ok = false;

    memset(total, 0, sizeof(*total));
    if (fd < 0 || cpus <= 0)
        return false;
    netevent_ext_statistics_t *per_cpu = calloc((size_t)cpus, sizeof(*per_cpu));
    if (per_cpu != NULL && bpf_map_lookup_elem(fd, &zero, per_cpu) == 0) {
        for (int cpu = 0; cpu < cpus; cpu++) {
            total->received += per_cpu[cpu].received;
            total->malformed += per_cpu[cpu].malformed;
            total->delivered += per_cpu[cpu].delivered;
            total->program_errors += per_cpu[cpu].program_errors;
            total->filtered += per_cpu[cpu].filtered;
        }
        ok = true;
    }
    free(per_cpu);
    ebpf_close_fd(fd);
    return ok;
}

static uint64_t ring_drops(int map_fd)
{
    ebpf_map_t *map;
    uint64_t drops = 0;
    if (ebpf_map_from_fd(map_fd, &map) == 0) {
        ebpf_ring_buffer_t *ring = ebpf_map_get_ring_buffer(map);
        drops = ring ? ebpf_ring_buffer_dropped(ring) : 0;
        ebpf_map_release(map);
    }
    return drops;
}

static int fail(const char *what)
{
    fprintf(stderr, "neteventmon: %s: %s\n", what, ebpf_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    options_t options;
    monitor_state_t state = {&options, 0, 0, 0, 0};
    ebpf_driver_t *extension = NULL, *provider = NULL;
    struct bpf_object *object = NULL;
    struct bpf_program *program = NULL;
    struct bpf_link *link = NULL;
    struct ring_buffer *ring = NULL;
    int status = 1, rc, map_fd = -1;

    rc = parse_options(argc, argv, &options);
    if (rc != 0)
        return rc;
    signal(SIGINT, request_stop);
    signal(SIGTERM, request_stop);
    default_driver_path();
    libbpf_set_print(NULL); /* every failure is reported once, below, with what failed */
    if (options.program == NULL)
        options.program = default_program();

    if (ebpf_driver_load("neteventebpfext", NULL, &extension) != 0) {
        status = fail("loading the extension neteventebpfext");
        goto out;
    }
    object = bpf_object__open(options.program);
    if (object == NULL) {
        status = fail("opening the program");
        goto out;
    }
    if (bpf_object__load(object) != 0) {
        status = fail("loading the program");
        if (strstr(ebpf_last_error(), "not in the eBPF store") != NULL)
            fprintf(stderr, "neteventmon: hint: run netevent_ebpf_ext_export_program_info\n");
        goto out;
    }
    if (options.function != NULL) {
        program = bpf_object__find_program_by_name(object, options.function);
        if (program == NULL) {
            fprintf(stderr, "neteventmon: %s has no program named %s\n", options.program,
                    options.function);
            goto out;
        }
    } else {
        struct bpf_program *candidate;
        bpf_object__for_each_program(candidate, object)
        {
            if (strncmp(bpf_program__section_name(candidate), "netevent_monitor", 16) == 0) {
                program = candidate;
                break;
            }
        }
        if (program == NULL) {
            fprintf(stderr, "neteventmon: %s has no program in a netevent_monitor section\n",
                    options.program);
            goto out;
        }
    }
    struct bpf_map *map;
    bpf_object__for_each_map(map, object)
    {
        if ((options.map != NULL && strcmp(bpf_map__name(map), options.map) == 0) ||
            (options.map == NULL && bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF)) {
            map_fd = bpf_map__fd(map);
            break;
        }
    }
    if (map_fd < 0) {
        fprintf(stderr, "neteventmon: %s has no %s%s%s ring buffer map to read\n", options.program,
                options.map ? "\"" : "", options.map ? options.map : "", options.map ? "\"" : "");
        goto out;
    }
    netevent_attach_opts_t attach = {options.capture};
    if (ebpf_program_attach(program, NULL, &attach, sizeof(attach), &link) != 0) {
        status = fail("attaching the program");
        goto out;
    }
    ring = ring_buffer__new(map_fd, print_event, &state, NULL);
    if (ring == NULL) {
        status = fail("reading the ring buffer");
        goto out;
    }
    /* The provider last: every event it makes finds the program attached. */
    if (ebpf_driver_load(options.provider, options.provider_parameters, &provider) != 0) {
        status = fail("loading the provider");
        goto out;
    }

    bool terminal = isatty(STDERR_FILENO) && !options.json;
    double started = now_seconds(), last_summary = started;
    uint64_t last_seen = 0;
    while (!stop_requested) {
        rc = ring_buffer__poll(ring, 100);
        if (rc < 0 && rc != -EINTR) {
            fprintf(stderr, "neteventmon: polling: %s\n", strerror(-rc));
            goto out;
        }
        double now = now_seconds();
        if (options.count != 0 && state.seen >= options.count)
            break;
        if (options.duration > 0 && now - started >= options.duration)
            break;
        if (terminal && now - last_summary >= 1.0) {
            fprintf(
                stderr, "\r[%.0fs] %llu events (%.0f/s), %llu flow, %llu drop, %llu ring drops  ",
                now - started, (unsigned long long)state.seen,
                (state.seen - last_seen) / (now - last_summary), (unsigned long long)state.flows,
                (unsigned long long)state.drops, (unsigned long long)ring_drops(map_fd));
            fflush(stderr);
            last_summary = now;
            last_seen = state.seen;
        }
    }
    if (terminal)
        fprintf(stderr, "\n");
    status = 0;

out:
    if (provider != NULL)
        ebpf_driver_unload(provider);
    if (ring != NULL)
        ring_buffer__consume(ring);
    fflush(stdout); /* the events come before the counters */
    netevent_ext_statistics_t statistics;
    bool have_statistics = extension != NULL && extension_statistics(&statistics);
    if (status == 0) {
        fprintf(stderr,
                "neteventmon: seen %llu events (%llu flow, %llu drop, %llu undecodable); "
                "ring drops %llu",
                (unsigned long long)state.seen, (unsigned long long)state.flows,
                (unsigned long long)state.drops, (unsigned long long)state.undecodable,
                (unsigned long long)ring_drops(map_fd));
        if (have_statistics)
            fprintf(stderr,
                    "; extension received %llu, delivered %llu, malformed %llu, "
                    "program errors %llu",
                    (unsigned long long)statistics.received,
                    (unsigned long long)statistics.delivered,
                    (unsigned long long)statistics.malformed,
                    (unsigned long long)statistics.program_errors);
        fprintf(stderr, "\n");
    }
    ring_buffer__free(ring);
    if (link != NULL)
        bpf_link__destroy(link);
    bpf_object__close(object);
    if (extension != NULL)
        ebpf_driver_unload(extension);
    return status;
}
