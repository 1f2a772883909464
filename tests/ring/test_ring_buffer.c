/* Single-threaded tests of the ring buffer engine: record format, wrap, limits, wake-up, sharing.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include "ebpf_platform.h"
#include "ring_buffer.h"

#define PAGE 4096u

typedef struct collected {
    size_t count;
    size_t sizes[256];
    uint8_t first_bytes[256];
    const uint8_t *pointers[256];
    int stop_at; /* return this from the callback at record index stop_after, 0 never */
    size_t stop_after;
    bool check_pattern; /* payload byte i must be (first byte + i) & 0xff */
    size_t pattern_errors;
} collected_t;

static int collect(void *context, void *data, size_t size)
{
    collected_t *c = context;
    const uint8_t *bytes = data;
    size_t index = c->count;
    if (index < 256) {
        c->sizes[index] = size;
        c->first_bytes[index] = size ? bytes[0] : 0;
        c->pointers[index] = bytes;
    }
    if (c->check_pattern) {
        for (size_t i = 0; i < size; i++)
            if (bytes[i] != (uint8_t)(bytes[0] + i))
                c->pattern_errors++;
    }
    c->count++;
    if (c->stop_at != 0 && index == c->stop_after)
        return c->stop_at;
    return 0;
}

static void fill_pattern(uint8_t *buffer, size_t size, uint8_t first)
{
    for (size_t i = 0; i < size; i++)
        buffer[i] = (uint8_t)(first + i);
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

static ebpf_ring_buffer_t *make_ring(uint32_t size)
{
    ebpf_ring_buffer_t *ring = NULL;
    assert_int_equal(ebpf_ring_buffer_create(size, &ring), 0);
    assert_non_null(ring);
    return ring;
}

static uint32_t header_length(const void *record)
{
    uint32_t length;
    memcpy(&length, (const uint8_t *)record - 8, sizeof(length));
    return length;
}

static uint32_t header_page_offset(const void *record)
{
    uint32_t page_offset;
    memcpy(&page_offset, (const uint8_t *)record - 4, sizeof(page_offset));
    return page_offset;
}

static void test_create_rejects_bad_sizes(void **state)
{
    ebpf_ring_buffer_t *ring = (ebpf_ring_buffer_t *)1;
    int64_t outstanding = ebpf_allocation_outstanding();
    uint32_t bad[] = {0, 100, PAGE + 1, 3 * PAGE, PAGE / 2};
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(bad); i++) {
        ebpf_error_clear();
        assert_int_equal(ebpf_ring_buffer_create(bad[i], &ring), -EINVAL);
        assert_null(ring);
        assert_string_not_equal(ebpf_last_error(), "");
    }
    assert_int_equal(ebpf_allocation_outstanding(), outstanding);
    ring = make_ring(4 * PAGE);
    assert_int_equal(ebpf_ring_buffer_data_size(ring), 4 * PAGE);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_RING_SIZE), 4 * PAGE);
    ebpf_ring_buffer_destroy(ring);
    ebpf_ring_buffer_destroy(NULL);
    assert_int_equal(ebpf_allocation_outstanding(), outstanding);
}

