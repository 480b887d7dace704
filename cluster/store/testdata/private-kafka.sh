#!/usr/bin/env bash
# testdata/private-kafka.sh DIR up|kill|down: a private single-node Kafka (KRaft) for
# TestKafkaStore_BrokerRestart, on 127.0.0.1:19092 (controller 19093), with its data in DIR,
# so that the test may SIGKILL and restart it without disturbing the shared testenv broker.
# It uses the jars testenv cached ($GALE_TESTENV_CACHE/kafka/lib, after `testenv/testenv up kafka`).
#   up    start (formatting DIR on first use) and wait until the port accepts connections
#   kill  SIGKILL the broker (a crash; the data in DIR stays)
#   down  SIGKILL it and remove DIR
set -euo pipefail
DIR=$1 CMD=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
LIB=${GALE_TESTENV_CACHE:-$HOME/.cache/gale-testenv}/kafka/lib
LOG4J=$ROOT/testenv/kafka/log4j2.properties
PORT=19092 CONTROLLER_PORT=19093

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

kill_broker() {
    if [[ -f $DIR/pid ]]; then
        local pid
        pid=$(cat "$DIR/pid")
        kill -9 "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
        rm -f "$DIR/pid"
    fi
}

case $CMD in
up)
    [[ -d $LIB ]] || { echo "no Kafka jars in $LIB: run testenv/testenv up kafka once" >&2; exit 1; }
    mkdir -p "$DIR/data"
    cat >"$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.threads=1
controller.quorum.election.timeout.ms=500
controller.quorum.fetch.timeout.ms=1000
PROPS
    if [[ ! -f $DIR/data/meta.properties ]]; then
        java -Xmx256m -Dlog4j2.configurationFile="$LOG4J" -cp "$LIB/*" kafka.tools.StorageTool format \
            --standalone -t "$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')" \
            -c "$DIR/server.properties" --ignore-formatted >"$DIR/format.log" 2>&1
    fi
    nohup java -Xms128m -Xmx384m -XX:+UseG1GC -Djava.awt.headless=true -Dlog4j2.configurationFile="$LOG4J" \
        -cp "$LIB/*" kafka.Kafka "$DIR/server.properties" >>"$DIR/kafka.log" 2>&1 &
    echo $! >"$DIR/pid"
    for _ in $(seq 600); do
        port_open $PORT && exit 0
        kill -0 "$(cat "$DIR/pid")" 2>/dev/null || { tail -20 "$DIR/kafka.log" >&2; exit 1; }
        sleep 0.2
    done
    echo "Kafka did not open port $PORT within 120 s" >&2
    exit 1
    ;;
kill) kill_broker ;;
down) kill_broker; rm -rf "$DIR" ;;
*) echo "usage: $0 DIR up|kill|down" >&2; exit 2 ;;
esac
