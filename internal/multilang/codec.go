package multilang

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxMessageSize caps one message read from a subprocess.
const DefaultMaxMessageSize = 16 << 20

// endLine terminates every message in both directions.
const endLine = "end"

// Frame is what the Reader returns for each "end"-terminated block of
// stdout.
type Frame struct {
	// JSON is the message text without the "end" line; nil when the block
	// held only junk.
	JSON []byte
	// Junk holds lines printed before the message that are not part of
	// it (stray prints). The reader resynchronises on the next "end"
	// line: junk is reported, never fatal.
	Junk []string
}

// Reader reads "end"-terminated messages from a subprocess's stdout.
//
// Storm's JsonSerializer joins every line up to "end" and parses the
// result; anything else on stdout is fatal there. Reader is more
// forgiving: lines before the first line that starts a valid JSON message
// are returned as Frame.Junk, and a block with no JSON-looking line at all
// is pure junk. Only a block that looks like JSON but does not parse is
// an error (ErrMalformed).
//
// A Reader is not safe for concurrent use.
type Reader struct {
	br    *bufio.Reader
	max   int
	buf   []byte // the current block, lines joined by '\n'
	start []int  // offset in buf of each line
}

// NewReader returns a Reader of r. maxSize caps one message (0 means
// DefaultMaxMessageSize).
func NewReader(r io.Reader, maxSize int) *Reader {
	if maxSize <= 0 {
		maxSize = DefaultMaxMessageSize
	}
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), max: maxSize}
}

// Next reads the next block up to an "end" line. It returns io.EOF when
// the stream ends cleanly between messages, and an error wrapping
// io.ErrUnexpectedEOF (with the partial text) when it ends inside one.
func (r *Reader) Next() (Frame, error) {
	r.buf = r.buf[:0]
	r.start = r.start[:0]
	for {
		line, err := r.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(r.start) == 0 && len(line) == 0 {
					return Frame{}, io.EOF
				}
				r.appendLine(line)
				return Frame{}, fmt.Errorf("%w: stdout ended inside a message (read %q)",
					io.ErrUnexpectedEOF, truncate(r.buf, 200))
			}
			return Frame{}, err
		}
		if string(line) == endLine {
			return r.frame()
		}
		if len(r.buf)+len(line)+1 > r.max {
			return Frame{}, fmt.Errorf("%w: over %d bytes", ErrTooLarge, r.max)
		}
		r.appendLine(line)
	}
}

// readLine returns the next line without its "\n" or "\r\n". The slice
// is valid until the next read.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// A long line: gather it piecewise.
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(r.buf) > r.max {
				return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, r.max)
			}
			line, err = r.br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, err
}

func (r *Reader) appendLine(line []byte) {
	if len(r.start) > 0 {
		r.buf = append(r.buf, '\n')
	}
	r.start = append(r.start, len(r.buf))
	r.buf = append(r.buf, line...)
}

func (r *Reader) frame() (Frame, error) {
	if json.Valid(r.buf) {
		return Frame{JSON: bytes.Clone(r.buf)}, nil
	}
	looksJSON := false
	for i, off := range r.start {
		first := firstNonSpace(r.buf[off:])
		if first != '{' && first != '[' {
			continue
		}
		looksJSON = true
		if i == 0 {
			continue // the whole block, already tried
		}
		if json.Valid(r.buf[off:]) {
			return Frame{JSON: bytes.Clone(r.buf[off:]), Junk: r.lines(0, i)}, nil
		}
	}
	if !looksJSON {
		// Pure junk; blank lines alone (a stray "end") give an empty frame.
		return Frame{Junk: r.lines(0, len(r.start))}, nil
	}
	return Frame{}, fmt.Errorf("%w: %q", ErrMalformed, truncate(r.buf, 200))
}

// lines returns the non-blank lines [from, to) of the current block.
func (r *Reader) lines(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		end := len(r.buf)
		if i+1 < len(r.start) {
			end = r.start[i+1] - 1
		}
		l := r.buf[r.start[i]:end]
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		out = append(out, string(l))
	}
	return out
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r':
			continue
		case '\n':
			return 0 // only this line counts
		}
		return c
	}
	return 0
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// Writer writes "end"-terminated messages to a subprocess's stdin. Writes
// are buffered until Flush. A Writer is not safe for concurrent use.
type Writer struct {
	bw  *bufio.Writer
	buf []byte
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10)}
}

