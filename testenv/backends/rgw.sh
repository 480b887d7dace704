#!/usr/bin/env bash
# testenv/backends/rgw.sh up|down|status|env
#
# Ceph's RADOS Gateway (the S3 API) on the Ceph cluster of backends/ceph.sh: Debian's radosgw
# (the same 16.2.x as the Ceph packages; installed with apt when missing), one instance named
# client.rgw.gale, beast frontend on 127.0.0.1:7480 only, its pools created beforehand with
# few PGs, and one S3 user ("gale") whose access and secret keys radosgw-admin generates.
# Ready = a SigV4-signed bucket create, object put and get that round-trip (curl --aws-sigv4).
# `up` brings Ceph up first when it is not serving (under Ceph's up lock: `testenv up` may be
# starting it at the same moment). `down` stops radosgw and deletes its pools (its data).
#
# The data of deleted objects is reclaimed a minute later (rgw_gc_obj_min_wait; radosgw's
# default of 2 hours lets repeated test runs fill the OSD).
#
# Env: GALE_RGW_THREADS  radosgw's request threads (rgw_thread_pool_size; default 64, not 512)
set -euo pipefail
# shellcheck source=../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
backend_init rgw

HOST=127.0.0.1
PORT=7480
ENDPOINT=http://$HOST:$PORT
REGION=us-east-1
NAME=client.rgw.gale
S3_USER=gale
THREADS=${GALE_RGW_THREADS:-64}
CEPH_RUN=$GALE_TESTENV_RUN/ceph
CEPH_CONF=$CEPH_RUN/ceph.conf
PIDFILE=$PID_DIR/radosgw.pid
CURL_CONF=$RUN_DIR/curl.conf   # `user = "ACCESS:SECRET"` for the probes (0600): never on a command line
PROBE_BUCKET=gale-testenv-probe
# Debian's python3 (a ceph-common dependency) for JSON parsing; pyenv's python3 comes first on PATH.
PY=/usr/bin/python3
# The gateway's pools and their PG counts. Created by radosgw itself they would get the
# cluster's default of 8 PGs each (56 in all) on the single OSD, which also carries the pools
# the Ceph tests create (mon_max_pg_per_osd is 250): 11 PGs are plenty here.
POOLS=(.rgw.root:1 default.rgw.control:1 default.rgw.meta:1 default.rgw.log:1
       default.rgw.buckets.index:2 default.rgw.buckets.non-ec:1 default.rgw.buckets.data:4)
# testenv's Ceph runs with auth none. Ceph daemons default to ms_mon_client_mode "secure",
# which auth none cannot provide: without "crc" radosgw never gets past AUTH_CONNECTING
# ("get_initial_auth_request returned -13").
CEPH_OPTS=(-c "$CEPH_CONF" --ms-mon-client-mode=crc)

rgw_admin() { timeout 60 radosgw-admin "${CEPH_OPTS[@]}" "$@"; }

# ceph_fsid: the fsid of the running Ceph (from its generated conf).
ceph_fsid() { awk '$1 == "fsid" {print $3}' "$CEPH_CONF" 2>/dev/null; }

install_radosgw() {
    local want
    want=$(dpkg-query -W -f='${Version}' ceph-common 2>/dev/null) ||
        die "ceph-common is not installed: testenv/backends/ceph.sh installs it (testenv/testenv up ceph)"
    if [[ "$(dpkg-query -W -f='${Version}' radosgw 2>/dev/null || true)" == "$want" ]] && command -v radosgw >/dev/null; then
        return 0
    fi
    if (( EUID != 0 )); then
        die "radosgw $want is not installed and installing needs root; run as root:  apt-get install -y --no-install-recommends radosgw=$want"
    fi
    need_cmd apt-get "this script installs radosgw with Debian's apt; install radosgw=$want yourself"
    mkdir -p "$CACHE_DIR"
    local t0 apt_log=$CACHE_DIR/apt.log
    t0=$(date +%s)
    log "installing radosgw=$want with apt (the version of the Ceph packages; log: $apt_log)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "radosgw=$want" >"$apt_log" 2>&1; then
        # the package lists may be stale: update once and try again
        if ! { apt-get update && apt-get install -y --no-install-recommends "radosgw=$want"; } >>"$apt_log" 2>&1; then
            tail -n 15 "$apt_log" >&2
            die "apt-get install radosgw=$want failed; full log: $apt_log"
        fi
    fi
    command -v radosgw >/dev/null || die "apt installed radosgw but the radosgw command is still missing"
    log "installed radosgw $want in $(( $(date +%s) - t0 ))s"
}

# ensure_ceph: Ceph serving, or started now (under its lock, so that a `testenv up` starting
# it at the same time and we do not both start it). Fails naming Ceph.
ensure_ceph() {
    if BACKEND=ceph bash "$TESTENV_DIR/backends/ceph.sh" status >/dev/null 2>&1; then
        return 0
    fi
    log "the gateway runs on testenv's Ceph, which is not serving: bringing Ceph up first"
    up_locked ceph || die "the RADOS Gateway needs Ceph, and 'testenv/testenv up ceph' failed (see above; logs: $CEPH_RUN/log)"
    [[ -f "$CEPH_CONF" ]] || die "Ceph is up but its conf $CEPH_CONF is missing"
}

