#!/usr/bin/env bash
# testenv/backends/kafka.sh up|down|status|env
#
# Apache Kafka 4.x in KRaft mode: one combined broker+controller, PLAINTEXT on
# 127.0.0.1:9092, CONTROLLER on 127.0.0.1:9093, SASL_SSL on 127.0.0.1:9094 (PLAIN and
# SCRAM-SHA-512, user "gale" with a generated password, a certificate from a CA made at `up`),
# jars from Maven Central (testenv/kafka/pom.xml) cached in $GALE_TESTENV_CACHE/kafka/lib.
# Run by testenv/testenv; usable on its own too.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
backend_init kafka

HOST=127.0.0.1
# GALE_KAFKA_PORT, GALE_KAFKA_CONTROLLER_PORT and GALE_KAFKA_SASL_PORT (default: the
# PLAINTEXT port + 2) with another GALE_TESTENV_RUN start a second, private broker: for a
# test that must hang one without disturbing the others
PORT=${GALE_KAFKA_PORT:-9092}
CONTROLLER_PORT=${GALE_KAFKA_CONTROLLER_PORT:-9093}
SASL_PORT=${GALE_KAFKA_SASL_PORT:-$((PORT + 2))}
BROKERS=$HOST:$PORT
SASL_BROKERS=$HOST:$SASL_PORT
# SEC_DIR (0700) holds the CA (ca.pem, ca.key), the broker's key and certificate chain
# (broker.pem, Kafka's PEM keystore) and the SASL user's password (password); made at `up`
# when missing, removed by `down`
SEC_DIR=$RUN_DIR/sasl
SASL_USER=gale
POM=$TESTENV_DIR/kafka/pom.xml
PIDFILE=$PID_DIR/kafka.pid
HEAP=${GALE_KAFKA_HEAP:-512m}

