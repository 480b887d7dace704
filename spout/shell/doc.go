// Package shell provides the "shell" spout type: a spout implemented by a
// subprocess in any language that speaks Apache Storm's multilang
// protocol (JSON messages over stdin/stdout, each followed by a line
// "end"). Spouts written for Storm run unchanged.
//
// In a topology:
//
//	{"id": "sentences", "type": "shell",
//	 "config": {"command": ["python3", "examples/multilang/sentences.py"]},
//	 "outputs": {"default": ["sentence"]}}
//
// The topology declares the streams the subprocess emits in "outputs".
// The config is the subprocess's, the same as a shell bolt's: Process in
// package bolt/shell, which also holds the errors a shell spout returns
// (match them with errors.Is, e.g. against bolt/shell's ErrExited).
//
// The protocol is synchronous: NextTuple sends {"command":"next"}, Ack and
// Fail send {"command":"ack"|"fail","id":..} with the message id the
// subprocess gave its emit, and the subprocess answers each with its
// emits and then {"command":"sync"}. As Storm's ShellSpout does, it sends
// {"command":"activate"} before the first next when the topology starts
// active and whenever it is activated, and {"command":"deactivate"} when
// it is deactivated, each answered by sync too (a storm.js spout calls
// done() in activate). A subprocess that does not sync within
// heartbeat_timeout is killed (with its process group).
//
// When the subprocess dies (exit, broken pipe, malformed JSON, hang),
// NextTuple returns the error (the engine reports it) and a later
// NextTuple restarts it after an exponential backoff (restart_backoff).
// The tuples it emitted stay in their trees; acks and fails for them are
// not forwarded to the new subprocess, which cannot know them: a spout
// subprocess must recover its own pending messages when it starts (for
// example by re-reading from its source's last committed position). A
// command that does not exist or exits at once fails Open with an error
// naming it.
package shell
