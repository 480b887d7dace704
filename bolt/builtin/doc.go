// Package builtin holds Gale's built-in bolts for demos, tests and simple
// pipelines:
//
//   - "split" splits a text field into words, one {word} tuple each;
//   - "count" counts tuples by a key field and emits {key, count};
//   - "filter" passes through the tuples whose field equals, contains or
//     matches a value (or, inverted, those that do not);
//   - "json" parses a JSON field and emits the values at given paths;
//   - "print" writes every tuple to stdout or a file;
//   - "noop" acks everything and emits nothing, for benchmarks;
//   - "fail" fails a deterministic fraction of the tuples once each, to
//     exercise replays.
//
// Importing the package registers nothing: the gale command line gets
// the types from package registry/all, and tests and embedding programs
// add them to a registry of their own with [Register].
//
// Every type has a config struct (SplitConfig, CountConfig, ...) whose
// New...Config function returns the defaults and whose Validate method
// checks it; the topology package decodes a component's JSON "config"
// into it. Bolts that read a field check, when the topology is
// validated, that their input streams have it.
//
// Stateless bolts (Split, Filter) are bolt.BasicBolt values, run through
// bolt.Basic; the others are full bolt.Bolt values because they control
// acking (Count acks before a tick flush, JSON may fail or drop a record,
// Fail fails on purpose). As bolt.Bolt requires, the engine never calls
// one bolt value's methods concurrently; the accessors used by tests
// (Count.Counts, JSON.Dropped, Fail.Failed, ...) are safe from any
// goroutine.
package builtin
