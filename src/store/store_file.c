/* Store files: paths, escaping of section prefixes, atomic JSON writes and checked reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_private.h"

int store_path(const char *root, const char *kind, const char *name, char *path, size_t size)
{
    int n = name != NULL ? snprintf(path, size, "%s/%s/%s.json", root, kind, name)
                         : snprintf(path, size, "%s/%s", root, kind);
    if (n < 0 || (size_t)n >= size)
        return ebpf_error(-ENAMETOOLONG, "store: path too long under %s", root);
    return 0;
}

int store_escape_name(const char *name, char *escaped, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t used = 0;

    if (name[0] == '\0')
        return ebpf_error(-EINVAL, "store: empty section prefix");
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
                     (*p == '.' && p != (const unsigned char *)name);
        if (used + (plain ? 1 : 3) >= size)
            return ebpf_error(-ENAMETOOLONG, "store: section prefix too long: %.64s...", name);
        if (plain) {
            escaped[used++] = (char)*p;
        } else {
            escaped[used++] = '%';
            escaped[used++] = hex[*p >> 4];
            escaped[used++] = hex[*p & 15];
        }
    }
    escaped[used] = '\0';
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int store_unescape_name(const char *escaped, char *name, size_t size)
{
    size_t used = 0;
    for (const char *p = escaped; *p != '\0'; p++) {
        char c = *p;
        if (c == '%') {
            int high = hex_digit(p[1]), low = high < 0 ? -1 : hex_digit(p[2]);
            if (high < 0 || low < 0)
                return -EINVAL;
            c = (char)(high << 4 | low);
            p += 2;
        }
        if (used + 1 >= size)
            return -ENAMETOOLONG;
        name[used++] = c;
    }
    name[used] = '\0';
    return 0;
}

/* mkdir -p for the store folders. */
static int make_folders(const char *path)
{
    char partial[PATH_MAX];
    size_t length = strlen(path);

    if (length >= sizeof(partial))
        return ebpf_error(-ENAMETOOLONG, "store: path too long: %s", path);
    memcpy(partial, path, length + 1);
    for (char *p = partial + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(partial, 0755) != 0 && errno != EEXIST)
            return ebpf_error(-errno, "store: cannot create %s: %s", partial, strerror(errno));
        *p = '/';
    }
    if (mkdir(partial, 0755) != 0 && errno != EEXIST)
        return ebpf_error(-errno, "store: cannot create %s: %s", partial, strerror(errno));
    return 0;
}

int store_write_json(const char *root, const char *kind, const char *name, json_t *document)
{
    char folder[PATH_MAX], path[PATH_MAX], temporary[PATH_MAX + 32];
    char *text;
    size_t length;
    int rc, fd;

    rc = store_path(root, kind, NULL, folder, sizeof(folder));
    if (rc == 0)
        rc = store_path(root, kind, name, path, sizeof(path));
    if (rc == 0)
        rc = make_folders(folder);
    if (rc != 0)
        return rc;
    text = json_dumps(document, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text == NULL)
        return ebpf_error(-ENOMEM, "store: cannot serialise %s", path);
    length = strlen(text);
    snprintf(temporary, sizeof(temporary), "%s.tmp.%d", path, (int)getpid());
    fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = ebpf_error(-errno, "store: cannot write %s: %s", temporary, strerror(errno));
        free(text);
        return rc;
    }
    for (size_t written = 0; written < length;) {
        ssize_t n = write(fd, text + written, length - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = ebpf_error(-EIO, "store: cannot write %s: %s", temporary, strerror(errno));
            break;
        }
        written += (size_t)n;
    }
    free(text);
    if (rc == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) != 0))
        rc = ebpf_error(-EIO, "store: cannot flush %s: %s", temporary, strerror(errno));
    close(fd);
    if (rc == 0 && rename(temporary, path) != 0)
        rc = ebpf_error(-errno, "store: cannot rename %s to %s: %s", temporary, path,
                        strerror(errno));
    if (rc != 0) {
        unlink(temporary);
        return rc;
    }
    /* The rename is durable only once the folder is. */
    fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

int store_read_json(const char *root, const char *kind, const char *name, json_t **document)
{
    char path[PATH_MAX];
    json_error_t error;
    int rc = store_path(root, kind, name, path, sizeof(path));

    if (rc != 0)
        return rc;
    if (access(path, F_OK) != 0)
        return -ENOENT;
    *document = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    if (*document == NULL)
        return ebpf_error(-EINVAL, "store: %s is damaged: line %d: %s", path, error.line,
                          error.text);
    if (!json_is_object(*document)) {
        json_decref(*document);
        return ebpf_error(-EINVAL, "store: %s is damaged: not a JSON object", path);
    }
    return 0;
}

int store_delete(const char *root, const char *kind, const char *name)
{
    char path[PATH_MAX];
    int rc = store_path(root, kind, name, path, sizeof(path));

    if (rc != 0)
        return rc;
    if (unlink(path) != 0) {
        if (errno == ENOENT)
            return -ENOENT;
        return ebpf_error(-errno, "store: cannot delete %s: %s", path, strerror(errno));
    }
    return 0;
}
