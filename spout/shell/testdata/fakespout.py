#!/usr/bin/env python3
"""A misbehaving multilang spout for Gale's tests. FAKE_MODE selects how:

  crash     on the 2nd "next", exit 4 (only while the marker FAKE_MARKER
            does not exist: it is created first), else emit "t<n>"
  hang      never answer "next"
  malformed answer "next" with invalid JSON
  taskids   emit asking for task ids, log them, then sync
"""
import json
import os
import sys
import time

# the protocol, shared with the other fake (no .pyc written into the tree)
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "internal", "multilang", "multilangtest"))
from fakeproto import handshake, read_msg, send  # noqa: E402

mode = os.environ.get("FAKE_MODE", "crash")

handshake()
n = 0
while True:
    cmd = read_msg()
    if cmd["command"] != "next":
        send({"command": "log", "msg": "got %s %s" % (cmd["command"], json.dumps(cmd["id"]))}, {"command": "sync"})
        continue
    n += 1
    if mode == "crash" and n == 2 and not os.path.exists(os.environ["FAKE_MARKER"]):
        open(os.environ["FAKE_MARKER"], "w").close()
        sys.stderr.write("fakespout: crashing\n")
        sys.exit(4)
    if mode == "hang":
        time.sleep(1000)
    if mode == "malformed":
        sys.stdout.write("{oops\nend\n")
        sys.stdout.flush()
        continue
    if mode == "taskids":
        send({"command": "emit", "id": n, "tuple": ["t%d" % n]})
        ids = read_msg()
        send({"command": "log", "msg": "task ids %s" % json.dumps(ids)}, {"command": "sync"})
        continue
    send({"command": "emit", "id": n, "tuple": ["t%d" % n], "need_task_ids": False}, {"command": "sync"})
