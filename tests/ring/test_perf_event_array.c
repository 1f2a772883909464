/* Tests of the perf event array engine: per-CPU routing, record format, lost records, errors,
 * threads. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>

#include "ebpf_platform.h"
#include "perf_event_array.h"

#define PAGE 4096u

typedef struct seen {
    size_t samples;
    size_t lost_records;
    uint64_t lost_total;
    uint32_t cpus[64];
    uint32_t sizes[64];
    uint8_t data[64][64];
    char order[64]; /* 'S' sample, 'L' lost, in callback order */
    size_t events;
} seen_t;

static int on_sample(void *context, uint32_t cpu, void *data, uint32_t size)
{
    seen_t *seen = context;
    if (seen->samples < 64) {
        seen->cpus[seen->samples] = cpu;
        seen->sizes[seen->samples] = size;
        memcpy(seen->data[seen->samples], data, size < 64 ? size : 64);
    }
    seen->samples++;
    if (seen->events < 64)
        seen->order[seen->events] = 'S';
    seen->events++;
    return 0;
}

static int on_lost(void *context, uint32_t cpu, uint64_t lost)
{
    seen_t *seen = context;
    seen->lost_records++;
    seen->lost_total += lost;
    if (seen->events < 64)
        seen->order[seen->events] = 'L';
    seen->events++;
    return 0;
}

static bool readable(int fd)
{
    struct pollfd descriptor = {.fd = fd, .events = POLLIN};
    return poll(&descriptor, 1, 0) == 1 && (descriptor.revents & POLLIN);
}

static int open_fd_count(void)
{
    DIR *directory = opendir("/proc/self/fd");
    int count = 0;
    assert_non_null(directory);
    while (readdir(directory) != NULL)
        count++;
    closedir(directory);
    return count;
}

static ebpf_perf_event_array_t *make_array(uint32_t cpus, uint32_t size)
{
    ebpf_perf_event_array_t *array = NULL;
    assert_int_equal(ebpf_perf_event_array_create(cpus, size, &array), 0);
    assert_non_null(array);
    return array;
}

static uint32_t padded(uint32_t size)
{
    return ((size + 4 + 7) & ~7u) - 4;
}

static void test_create_rejects_bad_arguments(void **state)
{
    ebpf_perf_event_array_t *array = (ebpf_perf_event_array_t *)1;
    int64_t outstanding = ebpf_allocation_outstanding();

    assert_int_equal(ebpf_perf_event_array_create(0, PAGE, &array), -EINVAL);
    assert_null(array);
    assert_int_equal(ebpf_perf_event_array_create(EBPF_PERF_EVENT_ARRAY_MAX_CPUS + 1, PAGE, &array),
                     -EINVAL);
    assert_int_equal(ebpf_perf_event_array_create(2, 3 * PAGE, &array), -EINVAL);
    assert_int_equal(ebpf_perf_event_array_create(2, 100, &array), -EINVAL);
    assert_int_equal(ebpf_perf_event_array_create(2, 0, &array), -EINVAL);
    assert_string_not_equal(ebpf_last_error(), "");
    assert_int_equal(ebpf_allocation_outstanding(), outstanding);
    array = make_array(3, 2 * PAGE);
    assert_int_equal(ebpf_perf_event_array_cpu_count(array), 3);
    assert_int_equal(ebpf_perf_event_array_data_size(array), 2 * PAGE);
    ebpf_perf_event_array_destroy(array);
    ebpf_perf_event_array_destroy(NULL);
    assert_int_equal(ebpf_allocation_outstanding(), outstanding);
}

