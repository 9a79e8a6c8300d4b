/* trainer.c — one training run, top to bottom (see hiper/train.h):
 *   prepare: tokenizer → initial model (init or load) → SFT warm start → reference policy
 *   evaluate before RL
 *   for each step: [validate] → rollout → rows → scores (old, ref, values) → advantages →
 *                  critic update → actor update → metrics line → checkpoint
 *   evaluate after RL, print the success table, write the report. */
#include "hiper/train.h"

#include "hiper/agent.h"
#include "hiper/dist.h"
#include "hiper/model.h"
#include "hiper/ppo.h"
#include "hiper/sft_train.h"
#include "train_internal.h"
#include "trainlog.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct trainer {
    const hp_runcfg *cfg;
    const hp_train_opts *opts;
    FILE *log;
    char *dir, *tokdir, *refdir, *latest, *best, *metrics, *rollouts;
    hp_tok *tok;
    hp_model *actor, *critic, *ref;
    hp_learn_cfg learn; /* rows, scores, advantages and updates: the run configuration resolved */
    /* the modules' configurations, resolved once from the run configuration (resolve_modules) */
    hp_prompt_cfg prompt;
    hp_rollout_cfg rollout; /* a training step's rollout (its step set per step) */
    hp_demo_cfg demo;       /* the SFT demonstrations (and the tokenizer's corpus) */
    hp_sft_cfg sft;
    int64_t *fixed_tasks;   /* env.train_tasks cycled to fill a batch (rollout.task_indices), or NULL */
    hp_lora lora;           /* model.lora_*: rank 0 = full fine-tuning */
    hp_ckpt_files files;    /* what checkpoints hold besides the models */
    hp_fmt fmt;
    hp_env_family family;
    cJSON *env_opts;
    hp_trainlog *mlog; /* where the metric records go (trainer.logger) */
    hp_ckpt_state st;
    int64_t train_tasks[HP_RC_MAX_TRAIN_TASKS]; /* env.train_tasks parsed (n_train_tasks = 0: drawn) */
    int n_train_tasks;
    int lock_fd; /* the run directory's lock (hp_run_lock), -1 when none is held */
    const hp_dist *dist; /* data-parallel context (NULL = one process); rank 0 writes the run directory */
    bool root;
    int g0, g1;          /* this rank's task groups of each step */
} trainer;

/* ---- small helpers ------------------------------------------------------------------------------- */

static uint64_t run_seed(const hp_runcfg *c) { return (uint64_t)c->trainer.seed * 1000003ULL + (uint64_t)c->env.seed; }

/* The prompts follow the text the run's environments speak (hp_env_family_get: a served ALFWorld is
 * prompted exactly like the built-in one), read off one of them, opened already. */
static int make_prompt_cfg(trainer *t, const hp_env *env, hp_err *err) {
    const hp_runcfg *c = t->cfg;
    hp_prompt_style style;
    if (hp_fmt_parse(c->env.format, &t->fmt, err) || hp_prompt_style_parse(c->env.prompt_style, &style, err))
        return HP_FAIL;
    t->family = hp_env_family_get(env);
    t->prompt = hp_prompt_cfg_default(t->fmt, t->family);
    t->prompt.style = style;
    t->prompt.history_length = (int)c->env.history_length;
    t->prompt.max_prompt_tokens = (int)c->data.max_prompt_length;
    t->prompt.max_response_tokens = (int)c->data.max_response_length;
    t->prompt.truncate_prompt = !strcmp(c->data.truncation, "left");
    t->prompt.constrain_actions = c->rollout.constrain_actions;
    t->prompt.constrain_format = c->rollout.constrain_format;
    return HP_OK;
}

/* The run configuration resolved, after the prompts' (make_prompt_cfg), into the configurations the
 * agent's modules take: the training rollouts', the demonstrations' and SFT's. (The learner's, t->learn,
 * is resolved first of all.) */
static void resolve_modules(trainer *t) {
    const hp_runcfg *c = t->cfg;
    hp_rollout_cfg *r = &t->rollout;
    *r = hp_rollout_cfg_default(t->fmt, t->family);
    r->prompt = t->prompt; /* its max_response_tokens is the response limit */
    r->split = c->env.train_split;
    r->n_tasks = (int)c->data.train_batch_size;
    r->group_n = (int)c->env.rollout.n;
    r->max_steps = (int)c->env.max_steps;
    r->gen.temperature = c->rollout.temperature;
    r->gen.top_k = c->rollout.top_k > 0 ? (int)c->rollout.top_k : 0;
    r->gen.top_p = c->rollout.top_p;
    r->gen.logp_at_temperature = c->rollout.logp_at_temperature;
    r->seed = run_seed(c);
    r->keep_holds_subgoal = c->env.keep_holds_subgoal;
    if (t->n_train_tasks > 0) { /* the same tasks every step, cycled to fill the batch */
        t->fixed_tasks = hp_xmalloc((size_t)r->n_tasks * sizeof *t->fixed_tasks);
        for (int i = 0; i < r->n_tasks; i++) t->fixed_tasks[i] = t->train_tasks[i % t->n_train_tasks];
        r->task_indices = t->fixed_tasks;
    }

    hp_demo_cfg *d = &t->demo;
    *d = hp_demo_cfg_default(t->fmt, t->family);
    d->prompt = t->prompt;
    d->split = c->env.train_split;
    d->n_episodes = (int)c->sft.episodes;
    d->max_steps = (int)c->env.max_steps;
    d->noise = c->sft.noise;
    d->noise_repeat = c->sft.noise_repeat;
    d->keep_holds_subgoal = c->env.keep_holds_subgoal; /* the turn a rollout plays */
    d->seed = run_seed(c) ^ 0x5f7ULL;
    d->tasks = t->train_tasks;
    d->n_tasks = t->n_train_tasks;

    hp_sft_cfg *s = &t->sft;
    *s = hp_sft_cfg_default();
    s->epochs = (int)c->sft.epochs;
    s->batch = (int)c->sft.batch;
    s->lr = c->sft.lr;
    s->warmup_ratio = c->sft.lr_warmup_steps_ratio;
    s->min_lr_ratio = c->sft.min_lr_ratio;
    s->weight_decay = c->sft.weight_decay;
    s->grad_clip = c->sft.grad_clip;
    s->max_len = (int)c->sft.max_len;
    s->seed = (uint64_t)c->trainer.seed;
    s->log_every = t->opts->quiet ? 0 : 25;
    s->dist = t->dist; /* each rank passes its share of every batch */

    t->lora = (hp_lora){.rank = (int)c->model.lora_rank, .alpha = c->model.lora_alpha, .targets = HP_LORA_ALL};
    t->files = (hp_ckpt_files){.prompt = &t->prompt, .env_kind = c->env.name, /* .tokenizer_dir: once prepared */
                               .actor_base = t->refdir,
                               .critic_base = c->model.critic_path[0] ? c->model.critic_path : t->refdir};
}

