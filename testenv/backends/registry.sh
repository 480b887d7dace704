#!/usr/bin/env bash
# testenv/backends/registry.sh up|down|status|env
#
# A Confluent-compatible schema registry: Apicurio Registry 2.6.x (the ready distribution,
# io.apicurio:apicurio-registry-app:VERSION:tar.gz:all from Maven Central, see
# testenv/registry/pom.xml), one Quarkus JVM on http://127.0.0.1:8081, its Confluent API under
# /apis/ccompat/v7. The install lives unpacked in $GALE_TESTENV_CACHE/registry; logs in
# $GALE_TESTENV_RUN/registry. Storage is the distribution's H2 database, in a file under the
# run dir (not in memory): `stop` then `up` (an outage) keeps the schemas and their ids;
# `down` forgets them.
# Run by testenv/testenv; usable on its own too.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
backend_init registry

HOST=127.0.0.1
PORT=${GALE_REGISTRY_PORT:-8081}
BASE=http://$HOST:$PORT
URL=$BASE/apis/ccompat/v7
POM=$TESTENV_DIR/registry/pom.xml
VERSION=$(sed -n 's:.*<apicurio.version>\(.*\)</apicurio.version>.*:\1:p' "$POM")
APP_HOME=$CACHE_DIR/apicurio-registry-$VERSION
PIDFILE=$PID_DIR/registry.pid
HEAP=${GALE_REGISTRY_HEAP:-256m}
# the subject the readiness probe registers its schema under
PROBE_SUBJECT=gale-testenv-probe

# registry_serving: a real round trip through the Confluent API: register a schema (an
# idempotent call: the same id every time) and read it back by its id.
registry_serving() {
    local id
    id=$(curl -fsS --max-time 3 -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
        --data '{"schema":"\"string\""}' "$URL/subjects/$PROBE_SUBJECT/versions" 2>/dev/null |
        sed -n 's/.*"id" *: *\([0-9][0-9]*\).*/\1/p') || return 1
    [[ -n "$id" ]] || return 1
    curl -fsS --max-time 3 "$URL/schemas/ids/$id" 2>/dev/null | grep -q '"schema"'
}

# install_registry: fetch the tar.gz with Maven (once) and unpack it into $APP_HOME.
install_registry() {
    [[ -f "$APP_HOME/.done" ]] && return 0
    rm -f "$CACHE_DIR/lib/.done"  # the tar.gz is deleted after unpacking: fetch it again
    mvn_copy_deps "$CACHE_DIR" "$POM"
    local tgz=$CACHE_DIR/lib/apicurio-registry-app-$VERSION-all.tar.gz jar
    [[ -f "$tgz" ]] || die "Maven did not produce $tgz"
    log "unpacking Apicurio Registry $VERSION into $APP_HOME"
    rm -rf "$APP_HOME" "$APP_HOME.tmp"
    mkdir -p "$APP_HOME.tmp"
    tar -xzf "$tgz" -C "$APP_HOME.tmp"
    jar=$(find "$APP_HOME.tmp" -name "apicurio-registry-app-$VERSION-runner.jar" | head -n 1)
    [[ -n "$jar" ]] || die "$tgz holds no apicurio-registry-app-$VERSION-runner.jar"
    mv "$(dirname "$jar")" "$APP_HOME"
    rm -rf "$APP_HOME.tmp" "${CACHE_DIR:?}/lib"
    touch "$APP_HOME/.done"
}

cmd_up() {
    local t0 pid
    t0=$(date +%s)
    if backend_already_up "$BASE" registry_serving 120; then
        echo "export GALE_SCHEMA_REGISTRY_URL=$URL" >"$RUN_DIR/env"
        return 0
    fi

    [[ -n "${TESTENV_MAIN:-}" ]] || log "up started at $(now)"
    need_java
    need_cmd curl "apt-get install curl"
    require_port_free "$PORT" "the schema registry"
    install_registry

    mkdir -p "$LOG_DIR" "$PID_DIR" "$RUN_DIR/tmp" "$RUN_DIR/data"
    rm -rf "${LOG_DIR:?}"/*
    log "starting Apicurio Registry $VERSION (heap $HEAP)"
    start_bg "$PIDFILE" "$LOG_DIR/registry.log" \
        java -Xms64m -Xmx"$HEAP" -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
        -Djava.io.tmpdir="$RUN_DIR/tmp" \
        -Dquarkus.http.host=$HOST -Dquarkus.http.port="$PORT" \
        -Dquarkus.datasource.jdbc.url="jdbc:h2:file:$RUN_DIR/data/registry_db" \
        -Dquarkus.datasource.jdbc.min-size=2 -Dquarkus.datasource.jdbc.initial-size=2 \
        -Dquarkus.datasource.jdbc.max-size=16 \
        -jar "$APP_HOME/apicurio-registry-app-$VERSION-runner.jar"
    pid=$(cat "$PIDFILE")
    WAIT_PID=$pid wait_until 120 "the schema registry on $BASE" registry_serving

    echo "export GALE_SCHEMA_REGISTRY_URL=$URL" >"$RUN_DIR/env"
    log "serving on $URL (pid $pid, $(rss_mb "$pid") MiB RSS): ready $(( $(date +%s) - t0 ))s after start"
}

cmd_down() {
    if [[ $(pids_state "$PID_DIR") == none ]]; then
        log "not running"
    else
        stop_pidfile "$PIDFILE"
    fi
    # The database (every schema), pid files, env and tmp go; logs stay for a post-mortem
    # until the next up.
    rm -rf "$RUN_DIR/data" "$RUN_DIR/tmp" "$RUN_DIR/pids" "$RUN_DIR/env"
}

cmd_status() {
    local pid
    backend_alive_or_report || return 1
    pid=$(cat "$PIDFILE")
    if registry_serving; then
        echo "serving on $URL (pid $pid, $(rss_mb "$pid") MiB RSS)"
    else
        echo "running (pid $pid) but NOT serving on $URL"
        return 1
    fi
}

backend_main "$@"
