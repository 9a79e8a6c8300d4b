/* SFT demonstrations from an expert, played turn by turn exactly as rollouts play (hiper/turn.h), their
 * tokenisation, and the environment-text corpus for tokenizer training (see hiper/sft.h). */
#include "hiper/sft.h"
#include "hiper/turn.h"

#include <stdlib.h>
#include <string.h>

hp_demo_cfg hp_demo_cfg_default(hp_fmt fmt, hp_env_family family) {
    hp_demo_cfg c = {0};
    c.prompt = hp_prompt_cfg_default(fmt, family);
    c.split = "train";
    c.n_episodes = 100;
    c.max_steps = 50;
    c.noise = 0.1;
    c.keep_noisy_targets = false;
    c.seed = 1;
    return c;
}

static void set_push(hp_sft_set *s, char *prompt, char *response) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->ex = hp_xrealloc(s->ex, (size_t)s->cap * sizeof *s->ex);
    }
    s->ex[s->n++] = (hp_sft_example){prompt, response};
}

void hp_sft_set_free(hp_sft_set *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) {
        free(s->ex[i].prompt);
        free(s->ex[i].response);
    }
    free(s->ex);
    memset(s, 0, sizeof *s);
}

/* A random admissible command other than "help" (the detour of a noisy step), or NULL. */
static const char *random_admissible(const hp_env_view *v, hp_rng *r) {
    int n = 0;
    for (int i = 0; i < v->n_admissible; i++) n += strcmp(v->admissible[i], "help") != 0;
    if (!n) return NULL;
    int k = (int)hp_rng_below(r, (uint64_t)n);
    for (int i = 0; i < v->n_admissible; i++)
        if (strcmp(v->admissible[i], "help") != 0 && k-- == 0) return v->admissible[i];
    return NULL;
}

/* What one demonstration step produced: the prompt, the target response, and whether it was a detour.
 * Borrowed: a visitor copies what it keeps. */
typedef struct demo_step {
    const char *prompt, *user, *response;
    bool noisy;
} demo_step;

/* Called for every step of every demonstration episode, before the step is taken (m and v are the state
 * the prompt shows). */
typedef void (*demo_visit)(void *ctx, const hp_demo_cfg *cfg, const hp_memory *m, const hp_env_view *v,
                           const demo_step *s);

/* One demonstration episode in progress: the expert, the noise stream and the previous label/action. */
typedef struct demo_state {
    const hp_demo_cfg *cfg;
    hp_expert *ex;
    hp_rng rng;
    hp_buf action, label, prev, last_act;
    char *response; /* this turn's target, read by hp_turn_play */
    demo_visit visit;
    void *ctx;
    hp_sft_set *counts;
    int64_t idx; /* the episode's task */
    int t;       /* the turn */
} demo_state;

/* hp_turn_play's respond(): the expert's next action (or a detour) and its subgoal label as the ideal
 * response of the run's format, shown to the visitor. */
static int demo_respond(void *ctx, hp_turn_agent *a, int n, hp_err *err) {
    (void)n;
    demo_state *d = ctx;
    const hp_demo_cfg *cfg = d->cfg;
    const hp_env_view *v = hp_env_get_view(a->env);
    if (d->ex->next(d->ex->self, a->env, &d->action, &d->label, err))
        return hp_err_wrap(err, "expert at step %d", d->t);
    const char *act = d->action.data;
    bool noisy = false;
    if (cfg->noise > 0 && hp_rng_uniform(&d->rng) < cfg->noise) {
        bool repeat = cfg->noise_repeat > 0 && hp_rng_uniform(&d->rng) < cfg->noise_repeat;
        const char *r = repeat && d->last_act.len ? d->last_act.data : random_admissible(v, &d->rng);
        if (r) {
            act = r;
            noisy = true;
        }
    }
    bool do_switch = d->t == 0 || strcmp(d->label.data, d->prev.data ? d->prev.data : "") != 0;
    free(d->response);
    d->response = hp_prompt_response(cfg->prompt.fmt, do_switch, d->label.data, d->label.data, act);
    a->response = d->response;
    char *user = hp_prompt_user_text(&cfg->prompt, a->mem, v);
    demo_step s = {a->prompt, user, d->response, noisy};
    d->visit(d->ctx, cfg, a->mem, v, &s);
    free(user);
    d->counts->n_noisy_turns += noisy;
    hp_buf_clear(&d->prev);
    hp_buf_puts(&d->prev, d->label.data);
    return HP_OK;
}

