/* Batched lock-step rollouts: every turn is hp_turn_play (hiper/turn.h) with one batched policy call
 * as its respond step (see hiper/rollout.h). */
#include "hiper/rollout.h"

#include "hiper/constrain.h"
#include "hiper/turn.h"

#include <stdlib.h>
#include <string.h>

hp_rollout_cfg hp_rollout_cfg_default(hp_fmt fmt, hp_env_family family) {
    hp_rollout_cfg c = {0};
    c.prompt = hp_prompt_cfg_default(fmt, family);
    c.split = "train";
    c.n_tasks = 1;
    c.group_n = 1;
    c.max_steps = 50;
    c.gen.temperature = 1.0;
    c.gen.top_k = 0;
    c.gen.top_p = 1.0;
    c.seed = 1;
    return c;
}

/* A seed derived from a few integers (the stream of one environment, one turn, ...). */
static uint64_t derive(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
    uint64_t k[4] = {seed, a, b, c};
    return hp_hash64(k, sizeof k, 0x68697065726167ULL);
}

void hp_rollout_pick_tasks(int64_t split_size, int n, uint64_t seed, int64_t step, int64_t *out) {
    hp_rng r;
    hp_rng_seed(&r, derive(seed, (uint64_t)step, 0x7461736bULL, 0), 0);
    if (split_size <= 0) {
        for (int i = 0; i < n; i++) out[i] = 0;
        return;
    }
    if ((int64_t)n > split_size) {
        for (int i = 0; i < n; i++) out[i] = (int64_t)hp_rng_below(&r, (uint64_t)split_size);
        return;
    }
    /* without replacement: redraw duplicates (n is a batch size, so the quadratic check is cheap) */
    for (int i = 0; i < n; i++) {
        bool dup;
        do {
            out[i] = (int64_t)hp_rng_below(&r, (uint64_t)split_size);
            dup = false;
            for (int k = 0; k < i && !dup; k++) dup = out[k] == out[i];
        } while (dup);
    }
}

/* Per-environment state during a rollout. */
typedef struct slot {
    hp_memory mem;
    char name[96]; /* "environment i (split[task])", for error messages */
    hp_turn *turns;
    int n_turns, cap;
    bool active;
} slot;

static hp_turn *slot_new_turn(slot *s) {
    if (s->n_turns == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->turns = hp_xrealloc(s->turns, (size_t)s->cap * sizeof *s->turns);
    }
    hp_turn *t = &s->turns[s->n_turns++];
    memset(t, 0, sizeof *t);
    return t;
}

static void turn_free(hp_turn *t) {
    hp_ids_free(&t->prompt);
    hp_ids_free(&t->response);
    free(t->logprobs);
    free(t->mask_row);
    free(t->allowed);
    free(t->prompt_text);
    free(t->response_text);
    free(t->action);
    free(t->switch_word);
    free(t->subgoal);
    free(t->anchor_obs);
}

void hp_rollout_free(hp_rollout *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n_turns; i++) turn_free(&r->turns[i]);
    free(r->turns);
    for (int i = 0; i < r->n_trajs; i++) {
        free(r->trajs[i].task);
        free(r->trajs[i].task_type_name);
    }
    free(r->trajs);
    memset(r, 0, sizeof *r);
}

/* Decode a response without special tokens (as the projection expects). */
static char *decode_plain(const hp_tok *tok, const hp_ids *ids) {
    int32_t *tmp = hp_xmalloc((ids->len + 1) * sizeof *tmp);
    size_t n = 0;
    for (size_t i = 0; i < ids->len; i++)
        if (!hp_tok_is_special(tok, ids->data[i])) tmp[n++] = ids->data[i];
    char *s = hp_tok_decode(tok, tmp, n);
    free(tmp);
    return s;
}

typedef struct run_state {
    hp_env **envs;
    int n;
    const hp_tok *tok;
    const hp_policy *policy;
    const hp_rollout_cfg *cfg;
    slot *slots;
    hp_rollout *out;
    int32_t stop_ids[2];
    hp_policy_opts gen;
    hp_vocab_bytes *vocab; /* constrained actions, else NULL */
    hp_response_shape *shape; /* constrained format, else NULL */
    const int *act;        /* the turn being played: the active environments and the turn index */
    int t;
} run_state;

