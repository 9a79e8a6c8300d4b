/* hiper/advantage.h — per-turn advantage estimators over a batch of multi-turn trajectories:
 * HiPER's hierarchical advantage estimation (HAE) and the baselines GiGPO, GRPO, RLOO and PPO's GAE.
 *
 * Contract (HAE as the HiPER authors' code computes it, verl-agent's estimators, one row per turn;
 * worked examples in tests/rl/fixtures, docs/advantage.md):
 * - Input is an array of turn records (one record = one training row = one turn of one trajectory) in
 *   any order. Every estimator groups the rows by trajectory and sorts them by turn index (stable:
 *   rows with equal (traj, turn) keep their input order), in time linear in the number of rows.
 * - Outputs are per row, in input order. Arithmetic is double precision throughout; the baselines
 *   store the row returns and step returns as float32 first, as the authors' code does.
 * - Duplicated rows (a (traj, turn) pair seen again, veRL's adjust_batch padding): HAE sees them as
 *   extra consecutive turns of the trajectory, exactly as the authors' code; GRPO/RLOO/GiGPO compute
 *   R(τ) and G_t on the de-duplicated trajectory and count the copy in every group statistic; GAE
 *   gives the copy the advantage of its first occurrence.
 * - Bad input (negative turn, non-finite number, a boundary turn without V_high, bad configuration)
 *   gives HP_FAIL and one message naming the row index (0-based, input order) and the field. Nothing
 *   in here allocates more than O(rows) memory, and nothing keeps state between calls.
 */
#ifndef HIPER_ADVANTAGE_H
#define HIPER_ADVANTAGE_H

#include "hiper/base.h"

/* One turn record. Zero-initialise, then fill what the estimator reads. */
typedef struct hp_adv_turn {
    int64_t traj;            /* trajectory id (traj_uid) */
    int64_t group;           /* task group id (uid): GRPO, RLOO, GiGPO; unused by HAE and GAE */
    int32_t turn;            /* turn index inside the trajectory, >= 0 */
    double reward;           /* environment reward of this turn */
    bool done;               /* environment done flag after this turn */
    bool valid;              /* format-valid flag of the projection (is_action_valid) */
    bool empty_response;     /* no valid response token (HAE: outside the low normalisation set;
                                GAE: outside the whitening set) */
    const char *switch_word; /* HAE: content of <switch> as the trainer re-parses it, NULL = no block */
    const char *subgoal;     /* HAE: subgoal span text (compare key), NULL = no block */
    const char *obs;         /* GiGPO: anchor observation (NUL-terminated); NULL counts as "" */
    double v_high;           /* HAE: V_high, read only on boundary turns (NAN elsewhere is fine) */
    double v_low;            /* HAE: V_low; GAE: the flat critic's value of the turn */
    double v_term;           /* HAE: V_term (3-head critic) */
} hp_adv_turn;

/* True iff the switch content counts as KEEP: NULL, empty, or "KEEP" after Python-style strip()
 * (Unicode whitespace) and upper(). Every other word ("SWITCH", "MAYBE", ...) starts a segment. */
bool hp_adv_switch_is_keep(const char *switch_word);

/* ---- HAE: shaping, segments, low / high (SMDP) / termination levels, normalisation -------------- */

typedef enum { HP_KEEP_PENALTY_NORMALIZED = 0, HP_KEEP_PENALTY_FIXED = 1 } hp_keep_penalty_mode;

typedef struct hp_hae_config {
    double gamma;                        /* γ */
    double lam_turn;                     /* λ_L, low level inside a segment */
    double lam_seg;                      /* λ_H, high level across segments */
    double keep_penalty;                 /* κ (<= 0) */
    hp_keep_penalty_mode keep_penalty_mode;
    double invalid_action_penalty_coef;  /* c_inv */
    double keep_consistency_penalty;     /* κ_c (<= 0) */
    bool keep_consistency_requires_both;
    bool bootstrap_truncated;
    bool norm_adv;
    bool has_term;                       /* 3-head critic (termination head) */
} hp_hae_config;

/* The authors' ALFWorld setting (run_alfworld.sh): γ 1, λ_L 1, λ_H 0.95, κ −0.3 normalized,
 * κ_c −0.3 (requires both), c_inv 0.1, bootstrap_truncated, norm_adv, 3 heads. */
void hp_hae_config_default(hp_hae_config *cfg);

typedef struct hp_hae_out {
    bool boundary;        /* the turn starts a segment */
    double reward_shaped; /* r̃ */
    double adv_low;       /* Â^L for the action tokens (0 for an empty response) */
    double ret_low;       /* R^L, target of the low head */
    double adv_high;      /* Â^H for the subgoal tokens: boundary turns with a subgoal block, else 0 */
    double ret_high;      /* R^H on boundary turns, else 0 */
    double adv_term;      /* Â^T for the switch tokens: turns with a switch block (and has_term), else 0 */
    double ret_term;      /* R^T on every turn (0 without has_term) */
} hp_hae_out;

int hp_adv_hae(const hp_adv_turn *turns, size_t n, const hp_hae_config *cfg, hp_hae_out *out,
               hp_err *err);

/* ---- GiGPO, GRPO, RLOO (verl-agent's critic-free group estimators) ------------------------------ */

typedef enum { HP_GIGPO_MEAN_NORM = 0, HP_GIGPO_MEAN_STD_NORM = 1 } hp_gigpo_mode;

/* One configuration for the three group estimators (the example configuration files hold every key;
 * GRPO reads the penalty keys, epsilon and norm_adv_by_std_in_grpo; RLOO only the penalty keys). */