/* Play the episodes: the expert acts (with noise), and every step is one hp_turn_play (hiper/turn.h),
 * rendered, projected and remembered exactly as a rollout's turn; visit() sees it. */
static int play_demos(hp_env *env, hp_expert *ex, const hp_demo_cfg *cfg, demo_visit visit, void *ctx,
                      hp_sft_set *counts, hp_err *err) {
    int64_t size = hp_env_split_size(env, cfg->split, err);
    if (size < 0) return hp_err_wrap(err, "demonstrations");
    if (size == 0) return hp_fail(err, "demonstrations: split '%s' is empty", cfg->split);
    demo_state d = {.cfg = cfg, .ex = ex, .visit = visit, .ctx = ctx, .counts = counts};
    hp_rng_seed(&d.rng, cfg->seed, 0x64656d6fULL);
    hp_turn_cfg tc = {.prompt = &cfg->prompt, .tok = NULL, .keep_holds_subgoal = cfg->keep_holds_subgoal,
                      .respond = demo_respond, .ctx = &d};
    hp_memory m = {0};
    int rc = HP_OK;
    for (int ep = 0; ep < cfg->n_episodes && rc == HP_OK; ep++) {
        d.idx = cfg->n_tasks > 0 ? cfg->tasks[ep % cfg->n_tasks] : (int64_t)hp_rng_below(&d.rng, (uint64_t)size);
        if (hp_env_reset(env, cfg->split, d.idx, cfg->seed + (uint64_t)ep, err)) {
            rc = hp_err_wrap(err, "demonstrations: reset %s[%lld]", cfg->split, (long long)d.idx);
            break;
        }
        const hp_env_view *v = hp_env_get_view(env);
        hp_memory_reset(&m, cfg->prompt.family, v);
        hp_buf_clear(&d.prev);
        hp_buf_clear(&d.last_act);
        for (d.t = 0; d.t < cfg->max_steps && !v->done; d.t++) {
            hp_turn_agent a = {.env = env, .mem = &m};
            rc = hp_turn_play(&tc, d.t, &a, 1, NULL, err);
            if (rc == HP_OK) {
                hp_buf_clear(&d.last_act);
                hp_buf_puts(&d.last_act, a.exec);
            }
            hp_turn_agent_clear(&a);
            if (rc) {
                hp_err_wrap(err, "demonstrations: %s[%lld]", cfg->split, (long long)d.idx);
                break;
            }
            v = hp_env_get_view(env);
        }
        counts->n_episodes++;
        counts->n_won += v->won;
    }
    hp_memory_free(&m);
    hp_buf_free(&d.action);
    hp_buf_free(&d.label);
    hp_buf_free(&d.prev);
    hp_buf_free(&d.last_act);
    free(d.response);
    return rc;
}

static void collect_visit(void *ctx, const hp_demo_cfg *cfg, const hp_memory *m, const hp_env_view *v,
                          const demo_step *s) {
    (void)m;
    (void)v;
    hp_sft_set *set = ctx;
    if (!s->noisy || cfg->keep_noisy_targets) set_push(set, hp_xstrdup(s->prompt), hp_xstrdup(s->response));
}

int hp_sft_collect(hp_env *env, hp_expert *expert, const hp_demo_cfg *cfg, hp_sft_set *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    if (cfg->n_episodes < 0 || cfg->max_steps < 1 || !(cfg->noise >= 0 && cfg->noise <= 1) ||
        !(cfg->noise_repeat >= 0 && cfg->noise_repeat <= 1))
        return hp_fail(err,
                       "demonstrations: need episodes >= 0, max_steps >= 1, 0 <= noise <= 1 and 0 <= noise_repeat <= 1 "
                       "(got %d, %d, %g, %g)",
                       cfg->n_episodes, cfg->max_steps, cfg->noise, cfg->noise_repeat);
    if (play_demos(env, expert, cfg, collect_visit, out, out, err)) {
        hp_sft_set_free(out);
        return HP_FAIL;
    }
    return HP_OK;
}

