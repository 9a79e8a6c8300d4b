/* Hand-built ALFWorld games for the transcript tests: receptacles and objects given by name, so a
 * test reads like the specification's examples. */
#ifndef HP_TEST_AW_FIXTURE_H
#define HP_TEST_AW_FIXTURE_H

#include "env/alfworld/aw.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *type;
    int num, loc;
    bool openable;
} fx_recep;

typedef struct {
    const char *type;
    int num;
    const char *in; /* receptacle name, e.g. "fridge 1" */
} fx_obj;

static int fx_type(const char *name) {
    for (int t = 0; t < AW_N_TYPES; t++)
        if (!strcmp(aw_types[t].name, name)) return t;
    abort();
}

static int fx_cmp_key(const void *a, const void *b) {
    const int *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Build a game; entities are sorted into listing order (type ascending, number descending). */
static void fx_build(aw_game *g, const fx_recep *rs, int nr, const fx_obj *os, int no, int task, const char *obj,
                     const char *recep, const char *toggle, int tmpl) {
    memset(g, 0, sizeof *g);
    int keys[AW_MAX_RECEP][2];
    for (int i = 0; i < nr; i++) keys[i][0] = fx_type(rs[i].type) * 1000 + (999 - rs[i].num), keys[i][1] = i;
    qsort(keys, (size_t)nr, sizeof keys[0], fx_cmp_key);
    g->n_recep = nr;
    for (int k = 0; k < nr; k++) {
        const fx_recep *r = &rs[keys[k][1]];
        g->rtype[k] = (uint8_t)fx_type(r->type);
        g->rnum[k] = (uint8_t)r->num;
        g->rloc[k] = (uint8_t)r->loc;
        if (r->openable) g->openable |= 1ull << k;
    }
    aw_game_finish(g); /* receptacle names, so objects can name their receptacle */
    int okeys[AW_MAX_OBJ][2];
    for (int i = 0; i < no; i++) okeys[i][0] = fx_type(os[i].type) * 1000 + (999 - os[i].num), okeys[i][1] = i;
    qsort(okeys, (size_t)no, sizeof okeys[0], fx_cmp_key);
    g->n_obj = no;
    g->task.type = (uint8_t)task;
    g->task.obj = (uint8_t)fx_type(obj);
    g->task.recep = recep ? (uint8_t)fx_type(recep) : 0;
    g->task.toggle = toggle ? (uint8_t)fx_type(toggle) : 0;
    g->task.template = (uint8_t)tmpl;
    for (int k = 0; k < no; k++) {
        const fx_obj *o = &os[okeys[k][1]];
        g->otype[k] = (uint8_t)fx_type(o->type);
        g->onum[k] = (uint8_t)o->num;
        g->parent0[k] = -1;
        for (int r = 0; r < nr; r++)
            if (!strcmp(g->rname[r], o->in)) g->parent0[k] = (int8_t)r;
        if (g->parent0[k] < 0) abort();
        if (g->otype[k] == g->task.obj && g->rtype[g->parent0[k]] == AW_T_FRIDGE) g->flags0[k] = AW_S_COOL;
    }
    aw_game_finish(g);
}

#endif