static hp_env **open_envs(const trainer *t, int n, hp_err *err) {
    hp_env **envs = hp_xcalloc((size_t)(n ? n : 1), sizeof *envs);
    if (hp_env_open_many(t->cfg->env.name, t->env_opts, n, envs, err)) {
        free(envs);
        return NULL;
    }
    return envs;
}

static void close_envs(hp_env **envs, int n) {
    for (int i = 0; envs && i < n; i++) hp_env_free(envs[i]);
    free(envs);
}

static void say(const trainer *t, const char *fmt, ...) HP_PRINTF(2, 3);
static void say(const trainer *t, const char *fmt, ...) {
    if (t->opts->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(t->log, fmt, ap);
    va_end(ap);
    fflush(t->log);
}

/* ---- preparation --------------------------------------------------------------------------------- */

/* The tokenizer: given, the model's own, or trained on environment text (expert episodes). */
static int prepare_tokenizer(trainer *t, hp_err *err) {
    const hp_runcfg *c = t->cfg;
    char *tj = hp_path_join(t->tokdir, "tokenizer.json");
    bool have = hp_path_exists(tj);
    free(tj);
    if (!have) {
        const char *src = c->model.tokenizer[0] ? c->model.tokenizer : c->model.path[0] ? c->model.path : NULL;
        if (src) {
            hp_tok *tok = hp_tok_load(src, err);
            if (!tok) return hp_err_wrap(err, "%s", c->model.tokenizer[0] ? "model.tokenizer" : "model.path");
            hp_tok_free(tok);
            t->tok = NULL;
            /* Use it in place (its directory or file). */
            free(t->tokdir);
            t->tokdir = hp_xstrdup(src);
        } else {
            double t0 = hp_now();
            say(t, "[1/5] training a %lld-token BPE tokenizer on %s text ...\n", (long long)c->model.tokenizer_vocab,
                c->env.name);
            hp_env *env = hp_env_open(c->env.name, t->env_opts, err);
            if (!env) return hp_err_wrap(err, "tokenizer corpus");
            hp_expert ex;
            int rc = hp_expert_open(c->env.name, &ex, err);
            char *corpus = hp_path_join(t->dir, "corpus.txt");
            hp_demo_cfg d = t->demo;
            if (d.n_episodes < 20) d.n_episodes = 20;
            if (rc == HP_OK) rc = hp_sft_write_corpus(env, &ex, &d, corpus, err);
            if (rc == HP_OK) hp_expert_close(&ex);
            hp_env_free(env);
            char *text = NULL;
            size_t len = 0;
            if (rc == HP_OK) rc = hp_read_file(corpus, &text, &len, err);
            /* Trained into tokenizer.tmp, then swapped in: tokenizer/ is whole or absent. */
            hp_buf tmp = {0};
            hp_buf_printf(&tmp, "%s.tmp", t->tokdir);
            if (rc == HP_OK) rc = hp_remove_tree(tmp.data, err);
            if (rc == HP_OK) rc = hp_tok_train(text, len, (int32_t)c->model.tokenizer_vocab, tmp.data, err);
            if (rc == HP_OK) rc = hp_dir_replace(tmp.data, t->tokdir, err);
            hp_buf_free(&tmp);
            free(text);
            free(corpus);
            if (rc) return hp_err_wrap(err, "training the tokenizer");
            say(t, "      done in %.1f s\n", hp_now() - t0);
        }
    }
    t->tok = hp_tok_load(t->tokdir, err);
    return t->tok ? HP_OK : hp_err_wrap(err, "loading the tokenizer");
}

static int eval_split(trainer *t, hp_model *m, const char *split, int n, int64_t step, bool progress,
                      hp_eval_result *res, hp_err *err) {
    hp_eval_cfg e = hp_eval_cfg_default(t->fmt, t->family);
    e.rollout = t->rollout; /* as the training rollouts, one episode per game, at the validation temperature */
    e.rollout.split = split;
    e.rollout.gen.temperature = t->cfg->rollout.val_temperature;
    e.rollout.step = step;
    e.rollout.n_tasks = 1;
    e.rollout.group_n = 1;
    e.rollout.task_indices = NULL;
    e.n_episodes = n;
    e.whole_split = n < 0;
    e.batch = n < 0 || n > 32 ? 32 : n;
    e.sequential = false;
    e.progress = progress && !t->opts->quiet ? t->log : NULL;
    e.dist = t->dist; /* each rank plays its share of the games; every rank gets the result */
    hp_policy pol = hp_policy_model(m);
    memset(res, 0, sizeof *res);
    return hp_eval_run(t->cfg->env.name, t->env_opts, t->tok, &pol, &e, res, err);
}

/* The initial policy (ref/): loaded or initialised, then SFT when enabled. */
static int prepare_reference(trainer *t, hp_err *err) {
    const hp_runcfg *c = t->cfg;
    char *cj = hp_path_join(t->refdir, "config.json");
    bool have = hp_dist_bcast_i64(t->dist, hp_path_exists(cj)); /* rank 0's view, on every rank */
    free(cj);
    if (have) return HP_OK;
    hp_model *m = NULL;
    if (c->model.path[0]) {
        m = hp_model_load(c->model.path, err);
        if (!m) return hp_err_wrap(err, "model.path");
    } else {
        hp_config mc;
        hp_config_default(&mc);
        mc.hidden_size = (int)c->model.hidden_size;
        mc.intermediate_size = (int)c->model.intermediate_size;
        mc.num_hidden_layers = (int)c->model.num_hidden_layers;
        mc.num_attention_heads = (int)c->model.num_attention_heads;
        mc.num_key_value_heads = (int)c->model.num_key_value_heads;
        mc.max_position_embeddings = (int)c->model.max_position_embeddings;
        mc.rope_theta = c->model.rope_theta;
        mc.vocab_size = hp_tok_vocab_size(t->tok);
        mc.tie_word_embeddings = true;
        mc.eos_token_id = hp_tok_im_end(t->tok);
        if (hp_config_validate(&mc, "model.*", err)) return HP_FAIL;
        m = hp_model_init_random(&mc, (uint64_t)c->trainer.seed, err);
        if (!m) return hp_err_wrap(err, "initialising the model");
        say(t, "[2/5] initialised a %.2f M-parameter Qwen2 model (%d layers, hidden %d, vocab %d)\n",
            (double)hp_model_n_params(m) / 1e6, mc.num_hidden_layers, mc.hidden_size, mc.vocab_size);
    }
    int rc = HP_OK;
    if (c->sft.enable) {
        double t0 = hp_now();
        hp_env *env = hp_env_open(c->env.name, t->env_opts, err);
        hp_expert ex;
        hp_sft_set set = {0};
        rc = env ? hp_expert_open(c->env.name, &ex, err) : HP_FAIL;
        if (rc == HP_OK) {
            rc = hp_sft_collect(env, &ex, &t->demo, &set, err);
            hp_expert_close(&ex);
        }
        hp_env_free(env);
        if (rc == HP_OK) {
            say(t, "[3/5] SFT warm start on %d demonstration turns from %d expert episodes (%d detour steps) ...\n",
                set.n, set.n_episodes, set.n_noisy_turns);
            hp_sft_report rep = {0};
            rc = hp_sft_train(m, t->tok, &set, &t->sft, &rep, err);
            if (rc == HP_OK && rep.skipped_steps)
                say(t, "      %d of the steps skipped: their gradient was not finite\n", rep.skipped_steps);
            if (rc == HP_OK)
                say(t, "      %d steps, loss %.3f -> %.3f, %.1f s\n", rep.steps, rep.first_loss, rep.last_loss,
                    hp_now() - t0);
        }
        hp_sft_set_free(&set);
        if (rc) hp_err_wrap(err, "SFT warm start");
    }
    /* Saved as ref.tmp with its agent.json, then swapped in: ref/ is whole or absent. */
    hp_buf tmp = {0};
    hp_buf_printf(&tmp, "%s.tmp", t->refdir);
    if (rc == HP_OK && t->root) rc = hp_model_save(m, tmp.data, t->tokdir, err);
    if (rc == HP_OK && t->root) rc = hp_prompt_cfg_save(&t->prompt, t->cfg->env.name, tmp.data, err);
    if (rc == HP_OK && t->root) rc = hp_dir_replace(tmp.data, t->refdir, err);
    hp_buf_free(&tmp);
    hp_model_free(m);
    return hp_dist_agree(t->dist, rc, err);
}

/* ---- evaluation tables --------------------------------------------------------------------------- */

typedef struct eval_pair {
    hp_eval_result r[2];
    char split[2][HP_RC_STR_MAX];
    int n;
} eval_pair;

static void eval_pair_free(eval_pair *ev) {
    for (int i = 0; i < 2; i++) hp_eval_result_free(&ev->r[i]);
    memset(ev, 0, sizeof *ev);
}

static int evaluate(trainer *t, hp_model *m, const char *file, eval_pair *ev, hp_err *err) {
    const hp_runcfg *c = t->cfg;
    eval_pair_free(ev);
    if (c->trainer.final_eval_episodes == 0) return HP_OK;
    const char *splits[2] = {c->env.val_split, c->env.test_split};
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < 2; i++) {
        if (!splits[i][0]) continue;
        if (eval_split(t, m, splits[i], (int)c->trainer.final_eval_episodes, -1 - i, true, &ev->r[ev->n], err)) {
            cJSON_Delete(o);
            return hp_err_wrap(err, "evaluating on %s", splits[i]);
        }
        char *js = hp_eval_json(&ev->r[ev->n]);
        cJSON_AddItemToObject(o, splits[i], cJSON_Parse(js));
        free(js);
        snprintf(ev->split[ev->n++], HP_RC_STR_MAX, "%s", splits[i]);
        hp_test_kill_point(file, i); /* fault tests: "eval_after.json@0" stops the final evaluation midway */
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    char *path = hp_path_join(t->dir, file);
    int rc = t->root ? hp_write_file_atomic(path, s, strlen(s), err) : HP_OK;
    free(path);
    cJSON_free(s);
    return hp_dist_agree(t->dist, rc, err);
}

/* A finished evaluation read back (a resumed run's evaluation before RL). */
static int load_evals(const char *path, eval_pair *ev, hp_err *err) {
    char *text = NULL;
    size_t len = 0;
    if (hp_read_file(path, &text, &len, err)) return HP_FAIL;
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return hp_fail(err, "%s: not a JSON object", path);
    }
    const cJSON *x;
    int rc = HP_OK;
    cJSON_ArrayForEach(x, o) {
        if (ev->n >= 2) break;
        if ((rc = hp_eval_from_json(x, &ev->r[ev->n], err))) {
            hp_err_wrap(err, "%s: %s", path, x->string ? x->string : "?");
            break;
        }
        snprintf(ev->split[ev->n++], HP_RC_STR_MAX, "%s", x->string ? x->string : "?");
    }
    cJSON_Delete(o);
    return rc;
}

