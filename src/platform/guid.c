/* GUID text form, as the registry and the eBPF store write it. */
#include <ctype.h>
#include <stdio.h>

#include "ebpf_guid.h"

void ebpf_guid_to_string(const ebpf_guid_t *guid, char text[EBPF_GUID_STRING_LENGTH + 1])
{
    snprintf(text, EBPF_GUID_STRING_LENGTH + 1, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             guid->data1, guid->data2, guid->data3, guid->data4[0], guid->data4[1], guid->data4[2],
             guid->data4[3], guid->data4[4], guid->data4[5], guid->data4[6], guid->data4[7]);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int ebpf_guid_from_string(const char *text, ebpf_guid_t *guid)
{
    uint8_t bytes[16];
    size_t length, nibble = 0;

    if (text == NULL || guid == NULL)
        return -EINVAL;
    length = strlen(text);
    if (length == EBPF_GUID_STRING_LENGTH + 2 && text[0] == '{' && text[length - 1] == '}') {
        text++;
        length -= 2;
    }
    if (length != EBPF_GUID_STRING_LENGTH)
        return -EINVAL;
    for (size_t i = 0; i < length; i++) {
        int value;
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return -EINVAL;
            continue;
        }
        value = hex_value(text[i]);
        if (value < 0)
            return -EINVAL;
        if (nibble % 2 == 0)
            bytes[nibble / 2] = (uint8_t)(value << 4);
        else
            bytes[nibble / 2] |= (uint8_t)value;
        nibble++;
    }
    guid->data1 =
        (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
    guid->data2 = (uint16_t)(bytes[4] << 8 | bytes[5]);
    guid->data3 = (uint16_t)(bytes[6] << 8 | bytes[7]);
    memcpy(guid->data4, bytes + 8, 8);
    return 0;
}
