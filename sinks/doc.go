// Package sinks will hold Gale's batch-idempotent writers: bolts that
// buffer one batch (the tuples a Kafka spout planned under one batch id),
// order it by tuple id, and write it as one object whose name derives from
// the batch id with an atomic create-or-replace — files (lz4), Ceph
// (go-ceph/rados), HDFS, Elasticsearch and Kafka — so that a replay after
// any crash writes the same bytes under the same names.
//
// Heavy backends link in by import: sinks/ceph needs cgo and builds only
// with the `ceph` build tag.
package sinks
