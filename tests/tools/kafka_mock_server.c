/*
 * kafka_mock_server - a test helper: librdkafka's mock cluster in its own
 * process, so that it outlives the reducerd processes a fault test kills.
 * Prints the bootstrap address on stdout once the topics are served and
 * runs until SIGTERM/SIGINT or until stdin reaches end of file.
 *
 *   kafka_mock_server [-p PARTITIONS] [-b BROKERS] TOPIC...
 */
#include "red_kafka_mock.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

int main(int argc, char **argv)
{
        int partitions = 3, brokers = 1, opt;
        red_kafka_mock_topic_t *topics;
        red_kafka_mock_t *km;
        char err[512];

        while ((opt = getopt(argc, argv, "p:b:")) != -1) {
                switch (opt) {
                case 'p':
                        partitions = atoi(optarg);
                        break;
                case 'b':
                        brokers = atoi(optarg);
                        break;
                default:
                        fprintf(stderr, "usage: %s [-p N] [-b N] TOPIC...\n",
                                argv[0]);
                        return 2;
                }
        }
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        signal(SIGPIPE, SIG_IGN);
        if (!(km = red_kafka_mock_new(brokers, err, sizeof(err)))) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        topics = calloc((size_t)argc + 1, sizeof(*topics));
        for (int i = optind; topics && i < argc; i++) {
                topics[i - optind] =
                        (red_kafka_mock_topic_t){argv[i], partitions};
        }
        /* the address is printed once clients can use every topic */
        if (!topics ||
            red_kafka_mock_topics(km, topics, (size_t)(argc - optind), err,
                                  sizeof(err)) ||
            red_kafka_mock_wait_ready(km, 30000, err, sizeof(err))) {
                fprintf(stderr, "%s\n", topics ? err : "out of memory");
                free(topics);
                red_kafka_mock_destroy(km);
                return 1;
        }
        free(topics);
        printf("%s\n", red_kafka_mock_bootstraps(km));
        fflush(stdout);
        while (!stop) {
                struct pollfd p = {0, POLLIN, 0};
                char buf[256];
                if (poll(&p, 1, 200) > 0 && read(0, buf, sizeof(buf)) <= 0) {
                        break;
                }
        }
        red_kafka_mock_destroy(km);
        return 0;
}