static void print_evals(trainer *t, const char *title, const eval_pair *ev) {
    for (int i = 0; i < ev->n; i++) {
        say(t, "%s — %s (%d episodes%s):\n", title, ev->split[i], ev->r[i].n_episodes,
            t->cfg->trainer.final_eval_episodes < 0 ? ", every game of the split" : ", a seeded draw of the split");
        if (!t->opts->quiet) hp_eval_print(t->log, &ev->r[i], t->family);
    }
}

/* Before against after on the same games: per split and all splits together (exact McNemar). */
static void print_paired(trainer *t, const eval_pair *before, const eval_pair *after) {
    if (t->opts->quiet || before->n != after->n || !before->n) return;
    say(t, "RL's effect (paired on the same games; a change is measured when p < 0.05):\n");
    hp_eval_result all_b = {0}, all_a = {0};
    for (int i = 0; i < before->n; i++) {
        hp_eval_print_paired(t->log, before->split[i], &before->r[i], &after->r[i]);
        hp_eval_merge(&all_b, &before->r[i]);
        hp_eval_merge(&all_a, &after->r[i]);
    }
    if (before->n > 1) hp_eval_print_paired(t->log, "both splits", &all_b, &all_a);
    hp_eval_result_free(&all_b);
    hp_eval_result_free(&all_a);
}

/* ---- one training step --------------------------------------------------------------------------- */

static void add_num(cJSON *o, const char *k, double v) { cJSON_AddItemToObject(o, k, cJSON_CreateNumber(isfinite(v) ? v : 0.0)); }

static int validate(trainer *t, int64_t step, hp_err *err) {
    const hp_runcfg *c = t->cfg;
    if (c->data.val_batch_size <= 0) return HP_OK;
    double t0 = hp_now();
    hp_eval_result res;
    if (eval_split(t, t->actor, c->env.val_split, (int)c->data.val_batch_size, step, false, &res, err))
        return hp_err_wrap(err, "validation at step %lld", (long long)step);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "val");
    add_num(o, "step", (double)step);
    add_num(o, "val_success", res.success);
    add_num(o, "val_score", res.mean_score);
    add_num(o, "val_turns", res.mean_turns);
    add_num(o, "val_invalid_rate", res.invalid_rate);
    for (int k = 0; k < res.n_types && k < HP_EVAL_MAX_TYPES; k++) {
        if (!res.type_n[k]) continue;
        char key[320];
        snprintf(key, sizeof key, "val_success_%s", res.type_name[k]);
        add_num(o, key, (double)res.type_won[k] / res.type_n[k]);
    }
    add_num(o, "t_val", hp_now() - t0);
    hp_eval_result_free(&res);
    int rc = t->root ? hp_trainlog_write(t->mlog, o, err) : HP_OK;
    cJSON_Delete(o);
    if (rc == HP_OK) hp_test_kill_point("val", step);
    if (t->root && hp_trainlog_console(t->mlog))
        say(t, "  val step %lld: success %.3f (best so far %.3f) score %.3f\n", (long long)step, res.success,
        res.success > t->st.best_val ? res.success : t->st.best_val, res.mean_score);
    if (rc == HP_OK && res.success > t->st.best_val) {
        t->st.best_val = res.success;
        t->st.best_step = step;
        hp_ckpt_state bs = t->st;
        bs.next_step = step;
        if (t->root) rc = hp_ckpt_save(t->best, t->actor, t->critic, &t->files, &bs, err);
    }
    return hp_dist_agree(t->dist, rc, err);
}

