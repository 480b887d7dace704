#!/usr/bin/env python3
"""A misbehaving multilang bolt for Gale's tests. FAKE_MODE selects how:

  hang        handshake, then never read or write again (a child "sleep"
              is started in the same process group; its pid is written to
              FAKE_CHILD_PID)
  malformed   answer the first tuple with invalid JSON (only while the
              marker FAKE_MARKER does not exist: it is created first), then
              behave
  junk        print non-protocol lines before each ack
  unknown     ack an id that was never sent, then ack the tuple
  noack       answer heartbeats, never ack
  badstream   emit on an undeclared stream, then ack
  echo        emit the tuple's values unchanged, anchored, then ack
"""
import json
import os
import subprocess
import sys
import time

# the protocol, shared with the other fake (no .pyc written into the tree)
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "internal", "multilang", "multilangtest"))
from fakeproto import handshake, read_msg, send  # noqa: E402

mode = os.environ.get("FAKE_MODE", "echo")

handshake()

if mode == "hang":
    child = subprocess.Popen(["sleep", "1000"])
    with open(os.environ["FAKE_CHILD_PID"], "w") as f:
        f.write(str(child.pid))
    while True:
        time.sleep(1000)

while True:
    msg = read_msg()
    if isinstance(msg, list):
        continue
    if msg["task"] == -1 and msg["stream"] == "__heartbeat":
        send({"command": "sync"})
        continue
    tid = msg["id"]
    if mode == "malformed":
        marker = os.environ["FAKE_MARKER"]
        if not os.path.exists(marker):
            open(marker, "w").close()
            sys.stdout.write('{"command": "ack", "id": \nend\n')
            sys.stdout.flush()
            time.sleep(1000)
        send({"command": "ack", "id": tid})
    elif mode == "junk":
        print("hello from a stray print")
        print("another stray line")
        sys.stdout.flush()
        send({"command": "ack", "id": tid})
    elif mode == "unknown":
        send({"command": "ack", "id": "no-such-id"}, {"command": "ack", "id": tid})
    elif mode == "noack":
        pass
    elif mode == "badstream":
        send({"command": "emit", "stream": "nope", "anchors": [tid], "tuple": ["x"]})
        ids = read_msg()  # Gale still answers with task ids
        send({"command": "log", "msg": "task ids %s" % json.dumps(ids)},
             {"command": "ack", "id": tid})
    else:
        send({"command": "emit", "anchors": [tid], "tuple": msg["tuple"], "need_task_ids": False},
             {"command": "ack", "id": tid})