static int reset_all(run_state *st, const int64_t *idx, hp_err *err) {
    const hp_rollout_cfg *cfg = st->cfg;
    for (int i = 0; i < st->n; i++) {
        int g = i / cfg->group_n;
        /* group members share the task and the in-episode seed, so they start from the same state; the
         * seed is the group's in the whole batch (a data-parallel share starts at first_group) */
        uint64_t env_seed = derive(cfg->seed, (uint64_t)cfg->step, (uint64_t)(cfg->first_group + g), 1);
        if (hp_env_reset(st->envs[i], cfg->split, idx[g], env_seed, err))
            return hp_err_wrap(err, "rollout: resetting environment %d to %s[%lld]", i, cfg->split, (long long)idx[g]);
        const hp_env_view *v = hp_env_get_view(st->envs[i]);
        hp_memory_reset(&st->slots[i].mem, cfg->prompt.family, v);
        snprintf(st->slots[i].name, sizeof st->slots[i].name, "environment %d (%s[%lld])", i, cfg->split,
                 (long long)idx[g]);
        st->slots[i].active = !v->done;
        hp_traj *tr = &st->out->trajs[i];
        tr->group = g;
        tr->task_index = idx[g];
        tr->task = hp_xstrdup(st->slots[i].mem.task);
        tr->task_type = v->task_type;
        tr->task_type_name = hp_xstrdup(v->task_type_name ? v->task_type_name : "");
    }
    /* A later reset can end earlier episodes: when an external server fails, every episode on it is
     * ended as truncated (hiper/external.h). Such an episode has no turn and counts as truncated. */
    for (int i = 0; i < st->n; i++) {
        const hp_env_view *v = hp_env_get_view(st->envs[i]);
        if (!st->slots[i].active || !v->done) continue;
        st->slots[i].active = false;
        st->out->trajs[i].truncated = v->truncated;
    }
    return HP_OK;
}

/* The rollout's respond() for hp_turn_play: a turn record per active environment (taking the rendered
 * prompt), then every response in one batched policy call. */
static int respond(void *ctx, hp_turn_agent *ag, int na, hp_err *err) {
    run_state *st = ctx;
    const hp_rollout_cfg *cfg = st->cfg;
    const int *act = st->act;
    int t = st->t;
    hp_ids *prompts = hp_xcalloc((size_t)na, sizeof *prompts);
    uint64_t *seeds = hp_xmalloc((size_t)na * sizeof *seeds);
    hp_gen_out *outs = hp_xcalloc((size_t)na, sizeof *outs);
    int rc = HP_FAIL;
    for (int k = 0; k < na; k++) {
        int i = act[k];
        slot *s = &st->slots[i];
        hp_turn *tr = slot_new_turn(s);
        tr->traj = i;
        tr->group = i / cfg->group_n;
        tr->t = t;
        tr->task_type = hp_env_get_view(st->envs[i])->task_type;
        tr->anchor_obs = hp_xstrdup(s->mem.obs);
        tr->prompt_text = ag[k].prompt;
        tr->prompt = ag[k].prompt_ids;
        tr->prompt_truncated = ag[k].prompt_truncated;
        ag[k].prompt = NULL;
        memset(&ag[k].prompt_ids, 0, sizeof ag[k].prompt_ids);
        st->out->n_prompt_truncated += tr->prompt_truncated;
        if ((int)tr->prompt.len > st->out->max_prompt_len) st->out->max_prompt_len = (int)tr->prompt.len;
        st->out->n_prompt_tokens += (int64_t)tr->prompt.len;
        prompts[k] = tr->prompt; /* shallow view; the turn owns the ids */
    }
    int64_t first_env = (int64_t)cfg->first_group * cfg->group_n; /* this share's first environment in the batch */
    for (int k = 0; k < na; k++)
        seeds[k] = derive(cfg->seed, (uint64_t)cfg->step, (uint64_t)(first_env + act[k]), (uint64_t)t + 2);
    hp_policy_opts gen = st->gen;
    const char *const **adm = NULL;
    int *n_adm = NULL;
    if (st->vocab) { /* each environment's admissible commands now */
        adm = hp_xcalloc((size_t)na, sizeof *adm);
        n_adm = hp_xcalloc((size_t)na, sizeof *n_adm);
        for (int k = 0; k < na; k++) {
            const hp_env_view *v = hp_env_get_view(st->envs[act[k]]);
            adm[k] = v->admissible;
            n_adm[k] = v->n_admissible;
        }
        gen.vocab = st->vocab;
        gen.shape = st->shape;
        gen.admissible = adm;
        gen.n_admissible = n_adm;
    }
    double t0 = hp_now();
    int grc = hp_policy_generate(st->policy, na, prompts, &gen, seeds, outs, err);
    free(adm);
    free(n_adm);
    if (grc) {
        hp_err_wrap(err, "generating turn %d", t);
        goto done;
    }
    st->out->gen_seconds += hp_now() - t0;
    for (int k = 0; k < na; k++) {
        slot *s = &st->slots[act[k]];
        hp_turn *tr = &s->turns[s->n_turns - 1];
        tr->response = outs[k].ids;
        tr->logprobs = outs[k].logprobs;
        tr->resp_truncated = outs[k].truncated;
        tr->mask_row = outs[k].mask_row;
        tr->allowed = outs[k].allowed;
        tr->n_allowed = outs[k].n_allowed;
        tr->allowed_stride = outs[k].allowed_stride;
        memset(&outs[k], 0, sizeof outs[k]);
        st->out->n_response_tokens += (int64_t)tr->response.len;
        st->out->n_resp_truncated += tr->resp_truncated;
        tr->response_text = decode_plain(st->tok, &tr->response);
        ag[k].response = tr->response_text;
    }
    rc = HP_OK;
done:
    for (int k = 0; k < na; k++) hp_gen_out_free(&outs[k]);
    free(prompts);
    free(seeds);
    free(outs);
    return rc;
}

