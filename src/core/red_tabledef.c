/* red_tabledef - table definitions: freed and looked up (they are built
 * in red_tabledef_build.c). */
#include "red_tabledef.h"

#include <stdlib.h>
#include <string.h>

static void coldef_free(red_coldef_t *col)
{
        free(col->name);
        free(col->type);
        free(col->def);
        free(col->comment);
}

static void tabledef_free(red_tabledef_t *t)
{
        free(t->name);
        free(t->owner);
        for (size_t i = 0; i < t->col_cnt; i++) {
                coldef_free(&t->cols[i]);
        }
        free(t->cols);
        for (size_t i = 0; i < t->pkey_cnt; i++) {
                free(t->pkey[i]);
        }
        free(t->pkey);
        free(t->part_column);
        for (size_t i = 0; i < t->idx_cnt; i++) {
                free(t->idx[i].name);
                free(t->idx[i].method);
                free(t->idx[i].where);
                for (size_t k = 0; k < t->idx[i].column_cnt; k++) {
                        free(t->idx[i].columns[k]);
                }
                free(t->idx[i].columns);
        }
        free(t->idx);
        free(t->comment);
        for (size_t i = 0; i < t->meaning_cnt; i++) {
                free(t->meanings[i].name);
                free(t->meanings[i].text);
        }
        free(t->meanings);
}

void red_tabledef_set_destroy(red_tabledef_set_t *defs)
{
        for (size_t i = 0; defs && i < defs->cnt; i++) {
                tabledef_free(&defs->items[i]);
        }
        if (defs) {
                free(defs->items);
                defs->items = NULL;
                defs->cnt = 0;
        }
}

const red_tabledef_t *red_tabledef_set_find(const red_tabledef_set_t *defs,
                                            const char *name)
{
        for (size_t i = 0; i < defs->cnt; i++) {
                if (!strcmp(defs->items[i].name, name)) {
                        return &defs->items[i];
                }
        }
        return NULL;
}

const red_coldef_t *red_tabledef_col(const red_tabledef_t *t, const char *name)
{
        for (size_t i = 0; i < t->col_cnt; i++) {
                if (!strcmp(t->cols[i].name, name)) {
                        return &t->cols[i];
                }
        }
        return NULL;
}

const red_meaning_t *red_tabledef_meaning(const red_tabledef_t *t,
                                          const char *name)
{
        for (size_t i = 0; i < t->meaning_cnt; i++) {
                if (!strcmp(t->meanings[i].name, name)) {
                        return &t->meanings[i];
                }
        }
        return NULL;
}
