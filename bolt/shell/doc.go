// Package shell provides the "shell" bolt type: a bolt implemented by a
// subprocess in any language that speaks Apache Storm's multilang
// protocol (JSON messages over stdin/stdout, each followed by a line
// "end"). Bolts written for Storm, with storm.py, storm.js or a
// third-party adapter such as pystorm, run unchanged.
//
// In a topology:
//
//	{"id": "split", "type": "shell", "parallelism": 2,
//	 "config": {"command": ["python3", "examples/multilang/splitsentence.py"],
//	            "heartbeat_timeout": "30s", "max_pending": 100},
//	 "inputs": [{"component": "sentences"}],
//	 "outputs": {"default": ["word"]}}
//
// Gale cannot know which streams a subprocess emits, so the topology
// declares them in "outputs"; without "outputs" the bolt declares no
// stream (a sink) and any emit is dropped and reported. An emit must name
// a declared stream and carry one value per declared field.
//
// Each task runs its own subprocess. Tuples are written to it as they
// arrive (at most max_pending waiting to be written, as Storm's
// topology.shellbolt.max.pending; beyond that Execute blocks, slowing the
// upstream down) and its emits, acks and
// fails are applied as they come back. Every heartbeat interval a
// heartbeat tuple is sent, which the subprocess answers with sync; a
// subprocess that writes nothing at all for heartbeat_timeout is killed.
//
// When the subprocess crashes, hangs, or writes malformed JSON, its whole
// process group is killed, every tuple it had received and not acked or
// failed is failed (so the spout replays it), the error is reported
// (metrics, UI, log) and the subprocess is restarted with exponential
// backoff (restart_backoff). A command that does not exist or exits at
// once fails Prepare with an error naming it. Text printed to stdout
// outside the protocol is reported and skipped, not fatal (Storm treats
// it as fatal). Stderr is logged line by line with the component id.
//
// The shell spout type (package spout/shell) runs its subprocess the same
// way: its config is this package's Process, the part of Config that is
// not about tuples, and it returns and reports the errors of this package.
//
// See examples/multilang for bolts in Python and Node.js that use only
// the protocol, and package internal/multilang for its details.
package shell
