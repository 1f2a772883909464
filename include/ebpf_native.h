/* Native programs: the ABI between bpf2c's generated code and the loader (one exported metadata
 * table), the primitives the generated code uses, and the loader's API. */
#ifndef EBPF_NATIVE_H
#define EBPF_NATIVE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpf_guid.h"
#include "ebpf_helper_prototype.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * The module ABI.
 *
 * bpf2c turns the programs of a BPF object into C that compiles into a shared object (a
 * native module). Its only exported symbol is the metadata table named
 * EBPF_NATIVE_METADATA_SYMBOL: a header with a magic number, a format version and its own size,
 * then the programs (name, section, program and attach type, helpers and maps used, the BPF
 * instructions, the hash of the program information they were verified against, the entry
 * function) and the map definitions (with global data initial values and the slots the object
 * fills itself). Every program function is static: the loader reaches it through the table.
 *
 * The code is pure: what changes from one load to the next (the maps created, the functions
 * behind the helpers) comes through the runtime the loader passes to each call, so one module
 * can back several loaded objects at once.
 * ------------------------------------------------------------------------------------------ */

#define EBPF_NATIVE_METADATA_NAME   ebpf_native_module_metadata
#define EBPF_NATIVE_METADATA_SYMBOL "ebpf_native_module_metadata"
/* "bpf2cmod" in memory on a little-endian machine. */
#define EBPF_NATIVE_MAGIC UINT64_C(0x646f6d6332667062)
/* 2: the runtime has the array layouts of the maps (inlined array lookups). */
#define EBPF_NATIVE_FORMAT_VERSION 2
/* SHA-256 of the program information (see ebpf_native_program_info_hash). */
#define EBPF_NATIVE_HASH_SIZE 32

/* Stack of one call level, call levels, and bytes above the outermost frame that unverified
 * code may touch (the conformance suite stores across the stack top, as the plugin allows). */
#define EBPF_NATIVE_FRAME_SIZE      512
#define EBPF_NATIVE_MAX_CALL_FRAMES 8
#define EBPF_NATIVE_STACK_SLACK     16

/* Limits the loader enforces on a table (a damaged module cannot talk it past them). */
#define EBPF_NATIVE_MAX_PROGRAMS        4096u
#define EBPF_NATIVE_MAX_MAPS            4096u
#define EBPF_NATIVE_MAX_PROGRAM_HELPERS 1024u
#define EBPF_NATIVE_MAX_INSTRUCTIONS    1000000u
#define EBPF_NATIVE_MAX_NAME            1024u

/* Map origins, with the values of ebpf_elf_map_origin_t. */
#define EBPF_NATIVE_MAP_BTF         1
#define EBPF_NATIVE_MAP_LEGACY      2
#define EBPF_NATIVE_MAP_GLOBAL_DATA 3

typedef struct ebpf_native_runtime ebpf_native_runtime_t;

/* What a program call gives back: r0 on success; on failure the instruction it stopped at. */
typedef struct ebpf_native_result {
    uint64_t r0;
    uint32_t error_instruction;
} ebpf_native_result_t;

/* A program. Runs with r1 and r2 as given, r10 at the top of its own stack and the other
 * registers 0; returns 0, or -EOVERFLOW (local calls beyond EBPF_NATIVE_MAX_CALL_FRAMES levels)
 * or -ENOENT (callx of a helper id the runtime does not know). */
typedef int (*ebpf_native_entry_t)(uint64_t r1, uint64_t r2, const ebpf_native_runtime_t *runtime,
                                   ebpf_native_result_t *result);

/* Where an array map (BPF_MAP_TYPE_ARRAY or PERCPU_ARRAY) keeps its values, for lookups the
 * code makes itself instead of calling bpf_map_lookup_elem, as Linux's JIT inlines them: the
 * value at index i of CPU index c is at base + c * cpu_stride + i * value_stride. base is NULL
 * for a map of another type (the code then calls the helper). */
typedef struct ebpf_native_array {
    uint8_t *base;
    uint64_t value_stride;
    uint64_t cpu_stride; /* 0 for a plain array */
    uint32_t max_entries;
    uint32_t cpu_count; /* CPU indexes of a per-CPU array; 1 for a plain array */
} ebpf_native_array_t;

