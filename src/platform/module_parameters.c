/* Module load parameters: "key=value;key=value" strings handed to a module's start function. */
#include <errno.h>
#include <string.h>

#include "ebpf_module.h"
#include "ebpf_platform.h"

int ebpf_module_parameter(const char *parameters, const char *key, char *value, size_t size)
{
    size_t key_length;

    if (parameters == NULL || key == NULL || value == NULL || size == 0)
        return -ENOENT;
    key_length = strlen(key);
    for (const char *entry = parameters; *entry != '\0';) {
        const char *end = strchr(entry, ';');
        size_t entry_length = end ? (size_t)(end - entry) : strlen(entry);
        while (entry_length > 0 && *entry == ' ') {
            entry++;
            entry_length--;
        }
        if (entry_length > key_length && strncmp(entry, key, key_length) == 0 &&
            entry[key_length] == '=') {
            size_t value_length = entry_length - key_length - 1;
            if (value_length >= size)
                return ebpf_error(-ENAMETOOLONG, "module parameter %s: value too long", key);
            memcpy(value, entry + key_length + 1, value_length);
            value[value_length] = '\0';
            return 0;
        }
        if (end == NULL)
            break;
        entry = end + 1;
    }
    return -ENOENT;
}
