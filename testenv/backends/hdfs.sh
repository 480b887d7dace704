#!/usr/bin/env bash
# testenv/backends/hdfs.sh up|down|status|env
#
# HDFS for the integration tests: a NameNode and a DataNode in one JVM (Hadoop's
# MiniDFSCluster, testenv/hdfs/GaleMiniDFS.java), RPC on 127.0.0.1:9000, NameNode
# HTTP (WebHDFS) on 127.0.0.1:9870, permissions off, replication 1. Jars from
# Maven Central (testenv/hdfs/pom.xml) cached in $GALE_TESTENV_CACHE/hdfs/lib; the
# launcher is compiled there too. Run by testenv/testenv; usable on its own too.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
backend_init hdfs

HOST=127.0.0.1
RPC_PORT=9000
HTTP_PORT=9870
POM=$TESTENV_DIR/hdfs/pom.xml
SRC=$TESTENV_DIR/hdfs/GaleMiniDFS.java
CLASSES=$CACHE_DIR/classes
PIDFILE=$PID_DIR/hdfs.pid
HEAP=${GALE_HDFS_HEAP:-512m}
USER_NAME=${HADOOP_USER_NAME:-gale}
WEB=http://$HOST:$HTTP_PORT/webhdfs/v1

# hdfs_serving: a real WebHDFS round trip: create a file (following the NameNode's
# redirect to the DataNode), read it back, compare.
hdfs_serving() {
    local probe="/.gale-testenv-probe" want got loc
    want="probe $$ $RANDOM"
    loc=$(curl -sS -m 5 -o /dev/null -w '%{redirect_url}' -X PUT \
        "$WEB$probe?op=CREATE&overwrite=true&user.name=$USER_NAME") || return 1
    [[ -n $loc ]] || return 1
    curl -sS -m 5 -f -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
        --data-binary "$want" "$loc" || return 1
    got=$(curl -sS -m 5 -f -L "$WEB$probe?op=OPEN&user.name=$USER_NAME") || return 1
    [[ $got == "$want" ]]
}

compile_launcher() {
    if [[ -f $CLASSES/GaleMiniDFS.class && $CLASSES/GaleMiniDFS.class -nt $SRC ]]; then
        return 0
    fi
    need_cmd javac "install a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)"
    mkdir -p "$CLASSES"
    log "compiling the MiniDFSCluster launcher"
    javac -nowarn -d "$CLASSES" -cp "$CACHE_DIR/lib/*" "$SRC" >"$CACHE_DIR/javac.log" 2>&1 || {
        cat "$CACHE_DIR/javac.log" >&2
        die "compiling $SRC failed"
    }
}

cmd_up() {
    local t0 pid
    t0=$(date +%s)
    backend_already_up "$HOST:$RPC_PORT" hdfs_serving 120 && return 0

    [[ -n "${TESTENV_MAIN:-}" ]] || log "up started at $(now)"
    need_java
    need_cmd curl "install curl (Debian: apt-get install curl)"
    require_port_free "$RPC_PORT" "HDFS NameNode RPC"
    require_port_free "$HTTP_PORT" "HDFS NameNode HTTP (WebHDFS)"
    mvn_copy_deps "$CACHE_DIR" "$POM"
    compile_launcher

    mkdir -p "$LOG_DIR" "$PID_DIR" "$RUN_DIR/data"
    rm -f "$LOG_DIR"/*
    log "starting NameNode + DataNode (heap $HEAP)"
    # Hadoop 3.4 reflects into JDK internals that JDK 17 closes by default.
    HADOOP_USER_NAME=$USER_NAME start_bg "$PIDFILE" "$LOG_DIR/hdfs.log" \
        java -Xms128m -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
        --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED \
        --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
        --add-opens java.base/java.lang.reflect=ALL-UNNAMED --add-opens java.base/java.io=ALL-UNNAMED \
        -Dlog4j.configuration="file:$TESTENV_DIR/hdfs/log4j.properties" \
        -cp "$CLASSES:$CACHE_DIR/lib/*" GaleMiniDFS "$RUN_DIR/data" "$RPC_PORT" "$HTTP_PORT"
    pid=$(cat "$PIDFILE")
    WAIT_PID=$pid wait_until 180 "HDFS on $HOST:$RPC_PORT" hdfs_serving

    cat >"$RUN_DIR/env" <<ENV
export GALE_HDFS_NAMENODE=$HOST:$RPC_PORT
export GALE_HDFS_WEB=$HOST:$HTTP_PORT
export HADOOP_USER_NAME=$USER_NAME
ENV
    log "serving on $HOST:$RPC_PORT, WebHDFS on $HOST:$HTTP_PORT (pid $pid, $(rss_mb "$pid") MiB RSS): ready $(( $(date +%s) - t0 ))s after start"
}

cmd_down() {
    if [[ $(pids_state "$PID_DIR") == none ]]; then
        log "not running"
    else
        stop_pidfile "$PIDFILE"
    fi
    # Data, pid files and env go; logs stay for a post-mortem until the next up.
    rm -rf "$RUN_DIR/data" "$RUN_DIR/pids" "$RUN_DIR/env"
}

cmd_status() {
    local pid
    backend_alive_or_report || return 1
    pid=$(cat "$PIDFILE")
    if hdfs_serving; then
        echo "serving on $HOST:$RPC_PORT, WebHDFS $HOST:$HTTP_PORT (pid $pid, $(rss_mb "$pid") MiB RSS)"
    else
        echo "running (pid $pid) but NOT serving on $HOST:$RPC_PORT"
        return 1
    fi
}

backend_main "$@"
