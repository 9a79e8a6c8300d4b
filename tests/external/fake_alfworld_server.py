#!/usr/bin/python3
"""contrib/alfworld_server.py with ALFWorld and TextWorld replaced by the fakes of test_adapters.py, as
a process: lets the C client talk to the real adapter code end to end."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_adapters  # noqa: E402  (also puts contrib/ on the path)

test_adapters.install_fake_alfworld()
os.environ["FAKE_NOISE"] = "1"  # the fake game prints to stdout: the adapter must keep it off the replies
import alfworld_server  # noqa: E402

alfworld_server.main(["--config", os.devnull] + sys.argv[1:])
