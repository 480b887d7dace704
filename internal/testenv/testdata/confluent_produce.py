"""Produce records with Confluent's own serializers (the confluent-kafka package:
AvroSerializer, ProtobufSerializer, JSONSerializer, registering their schemas in the
schema registry) and librdkafka's producer, for the kafka spout's tests. Record i is
derived from i alone: the Go test builds what it must decode from i too.

usage: confluent_produce.py MODE BOOTSTRAP REGISTRY_URL TOPIC COUNT [OPTIONS]
  avro        COUNT records of the schema All (every Avro type and logical type)
  protobuf    COUNT Order messages (nested, repeated, map, enum, Timestamp), every 5th an
              Other.Deep (message index [1, 0]); --descriptor FILE: a serialized
              FileDescriptorSet holding order.proto (compiled by the Go test)
  json        COUNT records with a JSON schema
  evolution   COUNT records, v1 and v2 of User interleaved (v2 adds email with a default and
              removes legacy); v2 is registered after a compatibility check (BACKWARD)
  poison      COUNT Avro records of the schema Small, and three poison records among them:
              an unknown schema id, a corrupt payload, no magic byte
  outage      COUNT records of Small produced now; COUNT more of Small2 (another schema id,
              registered now) serialized only, written in hex to --out (the Go test
              produces them while the registry is down)
Prints one JSON line: what was registered and produced.
"""
import argparse
import datetime
import decimal
import json
import sys
import uuid

from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

ALL = {
    "type": "record", "name": "All", "namespace": "gale.test",
    "fields": [
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "s", "type": "string"},
        {"name": "by", "type": "bytes"},
        {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}},
        {"name": "n", "type": "null"},
        {"name": "u", "type": ["null", "string", "long"]},
        {"name": "a", "type": {"type": "array", "items": "int"}},
        {"name": "m", "type": {"type": "map", "values": "long"}},
        {"name": "r", "type": {"type": "record", "name": "Inner", "fields": [
            {"name": "x", "type": "int"},
            {"name": "tags", "type": {"type": "array", "items": "string"}}]}},
        {"name": "tsm", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "date", "type": {"type": "int", "logicalType": "date"}},
        {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "uuid", "type": {"type": "string", "logicalType": "uuid"}},
    ],
}

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 1, 1, tzinfo=UTC)


def all_record(i):
    return {
        "b": i % 2 == 0,
        "i": i - 50,
        "l": i * 1_000_000_007,
        "f": i + 0.5,
        "d": i / 4,
        "s": f"rec-{i}-é",
        "by": bytes([i % 256, 0, 255]),
        "fx": b"fx" + bytes([i % 256, 7]),
        "e": ["RED", "GREEN", "BLUE"][i % 3],
        "n": None,
        "u": [None, f"s{i}", i][i % 3],
        "a": [i, i + 1],
        "m": {"k": i, "z": -i},
        "r": {"x": i, "tags": ["t", str(i)]},
        "tsm": T0 + datetime.timedelta(seconds=i, milliseconds=123),
        "tsu": T0 + datetime.timedelta(seconds=i, microseconds=456789),
        "date": datetime.date(2026, 1, 1) + datetime.timedelta(days=i),
        "dec": decimal.Decimal(f"{'-' if i % 2 else ''}{i}.05"),
        "uuid": str(uuid.UUID(int=i)),
    }


USER_V1 = {"type": "record", "name": "User", "fields": [
    {"name": "name", "type": "string"}, {"name": "legacy", "type": "int"}]}
USER_V2 = {"type": "record", "name": "User", "fields": [
    {"name": "name", "type": "string"}, {"name": "email", "type": "string", "default": "none"}]}
USER_BAD = {"type": "record", "name": "User", "fields": [{"name": "name", "type": "int"}]}

SMALL = {"type": "record", "name": "Small", "fields": [{"name": "n", "type": "long"}]}
SMALL2 = {"type": "record", "name": "Small", "fields": [
    {"name": "n", "type": "long"}, {"name": "tag", "type": "string", "default": "v2"}]}

