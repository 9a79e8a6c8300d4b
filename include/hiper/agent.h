/* hiper/agent.h — the agent module: prompts, projection, the turn, batched rollouts, SFT demonstrations
 * and evaluation. This umbrella header also binds the agent to the model engine.
 *
 * Contract:
 * - prompt.h, project.h, turn.h, policy.h, rollout.h, sft.h and eval.h each state their own contract.
 * - hp_policy_model wraps a model (hiper/model.h) as a policy for rollouts and evaluation; the model
 *   must outlive the policy.
 * - Training on the demonstrations is the train module's SFT loop (hiper/sft_train.h).
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

#endif /* HIPER_AGENT_H */
