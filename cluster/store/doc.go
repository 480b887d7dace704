// Package store is Gale's durable cluster state: the submitted topologies
// (their JSON, a version, their status, rebalance overrides) and the
// assignment of their tasks to workers, with an epoch. Workers keep
// nothing that cannot be lost; a worker that restarts reads everything
// back from the store.
//
// A Store puts, gets, lists and deletes Topology records with optimistic
// concurrency (every Put names the version it expects: 0 to create, so a
// second submit of a name fails with ErrExists; any other mismatch is
// ErrConflict) and Assignment records whose epoch must grow (ErrStale
// otherwise), and Watch streams change events so that workers react
// without polling. A Lease record, also compare-and-set, holds the
// cluster's leadership: Elector takes and renews it so that one worker at
// a time writes assignments, measuring expiry with its own monotonic clock
// (no two machines' wall clocks are ever compared). Two stores pass the
// same conformance suite (cluster/store/storetest); they are one code on
// two backends of internal/kvlog, the fenced, compacted key/value log the
// batch ledger sits on too, which does their fencing, read barriers,
// compaction and tombstones (records "topology/NAME", "assignment/NAME",
// "lease/NAME" holding JSON; a write is a kvlog.Update applying the checks
// of the Store's methods):
//
//   - FileStore, the embedded single-node store of local and dev mode: a
//     kvlog.FileLog in a directory, written under a flock, watched by
//     polling. A directory of the first layout (a JSON file per record) is
//     migrated when opened.
//   - KafkaStore, for production: a kvlog.KafkaLog, a compacted
//     single-partition topic read through a goka View and written with
//     Kafka's transactional fencing plus read barriers (see KafkaStore).
//
// # Guarantees
//
// Both stores: of concurrent writers expecting the same version (or
// putting the same epoch) exactly one succeeds, whichever instance or
// process they write through; a write that returned nil is durable (fsync
// / acks=all committed transaction); Put returns the record as stored, and
// the store that wrote it reads it back at once. A write that fails with
// an error other than the sentinels of errors.go (an I/O or broker error,
// a context that ended) may or may not have happened: read the record to
// find out.
//
// FileStore reads are always current. KafkaStore reads come from a local
// view that follows the topic within milliseconds; call Sync (Syncer) to
// read every write completed before. A stale read is harmless to a
// compare-and-set: the Put fails with ErrConflict.
//
// # Example
//
//	s, err := store.OpenFileStore(dir) // or store.OpenKafkaStore(ctx, cfg)
//	if err != nil { ... }
//	defer s.Close()
//	t, err := s.PutTopology(ctx, store.Topology{Name: "wc", JSON: file}, 0) // submit
//	if errors.Is(err, store.ErrExists) { ... }
//	t.Status = store.StatusInactive
//	t, err = s.PutTopology(ctx, t, t.Version) // deactivate, unless someone changed it
//	_, err = s.PutAssignment(ctx, store.Assignment{Topology: "wc", Epoch: 1,
//		Tasks: map[string]string{"split/0": "worker-1"}})
//	events, err := s.Watch(ctx) // store.Event{Kind, Name, Version, Deleted}
package store