static void test_record_format(void **state)
{
    ebpf_ring_buffer_t *ring = make_ring(2 * PAGE);
    uint64_t sizes[] = {0, 1, 7, 8, 9, 13, 100};
    uint8_t *records[EBPF_ARRAY_SIZE(sizes)];
    uint8_t *data_start = NULL;
    uint64_t position = 0;

    for (size_t i = 0; i < EBPF_ARRAY_SIZE(sizes); i++) {
        records[i] = ebpf_ring_buffer_reserve(ring, sizes[i], 0);
        assert_non_null(records[i]);
        if (i == 0)
            data_start = records[0] - 8;
        /* Header right before the payload, 8-aligned, at the producer position. */
        assert_int_equal((uintptr_t)records[i] % 8, 0);
        assert_ptr_equal(records[i] - 8, data_start + position);
        assert_int_equal(header_length(records[i]), (uint32_t)sizes[i] | BPF_RINGBUF_BUSY_BIT);
        /* pg_off counts pages from the start of the shared memory (2 meta pages). */
        assert_int_equal(header_page_offset(records[i]), 2 + position / PAGE);
        position += (sizes[i] + 8 + 7) & ~7ull;
        assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_PROD_POS), position);
        assert_true(ebpf_ring_buffer_contains(ring, records[i], sizes[i]));
        memset(records[i], 0xA0 + (int)i, sizes[i]);
    }
    ebpf_ring_buffer_submit(ring, records[1], 0);
    assert_int_equal(header_length(records[1]), 1);
    ebpf_ring_buffer_discard(ring, records[2], 0);
    assert_int_equal(header_length(records[2]), 7 | BPF_RINGBUF_DISCARD_BIT);
    for (size_t i = 0; i < EBPF_ARRAY_SIZE(sizes); i++)
        if (i != 1 && i != 2)
            ebpf_ring_buffer_submit(ring, records[i], BPF_RB_NO_WAKEUP);

    /* Reach past the first page: pg_off follows. */
    while (position < PAGE + 64) {
        uint8_t *record = ebpf_ring_buffer_reserve(ring, 56, 0);
        assert_non_null(record);
        assert_int_equal(header_page_offset(record), 2 + position / PAGE);
        ebpf_ring_buffer_submit(ring, record, BPF_RB_NO_WAKEUP);
        position += 64;
    }

    collected_t c = {0};
    int consumed = ebpf_ring_buffer_consume(ring, collect, &c);
    /* Every record but the discarded one. */
    assert_int_equal(consumed, (int)c.count);
    assert_int_equal(c.sizes[0], 0);
    assert_int_equal(c.sizes[1], 1);
    assert_int_equal(c.first_bytes[1], 0xA1);
    assert_int_equal(c.sizes[2], 8);
    assert_int_equal(c.first_bytes[2], 0xA3);
    assert_ptr_equal(c.pointers[2], records[3]);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_CONS_POS), position);
    ebpf_ring_buffer_destroy(ring);
}

static void test_wrap_around_is_contiguous(void **state)
{
    ebpf_ring_buffer_t *ring = make_ring(PAGE);
    uint8_t payload[1000];
    uint8_t *data_start = NULL;
    size_t wrapped = 0;

    for (int i = 0; i < 40; i++) {
        uint64_t producer = ebpf_ring_buffer_query(ring, BPF_RB_PROD_POS);
        size_t size = 600 + (size_t)(i * 37) % 400;
        uint8_t *record;
        collected_t c = {.check_pattern = true};

        fill_pattern(payload, size, (uint8_t)i);
        record = ebpf_ring_buffer_reserve(ring, size, 0);
        assert_non_null(record);
        if (data_start == NULL)
            data_start = record - 8;
        assert_ptr_equal(record - 8, data_start + (producer & (PAGE - 1)));
        memcpy(record, payload, size);
        ebpf_ring_buffer_submit(ring, record, 0);
        if ((producer & (PAGE - 1)) + 8 + size > PAGE) {
            /* The payload runs past the end of the first copy, yet reads straight on, and
             * what lies past the end is the start of the data area. */
            size_t before_end = PAGE - (size_t)(record - data_start);
            wrapped++;
            assert_true(ebpf_ring_buffer_contains(ring, record, size));
            assert_memory_equal(data_start, payload + before_end, size - before_end);
        }
        assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 1);
        assert_int_equal(c.sizes[0], size);
        assert_ptr_equal(c.pointers[0], record);
        assert_int_equal(c.pattern_errors, 0);
    }
    assert_true(wrapped >= 5);
    assert_int_equal(ebpf_ring_buffer_dropped(ring), 0);
    ebpf_ring_buffer_destroy(ring);
}

