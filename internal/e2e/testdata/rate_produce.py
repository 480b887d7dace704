"""Produce records at given rates, phase by phase, with librdkafka.

usage: rate_produce.py BROKERS TOPIC RATE:SECONDS [RATE:SECONDS ...]

Record i is the JSON document {"n": i, "phase": k} with key str(i),
spread over the topic's partitions by librdkafka's partitioner. Each phase
sends RATE records a second for SECONDS seconds, in steps of 100 ms.
Prints one JSON object per phase as it starts (its index, rate and the
time, Unix seconds) on stderr, and at the end the total on stdout:
{"records": N, "phases": [...]}.
"""

import json
import sys
import time

from confluent_kafka import Producer


def main():
    brokers, topic = sys.argv[1], sys.argv[2]
    phases = []
    for arg in sys.argv[3:]:
        rate, secs = arg.split(":")
        phases.append((float(rate), float(secs)))
    # idempotent: a retry under load must not write a record twice (it did:
    # 27 records twice in a loaded run, which the tests then counted as
    # written twice)
    p = Producer({"bootstrap.servers": brokers, "linger.ms": 20, "enable.idempotence": True})
    n = 0
    report = []
    for k, (rate, secs) in enumerate(phases):
        start = time.time()
        report.append({"phase": k, "rate": rate, "seconds": secs, "start": start, "first": n})
        print(json.dumps(report[-1]), file=sys.stderr, flush=True)
        step = 0.1
        sent_in_phase = 0
        while True:
            elapsed = time.time() - start
            if elapsed >= secs:
                break
            due = int(rate * min(elapsed + step, secs))
            while sent_in_phase < due:
                doc = json.dumps({"n": n, "phase": k})
                while True:
                    try:
                        p.produce(topic, key=str(n), value=doc)
                        break
                    except BufferError:
                        p.poll(0.05)
                n += 1
                sent_in_phase += 1
            p.poll(0)
            time.sleep(max(0.0, start + elapsed + step - time.time()))
    left = p.flush(60)
    if left:
        raise SystemExit(f"{left} records not delivered")
    print(json.dumps({"records": n, "phases": report}))


if __name__ == "__main__":
    main()