/* Filled by the loader, read-only for the code. */
struct ebpf_native_runtime {
    /* The functions of the program's helpers, in the order of its helper_ids. */
    const ebpf_helper_function_t *helpers;
    /* Per map of the module: the map (what an ld_imm64 BPF_PSEUDO_MAP_FD loads) and the
     * address of its first value for direct access (BPF_PSEUDO_MAP_VALUE; 0 when the map has
     * none). */
    const uint64_t *maps;
    const uint64_t *map_values;
    /* callx: the function of helper id, or NULL when there is none. */
    ebpf_helper_function_t (*find_helper)(const ebpf_native_runtime_t *runtime, uint64_t id);
    /* Asked after a helper that can tail-call: true when it requested a tail call, which ends
     * the program at once (the caller then runs the target). */
    bool (*tail_call_requested)(void);
    /* The loader's own. */
    void *owner;
    /* Per map of the module, as maps (NULL when the loader has none: every lookup calls the
     * helper), and the CPU index the running invocation holds (ebpf_cpu_claimed). */
    const ebpf_native_array_t *arrays;
    uint32_t (*cpu_claimed)(void);
};

/* A slot of a program array or map-in-map the object fills itself: target_index is a program
 * index for BPF_MAP_TYPE_PROG_ARRAY and a map index otherwise. */
typedef struct ebpf_native_map_slot {
    uint32_t key;
    uint32_t target_index;
} ebpf_native_map_slot_t;

typedef struct ebpf_native_map_metadata {
    const char *name;
    const char *section_name;
    uint32_t origin; /* EBPF_NATIVE_MAP_* */
    uint32_t type;   /* enum bpf_map_type */
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries; /* 0: the loader decides (perf event arrays: the CPU count) */
    uint32_t map_flags;
    uint32_t pinning;
    int32_t inner_map_index;                          /* legacy map-in-map template, or -1 */
    const struct ebpf_native_map_metadata *inner_map; /* BTF map-in-map template, or NULL */
    const ebpf_native_map_slot_t *initial_values;
    uint32_t initial_value_count;
    uint32_t initial_data_size; /* global data: value_size, or 0 for all zeros */
    const uint8_t *initial_data;
    bool read_only; /* .rodata: frozen, and read-only for programs */
} ebpf_native_map_metadata_t;

typedef struct ebpf_native_program_metadata {
    const char *name;         /* the C function */
    const char *section_name; /* as written in SEC() */
    ebpf_guid_t program_type; /* all zeros: general helpers only */
    ebpf_guid_t attach_type;
    uint32_t bpf_prog_type;
    uint32_t bpf_attach_type;
    const uint32_t *helper_ids; /* runtime->helpers is parallel to it */
    uint32_t helper_count;
    const uint32_t *map_indexes; /* maps the program references */
    uint32_t map_count;
    /* The instructions bpf2c translated (struct bpf_insn, 8 bytes each), for introspection and
     * for running in the interpreter once the module is gone. */
    const uint8_t *instructions;
    uint32_t instruction_count;
    /* false only for code generated without the verifier (translator tests). */
    bool verified;
    uint8_t program_info_hash[EBPF_NATIVE_HASH_SIZE];
    ebpf_native_entry_t entry;
} ebpf_native_program_metadata_t;

typedef struct ebpf_native_module_metadata {
    uint64_t magic;   /* EBPF_NATIVE_MAGIC */
    uint16_t version; /* EBPF_NATIVE_FORMAT_VERSION */
    uint16_t reserved;
    uint32_t size;                  /* sizeof(ebpf_native_module_metadata_t) */
    uint32_t program_metadata_size; /* sizeof(ebpf_native_program_metadata_t) */
    uint32_t map_metadata_size;     /* sizeof(ebpf_native_map_metadata_t) */
    const char *name;               /* the object bpf2c read */
    const char *license;
    const ebpf_native_program_metadata_t *programs;
    uint32_t program_count;
    uint32_t map_count;
    const ebpf_native_map_metadata_t *maps;
} ebpf_native_module_metadata_t;

/* ------------------------------------------------------------------------------------------
 * Primitives of the generated code, with the interpreter's semantics (RFC 9669): memory is
 * accessed through memcpy (no alignment or aliasing assumption), x / 0 = 0, x % 0 = x, and
 * INT_MIN / -1 wraps (INT_MIN % -1 = 0) where C would trap.
 * ------------------------------------------------------------------------------------------ */

#define EBPF_NATIVE_MEMORY_ACCESS(bits)                                                            \
    static inline uint##bits##_t ebpf_native_load_u##bits(uint64_t address)                        \
    {                                                                                              \
        uint##bits##_t value;                                                                      \
        __builtin_memcpy(&value, (const void *)(uintptr_t)address, sizeof(value));                 \
        return value;                                                                              \
    }                                                                                              \
    static inline void ebpf_native_store_u##bits(uint64_t address, uint##bits##_t value)           \
    {                                                                                              \
        __builtin_memcpy((void *)(uintptr_t)address, &value, sizeof(value));                       \
    }