static void test_routing_and_record_format(void **state)
{
    ebpf_perf_event_array_t *array = make_array(4, PAGE);
    uint32_t sizes[] = {1, 4, 5, 12};
    uint8_t payload[16];

    for (uint32_t cpu = 0; cpu < 4; cpu++) {
        memset(payload, 'a' + (int)cpu, sizeof(payload));
        assert_int_equal(ebpf_perf_event_array_output(array, cpu, payload, sizes[cpu]), 0);
        assert_int_equal(ebpf_perf_event_array_output(array, cpu, payload, sizes[cpu]), 0);
    }
    for (uint32_t cpu = 0; cpu < 4; cpu++) {
        seen_t seen = {0};
        assert_int_equal(ebpf_perf_event_array_consume(array, cpu, on_sample, on_lost, &seen), 2);
        assert_int_equal(seen.samples, 2);
        assert_int_equal(seen.lost_records, 0);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(seen.cpus[i], cpu);
            /* As Linux: the size field covers the padding that keeps records 8-aligned. */
            assert_int_equal(seen.sizes[i], padded(sizes[cpu]));
            for (uint32_t b = 0; b < sizes[cpu]; b++)
                assert_int_equal(seen.data[i][b], 'a' + cpu);
            for (uint32_t b = sizes[cpu]; b < seen.sizes[i]; b++)
                assert_int_equal(seen.data[i][b], 0);
        }
        assert_int_equal(ebpf_perf_event_array_consume(array, cpu, on_sample, on_lost, &seen), 0);
    }

    /* The shared memory has the Linux perf mmap layout. */
    int fd = ebpf_perf_event_array_memory_fd(array, 2);
    assert_true(fd >= 0);
    assert_int_equal(ebpf_perf_event_array_output(array, 2, "xyz", 3), 0);
    uint8_t *file = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(file != MAP_FAILED);
    const struct perf_event_mmap_page *control = (const void *)file;
    uint64_t record_size = 8 + 4 + padded(5);
    assert_int_equal(control->data_offset, PAGE);
    assert_int_equal(control->data_size, PAGE);
    assert_int_equal(control->data_head, 2 * record_size + 16);
    assert_int_equal(control->data_tail, 2 * record_size);
    struct perf_event_header header;
    uint32_t raw_size;
    memcpy(&header, file + PAGE + 2 * record_size, sizeof(header));
    memcpy(&raw_size, file + PAGE + 2 * record_size + 8, sizeof(raw_size));
    assert_int_equal(header.type, PERF_RECORD_SAMPLE);
    assert_int_equal(header.misc, 0);
    assert_int_equal(header.size, 16);
    assert_int_equal(raw_size, 4);
    assert_memory_equal(file + PAGE + 2 * record_size + 12, "xyz", 3);
    munmap(file, 2 * PAGE);
    ebpf_perf_event_array_destroy(array);
}

static void test_current_cpu(void **state)
{
    uint32_t cpus = ebpf_cpu_count();
    ebpf_perf_event_array_t *array = make_array(cpus, PAGE);
    uint32_t claimed = ebpf_cpu_enter();
    size_t total = 0;

    assert_int_equal(ebpf_perf_event_array_output(array, BPF_F_CURRENT_CPU, &claimed, 4), 0);
    ebpf_cpu_exit();
    for (uint32_t cpu = 0; cpu < cpus; cpu++) {
        seen_t seen = {0};
        int consumed = ebpf_perf_event_array_consume(array, cpu, on_sample, NULL, &seen);
        /* Under a claim the sample goes to the claimed index, nowhere else. */
        assert_int_equal(consumed, cpu == claimed ? 1 : 0);
    }
    /* Without a claim: the CPU the thread runs on, which may change, but exactly one. */
    assert_int_equal(ebpf_perf_event_array_output(array, BPF_F_CURRENT_CPU, &claimed, 4), 0);
    for (uint32_t cpu = 0; cpu < cpus; cpu++) {
        seen_t seen = {0};
        total += (size_t)ebpf_perf_event_array_consume(array, cpu, on_sample, NULL, &seen);
    }
    assert_int_equal(total, 1);
    ebpf_perf_event_array_destroy(array);

    /* A claimed index beyond a smaller array is an index error. */
    array = make_array(1, PAGE);
    claimed = ebpf_cpu_enter();
    assert_int_equal(ebpf_perf_event_array_output(array, BPF_F_CURRENT_CPU, &claimed, 4),
                     claimed == 0 ? 0 : -E2BIG);
    ebpf_cpu_exit();
    ebpf_perf_event_array_destroy(array);
}

