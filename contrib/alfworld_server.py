#!/usr/bin/env python3
"""Serve the real ALFWorld (TextWorld text games) over hiper's external-environment protocol.

    pip install alfworld[full] && alfworld-download        # see docs/external-envs.md
    hiper train --env external --env-cmd "python3 contrib/alfworld_server.py --config base_config.yaml"

Splits: train, valid_seen, valid_unseen (ALFWorld's train, eval_in_distribution,
eval_out_of_distribution); index = position in the sorted list of game files of the split, so the
same index is the same game on every machine. The step limit (default 50) counts every step;
reward 10 on the winning step; task types 0..5 = pick, look, clean, heat, cool, pick2 as in the
built-in ALFWorld.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hiper_env_server import protocol_streams, serve, state  # noqa: E402

SPLITS = {"train": "train", "valid_seen": "eval_in_distribution", "valid_unseen": "eval_out_of_distribution"}
TASK_TYPES = [("pick_and_place_simple", "pick"), ("look_at_obj_in_light", "look"),
              ("pick_clean_then_place_in_recep", "clean"), ("pick_heat_then_place_in_recep", "heat"),
              ("pick_cool_then_place_in_recep", "cool"), ("pick_two_obj_and_place", "pick2")]


def task_type_of(gamefile):
    """(index, name) of the task type named by the game's folder, (-1, "") if none."""
    for i, (prefix, name) in enumerate(TASK_TYPES):
        if prefix in gamefile:
            return i, name
    return -1, ""


def task_of(obs):
    """The text after 'Your task is to: ' in the intro, full stop kept."""
    key = "Your task is to: "
    return obs[obs.index(key) + len(key):].strip() if key in obs else ""


class Game:
    """One ALFWorld episode at a time, on a TextWorld gym env of one game file."""

    def __init__(self, backend):
        self.backend = backend
        self.env = None
        self.task = ""
        self.steps = 0
        self.done = False

    def _close_env(self):
        if self.env is not None:
            self.env.close()
            self.env = None

    def reset(self, split, index, seed):
        files = self.backend.game_files(split)
        if not 0 <= index < len(files):
            raise ValueError("index %d outside split '%s' (%d games)" % (index, split, len(files)))
        self._close_env()
        gamefile = files[index]
        self.env = self.backend.make_env(gamefile)
        obs, infos = self.env.reset()
        self.type = task_type_of(gamefile)
        self.task = task_of(obs)
        self.steps = 0
        self.done = False
        return self._state(obs, infos, 0.0)

    def step(self, action):
        if self.env is None or self.done:
            raise ValueError("step without an episode in progress")
        obs, _score, _done, infos = self.env.step(action)
        self.steps += 1
        return self._state(obs, infos, None)

    def _state(self, obs, infos, reward):
        won = bool(infos.get("won", False))
        limit = self.backend.max_steps
        self.done = won or self.steps >= limit
        if reward is None:
            reward = 10.0 if won else 0.0
        return state(obs, self.task, infos.get("admissible_commands", []), reward=reward, done=self.done, won=won,
                     task_type=self.type[0], task_type_name=self.type[1], score=1.0 if won else 0.0,
                     truncated=self.done and not won, steps=self.steps, max_steps=limit)

    def close(self):
        self._close_env()


class Backend:
    name = "alfworld"

    def __init__(self, config_path, max_steps):
        import yaml  # ALFWorld's own dependency
        with open(config_path) as f:
            self.config = yaml.safe_load(f)
        self.max_steps = max_steps
        self._files = {}

    def game_files(self, split):
        if split not in SPLITS:
            raise ValueError("unknown split '%s' (train, valid_seen, valid_unseen)" % split)
        if split not in self._files:
            from alfworld.agents.environment.alfred_tw_env import AlfredTWEnv
            env = AlfredTWEnv(self.config, train_eval=SPLITS[split])
            self._files[split] = sorted(env.game_files)
        return self._files[split]

    def splits(self):
        return {s: len(self.game_files(s)) for s in SPLITS}

    def make_env(self, gamefile):
        import textworld
        import textworld.gym
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredInfos
        infos = textworld.EnvInfos(won=True, admissible_commands=True, extras=["gamefile"])
        env_id = textworld.gym.register_game(gamefile, infos, max_episode_steps=self.max_steps + 1,
                                             wrappers=[AlfredDemangler(), AlfredInfos])
        return textworld.gym.make(env_id)

    def new_env(self):
        return Game(self)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="ALFWorld config YAML (its base_config.yaml)")
    ap.add_argument("--max-steps", type=int, default=50)
    args = ap.parse_args(argv)
    inp, out = protocol_streams()
    serve(Backend(args.config, args.max_steps), inp, out)


if __name__ == "__main__":
    main()