static void test_consumer_order_busy_and_discard(void **state)
{
    ebpf_ring_buffer_t *ring = make_ring(PAGE);
    uint8_t *a, *b, *c_record;
    uint8_t value;
    collected_t c = {0};

    a = ebpf_ring_buffer_reserve(ring, 16, 0);
    b = ebpf_ring_buffer_reserve(ring, 16, 0);
    c_record = ebpf_ring_buffer_reserve(ring, 16, 0);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c_record);
    memset(a, 'a', 16);
    memset(b, 'b', 16);
    memset(c_record, 'c', 16);
    /* Committed out of order: nothing passes the busy first record. */
    ebpf_ring_buffer_submit(ring, c_record, 0);
    ebpf_ring_buffer_discard(ring, b, 0);
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 0);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_CONS_POS), 0);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_AVAIL_DATA), 72);
    ebpf_ring_buffer_submit(ring, a, 0);
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 2);
    assert_int_equal(c.first_bytes[0], 'a');
    assert_int_equal(c.first_bytes[1], 'c');
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_AVAIL_DATA), 0);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_CONS_POS), 72);

    /* A callback's non-zero return stops the walk after that record, which is consumed. */
    for (int i = 0; i < 4; i++) {
        value = (uint8_t)('0' + i);
        assert_int_equal(ebpf_ring_buffer_output(ring, &value, 1, 0), 0);
    }
    memset(&c, 0, sizeof(c));
    c.stop_at = 42;
    c.stop_after = 1;
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 42);
    assert_int_equal(c.count, 2);
    memset(&c, 0, sizeof(c));
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 2);
    assert_int_equal(c.first_bytes[0], '2');
    assert_int_equal(c.first_bytes[1], '3');
    ebpf_ring_buffer_destroy(ring);
}

static void test_query(void **state)
{
    ebpf_ring_buffer_t *ring = make_ring(2 * PAGE);
    uint8_t bytes[24] = {0};
    collected_t c = {0};

    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_RING_SIZE), 2 * PAGE);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_AVAIL_DATA), 0);
    assert_int_equal(ebpf_ring_buffer_output(ring, bytes, 24, 0), 0); /* 32 bytes */
    assert_int_equal(ebpf_ring_buffer_output(ring, bytes, 3, 0), 0);  /* 16 bytes */
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_PROD_POS), 48);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_CONS_POS), 0);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_AVAIL_DATA), 48);
    assert_int_equal(ebpf_ring_buffer_query(ring, 99), 0);
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 2);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_CONS_POS), 48);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_AVAIL_DATA), 0);
    ebpf_ring_buffer_destroy(ring);
}

static void test_full_ring_drops_and_counts(void **state)
{
    ebpf_ring_buffer_t *ring = make_ring(PAGE);
    uint8_t payload[120];
    int written = 0;
    collected_t c = {0};

    memset(payload, 7, sizeof(payload));
    while (ebpf_ring_buffer_output(ring, payload, sizeof(payload), 0) == 0)
        written++;
    /* 128-byte records: a 4096-byte ring holds 31, since a lap must stay below the size. */
    assert_int_equal(written, 31);
    assert_int_equal(ebpf_ring_buffer_dropped(ring), 1);
    assert_string_not_equal(ebpf_last_error(), "");
    assert_int_equal(ebpf_ring_buffer_output(ring, payload, sizeof(payload), 0), -ENOSPC);
    assert_null(ebpf_ring_buffer_reserve(ring, 120, 0));
    assert_int_equal(ebpf_ring_buffer_dropped(ring), 3);
    /* A smaller record still fits in the remaining 128 - 8 bytes. */
    assert_int_equal(ebpf_ring_buffer_output(ring, payload, 100, 0), 0);
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 32);
    assert_int_equal(ebpf_ring_buffer_output(ring, payload, sizeof(payload), 0), 0);
    assert_int_equal(ebpf_ring_buffer_dropped(ring), 3);

    /* A reserved but unsubmitted record keeps its space until committed. */
    memset(&c, 0, sizeof(c));
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 1);
    static uint8_t large[2000];
    uint8_t *held = ebpf_ring_buffer_reserve(ring, 2500, 0);
    assert_non_null(held);
    assert_int_equal(ebpf_ring_buffer_output(ring, large, sizeof(large), 0), -ENOSPC);
    ebpf_ring_buffer_discard(ring, held, 0);
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 0);
    assert_int_equal(ebpf_ring_buffer_output(ring, large, sizeof(large), 0), 0);
    assert_int_equal(ebpf_ring_buffer_dropped(ring), 4);
    ebpf_ring_buffer_destroy(ring);
}