/* A fresh value head predicts about 0 while ALFWorld's returns reach 10, and Adam moves its bias by
 * about the learning rate per step (critic.calibrate_bias): move each head's bias so that its mean old
 * value equals the batch's mean Monte-Carlo return from that turn (environment rewards to the episode's
 * end, discounted by γ; a truncated episode counts as what it earned), then recompute the advantages
 * and targets. Monte-Carlo, not the bootstrapped targets: those move with the values themselves. */
static int calibrate_critic(trainer *t, hp_rows *rows, const hp_rollout *ro, hp_adv_stats *as, hp_err *err) {
    hp_tensor_info bias;
    if (!hp_model_find_tensor(t->critic, "score.bias", &bias) || bias.numel < rows->K)
        return hp_fail(err, "critic.calibrate_bias: the critic has no value-head bias");
    double g = t->cfg->algorithm.gamma, mc_sum = 0, mc_sum_b = 0;
    int64_t n = 0, n_b = 0;
    for (int k = 0; k < ro->n_trajs; k++) {
        const hp_traj *tr = &ro->trajs[k];
        double ret = 0;
        for (int i = tr->first_turn + tr->n_turns - 1; i >= tr->first_turn; i--) {
            ret = ro->turns[i].reward + g * ret;
            mc_sum += ret, n++;
            if (rows->boundary[i]) mc_sum_b += ret, n_b++;
        }
    }
    double v_mean[3] = {0, 0, 0}, shift[3] = {0, 0, 0};
    int64_t cnt[3] = {0, 0, 0};
    for (int i = 0; i < rows->n; i++)
        for (int j = 0; j <= rows->n_resp[i]; j++)
            for (int k = 0; k < rows->K && k < 3; k++) {
                size_t s = ((size_t)rows->val_off[i] + (size_t)j) * (size_t)rows->K + (size_t)k;
                if (rows->vmask[s]) v_mean[k] += rows->v_old[s], cnt[k]++;
            }
    for (int k = 0; k < rows->K && k < 3; k++) {
        double mc = k == 1 && rows->K > 1 ? (n_b ? mc_sum_b / (double)n_b : 0.0) : (n ? mc_sum / (double)n : 0.0);
        shift[k] = mc - (cnt[k] ? v_mean[k] / (double)cnt[k] : 0.0);
        bias.data[k] += (float)(shift[k] / t->learn.critic.value_scale);
    }
    hp_rows_shift_values(rows, shift);
    say(t, "  critic bias calibrated on the first batch's returns: %+.3f %+.3f %+.3f\n", shift[0], shift[1], shift[2]);
    return hp_rows_advantages(rows, ro, &t->learn.adv, as, err);
}

/* Append one step's trajectories to rollouts.jsonl, flushed to disk; a failed write names the reason. */
static int append_rollouts(const trainer *t, const hp_rollout *ro, int64_t step, hp_err *err) {
    FILE *fp = fopen(t->rollouts, "a");
    if (!fp) return hp_fail(err, "%s: cannot open for appending: %s", t->rollouts, strerror(errno));
    errno = 0;
    int rc = hp_rollout_append_jsonl(ro, fp, step, err), e = errno;
    if (rc == HP_OK && (fflush(fp) != 0 || fsync(fileno(fp)) != 0)) rc = HP_FAIL, e = errno;
    if (fclose(fp) != 0 && rc == HP_OK) rc = HP_FAIL, e = errno;
    return rc ? hp_fail(err, "%s: write failed: %s", t->rollouts, e ? strerror(e) : "I/O error") : HP_OK;
}

/* When each phase of a step ended (hp_now), for the record's t_* fields. */
typedef struct step_times {
    double start, rollout, score, adv, update;
} step_times;

/* Phase 1, the rollout: every task group plays with the current policy (data-parallel: this rank its
 * groups; every rank gets the whole rollout, this rank's turns being rows [*row0, *row1) of it). An
 * environment that failed for good (an external server past max_restarts) changed nothing since the
 * last step, so that state is saved as the checkpoint to resume from. */
static int play_rollout(trainer *t, hp_env **envs, int64_t step, hp_rollout *ro, int *row0, int *row1, hp_err *err) {
    hp_rollout_cfg rc = t->rollout;
    rc.step = step;
    hp_policy pol = hp_policy_model(t->actor);
    if (hp_train_dist_rollout(t->dist, envs, t->tok, &pol, &rc, ro, row0, row1, err) == HP_OK) return HP_OK;
    hp_err cause = *err, ck = {{0}};
    if (t->root && hp_ckpt_save(t->latest, t->actor, t->critic, &t->files, &t->st, &ck))
        return hp_fail(err, "rollout at step %lld: %s (saving the checkpoint failed too: %s)", (long long)step,
                       cause.msg, ck.msg);
    return hp_fail(err, "rollout at step %lld: %s (checkpoint saved in %s: --resume continues once the cause "
                   "is fixed)", (long long)step, cause.msg, t->latest);
}

/* Phase 4, the advantages and value targets; on the first step, a fresh critic's bias first moved to the
 * batch's returns (critic.calibrate_bias), which recomputes them. */
static int advantages(trainer *t, hp_rows *rows, const hp_rollout *ro, int64_t step, hp_adv_stats *as, hp_err *err) {
    int rc = hp_rows_advantages(rows, ro, &t->learn.adv, as, err);
    if (rc == HP_OK && step == 0 && t->critic && t->learn.critic.calibrate_bias) rc = calibrate_critic(t, rows, ro, as, err);
    return rc;
}

/* The step's record for metrics.jsonl and TensorBoard: the episodes (success, per task type, reward,
 * turns, validity), the advantages and critic targets, the update's losses and statistics, truncations,
 * a served environment's fault counters, tokens and the phases' times. */
