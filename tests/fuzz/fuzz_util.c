/* fuzz_util - what the fuzz targets share: source paths, an input file. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

char *fuzz_src_path(const char *rel)
{
        const char *src = getenv("RED_SRCDIR");
        char *path;

        if (!src || asprintf(&path, "%s/%s", src, rel) < 0) {
                fprintf(stderr, "fuzz: set RED_SRCDIR to the source tree\n");
                abort();
        }
        return path;
}

const char *fuzz_input_file(const uint8_t *data, size_t size)
{
        static char path[64];
        static int fd = -1;
        size_t done = 0;

        if (fd < 0) {
                if ((fd = memfd_create("fuzz-input.yaml", MFD_CLOEXEC)) < 0) {
                        perror("fuzz: memfd_create");
                        abort();
                }
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        }
        if (ftruncate(fd, 0)) {
                perror("fuzz: ftruncate");
                abort();
        }
        while (done < size) {
                ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
                if (n <= 0) {
                        perror("fuzz: pwrite");
                        abort();
                }
                done += (size_t)n;
        }
        return path;
}