static void test_sizes_and_flags_that_never_fit(void **state)
{
    ebpf_ring_buffer_t *ring = make_ring(PAGE);
    static uint8_t payload[2 * PAGE];

    /* Largest record: header + payload = 4088 bytes < 4096. */
    uint8_t *record = ebpf_ring_buffer_reserve(ring, PAGE - 16, 0);
    assert_non_null(record);
    ebpf_ring_buffer_discard(ring, record, 0);
    collected_t c = {0};
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 0);
    assert_null(ebpf_ring_buffer_reserve(ring, PAGE - 15, 0));
    assert_null(ebpf_ring_buffer_reserve(ring, PAGE, 0));
    assert_null(ebpf_ring_buffer_reserve(ring, UINT64_MAX, 0));
    assert_null(ebpf_ring_buffer_reserve(ring, (uint64_t)UINT32_MAX + 9, 0));
    assert_int_equal(ebpf_ring_buffer_output(ring, payload, 2 * PAGE, 0), -EINVAL);
    assert_int_equal(ebpf_ring_buffer_output(ring, payload, UINT64_MAX - 3, 0), -EINVAL);
    /* Bad flags. */
    assert_null(ebpf_ring_buffer_reserve(ring, 8, BPF_RB_NO_WAKEUP));
    assert_int_equal(ebpf_ring_buffer_output(ring, payload, 8, 4), -EINVAL);
    assert_int_equal(ebpf_ring_buffer_output(ring, payload, 8, 1ull << 40), -EINVAL);
    /* None of these is a drop. */
    assert_int_equal(ebpf_ring_buffer_dropped(ring), 0);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_AVAIL_DATA), 0);
    ebpf_ring_buffer_destroy(ring);
}

static void test_contains(void **state)
{
    ebpf_ring_buffer_t *ring = make_ring(PAGE);
    uint8_t *record = ebpf_ring_buffer_reserve(ring, 8, 0);
    uint8_t *data = record - 8;
    uint8_t local;

    assert_true(ebpf_ring_buffer_contains(ring, data, 2 * PAGE));
    assert_true(ebpf_ring_buffer_contains(ring, data + 2 * PAGE - 1, 1));
    assert_true(ebpf_ring_buffer_contains(ring, data + 2 * PAGE, 0));
    assert_false(ebpf_ring_buffer_contains(ring, data + 2 * PAGE - 1, 2));
    assert_false(ebpf_ring_buffer_contains(ring, data - 1, 1));
    assert_false(ebpf_ring_buffer_contains(ring, data, 2 * PAGE + 1));
    assert_false(ebpf_ring_buffer_contains(ring, data + 8, SIZE_MAX));
    assert_false(ebpf_ring_buffer_contains(ring, &local, 1));
    ebpf_ring_buffer_submit(ring, record, 0);
    ebpf_ring_buffer_destroy(ring);
}

