/* red_pipeline_gaps - offsets the consumer did not see: seek back, or count. */
#include "red_pipeline_gaps.h"

#include "red_log.h"
#include "red_pipeline_parts.h"

/* --- holes in a fetch --------------------------------------------------- */

bool red_pipeline_gaps_accept(red_pipeline_t *p, red_pipeline_part_t *pt,
                              int64_t offset)
{
        int64_t need = pt->fetched;

        if (pt->reseek != need) {
                /* the consumer skipped what we need (a resume that went
                 * on from the fetcher's position, a message polled and
                 * thrown away): read it again, once */
                red_log_warn("kafka",
                             "%s: %s[%d]: offset %lld arrived where %lld was "
                             "expected; %lld offsets not delivered, reading "
                             "again from %lld",
                             p->c->name, pt->topic, (int)pt->partition,
                             (long long)offset, (long long)need,
                             (long long)(offset - need), (long long)need);
                pthread_mutex_lock(&p->lock);
                p->stats.gaps[RED_GAP_FETCH]++;
                pthread_mutex_unlock(&p->lock);
                pt->reseek = need;
                red_pipeline_parts_seek(p, pt);
                return false;
        }
        /* read again from where we need, and the broker still starts
         * later: the log has no records there */
        red_log_debug("pipeline",
                      "%s: %s[%d]: no records at offsets %lld..%lld "
                      "(transaction markers or compaction)",
                      p->c->name, pt->topic, (int)pt->partition,
                      (long long)need, (long long)(offset - 1));
        pthread_mutex_lock(&p->lock);
        p->stats.gaps[RED_GAP_NO_RECORDS]++;
        p->stats.offsets_skipped[RED_SKIP_NO_RECORDS] +=
                (uint64_t)(offset - need);
        pthread_mutex_unlock(&p->lock);
        pt->reseek = -1;
        return true;
}