EBPF_NATIVE_MEMORY_ACCESS(8)
EBPF_NATIVE_MEMORY_ACCESS(16)
EBPF_NATIVE_MEMORY_ACCESS(32)
EBPF_NATIVE_MEMORY_ACCESS(64)
#undef EBPF_NATIVE_MEMORY_ACCESS

/* bpf_map_lookup_elem on map (an index into runtime->maps) with the key at key: the helper's
 * result without calling it when the map is an array. helper and map_pointer: the call to make
 * otherwise. */
static inline uint64_t ebpf_native_array_lookup(const ebpf_native_runtime_t *runtime, uint32_t map,
                                                uint64_t key, ebpf_helper_function_t helper,
                                                uint64_t map_pointer)
{
    const ebpf_native_array_t *array = runtime->arrays != NULL ? &runtime->arrays[map] : NULL;
    if (array == NULL || array->base == NULL)
        return helper(map_pointer, key, 0, 0, 0);
    uint32_t index = ebpf_native_load_u32(key);
    if (index >= array->max_entries)
        return 0;
    uintptr_t value = (uintptr_t)array->base + (uintptr_t)index * array->value_stride;
    if (array->cpu_stride != 0) {
        uint32_t cpu = runtime->cpu_claimed();
        if (cpu >= array->cpu_count)
            return 0; /* no CPU claim: as the helper */
        value += (uintptr_t)cpu * array->cpu_stride;
    }
    return (uint64_t)value;
}

static inline uint64_t ebpf_native_udiv64(uint64_t a, uint64_t b)
{
    return b ? a / b : 0;
}

static inline uint64_t ebpf_native_umod64(uint64_t a, uint64_t b)
{
    return b ? a % b : a;
}

static inline uint32_t ebpf_native_udiv32(uint32_t a, uint32_t b)
{
    return b ? a / b : 0;
}

static inline uint32_t ebpf_native_umod32(uint32_t a, uint32_t b)
{
    return b ? a % b : a;
}

static inline uint64_t ebpf_native_sdiv64(uint64_t a, uint64_t b)
{
    if (b == 0)
        return 0;
    if ((int64_t)b == -1)
        return 0 - a;
    return (uint64_t)((int64_t)a / (int64_t)b);
}

static inline uint64_t ebpf_native_smod64(uint64_t a, uint64_t b)
{
    if (b == 0)
        return a;
    if ((int64_t)b == -1)
        return 0;
    return (uint64_t)((int64_t)a % (int64_t)b);
}

static inline uint32_t ebpf_native_sdiv32(uint32_t a, uint32_t b)
{
    if (b == 0)
        return 0;
    if ((int32_t)b == -1)
        return 0 - a;
    return (uint32_t)((int32_t)a / (int32_t)b);
}

static inline uint32_t ebpf_native_smod32(uint32_t a, uint32_t b)
{
    if (b == 0)
        return a;
    if ((int32_t)b == -1)
        return 0;
    return (uint32_t)((int32_t)a % (int32_t)b);
}

/* Atomics, sequentially consistent as in the interpreter; fetches return the old value. Or, and
 * and xor are compare-exchange loops: GCC 12.2 at -O1/-O2 miscompiles `x = __atomic_fetch_xor(p,
 * x, ...)` in some contexts (found by the random differential test; clang is right). */
