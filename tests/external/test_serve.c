/* The same agent code drives a built-in environment in process and through `hiper serve` over the
 * protocol: every view (observation, task, admissible list, reward, score, flags, step counts) must be
 * identical, for batched steps on many environments of one server and for clones (the server's clone
 * operation) taken mid-episode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "shell_util.h"

#include "hiper/alfworld.h"
#include "hiper/env.h"
#include "hiper/external.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define N_ENVS 4

static void same_view(const hp_env_view *a, const hp_env_view *b, const char *where) {
    bool ok = !strcmp(a->observation, b->observation) && !strcmp(a->task, b->task) &&
              a->task_type == b->task_type && !strcmp(a->task_type_name, b->task_type_name) &&
              a->n_admissible == b->n_admissible && a->reward == b->reward && a->score == b->score &&
              a->steps == b->steps && a->max_steps == b->max_steps && a->done == b->done && a->won == b->won &&
              a->truncated == b->truncated;
    for (int i = 0; ok && i < a->n_admissible; i++) ok = !strcmp(a->admissible[i], b->admissible[i]);
    if (!ok)
        fail_msg("%s: views differ\nin process: steps %d done %d reward %g obs '%.200s'\nserved:     steps %d done %d "
                 "reward %g obs '%.200s'",
                 where, a->steps, a->done, a->reward, a->observation, b->steps, b->done, b->reward, b->observation);
}

/* The agent: an admissible command drawn from the env's stream, or now and then a command that is not. */
static const char *choose(hp_rng *r, const hp_env_view *v) {
    if (v->n_admissible == 0 || hp_rng_uniform(r) < 0.1) return "dance with the fridge";
    return v->admissible[hp_rng_below(r, (uint64_t)v->n_admissible)];
}

