/* The hp_env face of the ALFWorld engine: options, reset/step/view/clone, the admissible list
 * (precomputed `go to` strings merged with the sorted dynamic commands), the expert and split stats. */
#include "hiper/alfworld.h"

#include "aw.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct aw_env {
    hp_env base;
    int max_steps;
    uint64_t seed;
    bool started;
    bool fixed; /* plays `game` on every reset (aw_env_from_game) */
    aw_game fixed_game;
    aw_game game;
    aw_state st;
    hp_env_view view;
    bool won, done;
    /* `go to` commands in byte order, generated once per reset */
    int n_goto;
    uint8_t goto_r[AW_MAX_RECEP];
    char goto_txt[AW_MAX_RECEP][AW_NAME_LEN + 8];
    /* the admissible list of the current state */
    int n_adm;
    const char *adm[AW_MAX_ADM];
    aw_action adm_act[AW_MAX_ADM];
    char dyn_txt[AW_MAX_DYN][AW_CMD_LEN];
    char obs[AW_OBS_CAP];
} aw_env;

static const hp_env_ops AW_OPS;

bool hp_alfworld_is(const hp_env *env) { return env && env->ops == &AW_OPS; }

const char *hp_alfworld_task_type_name(int type) {
    return type >= 0 && type < AW_N_TASKS ? aw_task_names[type] : NULL;
}

void hp_alfworld_optimal_range(int type, int *lo, int *hi) {
    static const int R[AW_N_TASKS][2] = {{4, 6}, {3, 5}, {6, 8}, {6, 8}, {5, 8}, {8, 12}};
    *lo = type >= 0 && type < AW_N_TASKS ? R[type][0] : 0;
    *hi = type >= 0 && type < AW_N_TASKS ? R[type][1] : 0;
}

/* Rebuild the admissible list: dynamic commands before "go to", the go-tos, the rest. */
static void build_admissible(aw_env *e) {
    const aw_game *g = &e->game;
    aw_action dyn[AW_MAX_DYN];
    int nd = aw_dynamic_actions(g, &e->st, dyn), n = 0, i = 0;
    for (; i < nd && dyn[i].verb < AW_V_GOTO; i++) {
        aw_render_action(g, dyn[i], e->dyn_txt[i]);
        e->adm_act[n] = dyn[i];
        e->adm[n++] = e->dyn_txt[i];
    }
    for (int k = 0; k < e->n_goto; k++) {
        int r = e->goto_r[k];
        if (g->rloc[r] == e->st.loc) continue;
        e->adm_act[n] = (aw_action){AW_V_GOTO, (uint8_t)r, 0};
        e->adm[n++] = e->goto_txt[k];
    }
    for (; i < nd; i++) {
        e->adm_act[n] = dyn[i];
        switch (dyn[i].verb) { /* constant commands need no rendering */
        case AW_V_HELP: e->adm[n++] = "help"; break;
        case AW_V_INVENTORY: e->adm[n++] = "inventory"; break;
        case AW_V_LOOK: e->adm[n++] = "look"; break;
        default: aw_render_action(g, dyn[i], e->dyn_txt[i]); e->adm[n++] = e->dyn_txt[i]; break;
        }
    }
    e->n_adm = n;
}

static void fill_view(aw_env *e) {
    hp_env_view *v = &e->view;
    v->observation = e->obs;
    v->task = e->game.goal;
    v->task_type = e->game.task.type;
    v->task_type_name = aw_task_names[e->game.task.type];
    v->admissible = e->adm;
    v->n_admissible = e->n_adm;
    v->steps = e->st.steps;
    v->max_steps = e->max_steps;
    v->won = e->won;
    v->done = e->done;
    v->truncated = e->done && !e->won;
    v->score = e->won ? 1.0 : 0.0;
}

