"""The server side of hiper's external-environment protocol (docs/external-protocol.md), standard
library only. An adapter supplies a Backend; serve() answers JSON-line requests on stdin/stdout.

A Backend has:
    name          str, reported in the handshake
    splits()      {split name: number of episodes}
    new_env()     a fresh environment object with
                      reset(split, index, seed) -> State
                      step(action)              -> State
                      close()                   (optional)
State is a dict with the keys of state(); build it with state(...).
Exceptions raised by reset/step become {"ok": false, "error": ...} for that operation only.
"""
import io
import json
import os
import sys

PROTOCOL_VERSION = 1


def state(obs, task, admissible, reward=0.0, done=False, won=False, task_type=-1, task_type_name="",
          score=0.0, truncated=False, steps=None, max_steps=None):
    """The state fields of a reset/step result."""
    info = {"task_type": int(task_type), "task_type_name": str(task_type_name), "score": float(score),
            "truncated": bool(truncated)}
    if steps is not None:
        info["steps"] = int(steps)
    if max_steps is not None:
        info["max_steps"] = int(max_steps)
    return {"obs": str(obs), "task": str(task), "admissible": [str(a) for a in admissible],
            "reward": float(reward), "done": bool(done), "won": bool(won), "info": info}


class Server:
    """Environments by id, and the answer to one request line."""

    def __init__(self, backend):
        self.backend = backend
        self.envs = {}
        self.closing = False

    def _op(self, op):
        kind = op.get("op")
        if kind == "hello":
            return {"version": PROTOCOL_VERSION, "env": self.backend.name, "splits": self.backend.splits(),
                    "clone": False}
        if kind == "close":
            self.closing = True
            return {}
        env_id = op.get("env")
        if not isinstance(env_id, int) or isinstance(env_id, bool) or env_id < 0:
            raise ValueError("missing or negative integer 'env'")
        if kind == "reset":
            if env_id not in self.envs:
                self.envs[env_id] = self.backend.new_env()
            seed = int(op.get("seed", 0))  # a number, or a decimal string above 2^53
            return self.envs[env_id].reset(str(op["split"]), int(op["index"]), seed)
        if kind == "step":
            if env_id not in self.envs:
                raise ValueError("step: no such environment (reset it first)")
            return self.envs[env_id].step(str(op["action"]))
        if kind == "free":
            env = self.envs.pop(env_id, None)
            if env is not None and hasattr(env, "close"):
                env.close()
            return {}
        raise ValueError("unknown op '%s' (this server handles hello, reset, step, free, close)" % kind)

    def handle(self, line):
        """The reply (a dict) to one request line (a str)."""
        try:
            req = json.loads(line)
        except ValueError as e:
            return {"id": None, "error": "the request is not JSON: %s" % e}
        if not isinstance(req, dict) or not isinstance(req.get("id"), int) or not isinstance(req.get("ops"), list):
            return {"id": req.get("id") if isinstance(req, dict) else None,
                    "error": "a request is an object with an integer 'id' and an 'ops' list"}
        results = []
        for op in req["ops"]:
            r = {"ok": True}
            if isinstance(op, dict) and "env" in op:
                r["env"] = op["env"]
            try:
                if not isinstance(op, dict):
                    raise ValueError("an operation must be an object")
                r.update(self._op(op))
            except Exception as e:  # one operation failed: say so, keep serving
                r = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
                if isinstance(op, dict) and "env" in op:
                    r["env"] = op["env"]
            results.append(r)
        return {"id": req["id"], "results": results}

    def close(self):
        for env in self.envs.values():
            if hasattr(env, "close"):
                env.close()
        self.envs.clear()


def serve(backend, inp=None, out=None):
    """Answer requests until a close request or the end of the input."""
    inp = inp or sys.stdin
    out = out or sys.stdout
    server = Server(backend)
    try:
        for line in inp:
            if not line.strip():
                continue
            out.write(json.dumps(server.handle(line)) + "\n")  # ASCII: \u escapes for the rest
            out.flush()
            if server.closing:
                break
    finally:
        server.close()


def protocol_streams():
    """(input, output) text streams for the protocol, in UTF-8. The output is a private copy of file
    descriptor 1; descriptor 1 itself and sys.stdout then point at stderr, so that whatever the
    environment prints (from Python or from C code) cannot corrupt the reply stream."""
    sys.stdout.flush()
    out = io.open(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="\n")
    return inp, out
