package multilang

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// A transcript replays a multilang session line by line against Gale's
// Bolt or Spout, with an in-memory subprocess. The files under testdata
// follow the message shapes of Storm's JsonSerializer, ShellBolt and
// ShellSpout and of storm.py/storm.js. Each line is one step:
//
//	gale JSON        Gale must write this message next (compared as JSON;
//	                 the string "$PIDDIR" matches the pid directory)
//	proc JSON        the subprocess writes this message (then "end")
//	raw TEXT         the subprocess writes this line as is
//	exec NAME JSON   (bolt) Execute a tuple {"comp","stream","task","tuple"}
//	heartbeat        (bolt) send one heartbeat now
//	crash STATUS     the subprocess exits with STATUS
//	call JSON        the next collector call or "log" record must be this
//	next|ack N|fail N|activate|deactivate
//	                 (spout) start that call in the background; N is the
//	                 index of an emitted tuple whose message id to use
//	wait ok|ERRNAME  (spout) the call in the background returns that
//	cleanup          Cleanup/Close
//
// Calls are recorded as {"op":"emit","stream","values","anchors":[NAMES],
// "task","msgid"}, {"op":"ack"|"fail","tuple":NAME},
// {"op":"error","is":ERRNAME} and {"op":"log","level","msg"}.

// fakeProc is an in-memory subprocess.
type fakeProc struct {
	pid     int
	stdinR  *io.PipeReader // the test reads what Gale writes
	stdinW  *io.PipeWriter
	stdoutR *io.PipeReader // Gale reads what the test writes
	stdoutW *io.PipeWriter
	exited  chan struct{}
	once    sync.Once
	mu      sync.Mutex
	exitErr error
	reader  *Reader
}

func newFakeProc(pid int) *fakeProc {
	p := &fakeProc{pid: pid, exited: make(chan struct{})}
	p.stdinR, p.stdinW = io.Pipe()
	p.stdoutR, p.stdoutW = io.Pipe()
	p.reader = NewReader(p.stdinR, 0)
	return p
}

func (p *fakeProc) exit(err error) {
	p.once.Do(func() {
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		p.stdoutW.Close()
		p.stdinR.CloseWithError(syscall.EPIPE)
		close(p.exited)
	})
}

func (p *fakeProc) Stdin() io.WriteCloser   { return p.stdinW }
func (p *fakeProc) Stdout() io.ReadCloser   { return p.stdoutR }
func (p *fakeProc) Pid() int                { return p.pid }
func (p *fakeProc) Signal()                 { p.exit(errors.New("signal: terminated")) }
func (p *fakeProc) Kill()                   { p.exit(errors.New("signal: killed")) }
func (p *fakeProc) Exited() <-chan struct{} { return p.exited }
func (p *fakeProc) StderrTail() []string    { return nil }
func (p *fakeProc) Close() error            { p.Kill(); return nil }
func (p *fakeProc) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// recorder records collector calls and "log" records in order.
type recorder struct {
	mu     sync.Mutex
	calls  []map[string]any
	names  map[*tuple.Tuple]string
	msgIDs []any // of spout emits, in order
}

var _ bolt.Collector = (*recorder)(nil)

func (r *recorder) add(c map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) name(t *tuple.Tuple) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[t]
}

func (r *recorder) Emit(*tuple.Tuple, tuple.Values)                      { panic("unused") }
func (r *recorder) EmitTo(string, []*tuple.Tuple, tuple.Values)          { panic("unused") }
func (r *recorder) EmitDirect(int, string, []*tuple.Tuple, tuple.Values) { panic("unused") }
func (r *recorder) ResetTimeout(*tuple.Tuple)                            {}
func (r *recorder) Ack(t *tuple.Tuple)                                   { r.add(map[string]any{"op": "ack", "tuple": r.name(t)}) }
func (r *recorder) Fail(t *tuple.Tuple)                                  { r.add(map[string]any{"op": "fail", "tuple": r.name(t)}) }
func (r *recorder) ReportError(err error) {
	r.add(map[string]any{"op": "error", "is": errName(err)})
}

func (r *recorder) Send(m bolt.Message) []int {
	anchors := []any{}
	for _, a := range m.Anchors {
		anchors = append(anchors, r.name(a))
	}
	c := map[string]any{"op": "emit", "stream": m.Stream, "values": normalize(m.Values), "anchors": anchors}
	if m.DirectTask != 0 {
		c["task"] = float64(m.DirectTask)
	}
	r.add(c)
	if m.NeedTaskIDs {
		return []int{7, 8}
	}
	return nil
}

// spoutCollector adapts recorder to spout.Collector (Emit names differ).
type spoutCollector struct{ *recorder }

