"""Recount a topic by record key and compare with a stateful count's state.

usage: state_recount.py BROKERS SOURCE_TOPIC STATE_TOPIC KEY_PREFIX

Reads SOURCE_TOPIC from the start with librdkafka (confluent-kafka) and
counts its records by key; reads STATE_TOPIC (the compacted state store,
read_committed, the last value of each key wins, a null value deletes) and
takes, for every key starting with KEY_PREFIX, the count Gale keeps there
(the record is JSON; its "v" holds the value, base64 of the decimal count).
Prints one JSON object: the number of records and keys, and the keys whose
counts differ (at most 20 of them, with both counts).
"""

import base64
import json
import sys

from confluent_kafka import Consumer, TopicPartition


def read_all(brokers, topic):
    """Yields (key, value) of every committed record of topic, partition by
    partition, up to the end offsets seen when it starts."""
    c = Consumer({
        "bootstrap.servers": brokers,
        "group.id": "gale-state-recount",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
    })
    try:
        md = c.list_topics(topic, timeout=30)
        parts = sorted(md.topics[topic].partitions)
        ends = {}
        for p in parts:
            low, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
            ends[p] = (low, high)
        for p in parts:
            low, high = ends[p]
            if high <= low:
                continue
            c.assign([TopicPartition(topic, p, low)])
            while True:
                msgs = c.consume(num_messages=5000, timeout=5)
                if not msgs:
                    # transaction markers occupy offsets: the partition's
                    # last records may be behind us already
                    pos = c.position([TopicPartition(topic, p)])[0].offset
                    if pos >= high:
                        break
                    continue
                done = False
                for m in msgs:
                    if m.error():
                        if m.error().code() == -191:  # _PARTITION_EOF
                            done = True
                            continue
                        raise RuntimeError(str(m.error()))
                    yield m.key(), m.value()
                    if m.offset() + 1 >= high:
                        done = True
                if done:
                    break
    finally:
        c.close()


def main():
    brokers, source, state_topic, prefix = sys.argv[1:5]
    want = {}
    records = 0
    for key, _ in read_all(brokers, source):
        k = key.decode() if key is not None else ""
        want[k] = want.get(k, 0) + 1
        records += 1

    state = {}
    for key, value in read_all(brokers, state_topic):
        if key is None:
            continue
        k = key.decode("utf-8", "replace")
        if not k.startswith(prefix):
            continue
        k = k[len(prefix):]
        if value is None:
            state.pop(k, None)
            continue
        rec = json.loads(value)
        v = rec.get("v")
        state[k] = int(base64.b64decode(v)) if v is not None else None

    mismatches = []
    for k in sorted(set(want) | set(state)):
        if want.get(k) != state.get(k):
            mismatches.append({"key": k, "topic": want.get(k), "state": state.get(k)})
    print(json.dumps({"records": records, "keys": len(want), "state_keys": len(state),
                      "mismatched": len(mismatches), "mismatches": mismatches[:20]}))


if __name__ == "__main__":
    main()
