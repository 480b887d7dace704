// Package multilang implements Apache Storm's multilang protocol, the
// way Storm's ShellBolt, ShellSpout, ShellProcess and JsonSerializer do,
// so that bolts and spouts written for Storm in any language (storm.py,
// storm.js, storm.rb, pystorm/streamparse, ...) run under Gale unchanged.
// bolt/shell and spout/shell are its public faces.
//
// # Wire format
//
// Both directions carry JSON messages, each followed by a line "end"
// (Writer, Reader). Gale first writes the handshake
//
//	{"conf": {...}, "context": {"taskid": 3, "componentid": "split",
//	  "task->component": {"1": "sentences", ...}, "streams": [...], ...},
//	 "pidDir": "/tmp/gale-multilang-123"}
//
// and the subprocess creates an empty file named by its pid in pidDir and
// answers {"pid": 1234}.
//
// A bolt then receives tuples {"id": "17", "comp": "sentences", "stream":
// "default", "task": 1, "tuple": ["the cow"]} and heartbeats (the same
// shape with "stream": "__heartbeat", "task": -1, "comp": null,
// "tuple": []) and writes, at any time, commands: emit ("anchors", "stream",
// "task" for a direct emit, "tuple", "need_task_ids"), ack and fail ("id"),
// log ("msg", "level" 0..4; any other level, or one that is not a number,
// is INFO, as in Storm), error ("msg"), metrics ("name", "params": a
// number, or {"value": number}, added to the task's custom counter) and
// sync (the answer to a heartbeat). After an emit that is not direct and
// whose need_task_ids is not false, Gale writes back the JSON list of the
// receiving task ids; replies come in the order of the emits. An emit with
// "task" must name a stream declared direct, and one on a direct stream
// needs "task" (Storm's "Cannot emitDirect to a task expecting a regular
// grouping"): the emit is dropped and the error reported. Tick tuples come
// from task -1 on stream "__tick" with one value, the tick frequency in
// seconds, as Storm's do.
//
// At most Options.MaxPending tuples (Storm's topology.shellbolt.max.pending)
// wait to be written to a bolt's subprocess; tuples written and not yet
// acked hold no slot, so a bolt that acks on ticks does not stall.
//
// A spout receives {"command": "next"|"ack"|"fail"|"activate"|
// "deactivate", "id": ...} (id "" for next, activate and deactivate, as
// Storm writes it) and answers each with emits (with a message "id" for a
// reliable tuple), logs and errors, then {"command": "sync"}.
//
// # Failure handling
//
// Storm halts the worker when a subprocess misbehaves. Gale keeps the
// worker and restarts the subprocess instead (Bolt, Spout): a crash,
// broken pipe, malformed JSON, an invalid message or a heartbeat timeout
// kills the subprocess's whole process group, fails every tuple written
// to it and not yet acked or failed (so spouts replay them), reports the
// error (naming the component, command and pid, with the last stderr
// lines, and the latest error line above them, such as Node's "Error:")
// and restarts the subprocess with exponential backoff. A command
// that cannot be started, or exits before the handshake, makes Prepare
// or Open fail with an error naming the command.
//
// Non-protocol text on stdout (a stray print) is fatal in Storm. Gale
// reports it (ErrJunk) and resynchronises: lines before the first line of
// a block that starts valid JSON, or blocks with no JSON-looking line at
// all, are junk; only a block that looks like JSON and does not parse is
// malformed. Acks, fails or anchors naming unknown tuple ids, unknown
// commands and emits that do not match the declared outputs are reported
// and skipped, not fatal (Storm dies on the first two). The subprocess's
// stderr is logged line by line.
//
// Values cross as JSON: see appendValue and fromJSON for the mapping.
package multilang
