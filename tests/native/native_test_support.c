/* Native tests: scratch directories, translation and compilation of modules at run time. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebpf_platform.h"
#include "native_test_support.h"

int native_test_directory_create(native_test_directory_t *directory)
{
    const char *base = getenv("TMPDIR");

    snprintf(directory->path, sizeof(directory->path), "%s/ebpf-native-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    if (mkdtemp(directory->path) == NULL)
        return ebpf_error(-errno, "mkdtemp %s: %s", directory->path, strerror(errno));
    return 0;
}

void native_test_directory_remove(native_test_directory_t *directory)
{
    DIR *listing;
    struct dirent *entry;
    char path[512];

    /* NATIVE_TEST_KEEP=1 keeps the generated code to look at. */
    if (getenv("NATIVE_TEST_KEEP") != NULL) {
        fprintf(stderr, "native test: kept %s\n", directory->path);
        return;
    }
    listing = opendir(directory->path);
    if (listing == NULL)
        return;
    while ((entry = readdir(listing)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", directory->path, entry->d_name);
        unlink(path);
    }
    closedir(listing);
    rmdir(directory->path);
}

void native_test_path(const native_test_directory_t *directory, const char *name, char *path,
                      size_t size)
{
    snprintf(path, size, "%s/%s", directory->path, name);
}

int native_test_compile(const native_test_directory_t *directory, const char *name, char *so_path,
                        size_t so_path_size)
{
    char source[512];

    snprintf(source, sizeof(source), "%s/%s.c", directory->path, name);
    snprintf(so_path, so_path_size, "%s/%s.so", directory->path, name);
    return bpf2c_compile(source, so_path, EBPF_NATIVE_TEST_INCLUDE_DIR);
}

int native_test_build(const bpf2c_module_t *module, const native_test_directory_t *directory,
                      const char *name, char *so_path, size_t so_path_size)
{
    char source[512];
    int rc;

    snprintf(source, sizeof(source), "%s/%s.c", directory->path, name);
    rc = bpf2c_translate_to_file(module, source);
    if (rc != 0)
        return rc;
    return native_test_compile(directory, name, so_path, so_path_size);
}

char *native_test_read_file(const char *path)
{
    FILE *in = fopen(path, "rb");
    char *text = NULL;
    long size;

    if (in == NULL)
        return NULL;
    if (fseek(in, 0, SEEK_END) == 0 && (size = ftell(in)) >= 0 && fseek(in, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)size + 1)) != NULL) {
        if (fread(text, 1, (size_t)size, in) != (size_t)size) {
            free(text);
            text = NULL;
        } else {
            text[size] = '\0';
        }
    }
    fclose(in);
    return text;
}

int native_test_write_file(const char *path, const char *text)
{
    FILE *out = fopen(path, "wb");
    if (out == NULL)
        return -errno;
    size_t length = strlen(text);
    int rc = fwrite(text, 1, length, out) == length ? 0 : -EIO;
    if (fclose(out) != 0)
        rc = -EIO;
    return rc;
}

char *native_test_replace(const char *text, const char *from, const char *to)
{
    const char *found = strstr(text, from);
    if (found == NULL)
        return NULL;
    size_t head = (size_t)(found - text), from_length = strlen(from), to_length = strlen(to);
    char *result = malloc(strlen(text) - from_length + to_length + 1);
    if (result == NULL)
        return NULL;
    memcpy(result, text, head);
    memcpy(result + head, to, to_length);
    strcpy(result + head + to_length, found + from_length);
    return result;
}