var _ spout.Collector = spoutCollector{}

func (s spoutCollector) Emit(tuple.Values, any)                    { panic("unused") }
func (s spoutCollector) EmitTo(string, tuple.Values, any)          { panic("unused") }
func (s spoutCollector) EmitDirect(int, string, tuple.Values, any) { panic("unused") }
func (s spoutCollector) Send(m spout.Message) []int {
	c := map[string]any{"op": "emit", "stream": m.Stream, "values": normalize(m.Values)}
	if m.DirectTask != 0 {
		c["task"] = float64(m.DirectTask)
	}
	var id any
	if m.MsgID != nil {
		_ = json.Unmarshal([]byte(m.MsgID.(MsgID).raw), &id)
	}
	c["msgid"] = id
	s.add(c)
	s.mu.Lock()
	s.msgIDs = append(s.msgIDs, m.MsgID)
	s.mu.Unlock()
	if m.NeedTaskIDs {
		return []int{4}
	}
	return nil
}

// normalize round-trips v through JSON so it compares with parsed lines.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

var sentinels = map[string]error{
	"ErrExited": ErrExited, "ErrBrokenPipe": ErrBrokenPipe, "ErrHeartbeatTimeout": ErrHeartbeatTimeout,
	"ErrMalformed": ErrMalformed, "ErrProtocol": ErrProtocol, "ErrJunk": ErrJunk, "ErrUnknownID": ErrUnknownID,
	"ErrUnknownCommand": ErrUnknownCommand, "ErrUndeclaredStream": ErrUndeclaredStream,
	"ErrSubprocess": ErrSubprocess, "ErrClosed": ErrClosed, "ErrHandshake": ErrHandshake,
	"ErrDirectEmit": ErrDirectEmit,
}

func errName(err error) string {
	// The most specific first: fatal causes wrap others.
	for _, n := range []string{"ErrHeartbeatTimeout", "ErrMalformed", "ErrProtocol", "ErrExited", "ErrBrokenPipe",
		"ErrJunk", "ErrUnknownID", "ErrUnknownCommand", "ErrUndeclaredStream", "ErrDirectEmit", "ErrSubprocess", "ErrHandshake", "ErrClosed"} {
		if errors.Is(err, sentinels[n]) {
			return n
		}
	}
	return err.Error()
}

// logHandler records the records of "log" commands (they carry a pid
// attribute and are not Gale's own messages).
type logHandler struct{ r *recorder }

func (h logHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h logHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h logHandler) WithGroup(string) slog.Handler            { return h }
func (h logHandler) Handle(_ context.Context, rec slog.Record) error {
	if strings.HasPrefix(rec.Message, "shell ") || rec.Message == "subprocess stderr" {
		return nil
	}
	h.r.add(map[string]any{"op": "log", "level": rec.Level.String(), "msg": rec.Message})
	return nil
}

// transcriptTopology is the topology the transcripts' handshakes describe.
func transcriptTopology() *topology.Topology {
	sentences := &topology.Component{ID: "sentences", Type: "shell", Kind: topology.KindSpout,
		Streams: topology.Streams{"default": {"sentence"}, "direct": {"sentence"}}, DirectStreams: []string{"direct"}}
	split := &topology.Component{ID: "split", Type: "shell", Kind: topology.KindBolt, Parallelism: 2,
		Inputs:  []topology.Input{{Component: "sentences", Grouping: topology.Shuffle}},
		Streams: topology.Streams{"default": {"word"}, "direct": {"word"}}, DirectStreams: []string{"direct"},
		Tick: topology.Duration(5 * time.Second)}
	count := &topology.Component{ID: "count", Type: "count", Kind: topology.KindBolt,
		Inputs:  []topology.Input{{Component: "split", Grouping: topology.FieldsGrouping, Fields: []string{"word"}}},
		Streams: topology.Streams{"default": {"word", "count"}}}
	return &topology.Topology{
		Name:     "wordcount",
		Config:   map[string]any{"topology.message.timeout.secs": 30},
		Spouts:   []*topology.Component{sentences},
		Bolts:    []*topology.Component{split, count},
		Settings: topology.Settings{Workers: 1, Ackers: 1, MessageTimeout: 30 * time.Second, MaxSpoutPending: 1000},
	}
}

func transcriptContext(topo *topology.Topology, comp string, task int, r *recorder) *topology.TaskContext {
	tc := &topology.TaskContext{
		Topology:       topo,
		TaskID:         task,
		ComponentTasks: map[string][]int{"count": {1}, "sentences": {2}, "split": {3, 4}},
		Logger:         slog.New(logHandler{r}),
	}
	for _, c := range append(append([]*topology.Component{}, topo.Spouts...), topo.Bolts...) {
		if c.ID == comp {
			tc.Component = c
		}
	}
	return tc
}

