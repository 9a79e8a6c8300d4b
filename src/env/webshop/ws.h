/* ws.h — internal types of the WebShop environment (src/env/webshop); the public API is hiper/webshop.h.
 *
 * A "world" (catalog + goals + search index) is built once per hp_webshop_open and shared read-only by
 * the env and its clones (reference counted). Every string in the world lives in the world's arena. */
#ifndef HP_WS_H
#define HP_WS_H

#include "hiper/webshop.h"

#include <stdatomic.h>

/* ---- arena: bump allocator for the world's strings and arrays ---------------------------------- */

typedef struct ws_arena_block ws_arena_block;
typedef struct ws_arena {
    ws_arena_block *head;
} ws_arena;

void *ws_arena_alloc(ws_arena *a, size_t n);
char *ws_arena_strdup(ws_arena *a, const char *s);
char *ws_arena_strndup(ws_arena *a, const char *s, size_t n);
void ws_arena_free(ws_arena *a);

/* ---- text helpers (ws_text.c) ------------------------------------------------------------------ */

/* ASCII lowercase copy (UTF-8 bytes >= 0x80 are kept), malloc'd. */
char *ws_lower(const char *s);
void ws_lower_inplace(char *s);
/* Python str.strip() for ASCII whitespace: pointer to the first non-space and its length. */
const char *ws_strip(const char *s, size_t *len);
/* Python repr of a float ("877.8", "100.0", "0.6666666666666666") into buf (>= 32 bytes). */
void ws_py_float(double v, char *buf, size_t cap);

/* ---- CPython random (ws_pyrandom.c) ------------------------------------------------------------- */

typedef struct ws_pyrandom {
    uint32_t mt[624];
    int mti;
} ws_pyrandom;

void ws_py_seed(ws_pyrandom *r, uint64_t seed);        /* random.seed(int) for 0 <= seed < 2^64 */
uint32_t ws_py_u32(ws_pyrandom *r);
double ws_py_random(ws_pyrandom *r);                    /* random.random() */
uint32_t ws_py_getrandbits(ws_pyrandom *r, int k);      /* 1 <= k <= 32 */
uint32_t ws_py_randbelow(ws_pyrandom *r, uint32_t n);   /* random._randbelow(n) */
void ws_py_shuffle(ws_pyrandom *r, void *base, size_t n, size_t size); /* random.shuffle (size <= 256) */
void ws_py_sample_small(ws_pyrandom *r, const double *pop, int n, int k, double *out); /* n <= 21 */

/* ---- catalog ------------------------------------------------------------------------------------ */

typedef struct ws_option {
    const char *name;      /* lowercased */
    const char **values;   /* lowercased, "/" replaced by " | " */
    int n_values;
} ws_option;

/* One human (MTurk) instruction of items_human_ins.json. */
typedef struct ws_human_ins {
    const char *text;
    const char **attrs;  /* instruction_attributes */
    int n_attrs;
    const char **opts;   /* instruction_options: bare values */
    int n_opts;
} ws_human_ins;

typedef struct ws_product {
    char asin[16];
    const char *title;
    const char *desc;
    const char **bullets;
    int n_bullets;
    const char *query;            /* lowercased, stripped */
    const char *category;
    const char *product_category; /* levels joined by " \u203a " */
    const char *price_tag;        /* "$19.99 to $27.99" */
    double reward_price;          /* hidden price used by the reward */
    ws_option *options;
    int n_options;
    const char **attrs;
    int n_attrs;
    const char *instruction;      /* synthetic instruction or NULL */
    const char **ins_attrs;
    int n_ins_attrs;
    const char **nouns;           /* lowercased NOUN/PROPN tokens of the title (duplicates kept) */
    int n_nouns;
    ws_human_ins *human;          /* real data in human-goal mode */
    int n_human;
} ws_product;

typedef struct ws_goal {
    int product;                 /* target product index */
    const char *text;            /* instruction text shown to the agent */
    const char *keywords;        /* the instruction without options and price (for the expert) */
    const char **attrs;
    int n_attrs;
    const char **opt_names;      /* synthetic goals: (name, value) pairs, names sorted */
    const char **opt_values;
    int n_opts;
    bool plain_opts;             /* human style: options compared as bare values (as human goals) */
    double price_upper;
} ws_goal;