static void test_index_flag_and_size_errors(void **state)
{
    ebpf_perf_event_array_t *array = make_array(4, PAGE);
    static uint8_t payload[65536];
    seen_t seen = {0};

    assert_int_equal(ebpf_perf_event_array_output(array, 4, payload, 8), -E2BIG);
    assert_int_equal(ebpf_perf_event_array_output(array, 0xfffffffe, payload, 8), -E2BIG);
    assert_string_not_equal(ebpf_last_error(), "");
    assert_int_equal(ebpf_perf_event_array_output(array, 1ull << 32, payload, 8), -EINVAL);
    assert_int_equal(
        ebpf_perf_event_array_output(array, BPF_F_CURRENT_CPU | (1ull << 40), payload, 8), -EINVAL);
    /* Sizes that can never fit: beyond the ring (with room for a lost record) or the u16. */
    assert_int_equal(ebpf_perf_event_array_output(array, 0, payload, PAGE - 36), 0);
    assert_int_equal(ebpf_perf_event_array_output(array, 1, payload, PAGE - 35), -EINVAL);
    assert_int_equal(ebpf_perf_event_array_output(array, 1, payload, 70000), -EINVAL);
    assert_int_equal(ebpf_perf_event_array_output(array, 1, payload, UINT64_MAX), -EINVAL);
    assert_int_equal(ebpf_perf_event_array_memory_fd(array, 4), -EINVAL);
    assert_int_equal(ebpf_perf_event_array_wakeup_fd(array, 4), -EINVAL);
    assert_int_equal(ebpf_perf_event_array_consume(array, 4, on_sample, on_lost, &seen), -EINVAL);
    assert_int_equal(ebpf_perf_event_array_lost(array, 4), 0);
    /* None of these was a loss. */
    assert_int_equal(ebpf_perf_event_array_lost_total(array), 0);
    assert_int_equal(ebpf_perf_event_array_consume(array, 0, on_sample, on_lost, &seen), 1);
    assert_int_equal(ebpf_perf_event_array_consume(array, 1, on_sample, on_lost, &seen), 0);
    ebpf_perf_event_array_destroy(array);

    /* The u16 record size bounds a sample even in a large ring. */
    array = make_array(1, 32 * PAGE);
    assert_int_equal(ebpf_perf_event_array_output(array, 0, payload, 65516), 0);
    assert_int_equal(ebpf_perf_event_array_output(array, 0, payload, 65517), -EINVAL);
    ebpf_perf_event_array_destroy(array);
}

static void test_lost_records_are_reported(void **state)
{
    ebpf_perf_event_array_t *array = make_array(2, PAGE);
    uint8_t payload[200];
    int written = 0;
    seen_t seen = {0};

    memset(payload, 0x5A, sizeof(payload));
    /* 216-byte records: 18 fit in 4096. */
    while (ebpf_perf_event_array_output(array, 1, payload, sizeof(payload)) == 0)
        written++;
    assert_int_equal(written, 18);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ebpf_perf_event_array_output(array, 1, payload, sizeof(payload)), -ENOSPC);
    assert_int_equal(ebpf_perf_event_array_lost(array, 1), 4);
    assert_int_equal(ebpf_perf_event_array_lost(array, 0), 0);
    assert_int_equal(ebpf_perf_event_array_lost_total(array), 4);
    /* The other CPU's ring is unaffected. */
    assert_int_equal(ebpf_perf_event_array_output(array, 0, payload, 8), 0);

    assert_int_equal(ebpf_perf_event_array_consume(array, 1, on_sample, on_lost, &seen), 18);
    assert_int_equal(seen.lost_records, 0);
    /* Space returned: the next sample is preceded by a lost record carrying the count. */
    memset(&seen, 0, sizeof(seen));
    payload[0] = 1;
    assert_int_equal(ebpf_perf_event_array_output(array, 1, payload, sizeof(payload)), 0);
    payload[0] = 2;
    assert_int_equal(ebpf_perf_event_array_output(array, 1, payload, sizeof(payload)), 0);
    assert_int_equal(ebpf_perf_event_array_consume(array, 1, on_sample, on_lost, &seen), 3);
    assert_int_equal(seen.lost_records, 1);
    assert_int_equal(seen.lost_total, 4);
    assert_memory_equal(seen.order, "LSS", 3);
    assert_int_equal(seen.data[0][0], 1);
    assert_int_equal(seen.data[1][0], 2);

    /* Lost records without a lost callback are consumed silently. */
    while (ebpf_perf_event_array_output(array, 1, payload, sizeof(payload)) == 0)
        ;
    assert_int_equal(ebpf_perf_event_array_lost(array, 1), 5);
    memset(&seen, 0, sizeof(seen));
    assert_true(ebpf_perf_event_array_consume(array, 1, on_sample, NULL, &seen) > 0);
    assert_int_equal(ebpf_perf_event_array_output(array, 1, payload, 8), 0);
    assert_int_equal(ebpf_perf_event_array_consume(array, 1, on_sample, NULL, &seen), 2);
    assert_int_equal(seen.lost_records, 0);

    ebpf_perf_event_array_destroy(array);

    /* A sample that would fit alone but not after its lost record is lost too (both or
     * neither, as Linux). 17 records of 216 bytes and one of 200 leave 224 bytes free. */
    array = make_array(1, PAGE);
    for (int i = 0; i < 17; i++)
        assert_int_equal(ebpf_perf_event_array_output(array, 0, payload, 200), 0);
    assert_int_equal(ebpf_perf_event_array_output(array, 0, payload, 188), 0);
    static uint8_t large[300];
    assert_int_equal(ebpf_perf_event_array_output(array, 0, large, sizeof(large)), -ENOSPC);
    assert_int_equal(ebpf_perf_event_array_output(array, 0, payload, 200), -ENOSPC);
    assert_int_equal(ebpf_perf_event_array_lost(array, 0), 2);
    assert_int_equal(ebpf_perf_event_array_output(array, 0, payload, 8), 0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(ebpf_perf_event_array_consume(array, 0, on_sample, on_lost, &seen), 20);
    assert_int_equal(seen.lost_total, 2);
    assert_int_equal(seen.order[18], 'L');
    assert_int_equal(seen.order[19], 'S');
    ebpf_perf_event_array_destroy(array);
}