static cJSON *step_record(const trainer *t, hp_env **envs, const hp_rollout *ro, const hp_eval_result *ep,
                          const hp_adv_stats *as, const hp_update_stats *us, int64_t step, const step_times *tm) {
    double reward = 0;
    for (int i = 0; i < ro->n_trajs; i++) reward += ro->trajs[i].ret / (ro->n_trajs ? ro->n_trajs : 1);
    int64_t tokens = ro->n_prompt_tokens + ro->n_response_tokens;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "train");
    add_num(o, "step", (double)step + 1); /* the (step+1)-th update: steps count from 1, as printed */
    add_num(o, "success", ep->success);
    for (int k = 0; k < ep->n_types && k < HP_EVAL_MAX_TYPES; k++) {
        if (!ep->type_n[k]) continue;
        char key[320];
        snprintf(key, sizeof key, "success_%s", ep->type_name[k]);
        add_num(o, key, (double)ep->type_won[k] / ep->type_n[k]);
    }
    add_num(o, "score", ep->mean_score);
    add_num(o, "reward", reward);
    add_num(o, "episodes", ro->n_trajs);
    add_num(o, "turns", (double)ro->n_turns);
    add_num(o, "mean_turns", ep->mean_turns);
    add_num(o, "invalid_rate", ep->invalid_rate);
    add_num(o, "switch_rate", as->switch_rate);
    add_num(o, "mean_segment", as->mean_segment);
    add_num(o, "adv_mean", as->adv_mean);
    add_num(o, "adv_abs_mean", as->adv_abs_mean);
    add_num(o, "loss_tokens", (double)as->loss_tokens);
    add_num(o, "ret_low", as->ret_low_mean);
    add_num(o, "ret_high", as->ret_high_mean);
    add_num(o, "ret_term", as->ret_term_mean);
    static const char *const head[3] = {"low", "high", "term"};
    int heads = t->learn.adv.heads;
    for (int k = 0; k < 3; k++) {
        char key[64];
        if (k < heads) {
            snprintf(key, sizeof key, "explained_var_%s", head[k]), add_num(o, key, as->explained_var[k]);
            snprintf(key, sizeof key, "ret_std_%s", head[k]), add_num(o, key, as->ret_std[k]);
        }
        if (k == 0 || heads > k) {
            snprintf(key, sizeof key, "adv_raw_mean_%s", head[k]), add_num(o, key, as->adv_raw_mean[k]);
            snprintf(key, sizeof key, "adv_raw_std_%s", head[k]), add_num(o, key, as->adv_raw_std[k]);
        }
    }
    add_num(o, "pg_loss", us->pg_loss);
    add_num(o, "entropy", us->entropy);
    add_num(o, "kl", us->kl);
    add_num(o, "clipfrac", us->clipfrac);
    add_num(o, "clipfrac_lower", us->clipfrac_lower);
    add_num(o, "approx_kl", us->approx_kl);
    add_num(o, "actor_grad_norm", us->actor_grad_norm);
    add_num(o, "vf_loss_low", us->vf_loss[0]);
    add_num(o, "vf_loss_high", us->vf_loss[1]);
    add_num(o, "vf_loss_term", us->vf_loss[2]);
    add_num(o, "vf_clipfrac", us->vf_clipfrac);
    add_num(o, "critic_grad_norm", us->critic_grad_norm);
    add_num(o, "actor_lr", us->actor_lr);
    add_num(o, "critic_lr", us->critic_lr);
    add_num(o, "response_length", ro->n_turns ? (double)ro->n_response_tokens / (double)ro->n_turns : 0.0);
    add_num(o, "optim_steps", us->actor_steps);
    add_num(o, "skipped_steps", us->skipped_steps);
    int ep_truncated = 0;
    for (int k = 0; k < ro->n_trajs; k++) ep_truncated += ro->trajs[k].truncated;
    add_num(o, "episodes_truncated", ep_truncated);
    hp_env_stats xs;
    if (envs && hp_env_get_stats(envs[0], &xs)) { /* cumulative counters of the first server process */
        add_num(o, "env_faults", (double)xs.faults);
        add_num(o, "env_restarts", (double)xs.restarts);
        add_num(o, "env_truncated", (double)xs.truncated);
    }
    add_num(o, "prompt_truncated", ro->n_prompt_truncated);
    add_num(o, "response_truncated", ro->n_resp_truncated);
    add_num(o, "max_prompt_len", ro->max_prompt_len);
    add_num(o, "tokens", (double)tokens);
    add_num(o, "t_rollout", tm->rollout - tm->start);
    add_num(o, "t_score", tm->score - tm->rollout);
    add_num(o, "t_adv", tm->adv - tm->score);
    add_num(o, "t_critic", us->critic_seconds);
    add_num(o, "t_actor", us->actor_seconds);
    add_num(o, "t_step", tm->update - tm->start);
    add_num(o, "tokens_per_s", tokens / (tm->rollout - tm->start > 0 ? tm->rollout - tm->start : 1));
    return o;
}

/* Phase 6 (rank 0): the step's trajectories to rollouts.jsonl (trainer.log_rollouts), its record to
 * the metric loggers and its console line; a non-finite loss stops the run here. */
static int log_step(trainer *t, hp_env **envs, const hp_rollout *ro, const hp_adv_stats *as, const hp_update_stats *us,
                    int64_t step, const step_times *tm, hp_err *err) {
    int rc = HP_OK;
    if (t->cfg->trainer.log_rollouts && t->root) rc = append_rollouts(t, ro, step + 1, err); /* numbered as metrics */
    if (rc == HP_OK) hp_test_kill_point("rollouts", step);
    if (rc || !t->root) return rc;
    hp_eval_result ep = {0};
    hp_eval_add(&ep, ro);
    hp_eval_finish(&ep);
    hp_eval_result_free(&ep); /* the counts stay; the episode list is not needed here */
    cJSON *o = step_record(t, envs, ro, &ep, as, us, step, tm);
    rc = hp_trainlog_write(t->mlog, o, err);
    cJSON_Delete(o);
    if (rc == HP_OK) hp_test_kill_point("metrics", step);
    if (hp_trainlog_console(t->mlog)) {
        double reward = 0;
        for (int i = 0; i < ro->n_trajs; i++) reward += ro->trajs[i].ret / (ro->n_trajs ? ro->n_trajs : 1);
        say(t, "step %3lld/%lld | succ %.3f | reward %6.3f | turns %5.1f | inv %.3f | sw %.2f | pg %+.4f | kl %.4f"
               " | ent %.3f | vf %.4f | ev %+.2f | %.1f s (rollout %.1f, update %.1f)\n",
            (long long)step + 1, (long long)t->cfg->trainer.total_steps, ep.success, reward, ep.mean_turns,
            ep.invalid_rate, as->switch_rate, us->pg_loss, us->kl, us->entropy,
            us->vf_loss[0] + us->vf_loss[1] + us->vf_loss[2], as->explained_var[0], tm->update - tm->start,
            tm->rollout - tm->start, tm->update - tm->adv);
    }
    if (rc == HP_OK && (!isfinite(us->pg_loss) || !isfinite(us->vf_loss[0])))
        rc = hp_fail(err, "step %lld: non-finite loss (pg %g, vf %g)", (long long)step + 1, us->pg_loss, us->vf_loss[0]);
    return rc;
}

