/* What a BPF C program includes: section and map-definition macros, types, helpers, bpf_printk. */
#ifndef BPF_HELPERS_H
#define BPF_HELPERS_H

/* Self-contained on purpose: with `clang -target bpf` the host's <stdint.h> and <linux/types.h>
 * may not be reachable, so the types are spelled here. Each typedef names the same type as the
 * system header does, which C11 allows to be repeated, so including those headers as well is
 * harmless. */
typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u64 __be64;
typedef __u16 __le16;
typedef __u32 __le32;
typedef __u64 __le64;
typedef __u32 __wsum;

typedef __INT8_TYPE__ int8_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __INT16_TYPE__ int16_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __INT32_TYPE__ int32_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INTPTR_TYPE__ intptr_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef __SIZE_TYPE__ size_t;

#ifndef __cplusplus
#ifndef bool
#define bool _Bool
#define true 1
#define false 0
#endif
#endif
#ifndef NULL
#define NULL ((void *)0)
#endif

/* Places a program, a map or a variable in a named ELF section; the loader reports programs by
 * this name and the store maps it to a program type. */
#define SEC(name) __attribute__((section(name), used))

/* BTF map definitions (SEC(".maps")): the loader reads the numbers from the BTF of the members,
 * not from memory, so each field is a pointer type that carries its value in its shape.
 *   __uint(name, value)  - an integer field (type, max_entries, map_flags, key_size, ...)
 *   __type(name, type)   - key or value given as a C type; the size is sizeof(type)
 *   __array(name, type)  - values of a map-in-map (the inner map definition) or prog array */
#define __uint(name, value) int(*name)[value]
#define __type(name, type)  __typeof__(type) *name
#define __array(name, type) __typeof__(type) *name[]

/* Values of __uint(pinning, ...). */
#define LIBBPF_PIN_NONE    0
#define LIBBPF_PIN_BY_NAME 1

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif

/* Legacy map definition (SEC("maps")), Linux layout. */
struct bpf_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

#include "bpf_helper_defs.h"

/* The format string must live in the program's read-only data, hence the static copy; at most
 * three arguments follow it, as for bpf_trace_printk. */
#define bpf_printk(fmt, ...)                                                                       \
    ({                                                                                             \
        static const char bpf_printk_format_[] = fmt;                                              \
        bpf_trace_printk(bpf_printk_format_, sizeof(bpf_printk_format_), ##__VA_ARGS__);           \
    })

#endif /* BPF_HELPERS_H */
