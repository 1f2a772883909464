/* Hash maps under programs that replace keys inside one long read section (test-run repeat). */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "ebpf_core.h"
#include "map_hash.h"
#include "map_test_common.h"

#define KEYS 64 /* every map below is full: all keys present, updates only replace */
/* A million replaces in one test-run for every kind; under a sanitizer (an interpreter 10 to
 * 30 times slower) the million for the preallocated plain hash and a tenth for the others:
 * the swap with the claim's spare is steady after a few dozen runs. */
#define REPLACES 1000000u
#if defined(EBPF_SANITIZER_THREAD) || defined(EBPF_SANITIZER_ADDRESS)
#define OTHER_REPLACES (REPLACES / 10)
#else
#define OTHER_REPLACES REPLACES
#endif
#if defined(EBPF_SANITIZER_THREAD)
#define CONCURRENT_RUNS 20000
#else
#define CONCURRENT_RUNS 200000
#endif

/* The value every program writes: a reader that mixes two values, or reads another key's
 * value, sees key or check disagree. */
typedef struct replace_value {
    uint64_t key;
    uint64_t count;
    uint64_t check; /* key ^ count */
} replace_value_t;

/* ---- a minimal program type with test-run support (no packet, 8-byte context) ---- */

static int context_create(const uint8_t *data_in, size_t data_size_in, const uint8_t *context_in,
                          size_t context_size_in, void **context)
{
    *context = ebpf_allocate(sizeof(uint64_t));
    return *context == NULL ? -ENOMEM : 0;
}

static void context_destroy(void *context, uint8_t *data_out, size_t *data_size_out,
                            uint8_t *context_out, size_t *context_size_out)
{
    *data_size_out = 0;
    *context_size_out = 0;
    ebpf_free(context);
}

static const ebpf_context_descriptor_t context_descriptor = {
    EBPF_EXTENSION_HEADER(EBPF_CONTEXT_DESCRIPTOR_VERSION, ebpf_context_descriptor_t),
    sizeof(uint64_t), -1, -1, -1};
static const ebpf_program_type_descriptor_t type_descriptor = {
    .header =
        EBPF_EXTENSION_HEADER(EBPF_PROGRAM_TYPE_DESCRIPTOR_VERSION, ebpf_program_type_descriptor_t),
    .name = "hash_replace_test",
    .context_descriptor = &context_descriptor,
    .program_type = {0x4a5b6c7d, 2, 3, {4, 5, 6, 7, 8, 9, 10, 11}},
    .bpf_prog_type = 1001,
};
static const ebpf_program_info_t program_info = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_INFO_VERSION, ebpf_program_info_t),
    .program_type_descriptor = &type_descriptor,
};
static const ebpf_program_data_t program_data = {
    .header = EBPF_EXTENSION_HEADER(EBPF_PROGRAM_DATA_VERSION, ebpf_program_data_t),
    .program_info = &program_info,
    .context_create = context_create,
    .context_destroy = context_destroy,
};

/* ---- programs, as raw instructions ---- */

#define INSN(code_, dst_, src_, off_, imm_)                                                        \
    ((struct bpf_insn){                                                                            \
        .code = (code_), .dst_reg = (dst_), .src_reg = (src_), .off = (off_), .imm = (imm_)})
#define MOV_IMM(dst, imm)            INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define MOV_REG(dst, src)            INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define ADD_IMM(dst, imm)            INSN(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm)
#define AND_IMM(dst, imm)            INSN(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define XOR_REG(dst, src)            INSN(BPF_ALU64 | BPF_XOR | BPF_X, dst, src, 0, 0)
#define LOAD(size, dst, src, o)      INSN(BPF_LDX | BPF_MEM | (size), dst, src, o, 0)
#define STORE(size, dst, o, src)     INSN(BPF_STX | BPF_MEM | (size), dst, src, o, 0)
#define STORE_IMM(size, dst, o, imm) INSN(BPF_ST | BPF_MEM | (size), dst, 0, o, imm)
#define JEQ_IMM(dst, imm, o)         INSN(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, o, imm)
#define CALL(helper)                 INSN(BPF_JMP | BPF_CALL, 0, 0, 0, helper)
#define EXIT()                       INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* Map number index of the program's map table (two instructions). */
#define LOAD_MAP(dst, index)                                                                       \
    INSN(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, index), INSN(0, 0, 0, 0, 0)
#define FP BPF_REG_10

/* Stack: key (u32) at fp-4, the value at fp-32. Maps: 0 the hash, 1 a per-CPU array whose
 * element 0 counts failed updates (plain increments are exact under a CPU claim). */