/* Environment 1 of alfworld follows the built-in expert, so that an episode is won over the protocol. */
static void play(const char *kind, const char *env_opts, const char *split, int turns) {
    hp_alfworld_expert *expert = hp_alfworld_expert_create();
    bool any_won = false;
    hp_err err = {{0}};
    cJSON *opts = env_opts ? cJSON_Parse(env_opts) : NULL;
    hp_buf cmd = {0};
    hp_buf_printf(&cmd, "%s serve --env %s", HP_CLI, kind);
    if (env_opts) hp_buf_printf(&cmd, " --env-options '%s'", env_opts);
    cJSON *xo = cJSON_CreateObject();
    cJSON_AddStringToObject(xo, "cmd", cmd.data);
    cJSON_AddNumberToObject(xo, "timeout_s", 60);
    hp_buf_free(&cmd);

    hp_env *in[N_ENVS], *ex[N_ENVS];
    hp_rng rng[N_ENVS];
    ex[0] = hp_external_open(xo, &err);
    if (!ex[0]) fail_msg("%s", err.msg);
    cJSON_Delete(xo);
    int64_t size = hp_env_split_size(ex[0], split, &err);
    assert_true(size > 0);
    for (int i = 0; i < N_ENVS; i++) {
        in[i] = hp_env_open(kind, opts, &err);
        if (!in[i]) fail_msg("%s", err.msg);
        if (i) assert_non_null(ex[i] = hp_external_attach(ex[0], &err));
        assert_int_equal(hp_env_split_size(in[i], split, &err), size);
        int64_t index = (i * 37 + 5) % size;
        assert_int_equal(hp_env_reset(in[i], split, index, (uint64_t)i, &err), HP_OK);
        assert_int_equal(hp_env_reset(ex[i], split, index, (uint64_t)i, &err), HP_OK);
        same_view(hp_env_get_view(in[i]), hp_env_get_view(ex[i]), "reset");
        hp_rng_seed(&rng[i], 7, (uint64_t)i);
    }
    hp_env *ci = NULL, *ce = NULL;
    for (int t = 0; t < turns; t++) {
        hp_env *batch[N_ENVS];
        char *acts[N_ENVS]; /* copies: a step invalidates the strings of the view they came from */
        int n = 0;
        for (int i = 0; i < N_ENVS; i++) {
            if (hp_env_get_view(in[i])->done) continue;
            const char *a = choose(&rng[i], hp_env_get_view(in[i])), *subgoal;
            if (i == 1 && hp_alfworld_is(in[i]) && hp_alfworld_expert_act(expert, in[i], &a, &subgoal, &err))
                fail_msg("%s", err.msg);
            acts[n] = hp_xstrdup(a);
            if (hp_env_step(in[i], acts[n], &err)) fail_msg("%s", err.msg);
            batch[n++] = ex[i];
        }
        if (hp_env_step_batch(batch, n, (const char *const *)acts, &err)) fail_msg("%s", err.msg);
        for (int k = 0; k < n; k++) free(acts[k]);
        for (int i = 0; i < N_ENVS; i++) {
            same_view(hp_env_get_view(in[i]), hp_env_get_view(ex[i]), "step");
            any_won |= hp_env_get_view(ex[i])->won;
        }
        if (t == 2 && !hp_env_get_view(in[0])->done) { /* clone mid-episode on both sides */
            ci = hp_env_clone(in[0], &err);
            ce = hp_env_clone(ex[0], &err);
            assert_non_null(ci);
            assert_non_null(ce);
            same_view(hp_env_get_view(ci), hp_env_get_view(ce), "clone");
        }
    }
    if (ci) { /* the clones go on from the turn they were taken */
        hp_rng r;
        hp_rng_seed(&r, 99, 0);
        for (int t = 0; t < 5 && !hp_env_get_view(ci)->done; t++) {
            char *a = hp_xstrdup(choose(&r, hp_env_get_view(ci)));
            assert_int_equal(hp_env_step(ci, a, &err), HP_OK);
            assert_int_equal(hp_env_step(ce, a, &err), HP_OK);
            free(a);
            same_view(hp_env_get_view(ci), hp_env_get_view(ce), "clone step");
        }
    }
    hp_external_stats st;
    assert_true(hp_external_get_stats(ex[0], &st));
    assert_int_equal(st.faults, 0);
    hp_env_free(ci);
    hp_env_free(ce);
    for (int i = 0; i < N_ENVS; i++) {
        hp_env_free(in[i]);
        hp_env_free(ex[i]);
    }
    cJSON_Delete(opts);
    hp_alfworld_expert_free(expert);
    if (!strcmp(kind, "alfworld")) assert_true(any_won);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* the server was reaped */
}

static void test_alfworld(void **state) {
    (void)state;
    play("alfworld", NULL, "valid_seen", 40);
}

static void test_webshop(void **state) {
    (void)state;
    play("webshop", "{\"data_dir\": \"" HP_SOURCE_DIR "/data/webshop\"}", "test", 10);
}

static hp_env *open_alfworld(void *ctx, hp_err *err) {
    (void)ctx;
    return hp_env_open("alfworld", NULL, err);
}

