/*
 * red_pipeline_dlq - a pipeline's dead-letter producer: every input that
 * fails goes to the contract's dead-letter topic, with the original bytes
 * and key and headers naming the error and the source, and Kafka has it
 * before the batch's transaction commits (at least once).
 */
#ifndef RED_PIPELINE_DLQ_H
#define RED_PIPELINE_DLQ_H

#include "red_pipeline_impl.h"

/** Creates p->dlq from the producer configuration (red_kafka_conf.h).
 * 0, or -1 with a message. */
int red_pipeline_dlq_open(red_pipeline_t *p, const char *brokers,
                          const char *client_id, char *errstr,
                          size_t errstr_size) RED_MUSTCHECK;

/**
 * Produces the batch's dead letters and waits until Kafka has them all.
 * True when every one was delivered (or there were none); false to retry
 * the batch.
 */
bool red_pipeline_dlq_send(red_pipeline_t *p);

/** Delivers what is queued (5 s at most) and destroys p->dlq. */
void red_pipeline_dlq_close(red_pipeline_t *p);

#endif