static void test_wakeup_flags(void **state)
{
    ebpf_ring_buffer_t *ring = make_ring(PAGE);
    int fd = ebpf_ring_buffer_wakeup_fd(ring);
    uint8_t byte = 1;
    collected_t c = {0};

    assert_true(fd >= 0);
    assert_false(readable(fd));
    /* Nobody waits: a default commit costs no signal. */
    assert_int_equal(ebpf_ring_buffer_output(ring, &byte, 1, 0), 0);
    assert_false(readable(fd));
    /* Data is there: the consumer must not sleep. */
    assert_true(ebpf_ring_buffer_wait_prepare(ring));
    assert_int_equal(ebpf_ring_buffer_wait(ring, 0), 1);
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 1);
    assert_int_equal(ebpf_ring_buffer_wait(ring, 0), 0);

    /* The consumer waits: a default commit of the next record signals it. */
    assert_false(ebpf_ring_buffer_wait_prepare(ring));
    assert_int_equal(ebpf_ring_buffer_output(ring, &byte, 1, 0), 0);
    assert_true(readable(fd));
    ebpf_ring_buffer_wait_finish(ring);
    assert_false(readable(fd));
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 1);

    /* BPF_RB_NO_WAKEUP: never, even for a waiting consumer. */
    assert_false(ebpf_ring_buffer_wait_prepare(ring));
    assert_int_equal(ebpf_ring_buffer_output(ring, &byte, 1, BPF_RB_NO_WAKEUP), 0);
    assert_false(readable(fd));
    uint8_t *record = ebpf_ring_buffer_reserve(ring, 4, 0);
    ebpf_ring_buffer_submit(ring, record, BPF_RB_NO_WAKEUP);
    assert_false(readable(fd));
    ebpf_ring_buffer_wait_finish(ring);
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 2);

    /* BPF_RB_FORCE_WAKEUP: always, even with nobody waiting and a consumer behind. */
    assert_int_equal(ebpf_ring_buffer_output(ring, &byte, 1, BPF_RB_NO_WAKEUP), 0);
    assert_int_equal(ebpf_ring_buffer_output(ring, &byte, 1, BPF_RB_FORCE_WAKEUP), 0);
    assert_true(readable(fd));
    ebpf_ring_buffer_wait_finish(ring);
    record = ebpf_ring_buffer_reserve(ring, 4, 0);
    ebpf_ring_buffer_discard(ring, record, BPF_RB_FORCE_WAKEUP);
    assert_true(readable(fd));
    ebpf_ring_buffer_wait_finish(ring);
    assert_false(readable(fd));
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 2);

    /* Default wake-ups are batched: only the commit of the first unconsumed record signals. */
    uint8_t *first = ebpf_ring_buffer_reserve(ring, 4, 0);
    assert_false(ebpf_ring_buffer_wait_prepare(ring)); /* the record at cons is still busy */
    assert_int_equal(ebpf_ring_buffer_output(ring, &byte, 1, 0), 0);
    assert_int_equal(ebpf_ring_buffer_output(ring, &byte, 1, 0), 0);
    assert_false(readable(fd));
    ebpf_ring_buffer_submit(ring, first, 0);
    assert_true(readable(fd));
    ebpf_ring_buffer_wait_finish(ring);
    assert_int_equal(ebpf_ring_buffer_wait(ring, 0), 1);
    assert_int_equal(ebpf_ring_buffer_consume(ring, collect, &c), 3);
    ebpf_ring_buffer_destroy(ring);
}