# pools CMD: create (idempotent: the missing ones, with few PGs and the application "rgw") or
# delete the gateway's pools, with one client (python3-rados, a ceph-common dependency)
# rather than a ceph CLI call per step.
pools() {
    timeout 120 $PY - "$1" "$CEPH_CONF" "${POOLS[@]}" <<'EOF'
import json, sys, rados
cmd, conf, specs = sys.argv[1], sys.argv[2], [s.split(":") for s in sys.argv[3:]]
c = rados.Rados(conffile=conf, conf={"ms_mon_client_mode": "crc", "client_mount_timeout": "20"})
c.connect(timeout=20)
def mon(**args):
    ret, _, err = c.mon_command(json.dumps(args), b"", timeout=30)
    if ret != 0:
        sys.exit("%s: %s (%d)" % (json.dumps(args), err, ret))
have = set(c.list_pools())
for name, pg in specs:
    if cmd == "create" and name not in have:
        mon(prefix="osd pool create", pool=name, pg_num=int(pg), pgp_num=int(pg))
        mon(prefix="osd pool application enable", pool=name, app="rgw")
        print("created pool %s (%s PGs)" % (name, pg))
    elif cmd == "delete" and name in have:
        mon(prefix="osd pool delete", pool=name, pool2=name, yes_i_really_really_mean_it=True)
        print("deleted pool %s" % name)
EOF
}

# answering: the frontend answers an anonymous request (ListBuckets of "anonymous").
answering() { [[ $(curl -s -o /dev/null -m 5 -w '%{http_code}' "$ENDPOINT/") == 200 ]]; }

# s3 CURL-ARGS...: a SigV4-signed request with the user's keys. curl 7.88 does not send the
# x-amz-content-sha256 header S3 wants: give it (the hash of the body, or of nothing).
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
s3() { curl -sS -m 10 -K "$CURL_CONF" --aws-sigv4 "aws:amz:$REGION:s3" "$@"; }

# signed_list: a signed ListBuckets succeeds (status's cheap check).
signed_list() {
    [[ $(s3 -o /dev/null -w '%{http_code}' -H "x-amz-content-sha256: $EMPTY_SHA256" "$ENDPOINT/") == 200 ]]
}

# roundtrip: signed bucket create (idempotent for its owner), put, get, compare.
roundtrip() {
    local in=$RUN_DIR/probe.in out=$RUN_DIR/probe.out sum
    echo "gale testenv probe $(date +%s%N)" >"$in"
    sum=$(sha256sum "$in" | cut -d' ' -f1)
    rm -f "$out"
    [[ $(s3 -o /dev/null -w '%{http_code}' -X PUT -H "x-amz-content-sha256: $EMPTY_SHA256" "$ENDPOINT/$PROBE_BUCKET") == 200 ]] &&
    [[ $(s3 -o /dev/null -w '%{http_code}' -T "$in" -H "x-amz-content-sha256: $sum" "$ENDPOINT/$PROBE_BUCKET/probe") == 200 ]] &&
    [[ $(s3 -o "$out" -w '%{http_code}' -H "x-amz-content-sha256: $EMPTY_SHA256" "$ENDPOINT/$PROBE_BUCKET/probe") == 200 ]] &&
    cmp -s "$in" "$out"
}

# on_this_ceph: the gateway was started on the Ceph running now (not on one since recreated).
on_this_ceph() { [[ -f "$RUN_DIR/ceph-fsid" && "$(cat "$RUN_DIR/ceph-fsid")" == "$(ceph_fsid)" ]]; }

serving() { on_this_ceph && signed_list; }

# ensure_user: the S3 user, created with generated keys when missing; writes the curl config
# and the env file from its first S3 key. The secret goes only into those two 0600 files.
ensure_user() {
    local info=$RUN_DIR/user.json
    (
        umask 077
        trap 'rm -f "$info"' EXIT
        if ! rgw_admin user info --uid="$S3_USER" >"$info" 2>"$LOG_DIR/user.err"; then
            rgw_admin user create --uid="$S3_USER" --display-name="Gale tests" >"$info" 2>"$LOG_DIR/user.err"
        fi
        $PY - "$info" "$CURL_CONF" "$RUN_DIR/env" "$ENDPOINT" "$REGION" <<'EOF'
import json, sys
info, curl_conf, env, endpoint, region = sys.argv[1:]
keys = [k for k in json.load(open(info))["keys"] if k.get("access_key") and k.get("secret_key")]
if not keys:
    sys.exit("the user has no S3 key")
ak, sk = keys[0]["access_key"], keys[0]["secret_key"]
with open(curl_conf, "w") as f:
    f.write('user = "%s:%s"\n' % (ak, sk))
with open(env, "w") as f:
    f.write("export GALE_S3_ENDPOINT=%s\nexport GALE_S3_ACCESS_KEY=%s\nexport GALE_S3_SECRET_KEY=%s\nexport GALE_S3_REGION=%s\n"
            % (endpoint, ak, sk, region))
EOF
    ) || die_with_logs "cannot create or read the S3 user '$S3_USER' with radosgw-admin"
}

