/*
 * fuzz_main - replays inputs through a fuzz target without libFuzzer: the
 * normal (gcc) build runs every seed and reproducer this way as a unit
 * test, so the targets compile with the project's warnings and the seeds
 * stay valid inputs.
 *
 *   fuzz_TARGET FILE_OR_DIR...
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int replay_file(const char *path)
{
        FILE *fp = fopen(path, "rb");
        uint8_t *data = NULL;
        size_t len = 0, cap = 0, n;

        if (!fp) {
                perror(path);
                return -1;
        }
        do {
                if (len == cap) {
                        uint8_t *p = realloc(data, cap = cap * 2 + 65536);
                        if (!p) {
                                free(data);
                                fclose(fp);
                                return -1;
                        }
                        data = p;
                }
                n = fread(data + len, 1, cap - len, fp);
                len += n;
        } while (n > 0);
        fclose(fp);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        return 0;
}

static int replay(const char *path, long *cnt)
{
        struct stat st;
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (stat(path, &st)) {
                perror(path);
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                (*cnt)++;
                return replay_file(path);
        }
        if (!(d = opendir(path))) {
                perror(path);
                return -1;
        }
        while (!r && (de = readdir(d))) {
                char sub[4096];
                if (de->d_name[0] == '.') {
                        continue;
                }
                snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
                r = replay(sub, cnt);
        }
        closedir(d);
        return r;
}

int main(int argc, char **argv)
{
        long cnt = 0;

        for (int i = 1; i < argc; i++) {
                if (replay(argv[i], &cnt)) {
                        return 1;
                }
        }
        printf("replayed %ld inputs\n", cnt);
        return 0;
}
