/* Prompt templates: HiPER Plan-Execute, the flat think/action-only baselines, and a compact variant
 * (see hiper/prompt.h; spec hiper.md §2, alfworld.md §5, webshop.md §8). The wording is our own; the
 * structure (block order, headings, quoting, brackets, newlines, U+2011) follows the spec. */
#include "hiper/prompt.h"

#include <stdlib.h>
#include <string.h>

#define ROLE_ALFWORLD "You are an expert agent operating in the ALFRED Embodied Environment."
/* "e‑commerce" with U+2011 NON-BREAKING HYPHEN (UTF-8 E2 80 91), as upstream */
#define ROLE_WEBSHOP "You are an expert agent operating in the WebShop e\xE2\x80\x91" "commerce environment."
#define ROLE_OTHER "You are an expert agent operating in a text environment."

static const char SUBGOAL_PARAGRAPH[] =
    "At every step you keep a short-term sub-goal. A sub-goal is a small high-level objective that takes "
    "a few actions to reach; it is neither the whole task nor a single low-level action. At every step, "
    "reconsider your sub-goal and either continue it or switch to a new one.\n";

static const char CONTRACT_FIRST[] =
    "Your response must consist of exactly three blocks in this order: a <switch> block (KEEP or SWITCH), "
    "then a <subgoal> block, then an <action> block. Write no other text before, after or between them.\n"
    "Strict rules:\n"
    "- <switch> contains only KEEP or SWITCH.\n"
    "- <subgoal> must appear at every step: on KEEP it holds the exact current sub-goal, on SWITCH a new "
    "short sub-goal.\n"
    "- <action> holds exactly one action copied verbatim from the admissible actions.\n";

static const char CONTRACT_HISTORY[] =
    "Answer with exactly three blocks in this order: <switch>, <subgoal>, <action>. No other text or "
    "reasoning anywhere.\n"
    "Strict rules:\n"
    "- <switch> contains only KEEP or SWITCH.\n"
    "- <subgoal> appears at every step: on KEEP copy the exact current sub-goal; on SWITCH write a new "
    "short sub-goal that is not the entire task.\n"
    "- <action> holds exactly one action copied verbatim from the admissible actions.\n";

static const char SKELETON[] = "Reply in exactly this format:\n"
                               "<switch>KEEP or SWITCH</switch>\n"
                               "<subgoal>the sub-goal you will follow next</subgoal>\n"
                               "<action>EXACTLY one ADMISSIBLE action</action>\n";

static const char FLAT_THINK[] =
    "Now it is your turn to act. First reason step by step about the current situation inside "
    "<think> </think> tags. Then choose one admissible action for this step and write it inside "
    "<action> </action> tags.\n";

static const char FLAT_ACTION[] = "Now it is your turn to act. Choose one admissible action for this step and "
                                  "write it inside <action> </action> tags, with no other text.\n";

int hp_fmt_parse(const char *s, hp_fmt *out, hp_err *err) {
    if (!strcmp(s, "hiper")) *out = HP_FMT_HIPER;
    else if (!strcmp(s, "think")) *out = HP_FMT_THINK;
    else if (!strcmp(s, "action") || !strcmp(s, "nothink")) *out = HP_FMT_ACTION;
    else return hp_fail(err, "unknown prompt format '%s' (expected hiper, think or action)", s);
    return HP_OK;
}

const char *hp_fmt_name(hp_fmt f) {
    return f == HP_FMT_HIPER ? "hiper" : f == HP_FMT_THINK ? "think" : "action";
}

int hp_prompt_style_parse(const char *s, hp_prompt_style *out, hp_err *err) {
    if (!strcmp(s, "upstream")) *out = HP_STYLE_UPSTREAM;
    else if (!strcmp(s, "compact")) *out = HP_STYLE_COMPACT;
    else return hp_fail(err, "unknown prompt style '%s' (expected upstream or compact)", s);
    return HP_OK;
}

