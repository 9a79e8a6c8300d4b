#!/usr/bin/python3
"""Tests of the contrib adapters' protocol layer with the real environment packages mocked (standard
library only): the ALFWorld and WebShop adapters are imported with fake alfworld/textworld/yaml and
web_agent_site modules, and driven with protocol request lines; replies are checked field by field."""
import io
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "contrib"))


# ---- fake ALFWorld / TextWorld -----------------------------------------------------------------
class FakeTWEnv:
    """A two-step game: 'go to fridge 1' then 'open fridge 1' wins."""

    def __init__(self, gamefile):
        self.gamefile = gamefile
        self.progress = 0
        self.closed = False

    def reset(self):
        self.progress = 0
        if os.environ.get("FAKE_NOISE"):  # libraries that print, from Python and from C
            print("fake planner: loading domain")
            os.write(1, b"fake C code: 42 actions\n")
        obs = "-= Welcome to TextWorld, ALFRED! =-\n\nYou see a fridge 1.\n\nYour task is to: cool some egg and put it in microwave."
        return obs, {"won": False, "admissible_commands": ["go to fridge 1", "help", "look"], "extra.gamefile": self.gamefile}

    def step(self, action):
        if action == ["go to fridge 1", "open fridge 1"][min(self.progress, 1)]:
            self.progress += 1
            obs = "You arrive at fridge 1." if self.progress == 1 else "You open the fridge 1."
        else:
            obs = "Nothing happens."
        won = self.progress >= 2
        return obs, 1 if won else 0, won, {"won": won, "admissible_commands": ["look", "open fridge 1"]}

    def close(self):
        self.closed = True