/* One RL step: rollout → rows → scores → advantages → critic and actor update → metrics. */
static int train_step(trainer *t, hp_env **envs, int64_t step, hp_err *err) {
    step_times tm = {.start = hp_now()};
    hp_rollout ro = {0};
    int row0 = 0, row1 = 0;
    if (play_rollout(t, envs, step, &ro, &row0, &row1, err)) { /* 1. rollout with the current policy */
        hp_rollout_free(&ro);
        return HP_FAIL;
    }
    tm.rollout = hp_now();
    hp_rows rows = {0};
    hp_adv_stats as = {0};
    hp_update_stats us = {0};
    int rc = hp_rows_build(&rows, &ro, t->tok, &t->learn.adv, err); /* 2. rows: tokens and spans */
    if (rc == HP_OK) /* 3. scores: old and reference log-probs, critic values */
        rc = hp_train_dist_score(t->dist, t->actor, t->ref, t->critic, &rows, &ro, row0, row1, t->tok, &t->learn, err);
    tm.score = hp_now();
    if (rc == HP_OK) rc = advantages(t, &rows, &ro, step, &as, err); /* 4. advantages and value targets */
    tm.adv = hp_now();
    if (rc == HP_OK) /* 5. the critic, then the actor (after critic.warmup steps) */
        rc = hp_train_update(t->actor, t->critic, &rows, &t->learn, step, step >= t->learn.critic.warmup, t->dist,
                             &us, err);
    tm.update = hp_now();
    if (rc == HP_OK) rc = log_step(t, envs, &ro, &as, &us, step, &tm, err); /* 6. metrics */
    hp_rows_free(&rows);
    hp_rollout_free(&ro);
    return hp_dist_agree(t->dist, rc, err);
}

/* ---- the run ------------------------------------------------------------------------------------- */

/* The actor and the critic as a run starts them: the actor is the reference policy (ref/); the critic
 * is its backbone (model.critic_path, else ref/) with a fresh value head of K outputs, training only the
 * head with critic.backbone = reference. With LoRA (model.lora_rank > 0) each model that trains its
 * backbone gets adapters on all seven projections of every layer, and only those (and a value head)
 * train. */
static int start_models(trainer *t, hp_err *err) {
    const hp_runcfg *c = t->cfg;
    int K = t->learn.adv.heads;
    t->actor = hp_model_load(t->refdir, err);
    if (!t->actor) return HP_FAIL;
    if (t->lora.rank > 0 && hp_model_enable_lora(t->actor, &t->lora, (uint64_t)c->trainer.seed + 23, err))
        return hp_err_wrap(err, "model.lora_rank");
    if (K == 0) return HP_OK;
    t->critic = hp_model_load(t->files.critic_base, err);
    if (!t->critic) return hp_err_wrap(err, "critic backbone");
    if (hp_model_add_value_head(t->critic, K, (uint64_t)c->trainer.seed + 17, err)) return HP_FAIL;
    if (t->learn.critic.head_only) return hp_model_freeze_backbone(t->critic, err);
    if (t->lora.rank > 0 && hp_model_enable_lora(t->critic, &t->lora, (uint64_t)c->trainer.seed + 29, err))
        return hp_err_wrap(err, "model.lora_rank");
    return HP_OK;
}

static int load_models(trainer *t, hp_err *err) {
    const hp_runcfg *c = t->cfg;
    int K = t->learn.adv.heads;
    t->ref = hp_model_load(t->refdir, err);
    if (!t->ref) return hp_err_wrap(err, "reference policy");
    bool found = false, best = false;
    if (hp_ckpt_find(t->latest, &found, err)) return HP_FAIL;
    /* ckpt/best: its interrupted swap repaired too; it is never loaded, and a validation that beats it
     * saves it again, so what cannot be repaired is left to that. */
    hp_err ignored;
    hp_ckpt_find(t->best, &best, &ignored);
    if (found) {
        /* Verified whole (state.json's keys, every file against manifest.json) before any of it is used. */
        if (hp_ckpt_check(t->latest, c->trainer.total_steps, &t->st, err)) return HP_FAIL;
        if (t->lora.rank > 0) /* the models rebuilt on their bases, the adapters read into them */
            return start_models(t, err) ? HP_FAIL : hp_ckpt_load_lora(t->latest, t->actor, t->critic, &t->st, err);
        int rc = hp_ckpt_load(t->latest, &t->actor, K > 0 ? &t->critic : NULL, t->learn.critic.head_only, &t->st,
                              err);
        if (rc) return HP_FAIL;
        if (K > 0 && !t->critic) return hp_fail(err, "%s: checkpoint has no critic/", t->latest);
        return HP_OK;
    }
    /* No checkpoint: a fresh start, unless the run has recorded work, which needs one (the first is
     * saved before the first step): starting over would silently replace what was lost. */
    const char *done[] = {t->metrics, t->rollouts};
    for (int i = 0; i < 2; i++) {
        struct stat fst;
        if (stat(done[i], &fst) == 0 && fst.st_size > 0)
            return hp_fail(err, "%s: missing, but %s records steps of this run: the checkpoint was lost (restore it, "
                           "or start the run afresh in another directory)", t->latest, done[i]);
    }
    t->st = (hp_ckpt_state){0, -1.0, -1};
    if (start_models(t, err)) return HP_FAIL;
    return hp_ckpt_save(t->latest, t->actor, t->critic, &t->files, &t->st, err);
}

/* The keys whose values differ between two run configurations, as "a, b, c" (at most a few). */
static char *differing_keys(const hp_runcfg *a, const hp_runcfg *b) {
    char *ja = hp_runcfg_to_json(a), *jb = hp_runcfg_to_json(b);
    cJSON *oa = cJSON_Parse(ja), *ob = cJSON_Parse(jb);
    hp_buf out = {0};
    int n = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, oa) {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(ob, x->string);
        if (y && cJSON_Compare(x, y, true)) continue;
        if (n < 6) {
            char *va = cJSON_PrintUnformatted(x), *vb = y ? cJSON_PrintUnformatted(y) : NULL;
            hp_buf_printf(&out, "%s%s (stored %s, now %s)", n ? ", " : "", x->string, va, vb ? vb : "absent");
            cJSON_free(va);
            cJSON_free(vb);
        }
        n++;
    }
    if (n > 6) hp_buf_printf(&out, " and %d more", n - 6);
    cJSON_Delete(oa);
    cJSON_Delete(ob);
    free(ja);
    free(jb);
    if (!out.data) hp_buf_puts(&out, "(none)");
    return out.data;
}

/* A run directory: new, a run to resume, or a run that stopped before its first checkpoint (then a
 * plain start may take it over: with the same configuration it reuses what was made, with another one
 * it starts afresh). */