hp_prompt_cfg hp_prompt_cfg_default(hp_fmt fmt, hp_env_family family) {
    hp_prompt_cfg c = {0};
    c.fmt = fmt;
    c.style = HP_STYLE_UPSTREAM;
    c.family = family;
    c.history_length = 2;
    c.max_prompt_tokens = 2048;
    c.max_response_tokens = 512;
    c.truncate_prompt = false;
    c.history_char_limit = family == HP_FAM_WEBSHOP ? 13000 : 0;
    return c;
}

/* ---- pieces shared by the templates ---------------------------------------------------------- */

static bool skip_action(hp_env_family family, const char *a) {
    return family != HP_FAM_WEBSHOP && !strcmp(a, "help");
}

/* ALFWorld: 'a'\n 'b' (inside brackets the caller writes); WebShop: one 'a', per line. */
static void put_admissible(hp_buf *b, hp_env_family family, const hp_env_view *v) {
    bool first = true;
    for (int i = 0; i < v->n_admissible; i++) {
        const char *a = v->admissible[i];
        if (skip_action(family, a)) continue;
        if (family == HP_FAM_WEBSHOP) hp_buf_printf(b, "'%s',\n", a);
        else {
            if (!first) hp_buf_puts(b, "\n ");
            hp_buf_printf(b, "'%s'", a);
        }
        first = false;
    }
}

/* The shown history window: the last history_length steps. */
static int hist_start(const hp_prompt_cfg *cfg, const hp_memory *m) {
    int h = cfg->history_length < 0 ? 0 : cfg->history_length;
    return m->n_steps > h ? m->n_steps - h : 0;
}

static void put_history(hp_buf *b, const hp_prompt_cfg *cfg, const hp_memory *m) {
    for (int i = hist_start(cfg, m); i < m->n_steps; i++) {
        if (i > hist_start(cfg, m)) hp_buf_putc(b, '\n');
        hp_buf_printf(b, "[Observation %d: '%s', Action %d: '%s']", i + 1, m->steps[i].obs, i + 1,
                      m->steps[i].action);
    }
}

static const char *role_line(hp_env_family f) {
    return f == HP_FAM_ALFWORLD ? ROLE_ALFWORLD : f == HP_FAM_WEBSHOP ? ROLE_WEBSHOP : ROLE_OTHER;
}

static void put_output_contract(hp_buf *b, hp_fmt fmt, bool history) {
    if (fmt == HP_FMT_HIPER) {
        hp_buf_puts(b, history ? CONTRACT_HISTORY : CONTRACT_FIRST);
        hp_buf_puts(b, SKELETON);
    } else hp_buf_puts(b, fmt == HP_FMT_THINK ? FLAT_THINK : FLAT_ACTION);
}

/* ---- ALFWorld-like (also used for external environments) -------------------------------------- */

/* The flat baselines' ALFWorld prompt (alfworld.md §5): inline observation, bracketed list with a
 * final full stop. */
static void alfworld_flat_text(hp_buf *b, const hp_prompt_cfg *cfg, const hp_memory *m, const hp_env_view *v,
                               bool history) {
    int shown = m->n_steps - hist_start(cfg, m);
    if (history) {
        hp_buf_printf(b, "\n%s Your task is to: %s\n", role_line(cfg->family), m->task);
        hp_buf_printf(b,
                      "Prior to this step, you have already taken %d step(s). Below are the most recent %d "
                      "observations and the corresponding actions you took: ",
                      m->n_steps, shown);
        put_history(b, cfg, m);
        hp_buf_printf(b, "\nYou are now at step %d and your current observation is: %s\n", m->n_steps + 1, m->obs);
    } else hp_buf_printf(b, "\n%s\nYour current observation is: %s\n", role_line(cfg->family), m->obs);
    hp_buf_puts(b, "Your admissible actions of the current situation are: [");
    put_admissible(b, cfg->family, v);
    hp_buf_puts(b, "].\n\n");
    put_output_contract(b, cfg->fmt, history);
}