typedef struct ws_index ws_index;

typedef struct ws_world {
    atomic_int refs;
    ws_arena arena;
    ws_product *products;
    int n_products;
    ws_goal *goals;
    int n_goals;
    ws_index *index;
    int max_steps;
    bool raw_observation;
    bool debug_search;
    bool show_attrs;
    ws_pyrandom py;              /* CPython random stream: real-data price draws, then goal bounds */
    bool py_seeded;              /* py was seeded by the loader (real data) */
    bool human_goals;            /* goals from items_human_ins.json (spec §3.3 human mode) */
    char source[512];            /* "procedural (seed 1, 1000 products)" or the catalog path */
} ws_world;

/* Parse the options (hiper/webshop.h) and build a world with one reference (ws_world.c). */
ws_world *ws_world_open(const cJSON *options, hp_err *err);
void ws_world_release(ws_world *w);
int ws_category_index(const char *category); /* beauty..grocery = 0..4, else -1 */

/* Build the procedural catalog (ws_catalog_gen.c). attr_file: items_ins_v2_1000.json (vocabulary). */
int ws_catalog_generate(ws_world *w, int n_products, uint64_t seed, const char *attr_file, hp_err *err);
/* Load the real WebShop product + attribute files from dir (ws_catalog_load.c); with w->human_goals
 * also items_human_ins.json. */
int ws_catalog_load(ws_world *w, const char *dir, uint64_t seed, hp_err *err);
/* Heuristic title nouns for loaded products (ws_catalog_load.c). */
void ws_title_nouns(ws_arena *a, const char *title, const char ***out, int *n);

/* Lead-in phrases of human instructions ("i am looking for", "i need", ...) harvested from
 * human_goals.json, with their counts (ws_goals.c). */
typedef struct ws_leads {
    char **text;
    int *count;
    int n;
    long total;
} ws_leads;
int ws_leads_load(ws_leads *l, const char *path, hp_err *err);
void ws_leads_free(ws_leads *l);

/* Synthetic goals, price bounds and the fixed shuffle (ws_goals.c). With leads (may be NULL) the
 * instructions are phrased in the human style and options become bare values. */
int ws_goals_build(ws_world *w, uint64_t seed, const ws_leads *leads, hp_err *err);
/* Goal range of a split: [*lo, *hi). */
int ws_split_range(const ws_world *w, const char *split, int *lo, int *hi, hp_err *err);

/* ---- fuzzy matching (ws_fuzz.c) ----------------------------------------------------------------- */

int ws_fuzz_ratio(const char *a, const char *b);           /* thefuzz fuzz.ratio (no processing) */
int ws_fuzz_token_set_ratio(const char *a, const char *b); /* thefuzz fuzz.token_set_ratio */
/* normalize_color on a plain string: the first colour-list entry that is a substring, else s. */
const char *ws_normalize_color(const char *s);
/* normalize_color on a (name, value) pair: a colour entry equal to name or value, else NULL. */
const char *ws_normalize_color_pair(const char *name, const char *value);

/* ---- search (ws_analyzer.c, ws_index.c) --------------------------------------------------------- */

/* Analyse text like Lucene's English analyzer; calls fn for every emitted term (NUL-terminated). */
void ws_analyze(const char *text, void (*fn)(const char *term, size_t len, void *ctx), void *ctx);
/* Porter stem of a lowercase ASCII word in place; returns the new length. */
size_t ws_porter(char *w, size_t len);

ws_index *ws_index_build(const ws_product *p, int n);
void ws_index_free(ws_index *ix);
/* Reusable per-caller search buffers (zeroed between searches); zero-initialise, free with
 * ws_scratch_free. The index itself is read-only, so clones may search concurrently. */
typedef struct ws_scratch {
    double *acc;
    int *touched;
    int cap;
} ws_scratch;
void ws_scratch_free(ws_scratch *s);

/* Top-k product indices for a query (argument of search[...]); returns the count. scratch may be NULL. */
int ws_index_search(const ws_index *ix, const ws_product *p, const char *query, int k, int *out);
int ws_index_search_with(const ws_index *ix, const ws_product *p, const char *query, int k, int *out, ws_scratch *s);