static void test_second_mapping_reads_records(void **state)
{
    ebpf_ring_buffer_t *ring = make_ring(PAGE);
    ebpf_ring_buffer_view_t *view = NULL;
    int memory_fd = ebpf_ring_buffer_memory_fd(ring);
    uint8_t payload[700];
    struct stat status;

    assert_true(memory_fd >= 0);
    assert_int_equal(fstat(memory_fd, &status), 0);
    assert_int_equal(status.st_size, 2 * PAGE + PAGE);

    /* A plain mapping of the file, as any process can make: Linux layout. */
    uint8_t *file = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, memory_fd, 0);
    assert_true(file != MAP_FAILED);
    fill_pattern(payload, 20, 0x30);
    assert_int_equal(ebpf_ring_buffer_output(ring, payload, 20, 0), 0);
    uint64_t producer, consumer;
    uint32_t length, page_offset;
    memcpy(&consumer, file, sizeof(consumer));
    memcpy(&producer, file + PAGE, sizeof(producer));
    memcpy(&length, file + 2 * PAGE, sizeof(length));
    memcpy(&page_offset, file + 2 * PAGE + 4, sizeof(page_offset));
    assert_int_equal(consumer, 0);
    assert_int_equal(producer, 32);
    assert_int_equal(length, 20);
    assert_int_equal(page_offset, 2);
    assert_memory_equal(file + 2 * PAGE + 8, payload, 20);
    munmap(file, 3 * PAGE);

    /* A consumer view: reads records through its own double mapping, wrap included. */
    assert_int_equal(ebpf_ring_buffer_view_open(memory_fd, ebpf_ring_buffer_wakeup_fd(ring), &view),
                     0);
    assert_int_equal(ebpf_ring_buffer_view_data_size(view), PAGE);
    for (int round = 0; round < 12; round++) {
        collected_t c = {.check_pattern = true};
        size_t size = 500 + (size_t)round * 17;
        fill_pattern(payload, size, (uint8_t)(round * 3));
        assert_int_equal(ebpf_ring_buffer_output(ring, payload, size, 0), 0);
        assert_int_equal(ebpf_ring_buffer_output(ring, payload, size, 0), 0);
        assert_int_equal(ebpf_ring_buffer_view_consume(view, collect, &c), round == 0 ? 3 : 2);
        assert_int_equal(c.pattern_errors, 0);
        assert_int_equal(c.sizes[c.count - 1], size);
        assert_int_equal(c.first_bytes[c.count - 1], (uint8_t)(round * 3));
        /* The consumer position is shared: the ring sees what the view consumed. */
        assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_AVAIL_DATA), 0);
    }
    const uint8_t *base = ebpf_ring_buffer_view_base(view);
    uint64_t shared_consumer;
    memcpy(&shared_consumer, base, sizeof(shared_consumer));
    assert_int_equal(shared_consumer, ebpf_ring_buffer_query(ring, BPF_RB_CONS_POS));

    /* The view's wake-up protocol reaches the ring's producers. */
    assert_false(ebpf_ring_buffer_view_wait_prepare(view));
    assert_int_equal(ebpf_ring_buffer_output(ring, payload, 8, 0), 0);
    assert_true(readable(ebpf_ring_buffer_wakeup_fd(ring)));
    ebpf_ring_buffer_view_wait_finish(view);
    assert_false(readable(ebpf_ring_buffer_wakeup_fd(ring)));
    assert_true(ebpf_ring_buffer_view_wait_prepare(view));
    ebpf_ring_buffer_view_close(view);
    ebpf_ring_buffer_view_close(NULL);

    /* A view outlives the ring if it keeps its own fd. */
    int kept = dup(memory_fd);
    assert_true(kept >= 0);
    assert_int_equal(ebpf_ring_buffer_view_open(kept, -1, &view), 0);
    ebpf_ring_buffer_destroy(ring);
    collected_t c = {0};
    assert_int_equal(ebpf_ring_buffer_view_consume(view, collect, &c), 1);
    ebpf_ring_buffer_view_close(view);
    close(kept);
}

static void test_view_rejects_foreign_fds(void **state)
{
    ebpf_ring_buffer_view_t *view = (ebpf_ring_buffer_view_t *)1;
    ebpf_ring_buffer_t *ring = make_ring(PAGE);
    int64_t outstanding = ebpf_allocation_outstanding();

    /* An eventfd is no ring memory. */
    assert_true(ebpf_ring_buffer_view_open(ebpf_ring_buffer_wakeup_fd(ring), -1, &view) < 0);
    assert_null(view);
    /* A memfd whose data area is not a power of two. */
    int fd = memfd_create("not_a_ring", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 2 * PAGE + 3 * PAGE), 0);
    assert_int_equal(ebpf_ring_buffer_view_open(fd, -1, &view), -EINVAL);
    assert_int_equal(ftruncate(fd, PAGE), 0);
    assert_int_equal(ebpf_ring_buffer_view_open(fd, -1, &view), -EINVAL);
    assert_int_equal(ebpf_ring_buffer_view_open(-1, -1, &view), -EBADF);
    close(fd);
    assert_int_equal(ebpf_allocation_outstanding(), outstanding);
    ebpf_ring_buffer_destroy(ring);
}

static int count_and_continue(void *context, void *data, size_t size)
{
    (*(int *)context)++;
    return 0;
}