#define COUNT_FAILURE_AND_EXIT                                                                     \
    JEQ_IMM(BPF_REG_0, 0, 10), STORE_IMM(BPF_W, FP, -4, 0), LOAD_MAP(BPF_REG_1, 1),                \
        MOV_REG(BPF_REG_2, FP), ADD_IMM(BPF_REG_2, -4), CALL(BPF_FUNC_map_lookup_elem),            \
        JEQ_IMM(BPF_REG_0, 0, 3), LOAD(BPF_DW, BPF_REG_1, BPF_REG_0, 0), ADD_IMM(BPF_REG_1, 1),    \
        STORE(BPF_DW, BPF_REG_0, 0, BPF_REG_1), MOV_IMM(BPF_REG_0, 0), EXIT()

/* A random key's value becomes {key, count + 1, check}: read through the lookup pointer, then
 * replaced with BPF_EXIST. Only for one thread: the read would race with a writer on another
 * thread reusing the element as its spare (the documented reuse). */
static const struct bpf_insn increment_program[] = {
    CALL(BPF_FUNC_get_prandom_u32),
    AND_IMM(BPF_REG_0, KEYS - 1),
    MOV_REG(BPF_REG_7, BPF_REG_0),
    STORE(BPF_W, FP, -4, BPF_REG_7),
    LOAD_MAP(BPF_REG_1, 0),
    MOV_REG(BPF_REG_2, FP),
    ADD_IMM(BPF_REG_2, -4),
    CALL(BPF_FUNC_map_lookup_elem),
    JEQ_IMM(BPF_REG_0, 0, 15), /* absent: to "r0 = 1" */
    LOAD(BPF_DW, BPF_REG_1, BPF_REG_0, 8),
    ADD_IMM(BPF_REG_1, 1),
    STORE(BPF_DW, FP, -32, BPF_REG_7),
    STORE(BPF_DW, FP, -24, BPF_REG_1),
    XOR_REG(BPF_REG_1, BPF_REG_7),
    STORE(BPF_DW, FP, -16, BPF_REG_1),
    LOAD_MAP(BPF_REG_1, 0),
    MOV_REG(BPF_REG_2, FP),
    ADD_IMM(BPF_REG_2, -4),
    MOV_REG(BPF_REG_3, FP),
    ADD_IMM(BPF_REG_3, -32),
    MOV_IMM(BPF_REG_4, BPF_EXIST),
    CALL(BPF_FUNC_map_update_elem),
    INSN(BPF_JMP | BPF_JA, 0, 0, 1, 0),
    MOV_IMM(BPF_REG_0, 1),
    COUNT_FAILURE_AND_EXIT,
};

/* A random key gets {key, random, check} with BPF_EXIST, without reading any value. */
static const struct bpf_insn stamp_program[] = {
    CALL(BPF_FUNC_get_prandom_u32),
    AND_IMM(BPF_REG_0, KEYS - 1),
    MOV_REG(BPF_REG_7, BPF_REG_0),
    STORE(BPF_W, FP, -4, BPF_REG_7),
    CALL(BPF_FUNC_get_prandom_u32),
    STORE(BPF_DW, FP, -32, BPF_REG_7),
    STORE(BPF_DW, FP, -24, BPF_REG_0),
    XOR_REG(BPF_REG_0, BPF_REG_7),
    STORE(BPF_DW, FP, -16, BPF_REG_0),
    LOAD_MAP(BPF_REG_1, 0),
    MOV_REG(BPF_REG_2, FP),
    ADD_IMM(BPF_REG_2, -4),
    MOV_REG(BPF_REG_3, FP),
    ADD_IMM(BPF_REG_3, -32),
    MOV_IMM(BPF_REG_4, BPF_EXIST),
    CALL(BPF_FUNC_map_update_elem),
    COUNT_FAILURE_AND_EXIT,
};

typedef struct fixture {
    ebpf_map_t *map;
    ebpf_map_t *failures;
    ebpf_program_t *program;
} fixture_t;

static const uint32_t hash_types[] = {BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH,
                                      BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH};