static int aw_reset(hp_env *env, const char *split, int64_t index, uint64_t seed, hp_err *err) {
    (void)seed;
    aw_env *e = (aw_env *)env;
    int sc = split ? aw_split_code(split) : -1;
    if (e->fixed) {
        e->game = e->fixed_game;
    } else {
        if (sc < 0) return hp_fail(err, "alfworld: unknown split '%s' (expected train, valid_seen or valid_unseen)", split ? split : "(null)");
        if (aw_game_generate(&e->game, sc, index, e->seed, err)) return HP_FAIL;
    }
    const aw_game *g = &e->game;
    aw_state_init(g, &e->st);
    /* go-to commands sorted by receptacle name */
    e->n_goto = g->n_recep;
    uint8_t order[AW_MAX_RECEP];
    for (int r = 0; r < g->n_recep; r++) {
        int j = r;
        while (j > 0 && g->rkey[order[j - 1]] > g->rkey[r]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint8_t)r;
    }
    for (int k = 0; k < g->n_recep; k++) {
        e->goto_r[k] = order[k];
        aw_render_action(g, (aw_action){AW_V_GOTO, order[k], 0}, e->goto_txt[k]);
    }
    aw_render_intro(g, e->obs, sizeof e->obs);
    e->won = e->done = false;
    e->started = true;
    e->view.reward = 0;
    build_admissible(e);
    fill_view(e);
    return HP_OK;
}

/* Trim surrounding whitespace and lowercase into dst (false if it does not fit). */
static bool normalise(const char *s, char *dst, size_t cap) {
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n >= cap) return false;
    for (size_t i = 0; i < n; i++) dst[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + ('a' - 'A') : s[i]);
    dst[n] = '\0';
    return true;
}

static int find_admissible(const aw_env *e, const char *cmd) {
    int lo = 0, hi = e->n_adm - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(e->adm[mid], cmd);
        if (!c) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static int aw_step(hp_env *env, const char *action, hp_err *err) {
    aw_env *e = (aw_env *)env;
    if (!e->started) return hp_fail(err, "alfworld: step before reset");
    if (e->done) return hp_fail(err, "alfworld: step after the episode ended (steps %d)", e->st.steps);
    if (!action) return hp_fail(err, "alfworld: NULL action");
    char cmd[AW_CMD_LEN];
    int i = normalise(action, cmd, sizeof cmd) ? find_admissible(e, cmd) : -1;
    e->st.steps++;
    if (i < 0) {
        strcpy(e->obs, "Nothing happens.");
    } else {
        aw_apply(&e->game, &e->st, e->adm_act[i], e->obs, sizeof e->obs);
        e->won = aw_goal(&e->game, &e->st);
        build_admissible(e);
    }
    e->done = e->won || e->st.steps >= e->max_steps;
    e->view.reward = e->won ? 10.0 : 0.0;
    fill_view(e);
    return HP_OK;
}

static const hp_env_view *aw_view(const hp_env *env) { return &((const aw_env *)env)->view; }

static hp_env *aw_clone(const hp_env *env, hp_err *err) {
    (void)err;
    const aw_env *e = (const aw_env *)env;
    aw_env *c = hp_xmalloc(sizeof *c);
    memcpy(c, e, sizeof *c);
    if (c->started) build_admissible(c);
    fill_view(c);
    return &c->base;
}

static void aw_free(hp_env *env) { free(env); }

static int64_t aw_split_size(const hp_env *env, const char *split, hp_err *err) {
    (void)env;
    int sc = split ? aw_split_code(split) : -1;
    if (sc < 0) {
        hp_fail(err, "alfworld: unknown split '%s' (expected train, valid_seen or valid_unseen)", split ? split : "(null)");
        return -1;
    }
    int64_t n = 0;
    for (int t = 0; t < AW_N_TASKS; t++) n += aw_split_counts[sc][t];
    return n;
}

static const hp_env_ops AW_OPS = {
    .name = "alfworld",
    .reset = aw_reset,
    .step = aw_step,
    .view = aw_view,
    .clone = aw_clone,
    .free = aw_free,
    .split_size = aw_split_size,
    .step_many = NULL,
};

static int parse_options(const cJSON *opt, int *max_steps, uint64_t *seed, hp_err *err) {
    *max_steps = AW_DEFAULT_MAX_STEPS;
    *seed = 0;
    if (!opt || cJSON_IsNull(opt)) return HP_OK;
    if (!cJSON_IsObject(opt)) return hp_fail(err, "alfworld options: expected a JSON object");
    for (const cJSON *it = opt->child; it; it = it->next) {
        const char *k = it->string ? it->string : "";
        if (!strcmp(k, "max_steps")) {
            if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int)it->valuedouble || it->valueint < 1 || it->valueint > 10000)
                return hp_fail(err, "alfworld options: key 'max_steps' must be an integer in 1..10000");
            *max_steps = it->valueint;
        } else if (!strcmp(k, "seed")) {
            if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble != (double)(int64_t)it->valuedouble)
                return hp_fail(err, "alfworld options: key 'seed' must be a non-negative integer");
            *seed = (uint64_t)it->valuedouble;
        } else {
            return hp_fail(err, "alfworld options: unknown key '%s' (expected max_steps, seed)", k);
        }
    }
    return HP_OK;
}