static int check_config(const trainer *t, hp_err *err) {
    char *path = hp_path_join(t->dir, "run_config.json"), *ck = hp_path_join(t->dir, "ckpt/latest");
    char *ck_tmp = hp_path_join(t->dir, "ckpt/latest.tmp");
    bool has_cfg = hp_path_exists(path), started = hp_path_exists(ck) || hp_path_exists(ck_tmp);
    int rc = HP_OK;
    hp_runcfg *old = NULL;
    if (has_cfg) {
        old = hp_xcalloc(1, sizeof *old);
        if (hp_runcfg_load(old, path, NULL, 0, err)) rc = hp_err_wrap(err, "the stored run configuration");
    }
    bool same = false;
    if (rc == HP_OK && old) {
        char *a = hp_runcfg_to_json(old), *b = hp_runcfg_to_json(t->cfg);
        same = !strcmp(a, b);
        free(a);
        free(b);
    }
    if (rc == HP_OK && t->opts->resume) {
        if (!has_cfg && started)
            rc = hp_fail(err, "--resume: %s: missing: the run's configuration is needed to resume it (the checkpoint "
                         "alone does not hold it)", path);
        else if (!has_cfg)
            rc = hp_fail(err, "--resume: %s holds no run (no run_config.json); start it without --resume", t->dir);
        else if (!same) {
            char *d = differing_keys(old, t->cfg);
            rc = hp_fail(err, "%s: the stored run configuration differs from this one in %s", path, d);
            free(d);
        }
    } else if (rc == HP_OK && has_cfg && started) {
        rc = hp_fail(err, "%s exists: this directory holds a run (use --resume, or another --out)", path);
    } else if (rc == HP_OK && has_cfg && !same) {
        /* Stopped before its first step under another configuration: nothing of it can be reused. */
        say(t, "%s: an earlier start stopped before its first step with another configuration; starting afresh\n",
            t->dir);
        const char *parts[] = {"tokenizer", "ref", "corpus.txt", "eval_before.json", "metrics.jsonl", "rollouts.jsonl"};
        for (size_t i = 0; i < sizeof parts / sizeof parts[0] && rc == HP_OK; i++) {
            char *p = hp_path_join(t->dir, parts[i]);
            if (hp_path_exists(p)) rc = hp_remove_tree(p, err);
            free(p);
        }
        if (rc == HP_OK) rc = hp_runcfg_write(t->cfg, path, err);
    } else if (rc == HP_OK && !has_cfg) {
        rc = hp_runcfg_write(t->cfg, path, err);
    }
    free(old);
    free(path);
    free(ck);
    free(ck_tmp);
    return rc;
}

static void trainer_free(trainer *t) {
    hp_model_free(t->actor);
    hp_model_free(t->critic);
    hp_model_free(t->ref);
    hp_tok_free(t->tok);
    cJSON_Delete(t->env_opts);
    free(t->fixed_tasks);
    hp_trainlog_close(t->mlog);
    free(t->dir), free(t->tokdir), free(t->refdir), free(t->latest), free(t->best), free(t->metrics);
    free(t->rollouts);
    hp_run_unlock(t->lock_fd);
}

/* --resume of a finished run (its checkpoint at trainer.total_steps, the evaluation after RL and the
 * report written) changes nothing and says so; its checkpoint is still verified whole. */
static int finished_already(trainer *t, bool *done, hp_err *err) {
    const hp_runcfg *c = t->cfg;
    bool found = false;
    hp_ckpt_state st;
    *done = false;
    if (hp_ckpt_find(t->latest, &found, err)) return HP_FAIL;
    if (!found) return HP_OK;
    if (hp_ckpt_check(t->latest, c->trainer.total_steps, &st, err)) return HP_FAIL;
    if (st.next_step < c->trainer.total_steps) return HP_OK;
    char *ev = hp_path_join(t->dir, "eval_after.json"), *report = hp_path_join(t->dir, "report.html");
    *done = (c->trainer.final_eval_episodes == 0 || hp_path_exists(ev)) && hp_path_exists(report);
    free(ev);
    free(report);
    if (*done) {
        fprintf(t->log, "%s: the run is finished (step %lld of %lld%s, report written): nothing to do\n", t->dir,
                (long long)st.next_step, (long long)c->trainer.total_steps,
                c->trainer.final_eval_episodes ? ", evaluated after RL" : "");
        fflush(t->log);
    }
    return HP_OK;
}

/* Cut metrics.jsonl and rollouts.jsonl back to what the checkpoint committed: the lines of steps
 * before next_step, and the final validation (step trainer.total_steps), which the finished run's
 * checkpoint follows. Whatever an interruption left after them is redone, so nothing is duplicated. */
static int trim_outputs(trainer *t, hp_err *err) {
    int64_t next = t->st.next_step, total = t->cfg->trainer.total_steps, dm = 0, dr = 0;
    int rc = hp_run_trim_jsonl(t->metrics, next, next == total ? total : -1, &dm, err);
    if (rc == HP_OK) rc = hp_run_trim_jsonl(t->rollouts, next, -1, &dr, err);
    if (rc == HP_OK && (dm || dr))
        say(t, "from the checkpoint at step %lld: dropped %lld lines of metrics.jsonl and %lld of rollouts.jsonl "
               "written after it (redone now)\n", (long long)next, (long long)dm, (long long)dr);
    return rc;
}