static void test_wakeup(void **state)
{
    ebpf_perf_event_array_t *array = make_array(2, PAGE);
    int fd0 = ebpf_perf_event_array_wakeup_fd(array, 0);
    int fd1 = ebpf_perf_event_array_wakeup_fd(array, 1);
    seen_t seen = {0};

    assert_true(fd0 >= 0 && fd1 >= 0 && fd0 != fd1);
    /* Nobody waits: no signal. */
    assert_int_equal(ebpf_perf_event_array_output(array, 0, "a", 1), 0);
    assert_false(readable(fd0));
    assert_true(ebpf_perf_event_array_wait_prepare(array, 0));
    assert_int_equal(ebpf_perf_event_array_consume(array, 0, on_sample, on_lost, &seen), 1);
    /* A waiting consumer of one CPU is signalled by that CPU's producer only. */
    assert_false(ebpf_perf_event_array_wait_prepare(array, 0));
    assert_false(ebpf_perf_event_array_wait_prepare(array, 1));
    assert_int_equal(ebpf_perf_event_array_output(array, 1, "b", 1), 0);
    assert_true(readable(fd1));
    assert_false(readable(fd0));
    assert_int_equal(ebpf_perf_event_array_output(array, 0, "c", 1), 0);
    assert_true(readable(fd0));
    ebpf_perf_event_array_wait_finish(array, 0);
    ebpf_perf_event_array_wait_finish(array, 1);
    assert_false(readable(fd0));
    assert_false(readable(fd1));
    assert_true(ebpf_perf_event_array_wait_prepare(array, 1));
    ebpf_perf_event_array_wait_finish(array, 7); /* bad index: nothing happens */
    ebpf_perf_event_array_destroy(array);
}

/* Announcing every index at once, and the spin's cheap look for data. */
static void test_wakeup_of_all_indexes(void **state)
{
    ebpf_perf_event_array_t *array = make_array(3, PAGE);
    int fd2 = ebpf_perf_event_array_wakeup_fd(array, 2);
    seen_t seen = {0};

    assert_false(ebpf_perf_event_array_has_data(array));
    assert_false(ebpf_perf_event_array_wait_prepare_all(array));
    assert_int_equal(ebpf_perf_event_array_output(array, 2, "z", 1), 0);
    assert_true(readable(fd2));
    assert_true(ebpf_perf_event_array_has_data(array));
    for (uint32_t cpu = 0; cpu < 3; cpu++)
        ebpf_perf_event_array_wait_finish(array, cpu);
    assert_false(readable(fd2));
    /* Data already there: announcing reports it and signals nobody. */
    assert_true(ebpf_perf_event_array_wait_prepare_all(array));
    assert_int_equal(ebpf_perf_event_array_output(array, 2, "y", 1), 0);
    assert_false(readable(fd2));
    assert_int_equal(ebpf_perf_event_array_consume(array, 2, on_sample, on_lost, &seen), 2);
    assert_false(ebpf_perf_event_array_has_data(array));
    ebpf_perf_event_array_destroy(array);
}

typedef struct pointer_check {
    const ebpf_perf_event_array_t *array;
    int inside;
} pointer_check_t;

static int check_inside(void *context, uint32_t cpu, void *data, uint32_t size)
{
    pointer_check_t *check = context;
    if (ebpf_perf_event_array_contains(check->array, data, size))
        check->inside++;
    return 0;
}