/* One lock-step turn over the active environments (hp_turn_play), then the records' outcomes. */
static int play_turn(run_state *st, const int *act, int na, int t, hp_err *err) {
    const hp_rollout_cfg *cfg = st->cfg;
    hp_turn_agent *ag = hp_xcalloc((size_t)na, sizeof *ag);
    for (int k = 0; k < na; k++) {
        ag[k].env = st->envs[act[k]];
        ag[k].mem = &st->slots[act[k]].mem;
        ag[k].name = st->slots[act[k]].name;
    }
    st->act = act;
    st->t = t;
    hp_turn_cfg tc = {.prompt = &cfg->prompt, .tok = st->tok, .keep_holds_subgoal = cfg->keep_holds_subgoal,
                      .respond = respond, .ctx = st};
    int rc = hp_turn_play(&tc, t, ag, na, &st->out->env_seconds, err);
    for (int k = 0; k < na && rc == HP_OK; k++) {
        slot *s = &st->slots[act[k]];
        hp_turn *tr = &s->turns[s->n_turns - 1];
        const hp_env_view *v = hp_env_get_view(ag[k].env);
        tr->action = hp_xstrdup(ag[k].proj.action);
        tr->switch_word = hp_xstrdup(ag[k].proj.switch_word);
        tr->subgoal = hp_xstrdup(ag[k].proj.subgoal);
        tr->valid = ag[k].proj.valid;
        tr->reward = v->reward;
        tr->score = v->score;
        tr->done = v->done;
        tr->won = v->won;
        bool capped = t + 1 >= cfg->max_steps;
        tr->truncated = v->truncated || (capped && !v->done);
        if (v->done || tr->truncated) s->active = false;
    }
    for (int k = 0; k < na; k++) hp_turn_agent_clear(&ag[k]);
    free(ag);
    return rc;
}

/* Move the per-slot turns into the trajectory-major record array and fill the episode summaries. */
static void flatten(run_state *st) {
    hp_rollout *r = st->out;
    size_t total = 0;
    for (int i = 0; i < st->n; i++) total += (size_t)st->slots[i].n_turns;
    r->turns = hp_xcalloc(total ? total : 1, sizeof *r->turns);
    for (int i = 0; i < st->n; i++) {
        slot *s = &st->slots[i];
        hp_traj *tr = &r->trajs[i];
        tr->first_turn = (int)r->n_turns;
        tr->n_turns = s->n_turns;
        for (int k = 0; k < s->n_turns; k++) {
            const hp_turn *u = &s->turns[k];
            tr->ret += u->reward;
            tr->n_invalid += !u->valid;
            if (k == s->n_turns - 1) {
                tr->won = u->won;
                tr->done = u->done;
                tr->truncated = u->truncated;
                tr->score = u->score;
            }
        }
        if (s->n_turns) memcpy(&r->turns[r->n_turns], s->turns, (size_t)s->n_turns * sizeof *s->turns);
        r->n_turns += (size_t)s->n_turns;
        free(s->turns);
        s->turns = NULL;
        s->n_turns = s->cap = 0;
    }
}

