#!/usr/bin/env python3
"""Serve the real WebShop text environment over hiper's external-environment protocol.

    (WebShop installed as in its README, run from its checkout)    # see docs/external-envs.md
    hiper train --env external --env-cmd "python3 /path/to/hiper/contrib/webshop_server.py --num-products 1000"

Splits as upstream WebShop and hiper's built-in WebShop: test = goals 0-499, eval = 500-1499,
train = the rest (goal order = WebShop's own fixed shuffle). Observations, task and admissible list
follow verl-agent: the items after the instruction, each in single quotes, joined by " [SEP] ";
"search[<your query>]" when the page has a search bar, then click[x] for every clickable.
Reward 10 when Buy Now ends the episode with raw reward 1.0 (won), else 0; score = raw reward;
the step limit (default 15) ends the episode as truncated.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hiper_env_server import protocol_streams, serve, state  # noqa: E402

SEP = " [SEP] "
CATEGORIES = ["beauty", "electronics", "fashion", "garden", "grocery"]


def split_range(split, n_goals):
    ranges = {"test": (0, 500), "eval": (500, 1500), "train": (1500, n_goals)}
    if split not in ranges:
        raise ValueError("unknown split '%s' (train, test, eval)" % split)
    lo, hi = ranges[split]
    return lo, max(lo, min(hi, n_goals))


def agent_view(raw, instruction):
    """verl-agent's observation: the items after the instruction, quoted; the raw text if absent."""
    items = raw.split(SEP)
    if instruction in items:
        rest = items[items.index(instruction) + 1:]
        return SEP.join("'%s'" % it for it in rest)
    return raw


def admissible(actions):
    out = ["search[<your query>]"] if actions.get("has_search_bar") else []
    return out + ["click[%s]" % c for c in actions.get("clickables", [])]


class Shop:
    """One WebShop episode at a time; all Shops of a process share the backend's server (catalog)."""

    def __init__(self, backend):
        self.backend = backend
        self.env = backend.make_env()
        self.steps = 0
        self.done = False
        self.instruction = ""
        self.task_type = (-1, "")

    def reset(self, split, index, seed):
        lo, hi = split_range(split, self.backend.n_goals())
        if not 0 <= index < hi - lo:
            raise ValueError("index %d outside split '%s' (%d goals)" % (index, split, hi - lo))
        goal = lo + index
        raw, _ = self.env.reset(session=goal)
        items = raw.split(SEP)
        self.instruction = items[2] if len(items) > 2 and items[1].strip() == "Instruction:" else ""
        category = str(self.backend.goal(goal).get("category", ""))
        self.task_type = (CATEGORIES.index(category) if category in CATEGORIES else -1, category)
        self.steps = 0
        self.done = False
        return self._state(raw, 0.0)

    def step(self, action):
        if self.done:
            raise ValueError("step after the episode ended")
        raw, reward, done, _info = self.env.step(action)
        self.steps += 1
        return self._state(raw, float(reward or 0.0), bool(done))

    def _state(self, raw, raw_reward, ended=False):
        won = ended and raw_reward == 1.0
        limit = self.backend.max_steps
        self.done = ended or self.steps >= limit
        return state(agent_view(raw, self.instruction), self.instruction, admissible(self.env.get_available_actions()),
                     reward=10.0 if won else 0.0, done=self.done, won=won, task_type=self.task_type[0],
                     task_type_name=self.task_type[1], score=raw_reward if ended else 0.0,
                     truncated=self.done and not ended, steps=self.steps, max_steps=limit)


class Backend:
    name = "webshop"

    def __init__(self, num_products, human_goals, max_steps):
        self.num_products = num_products
        self.human_goals = human_goals
        self.max_steps = max_steps
        self._first = None

    def make_env(self):
        from web_agent_site.envs import WebAgentTextEnv
        server = self._first.server if self._first is not None else None
        env = WebAgentTextEnv(observation_mode="text", num_products=self.num_products,
                              human_goals=self.human_goals, server=server)
        if self._first is None:
            self._first = env
        return env

    def _server(self):
        if self._first is None:
            self.make_env()
        return self._first.server

    def n_goals(self):
        return len(self._server().goals)

    def goal(self, i):
        return self._server().goals[i]

    def splits(self):
        n = self.n_goals()
        return {s: split_range(s, n)[1] - split_range(s, n)[0] for s in ("train", "test", "eval")}

    def new_env(self):
        return Shop(self)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num-products", type=int, default=1000, help="catalog size (WebShop's small set: 1000)")
    ap.add_argument("--human-goals", action="store_true", help="human instructions instead of synthetic ones")
    ap.add_argument("--max-steps", type=int, default=15)
    args = ap.parse_args(argv)
    inp, out = protocol_streams()
    serve(Backend(args.num_products, args.human_goals, args.max_steps), inp, out)


if __name__ == "__main__":
    main()
