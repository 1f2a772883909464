/* Concurrency of the core: programs invoked from several threads while user space deletes map
 * elements and consumes the ring buffer. Bounded; meant for ThreadSanitizer too. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core_test_type.h"
#include "ebpf_core.h"
#include "ebpf_map.h"
#include "ebpf_object.h"
#include "ebpf_platform.h"

#define PRODUCERS       3
#define RUNS_PER_THREAD 20000

typedef struct shared {
    ebpf_program_t *ring_sequence;
    ebpf_program_t *table_touch;
    _Atomic uint64_t produced;
    _Atomic uint64_t failed_reserves;
    _Atomic int producers_done;
    _Atomic uint64_t errors;
} shared_t;

typedef struct producer {
    shared_t *shared;
    uint32_t tag;
} producer_t;

static void *produce(void *argument)
{
    producer_t *producer = argument;
    shared_t *shared = producer->shared;
    uint8_t packet[4] = {0};
    for (uint32_t sequence = 0; sequence < RUNS_PER_THREAD; sequence++) {
        core_test_context_t context = {
            .data = (uint64_t)(uintptr_t)packet,
            .data_end = (uint64_t)(uintptr_t)(packet + sizeof(packet)),
            .value = (uint64_t)producer->tag << 32 | sequence,
        };
        uint64_t result;
        if (ebpf_program_invoke(shared->ring_sequence, &context, &result) != 0)
            atomic_fetch_add(&shared->errors, 1);
        else if (result == 0)
            atomic_fetch_add(&shared->produced, 1);
        else
            atomic_fetch_add(&shared->failed_reserves, 1);
        context.value = sequence;
        if (ebpf_program_invoke(shared->table_touch, &context, &result) != 0)
            atomic_fetch_add(&shared->errors, 1);
    }
    atomic_fetch_add(&shared->producers_done, 1);
    return NULL;
}

typedef struct consumer_state {
    uint32_t next[PRODUCERS]; /* next sequence expected per producer */
    uint64_t consumed;
    uint64_t out_of_order;
    uint64_t torn;
} consumer_state_t;

static int check_record(void *context, void *data, size_t size)
{
    consumer_state_t *state = context;
    uint64_t record[2];
    if (size != sizeof(record)) {
        state->torn++;
        return 0;
    }
    memcpy(record, data, sizeof(record));
    if (record[1] != ~record[0])
        state->torn++;
    uint32_t tag = (uint32_t)(record[0] >> 32), sequence = (uint32_t)record[0];
    if (tag >= PRODUCERS || sequence < state->next[tag])
        state->out_of_order++;
    else
        state->next[tag] = sequence + 1;
    state->consumed++;
    return 0;
}

static void test_invocations_race_user_space(void **state)
{
    ebpf_elf_object_t *elf;
    ebpf_object_t *object;
    shared_t shared = {0};
    producer_t producers[PRODUCERS];
    pthread_t threads[PRODUCERS];
    consumer_state_t consumer = {0};

    assert_int_equal(ebpf_elf_open_file(CORE_PROGRAMS_OBJECT, &elf), 0);
    assert_int_equal(core_test_load_object(elf, false, &object), 0);
    shared.ring_sequence = ebpf_object_find_program(object, elf, "ring_sequence");
    shared.table_touch = ebpf_object_find_program(object, elf, "table_touch");
    ebpf_map_t *table = ebpf_object_find_map(object, elf, "table");
    ebpf_ring_buffer_t *ring =
        ebpf_map_get_ring_buffer(ebpf_object_find_map(object, elf, "events"));
    assert_non_null(ring);

    for (uint32_t i = 0; i < PRODUCERS; i++) {
        producers[i] = (producer_t){&shared, i};
        assert_int_equal(pthread_create(&threads[i], NULL, produce, &producers[i]), 0);
    }
    /* Consume and delete while the producers run. */
    unsigned seed = 1;
    while (atomic_load(&shared.producers_done) < PRODUCERS) {
        assert_true(ebpf_ring_buffer_consume(ring, check_record, &consumer) >= 0);
        uint32_t key = (uint32_t)rand_r(&seed) % 8;
        int rc = ebpf_map_delete_user(table, &key);
        assert_true(rc == 0 || rc == -ENOENT);
    }
    for (uint32_t i = 0; i < PRODUCERS; i++)
        pthread_join(threads[i], NULL);
    assert_true(ebpf_ring_buffer_consume(ring, check_record, &consumer) >= 0);

    assert_int_equal(atomic_load(&shared.errors), 0);
    assert_int_equal(consumer.torn, 0);
    assert_int_equal(consumer.out_of_order, 0);
    /* Nothing lost beyond the counted drops. */
    assert_int_equal(consumer.consumed, atomic_load(&shared.produced));
    assert_int_equal(atomic_load(&shared.produced) + atomic_load(&shared.failed_reserves),
                     (uint64_t)PRODUCERS * RUNS_PER_THREAD);
    assert_int_equal(ebpf_ring_buffer_dropped(ring), atomic_load(&shared.failed_reserves));
    print_message("consumed %llu records, %llu counted drops\n",
                  (unsigned long long)consumer.consumed,
                  (unsigned long long)atomic_load(&shared.failed_reserves));

    ebpf_object_unload(object);
    ebpf_elf_free(elf);
    ebpf_epoch_drain();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invocations_race_user_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
