/* Fixed-width integer types for headers that BPF programs and host code both include: with
 * clang -target bpf the host's <stdint.h> may be unreachable, so the compiler's own type names
 * are used there (repeating a typedef of the same type is valid C11). */
#ifndef EBPF_STDINT_H
#define EBPF_STDINT_H

#if defined(__bpf__)
typedef __INT8_TYPE__ int8_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __INT16_TYPE__ int16_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __INT32_TYPE__ int32_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __SIZE_TYPE__ size_t;
#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#else
#include <stddef.h>
#include <stdint.h>
#endif

#endif /* EBPF_STDINT_H */