type step struct {
	line int
	verb string
	arg  string
}

func readTranscript(t *testing.T, name string) []step {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []step
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		verb, arg, _ := strings.Cut(l, " ")
		steps = append(steps, step{n, verb, strings.TrimSpace(arg)})
	}
	return steps
}

// replayer runs a transcript.
type replayer struct {
	t       *testing.T
	name    string
	procs   chan *fakeProc
	cur     *fakeProc
	rec     *recorder
	seen    int // calls checked so far
	pidDir  func() string
	pending chan error // the background spout call
}

func (r *replayer) proc(s step) *fakeProc {
	if r.cur == nil || isClosed(r.cur.exited) {
		select {
		case r.cur = <-r.procs:
		case <-time.After(10 * time.Second):
			r.t.Fatalf("%s:%d: no subprocess started", r.name, s.line)
		}
	}
	return r.cur
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func parseJSON(t *testing.T, where string, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: bad JSON %q: %v", where, s, err)
	}
	return v
}

// expectGale reads Gale's next message and compares it with want.
func (r *replayer) expectGale(s step) {
	where := fmt.Sprintf("%s:%d", r.name, s.line)
	p := r.proc(s)
	type res struct {
		f   Frame
		err error
	}
	ch := make(chan res, 1)
	go func() { f, err := p.reader.Next(); ch <- res{f, err} }()
	var got res
	select {
	case got = <-ch:
	case <-time.After(10 * time.Second):
		r.t.Fatalf("%s: Gale wrote nothing, want %s", where, s.arg)
	}
	if got.err != nil || len(got.f.Junk) > 0 {
		r.t.Fatalf("%s: reading Gale's message: %v (junk %q)", where, got.err, got.f.Junk)
	}
	want := parseJSON(r.t, where, strings.ReplaceAll(s.arg, "$PIDDIR", r.pidDir()))
	gotV := parseJSON(r.t, where, string(got.f.JSON))
	if !reflect.DeepEqual(gotV, want) {
		r.t.Fatalf("%s: Gale wrote\n  %s\nwant\n  %s", where, got.f.JSON, s.arg)
	}
}

func (r *replayer) write(s step, text string) {
	p := r.proc(s)
	done := make(chan error, 1)
	go func() { _, err := io.WriteString(p.stdoutW, text); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			r.t.Fatalf("%s:%d: write: %v", r.name, s.line, err)
		}
	case <-time.After(10 * time.Second):
		r.t.Fatalf("%s:%d: Gale does not read", r.name, s.line)
	}
}

func (r *replayer) expectCall(s step) {
	where := fmt.Sprintf("%s:%d", r.name, s.line)
	want := parseJSON(r.t, where, s.arg)
	var got map[string]any
	galetest.Eventually(r.t, fmt.Sprintf("%s: a call, want %s", where, s.arg), 10*time.Second, func() bool {
		r.rec.mu.Lock()
		defer r.rec.mu.Unlock()
		if len(r.rec.calls) > r.seen {
			got = r.rec.calls[r.seen]
		}
		return got != nil
	})
	r.seen++
	if !reflect.DeepEqual(normalize(got), want) {
		b, _ := json.Marshal(got)
		r.t.Fatalf("%s: call\n  %s\nwant\n  %s", where, b, s.arg)
	}
}

// common handles the steps shared by bolt and spout transcripts.
func (r *replayer) common(s step) bool {
	switch s.verb {
	case "gale":
		r.expectGale(s)
	case "proc":
		r.write(s, s.arg+"\nend\n")
	case "raw":
		r.write(s, s.arg+"\n")
	case "crash":
		r.proc(s).exit(fmt.Errorf("exit status %s", s.arg))
	case "call":
		r.expectCall(s)
	default:
		return false
	}
	return true
}

func (r *replayer) noMoreCalls() {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	if extra := r.rec.calls[r.seen:]; len(extra) > 0 {
		b, _ := json.Marshal(extra)
		r.t.Errorf("%s: unexpected calls at the end: %s", r.name, b)
	}
}