hp_env *hp_alfworld_open(const cJSON *options, hp_err *err) {
    int max_steps;
    uint64_t seed;
    if (parse_options(options, &max_steps, &seed, err)) return NULL;
    aw_env *e = hp_xcalloc(1, sizeof *e);
    e->base.ops = &AW_OPS;
    e->max_steps = max_steps;
    e->seed = seed;
    e->view.task = "";
    e->view.task_type = -1;
    e->view.task_type_name = "";
    e->view.observation = "";
    e->view.admissible = e->adm;
    e->view.max_steps = max_steps;
    return &e->base;
}

hp_env *aw_env_from_game(const aw_game *g, int max_steps) {
    hp_env *env = hp_alfworld_open(NULL, NULL);
    aw_env *e = (aw_env *)env;
    e->fixed = true;
    e->fixed_game = *g;
    e->max_steps = max_steps;
    return env;
}

const aw_game *aw_env_game(const hp_env *env) { return &((const aw_env *)env)->game; }
const aw_state *aw_env_state(const hp_env *env) { return &((const aw_env *)env)->st; }

/* ---- expert ----------------------------------------------------------------------------------- */

struct hp_alfworld_expert {
    char action[AW_CMD_LEN];
    char subgoal[128];
};

hp_alfworld_expert *hp_alfworld_expert_create(void) { return hp_xcalloc(1, sizeof(hp_alfworld_expert)); }

void hp_alfworld_expert_free(hp_alfworld_expert *x) { free(x); }

int hp_alfworld_expert_act(hp_alfworld_expert *x, const hp_env *env, const char **action, const char **subgoal,
                           hp_err *err) {
    if (!hp_alfworld_is(env)) return hp_fail(err, "alfworld expert: the environment is not alfworld");
    const aw_env *e = (const aw_env *)env;
    if (!e->started) return hp_fail(err, "alfworld expert: environment not reset");
    if (e->done) return hp_fail(err, "alfworld expert: the episode has ended");
    aw_action a = aw_expert_decide(&e->game, &e->st, x->subgoal, sizeof x->subgoal);
    aw_render_action(&e->game, a, x->action);
    *action = x->action;
    if (subgoal) *subgoal = x->subgoal;
    return HP_OK;
}

/* ---- stats ------------------------------------------------------------------------------------ */

