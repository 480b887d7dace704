"""The multilang protocol for the fake subprocesses of Gale's tests
(bolt/shell/testdata/fakebolt.py, spout/shell/testdata/fakespout.py),
which put this directory on sys.path to import it.
"""
import json
import os
import sys


def read_msg():
    """Reads one message; exits when stdin is closed."""
    lines = []
    while True:
        line = sys.stdin.readline()
        if not line:
            sys.exit(0)
        line = line.rstrip("\n")
        if line == "end":
            return json.loads("\n".join(lines))
        lines.append(line)


def send(*msgs):
    """Writes msgs, each followed by "end"."""
    sys.stdout.write("".join(json.dumps(m) + "\nend\n" for m in msgs))
    sys.stdout.flush()


def handshake():
    """Answers the setup message with the pid (and its file in pidDir)."""
    setup = read_msg()
    open(os.path.join(setup["pidDir"], str(os.getpid())), "w").close()
    send({"pid": os.getpid()})
    return setup
