/*
 * fuzz_config - the service config loader on any file: red_config_load()
 * must return a config or a message, never crash, leak or hang. The
 * environment is cleared of REDUCERD_* first so that only the file counts.
 */
#include "fuzz.h"

#include "red_config.h"
#include "red_yaml.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static void clear_environment(void)
{
        for (size_t i = 0; environ[i];) {
                char name[256];
                size_t len = strcspn(environ[i], "=");

                if (strncmp(environ[i], "REDUCERD_", 9) ||
                    len >= sizeof(name)) {
                        i++;
                        continue;
                }
                memcpy(name, environ[i], len);
                name[len] = '\0';
                unsetenv(name); /* environ shifts: look at i again */
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        const char *path = fuzz_input_file(data, size);
        char err[2048];

        if (!ready) {
                clear_environment();
                ready = true;
        }
        red_config_destroy(red_config_load(path, err, sizeof(err)));
        /* a loaded config sets the process-wide file limit: undo it */
        red_yaml_set_max_file_bytes(RED_YAML_MAX_FILE_BYTES_DEFAULT, NULL);
        return 0;
}