# kafka_serving: a Metadata request (v4, all topics, no auto-creation) sent to the broker
# answers and lists broker 1 at 127.0.0.1:PORT, i.e. the broker is registered with the
# controller, unfenced, and serves requests. Plain bash: no JVM per poll.
#   request : size 20 | api_key 3 | version 4 | correlation 7 | client_id "probe" | topics null | auto false
#   response: size | correlation 7 | throttle | brokers: count 1 | node 1 | host "127.0.0.1" | port PORT
kafka_serving() {
    local hex
    hex=$(timeout 3 bash -c '
        exec 3<>/dev/tcp/'"$HOST/$PORT"' || exit 1
        printf "\x00\x00\x00\x14\x00\x03\x00\x04\x00\x00\x00\x07\x00\x05probe\xff\xff\xff\xff\x00" >&3
        head -c 35 <&3 | od -An -v -tx1 | tr -d " \n"' 2>/dev/null) || return 1
    # e.g. 9092 = 0x2384; "127.0.0.1" = 31 32 37 2e 30 2e 30 2e 31
    [[ "$hex" =~ ^[0-9a-f]{8}00000007[0-9a-f]{8}000000010000000100093132372e302e302e310000$(printf %04x "$PORT")$ ]]
}

# kafka_sasl_serving: the SASL_SSL listener completes a TLS handshake whose certificate
# chains to testenv's CA and names 127.0.0.1 (what a client checks before its SASL login).
kafka_sasl_serving() {
    [[ -f "$SEC_DIR/ca.pem" ]] || return 1
    timeout 5 openssl s_client -connect "$SASL_BROKERS" -CAfile "$SEC_DIR/ca.pem" \
        -verify_return_error -verify_ip "$HOST" -brief </dev/null >/dev/null 2>&1
}

# kafka_ready: both client listeners serve.
kafka_ready() { kafka_serving && kafka_sasl_serving; }

# make_secrets: the CA, the broker's certificate (for 127.0.0.1 and localhost) and the SASL
# password, each made when missing; the certificates again when they expire within a day.
# Keys and password are 0600 in a 0700 dir; nothing secret on a command line or in a log.
make_secrets() {
    need_cmd openssl "Debian: apt-get install openssl"
    mkdir -p "$SEC_DIR"
    chmod 700 "$SEC_DIR"
    (
        umask 077
        cd "$SEC_DIR"
        if [[ ! -s password ]]; then
            head -c 18 /dev/urandom | base64 | tr '+/' '-_' >password
        fi
        if ! [[ -s ca.pem && -s ca.key && -s broker.pem ]] ||
            ! openssl x509 -in ca.pem -noout -checkend 86400 >/dev/null ||
            ! openssl x509 -in broker.pem -noout -checkend 86400 >/dev/null; then
            log "making a CA and the broker's certificate in $SEC_DIR"
            openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc \
                -keyout ca.key -out ca.pem -days 825 -subj "/CN=gale testenv Kafka CA" \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
                >"$LOG_DIR/openssl.log" 2>&1 || die_with_logs "openssl could not make the CA"
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc \
                -keyout broker.key -out broker.csr -subj "/CN=$HOST" >>"$LOG_DIR/openssl.log" 2>&1 ||
                die_with_logs "openssl could not make the broker's key"
            printf '%s\n' "subjectAltName=IP:$HOST,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
                "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >broker.ext
            openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
                -extfile broker.ext -out broker.crt >>"$LOG_DIR/openssl.log" 2>&1 ||
                die_with_logs "openssl could not sign the broker's certificate"
            # Kafka's PEM keystore: the PKCS#8 key, then the chain
            cat broker.key broker.crt ca.pem >broker.pem
            rm -f broker.key broker.csr broker.ext broker.crt ca.srl
        fi
    )
}

write_config() {
    local password
    password=$(cat "$SEC_DIR/password")
    mkdir -p "$RUN_DIR/conf" "$RUN_DIR/data"
    # holds the PLAIN user's password: 0600, also when an older testenv made it 0644
    rm -f "$RUN_DIR/conf/server.properties"
    (umask 077 && : >"$RUN_DIR/conf/server.properties")
    cat >"$RUN_DIR/conf/server.properties" <<EOF
# Generated by testenv/backends/kafka.sh: one combined KRaft broker+controller on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT,SASL_SSL://$HOST:$SASL_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT,SASL_SSL://$HOST:$SASL_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$RUN_DIR/data

# SASL_SSL for clients: TLS with testenv's CA, logins with PLAIN (the user below) or
# SCRAM-SHA-512 (its credential is in the metadata log: GaleScram.java at the first up).
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$SEC_DIR/broker.pem
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$password";
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

# A single node: replication factor 1 everywhere, min ISR 1 (transactions need both).
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=true
delete.topic.enable=true
# deleted topics (scripts/test.sh sweeps the tests' topics) leave the disk within seconds
log.segment.delete.delay.ms=1000

# Fast on 2 cores: no rebalance delay, few threads, quick controller elections.
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
log.cleaner.threads=1
controller.quorum.election.timeout.ms=500
controller.quorum.fetch.timeout.ms=1000
EOF
}

# ready_secs: how long a starting broker may take to serve. Before serving, it loads every
# partition's log (measured here: about 9 partitions a second after an unclean stop), so a
# data dir that many test runs filled (1,400 partitions) needs more than the 120 s a fresh
# one does. scripts/test.sh deletes the tests' topics, so this stays small.
ready_secs() {
    local dirs=0
    [[ -d "$RUN_DIR/data" ]] && dirs=$(find "$RUN_DIR/data" -mindepth 1 -maxdepth 1 -type d | wc -l)
    echo $(( 120 + dirs / 4 ))
}

# sasl_configured: the running broker's config has the SASL_SSL listener (a broker an older
# testenv started has not).
sasl_configured() { grep -q "^listeners=.*SASL_SSL://$SASL_BROKERS" "$RUN_DIR/conf/server.properties" 2>/dev/null; }

# scram_user: give the SASL user its SCRAM-SHA-512 credential, once per data dir and
# password (the credential lives in the metadata log): GaleScram.java sets it through the
# PLAINTEXT listener, then waits until both mechanisms log in on SASL_SSL. $SEC_DIR/scram
# holds the cluster id and the password's SHA-256 it was done for.
scram_user() {
    local id
    id="$(sed -n 's/^cluster\.id=//p' "$RUN_DIR/data/meta.properties") $(sha256sum <"$SEC_DIR/password" | cut -c1-64)"
    [[ "$(cat "$SEC_DIR/scram" 2>/dev/null)" == "$id" ]] && return 0
    log "creating the SASL user $SASL_USER (SCRAM-SHA-512) and checking its logins on $SASL_BROKERS"
    java -Xmx128m -Dlog4j2.configurationFile="$TESTENV_DIR/kafka/log4j2.properties" \
        -cp "$CACHE_DIR/lib/*" "$TESTENV_DIR/kafka/GaleScram.java" \
        "$BROKERS" "$SASL_BROKERS" "$SEC_DIR/ca.pem" "$SASL_USER" "$SEC_DIR/password" \
        >"$LOG_DIR/scram.log" 2>&1 || die_with_logs "creating the SASL user on $SASL_BROKERS failed"
    rm -f "$SEC_DIR/scram"
    (umask 077 && echo "$id" >"$SEC_DIR/scram")
}

write_env() {
    rm -f "$RUN_DIR/env"
    (
        umask 077
        cat >"$RUN_DIR/env" <<EOF
export GALE_KAFKA_BROKERS=$BROKERS
export GALE_KAFKA_SASL_BROKERS=$SASL_BROKERS
export GALE_KAFKA_CA_FILE=$SEC_DIR/ca.pem
export GALE_KAFKA_SASL_USER=$SASL_USER
export GALE_KAFKA_SASL_PASSWORD_FILE=$SEC_DIR/password
EOF
    )
}

cmd_up() {
    local t0 pid
    t0=$(date +%s)
    if [[ $(pids_state "$PID_DIR") == alive ]] && ! sasl_configured; then
        die "the running Kafka (pid $(cat "$PIDFILE")) was started by an older testenv, without the SASL_SSL listener on $SASL_BROKERS: restart it on its data with  testenv/testenv stop kafka && testenv/testenv up kafka"
    fi
    if backend_already_up "$BROKERS and $SASL_BROKERS" kafka_ready "$(ready_secs)"; then
        scram_user
        write_env
        return 0
    fi

    [[ -n "${TESTENV_MAIN:-}" ]] || log "up started at $(now)"
    need_java
    require_port_free "$PORT" "Kafka PLAINTEXT listener"
    require_port_free "$CONTROLLER_PORT" "Kafka CONTROLLER listener"
    require_port_free "$SASL_PORT" "Kafka SASL_SSL listener"
    mvn_copy_deps "$CACHE_DIR" "$POM"

    mkdir -p "$LOG_DIR" "$PID_DIR"
    rm -f "$LOG_DIR"/*
    make_secrets
    write_config

    # Format the metadata log once (a random cluster id; a standalone controller quorum).
    if [[ ! -f "$RUN_DIR/data/meta.properties" ]]; then
        local cluster_id
        cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
        log "formatting storage (cluster id $cluster_id)"
        java -Xmx256m -Dlog4j2.configurationFile="$TESTENV_DIR/kafka/log4j2.properties" \
            -cp "$CACHE_DIR/lib/*" kafka.tools.StorageTool format --standalone \
            -t "$cluster_id" -c "$RUN_DIR/conf/server.properties" --ignore-formatted \
            >"$LOG_DIR/format.log" 2>&1 || die_with_logs "formatting the Kafka storage failed"
    fi

    log "starting the broker+controller (heap $HEAP)"
    start_bg "$PIDFILE" "$LOG_DIR/kafka.log" \
        java -Xms256m -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$TESTENV_DIR/kafka/log4j2.properties" \
        -cp "$CACHE_DIR/lib/*" kafka.Kafka "$RUN_DIR/conf/server.properties"
    pid=$(cat "$PIDFILE")
    WAIT_PID=$pid wait_until "$(ready_secs)" "Kafka on $BROKERS and $SASL_BROKERS" kafka_ready
    scram_user

    write_env
    log "serving on $BROKERS and $SASL_BROKERS (pid $pid, $(rss_mb "$pid") MiB RSS): ready $(( $(date +%s) - t0 ))s after start"
}

cmd_down() {
    local state
    state=$(pids_state "$PID_DIR")
    if [[ $state == none ]]; then
        log "not running"
    else
        stop_pidfile "$PIDFILE"
    fi
    # Data, config, certificates and password, pid files and env go; logs stay for a
    # post-mortem until the next up.
    rm -rf "$RUN_DIR/data" "$RUN_DIR/conf" "$RUN_DIR/pids" "$RUN_DIR/env" "$SEC_DIR"
}

cmd_status() {
    local pid
    backend_alive_or_report || return 1
    pid=$(cat "$PIDFILE")
    if ! kafka_serving; then
        echo "running (pid $pid) but NOT serving on $BROKERS"
        return 1
    fi
    if ! sasl_configured; then
        echo "PLAINTEXT only, on $BROKERS (pid $pid): no SASL_SSL listener (an older testenv started it: testenv/testenv stop kafka && testenv/testenv up kafka)"
        return 1
    fi
    if ! kafka_sasl_serving; then
        echo "PLAINTEXT on $BROKERS (pid $pid), but no TLS handshake verified by testenv's CA on SASL_SSL $SASL_BROKERS"
        return 1
    fi
    echo "serving on $BROKERS and $SASL_BROKERS (SASL_SSL) (pid $pid, $(rss_mb "$pid") MiB RSS)"
}

backend_main "$@"