static int check_cfg(hp_env **envs, const hp_rollout_cfg *cfg, hp_err *err) {
    if (cfg->n_tasks < 1 || cfg->group_n < 1) return hp_fail(err, "rollout: n_tasks and group_n must be >= 1");
    if (cfg->first_group < 0 || (cfg->total_groups > 0 && cfg->first_group + cfg->n_tasks > cfg->total_groups))
        return hp_fail(err, "rollout: groups %d..%d are not within a batch of %d", cfg->first_group,
                       cfg->first_group + cfg->n_tasks - 1, cfg->total_groups);
    if (cfg->max_steps < 1) return hp_fail(err, "rollout: max_steps must be >= 1");
    if (!cfg->split || !*cfg->split) return hp_fail(err, "rollout: no split given");
    for (int i = 0; i < cfg->n_tasks * cfg->group_n; i++)
        if (!envs[i]) return hp_fail(err, "rollout: environment %d is missing", i);
    return HP_OK;
}

int hp_rollout_run(hp_env **envs, const hp_tok *tok, const hp_policy *policy, const hp_rollout_cfg *cfg,
                   hp_rollout *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    if (check_cfg(envs, cfg, err)) return HP_FAIL;
    double t_start = hp_now();
    run_state st = {.envs = envs, .n = cfg->n_tasks * cfg->group_n, .tok = tok, .policy = policy, .cfg = cfg, .out = out};
    st.gen = cfg->gen;
    st.gen.max_new_tokens = cfg->prompt.max_response_tokens; /* the one response limit */
    if (st.gen.max_new_tokens <= 0) {
        hp_fail(err, "rollout: no response token limit (prompt.max_response_tokens is %d)", st.gen.max_new_tokens);
        return HP_FAIL;
    }
    if (st.gen.n_stop == 0) {
        int ns = 0;
        if (hp_tok_im_end(tok) >= 0) st.stop_ids[ns++] = hp_tok_im_end(tok);
        if (hp_tok_eos(tok) >= 0 && hp_tok_eos(tok) != hp_tok_im_end(tok)) st.stop_ids[ns++] = hp_tok_eos(tok);
        st.gen.stop_ids = st.stop_ids;
        st.gen.n_stop = ns;
    }
    if (cfg->prompt.constrain_actions) st.vocab = hp_vocab_bytes_new(hp_tok_bytes_fn, tok, hp_tok_vocab_size(tok));
    if (cfg->prompt.constrain_actions && cfg->prompt.constrain_format) st.shape = hp_response_shape_new((int)cfg->prompt.fmt);
    int64_t *idx = hp_xmalloc((size_t)cfg->n_tasks * sizeof *idx);
    st.slots = hp_xcalloc((size_t)st.n, sizeof *st.slots);
    int *act = hp_xmalloc((size_t)st.n * sizeof *act);
    int rc = HP_FAIL;
    out->n_trajs = st.n;
    out->trajs = hp_xcalloc((size_t)st.n, sizeof *out->trajs);
    if (cfg->task_indices) memcpy(idx, cfg->task_indices, (size_t)cfg->n_tasks * sizeof *idx);
    else {
        int64_t size = hp_env_split_size(envs[0], cfg->split, err);
        if (size < 0) {
            hp_err_wrap(err, "rollout");
            goto done;
        }
        /* drawn for the whole batch, this share's slice taken */
        int total = cfg->total_groups > 0 ? cfg->total_groups : cfg->n_tasks;
        int64_t *all = hp_xmalloc((size_t)total * sizeof *all);
        hp_rollout_pick_tasks(size, total, cfg->seed, cfg->step, all);
        memcpy(idx, all + cfg->first_group, (size_t)cfg->n_tasks * sizeof *idx);
        free(all);
    }
    if (reset_all(&st, idx, err)) goto done;
    for (int t = 0; t < cfg->max_steps; t++) {
        int na = 0;
        for (int i = 0; i < st.n; i++)
            if (st.slots[i].active) act[na++] = i;
        if (!na) break;
        if (play_turn(&st, act, na, t, err)) {
            hp_err_wrap(err, "rollout");
            goto done;
        }
    }
    rc = HP_OK;
done:
    flatten(&st);
    for (int i = 0; i < st.n; i++) hp_memory_free(&st.slots[i].mem);
    free(st.slots);
    free(act);
    free(idx);
    hp_vocab_bytes_free(st.vocab);
    hp_response_shape_free(st.shape);
    out->seconds = hp_now() - t_start;
    if (rc) hp_rollout_free(out);
    return rc;
}
