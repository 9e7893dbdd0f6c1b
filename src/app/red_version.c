/* red_version - reducerd's version and those of the libraries it runs with. */
#include "red_version.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <yaml.h>

void red_version_string(char *buf, size_t size)
{
        int pq = PQlibVersion();

        snprintf(buf, size,
                 "reducerd %s (librdkafka %s, libpq %d.%d, jansson %s, "
                 "libyaml %s)",
                 RED_VERSION, rd_kafka_version_str(), pq / 10000, pq % 100,
                 JANSSON_VERSION, yaml_get_version_string());
}