typedef struct hp_group_config {
    double gamma;                 /* GiGPO step-return discount */
    double step_advantage_w;      /* w in A = A^E + w·A^S */
    hp_gigpo_mode mode;
    double epsilon;               /* added to σ */
    bool use_invalid_action_penalty;
    double invalid_action_penalty_coef;
    bool normalize_by_length;     /* R(τ)/T instead of R(τ) */
    bool enable_similarity;       /* difflib-ratio clustering of anchors instead of exact equality */
    double similarity_thresh;
    bool norm_adv_by_std_in_grpo;
} hp_group_config;

/* verl-agent defaults: γ 0.95, w 1, mean_norm, ε 1e-6, penalty 0.1 on, by-length off, exact anchors
 * (threshold 0.95), GRPO std-normalised. */
void hp_group_config_default(hp_group_config *cfg);

typedef struct hp_gigpo_out {
    double adv;          /* A^E + w·A^S, broadcast to every response token of the row */
    double adv_episode;  /* A^E */
    double adv_step;     /* A^S */
    double step_return;  /* G_t after the invalid penalty (as stored, float32) */
    int32_t step_group_size;
} hp_gigpo_out;

int hp_adv_gigpo(const hp_adv_turn *turns, size_t n, const hp_group_config *cfg, hp_gigpo_out *out,
                 hp_err *err);
/* adv[i]: the scalar every response token of row i receives. */
int hp_adv_grpo(const hp_adv_turn *turns, size_t n, const hp_group_config *cfg, double *adv,
                hp_err *err);
int hp_adv_rloo(const hp_adv_turn *turns, size_t n, const hp_group_config *cfg, double *adv,
                hp_err *err);

/* difflib.SequenceMatcher(None, a, b).ratio() on bytes, autojunk included (used by the similarity
 * variant of GiGPO's anchor grouping). */
double hp_adv_similarity_ratio(const char *a, size_t na, const char *b, size_t nb);

/* ---- PPO's GAE (verl's token level; the HiPER fork's turn level) -------------------------------- */

typedef struct hp_gae_config {
    double gamma;    /* algorithm.gamma */
    double lam;      /* algorithm.lam */
    bool norm_adv;   /* whiten over the batch (unbiased variance, + 1e-8 under the root) */
    bool use_invalid_action_penalty;
    double invalid_action_penalty_coef;
} hp_gae_config;

/* γ = λ = 1 (the YAML defaults the PPO scripts keep), whitening on, penalty 0.1 on. */
void hp_gae_config_default(hp_gae_config *cfg);

/* Turn-level GAE over each trajectory (the HiPER fork's turn_gae, multi_turn rewards):
 * u_j = reward − c·invalid, v_j = v_low (0 for an empty response),
 * δ_j = u_j + γ·v_{j+1}·[next turn and not done] − v_j, A_j = δ_j (done) or δ_j + γλA_{j+1};
 * ret = A + v (before whitening). adv is whitened over the rows with a response when norm_adv. */
int hp_adv_turn_gae(const hp_adv_turn *turns, size_t n, const hp_gae_config *cfg, double *adv,
                    double *ret, hp_err *err);

/* Token-level GAE over one response of L padded positions (verl's compute_gae_advantage_return):
 * rewards[t] and values[t] as the trainer gathered them (values[t] = critic output before response
 * token t). resp_len n (<= L) is the
 * number of valid tokens; values are zeroed beyond position n (the post-EOS value V_n is kept when
 * n < L — veRL's shifted-mask quirk), V_L = 0. Writes adv[0..L) and ret[0..L) (unwhitened). */
void hp_adv_gae_tokens(const float *rewards, const float *values, int L, int resp_len, double gamma,
                       double lam, double *adv, double *ret);

/* veRL's masked_whiten: (x − mean)/sqrt(var_unbiased + 1e-8) over the elements with mask[i] != 0,
 * written back to every element (the masked-out ones too). Fails when fewer than 2 are masked in. */
int hp_adv_masked_whiten(double *x, const uint8_t *mask, size_t n, hp_err *err);

/* ---- JSON I/O (the schema of tests/rl/fixtures/README.md; used by `hiper advantage`) ------------ */

/* A batch read from JSON lines: one object per non-blank line with the keys traj (string, required),
 * turn (integer, required), group (string), reward (number), done, valid (booleans), switch,
 * subgoal (string or null), obs (string), v_high (number or null), v_low, v_term (numbers).
 * Absent keys take: group "", reward 0, done false, valid true, switch/subgoal null, obs "",
 * v_high null (NAN), v_low/v_term 0. traj and group strings are interned to int64 ids. */
typedef struct hp_adv_batch {
    hp_adv_turn *turns;
    size_t n;
    char **traj_name;  /* per row, the "traj" string */
    size_t *line;      /* per row, its 1-based line number */
    char **owned;      /* (internal) every string the rows point to */
    size_t n_owned, cap_owned, cap;
} hp_adv_batch;

/* Fails with "line N: key 'K': ..." on a malformed line, an unknown key or a wrong type. */
int hp_adv_batch_parse(const char *text, size_t len, hp_adv_batch *b, hp_err *err);
void hp_adv_batch_free(hp_adv_batch *b);

/* Configuration objects with the upstream key names (tests/rl/fixtures/README.md; GAE: gamma, lam,
 * norm_adv, use_invalid_action_penalty, invalid_action_penalty_coef). Keys not given keep the
 * defaults; an unknown key or a wrong type fails naming the key. */
int hp_hae_config_parse(const char *json, hp_hae_config *cfg, hp_err *err);
int hp_group_config_parse(const char *json, hp_group_config *cfg, hp_err *err);
int hp_gae_config_parse(const char *json, hp_gae_config *cfg, hp_err *err);

#endif /* HIPER_ADVANTAGE_H */