static void test_contains(void **state)
{
    ebpf_perf_event_array_t *array = make_array(2, PAGE);
    pointer_check_t check = {.array = array};
    uint8_t local;

    /* Samples handed to the consumer lie in a data area. */
    assert_int_equal(ebpf_perf_event_array_output(array, 1, "abcdefgh", 8), 0);
    assert_int_equal(ebpf_perf_event_array_consume(array, 1, check_inside, NULL, &check), 1);
    assert_int_equal(check.inside, 1);
    assert_false(ebpf_perf_event_array_contains(array, &local, 1));
    assert_false(ebpf_perf_event_array_contains(array, NULL, 1));
    assert_false(ebpf_perf_event_array_contains(array, &local, SIZE_MAX));
    ebpf_perf_event_array_destroy(array);
}

/* Threads writing one index without claiming it, and a consumer sleeping on its eventfd. */
#define WRITERS            2
#define SAMPLES_PER_WRITER 20000
#define LAST_SAMPLE        UINT32_MAX

typedef struct writer {
    ebpf_perf_event_array_t *array;
    uint32_t id;
    uint64_t written, lost; /* by the writer thread only, read after join */
} writer_t;

static void *write_samples(void *argument)
{
    writer_t *writer = argument;
    uint32_t sample[6];
    for (uint32_t sequence = 0; sequence < SAMPLES_PER_WRITER; sequence++) {
        uint32_t words = 2 + sequence % 5;
        sample[0] = writer->id;
        sample[1] = sequence;
        for (uint32_t i = 2; i < words; i++)
            sample[i] = writer->id ^ sequence ^ i;
        if (ebpf_perf_event_array_output(writer->array, 0, sample, words * 4) == 0)
            writer->written++;
        else
            writer->lost++;
    }
    sample[0] = writer->id;
    sample[1] = LAST_SAMPLE;
    while (ebpf_perf_event_array_output(writer->array, 0, sample, 8) != 0) {
        writer->lost++;
        sched_yield();
    }
    return NULL;
}

typedef struct reader {
    int64_t next[WRITERS];
    uint64_t received[WRITERS];
    uint64_t lost;
    int finished;
    uint64_t errors;
} reader_t;

static int read_sample(void *context, uint32_t cpu, void *data, uint32_t size)
{
    reader_t *reader = context;
    uint32_t sample[8] = {0};
    if (cpu != 0 || size < 8 || size > sizeof(sample)) {
        reader->errors++;
        return 0;
    }
    memcpy(sample, data, size);
    if (sample[0] >= WRITERS) {
        reader->errors++;
        return 0;
    }
    if (sample[1] == LAST_SAMPLE) {
        reader->finished++;
        return 0;
    }
    if ((int64_t)sample[1] < reader->next[sample[0]] || size != padded(4 * (2 + sample[1] % 5))) {
        reader->errors++;
        return 0;
    }
    for (uint32_t i = 2; i < 2 + sample[1] % 5; i++)
        if (sample[i] != (sample[0] ^ sample[1] ^ i))
            reader->errors++;
    reader->next[sample[0]] = (int64_t)sample[1] + 1;
    reader->received[sample[0]]++;
    return 0;
}

static int read_lost(void *context, uint32_t cpu, uint64_t lost)
{
    ((reader_t *)context)->lost += lost;
    return 0;
}

