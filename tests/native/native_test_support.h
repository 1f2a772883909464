/* Native tests: building modules from programs at run time (bpf2c, then the C compiler). */
#ifndef NATIVE_TEST_SUPPORT_H
#define NATIVE_TEST_SUPPORT_H

#include <stddef.h>

#include "bpf2c.h"
#include "ebpf_native.h"

/* A scratch directory for generated sources and modules, removed with what it holds. */
typedef struct native_test_directory {
    char path[256];
} native_test_directory_t;

int native_test_directory_create(native_test_directory_t *directory);
void native_test_directory_remove(native_test_directory_t *directory);
/* directory/name into path (size bytes). */
void native_test_path(const native_test_directory_t *directory, const char *name, char *path,
                      size_t size);

/* Translates module into directory/<name>.c and compiles it into directory/<name>.so (whose
 * path goes to so_path). 0 or a negative errno with the message of bpf2c or the compiler. */
int native_test_build(const bpf2c_module_t *module, const native_test_directory_t *directory,
                      const char *name, char *so_path, size_t so_path_size);
/* Compiles directory/<name>.c as it is (a source a test wrote or edited). */
int native_test_compile(const native_test_directory_t *directory, const char *name, char *so_path,
                        size_t so_path_size);

/* Reads a whole text file into a new NUL-terminated buffer (free with free()). */
char *native_test_read_file(const char *path);
int native_test_write_file(const char *path, const char *text);
/* Replaces the first occurrence of from by to in text (a new buffer, or NULL when absent). */
char *native_test_replace(const char *text, const char *from, const char *to);

#endif /* NATIVE_TEST_SUPPORT_H */
