/* hiper/webshop.h — the WebShop text environment (Yao et al. 2022) as verl-agent drives it: the pages,
 * search, action grammar and reward of WebShop's Python code (web_agent_site) in C; choices: docs/webshop.md.
 *
 * Contract:
 * - hp_webshop_open builds a catalog (the real WebShop JSON files from option "catalog_dir", or a seeded
 *   procedural catalog of "num_products" products, default 1000), its synthetic goals, a BM25 index, and
 *   returns an hp_env (see hiper/env.h). The catalog, goals and index are shared read-only between an env
 *   and its clones.
 * - Splits: "test" = goals 0-499, "eval" = 500-1499, "train" = the rest (goal order = a fixed shuffle).
 *   reset(split, index, seed) starts the goal split[index] on the search page.
 * - view.observation is the verl-agent form (items after the instruction, each in single quotes, joined
 *   by " [SEP] "); hp_webshop_raw_observation gives WebShop's own text-mode page. view.task is the
 *   instruction text; view.admissible is "search[<your query>]" on the search page, then click[...] for
 *   every clickable. view.reward = 10 on a won Buy Now (raw reward exactly 1.0), else 0; view.score =
 *   raw reward in [0, 1]. Episodes end at Buy Now or after max_steps (default 15; truncated).
 * - Options (JSON object, all optional; unknown keys are errors):
 *     data_dir (string)      folder holding items_ins_v2_1000.json (default: $HP_WEBSHOP_DATA, else the
 *                            repository's data/webshop, else <prefix>/share/hiper/data/webshop)
 *     catalog_dir (string)   folder with items_shuffle_1000.json (or items_shuffle.json) and
 *                            items_ins_v2_1000.json (or items_ins_v2.json); real-data mode
 *     num_products (int)     procedural catalog size, 10..1000000 (default 1000)
 *     catalog_seed (int)     procedural catalog seed (default 1)
 *     goal_seed (int)        seed of the goal price bounds and shuffle (default 233)
 *     max_steps (int)        step limit (default 15)
 *     observation (string)  "agent" (default) or "raw" for view.observation
 *     goals (string)         "synthetic" (default) or "human" (real data only: items_human_ins.json in
 *                            catalog_dir, WebShop's human goals)
 *     instruction_style      "synthetic" (default, WebShop's "Find me ... with color: x") or "human"
 *                            (lead-ins of human_goals.json in data_dir, bare option values)
 *     title_nouns (string)   JSON file ASIN -> title nouns (spaCy NOUN/PROPN) for exact r_type
 *     debug_search (bool)    honour WebShop's <r>/<c>/<q> search prefixes (default false)
 *     show_attrs (bool)      show the Attributes button on item pages (default false)
 * - view.task_type = the target's category (beauty, electronics, fashion, garden, grocery = 0..4).
 * - Thread safety: distinct envs (clones included) may be stepped from different threads.
 */
#ifndef HIPER_WEBSHOP_H
#define HIPER_WEBSHOP_H

#include "hiper/env.h"

/* Open a webshop environment; options is a JSON object of webshop-specific settings, or NULL. */
hp_env *hp_webshop_open(const cJSON *options, hp_err *err);

/* Print catalog and goal statistics (products, categories, options, goals per split, unwinnable goals,
 * search latency) for the catalog the options describe. */
int hp_webshop_stats(FILE *out, const cJSON *options, hp_err *err);

/* WebShop's own text-mode observation of the current page (" [SEP] "-joined, instruction included). */
const char *hp_webshop_raw_observation(const hp_env *env);

/* ---- expert ------------------------------------------------------------------------------------ */

/* A scripted expert: search with the goal's key words, open the best-matching result, choose the goal
 * options, buy. Works from any state of any webshop env (it reads the env's state, not its history). */
typedef struct hp_webshop_expert hp_webshop_expert;

hp_webshop_expert *hp_webshop_expert_create(hp_err *err);
void hp_webshop_expert_free(hp_webshop_expert *ex);
/* The next action and its subgoal label for env's current state. Both strings are owned by the expert
 * and stay valid until its next call. Subgoals use a fixed vocabulary: "search for <words>",
 * "go back to search", "go to the next page", "go to the previous page", "open the best match",
 * "go back to the results", "go back to the item", "select <name> '<value>'", "buy the item".
 * The action is always one of view.admissible (or the search[...] the search page offers).
 * Fails if env is not a webshop env or the episode is over. */
int hp_webshop_expert_act(hp_webshop_expert *ex, const hp_env *env, const char **action, const char **subgoal,
                          hp_err *err);

#endif /* HIPER_WEBSHOP_H */