func newReplayer(t *testing.T, name string) (*replayer, Options) {
	r := &replayer{t: t, name: name, procs: make(chan *fakeProc, 4),
		rec: &recorder{names: map[*tuple.Tuple]string{}}}
	pid := 4242
	opts := Options{
		Command:          []string{"python3", "splitsentence.py"},
		Heartbeat:        time.Hour, // heartbeats only when the transcript says
		HeartbeatTimeout: 2 * time.Hour,
		MaxPending:       100,
		BackoffMin:       time.Nanosecond,
		BackoffMax:       time.Nanosecond,
		StopGrace:        10 * time.Millisecond,
		Start: func(Spec) (Proc, error) {
			p := newFakeProc(pid)
			pid++
			r.procs <- p
			return p, nil
		},
	}
	return r, opts
}

func TestTranscript_Bolt(t *testing.T) {
	r, opts := newReplayer(t, "bolt.transcript")
	b, err := NewBolt(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.pidDir = func() string { return b.pidDir }
	steps := readTranscript(t, r.name)
	prepared := make(chan error, 1)
	go func() {
		prepared <- b.Prepare(context.Background(), transcriptContext(transcriptTopology(), "split", 3, r.rec), r.rec)
	}()
	defer b.Cleanup()
	waitPrepared := func() {
		if prepared == nil {
			return
		}
		if err := <-prepared; err != nil {
			t.Fatalf("Prepare: %v", err)
		}
		prepared = nil
	}
	for _, s := range steps {
		if r.common(s) {
			continue
		}
		waitPrepared()
		switch s.verb {
		case "exec":
			name, js, _ := strings.Cut(s.arg, " ")
			var in struct {
				Comp   string `json:"comp"`
				Stream string `json:"stream"`
				Task   int    `json:"task"`
				Tuple  []any  `json:"tuple"`
			}
			if err := json.Unmarshal([]byte(js), &in); err != nil {
				t.Fatalf("%s:%d: %v", r.name, s.line, err)
			}
			tu := &tuple.Tuple{Component: in.Comp, Stream: in.Stream, Task: in.Task, Values: in.Tuple}
			r.rec.mu.Lock()
			r.rec.names[tu] = name
			r.rec.mu.Unlock()
			if err := b.Execute(context.Background(), tu); err != nil {
				t.Fatalf("%s:%d: Execute: %v", r.name, s.line, err)
			}
		case "heartbeat":
			b.mu.Lock()
			cur := b.cur
			b.mu.Unlock()
			if cur == nil {
				t.Fatalf("%s:%d: no subprocess", r.name, s.line)
			}
			b.queueHeartbeat(cur)
		case "cleanup":
			if err := b.Cleanup(); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("%s:%d: unknown step %q", r.name, s.line, s.verb)
		}
	}
	r.noMoreCalls()
}

func TestTranscript_Spout(t *testing.T) {
	r, opts := newReplayer(t, "spout.transcript")
	sp, err := NewSpout(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.pidDir = func() string { return sp.pidDir }
	col := spoutCollector{r.rec}
	steps := readTranscript(t, r.name)
	r.pending = make(chan error, 1)
	busy := false
	run := func(s step, f func() error) {
		if busy {
			t.Fatalf("%s:%d: a call is already running", r.name, s.line)
		}
		busy = true
		go func() { r.pending <- f() }()
	}
	msgID := func(s step) any {
		var n int
		fmt.Sscan(s.arg, &n)
		r.rec.mu.Lock()
		defer r.rec.mu.Unlock()
		if n >= len(r.rec.msgIDs) {
			t.Fatalf("%s:%d: no emitted tuple %d", r.name, s.line, n)
		}
		return r.rec.msgIDs[n]
	}
	defer sp.Close()
	for _, s := range steps {
		if r.common(s) {
			continue
		}
		switch s.verb {
		case "open":
			run(s, func() error {
				return sp.Open(context.Background(), transcriptContext(transcriptTopology(), "sentences", 2, r.rec), col)
			})
		case "next":
			run(s, func() error { return sp.NextTuple(context.Background()) })
		case "ack":
			id := msgID(s)
			run(s, func() error { sp.Ack(id); return nil })
		case "fail":
			id := msgID(s)
			run(s, func() error { sp.Fail(id); return nil })
		case "activate":
			run(s, func() error { sp.Activate(); return nil })
		case "deactivate":
			run(s, func() error { sp.Deactivate(); return nil })
		case "cleanup":
			run(s, sp.Close)
		case "wait":
			var err error
			select {
			case err = <-r.pending:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s:%d: the call did not return", r.name, s.line)
			}
			busy = false
			if s.arg == "ok" && err != nil || s.arg != "ok" && !errors.Is(err, sentinels[s.arg]) {
				t.Fatalf("%s:%d: call returned %v, want %s", r.name, s.line, err, s.arg)
			}
		default:
			t.Fatalf("%s:%d: unknown step %q", r.name, s.line, s.verb)
		}
	}
	r.noMoreCalls()
}