#define EBPF_NATIVE_ATOMIC_LOOP(bits, name, operator)                                              \
    static inline uint##bits##_t ebpf_native_atomic_fetch_##name##bits(uint64_t address,           \
                                                                       uint##bits##_t value)       \
    {                                                                                              \
        uint##bits##_t *slot = (uint##bits##_t *)(uintptr_t)address;                               \
        uint##bits##_t old = __atomic_load_n(slot, __ATOMIC_RELAXED);                              \
        while (!__atomic_compare_exchange_n(slot, &old, (uint##bits##_t)(old operator value),      \
                                            false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))            \
            ;                                                                                      \
        return old;                                                                                \
    }
#define EBPF_NATIVE_ATOMICS(bits)                                                                  \
    static inline uint##bits##_t ebpf_native_atomic_fetch_add##bits(uint64_t address,              \
                                                                    uint##bits##_t value)          \
    {                                                                                              \
        return __atomic_fetch_add((uint##bits##_t *)(uintptr_t)address, value, __ATOMIC_SEQ_CST);  \
    }                                                                                              \
    EBPF_NATIVE_ATOMIC_LOOP(bits, or, |)                                                           \
    EBPF_NATIVE_ATOMIC_LOOP(bits, and, &)                                                          \
    EBPF_NATIVE_ATOMIC_LOOP(bits, xor, ^)                                                          \
    static inline uint##bits##_t ebpf_native_atomic_exchange##bits(uint64_t address,               \
                                                                   uint##bits##_t value)           \
    {                                                                                              \
        return __atomic_exchange_n((uint##bits##_t *)(uintptr_t)address, value, __ATOMIC_SEQ_CST); \
    }                                                                                              \
    /* Stores value when the slot holds expected; returns what the slot held. */                   \
    static inline uint##bits##_t ebpf_native_atomic_compare_exchange##bits(                        \
        uint64_t address, uint##bits##_t expected, uint##bits##_t value)                           \
    {                                                                                              \
        __atomic_compare_exchange_n((uint##bits##_t *)(uintptr_t)address, &expected, value, false, \
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                           \
        return expected;                                                                           \
    }
EBPF_NATIVE_ATOMICS(32)
EBPF_NATIVE_ATOMICS(64)
#undef EBPF_NATIVE_ATOMICS
#undef EBPF_NATIVE_ATOMIC_LOOP

/* A local call in generated code (its depth, frames, r6..r10 and result in scope): saves the
 * caller's r6..r9 and where its exit returns to, and moves r10 down to the callee's frame. More
 * than EBPF_NATIVE_MAX_CALL_FRAMES levels stop the program, as in the interpreter. */
#define EBPF_NATIVE_LOCAL_CALL(instruction, return_site_)                                          \
    do {                                                                                           \
        if (depth + 1 >= EBPF_NATIVE_MAX_CALL_FRAMES) {                                            \
            result->error_instruction = (instruction);                                             \
            return -EOVERFLOW;                                                                     \
        }                                                                                          \
        frames[depth].r6 = r6;                                                                     \
        frames[depth].r7 = r7;                                                                     \
        frames[depth].r8 = r8;                                                                     \
        frames[depth].r9 = r9;                                                                     \
        frames[depth].return_site = (return_site_);                                                \
        depth++;                                                                                   \
        r10 -= EBPF_NATIVE_FRAME_SIZE;                                                             \
    } while (0)

/* Byte order conversions of {END, ALU}: to little or big endian from the host's order. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define EBPF_NATIVE_TO_LE16(v) ((uint64_t)(uint16_t)(v))
#define EBPF_NATIVE_TO_LE32(v) ((uint64_t)(uint32_t)(v))
#define EBPF_NATIVE_TO_LE64(v) ((uint64_t)(v))
#define EBPF_NATIVE_TO_BE16(v) ((uint64_t)__builtin_bswap16((uint16_t)(v)))
#define EBPF_NATIVE_TO_BE32(v) ((uint64_t)__builtin_bswap32((uint32_t)(v)))
#define EBPF_NATIVE_TO_BE64(v) __builtin_bswap64((uint64_t)(v))
#else
#define EBPF_NATIVE_TO_LE16(v) ((uint64_t)__builtin_bswap16((uint16_t)(v)))
#define EBPF_NATIVE_TO_LE32(v) ((uint64_t)__builtin_bswap32((uint32_t)(v)))
#define EBPF_NATIVE_TO_LE64(v) __builtin_bswap64((uint64_t)(v))
#define EBPF_NATIVE_TO_BE16(v) ((uint64_t)(uint16_t)(v))
#define EBPF_NATIVE_TO_BE32(v) ((uint64_t)(uint32_t)(v))
#define EBPF_NATIVE_TO_BE64(v) ((uint64_t)(v))
#endif

#ifndef EBPF_NATIVE_GENERATED_CODE
/* ------------------------------------------------------------------------------------------
 * The loader (src/core/native_program.c). Generated code defines EBPF_NATIVE_GENERATED_CODE and
 * sees none of this.
 * ------------------------------------------------------------------------------------------ */

#include "ebpf_core.h"
#include "ebpf_elf.h"
#include "ebpf_exec.h"
#include "ebpf_program_info.h"

typedef struct ebpf_native_module ebpf_native_module_t;

/* Opens a module: dlopen, then checks the metadata table (its symbol, magic, version, sizes,
 * counts, and that every table and function lies inside the module). -ENOEXEC, without a
 * message worth showing, when path is not an ELF shared object for this machine (the caller
 * may try it as a BPF object); -EINVAL with the reason for a shared object that is not a valid
 * module (no table, a truncated or damaged one, another format version). */
int ebpf_native_module_open(const char *path, ebpf_native_module_t **module);
/* The same from a copy of size bytes at data (through a memory file); name is for messages. */
int ebpf_native_module_open_memory(const void *data, size_t size, const char *name,
                                   ebpf_native_module_t **module);
/* Detaches (see below) when attached, then unloads the module. */
void ebpf_native_module_close(ebpf_native_module_t *module);
/* True when data starts like an ELF shared object (what ebpf_native_module_open_memory takes). */
bool ebpf_native_is_shared_object(const void *data, size_t size);

const ebpf_native_module_metadata_t *
ebpf_native_module_get_metadata(const ebpf_native_module_t *module);
const char *ebpf_native_module_get_name(const ebpf_native_module_t *module);

/* The module as the ELF loader describes an object (programs with their instructions, maps
 * with their initial values), so the object layer creates its maps and programs the same way.
 * Free with ebpf_elf_free. */
int ebpf_native_module_describe(const ebpf_native_module_t *module, ebpf_elf_object_t **elf);

/* Makes the programs of an object loaded from ebpf_native_module_describe's description
 * (programs and maps parallel to the module's) run the module's code: checks each program's
 * hash against the program information its program is bound to now (refusing a mismatch: the
 * extension changed since verification), fills the helper and map tables, and publishes. All
 * or nothing. -EALREADY when the module is attached already: a module is loaded into one object
 * at a time. */
int ebpf_native_module_attach(ebpf_native_module_t *module, ebpf_program_t *const *programs,
                              size_t program_count, ebpf_map_t *const *maps, size_t map_count);
/* Unpublishes the code and waits until no invocation runs in it (an epoch grace period); the
 * programs, if still referenced elsewhere, run in the interpreter from then on. */
void ebpf_native_module_detach(ebpf_native_module_t *module);
bool ebpf_native_module_is_attached(const ebpf_native_module_t *module);

/* The hash bpf2c records and the loader checks: SHA-256 over the program type's descriptor
 * (name, GUID, number, privilege, context descriptor) and the prototypes of the helpers the
 * program uses, in increasing id order. info NULL stands for "general helpers only";
 * find_helper gives the prototypes (NULL for an unknown id, which is hashed as unknown). */
typedef const ebpf_helper_prototype_t *(*ebpf_native_helper_lookup_t)(void *context, uint32_t id);
int ebpf_native_program_info_hash(const ebpf_program_info_t *info, const uint32_t *helper_ids,
                                  uint32_t helper_count, ebpf_native_helper_lookup_t find_helper,
                                  void *find_helper_context, uint8_t hash[EBPF_NATIVE_HASH_SIZE]);
/* The prototype of a helper as a program of this type sees it: the type's own, its overrides
 * of general helpers, then the core's general helpers (context: the ebpf_program_info_t, or
 * NULL for general helpers only). */
const ebpf_helper_prototype_t *ebpf_native_find_helper_prototype(void *info, uint32_t id);

/* ---- Standalone runs (no core): the conformance plugin and translator tests ---- */

typedef struct ebpf_native_program ebpf_native_program_t;

/* A program of the module with its helpers resolved once through resolve (which may be NULL
 * for a program that calls none); the module must outlive it. */
int ebpf_native_program_create(const ebpf_native_module_t *module, uint32_t program_index,
                               ebpf_helper_resolver_t resolve, void *resolver_context,
                               ebpf_native_program_t **program);
void ebpf_native_program_destroy(ebpf_native_program_t *program);
/* Runs to the exit or a tail call (result->tail_call_target, as the interpreter), with maps
 * (parallel to the module's maps, the values loaded for ld_imm64) given by the caller (NULL
 * when the module has none). tail_calls_taken: see ebpf_exec.h. */
int ebpf_native_program_run(const ebpf_native_program_t *program, uint64_t r1, uint64_t r2,
                            const uint64_t *maps, const uint64_t *map_values,
                            uint32_t tail_calls_taken, ebpf_exec_result_t *result);

/* For tail-call helpers of native runs, as ebpf_exec_tail_call_request for the interpreter:
 * -EINVAL outside a native run, -EBUSY when one is pending, -E2BIG after
 * EBPF_EXEC_MAX_TAIL_CALLS. */
int ebpf_native_tail_call_request(const void *target);
/* True while a native program runs on this thread. */
bool ebpf_native_run_active(void);

#endif /* EBPF_NATIVE_GENERATED_CODE */

#ifdef __cplusplus
}
#endif

#endif /* EBPF_NATIVE_H */