/* The HiPER "Options" prompt (hiper.md §2.1): headings on their own line, content below. */
static void alfworld_text(hp_buf *b, const hp_prompt_cfg *cfg, const hp_memory *m, const hp_env_view *v,
                          bool history) {
    if (cfg->fmt != HP_FMT_HIPER) {
        alfworld_flat_text(b, cfg, m, v, history);
        return;
    }
    int shown = m->n_steps - hist_start(cfg, m);
    hp_buf_printf(b, "\n%s\n", role_line(cfg->family));
    if (history) hp_buf_printf(b, "Your overall task is: %s\n", m->task);
    hp_buf_puts(b, SUBGOAL_PARAGRAPH);
    if (history) {
        hp_buf_printf(b, "You have already taken %d step(s). Most recent %d observations and actions:\n", m->n_steps,
                      shown);
        put_history(b, cfg, m);
        hp_buf_putc(b, '\n');
    }
    hp_buf_printf(b, "Your current observation is:\n%s\n", m->obs);
    if (history) hp_buf_printf(b, "Your current sub-goal is:\n%s\n", m->subgoal);
    else hp_buf_printf(b, "Your current sub-goal is (it is \"None\" on the first step):\n%s\n", m->subgoal);
    hp_buf_puts(b, "Your admissible actions are:\n[");
    put_admissible(b, cfg->family, v);
    hp_buf_puts(b, "]\n");
    put_output_contract(b, cfg->fmt, history);
}

/* ---- WebShop ---------------------------------------------------------------------------------- */

static void webshop_text(hp_buf *b, const hp_prompt_cfg *cfg, const hp_memory *m, const hp_env_view *v,
                         bool history) {
    bool hiper = cfg->fmt == HP_FMT_HIPER;
    int shown = m->n_steps - hist_start(cfg, m);
    hp_buf_printf(b, "\n%s Your task is to: %s.\n", ROLE_WEBSHOP, m->task);
    if (hiper) hp_buf_puts(b, SUBGOAL_PARAGRAPH);
    if (history) {
        hp_buf_printf(b,
                      "%s already taken %d step(s). Below are the most recent %d observations and the "
                      "corresponding actions you took: ",
                      hiper ? "You have" : "Prior to this step, you have", m->n_steps, shown);
        put_history(b, cfg, m);
        hp_buf_printf(b, "\nYou are now at step %d and your current observation is: %s.\n", m->n_steps + 1, m->obs);
    } else hp_buf_printf(b, "Your current observation is: %s.\n", m->obs);
    if (hiper) hp_buf_printf(b, "Your current sub-goal is: %s.\n", m->subgoal);
    hp_buf_puts(b, "Your admissible actions of the current situation are: \n[\n");
    put_admissible(b, cfg->family, v);
    hp_buf_puts(b, "].\n");
    put_output_contract(b, cfg->fmt, history);
}

/* ---- compact ---------------------------------------------------------------------------------- */

/* The observation without what the compact prompt already says elsewhere: ALFWorld's welcome banner
 * and the "Your task is to: ..." sentence of the first observation (the Task line has it). */
static void put_compact_obs(hp_buf *b, hp_env_family family, const char *obs) {
    if (family == HP_FAM_ALFWORLD) {
        if (hp_str_starts(obs, "-= Welcome")) {
            const char *p = strstr(obs, "\n\n");
            if (p) obs = p + 2;
        }
        const char *t = strstr(obs, "\n\nYour task is to: ");
        if (t) {
            hp_buf_append(b, obs, (size_t)(t - obs));
            return;
        }
    }
    hp_buf_puts(b, obs);
}

/* The group an ALFWorld command belongs to in the compact list: "go to" or its first word; 0 = none. */
static size_t group_len(hp_env_family family, const char *a) {
    if (family != HP_FAM_ALFWORLD) return 0;
    if (hp_str_starts(a, "go to ")) return 5;
    const char *sp = strchr(a, ' ');
    return sp ? (size_t)(sp - a) : 0;
}

/* The admissible list, ALFWorld commands grouped by verb: "go to [cabinet 1, cabinet 2]; take [mug 1
 * from desk 1]; look;" (a group of one is written whole). Other environments: "a; b; c;". */
