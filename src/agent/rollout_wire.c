/* rollout_wire.c — rollouts between the processes of a data-parallel job: a flat binary form and the
 * concatenation of shares (see hiper/rollout.h, hiper/dist.h). */
#include "hiper/rollout.h"

#include <stdlib.h>
#include <string.h>

#define WIRE_MAGIC 0x48505257u /* "HPRW" */

/* ---- writing ----------------------------------------------------------------------------------- */

static void put(hp_buf *b, const void *p, size_t n) { hp_buf_append(b, p, n); }
static void put_i64(hp_buf *b, int64_t v) { put(b, &v, sizeof v); }
static void put_f64(hp_buf *b, double v) { put(b, &v, sizeof v); }
static void put_str(hp_buf *b, const char *s) { /* NULL and "" differ: length -1 for NULL */
    int64_t n = s ? (int64_t)strlen(s) : -1;
    put_i64(b, n);
    if (n > 0) put(b, s, (size_t)n);
}
static void put_arr(hp_buf *b, const void *p, size_t n, size_t size) { /* NULL: length -1 */
    put_i64(b, p ? (int64_t)n : -1);
    if (p && n) put(b, p, n * size);
}

static void put_turn(hp_buf *b, const hp_turn *t) {
    int64_t ints[6] = {t->traj, t->group, t->t, t->n_allowed, t->allowed_stride, t->task_type};
    put(b, ints, sizeof ints);
    put_arr(b, t->prompt.data, t->prompt.len, sizeof(int32_t));
    put_arr(b, t->response.data, t->response.len, sizeof(int32_t));
    put_arr(b, t->logprobs, t->response.len, sizeof(float));
    put_arr(b, t->mask_row, t->response.len, sizeof(int32_t));
    put_arr(b, t->allowed, (size_t)t->n_allowed * (size_t)t->allowed_stride, 1);
    const char *strs[6] = {t->prompt_text, t->response_text, t->action, t->switch_word, t->subgoal, t->anchor_obs};
    for (int i = 0; i < 6; i++) put_str(b, strs[i]);
    uint8_t flags[6] = {t->valid, t->resp_truncated, t->prompt_truncated, t->done, t->won, t->truncated};
    put(b, flags, sizeof flags);
    put_f64(b, t->reward);
    put_f64(b, t->score);
}

static void put_traj(hp_buf *b, const hp_traj *t) {
    int64_t ints[6] = {t->group, t->task_index, t->task_type, t->first_turn, t->n_turns, t->n_invalid};
    put(b, ints, sizeof ints);
    put_str(b, t->task);
    put_str(b, t->task_type_name);
    uint8_t flags[3] = {t->won, t->done, t->truncated};
    put(b, flags, sizeof flags);
    put_f64(b, t->score);
    put_f64(b, t->ret);
}

void hp_rollout_pack(const hp_rollout *r, bool with_turns, hp_buf *out) {
    uint32_t magic = WIRE_MAGIC;
    put(out, &magic, sizeof magic);
    int64_t head[7] = {with_turns ? (int64_t)r->n_turns : -1, r->n_trajs, r->n_prompt_tokens, r->n_response_tokens,
                       r->n_prompt_truncated, r->n_resp_truncated, r->max_prompt_len};
    put(out, head, sizeof head);
    double times[3] = {r->seconds, r->gen_seconds, r->env_seconds};
    put(out, times, sizeof times);
    for (int i = 0; i < r->n_trajs; i++) put_traj(out, &r->trajs[i]);
    for (size_t i = 0; with_turns && i < r->n_turns; i++) put_turn(out, &r->turns[i]);
}

/* ---- reading ----------------------------------------------------------------------------------- */

typedef struct reader {
    const char *p;
    size_t n, pos;
    bool bad;
} reader;

static void get(reader *r, void *dst, size_t n) {
    if (r->bad || n > r->n - r->pos) {
        r->bad = true;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p + r->pos, n);
    r->pos += n;
}
static int64_t get_i64(reader *r) {
    int64_t v;
    get(r, &v, sizeof v);
    return v;
}
static double get_f64(reader *r) {
    double v;
    get(r, &v, sizeof v);
    return v;
}
static char *get_str(reader *r) {
    int64_t n = get_i64(r);
    if (n < 0 || r->bad) return NULL;
    if ((uint64_t)n > r->n - r->pos) {
        r->bad = true;
        return NULL;
    }
    char *s = hp_xstrndup(r->p + r->pos, (size_t)n);
    r->pos += (size_t)n;
    return s;
}
/* An array of *count elements of size bytes (NULL when it was NULL); *count gets its length. */
static void *get_arr(reader *r, size_t size, size_t *count) {
    int64_t n = get_i64(r);
    *count = 0;
    if (n < 0 || r->bad) return NULL;
    if ((uint64_t)n > (r->n - r->pos) / (size ? size : 1)) {
        r->bad = true;
        return NULL;
    }
    void *a = hp_xmalloc((size_t)n * size + 1);
    if (n) memcpy(a, r->p + r->pos, (size_t)n * size);
    r->pos += (size_t)n * size;
    *count = (size_t)n;
    return a;
}