/* ---- reward (ws_reward.c) ----------------------------------------------------------------------- */

typedef struct ws_reward_parts {
    int attr_matches, option_matches;
    bool price_ok;
    double r_type;
    double total;
} ws_reward_parts;

/* chosen[g] = value index chosen in option group g of the product, or -1. order = click order of
 * groups (for the done page); may be NULL. */
double ws_reward(const ws_world *w, const ws_goal *g, int product, const int *chosen, ws_reward_parts *parts);
double ws_title_score(const ws_product *goal_target, const ws_product *bought);

/* For each option group of product: the value that best satisfies the goal's options, or -1. */
void ws_best_choice(const ws_world *w, const ws_goal *g, int product, int *chosen);

/* ---- episode state and pages (ws_env.c, ws_pages.c) --------------------------------------------- */

typedef enum ws_page {
    WS_SEARCH, WS_RESULTS, WS_ITEM, WS_DESC, WS_FEAT, WS_REVIEWS, WS_ATTRS, WS_DONE
} ws_page;

#define WS_TOP_N 50
#define WS_PER_PAGE 10
#define WS_MAX_OPT_GROUPS 16

typedef struct ws_state {
    ws_page page;
    int goal;
    char *keywords;             /* malloc'd, the search argument */
    int results[WS_TOP_N];
    int n_results;
    int *big_results;           /* debug <c>/<q> searches may exceed 50 (malloc'd) */
    int page_no;
    int product;                /* -1 when none */
    int chosen[WS_MAX_OPT_GROUPS];
    int click_order[WS_MAX_OPT_GROUPS];
    int n_clicked;
    double raw_reward;          /* after Buy Now */
    uint64_t rng_state;         /* for <r> */
    ws_scratch *scratch;        /* the owning env's search buffers (not copied by clones) */
} ws_state;

/* A rendered page: WebShop's raw text observation and the clickable keys in order. */
typedef struct ws_pv {
    hp_buf raw;
    int n_items;        /* " [SEP] " items so far */
    char **click;       /* malloc'd keys */
    int n_click, cap_click;
    bool search_bar;
} ws_pv;

void ws_pv_reset(ws_pv *pv);
void ws_pv_free(ws_pv *pv);
void ws_page_search(ws_pv *pv, const char *instr);
void ws_page_results(ws_pv *pv, const ws_world *w, const char *instr, int page_no, int total, const int *prods, int n);
void ws_page_item(ws_pv *pv, const ws_world *w, const char *instr, int product, bool show_attrs);
void ws_page_sub(ws_pv *pv, const ws_world *w, const char *instr, int product, ws_page kind);
void ws_page_done(ws_pv *pv, const ws_world *w, int product, const int *chosen, const int *order, int n_order,
                  double reward);
/* verl-agent's form of a raw observation (spec §8.3) into out. */
void ws_agent_observation(const char *raw, const char *instr, hp_buf *out);

typedef struct ws_env {
    hp_env base;
    ws_world *world;
    ws_state st;
    ws_pv pv;
    ws_scratch scratch;
    hp_buf agent;
    char **admissible; /* malloc'd strings */
    int n_admissible, cap_admissible;
    hp_env_view view;
    int steps;
    bool started;
} ws_env;

/* Results of the current search (handles the debug list). */
const int *ws_state_results(const ws_state *st, int *n);
/* Render the current page into e->pv / e->agent / e->admissible and refresh e->view. */
void ws_render(ws_env *e);
/* Parse "name[arg]" as WebShop does: false if it does not match. name/arg are malloc'd. */
bool ws_parse_action(const char *action, char **name, char **arg);
/* Episode state helpers and one action (ws_actions.c). */
void ws_clear_options(ws_state *st);
void ws_to_search(ws_state *st);
void ws_apply(ws_env *e, const char *action);
/* True if e is a webshop env (so it may be cast to ws_env). */
bool ws_is_webshop(const hp_env *e);
/* Run a search for the state (fills results). */
void ws_run_search(const ws_world *w, ws_state *st, const char *keywords);
/* Index of the option group a clicked value belongs to (the later group wins), or -1. */
int ws_option_group_of(const ws_product *p, const char *value, int *value_index);

#endif /* HP_WS_H */
