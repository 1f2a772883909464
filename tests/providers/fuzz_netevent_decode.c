/* libFuzzer target: the event decoder and both formatters on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netevent_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    netevent_decoded_t decoded;
    char text[NETEVENT_FORMAT_TEXT_MAX];
    char json[NETEVENT_FORMAT_JSON_MAX];

    int rc = netevent_decode(data, size, &decoded);
    /* A failed decode still explains itself, and every struct prints within the maxima. */
    if (rc != 0 && decoded.error[0] == '\0')
        __builtin_trap();
    if (netevent_format_text(&decoded, text, sizeof(text)) < 0)
        __builtin_trap();
    if (netevent_format_json(&decoded, json, sizeof(json)) < 0)
        __builtin_trap();
    if (strlen(json) < 2 || json[0] != '{' || json[strlen(json) - 1] != '}')
        __builtin_trap();
    return 0;
}
