#!/usr/bin/env python3
"""Calls Storm UI's REST API paths against a running Gale cluster, as a
dashboard or an operator's script written for Storm would (standard library
only), and checks the fields Storm's docs/STORM-UI-REST-API.md names.

usage: stormui_check.py BASE_URL TOPOLOGY SPOUT BOLT TOPIC PARTITIONS WORKERS
(the API token in $GALE_AUTH_TOKEN, sent only with the POST actions)
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

base, topo, spout, bolt, topic = sys.argv[1:6]
partitions, workers = int(sys.argv[6]), int(sys.argv[7])
token = os.environ["GALE_AUTH_TOKEN"]
failures = []


def call(method, path, body=None, auth=True):
    req = urllib.request.Request(base + path, method=method)
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if auth and method == "POST":
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


def has(obj, fields, where):
    missing = [f for f in fields if f not in obj]
    check(not missing, f"{where}: fields {fields}" + (f" (missing {missing})" if missing else ""))


st, cs = call("GET", "/api/v1/cluster/summary")
check(st == 200, f"GET /api/v1/cluster/summary: HTTP {st}")
has(cs, ["stormVersion", "supervisors", "topologies", "slotsTotal", "slotsUsed", "slotsFree", "executorsTotal", "tasksTotal"], "cluster/summary")
check(cs["supervisors"] == workers and cs["topologies"] == 1, f"cluster/summary: {cs['supervisors']} supervisors, {cs['topologies']} topologies")
check(cs["slotsUsed"] + cs["slotsFree"] == cs["slotsTotal"] and cs["tasksTotal"] > 0, "cluster/summary: slots add up, tasks counted")

st, ss = call("GET", "/api/v1/supervisor/summary")
check(st == 200 and len(ss["supervisors"]) == workers, f"GET /api/v1/supervisor/summary: HTTP {st}, {len(ss['supervisors'])} supervisors")
for s in ss["supervisors"]:
    has(s, ["id", "host", "uptime", "uptimeSeconds", "slotsTotal", "slotsUsed"], "supervisor " + s.get("id", "?"))

st, ts = call("GET", "/api/v1/topology/summary")
check(st == 200 and len(ts["topologies"]) == 1, f"GET /api/v1/topology/summary: HTTP {st}")
t = ts["topologies"][0]
has(t, ["id", "name", "status", "uptime", "uptimeSeconds", "tasksTotal", "workersTotal", "executorsTotal"], "topology/summary")
check(t["id"] == topo and t["status"] == "ACTIVE", f"topology/summary: id {t['id']}, status {t['status']}")

# wait until the spout acked something in the 10-minute window
for _ in range(60):
    st, td = call("GET", f"/api/v1/topology/{topo}?window=600")
    if st == 200 and td["spouts"] and td["spouts"][0]["acked"] > 0:
        break
    time.sleep(1)
check(st == 200, f"GET /api/v1/topology/{topo}?window=600: HTTP {st}")
has(td, ["id", "name", "status", "uptime", "uptimeSeconds", "tasksTotal", "workersTotal", "executorsTotal", "msgTimeout",
         "window", "windowHint", "topologyStats", "spouts", "bolts", "workers"], "topology")
check(td["window"] == "600" and td["msgTimeout"] == 30, f"topology: window {td['window']}, msgTimeout {td['msgTimeout']}")
check([w["window"] for w in td["topologyStats"]] == ["600", "10800", ":all-time"], "topology: topologyStats windows 600, 10800, :all-time")
for w in td["topologyStats"]:
    has(w, ["windowPretty", "window", "emitted", "transferred", "completeLatency", "acked", "failed"], "topologyStats " + w["window"])
sp = [s for s in td["spouts"] if s["spoutId"] == spout]
check(len(sp) == 1 and sp[0]["acked"] > 0, f"topology: spout {spout} acked {sp[0]['acked'] if sp else None}")
has(sp[0], ["spoutId", "executors", "tasks", "emitted", "transferred", "completeLatency", "acked", "failed", "lastError", "errorHost", "errorPort", "errorLapsedSecs"], "spout")
float(sp[0]["completeLatency"])  # a number in a string, as Storm
bo = [b for b in td["bolts"] if b["boltId"] == bolt]
check(len(bo) == 1, f"topology: bolt {bolt}")
has(bo[0], ["boltId", "executors", "tasks", "emitted", "transferred", "executed", "acked", "failed", "capacity", "executeLatency", "processLatency", "lastError"], "bolt")
check(len(td["workers"]) == workers and all(w["componentNumTasks"] for w in td["workers"]), f"topology: {len(td['workers'])} workers with their tasks")

st, cp = call("GET", f"/api/v1/topology/{topo}/component/{spout}")
check(st == 200 and cp["componentType"] == "spout" and cp["window"] == ":all-time", f"GET component/{spout}: HTTP {st}")
has(cp, ["id", "encodedId", "name", "topologyId", "topologyStatus", "executors", "tasks", "window", "windowHint", "componentErrors", "spoutSummary", "outputStats", "executorStats"], "component " + spout)
check(len(cp["executorStats"]) == cp["tasks"], "component: one executorStats line per task")
st, cb = call("GET", f"/api/v1/topology/{topo}/component/{bolt}?window=10800")
check(st == 200 and cb["componentType"] == "bolt" and cb["boltStats"], f"GET component/{bolt}?window=10800: HTTP {st}")

# each spout task reports its partitions every half second: wait for all
for _ in range(30):
    st, lag = call("GET", f"/api/v1/topology/{topo}/lag")
    if st == 200 and len(lag.get(spout, {}).get("spoutLagResult", {}).get(topic, {})) == partitions:
        break
    time.sleep(1)
check(st == 200 and spout in lag, f"GET /api/v1/topology/{topo}/lag: HTTP {st}")
sl = lag[spout]
check(sl["spoutType"] == "KAFKA" and sl["spoutId"] == spout, "lag: spoutType KAFKA")
parts = sl["spoutLagResult"].get(topic, {})
check(len(parts) == partitions, f"lag: {len(parts)} partitions of {topic}, want {partitions}")
for p, v in parts.items():
    has(v, ["consumerCommittedOffset", "logHeadOffset", "lag"], f"lag {topic}/{p}")

# bad input: Storm's 1-day window is not kept; an unknown component; a POST without the token
st, _ = call("GET", f"/api/v1/topology/{topo}?window=86400")
check(st == 400, f"window=86400: HTTP {st}, want 400")
st, _ = call("GET", f"/api/v1/topology/{topo}/component/nosuch")
check(st == 404, f"unknown component: HTTP {st}, want 404")
st, _ = call("GET", "/api/v1/topology/nosuch")
check(st == 404, f"unknown topology: HTTP {st}, want 404")
st, _ = call("POST", f"/api/v1/topology/{topo}/deactivate", auth=False)
check(st == 401, f"POST without the token: HTTP {st}, want 401")

# the POST actions
st, op = call("POST", f"/api/v1/topology/{topo}/deactivate")
check(st == 200 and op == {"topologyOperation": "deactivate", "topologyId": topo, "status": "success"}, f"deactivate: {st} {op}")
st, ts = call("GET", "/api/v1/topology/summary")
check(ts["topologies"][0]["status"] == "INACTIVE", "deactivated: status INACTIVE")
st, op = call("POST", f"/api/v1/topology/{topo}/activate")
check(st == 200 and op["status"] == "success", f"activate: {st} {op}")
st, op = call("POST", f"/api/v1/topology/{topo}/rebalance/0", {"rebalanceOptions": {"executors": {bolt: "2"}}, "callback": "foo"})
check(st == 200 and op["topologyOperation"] == "rebalance", f"rebalance: {st} {op}")
for _ in range(30):
    st, cb = call("GET", f"/api/v1/topology/{topo}/component/{bolt}")
    if st == 200 and cb["tasks"] == 2:
        break
    time.sleep(1)
check(cb["tasks"] == 2, f"rebalanced: {bolt} has {cb['tasks']} tasks, want 2")
st, op = call("POST", f"/api/v1/topology/{topo}/kill/0")
check(st == 200 and op["topologyOperation"] == "kill", f"kill: {st} {op}")

if failures:
    print(f"{len(failures)} checks failed")
    sys.exit(1)
print("all checks passed")
