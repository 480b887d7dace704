#!/usr/bin/env python3
"""A Gale shell spout in Python: emit sentences reliably, replay on fail.

It speaks Apache Storm's multilang protocol directly (no Storm library):
after the handshake ({"conf", "context", "pidDir"} -> create pidDir/<pid>,
answer {"pid": N}) Gale sends commands, one at a time:

  {"command": "next", "id": ""}   emit zero or more tuples, then sync
  {"command": "ack",  "id": ID}   the tree of message ID completed
  {"command": "fail", "id": ID}   it failed: emit it again (replay)
  {"command": "activate"|"deactivate", "id": ""}

and every command is answered with {"command": "sync"}. Each emit carries
the message id ("id"); we ask for no task ids ("need_task_ids": false).

Environment: SENTENCES_COUNT=N emits N sentences then stays idle
(default: unlimited).
"""
import json
import os
import sys
import time

SENTENCES = [
    "the cow jumped over the moon",
    "an apple a day keeps the doctor away",
    "four score and seven years ago",
    "snow white and the seven dwarfs",
    "i am at two with nature",
]


def read_msg():
    lines = []
    while True:
        line = sys.stdin.readline()
        if not line:
            sys.exit(0)
        line = line.rstrip("\n")
        if line == "end":
            return json.loads("\n".join(lines))
        lines.append(line)


def write(msgs):
    sys.stdout.write("".join(json.dumps(m) + "\nend\n" for m in msgs))
    sys.stdout.flush()


def main():
    setup = read_msg()
    pid = os.getpid()
    open(os.path.join(setup["pidDir"], str(pid)), "w").close()
    write([{"pid": pid}])

    limit = int(os.environ.get("SENTENCES_COUNT", "0") or 0)
    emitted = 0
    pending = {}  # message id -> sentence
    replay = []
    while True:
        cmd = read_msg()
        if isinstance(cmd, list):
            continue  # task ids: we never ask for them
        out = []
        c = cmd.get("command")
        if c == "next":
            if replay:
                mid = replay.pop(0)
                out.append({"command": "emit", "id": mid, "tuple": [pending[mid]], "need_task_ids": False})
            elif not limit or emitted < limit:
                mid = "s%d" % emitted
                pending[mid] = SENTENCES[emitted % len(SENTENCES)]
                emitted += 1
                out.append({"command": "emit", "id": mid, "tuple": [pending[mid]], "need_task_ids": False})
            else:
                time.sleep(0.001)  # nothing to emit: do not spin
        elif c == "ack":
            pending.pop(cmd["id"], None)
        elif c == "fail":
            if cmd["id"] in pending:
                replay.append(cmd["id"])
        out.append({"command": "sync"})
        write(out)


if __name__ == "__main__":
    main()