static bool is_percpu(uint32_t type)
{
    return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* The map (full: every key {key, 0, key}), the failure counter and the program over both. */
static fixture_t load(uint32_t type, uint32_t flags, const struct bpf_insn *instructions,
                      uint32_t count)
{
    uint32_t cpus = is_percpu(type) ? user_cpu_count() : 1;
    replace_value_t *values = test_calloc(cpus, sizeof(*values));
    fixture_t fixture = {
        .map = create_map(type, sizeof(uint32_t), sizeof(replace_value_t), KEYS, flags),
        .failures = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(uint32_t), 8, 1, 0),
    };
    ebpf_map_t *maps[] = {fixture.map, fixture.failures};
    ebpf_program_load_parameters_t parameters = {
        .name = "replace",
        .instructions = instructions,
        .instruction_count = count,
        .maps = maps,
        .map_count = 2,
        .program_data = &program_data,
    };

    for (uint32_t key = 0; key < KEYS; key++) {
        for (uint32_t cpu = 0; cpu < cpus; cpu++)
            values[cpu] = (replace_value_t){key, 0, key};
        assert_int_equal(0, ebpf_map_update_user(fixture.map, &key, values, BPF_NOEXIST));
    }
    test_free(values);
    if (ebpf_program_create(&parameters, &fixture.program) != 0)
        fail_msg("program: %s", ebpf_last_error());
    return fixture;
}

static void unload(fixture_t *fixture)
{
    ebpf_program_release(fixture->program);
    ebpf_map_release(fixture->failures);
    ebpf_map_release(fixture->map);
    drain_deferred();
}

static void test_run(fixture_t *fixture, uint32_t repeat)
{
    ebpf_test_run_options_t options = {.repeat = repeat};
    if (ebpf_program_test_run(fixture->program, &options) != 0)
        fail_msg("test run: %s", ebpf_last_error());
    assert_int_equal(0, options.retval);
}

static uint64_t failed_updates(fixture_t *fixture)
{
    uint32_t cpus = user_cpu_count(), key = 0;
    uint64_t *counts = test_calloc(cpus, sizeof(uint64_t)), total = 0;

    assert_int_equal(0, ebpf_map_lookup_user(fixture->failures, &key, counts, 0));
    for (uint32_t cpu = 0; cpu < cpus; cpu++)
        total += counts[cpu];
    test_free(counts);
    return total;
}

/* Every key present once, with whole values (every CPU's slot of per-CPU ones); returns the
 * sum of their counts. */
static uint64_t check_contents(fixture_t *fixture, uint32_t type)
{
    uint32_t cpus = is_percpu(type) ? user_cpu_count() : 1, key, next, keys = 0;
    replace_value_t *values = test_calloc(cpus, sizeof(*values));
    uint64_t total = 0;
    bool seen[KEYS] = {false};

    for (int err = ebpf_map_get_next_key(fixture->map, NULL, &next); err == 0;
         err = ebpf_map_get_next_key(fixture->map, &key, &next)) {
        key = next;
        assert_true(key < KEYS);
        assert_false(seen[key]);
        seen[key] = true;
        keys++;
    }
    assert_int_equal(KEYS, keys);
    for (key = 0; key < KEYS; key++) {
        assert_int_equal(0, ebpf_map_lookup_user(fixture->map, &key, values, 0));
        for (uint32_t cpu = 0; cpu < cpus; cpu++) {
            assert_int_equal(key, values[cpu].key);
            assert_int_equal(key ^ values[cpu].count, values[cpu].check);
            total += values[cpu].count;
        }
    }
    test_free(values);
    return total;
}

/* The elements the map's pool holds: never more than the preallocated size, which only a
 * growing pool could pass (it carves the spares of the claims it sees on top, as it goes). */
static void check_footprint(fixture_t *fixture)
{
    ebpf_hash_table_t *table = (ebpf_hash_table_t *)fixture->map;
    uint64_t limit = table->carve_limit + (table->pool.grows ? user_cpu_count() : 0);
    assert_true(ebpf_element_pool_carved(&table->pool) <= limit);
}

/* ---------------------------------------------------------------------------------------- */

/* One test-run of a million runs, each replacing one key: before the claims' spares, the
 * elements the first runs replaced could not return before the call's read section ended and
 * the runs after the extra elements failed with -ENOMEM. */
static void test_million_replaces_in_one_test_run(void **state)
{
    int64_t start = settled_outstanding();

    for (size_t t = 0; t < EBPF_ARRAY_SIZE(hash_types); t++) {
        uint32_t flags[] = {0, BPF_F_NO_PREALLOC};
        bool lru =
            hash_types[t] == BPF_MAP_TYPE_LRU_HASH || hash_types[t] == BPF_MAP_TYPE_LRU_PERCPU_HASH;
        for (size_t f = 0; f < (lru ? 1u : 2u); f++) {
            fixture_t fixture = load(hash_types[t], flags[f], increment_program,
                                     EBPF_ARRAY_SIZE(increment_program));
            uint32_t replaces =
                hash_types[t] == BPF_MAP_TYPE_HASH && f == 0 ? REPLACES : OTHER_REPLACES;
            test_run(&fixture, replaces);
            assert_int_equal(0, failed_updates(&fixture));
            /* Every run found its key and replaced it: the counts add up to the runs. */
            assert_int_equal(replaces, check_contents(&fixture, hash_types[t]));
            check_footprint(&fixture);
            unload(&fixture);
        }
    }
    assert_int_equal(start, ebpf_allocation_outstanding());
}

