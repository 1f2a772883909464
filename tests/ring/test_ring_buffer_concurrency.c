/* Concurrent tests of the ring buffer engine: many producers and a sleeping consumer, no loss, no
 * tear. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include "ebpf_platform.h"
#include "ring_buffer.h"

#define PRODUCERS          3
#define RECORDS_PER_THREAD 20000
#define MAX_PAYLOAD        200
#define TERMINATOR         UINT32_MAX

typedef struct sample {
    uint32_t producer;
    uint32_t sequence;  /* TERMINATOR for the last record of a producer */
    uint32_t length;    /* payload bytes after this header */
    uint32_t discarded; /* 1 in records that are discarded: the consumer must never see them */
} sample_t;

typedef struct producer_state {
    ebpf_ring_buffer_t *ring;
    uint32_t id;
    /* Written by the producer thread only, read after join. */
    uint64_t submitted, dropped, discarded;
    uint64_t terminator_drops; /* the part of dropped spent retrying the terminator */
} producer_state_t;

static uint8_t pattern_byte(uint32_t producer, uint32_t sequence, uint32_t i)
{
    return (uint8_t)(producer * 31 + sequence * 7 + i);
}

static uint32_t payload_length(uint32_t producer, uint32_t sequence)
{
    return (sequence * 13 + producer * 5) % (MAX_PAYLOAD + 1);
}

static void fill(uint8_t *record, uint32_t producer, uint32_t sequence, bool discarded)
{
    sample_t header = {producer, sequence, payload_length(producer, sequence), discarded};
    memcpy(record, &header, sizeof(header));
    for (uint32_t i = 0; i < header.length; i++)
        record[sizeof(header) + i] = pattern_byte(producer, sequence, i);
}

static void *produce(void *argument)
{
    producer_state_t *state = argument;
    uint8_t buffer[sizeof(sample_t) + MAX_PAYLOAD];

    for (uint32_t sequence = 0; sequence < RECORDS_PER_THREAD; sequence++) {
        size_t size = sizeof(sample_t) + payload_length(state->id, sequence);
        if (sequence % 3 == 0) {
            fill(buffer, state->id, sequence, false);
            if (ebpf_ring_buffer_output(state->ring, buffer, size, 0) == 0) {
                state->submitted++;
            } else {
                state->dropped++;
                sched_yield(); /* let the consumer catch up, so most records get through */
            }
        } else {
            bool discard = sequence % 7 == 2;
            uint8_t *record = ebpf_ring_buffer_reserve(state->ring, size, 0);
            if (record == NULL) {
                state->dropped++;
                sched_yield();
                continue;
            }
            fill(record, state->id, sequence, discard);
            if (discard) {
                ebpf_ring_buffer_discard(state->ring, record, 0);
                state->discarded++;
            } else {
                ebpf_ring_buffer_submit(state->ring, record, 0);
                state->submitted++;
            }
        }
    }
    /* The terminator must get through: retry while full (each try is a counted drop). */
    sample_t last = {state->id, TERMINATOR, 0, 0};
    while (ebpf_ring_buffer_output(state->ring, &last, sizeof(last), BPF_RB_FORCE_WAKEUP) != 0) {
        state->dropped++;
        state->terminator_drops++;
        sched_yield();
    }
    return NULL;
}

typedef struct consumer_state {
    int64_t next_sequence[PRODUCERS]; /* smallest sequence still acceptable */
    uint64_t received[PRODUCERS];
    int terminators;
    uint64_t errors; /* torn, out of order, discarded or unknown records */
} consumer_state_t;

static int check_record(void *context, void *data, size_t size)
{
    consumer_state_t *state = context;
    const uint8_t *bytes = data;
    sample_t header;

    if (size < sizeof(header)) {
        state->errors++;
        return 0;
    }
    memcpy(&header, bytes, sizeof(header));
    if (header.producer >= PRODUCERS || header.discarded != 0) {
        state->errors++;
        return 0;
    }
    if (header.sequence == TERMINATOR) {
        state->terminators++;
        return 0;
    }
    if ((int64_t)header.sequence < state->next_sequence[header.producer] ||
        header.length != payload_length(header.producer, header.sequence) ||
        size != sizeof(header) + header.length) {
        state->errors++;
        return 0;
    }
    for (uint32_t i = 0; i < header.length; i++)
        if (bytes[sizeof(header) + i] != pattern_byte(header.producer, header.sequence, i))
            state->errors++;
    state->next_sequence[header.producer] = (int64_t)header.sequence + 1;
    state->received[header.producer]++;
    return 0;
}

