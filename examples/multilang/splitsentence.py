#!/usr/bin/env python3
"""A Gale shell bolt in Python: split sentences into words.

It speaks Apache Storm's multilang protocol directly (no Storm library),
so it also runs unchanged under Storm's ShellBolt:

  * every message is JSON followed by a line "end", on stdin and stdout;
  * the first message is the handshake {"conf", "context", "pidDir"}: create
    an empty file named by our pid in pidDir and answer {"pid": N};
  * then tuples arrive: {"id", "comp", "stream", "task", "tuple": [...]};
    heartbeats are tuples on stream "__heartbeat" from task -1 and are
    answered with {"command": "sync"};
  * we answer each tuple with one emit per word, anchored to the input,
    then an ack; every 100 sentences we also report a metric
    ({"command": "metrics", "name": "sentences", "params": 100}: Gale adds it
    to the task's custom counter "sentences", shown with its stats). We ask for no task ids ("need_task_ids": false); a bolt that
    does ask must read the JSON list Gale sends back after each emit.

Environment (for demos and tests of Gale's crash handling):
  SPLIT_CRASH_AFTER=K and SPLIT_CRASH_MARKER=path: after K tuples, if the
  marker file does not exist yet, create it and exit with status 3 (so the
  bolt crashes once; the restarted process then runs normally).
"""
import json
import os
import sys


def read_msg():
    lines = []
    while True:
        line = sys.stdin.readline()
        if not line:
            sys.exit(0)  # stdin closed: Gale is stopping us
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

    crash_after = int(os.environ.get("SPLIT_CRASH_AFTER", "0") or 0)
    marker = os.environ.get("SPLIT_CRASH_MARKER")
    seen = 0
    while True:
        msg = read_msg()
        if isinstance(msg, list):
            continue  # task ids: we never ask for them
        if msg["task"] == -1 and msg["stream"] == "__heartbeat":
            write([{"command": "sync"}])
            continue
        if msg["stream"] == "__tick":
            write([{"command": "ack", "id": msg["id"]}])
            continue
        seen += 1
        if crash_after and seen > crash_after and marker and not os.path.exists(marker):
            open(marker, "w").close()
            sys.stderr.write("splitsentence: crashing on purpose after %d tuples\n" % crash_after)
            sys.stderr.flush()
            os._exit(3)
        out = [
            {"command": "emit", "anchors": [msg["id"]], "tuple": [word], "need_task_ids": False}
            for word in str(msg["tuple"][0]).split()
        ]
        out.append({"command": "ack", "id": msg["id"]})
        if seen % 100 == 0:
            out.append({"command": "metrics", "name": "sentences", "params": 100})
        write(out)


if __name__ == "__main__":
    main()
