/* The {version, size} header that opens every structure crossing a module boundary. */
#ifndef EBPF_EXTENSION_HEADER_H
#define EBPF_EXTENSION_HEADER_H

#include <stddef.h>
#include <stdint.h>

/* A reader accepts a size larger than it knows (a newer writer) and reads only the fields it
 * knows; it refuses a size smaller than the fields it needs, or an unknown older version. */
typedef struct ebpf_extension_header {
    uint16_t version;
    uint16_t reserved;
    uint32_t size;
} ebpf_extension_header_t;

#define EBPF_EXTENSION_HEADER(version_, type_)                                                     \
    {                                                                                              \
        (version_), 0, (uint32_t)sizeof(type_)                                                     \
    }

/* True when the structure behind header_ is large enough to hold field_. */
#define EBPF_EXTENSION_HAS_FIELD(header_, type_, field_)                                           \
    ((header_)->size >= offsetof(type_, field_) + sizeof(((type_ *)0)->field_))

#endif /* EBPF_EXTENSION_HEADER_H */