/* ---------------------------------------------------------------------------------------- */
/* Two threads replace the same keys by test-run (long sections, so replaces swap with the
 * claims' spares) while a third looks them up from user space. */

typedef struct reader {
    ebpf_map_t *map;
    bool percpu;
    _Atomic bool stop;
    _Atomic bool started;          /* the writers start after the reader's first lookup */
    _Atomic uint32_t writers_done; /* lookups count while fewer than 2 */
    uint64_t lookups;              /* made while the writers ran */
    uint64_t missing;              /* a key that is always present was not found */
    uint64_t mixed;                /* a value that is not one whole value of the key */
} reader_t;

static void *reader_thread(void *context)
{
    reader_t *reader = context;
    uint32_t cpus = reader->percpu ? user_cpu_count() : 1, seed = 12345;
    replace_value_t *values = calloc(cpus, sizeof(*values));

    while (!atomic_load(&reader->stop)) {
        seed = seed * 1103515245u + 12345u;
        uint32_t key = (seed >> 16) % KEYS;
        if (ebpf_map_lookup_user(reader->map, &key, values, 0) != 0) {
            reader->missing++;
            continue;
        }
        atomic_store(&reader->started, true);
        if (atomic_load(&reader->writers_done) < 2)
            reader->lookups++;
        /* Per-CPU values change in place (as Linux): only the key is checked there. */
        for (uint32_t cpu = 0; cpu < cpus; cpu++)
            if (values[cpu].key != key ||
                (!reader->percpu && values[cpu].check != (key ^ values[cpu].count)))
                reader->mixed++;
    }
    free(values);
    return NULL;
}

typedef struct writer {
    pthread_t thread;
    fixture_t *fixture;
    reader_t *reader;
    int rc;
    uint32_t retval;
} writer_t;

static void *writer_thread(void *context)
{
    writer_t *writer = context;
    ebpf_test_run_options_t options = {.repeat = CONCURRENT_RUNS};
    while (!atomic_load(&writer->reader->started))
        sched_yield();
    writer->rc = ebpf_program_test_run(writer->fixture->program, &options);
    writer->retval = options.retval;
    atomic_fetch_add(&writer->reader->writers_done, 1);
    return NULL;
}

static void test_concurrent_replaces_and_lookups(void **state)
{
    int64_t start = settled_outstanding();

    for (size_t t = 0; t < EBPF_ARRAY_SIZE(hash_types); t++) {
        fixture_t fixture = load(hash_types[t], 0, stamp_program, EBPF_ARRAY_SIZE(stamp_program));
        reader_t reader = {.map = fixture.map, .percpu = is_percpu(hash_types[t])};
        writer_t writers[2] = {{.fixture = &fixture, .reader = &reader},
                               {.fixture = &fixture, .reader = &reader}};
        pthread_t reader_handle;

        assert_int_equal(0, pthread_create(&reader_handle, NULL, reader_thread, &reader));
        for (int i = 0; i < 2; i++)
            assert_int_equal(0,
                             pthread_create(&writers[i].thread, NULL, writer_thread, &writers[i]));
        for (int i = 0; i < 2; i++) {
            assert_int_equal(0, pthread_join(writers[i].thread, NULL));
            assert_int_equal(0, writers[i].rc);
            assert_int_equal(0, writers[i].retval);
        }
        atomic_store(&reader.stop, true);
        assert_int_equal(0, pthread_join(reader_handle, NULL));
        assert_int_equal(0, failed_updates(&fixture));
        assert_int_equal(0, reader.missing);
        assert_int_equal(0, reader.mixed);
        assert_true(reader.lookups > 0);
        check_footprint(&fixture);
        /* Still full, one whole value per key. */
        check_contents(&fixture, hash_types[t]);
        unload(&fixture);
    }
    assert_int_equal(start, ebpf_allocation_outstanding());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_million_replaces_in_one_test_run),
        cmocka_unit_test(test_concurrent_replaces_and_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