int hp_alfworld_stats_compute(const cJSON *options, const char *split, hp_alfworld_stats *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    hp_env *env = hp_alfworld_open(options, err);
    if (!env) return HP_FAIL;
    hp_alfworld_expert *x = hp_alfworld_expert_create();
    int64_t n = aw_split_size(env, split, err);
    int rc = n < 0 ? HP_FAIL : HP_OK;
    double nr = 0, no = 0;
    for (int64_t i = 0; i < n && rc == HP_OK; i++) {
        if ((rc = aw_reset(env, split, i, 0, err))) break;
        const aw_env *e = (const aw_env *)env;
        int t = e->game.task.type;
        out->games[t]++;
        out->optimal_steps[t] += aw_optimal_length(&e->game);
        out->rooms[e->game.room]++;
        nr += e->game.n_recep;
        no += e->game.n_obj;
        while (!e->done && rc == HP_OK) {
            const char *a;
            if ((rc = hp_alfworld_expert_act(x, env, &a, NULL, err))) break;
            rc = aw_step(env, a, err);
        }
        if (e->won) {
            out->expert_won[t]++;
            out->expert_steps[t] += e->st.steps;
        }
    }
    if (n > 0) {
        out->receptacles_mean = nr / (double)n;
        out->objects_mean = no / (double)n;
    }
    hp_alfworld_expert_free(x);
    hp_env_free(env);
    return rc;
}

int hp_alfworld_print_stats(FILE *out, const char *split, const cJSON *options, hp_err *err) {
    const char *splits[] = {"train", "valid_seen", "valid_unseen"};
    hp_alfworld_stats st[3];
    int n = 0;
    const char *names[3];
    for (int i = 0; i < 3; i++) {
        if (split && strcmp(split, splits[i])) continue;
        if (hp_alfworld_stats_compute(options, splits[i], &st[n], err)) return HP_FAIL;
        names[n++] = splits[i];
    }
    if (!n) return hp_fail(err, "unknown split '%s' (train, valid_seen, valid_unseen)", split);
    fprintf(out, "alfworld games per split and task type\n%-13s", "split");
    for (int t = 0; t < HP_ALFWORLD_N_TASK_TYPES; t++) fprintf(out, " %7s", hp_alfworld_task_type_name(t));
    fprintf(out, " %7s  %s\n", "total", "rooms k/l/b/b   recep  objects");
    for (int i = 0; i < n; i++) {
        int64_t tot = 0;
        fprintf(out, "%-13s", names[i]);
        for (int t = 0; t < HP_ALFWORLD_N_TASK_TYPES; t++)
            fprintf(out, " %7lld", (long long)st[i].games[t]), tot += st[i].games[t];
        fprintf(out, " %7lld  %lld/%lld/%lld/%lld  %6.1f  %7.1f\n", (long long)tot, (long long)st[i].rooms[0],
                (long long)st[i].rooms[1], (long long)st[i].rooms[2], (long long)st[i].rooms[3], st[i].receptacles_mean,
                st[i].objects_mean);
    }
    fprintf(out, "\nexpert: success %% / mean steps of won games / mean optimal length of the games (full knowledge)\n%-13s",
            "split");
    for (int t = 0; t < HP_ALFWORLD_N_TASK_TYPES; t++) fprintf(out, " %17s", hp_alfworld_task_type_name(t));
    fprintf(out, "\n");
    for (int i = 0; i < n; i++) {
        fprintf(out, "%-13s", names[i]);
        for (int t = 0; t < HP_ALFWORLD_N_TASK_TYPES; t++) {
            double g = (double)st[i].games[t], w = (double)st[i].expert_won[t];
            fprintf(out, "   %5.1f %5.1f %4.1f", g > 0 ? 100.0 * w / g : 0.0, w > 0 ? (double)st[i].expert_steps[t] / w : 0.0,
                    g > 0 ? (double)st[i].optimal_steps[t] / g : 0.0);
        }
        fprintf(out, "\n");
    }
    fprintf(out, "%-13s", "est. optimal");
    for (int t = 0; t < HP_ALFWORLD_N_TASK_TYPES; t++) {
        int lo, hi;
        hp_alfworld_optimal_range(t, &lo, &hi);
        char r[16];
        snprintf(r, sizeof r, "%d-%d", lo, hi);
        fprintf(out, " %17s", r);
    }
    fprintf(out, "\n");
    return HP_OK;
}