static void get_turn(reader *r, hp_turn *t) {
    int64_t ints[6];
    get(r, ints, sizeof ints);
    t->traj = (int)ints[0], t->group = (int)ints[1], t->t = (int)ints[2];
    t->n_allowed = (int)ints[3], t->allowed_stride = (int)ints[4], t->task_type = (int)ints[5];
    size_t n;
    t->prompt.data = get_arr(r, sizeof(int32_t), &n);
    t->prompt.len = t->prompt.cap = n;
    t->response.data = get_arr(r, sizeof(int32_t), &n);
    t->response.len = t->response.cap = n;
    t->logprobs = get_arr(r, sizeof(float), &n);
    if (t->logprobs && n != t->response.len) r->bad = true;
    t->mask_row = get_arr(r, sizeof(int32_t), &n);
    if (t->mask_row && n != t->response.len) r->bad = true;
    t->allowed = get_arr(r, 1, &n);
    if (t->allowed && n != (size_t)t->n_allowed * (size_t)t->allowed_stride) r->bad = true;
    char **strs[6] = {&t->prompt_text, &t->response_text, &t->action, &t->switch_word, &t->subgoal, &t->anchor_obs};
    for (int i = 0; i < 6; i++) *strs[i] = get_str(r);
    uint8_t flags[6];
    get(r, flags, sizeof flags);
    t->valid = flags[0], t->resp_truncated = flags[1], t->prompt_truncated = flags[2];
    t->done = flags[3], t->won = flags[4], t->truncated = flags[5];
    t->reward = get_f64(r);
    t->score = get_f64(r);
}

static void get_traj(reader *r, hp_traj *t) {
    int64_t ints[6];
    get(r, ints, sizeof ints);
    t->group = (int)ints[0], t->task_index = ints[1], t->task_type = (int)ints[2];
    t->first_turn = (int)ints[3], t->n_turns = (int)ints[4], t->n_invalid = (int)ints[5];
    t->task = get_str(r);
    t->task_type_name = get_str(r);
    uint8_t flags[3];
    get(r, flags, sizeof flags);
    t->won = flags[0], t->done = flags[1], t->truncated = flags[2];
    t->score = get_f64(r);
    t->ret = get_f64(r);
}

int hp_rollout_unpack(const char *data, size_t n, size_t *pos, hp_rollout *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    reader r = {.p = data, .n = n, .pos = *pos};
    uint32_t magic = 0;
    get(&r, &magic, sizeof magic);
    if (r.bad || magic != WIRE_MAGIC) return hp_fail(err, "packed rollout at byte %zu: no rollout header", *pos);
    int64_t head[7];
    get(&r, head, sizeof head);
    double times[3];
    get(&r, times, sizeof times);
    int64_t n_turns = head[0], n_trajs = head[1];
    if (r.bad || n_trajs < 0 || n_trajs > (int64_t)(n - r.pos) || n_turns > (int64_t)(n - r.pos))
        return hp_fail(err, "packed rollout at byte %zu: damaged header", *pos);
    out->n_trajs = (int)n_trajs;
    out->trajs = hp_xcalloc((size_t)n_trajs + 1, sizeof *out->trajs);
    out->n_prompt_tokens = head[2], out->n_response_tokens = head[3];
    out->n_prompt_truncated = (int)head[4], out->n_resp_truncated = (int)head[5], out->max_prompt_len = (int)head[6];
    out->seconds = times[0], out->gen_seconds = times[1], out->env_seconds = times[2];
    for (int64_t i = 0; i < n_trajs && !r.bad; i++) get_traj(&r, &out->trajs[i]);
    if (n_turns > 0) {
        out->turns = hp_xcalloc((size_t)n_turns, sizeof *out->turns);
        for (int64_t i = 0; i < n_turns && !r.bad; i++) {
            get_turn(&r, &out->turns[i]);
            out->n_turns++;
        }
    }
    if (r.bad) {
        hp_rollout_free(out);
        return hp_fail(err, "packed rollout at byte %zu: truncated or damaged (%zu bytes in all)", *pos, n);
    }
    *pos = r.pos;
    return HP_OK;
}

/* ---- concatenation ----------------------------------------------------------------------------- */

void hp_rollout_concat(hp_rollout *dst, hp_rollout *src) {
    int traj0 = dst->n_trajs, turn0 = (int)dst->n_turns;
    int group0 = dst->n_trajs ? dst->trajs[dst->n_trajs - 1].group + 1 : 0;
    if (src->n_trajs) {
        dst->trajs = hp_xrealloc(dst->trajs, (size_t)(dst->n_trajs + src->n_trajs) * sizeof *dst->trajs);
        for (int i = 0; i < src->n_trajs; i++) {
            hp_traj t = src->trajs[i];
            t.group += group0;
            t.first_turn += turn0;
            dst->trajs[dst->n_trajs++] = t;
        }
    }
    if (src->n_turns) {
        dst->turns = hp_xrealloc(dst->turns, (dst->n_turns + src->n_turns) * sizeof *dst->turns);
        for (size_t i = 0; i < src->n_turns; i++) {
            hp_turn t = src->turns[i];
            t.traj += traj0;
            t.group += group0;
            dst->turns[dst->n_turns++] = t;
        }
    }
    dst->n_prompt_tokens += src->n_prompt_tokens;
    dst->n_response_tokens += src->n_response_tokens;
    dst->n_prompt_truncated += src->n_prompt_truncated;
    dst->n_resp_truncated += src->n_resp_truncated;
    if (src->max_prompt_len > dst->max_prompt_len) dst->max_prompt_len = src->max_prompt_len;
    if (src->seconds > dst->seconds) dst->seconds = src->seconds;
    if (src->gen_seconds > dst->gen_seconds) dst->gen_seconds = src->gen_seconds;
    if (src->env_seconds > dst->env_seconds) dst->env_seconds = src->env_seconds;
    /* the records moved: only the arrays are src's to free */
    free(src->trajs);
    free(src->turns);
    memset(src, 0, sizeof *src);
}