def install_fake_alfworld():
    registered = {}
    tw = types.ModuleType("textworld")
    tw.EnvInfos = lambda **kw: kw
    twgym = types.ModuleType("textworld.gym")

    def register_game(gamefile, infos, max_episode_steps, wrappers):
        registered[gamefile] = (infos, max_episode_steps, wrappers)
        return "env-" + gamefile

    twgym.register_game = register_game
    twgym.make = lambda env_id: FakeTWEnv(env_id[4:])
    tw.gym = twgym
    atw = types.ModuleType("alfworld.agents.environment.alfred_tw_env")

    class AlfredTWEnv:
        def __init__(self, config, train_eval):
            assert config == {"dataset": "fake"}
            n = {"train": 3, "eval_in_distribution": 2, "eval_out_of_distribution": 1}[train_eval]
            types_ = ["pick_cool_then_place_in_recep-Egg-None-Microwave-1", "look_at_obj_in_light-Book-None-DeskLamp-2",
                      "pick_two_obj_and_place-Pen-None-Drawer-3"]
            # deliberately unsorted: the adapter sorts
            self.game_files = ["/d/%s/%s/game.tw-pddl" % (train_eval, types_[i]) for i in reversed(range(n))]

    atw.AlfredTWEnv = AlfredTWEnv
    atw.AlfredDemangler = lambda **kw: ("demangler", kw)
    atw.AlfredInfos = "infos"
    yaml = types.ModuleType("yaml")
    yaml.safe_load = lambda f: {"dataset": "fake"}
    for name in ("alfworld", "alfworld.agents", "alfworld.agents.environment"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules.update({"textworld": tw, "textworld.gym": twgym, "alfworld.agents.environment.alfred_tw_env": atw,
                        "yaml": yaml})
    return registered


# ---- fake WebShop -------------------------------------------------------------------------------
class FakeServer:
    def __init__(self):
        self.goals = [{"category": ["beauty", "garden", "toys"][i % 3]} for i in range(1600)]


class FakeWebAgentTextEnv:
    made = []

    def __init__(self, observation_mode, num_products, human_goals, server=None):
        assert observation_mode == "text"
        self.server = server or FakeServer()
        self.page = "search"
        self.session = None
        FakeWebAgentTextEnv.made.append(self)

    def _instr(self):
        return "Find goal %d" % self.session

    def reset(self, session):
        self.session = session
        self.page = "search"
        return "WebShop [SEP] Instruction: [SEP] %s [SEP] Search" % self._instr(), None

    def get_available_actions(self):
        if self.page == "search":
            return {"has_search_bar": True, "clickables": ["search"]}
        return {"has_search_bar": False, "clickables": ["back to search", "buy now"]}

    def step(self, action):
        if action.startswith("search["):
            self.page = "item"
            return "Instruction: [SEP] %s [SEP] Back to Search [SEP] Buy Now" % self._instr(), 0.0, False, None
        if action == "click[buy now]":
            return "Thank you for shopping with us! [SEP] Your score (min 0.0, max 1.0) [SEP] 1.0", 1.0, True, None
        return "Instruction: [SEP] %s [SEP] Search" % self._instr(), 0.0, False, None


def install_fake_webshop():
    envs = types.ModuleType("web_agent_site.envs")
    envs.WebAgentTextEnv = FakeWebAgentTextEnv
    sys.modules["web_agent_site"] = types.ModuleType("web_agent_site")
    sys.modules["web_agent_site.envs"] = envs


def run_lines(backend, requests):
    import hiper_env_server
    out = io.StringIO()
    inp = io.StringIO("".join(json.dumps(r) + "\n" if not isinstance(r, str) else r + "\n" for r in requests))
    hiper_env_server.serve(backend, inp, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


class ProtocolTest(unittest.TestCase):
    def setUp(self):
        install_fake_alfworld()
        import alfworld_server
        self.backend = alfworld_server.Backend(os.devnull, max_steps=3)

    def test_hello_and_errors(self):
        replies = run_lines(self.backend, [
            {"id": 0, "ops": [{"op": "hello", "version": 1}]},
            "this is not json",
            {"id": 2, "ops": "nope"},
            {"id": 3, "ops": [{"op": "jump", "env": 1}, {"op": "step", "env": 9, "action": "look"},
                              {"op": "reset", "env": -1, "split": "train", "index": 0}]},
            {"id": 4, "ops": [{"op": "close"}]},
            {"id": 5, "ops": [{"op": "hello"}]},  # after close: never answered
        ])
        self.assertEqual(len(replies), 5)
        h = replies[0]["results"][0]
        self.assertEqual(replies[0]["id"], 0)
        self.assertEqual(h, {"ok": True, "version": 1, "env": "alfworld", "clone": False,
                             "splits": {"train": 3, "valid_seen": 2, "valid_unseen": 1}})
        self.assertIsNone(replies[1]["id"])
        self.assertIn("not JSON", replies[1]["error"])
        self.assertIn("error", replies[2])
        r = replies[3]["results"]
        self.assertEqual([x["ok"] for x in r], [False, False, False])
        self.assertEqual([x.get("env") for x in r], [1, 9, -1])
        self.assertIn("unknown op 'jump'", r[0]["error"])
        self.assertIn("reset it first", r[1]["error"])
        self.assertEqual(replies[4], {"id": 4, "results": [{"ok": True}]})

    def test_alfworld_episode_batched(self):
        replies = run_lines(self.backend, [
            {"id": 1, "ops": [{"op": "reset", "env": 1, "split": "valid_seen", "index": 0, "seed": 5},
                              {"op": "reset", "env": 2, "split": "train", "index": 2, "seed": "18446744073709551615"}]},
            {"id": 2, "ops": [{"op": "step", "env": 1, "action": "go to fridge 1"},
                              {"op": "step", "env": 2, "action": "look"}]},
            {"id": 3, "ops": [{"op": "step", "env": 1, "action": "open fridge 1"},
                              {"op": "step", "env": 2, "action": "look"}]},
            {"id": 4, "ops": [{"op": "step", "env": 1, "action": "look"}, {"op": "step", "env": 2, "action": "look"},
                              {"op": "reset", "env": 1, "split": "valid_seen", "index": 2}]},
            {"id": 5, "ops": [{"op": "free", "env": 2}, {"op": "step", "env": 2, "action": "look"}]},
        ])
        r1, r2 = replies[0]["results"]
        # sorted game files: index 0 of valid_seen is the look_at_obj game, index 2 of train the pick_two game
        self.assertEqual(r1["env"], 1)
        self.assertEqual(r1["task"], "cool some egg and put it in microwave.")
        self.assertEqual(r1["admissible"], ["go to fridge 1", "help", "look"])
        self.assertEqual((r1["reward"], r1["done"], r1["won"]), (0.0, False, False))
        self.assertEqual(r1["info"], {"task_type": 1, "task_type_name": "look", "score": 0.0, "truncated": False,
                                      "steps": 0, "max_steps": 3})
        self.assertEqual(r2["info"]["task_type_name"], "pick2")
        s1, s2 = replies[1]["results"]
        self.assertEqual(s1["obs"], "You arrive at fridge 1.")
        self.assertEqual(s2["obs"], "Nothing happens.")
        w1, l2 = replies[2]["results"]
        self.assertEqual((w1["reward"], w1["done"], w1["won"], w1["info"]["score"]), (10.0, True, True, 1.0))
        self.assertFalse(w1["info"]["truncated"])
        self.assertEqual(l2["info"]["steps"], 2)
        after, t2, bad = replies[3]["results"]
        self.assertFalse(after["ok"])  # stepping a finished episode is an error of that op only
        self.assertEqual((t2["done"], t2["won"], t2["info"]["truncated"], t2["info"]["steps"]), (True, False, True, 3))
        self.assertFalse(bad["ok"])
        self.assertIn("index 2 outside split 'valid_seen'", bad["error"])
        self.assertEqual([x["ok"] for x in replies[4]["results"]], [True, False])

    def test_webshop(self):
        install_fake_webshop()
        import webshop_server
        FakeWebAgentTextEnv.made.clear()
        backend = webshop_server.Backend(num_products=1000, human_goals=False, max_steps=2)
        replies = run_lines(backend, [
            {"id": 0, "ops": [{"op": "hello", "version": 1}]},
            {"id": 1, "ops": [{"op": "reset", "env": 1, "split": "eval", "index": 1},
                              {"op": "reset", "env": 2, "split": "test", "index": 2}]},
            {"id": 2, "ops": [{"op": "step", "env": 1, "action": "search[red shoes]"},
                              {"op": "step", "env": 2, "action": "click[search]"}]},
            {"id": 3, "ops": [{"op": "step", "env": 1, "action": "click[buy now]"},
                              {"op": "step", "env": 2, "action": "click[search]"}]},
            {"id": 4, "ops": [{"op": "reset", "env": 1, "split": "train", "index": 100}]},
        ])
        self.assertEqual(replies[0]["results"][0]["splits"], {"train": 100, "test": 500, "eval": 1000})
        a, b = replies[1]["results"]
        self.assertEqual(a["task"], "Find goal 501")
        self.assertEqual(a["obs"], "'Search'")
        self.assertEqual(a["admissible"], ["search[<your query>]", "click[search]"])
        self.assertEqual((a["info"]["task_type"], a["info"]["task_type_name"]), (0, "beauty"))  # goal 501
        self.assertEqual((b["info"]["task_type"], b["info"]["task_type_name"]), (-1, "toys"))  # goal 2: not a category
        s, _ = replies[2]["results"]
        self.assertEqual(s["obs"], "'Back to Search' [SEP] 'Buy Now'")
        self.assertEqual(s["admissible"], ["click[back to search]", "click[buy now]"])
        won, limit = replies[3]["results"]
        self.assertEqual((won["reward"], won["done"], won["won"], won["info"]["score"]), (10.0, True, True, 1.0))
        self.assertTrue(won["obs"].startswith("Thank you"))  # no instruction on the done page: raw text
        self.assertEqual((limit["done"], limit["info"]["truncated"], limit["reward"]), (True, True, 0.0))
        self.assertFalse(replies[4]["results"][0]["ok"])  # train has 100 goals here
        servers = {id(e.server) for e in FakeWebAgentTextEnv.made}
        self.assertEqual(len(servers), 1)  # one catalog per process


if __name__ == "__main__":
    unittest.main()