JSON_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Event", "type": "object",
    "properties": {
        "n": {"type": "integer"}, "s": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "nested": {"type": "object", "properties": {"x": {"type": "number"}}},
    },
    "required": ["n", "s"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode")
    ap.add_argument("bootstrap")
    ap.add_argument("registry")
    ap.add_argument("topic")
    ap.add_argument("count", type=int)
    ap.add_argument("--descriptor")
    ap.add_argument("--out")
    a = ap.parse_args()

    client = SchemaRegistryClient({"url": a.registry})
    producer = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 5, "enable.idempotence": True})
    ctx = SerializationContext(a.topic, MessageField.VALUE)
    subject = a.topic + "-value"
    report = {"mode": a.mode, "subject": subject}
    failed = []

    def delivered(err, _msg):
        if err is not None:
            failed.append(str(err))

    def send(value, key):
        producer.produce(a.topic, key=str(key).encode(), value=value, on_delivery=delivered)
        producer.poll(0)

    def avro(schema):
        return AvroSerializer(schema_registry_client=client, schema_str=json.dumps(schema))

    if a.mode == "avro":
        ser = avro(ALL)
        for i in range(a.count):
            send(ser(all_record(i), ctx), i)
    elif a.mode == "protobuf":
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
        from google.protobuf import timestamp_pb2  # noqa: F401 (in the default pool)
        from confluent_kafka.schema_registry.protobuf import ProtobufSerializer

        fds = descriptor_pb2.FileDescriptorSet()
        with open(a.descriptor, "rb") as f:
            fds.ParseFromString(f.read())
        pool = descriptor_pool.Default()
        for fdp in fds.file:
            if not fdp.name.startswith("google/protobuf/"):
                pool.Add(fdp)
        Order = message_factory.GetMessageClass(pool.FindMessageTypeByName("gale.test.Order"))
        Deep = message_factory.GetMessageClass(pool.FindMessageTypeByName("gale.test.Other.Deep"))
        conf = {"auto.register.schemas": True}
        ser_order = ProtobufSerializer(msg_type=Order, schema_registry_client=client, conf=conf)
        ser_deep = ProtobufSerializer(msg_type=Deep, schema_registry_client=client, conf=conf)
        for i in range(a.count):
            if i % 5 == 4:
                send(ser_deep(Deep(ok=i % 2 == 0), ctx), i)
                continue
            m = Order(id=i * 1000, status=i % 3, blob=bytes([i % 256, 1]), delta=-i, big=2**63 + i, ratio=i + 0.25)
            for j in range(i % 3 + 1):
                m.lines.add(sku=f"sku-{i}-{j}", qty=j + 1)
            m.tags["a"] = i
            m.tags["b"] = -i
            m.names[-i] = f"n{i}"
            m.at.seconds = 1_800_000_000 + i
            m.at.nanos = i * 1000
            if i % 2 == 0:
                m.main.sku = f"main-{i}"
                m.main.qty = i
            if i % 4 == 0:
                m.note = f"note {i}"
            send(ser_order(m, ctx), i)
    elif a.mode == "json":
        ser = JSONSerializer(schema_str=json.dumps(JSON_SCHEMA), schema_registry_client=client)
        for i in range(a.count):
            send(ser({"n": i * 10**12, "s": f"e{i}", "tags": ["a", str(i)], "nested": {"x": i + 0.5}}, ctx), i)
    elif a.mode == "evolution":
        v1 = avro(USER_V1)
        send(v1({"name": "u0", "legacy": 0}, ctx), 0)  # registers v1
        client.set_compatibility(subject_name=subject, level="BACKWARD")
        report["compat_v2"] = client.test_compatibility(subject, Schema(json.dumps(USER_V2), "AVRO"))
        report["compat_bad"] = client.test_compatibility(subject, Schema(json.dumps(USER_BAD), "AVRO"))
        if not report["compat_v2"] or report["compat_bad"]:
            sys.exit(f"the registry's compatibility check: v2 {report['compat_v2']}, bad {report['compat_bad']}")
        v2 = avro(USER_V2)
        for i in range(1, a.count):
            if i % 2:
                send(v2({"name": f"u{i}", "email": f"u{i}@example.com"}, ctx), i)
            else:
                send(v1({"name": f"u{i}", "legacy": i}, ctx), i)
        report["versions"] = client.get_versions(subject)
    elif a.mode == "poison":
        ser = avro(SMALL)
        good = ser({"n": 0}, ctx)
        report["id"] = int.from_bytes(good[1:5], "big")
        for i in range(a.count):
            send(ser({"n": i}, ctx), i)
            if i == a.count // 4:
                send(b"\x00\x7f\xff\xff\x00" + good[5:], "unknown-id")  # an id the registry never gave
            if i == a.count // 2:
                send(good[:5] + b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "corrupt")  # a long that never ends
            if i == 3 * a.count // 4:
                send(b'{"n": 1, "no": "magic byte"}', "no-magic")
    elif a.mode == "outage":
        ser = avro(SMALL)
        for i in range(a.count):
            send(ser({"n": i}, ctx), i)
        ser2 = avro(SMALL2)
        later = [ser2({"n": a.count + i, "tag": f"t{i}"}, ctx).hex() for i in range(a.count)]
        report["later_id"] = int(later[0][2:10], 16)
        with open(a.out, "w") as f:
            f.write("\n".join(later) + "\n")
    else:
        sys.exit(f"unknown mode {a.mode}")

    left = producer.flush(60)
    if left or failed:
        sys.exit(f"{left} records not delivered; errors: {failed[:3]}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
