/* hiper/agent.h — the agent module: prompts, projection, the turn, batched rollouts, SFT warm start and
 * evaluation. This umbrella header also binds the agent to the model engine.
 *
 * Contract:
 * - prompt.h, project.h, turn.h, policy.h, rollout.h, sft.h and eval.h each state their own contract.
 * - hp_policy_model wraps a model (hiper/model.h) as a policy for rollouts and evaluation; the model
 *   must outlive the policy.
 * - hp_sft_train runs supervised fine-tuning on tokenised demonstrations with the model's weighted
 *   cross-entropy training pass and AdamW.
 */
#ifndef HIPER_AGENT_H
#define HIPER_AGENT_H

#include "hiper/eval.h"
#include "hiper/policy.h"
#include "hiper/project.h"
#include "hiper/prompt.h"
#include "hiper/rollout.h"
#include "hiper/sft.h"
#include "hiper/turn.h"

struct hp_model;

/* A policy that samples from the model (batched generation with a KV cache). */
hp_policy hp_policy_model(struct hp_model *model);

/* SFT: train the model on the examples (tokenised inside); report the loss before/after. */
int hp_sft_train(struct hp_model *model, const hp_tok *tok, const hp_sft_set *set, const hp_sft_cfg *cfg,
                 hp_sft_report *rep, hp_err *err);
/* Mean response-token cross-entropy of the model on the examples (no update). */
int hp_sft_eval_loss(struct hp_model *model, const hp_tok *tok, const hp_sft_set *set, int max_len,
                     double *loss, hp_err *err);

#endif /* HIPER_AGENT_H */
