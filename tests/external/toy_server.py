#!/usr/bin/python3
"""A tiny environment server for the tests of the external environment (standard library only).

It speaks the protocol of docs/external-protocol.md independently of the C code, hosts any number of
environments, and can misbehave on purpose (--malformed N, --hang N, ...: at the N-th request line this
process receives, the handshake being request 1).

The game ("counter"): reach a target number.
  splits: train (100 episodes), test (20)
  reset(split, index, seed): target = 1 + index % 5 (train) or 2 + index % 3 (test);
      value = seed % 3, or 0 if that equals the target; max_steps = 6
  task  = "reach <target>";  task_type = target % 2, task_type_name "even" / "odd"
  obs   = 'value → <v>\\n"inc" or "dec"?' after reset and after a move, "Nothing happens." otherwise
  admissible = ["dec", "inc", "look"] when value > 0, else ["inc", "look"]
  step: "inc" adds 1, "dec" (value > 0) subtracts 1, anything else changes nothing
  won when value == target: reward 10, score 1, done; done and truncated when steps reach max_steps.
"""
import argparse
import json
import os
import signal
import sys
import time

MAX_STEPS = 6


class Counter:
    def __init__(self):
        self.value = 0
        self.target = 0
        self.steps = 0
        self.done = False
        self.won = False
        self.truncated = False
        self.reward = 0.0
        self.obs = ""

    def reset(self, split, index, seed):
        sizes = {"train": 100, "test": 20}
        if split not in sizes:
            raise ValueError("unknown split '%s'" % split)
        if not 0 <= index < sizes[split]:
            raise ValueError("index %d out of range" % index)
        self.target = 1 + index % 5 if split == "train" else 2 + index % 3
        self.value = seed % 3
        if self.value == self.target:
            self.value = 0
        self.steps = 0
        self.done = self.won = self.truncated = False
        self.reward = 0.0
        self.obs = 'value \u2192 %d\n"inc" or "dec"?' % self.value

    def step(self, action):
        if self.done:
            raise ValueError("step after the episode ended")
        self.steps += 1
        if action == "inc":
            self.value += 1
        elif action == "dec" and self.value > 0:
            self.value -= 1
        else:
            action = None
        self.obs = 'value \u2192 %d\n"inc" or "dec"?' % self.value if action else "Nothing happens."
        self.won = self.value == self.target
        self.reward = 10.0 if self.won else 0.0
        self.truncated = not self.won and self.steps >= MAX_STEPS
        self.done = self.won or self.truncated

    def state(self, minimal):
        s = {
            "obs": self.obs,
            "task": "reach %d" % self.target,
            "admissible": (["dec", "inc", "look"] if self.value > 0 else ["inc", "look"]),
            "reward": self.reward,
            "done": self.done,
        }
        if not minimal:
            s["won"] = self.won
            s["info"] = {
                "task_type": self.target % 2,
                "task_type_name": ["even", "odd"][self.target % 2],
                "score": 1.0 if self.won else 0.0,
                "truncated": self.truncated,
                "steps": self.steps,
                "max_steps": MAX_STEPS,
            }
        return s


def main():
    ap = argparse.ArgumentParser()
    for name in ("malformed", "hang", "crash", "wrong-id", "wrong-env", "missing-field", "short"):
        ap.add_argument("--" + name, type=int, default=0)
    ap.add_argument("--crash-start", action="store_true")
    ap.add_argument("--once", default="", help="faults fire only while this file does not exist")
    ap.add_argument("--log", default="", help="append the op names of every request here")
    ap.add_argument("--starts", default="", help="append a line here at every start")
    ap.add_argument("--ignore-close", action="store_true", help="ignore close, EOF and SIGTERM")
    ap.add_argument("--version", type=int, default=1)
    ap.add_argument("--minimal", action="store_true", help="send only the required state fields")
    ap.add_argument("--delay", type=float, default=0.0, help="sleep this long before every reply")
    ap.add_argument("--bigger-splits", action="store_true", help="announce splits larger than the game has")
    ap.add_argument("--big-obs", type=int, default=0, help="pad every observation to this many bytes")
    ap.add_argument("--reward", default="", help="send this JSON number as every reward (1e300, say)")
    ap.add_argument("--stderr-bytes", type=int, default=0, help="write this many bytes to stderr before every reply")
    args = ap.parse_args()

    if args.starts:
        with open(args.starts, "a") as f:
            f.write("start\n")
    armed = not (args.once and os.path.exists(args.once))

    def fire(kind, n):
        if not armed or n != getattr(args, kind.replace("-", "_")):
            return False
        if args.once:
            open(args.once, "w").close()
        return True

    if args.crash_start and armed:
        if args.once:
            open(args.once, "w").close()
        sys.exit(5)
    if args.ignore_close:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    envs = {}
    n = 0
    out = sys.stdout
    for line in sys.stdin:
        n += 1
        req = json.loads(line)
        if args.log:
            with open(args.log, "a") as f:
                f.write(" ".join(op["op"] for op in req["ops"]) + "\n")
        if fire("crash", n):
            os._exit(3)
        if fire("hang", n):
            time.sleep(1000)
        if fire("malformed", n):
            out.write('{"id": %d, "results": [oops\n' % req["id"])
            out.flush()
            continue
        results = []
        closing = False
        for op in req["ops"]:
            kind = op["op"]
            r = {"ok": True}
            if "env" in op:
                r["env"] = op["env"]
            try:
                if kind == "hello":
                    big = 2 if args.bigger_splits else 1
                    r.update(version=args.version, env="counter", splits={"train": 100 * big, "test": 20 * big})
                elif kind == "reset":
                    env = envs.setdefault(op["env"], Counter())
                    env.reset(op["split"], op["index"], int(op.get("seed", 0)))
                    r.update(env.state(args.minimal))
                elif kind == "step":
                    env = envs[op["env"]]
                    env.step(op["action"])
                    r.update(env.state(args.minimal))
                elif kind == "free":
                    envs.pop(op["env"], None)
                elif kind == "close":
                    closing = True
                else:
                    raise ValueError("unknown op '%s'" % kind)
            except (ValueError, KeyError) as e:
                r = {"ok": False, "env": op.get("env"), "error": str(e)}
            results.append(r)
        reply = {"id": req["id"], "results": results}
        if fire("wrong-id", n):
            reply["id"] += 1
        if fire("wrong-env", n):
            results[0]["env"] = results[0].get("env", 0) + 1000
        if fire("missing-field", n):
            results[0].pop("done", None)
        if fire("short", n):
            results.pop()
        if args.delay:
            time.sleep(args.delay)
        for r in results:
            if "obs" in r and args.big_obs:
                r["obs"] = (r["obs"] + " " * args.big_obs)[: args.big_obs]
        text = json.dumps(reply)
        if args.reward:
            text = text.replace('"reward": 0.0', '"reward": ' + args.reward).replace('"reward": 10.0', '"reward": ' + args.reward)
        if args.stderr_bytes:
            chunk = ("x" * 1023 + "\n") * 64
            left = args.stderr_bytes
            while left > 0:
                sys.stderr.write(chunk[:left])
                left -= len(chunk)
            sys.stderr.flush()
        out.write(text + "\n")
        out.flush()
        if closing and not args.ignore_close:
            return
    if args.ignore_close:
        while True:
            time.sleep(1)


if __name__ == "__main__":
    main()
