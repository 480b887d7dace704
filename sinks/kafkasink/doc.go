// Package kafkasink is Gale's Kafka output: the "kafka_sink" bolt type. It
// produces each batch's records to a topic in ONE Kafka transaction, so
// that consumers reading with isolation level read_committed see a batch
// whole or not at all — and never twice, even when the batch is replayed
// after a crash.
//
// How replays stay invisible. Each source partition has a transactional
// producer whose transactional id derives from (topology, component,
// source topic, source partition): a new owner's producer fences an old
// one (a zombie worker) at once. Every transaction also commits, to the
// sink's consumer group ("gale-sink-<topology>-<component>" unless set),
// the source partition's offset: the End of the batch, with the batch's
// seq as metadata — atomically with the records. Before writing a batch
// the sink reads that commit:
//
//   - batch seq <= committed seq: already written; acked without writing;
//   - batch seq == committed seq + 1 (or 0 when nothing is committed):
//     written;
//   - a later batch: an earlier one is not written yet; the batch is failed
//     (sinks.ErrReplayLater) and the spout replays it after the earlier one.
//
// So a source partition's batches appear in the output topic once each, in
// order. The output partition of a record is chosen from its key (the
// tuple id by default), so a replay sends every record to the same
// partition.
//
// A record larger than the producer's limit on a message
// (Producer.MaxMessageBytes, 1,000,000 bytes) could never be produced: it
// is refused by itself, with the reason, into the sink's dead-letter
// files, and the rest of its batch is written (a replay refuses it
// again). Other errors fail the batch, which is retried with backoff.
//
// Config (with the keys of sinks.Common; format "json" or "lines"):
//
//		{"id": "out", "type": "kafka_sink", "parallelism": 2,
//		 "inputs": [{"component": "parse", "grouping": "batch"}],
//		 "config": {"brokers": ["127.0.0.1:9092"], "topic": "events-clean",
//		            "field": "value", "create_topic": true, "partitions": 4}}
//
//	  - brokers, topic: required;
//	  - tls, sasl: the brokers' TLS and SASL login, e.g.
//	    "tls": {"enabled": true, "ca_file": "/etc/gale/kafka-ca.pem"},
//	    "sasl": {"mechanism": "PLAIN", "username": "gale",
//	    "password_env": "KAFKA_PASSWORD"} (package internal/kafkasec; a
//	    "password" in the topology is refused);
//	  - create_topic (default true) creates a missing topic with partitions
//	    (default 1) partitions; false makes it an error naming the topic;
//	  - group: the consumer group holding the written offsets;
//	  - key: "id" (the tuple id, default) or "none";
//	  - timestamp: "now" (default) or "record" (the record's time; brokers
//	    refuse times too far from their clock).
package kafkasink