/* ---- tokenisation ------------------------------------------------------------------------------ */

int hp_sft_tokenize(const hp_tok *tok, const hp_sft_example *ex, int max_len, hp_sft_tokens *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    hp_ids resp = {0};
    if (hp_tok_encode(tok, ex->prompt, strlen(ex->prompt), &out->ids, err) ||
        hp_tok_encode(tok, ex->response, strlen(ex->response), &resp, err)) {
        hp_ids_free(&resp);
        hp_sft_tokens_free(out);
        return hp_err_wrap(err, "tokenising an SFT example");
    }
    int32_t stop = hp_tok_im_end(tok) >= 0 ? hp_tok_im_end(tok) : hp_tok_eos(tok);
    if (stop >= 0) hp_ids_push(&resp, stop);
    if (max_len > 0 && resp.len + 1 > (size_t)max_len) {
        size_t n = resp.len;
        hp_ids_free(&resp);
        hp_sft_tokens_free(out);
        return hp_fail(err, "SFT example: the response alone has %zu tokens, more than max_len = %d", n, max_len);
    }
    /* over max_len: drop the oldest prompt tokens (the response is always kept whole) */
    if (max_len > 0 && out->ids.len + resp.len > (size_t)max_len) {
        size_t keep = (size_t)max_len - resp.len, drop = out->ids.len - keep;
        memmove(out->ids.data, out->ids.data + drop, keep * sizeof *out->ids.data);
        out->ids.len = keep;
        out->truncated = true;
    }
    out->n_prompt = (int)out->ids.len;
    hp_ids_append(&out->ids, resp.data, resp.len);
    hp_ids_free(&resp);
    out->weight = hp_xcalloc(out->ids.len, sizeof *out->weight);
    for (size_t i = (size_t)out->n_prompt; i < out->ids.len; i++) out->weight[i] = 1.0f;
    return HP_OK;
}

void hp_sft_tokens_free(hp_sft_tokens *t) {
    if (!t) return;
    hp_ids_free(&t->ids);
    free(t->weight);
    memset(t, 0, sizeof *t);
}

/* ---- corpus ------------------------------------------------------------------------------------ */

typedef struct corpus_ctx {
    FILE *fp;
    bool failed;
} corpus_ctx;

/* Every state contributes its prompt in both styles (their fixed wording and the environment text)
 * and the target response. */
static void corpus_visit(void *ctx, const hp_demo_cfg *cfg, const hp_memory *m, const hp_env_view *v,
                         const demo_step *s) {
    corpus_ctx *c = ctx;
    hp_prompt_cfg other = cfg->prompt;
    other.style = cfg->prompt.style == HP_STYLE_COMPACT ? HP_STYLE_UPSTREAM : HP_STYLE_COMPACT;
    char *u = hp_prompt_user_text(&other, m, v);
    if (fprintf(c->fp, "%s\n%s\n%s\n\n", s->user, u, s->response) < 0) c->failed = true;
    free(u);
}

int hp_sft_write_corpus(hp_env *env, hp_expert *expert, const hp_demo_cfg *cfg, const char *path, hp_err *err) {
    hp_afile af;
    if (hp_afile_open(&af, path, err)) return HP_FAIL;
    corpus_ctx c = {af.fp, false};
    hp_sft_set counts = {0};
    if (play_demos(env, expert, cfg, corpus_visit, &c, &counts, err)) {
        hp_afile_abort(&af);
        return hp_err_wrap(err, "corpus %s", path);
    }
    if (c.failed) {
        hp_afile_abort(&af);
        return hp_fail(err, "corpus %s: write failed", path);
    }
    return hp_afile_commit(&af, err);
}