static void put_compact_actions(hp_buf *b, hp_env_family family, const hp_env_view *v) {
    int n = v->n_admissible;
    bool *used = hp_xcalloc((size_t)(n ? n : 1), sizeof *used);
    for (int i = 0; i < n; i++) {
        const char *a = v->admissible[i];
        if (used[i] || skip_action(family, a)) continue;
        size_t g = group_len(family, a);
        int count = 0;
        for (int j = i; j < n && g; j++)
            count += !used[j] && group_len(family, v->admissible[j]) == g && !strncmp(v->admissible[j], a, g);
        if (count <= 1) {
            hp_buf_printf(b, " %s;", a);
            used[i] = true;
            continue;
        }
        hp_buf_printf(b, " %.*s [", (int)g, a);
        for (int j = i, k = 0; j < n; j++) {
            const char *x = v->admissible[j];
            if (used[j] || group_len(family, x) != g || strncmp(x, a, g) != 0) continue;
            hp_buf_printf(b, "%s%s", k++ ? ", " : "", x + g + 1);
            used[j] = true;
        }
        hp_buf_puts(b, "];");
    }
    free(used);
}

static void compact_text(hp_buf *b, const hp_prompt_cfg *cfg, const hp_memory *m, const hp_env_view *v) {
    hp_buf_printf(b, "Task: %s\n", m->task);
    if (cfg->fmt == HP_FMT_HIPER) hp_buf_printf(b, "Subgoal: %s\n", m->subgoal);
    for (int i = hist_start(cfg, m); i < m->n_steps; i++) {
        hp_buf_printf(b, "Obs %d: ", i + 1);
        put_compact_obs(b, cfg->family, m->steps[i].obs);
        hp_buf_printf(b, "\nAct %d: %s\n", i + 1, m->steps[i].action);
    }
    hp_buf_puts(b, "Now: ");
    put_compact_obs(b, cfg->family, m->obs);
    hp_buf_puts(b, "\nActions:");
    put_compact_actions(b, cfg->family, v);
    hp_buf_putc(b, '\n');
    if (cfg->fmt == HP_FMT_HIPER) hp_buf_puts(b, "Reply <switch>KEEP|SWITCH</switch><subgoal>...</subgoal><action>...</action>");
    else if (cfg->fmt == HP_FMT_THINK) hp_buf_puts(b, "Reply <think>...</think><action>...</action>");
    else hp_buf_puts(b, "Reply <action>...</action>");
}

char *hp_prompt_user_text(const hp_prompt_cfg *cfg, const hp_memory *m, const hp_env_view *v) {
    hp_buf b = {0};
    if (cfg->style == HP_STYLE_COMPACT) {
        compact_text(&b, cfg, m, v);
        return hp_buf_take(&b);
    }
    bool history = cfg->history_length > 0 && m->n_steps > 0;
    if (cfg->family == HP_FAM_WEBSHOP) {
        webshop_text(&b, cfg, m, v, history);
        if (history && cfg->history_char_limit && b.len > cfg->history_char_limit) {
            hp_buf_clear(&b);
            webshop_text(&b, cfg, m, v, false);
        }
    } else alfworld_text(&b, cfg, m, v, history);
    return hp_buf_take(&b);
}

char *hp_prompt_response(hp_fmt fmt, bool do_switch, const char *subgoal, const char *think, const char *action) {
    hp_buf b = {0};
    if (fmt == HP_FMT_HIPER)
        hp_buf_printf(&b, "<switch>%s</switch>\n<subgoal>%s</subgoal>\n<action>%s</action>", do_switch ? "SWITCH" : "KEEP",
                      subgoal ? subgoal : "", action);
    else if (fmt == HP_FMT_THINK) hp_buf_printf(&b, "<think>%s</think>\n<action>%s</action>", think ? think : "", action);
    else hp_buf_printf(&b, "<action>%s</action>", action);
    return hp_buf_take(&b);
}