static void test_corrupted_shared_memory_is_contained(void **state)
{
    ebpf_ring_buffer_t *ring = make_ring(PAGE);
    int memory_fd = ebpf_ring_buffer_memory_fd(ring);
    uint8_t *file = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memory_fd, 0);
    uint8_t payload[64] = {0};
    int seen = 0;

    assert_true(file != MAP_FAILED);
    assert_int_equal(ebpf_ring_buffer_output(ring, payload, 64, 0), 0);
    /* A foreign writer claims a record longer than what was produced. */
    uint32_t huge = 5000;
    memcpy(file + 2 * PAGE, &huge, sizeof(huge));
    assert_int_equal(ebpf_ring_buffer_consume(ring, count_and_continue, &seen), -EBADMSG);
    assert_int_equal(seen, 0);

    /* A consumer position moved past busy records must not let producers overwrite them. */
    munmap(file, 3 * PAGE);
    ebpf_ring_buffer_destroy(ring);
    ring = make_ring(PAGE);
    memory_fd = ebpf_ring_buffer_memory_fd(ring);
    file = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memory_fd, 0);
    assert_true(file != MAP_FAILED);
    uint8_t *held = ebpf_ring_buffer_reserve(ring, 2000, 0);
    assert_non_null(held);
    uint64_t forged = 2008;
    memcpy(file, &forged, sizeof(forged)); /* "consumed" the busy record */
    assert_null(ebpf_ring_buffer_reserve(ring, 2100, 0));
    assert_int_equal(ebpf_ring_buffer_dropped(ring), 1);
    uint64_t behind = 0;
    memcpy(file, &behind, sizeof(behind));
    ebpf_ring_buffer_submit(ring, held, 0);
    assert_int_equal(ebpf_ring_buffer_consume(ring, count_and_continue, &seen), 1);
    munmap(file, 3 * PAGE);
    ebpf_ring_buffer_destroy(ring);
}

static void test_creation_faults_leak_nothing(void **state)
{
    const char *sites[64];
    size_t site_count;
    ebpf_ring_buffer_t *ring;
    ebpf_ring_buffer_view_t *view;
    int64_t outstanding = ebpf_allocation_outstanding();
    int fds = open_fd_count();

    ebpf_fault_record_sites(true);
    ring = make_ring(PAGE);
    assert_int_equal(ebpf_ring_buffer_view_open(ebpf_ring_buffer_memory_fd(ring), -1, &view), 0);
    ebpf_ring_buffer_view_close(view);
    ebpf_ring_buffer_destroy(ring);
    site_count = ebpf_fault_sites(sites, EBPF_ARRAY_SIZE(sites));
    ebpf_fault_record_sites(false);
    assert_true(site_count >= 2);

    for (size_t i = 0; i < site_count; i++) {
        uint64_t injected = ebpf_fault_injected_count();
        int err;
        ebpf_fault_fail_site(sites[i]);
        err = ebpf_ring_buffer_create(PAGE, &ring);
        if (err == 0) {
            /* This site belongs to the view. */
            assert_int_equal(
                ebpf_ring_buffer_view_open(ebpf_ring_buffer_memory_fd(ring), -1, &view), -ENOMEM);
            assert_null(view);
            ebpf_ring_buffer_destroy(ring);
        } else {
            assert_int_equal(err, -ENOMEM);
            assert_null(ring);
        }
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
        cmocka_unit_test(test_create_rejects_bad_sizes),
        cmocka_unit_test(test_record_format),
        cmocka_unit_test(test_wrap_around_is_contiguous),
        cmocka_unit_test(test_consumer_order_busy_and_discard),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_full_ring_drops_and_counts),
        cmocka_unit_test(test_sizes_and_flags_that_never_fit),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_wakeup_flags),
        cmocka_unit_test(test_second_mapping_reads_records),
        cmocka_unit_test(test_view_rejects_foreign_fds),
        cmocka_unit_test(test_corrupted_shared_memory_is_contained),
        cmocka_unit_test(test_creation_faults_leak_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
