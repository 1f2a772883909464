/* GUIDs with the Windows layout, so constants from the original are written the same way. */
#ifndef EBPF_GUID_H
#define EBPF_GUID_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The 16-byte layout of a Windows GUID: {data1, data2, data3, {data4[8]}}. */
typedef struct ebpf_guid {
    uint32_t data1;
    uint16_t data2;
    uint16_t data3;
    uint8_t data4[8];
} ebpf_guid_t;

_Static_assert(sizeof(ebpf_guid_t) == 16, "a GUID is 16 bytes");

static inline bool ebpf_guid_equal(const ebpf_guid_t *a, const ebpf_guid_t *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/* Registry form without braces: "2227e81a-8d8b-11d4-abad-009027719e09". */
#define EBPF_GUID_STRING_LENGTH 36
void ebpf_guid_to_string(const ebpf_guid_t *guid, char text[EBPF_GUID_STRING_LENGTH + 1]);
/* Accepts the form above, with or without braces, any case. -EINVAL otherwise. */
int ebpf_guid_from_string(const char *text, ebpf_guid_t *guid);

#ifdef __cplusplus
}
#endif

#endif /* EBPF_GUID_H */
