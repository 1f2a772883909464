/* Tests of a ring buffer consumer in another process: it maps the ring from its memfd, cannot
 * reach the producers with its membarrier, and so bounds its sleeps; it still gets every
 * record, in order. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/bpf.h>

#include "ebpf_platform.h"
#include "ring_buffer.h"

#define RECORDS 2000

typedef struct child_state {
    uint32_t next;
    bool out_of_order;
} child_state_t;

static int check_sequence(void *context, void *data, size_t size)
{
    child_state_t *state = context;
    uint32_t value;
    if (size != sizeof(value))
        return -EIO;
    memcpy(&value, data, sizeof(value));
    if (value != state->next)
        state->out_of_order = true;
    state->next = value + 1;
    return 0;
}

/* The child: exit status 0 when every record came in order, else a code saying what failed. */
static int consume_in_child(int memory_fd, int wakeup_fd, int expected_limit)
{
    ebpf_ring_buffer_view_t *view;
    child_state_t state = {0};

    alarm(60); /* a consumer that never wakes fails instead of hanging the test */
    if (ebpf_ring_buffer_view_open(memory_fd, wakeup_fd, &view) != 0)
        return 10;
    if (ebpf_ring_buffer_view_sleep_limit_ms(view) != expected_limit)
        return 11;
    while (state.next < RECORDS) {
        int consumed = ebpf_ring_buffer_view_consume(view, check_sequence, &state);
        if (consumed < 0)
            return 12;
        if (consumed > 0 || ebpf_ring_buffer_view_wait_prepare(view))
            continue;
        struct pollfd descriptor = {.fd = wakeup_fd, .events = POLLIN};
        int limit = ebpf_ring_buffer_view_sleep_limit_ms(view);
        poll(&descriptor, 1, limit >= 0 ? limit : 10000);
        ebpf_ring_buffer_view_wait_finish(view);
    }
    ebpf_ring_buffer_view_close(view);
    return state.out_of_order ? 13 : 0;
}

static void test_consumer_in_another_process(void **state)
{
    ebpf_ring_buffer_t *ring;
    ebpf_ring_buffer_view_t *local_view;

    assert_int_equal(ebpf_ring_buffer_create(16 * 1024, &ring), 0);
    int memory_fd = ebpf_ring_buffer_memory_fd(ring);
    int wakeup_fd = ebpf_ring_buffer_wakeup_fd(ring);
    /* In this process the consumer's membarrier reaches the producers: no bound. */
    assert_int_equal(ebpf_ring_buffer_view_open(memory_fd, wakeup_fd, &local_view), 0);
    assert_int_equal(ebpf_ring_buffer_view_sleep_limit_ms(local_view), -1);
    ebpf_ring_buffer_view_close(local_view);

    int expected_limit = ebpf_fence_is_asymmetric() ? EBPF_RING_BUFFER_UNORDERED_SLEEP_MS : -1;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(consume_in_child(memory_fd, wakeup_fd, expected_limit));

    /* Bursts with pauses, so the child sleeps between them; retried while the ring is full. */
    for (uint32_t i = 0; i < RECORDS; i++) {
        while (ebpf_ring_buffer_output(ring, &i, sizeof(i), 0) != 0) {
            struct timespec pause = {0, 100000};
            nanosleep(&pause, NULL);
        }
        if (i % 64 == 63) {
            struct timespec pause = {0, 300000};
            nanosleep(&pause, NULL);
        }
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(ebpf_ring_buffer_query(ring, BPF_RB_AVAIL_DATA), 0);
    ebpf_ring_buffer_destroy(ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consumer_in_another_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
