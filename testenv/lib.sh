# shellcheck shell=bash
# testenv/lib.sh - helpers shared by testenv/testenv and testenv/backends/*.sh.
# Source it; it defines no behaviour on its own.
#
# Layout (override with the environment):
#   GALE_TESTENV_CACHE  downloads, kept between runs   (default ~/.cache/gale-testenv)
#   GALE_TESTENV_RUN    data dirs, logs, pid files      (default ~/.cache/gale-testenv/run)
# Each backend NAME keeps its state in $GALE_TESTENV_RUN/NAME/ with
#   NAME/log/      logs (printed by die_with_logs when a start fails)
#   NAME/pids/     one file per started process: its PID
#   NAME/env       the shell exports `testenv env` prints for it

GALE_TESTENV_CACHE=${GALE_TESTENV_CACHE:-$HOME/.cache/gale-testenv}
GALE_TESTENV_RUN=${GALE_TESTENV_RUN:-$GALE_TESTENV_CACHE/run}
TESTENV_DIR=${TESTENV_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
export GALE_TESTENV_CACHE GALE_TESTENV_RUN TESTENV_DIR

_t0=$(date +%s)

# log MSG...: a progress line on stderr, prefixed with the backend and seconds elapsed.
log() { printf '[testenv %s +%ss] %s\n' "${BACKEND:-main}" "$(( $(date +%s) - _t0 ))" "$*" >&2; }

# die MSG...: print an error naming the backend and exit 1.
die() { printf '[testenv %s] ERROR: %s\n' "${BACKEND:-main}" "$*" >&2; exit 1; }

# die_with_logs MSG...: print the tail of every log of the backend, then die.
die_with_logs() {
    local f dir="$GALE_TESTENV_RUN/${BACKEND:-main}/log"
    if [[ -d "$dir" ]]; then
        for f in "$dir"/*; do
            [[ -f "$f" ]] || continue
            printf -- '--- last 30 lines of %s ---\n' "$f" >&2
            tail -n 30 "$f" >&2
        done
    fi
    die "$@"
}

# need_cmd CMD [HINT]: fail clearly when a command is missing.
need_cmd() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed${2:+: $2}"
}

# need_java: JDK 17+ present (java and, for the HDFS launcher, javac).
need_java() {
    need_cmd java "install OpenJDK 17 (Debian: apt-get install openjdk-17-jdk-headless)"
    local v
    v=$(java -version 2>&1 | awk -F'"' '/version/ {print $2}' | cut -d. -f1)
    [[ "$v" =~ ^[0-9]+$ ]] && (( v >= 17 )) || die "Java 17 or newer is needed, found '$v'"
}

# port_free PORT: succeed when nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# require_port_free PORT WHAT: die naming the port when it is taken.
require_port_free() {
    port_free "$1" || die "port $1 (needed for $2) is already in use on 127.0.0.1; stop what holds it ($(command -v ss >/dev/null && ss -ltnp "sport = :$1" 2>/dev/null | tail -n +2 | head -1))"
}

# wait_until SECONDS DESC CMD...: poll CMD every 0.5 s until it succeeds; fail after SECONDS.
# Also fails early when a PID named in WAIT_PID has died.
wait_until() {
    local secs=$1 desc=$2; shift 2
    local deadline=$(( $(date +%s) + secs ))
    until "$@" >/dev/null 2>&1; do
        if [[ -n "${WAIT_PID:-}" ]] && ! pid_alive "$WAIT_PID"; then
            die_with_logs "$desc: the process (pid $WAIT_PID) died while starting"
        fi
        (( $(date +%s) < deadline )) || die_with_logs "$desc: not ready after ${secs}s"
        sleep 0.5
    done
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    [[ -n "$1" && -d "/proc/$1" ]] && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

# pidfile_alive FILE: FILE names a live process.
pidfile_alive() { [[ -f "$1" ]] && pid_alive "$(cat "$1")"; }

# stop_pidfile FILE: SIGTERM the process in FILE (and its process group when it leads one),
# wait up to 15 s, then SIGKILL; remove FILE. Only stops what testenv started.
stop_pidfile() {
    local f=$1 pid n
    [[ -f "$f" ]] || return 0
    pid=$(cat "$f")
    if pid_alive "$pid"; then
        log "stopping $(basename "$f" .pid) (pid $pid)"
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for n in $(seq 1 150); do pid_alive "$pid" || break; sleep 0.1; done
        if pid_alive "$pid"; then
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$f"
}

# start_bg PIDFILE LOGFILE CMD...: start CMD in its own session (setsid), detached,
# stdout+stderr to LOGFILE, PID in PIDFILE.
start_bg() {
    local pidf=$1 logf=$2; shift 2
    mkdir -p "$(dirname "$pidf")" "$(dirname "$logf")"
    setsid "$@" >>"$logf" 2>&1 < /dev/null &
    echo $! > "$pidf"
}

# mvn_copy_deps DIR POM: resolve the pom's dependencies into DIR/lib with Maven (skipped when
# DIR/lib/.done exists). Maven's local repository is DIR/m2 (so a backend's downloads live in
# its own cache dir, never in ~/.m2, and clearing DIR really starts cold); it is removed once
# the jars are copied. Names Maven Central as the thing missing when it cannot be reached.
mvn_copy_deps() {
    local dir=$1 pom=$2
    [[ -f "$dir/lib/.done" ]] && return 0
    need_cmd mvn "install Maven (Debian: apt-get install maven)"
    [[ -f "$pom" ]] || die "pom $pom is missing"
    mkdir -p "$dir"
    rm -rf "${dir:?}/lib"
    log "fetching from Maven Central into $dir/lib (first run only; log: $dir/mvn.log)"
    if ! mvn -B -f "$pom" -Dmaven.repo.local="$dir/m2" \
        org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
        -DoutputDirectory="$dir/lib" -DincludeScope=runtime >"$dir/mvn.log" 2>&1; then
        grep -E '^\[ERROR\]' "$dir/mvn.log" | head -n 5 >&2
        if grep -qiE 'unknown ?host|could not transfer|connect(ion)? (timed out|refused)|network is unreachable|no route to host|temporary failure in name resolution' "$dir/mvn.log"; then
            die "Maven Central is unreachable (Maven could not download; is the network/proxy up?); full log: $dir/mvn.log"
        fi
        die "Maven could not fetch the jars of $pom; full log: $dir/mvn.log"
    fi
    rm -rf "$dir/m2"
    touch "$dir/lib/.done"
}

# backend_init NAME: set BACKEND and the directories of that backend:
#   CACHE_DIR  $GALE_TESTENV_CACHE/NAME   downloads (kept by `down`)
#   RUN_DIR    $GALE_TESTENV_RUN/NAME     data, config, env (removed by `down`, except log/)
#   LOG_DIR    RUN_DIR/log                PID_DIR  RUN_DIR/pids
# shellcheck disable=SC2034  # used by the scripts that source this file
backend_init() {
    BACKEND=$1
    CACHE_DIR=$GALE_TESTENV_CACHE/$1
    RUN_DIR=$GALE_TESTENV_RUN/$1
    LOG_DIR=$RUN_DIR/log
    PID_DIR=$RUN_DIR/pids
    export BACKEND
}

# pids_state DIR: print "none" (no pid file), "alive" (every pid file names a live process)
# or "died NAME(pid N)..." (a pid file names a process that is gone).
pids_state() {
    local f n=0 dead=()
    for f in "$1"/*.pid; do
        [[ -f "$f" ]] || continue
        n=$((n + 1))
        pidfile_alive "$f" || dead+=("$(basename "$f" .pid)(pid $(cat "$f"))")
    done
    if (( n == 0 )); then echo none
    elif (( ${#dead[@]} )); then echo "died ${dead[*]}"
    else echo alive; fi
}

# pids_of DIR: the PIDs named by the pid files in DIR, one a line.
pids_of() { local f; for f in "$1"/*.pid; do [[ -f "$f" ]] && cat "$f"; done; return 0; }

# rss_mb PID...: resident memory in MiB of the processes and all their descendants.
rss_mb() {
    ps -eo pid=,ppid=,rss= | awk -v roots="$*" '
        { ppid[$1] = $2; rss[$1] = $3 }
        END {
            n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1
            for (p in rss) { q = p; while (q > 1) { if (q in want) { sum += rss[p]; break } ; q = ppid[q] } }
            printf "%d\n", sum / 1024
        }'
}

# now: the wall-clock time, for "started at" lines.
now() { date '+%Y-%m-%d %H:%M:%S'; }

# backend_alive_or_report: for a backend's status command. When its processes
# are not all alive, print "stopped" or "DIED: ..." and return 1.
backend_alive_or_report() {
    local state
    state=$(pids_state "$PID_DIR")
    case $state in
        none) echo "stopped"; return 1 ;;
        died*) echo "DIED: ${state#died } is gone (logs: $LOG_DIR)"; return 1 ;;
    esac
}

# cmd_env: the default env command of a backend: its saved exports, while alive.
cmd_env() {
    [[ $(pids_state "$PID_DIR") == alive && -f "$RUN_DIR/env" ]] || return 1
    cat "$RUN_DIR/env"
}

# backend_main "$@": run a backend script's command (cmd_up, cmd_down, cmd_status, cmd_env).
backend_main() {
    case "${1:-}" in
        up) cmd_up ;;
        down) cmd_down ;;
        status) cmd_status ;;
        env) cmd_env ;;
        *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
    esac
}

# backend_already_up WHERE SERVING_FN WAIT_SECS: the start of a single-process
# backend's up command. When its process ($PIDFILE) is alive, wait until it
# serves and return 0: nothing to start. When it died, say so and forget its
# pid files. Otherwise (or after a death) return 1: the caller starts it.
backend_already_up() {
    local where=$1 serving=$2 secs=$3 state pid
    state=$(pids_state "$PID_DIR")
    if [[ $state == alive ]]; then
        pid=$(cat "$PIDFILE")
        if "$serving"; then
            log "already running and serving on $where (pid $pid): nothing to do"
            return 0
        fi
        log "running (pid $pid) but not serving yet: waiting"
        WAIT_PID=$pid wait_until "$secs" "$BACKEND on $where" "$serving"
        log "serving on $where (pid $pid)"
        return 0
    fi
    if [[ $state == died* ]]; then
        log "the $BACKEND started earlier is gone ($state); starting it again on the same data"
        rm -f "$PID_DIR"/*.pid
    fi
    return 1
}

# up_locked NAME: run backend NAME's `up` while holding its lock, so that one backend is never
# started by two `up`s at once (`testenv up` starting ceph and rgw, whose `up` brings ceph up
# first when it is not serving). The lock's file descriptor is closed for the backend's
# script: the daemons it starts must not inherit (and keep) the lock.
up_locked() {
    local name=$1 lock_dir=$GALE_TESTENV_RUN/.locks
    mkdir -p "$lock_dir"
    (
        exec 9>"$lock_dir/$name.lock"
        if ! flock -n 9; then
            BACKEND=$name log "another 'up' of $name is under way: waiting for it"
            flock -w 900 9 || BACKEND=$name die "still locked after 900s by another 'up' of $name ($lock_dir/$name.lock)"
        fi
        BACKEND=$name TESTENV_MAIN=1 bash "$TESTENV_DIR/backends/$name.sh" up 9>&-
    )
}