static void test_unclaimed_writers_share_an_index(void **state)
{
    ebpf_perf_event_array_t *array = make_array(2, PAGE);
    pthread_t threads[WRITERS];
    writer_t writers[WRITERS];
    reader_t reader = {0};
    struct pollfd descriptor = {.fd = ebpf_perf_event_array_wakeup_fd(array, 0), .events = POLLIN};
    uint64_t lost = 0;

    for (uint32_t i = 0; i < WRITERS; i++) {
        writers[i] = (writer_t){.array = array, .id = i};
        assert_int_equal(pthread_create(&threads[i], NULL, write_samples, &writers[i]), 0);
    }
    while (reader.finished < WRITERS) {
        int consumed = ebpf_perf_event_array_consume(array, 0, read_sample, read_lost, &reader);
        assert_true(consumed >= 0);
        if (consumed == 0 && !ebpf_perf_event_array_wait_prepare(array, 0)) {
            /* No timeout: a lost wake-up fails by the test's time limit. */
            assert_int_equal(poll(&descriptor, 1, -1), 1);
            ebpf_perf_event_array_wait_finish(array, 0);
        }
    }
    for (uint32_t i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    /* A loss after the last sample is reported with the next sample, which never comes. */
    assert_int_equal(reader.errors, 0);
    for (uint32_t i = 0; i < WRITERS; i++) {
        assert_int_equal(reader.received[i], writers[i].written);
        lost += writers[i].lost;
    }
    assert_int_equal(ebpf_perf_event_array_lost(array, 0), lost);
    assert_true(reader.lost <= lost);
    uint32_t last[2] = {0, LAST_SAMPLE};
    int expected = reader.lost == lost ? 1 : 2;
    assert_int_equal(ebpf_perf_event_array_output(array, 0, last, sizeof(last)), 0);
    assert_int_equal(ebpf_perf_event_array_consume(array, 0, read_sample, read_lost, &reader),
                     expected);
    assert_int_equal(reader.lost, lost);
    assert_int_equal(reader.errors, 0);
    assert_int_equal(ebpf_perf_event_array_lost(array, 1), 0);
    ebpf_perf_event_array_destroy(array);
}

typedef struct claimer {
    ebpf_perf_event_array_t *array;
    uint64_t written; /* by the thread only, read after join */
} claimer_t;

static void *write_claimed(void *argument)
{
    claimer_t *claimer = argument;
    for (int i = 0; i < 2000; i++) {
        uint32_t index = ebpf_cpu_enter();
        if (ebpf_perf_event_array_output(claimer->array, BPF_F_CURRENT_CPU, &index,
                                         sizeof(index)) == 0)
            claimer->written++;
        ebpf_cpu_exit();
    }
    return NULL;
}

static int check_claimed_index(void *context, uint32_t cpu, void *data, uint32_t size)
{
    uint32_t index;
    memcpy(&index, data, sizeof(index));
    if (index != cpu)
        (*(uint64_t *)context) += 1000000;
    (*(uint64_t *)context)++;
    return 0;
}

static void test_claimed_writers_route_to_their_index(void **state)
{
    uint32_t cpus = ebpf_cpu_count();
    ebpf_perf_event_array_t *array = make_array(cpus, 16 * PAGE);
    pthread_t threads[2];
    claimer_t claimers[2] = {{.array = array}, {.array = array}};
    uint64_t received = 0;

    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, write_claimed, &claimers[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (uint32_t cpu = 0; cpu < cpus; cpu++)
        while (ebpf_perf_event_array_consume(array, cpu, check_claimed_index, NULL, &received) > 0)
            ;
    /* Every sample is on the index its writer held; losses are counted, not silent. */
    assert_int_equal(received, claimers[0].written + claimers[1].written);
    assert_int_equal(received + ebpf_perf_event_array_lost_total(array), 4000);
    ebpf_perf_event_array_destroy(array);
}

static void test_creation_faults_leak_nothing(void **state)
{
    const char *sites[64];
    size_t site_count;
    ebpf_perf_event_array_t *array;
    int64_t outstanding = ebpf_allocation_outstanding();
    int fds = open_fd_count();

    ebpf_fault_record_sites(true);
    array = make_array(3, PAGE);
    ebpf_perf_event_array_destroy(array);
    site_count = ebpf_fault_sites(sites, EBPF_ARRAY_SIZE(sites));
    ebpf_fault_record_sites(false);
    assert_true(site_count >= 2);
    for (size_t i = 0; i < site_count; i++) {
        uint64_t injected = ebpf_fault_injected_count();
        ebpf_fault_fail_site(sites[i]);
        assert_int_equal(ebpf_perf_event_array_create(3, PAGE, &array), -ENOMEM);
        assert_null(array);
        assert_true(ebpf_fault_injected_count() > injected);
        ebpf_fault_fail_site(NULL);
        assert_int_equal(ebpf_allocation_outstanding(), outstanding);
        assert_int_equal(open_fd_count(), fds);
    }
    ebpf_fault_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_arguments),
        cmocka_unit_test(test_routing_and_record_format),
        cmocka_unit_test(test_current_cpu),
        cmocka_unit_test(test_index_flag_and_size_errors),
        cmocka_unit_test(test_lost_records_are_reported),
        cmocka_unit_test(test_wakeup),
        cmocka_unit_test(test_wakeup_of_all_indexes),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_unclaimed_writers_share_an_index),
        cmocka_unit_test(test_claimed_writers_route_to_their_index),
        cmocka_unit_test(test_creation_faults_leak_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
