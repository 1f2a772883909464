/* Byte-order conversion for BPF programs (network data is big-endian, BPF here is little). */
#ifndef BPF_ENDIAN_H
#define BPF_ENDIAN_H

/* __builtin_bswap* on a constant folds at compile time, so these are also usable in constant
 * expressions such as case labels. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define bpf_htons(x)       ((__u16)__builtin_bswap16((__u16)(x)))
#define bpf_ntohs(x)       ((__u16)__builtin_bswap16((__u16)(x)))
#define bpf_htonl(x)       ((__u32)__builtin_bswap32((__u32)(x)))
#define bpf_ntohl(x)       ((__u32)__builtin_bswap32((__u32)(x)))
#define bpf_cpu_to_be64(x) ((__u64)__builtin_bswap64((__u64)(x)))
#define bpf_be64_to_cpu(x) ((__u64)__builtin_bswap64((__u64)(x)))
#elif __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define bpf_htons(x)       ((__u16)(x))
#define bpf_ntohs(x)       ((__u16)(x))
#define bpf_htonl(x)       ((__u32)(x))
#define bpf_ntohl(x)       ((__u32)(x))
#define bpf_cpu_to_be64(x) ((__u64)(x))
#define bpf_be64_to_cpu(x) ((__u64)(x))
#else
#error "unknown byte order"
#endif

#endif /* BPF_ENDIAN_H */