int hp_train_run(const hp_runcfg *cfg, const hp_train_opts *opts, hp_err *err) {
    trainer t = {.cfg = cfg, .opts = opts, .log = opts->log ? opts->log : stdout, .lock_fd = -1, .dist = opts->dist,
                 .root = hp_dist_root(opts->dist)};
    const char *dir = opts->out_dir ? opts->out_dir : "runs/hiper";
    t.dir = hp_xstrdup(dir);
    t.tokdir = hp_path_join(dir, "tokenizer");
    t.refdir = hp_path_join(dir, "ref");
    t.latest = hp_path_join(dir, "ckpt/latest");
    t.best = hp_path_join(dir, "ckpt/best");
    t.metrics = hp_path_join(dir, "metrics.jsonl");
    t.rollouts = hp_path_join(dir, "rollouts.jsonl");
    if (cfg->trainer.threads > 0) omp_set_num_threads((int)cfg->trainer.threads);
    int rc = hp_runcfg_validate(cfg, err);
    if (rc == HP_OK) rc = hp_learn_cfg_resolve(cfg, &t.learn, err);
    if (rc == HP_OK && cfg->env.options[0]) t.env_opts = cJSON_Parse(cfg->env.options);
    if (rc == HP_OK) t.n_train_tasks = hp_runcfg_train_tasks(cfg, t.train_tasks); /* validated above */
    /* Data-parallel: rank 0 alone sets up and writes the run directory; every other rank reads what it
     * wrote once an agreement says it is there (hiper/dist.h). */
    bool root = t.root;
    if (rc == HP_OK && opts->resume && !hp_is_dir(dir) && root)
        rc = hp_fail(err, "--resume: %s: no such directory, so no run to resume", dir);
    if (rc == HP_OK && root) rc = hp_mkdirs(dir, err);
    if (rc == HP_OK && root) rc = hp_run_lock(dir, &t.lock_fd, err); /* one hiper train per run directory */
    if (rc == HP_OK && root) rc = check_config(&t, err);
    bool done = false;
    if (rc == HP_OK && opts->resume && root) rc = finished_already(&t, &done, err);
    rc = hp_dist_agree(t.dist, rc, err);
    done = hp_dist_bcast_i64(t.dist, done);
    if (rc == HP_OK && done) {
        trainer_free(&t);
        return HP_OK;
    }
    /* A resumed run starts the environment server its run_config.json names, which whoever wrote the
     * directory chose: say which command runs, before it does. */
    const cJSON *cmd = t.env_opts ? cJSON_GetObjectItemCaseSensitive(t.env_opts, "cmd") : NULL;
    const hp_env_kind *kind = hp_env_kind_find(cfg->env.name); /* validated above */
    if (rc == HP_OK && root && opts->resume && kind && kind->served && cJSON_IsString(cmd)) {
        fprintf(t.log, "%s: resuming starts the environment server that its run_config.json names: %s\n", dir,
                cmd->valuestring);
        fflush(t.log);
    }
    char *ck = hp_path_join(dir, "ckpt");
    if (rc == HP_OK && root) rc = hp_mkdirs(ck, err);
    free(ck);
    /* The RL loop's environments, opened once, first: the prompts are made for the text they speak (a
     * rank without task groups, or a run with no step left, opens one to ask). This rank's environments
     * are those of its task groups. */
    hp_train_dist_groups(t.dist, (int)cfg->data.train_batch_size, &t.g0, &t.g1);
    int n_envs = (int)((t.g1 - t.g0) * cfg->env.rollout.n), n_open = n_envs > 0 ? n_envs : 1;
    hp_env **envs = NULL;
    if (rc == HP_OK && !(envs = open_envs(&t, n_open, err))) rc = HP_FAIL;
    rc = hp_dist_agree(t.dist, rc, err);
    if (rc == HP_OK) rc = make_prompt_cfg(&t, envs[0], err);
    if (rc == HP_OK) resolve_modules(&t);
    double t_start = hp_now();
    /* the tokenizer: trained (or checked) by rank 0, then loaded by the others */
    if (rc == HP_OK && root) rc = prepare_tokenizer(&t, err);
    rc = hp_dist_agree(t.dist, rc, err);
    if (rc == HP_OK && !root) rc = prepare_tokenizer(&t, err);
    rc = hp_dist_agree(t.dist, rc, err);
    t.files.tokenizer_dir = t.tokdir; /* final now (a given or the model's own tokenizer is used in place) */
    if (rc == HP_OK) rc = prepare_reference(&t, err); /* every rank: SFT is data-parallel too */
    eval_pair before = {0}, after = {0};
    char *bpath = hp_path_join(dir, "eval_before.json");
    bool eval_first = hp_dist_bcast_i64(t.dist, !hp_path_exists(bpath)); /* rank 0's view */
    if (rc == HP_OK && eval_first && cfg->trainer.final_eval_episodes != 0) {
        hp_model *ref = hp_model_load(t.refdir, err);
        say(&t, "[4/5] evaluating the initial policy ...\n");
        rc = ref ? evaluate(&t, ref, "eval_before.json", &before, err) : HP_FAIL;
        hp_model_free(ref);
    }
    free(bpath);
    /* ckpt/latest: found, repaired, verified (or the first one saved) by rank 0, then loaded by the others */
    if (rc == HP_OK && root) rc = load_models(&t, err);
    rc = hp_dist_agree(t.dist, rc, err);
    if (rc == HP_OK && hp_dist_parallel(t.dist)) {
        /* every rank, rank 0 too, starts from the checkpoint's bytes (a fresh value head saved in a
         * bfloat16 model would otherwise differ from rank 0's float copy) */
        if (root) {
            hp_model_free(t.actor), hp_model_free(t.critic), hp_model_free(t.ref);
            t.actor = t.critic = t.ref = NULL;
        }
        rc = load_models(&t, err);
    }
    if (rc == HP_OK && root) rc = trim_outputs(&t, err);
    if (rc == HP_OK && root && !(t.mlog = hp_trainlog_open(dir, cfg, err))) rc = HP_FAIL;
    rc = hp_dist_agree(t.dist, rc, err);
    /* The RL loop */
    if (rc == HP_OK && t.st.next_step < cfg->trainer.total_steps)
        say(&t, "[5/5] RL with %s: %lld steps of %lld tasks x %lld rollouts (from step %lld)\n",
            cfg->algorithm.adv_estimator, (long long)cfg->trainer.total_steps,
            (long long)cfg->data.train_batch_size, (long long)cfg->env.rollout.n, (long long)t.st.next_step + 1);
    int64_t done_here = 0;
    while (rc == HP_OK && t.st.next_step < cfg->trainer.total_steps) {
        int64_t step = t.st.next_step;
        int64_t f = cfg->trainer.test_freq;
        if (f > 0 && step % f == 0 && (step > 0 || cfg->trainer.val_before_train)) rc = validate(&t, step, err);
        if (rc == HP_OK) rc = train_step(&t, n_envs ? envs : NULL, step, err);
        if (rc) break;
        t.st.next_step = step + 1;
        bool last = t.st.next_step == cfg->trainer.total_steps;
        if (last && f > 0) rc = validate(&t, t.st.next_step, err);
        if (rc == HP_OK && root && (last || t.st.next_step % cfg->trainer.save_freq == 0))
            rc = hp_ckpt_save(t.latest, t.actor, t.critic, &t.files, &t.st, err);
        rc = hp_dist_agree(t.dist, rc, err);
        if (opts->stop_after > 0 && ++done_here >= opts->stop_after) break;
    }
    close_envs(envs, n_open);
    bool finished = rc == HP_OK && t.st.next_step >= cfg->trainer.total_steps;
    if (finished && cfg->trainer.final_eval_episodes != 0) {
        char *path = hp_path_join(dir, "eval_before.json");
        if (!before.n && hp_path_exists(path)) rc = load_evals(path, &before, err);
        free(path);
        say(&t, "evaluating the trained policy ...\n");
        if (rc == HP_OK) rc = evaluate(&t, t.actor, "eval_after.json", &after, err);
        if (rc == HP_OK) {
            print_evals(&t, "before RL", &before);
            print_evals(&t, "after RL", &after);
            print_paired(&t, &before, &after);
        }
    }

    if (finished && rc == HP_OK) {
        hp_test_kill_point("report", t.st.next_step);
        if (root) rc = hp_train_report(dir, err);
        rc = hp_dist_agree(t.dist, rc, err);
        if (rc == HP_OK) say(&t, "run finished in %.1f s: %s/report.html\n", hp_now() - t_start, dir);
    }
    eval_pair_free(&before);
    eval_pair_free(&after);
    trainer_free(&t);
    return rc;
}
