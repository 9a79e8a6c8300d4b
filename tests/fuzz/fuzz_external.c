/* The external-environment protocol, both sides:
 *   first byte even: a reply line as the client reads it (hp_ext_reply_parse for a request with 1-4
 *     operations, then every result's state through hp_ext_view_decode under a 4 KiB limit);
 *   first byte odd: request lines as hiper serve reads them (hp_external_serve over a tiny in-harness
 *     environment, replies written to /dev/null). */
#include "fuzz.h"

#include "env/external/ext_internal.h"

/* ---- a tiny environment to serve ---- */

typedef struct {
    hp_env base;
    hp_env_view v;
    char obs[64];
} toy;

static const hp_env_ops TOY_OPS;

static int toy_reset(hp_env *env, const char *split, int64_t index, uint64_t seed, hp_err *err) {
    toy *t = (toy *)env;
    if (strcmp(split, "train") || index < 0 || index >= 10) return hp_fail(err, "no episode %lld in '%s'", (long long)index, split);
    snprintf(t->obs, sizeof t->obs, "episode %lld seed %llu", (long long)index, (unsigned long long)seed);
    t->v = (hp_env_view){.observation = t->obs, .task = "win", .task_type = 0, .task_type_name = "t", .max_steps = 3};
    return HP_OK;
}

static int toy_step(hp_env *env, const char *action, hp_err *err) {
    toy *t = (toy *)env;
    if (t->v.done) return hp_fail(err, "episode over");
    snprintf(t->obs, sizeof t->obs, "you did %.40s", action);
    t->v.steps++;
    t->v.won = !strcmp(action, "win");
    t->v.reward = t->v.won;
    t->v.done = t->v.won || t->v.steps >= t->v.max_steps;
    t->v.truncated = t->v.done && !t->v.won;
    return HP_OK;
}

static const hp_env_view *toy_view(const hp_env *env) { return &((const toy *)env)->v; }

static hp_env *toy_new(void *ctx, hp_err *err) {
    (void)ctx;
    (void)err;
    toy *t = hp_xcalloc(1, sizeof *t);
    t->base.ops = &TOY_OPS;
    t->v = (hp_env_view){.observation = "", .task = "", .task_type_name = "", .task_type = -1};
    return &t->base;
}

static hp_env *toy_clone(const hp_env *env, hp_err *err) {
    toy *t = (toy *)toy_new(NULL, err);
    *t = *(const toy *)env;
    if (t->v.observation == ((const toy *)env)->obs) t->v.observation = t->obs;
    return &t->base;
}

static void toy_free(hp_env *env) { free(env); }

static int64_t toy_split_size(const hp_env *env, const char *split, hp_err *err) {
    (void)env;
    if (!strcmp(split, "train")) return 10;
    hp_fail(err, "unknown split");
    return -1;
}

static const hp_env_ops TOY_OPS = {.name = "toy", .reset = toy_reset, .step = toy_step, .view = toy_view,
                                   .clone = toy_clone, .free = toy_free, .split_size = toy_split_size};

/* ---- the harness ---- */

static void client_side(const uint8_t *data, size_t size) {
    int n_ops = 1 + data[0] / 2 % 4;
    char *line = fuzz_cstr(data + 1, size - 1);
    cJSON *reply = NULL;
    hp_err err = {{0}};
    if (hp_ext_reply_parse(line, size - 1, 7, n_ops, &reply, &err) == HP_OK) {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(reply, "results");
        FUZZ_CHECK(cJSON_GetArraySize(res) == n_ops);
        for (const cJSON *r = res->child; r; r = r->next) {
            hp_ext_view v = {0};
            if (hp_ext_view_decode(&v, r, 50, 4096, &err) == HP_OK) {
                FUZZ_CHECK(v.v.observation && v.v.task && v.v.task_type_name && v.v.n_admissible >= 0);
                FUZZ_CHECK(v.v.reward >= -1e6 && v.v.reward <= 1e6);
                size_t bytes = strlen(v.v.observation) + strlen(v.v.task);
                for (int i = 0; i < v.v.n_admissible; i++) bytes += strlen(v.v.admissible[i]);
                FUZZ_CHECK(bytes <= 4096);
            }
            hp_ext_view_free(&v);
            int64_t id;
            uint64_t seed;
            hp_ext_get_int(r, "env", &id, &err);
            hp_ext_get_seed(r, "seed", &seed, &err);
        }
    }
    cJSON_Delete(reply);
    free(line);
}

static void server_side(const uint8_t *data, size_t size) {
    FILE *in = fmemopen((void *)(data + 1), size - 1, "r");
    FILE *out = fopen("/dev/null", "w");
    if (!in || !out) abort();
    hp_external_serve_cfg cfg = {.env_name = "toy", .open = toy_new};
    hp_err err = {{0}};
    FUZZ_CHECK(hp_external_serve(&cfg, in, out, &err) == HP_OK); /* bad requests get error replies */
    fclose(in);
    fclose(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > 1 << 16) return 0;
    if (data[0] & 1) server_side(data, size);
    else client_side(data, size);
    return 0;
}