// Flush writes buffered messages to the underlying writer.
func (w *Writer) Flush() error { return w.bw.Flush() }

// WriteRaw writes one message whose JSON text is msg.
func (w *Writer) WriteRaw(msg []byte) error {
	if _, err := w.bw.Write(msg); err != nil {
		return err
	}
	_, err := w.bw.WriteString("\n" + endLine + "\n")
	return err
}

// WriteJSON writes v encoded as JSON as one message.
func (w *Writer) WriteJSON(v any) error {
	b, err := marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return w.WriteRaw(b)
}

// Handshake is the setup message Storm's JsonSerializer.connect writes
// first: the topology configuration, the task's context and the
// directory where the subprocess creates an empty file named by its pid.
type Handshake struct {
	Conf    map[string]any `json:"conf"`
	Context map[string]any `json:"context"`
	PidDir  string         `json:"pidDir"`
}

// WriteHandshake writes the setup message.
func (w *Writer) WriteHandshake(h Handshake) error { return w.WriteJSON(h) }

// TupleMsg is a tuple sent to a bolt subprocess (Storm's BoltMsg).
type TupleMsg struct {
	// ID is the id the subprocess acks, fails and anchors to.
	ID string
	// Comp is the emitting component; empty encodes as null (heartbeats).
	Comp   string
	Stream string
	// Task is the emitting task; -1 for the system task (ticks,
	// heartbeats).
	Task   int
	Values []any
}

// WriteTuple writes a tuple message:
// {"id":..,"comp":..,"stream":..,"task":..,"tuple":[..]}.
func (w *Writer) WriteTuple(m TupleMsg) error {
	b := w.buf[:0]
	b = append(b, `{"id":`...)
	b = appendString(b, m.ID)
	b = append(b, `,"comp":`...)
	if m.Comp == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, m.Comp)
	}
	b = append(b, `,"stream":`...)
	b = appendString(b, m.Stream)
	b = append(b, `,"task":`...)
	b = appendInt(b, int64(m.Task))
	b = append(b, `,"tuple":`...)
	b, err := appendValues(b, m.Values)
	if err != nil {
		return err
	}
	b = append(b, '}')
	w.buf = b
	return w.WriteRaw(b)
}

// HeartbeatStream is the stream of the heartbeat tuples a bolt sends its
// subprocess (Storm's ShellBolt.HEARTBEAT_STREAM_ID); the subprocess
// answers each with {"command":"sync"}.
const HeartbeatStream = "__heartbeat"

// SystemTask is the task id of system tuples (heartbeats, ticks), Storm's
// Constants.SYSTEM_TASK_ID.
const SystemTask = -1

// WriteHeartbeat writes a heartbeat tuple, shaped as Storm's:
// {"id":..,"comp":null,"stream":"__heartbeat","task":-1,"tuple":[]}.
func (w *Writer) WriteHeartbeat(id string) error {
	return w.WriteTuple(TupleMsg{ID: id, Stream: HeartbeatStream, Task: SystemTask, Values: []any{}})
}

// WriteSpoutCommand writes a command to a spout subprocess (Storm's
// SpoutMsg): {"command":"next","id":""}, {"command":"ack","id":<id>}...
// A nil id is written as "" like Storm does for next, activate and
// deactivate.
func (w *Writer) WriteSpoutCommand(command string, id json.RawMessage) error {
	b := w.buf[:0]
	b = append(b, `{"command":`...)
	b = appendString(b, command)
	b = append(b, `,"id":`...)
	if len(id) == 0 {
		b = append(b, `""`...)
	} else {
		b = append(b, id...)
	}
	b = append(b, '}')
	w.buf = b
	return w.WriteRaw(b)
}

// WriteTaskIDs writes the reply to an emit: the ids of the tasks that
// received the tuple, as a JSON array.
func (w *Writer) WriteTaskIDs(ids []int) error {
	b := append(w.buf[:0], '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, int64(id))
	}
	b = append(b, ']')
	w.buf = b
	return w.WriteRaw(b)
}