/* The server loop answers every request, bad ones with errors, and stops at close. */
static void test_serve_requests(void **state) {
    (void)state;
    static const char input[] =
        "{\"id\":0,\"ops\":[{\"op\":\"hello\",\"version\":1}]}\n"
        "not json\n"
        "\n"
        "{\"id\":2,\"ops\":{}}\n"
        "{\"id\":3,\"ops\":[{\"op\":\"jump\",\"env\":1},{\"op\":\"step\",\"env\":1,\"action\":\"look\"},"
        "{\"op\":\"reset\",\"env\":1,\"split\":\"nope\",\"index\":0},{\"op\":\"reset\",\"env\":-4},"
        "{\"op\":\"reset\",\"env\":1,\"split\":\"train\",\"index\":1,\"seed\":\"18446744073709551615\"},"
        "{\"op\":\"clone\",\"env\":2,\"from\":1},{\"op\":\"clone\",\"env\":3,\"from\":9},"
        "{\"op\":\"step\",\"env\":2,\"action\":\"look\"},{\"op\":\"free\",\"env\":2},{\"op\":\"free\",\"env\":77},"
        "{\"op\":\"step\",\"env\":2,\"action\":\"look\"}]}\n"
        "{\"id\":4,\"ops\":[{\"op\":\"close\"}]}\n"
        "{\"id\":5,\"ops\":[{\"op\":\"hello\"}]}\n";
    FILE *in = fmemopen((void *)input, sizeof input - 1, "r");
    FILE *out = tmpfile();
    assert_non_null(in);
    assert_non_null(out);
    const char *splits[] = {"valid_seen", "train"};
    hp_external_serve_cfg cfg = {.env_name = "aw", .open = open_alfworld, .splits = splits, .n_splits = 2};
    hp_err err = {{0}};
    assert_int_equal(hp_external_serve(&cfg, in, out, &err), HP_OK);
    fclose(in);
    rewind(out);
    char *line = NULL;
    size_t cap = 0;
    cJSON *r[8] = {0};
    int n = 0;
    while (n < 8 && getline(&line, &cap, out) > 0) r[n++] = cJSON_Parse(line);
    free(line);
    fclose(out);
    assert_int_equal(n, 5); /* hello, bad JSON, bad ops, the batch, close; nothing after close */
    const cJSON *h = cJSON_GetArrayItem(cJSON_GetObjectItem(r[0], "results"), 0);
    assert_string_equal(cJSON_GetObjectItem(h, "env")->valuestring, "aw");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(h, "splits"), "valid_seen")->valueint, 140);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(h, "clone")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(r[1], "id")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(r[1], "error")));
    assert_int_equal(cJSON_GetObjectItem(r[2], "id")->valueint, 2);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(r[2], "error")));
    const cJSON *res = cJSON_GetObjectItem(r[3], "results");
    assert_int_equal(cJSON_GetArraySize(res), 11);
    static const bool ok[11] = {false, false, false, false, true, true, false, true, true, true, false};
    for (int i = 0; i < 11; i++) {
        const cJSON *x = cJSON_GetArrayItem(res, i);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(x, "ok")), ok[i]);
        if (!ok[i]) assert_true(cJSON_IsString(cJSON_GetObjectItem(x, "error")));
    }
    assert_non_null(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 2), "error")->valuestring, "nope"));
    const cJSON *clone = cJSON_GetArrayItem(res, 5), *orig = cJSON_GetArrayItem(res, 4);
    assert_int_equal(cJSON_GetObjectItem(clone, "env")->valueint, 2);
    assert_string_equal(cJSON_GetObjectItem(clone, "obs")->valuestring, cJSON_GetObjectItem(orig, "obs")->valuestring);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 7), "info"), "steps")->valueint, 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r[4], "results")), 1);
    for (int i = 0; i < n; i++) cJSON_Delete(r[i]);
}

static int run(const char *args, char *out, size_t cap) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s serve %s 2>&1 </dev/null", HP_CLI, args);
    return tu_shell(cmd, out, cap);
}

static void test_cli(void **state) {
    (void)state;
    char out[4096];
    assert_int_equal(run("--help", out, sizeof out), 0);
    assert_non_null(strstr(out, "--env"));
    assert_int_equal(run("", out, sizeof out), 2);
    assert_int_equal(run("--env alfworld --env-options '[1]'", out, sizeof out), 2);
    assert_int_equal(run("--env nosuch", out, sizeof out), 1);
    assert_non_null(strstr(out, "unknown environment 'nosuch'"));
    assert_int_equal(run("--env alfworld --splits train,bogus", out, sizeof out), 1);
    assert_non_null(strstr(out, "bogus"));
    assert_int_equal(run("--env alfworld", out, sizeof out), 0); /* end of input: a clean exit */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alfworld),
        cmocka_unit_test(test_webshop),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_serve_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