cmd_up() {
    local t0 t0ns pid state answered_ms
    t0=$(date +%s)
    state=$(pids_state "$PID_DIR")
    if [[ $state == alive ]]; then
        pid=$(cat "$PIDFILE")
        if on_this_ceph; then
            if signed_list; then
                log "already running and serving on $ENDPOINT (pid $pid): nothing to do"
                return 0
            fi
            log "running (pid $pid) but not serving yet: waiting"
            WAIT_PID=$pid wait_until 60 "the RADOS Gateway on $ENDPOINT" signed_list
            log "serving on $ENDPOINT (pid $pid)"
            return 0
        fi
        log "running (pid $pid) on a Ceph cluster that is gone (Ceph was started again): restarting it"
        stop_pidfile "$PIDFILE"
    elif [[ $state == died* ]]; then
        log "the gateway started earlier is gone ($state); starting it again"
        rm -f "$PID_DIR"/*.pid
    fi

    [[ -n "${TESTENV_MAIN:-}" ]] || log "up started at $(now)"
    need_cmd curl "install curl (Debian: apt-get install curl)"
    ensure_ceph
    install_radosgw
    require_port_free "$PORT" "the RADOS Gateway (S3)"

    mkdir -p "$LOG_DIR" "$PID_DIR" "$RUN_DIR/data" "$RUN_DIR/run"
    rm -f "$LOG_DIR"/*
    pools create >>"$LOG_DIR/pools.out" 2>&1 ||
        die_with_logs "cannot create the gateway's pools in Ceph (too many PGs on the OSD? ceph -c $CEPH_CONF -s)"
    # A failed start leaves no radosgw behind (the logs stay for a look).
    trap 'stop_pidfile "$PIDFILE" 2>/dev/null' EXIT
    log "starting radosgw on $ENDPOINT (beast, $THREADS threads)"
    t0ns=$(date +%s%N)
    start_bg "$PIDFILE" "$LOG_DIR/radosgw.out" radosgw -f "${CEPH_OPTS[@]}" -n "$NAME" \
        --rgw-frontends="beast endpoint=$HOST:$PORT" --rgw-thread-pool-size="$THREADS" \
        --rgw-data="$RUN_DIR/data" --run-dir="$RUN_DIR/run" --admin-socket="$RUN_DIR/run/radosgw.asok" \
        --log-file="$LOG_DIR/radosgw.log" --rgw-gc-obj-min-wait=60 --rgw-gc-processor-period=60
    pid=$(cat "$PIDFILE")
    WAIT_PID=$pid wait_until 60 "the RADOS Gateway answering on $ENDPOINT" answering
    answered_ms=$(( ($(date +%s%N) - t0ns) / 1000000 ))
    ceph_fsid >"$RUN_DIR/ceph-fsid"
    ensure_user
    WAIT_PID=$pid wait_until 60 "a signed bucket create, put and get on $ENDPOINT" roundtrip
    trap - EXIT
    log "serving S3 on $ENDPOINT as user '$S3_USER' (region $REGION; pid $pid, $(rss_mb "$pid") MiB RSS): radosgw answered ${answered_ms} ms after launch; ready $(( $(date +%s) - t0 ))s after start"
}

cmd_down() {
    if [[ $(pids_state "$PID_DIR") == none ]]; then
        log "not running"
    else
        stop_pidfile "$PIDFILE"
    fi
    # Its data is in Ceph: the pools go too (when Ceph still runs; else they went with it).
    if [[ -f "$CEPH_CONF" ]] && on_this_ceph; then
        pools delete >/dev/null 2>&1 || log "could not delete the gateway's pools (mon_allow_pool_delete off?)"
    fi
    rm -rf "$RUN_DIR/data" "$RUN_DIR/run" "$RUN_DIR/pids" "$RUN_DIR/env" "$CURL_CONF" "$RUN_DIR/ceph-fsid" "$RUN_DIR"/probe.*
}

cmd_status() {
    local pid
    backend_alive_or_report || return 1
    pid=$(cat "$PIDFILE")
    if ! on_this_ceph; then
        echo "running (pid $pid) but NOT serving: started on a Ceph cluster that is gone (testenv/testenv up rgw restarts it)"
        return 1
    fi
    if signed_list; then
        echo "serving S3 on $ENDPOINT (pid $pid, $(rss_mb "$pid") MiB RSS)"
    else
        echo "running (pid $pid) but NOT serving on $ENDPOINT (logs: $LOG_DIR)"
        return 1
    fi
}

backend_main "$@"