static void test_producers_and_sleeping_consumer(void **state)
{
    ebpf_ring_buffer_t *ring = NULL;
    pthread_t threads[PRODUCERS];
    producer_state_t producers[PRODUCERS];
    consumer_state_t consumer = {0};
    uint64_t dropped = 0, received = 0, sleeps = 0;

    assert_int_equal(ebpf_ring_buffer_create(64 * 1024, &ring), 0);
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        producers[i] = (producer_state_t){.ring = ring, .id = i};
        assert_int_equal(pthread_create(&threads[i], NULL, produce, &producers[i]), 0);
    }
    /* Sleeps with no timeout: a lost wake-up hangs here and fails by the test's time limit. */
    while (consumer.terminators < PRODUCERS) {
        int consumed = ebpf_ring_buffer_consume(ring, check_record, &consumer);
        assert_true(consumed >= 0);
        if (consumed == 0) {
            assert_true(ebpf_ring_buffer_wait(ring, -1) >= 0);
            sleeps++;
        }
    }
    for (uint32_t i = 0; i < PRODUCERS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    /* Nothing after the terminators. */
    assert_int_equal(ebpf_ring_buffer_consume(ring, check_record, &consumer), 0);

    assert_int_equal(consumer.errors, 0);
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        /* Exactly what was submitted arrived; every attempt is accounted for. */
        assert_int_equal(consumer.received[i], producers[i].submitted);
        assert_int_equal(producers[i].submitted + producers[i].discarded +
                             (producers[i].dropped - producers[i].terminator_drops),
                         RECORDS_PER_THREAD);
        dropped += producers[i].dropped;
        received += consumer.received[i];
    }
    assert_int_equal(ebpf_ring_buffer_dropped(ring), dropped);
    assert_true(received > 0);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_AVAIL_DATA), 0);
    print_message("received %llu, dropped %llu, consumer slept %llu times\n",
                  (unsigned long long)received, (unsigned long long)dropped,
                  (unsigned long long)sleeps);
    ebpf_ring_buffer_destroy(ring);
}

#define PING_PONG_ROUNDS 2000

typedef struct ping_pong {
    ebpf_ring_buffer_t *ring;
    /* Records the consumer has taken; the producer waits for it before the next record, so
     * every commit meets a consumer that is about to sleep or asleep. */
    _Atomic uint32_t acknowledged;
} ping_pong_t;

static void *ping(void *argument)
{
    ping_pong_t *game = argument;
    for (uint32_t round = 0; round < PING_PONG_ROUNDS; round++) {
        while (atomic_load_explicit(&game->acknowledged, memory_order_acquire) < round)
            sched_yield();
        /* Alternate output and reserve/submit, both with default wake-up. */
        if (round % 2 == 0) {
            if (ebpf_ring_buffer_output(game->ring, &round, sizeof(round), 0) != 0)
                return (void *)1;
        } else {
            uint32_t *record = ebpf_ring_buffer_reserve(game->ring, sizeof(round), 0);
            if (record == NULL)
                return (void *)1;
            *record = round;
            ebpf_ring_buffer_submit(game->ring, record, 0);
        }
    }
    return NULL;
}

static int take_round(void *context, void *data, size_t size)
{
    uint32_t *expected = context;
    uint32_t value;
    memcpy(&value, data, sizeof(value));
    if (size != sizeof(value) || value != *expected)
        return -1;
    (*expected)++;
    return 0;
}

static void test_every_commit_wakes_a_sleeping_consumer(void **state)
{
    ping_pong_t game = {0};
    pthread_t thread;
    uint32_t expected = 0;
    void *result;

    assert_int_equal(ebpf_ring_buffer_create(4096, &game.ring), 0);
    assert_int_equal(pthread_create(&thread, NULL, ping, &game), 0);
    while (expected < PING_PONG_ROUNDS) {
        int consumed = ebpf_ring_buffer_consume(game.ring, take_round, &expected);
        assert_true(consumed >= 0);
        if (consumed == 0)
            assert_true(ebpf_ring_buffer_wait(game.ring, -1) >= 0);
        atomic_store_explicit(&game.acknowledged, expected, memory_order_release);
    }
    assert_int_equal(pthread_join(thread, &result), 0);
    assert_null(result);
    assert_int_equal(expected, PING_PONG_ROUNDS);
    assert_int_equal(ebpf_ring_buffer_dropped(game.ring), 0);
    ebpf_ring_buffer_destroy(game.ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_producers_and_sleeping_consumer),
        cmocka_unit_test(test_every_commit_wakes_a_sleeping_consumer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
