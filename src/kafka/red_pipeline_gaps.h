/*
 * red_pipeline_gaps - offsets a pipeline did not see: a partition must be
 * read without a hole, so an offset that arrives beyond the one needed is
 * never applied across. The pipeline seeks back once; a broker that then
 * still starts later has no records there (transaction markers, a
 * compacted log), and the hole is accepted and counted. Runs on the
 * pipeline's thread (red_pipeline_impl.h).
 */
#ifndef RED_PIPELINE_GAPS_H
#define RED_PIPELINE_GAPS_H

#include "red_pipeline_impl.h"

/**
 * A message at @p offset arrived on @p pt, which needs pt->fetched (a
 * smaller offset) next. The first time at that offset: logs at warn,
 * counts the gap, seeks back and returns false (drop the message). After
 * such a seek: the offsets in between hold no records; counts them as
 * skipped (debug log) and returns true (add the message).
 */
bool red_pipeline_gaps_accept(red_pipeline_t *p, red_pipeline_part_t *pt,
                              int64_t offset);

#endif
