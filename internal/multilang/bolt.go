package multilang

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Bolt runs a bolt subprocess speaking Storm's multilang protocol. It is
// the implementation behind bolt/shell.
//
// Execute hands each tuple to a writer goroutine and returns; the
// subprocess's emits, acks and fails arrive asynchronously and are applied
// to the collector from a dispatcher goroutine, as Storm's ShellBolt does.
// At most Options.MaxPending tuples wait to be written to the subprocess
// (Storm's topology.shellbolt.max.pending: the capacity of ShellBolt's
// queue of pending writes); Execute blocks (until its context ends) while
// that many do. Tuples written and not yet acked or failed hold no slot,
// as in Storm: a bolt that acks only on ticks keeps receiving tuples and
// ticks, bounded upstream by topology.max.spout.pending.
//
// When the subprocess dies (exit, broken pipe, malformed output, or no
// sign of life within the heartbeat timeout) every tuple that was written
// to it and not acked or failed is failed, the error is reported, and the
// subprocess is restarted after an exponential backoff. Tuples accepted
// but not yet written wait for the new subprocess.
//
// Prepare, Execute and Cleanup follow bolt.Bolt's contract: never called
// concurrently.
type Bolt struct {
	opts Options

	tc      *topology.TaskContext
	out     bolt.Collector
	log     *slog.Logger
	compID  string
	streams topology.Streams // declared outputs; nil: not checked
	direct  []string         // the declared outputs that are direct
	// tickValues are the values of a tick tuple as Storm sends them: the
	// tick frequency in seconds.
	tickValues tuple.Values
	pidDir     string
	hs         Handshake

	slots       chan struct{} // one per tuple accepted and not yet written, MaxPending of them
	wake        chan struct{} // wakes the writer; capacity 1
	closing     chan struct{} // closed by Cleanup
	closeOnce   sync.Once
	supervisorW sync.WaitGroup
	nextID      atomic.Uint64
	gen         uint64 // last incarnation number; supervisor only

	mu       sync.Mutex        // guards the fields below
	inflight map[string]*entry // accepted, not acked or failed
	queue    []*entry          // accepted, not yet written, FIFO
	ctrl     []ctrlItem        // task id replies and heartbeats, FIFO
	hbQueued bool              // a heartbeat is in ctrl
	cur      *session          // the live incarnation; nil while down
}

type entry struct {
	seq  uint64
	id   string
	t    *tuple.Tuple
	sent bool
	gen  uint64 // incarnation it was written to
}

// ctrlItem is a task id reply, or a heartbeat when heartbeat is set.
type ctrlItem struct {
	heartbeat bool
	gen       uint64
	taskIDs   []int
}

var _ bolt.Bolt = (*Bolt)(nil)

// NewBolt returns a Bolt running opts.Command. It validates opts; the
// subprocess starts in Prepare.
func NewBolt(opts Options) (*Bolt, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.setDefaults()
	return &Bolt{opts: opts}, nil
}

// Prepare starts the subprocess and completes the handshake. A command
// that cannot be started, or exits or fails before answering the
// handshake, is an error naming the command.
func (b *Bolt) Prepare(ctx context.Context, tc *topology.TaskContext, out bolt.Collector) error {
	b.tc, b.out = tc, out
	b.log = componentLogger(b.opts.Logger, tc)
	if tc != nil && tc.Component != nil {
		b.compID = tc.Component.ID
		b.streams = tc.Component.Streams
		b.direct = tc.Component.DirectStreams
	}
	b.tickValues = tuple.Values{tickSecs(tc)}
	b.slots = make(chan struct{}, b.opts.MaxPending)
	b.wake = make(chan struct{}, 1)
	b.closing = make(chan struct{})
	b.inflight = map[string]*entry{}
	dir, err := os.MkdirTemp("", "gale-multilang-")
	if err != nil {
		return b.wrap(0, nil, fmt.Errorf("%w: pid dir: %w", ErrStart, err))
	}
	b.pidDir = dir
	b.hs = Handshake{
		Conf:    Conf(tc, int(b.opts.HeartbeatTimeout/time.Second), b.opts.Conf),
		Context: Context(tc),
		PidDir:  dir,
	}
	s, err := b.start()
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	b.supervisorW.Add(1)
	go b.supervise(s)
	return nil
}

// Execute sends t to the subprocess. It returns once t is queued; it
// blocks while MaxPending tuples wait to be written.
func (b *Bolt) Execute(ctx context.Context, t *tuple.Tuple) error {
	if b.isClosing() {
		return ErrClosed
	}
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.closing:
		return ErrClosed
	}
	seq := b.nextID.Add(1)
	e := &entry{seq: seq, id: strconv.FormatUint(seq, 10), t: t}
	b.mu.Lock()
	b.inflight[e.id] = e
	b.queue = append(b.queue, e)
	b.mu.Unlock()
	b.signal()
	return nil
}

// Cleanup stops the subprocess (SIGTERM to its process group, SIGKILL
// after the stop grace), waits for it and for every goroutine, fails the
// tuples still in flight and removes the pid directory. It is safe to call
// twice.
func (b *Bolt) Cleanup() error {
	if b.closing == nil {
		return nil // never prepared
	}
	b.closeOnce.Do(func() {
		close(b.closing)
		b.supervisorW.Wait()
		b.mu.Lock()
		rest := make([]*entry, 0, len(b.inflight))
		for _, e := range b.inflight {
			rest = append(rest, e)
		}
		clear(b.inflight)
		b.queue, b.ctrl = nil, nil
		b.mu.Unlock()
		slices.SortFunc(rest, func(x, y *entry) int { return cmp.Compare(x.seq, y.seq) })
		for _, e := range rest {
			b.out.Fail(e.t)
		}
		_ = os.RemoveAll(b.pidDir)
	})
	return nil
}

func (b *Bolt) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *Bolt) isClosing() bool {
	select {
	case <-b.closing:
		return true
	default:
		return false
	}
}

// wrap names the component, the command and the pid in err.
func (b *Bolt) wrap(pid int, tail []string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Component == "" && e.Kind == "" {
		e.Kind, e.Component, e.Command = "bolt", b.compID, b.opts.Command
		return e
	}
	return &Error{Kind: "bolt", Component: b.compID, Command: b.opts.Command, Pid: pid, Err: err, Stderr: tail}
}

// report sends err to the collector (metrics, UI) and the log. While
// closing, errors are only logged.
func (b *Bolt) report(s *session, err error) {
	pid := 0
	var tail []string
	if s != nil {
		pid = s.proc.Pid()
		if errors.Is(err, ErrExited) || errors.Is(err, ErrBrokenPipe) || errors.Is(err, ErrHeartbeatTimeout) {
			tail = s.proc.StderrTail()
		}
	}
	err = b.wrap(pid, tail, err)
	if b.isClosing() {
		b.log.Debug("shell bolt error while closing", "err", err)
		return
	}
	// The runtime logs what is reported (once, rate-limited): logging
	// here too wrote every error twice.
	b.out.ReportError(err)
}

// start starts an incarnation and its goroutines.
func (b *Bolt) start() (*session, error) {
	b.gen++
	spec := Spec{Command: b.opts.Command, Dir: b.opts.Dir, Env: b.opts.Env, Logger: b.log}
	s, err := startSession(&b.opts, spec, b.hs, b.gen, func(junk []string) {
		b.report(nil, &JunkError{Lines: junk})
	})
	if err != nil {
		return nil, b.wrap(0, nil, err)
	}
	b.log.Info("shell bolt subprocess started", "pid", s.pid, "command", b.opts.Command)
	b.mu.Lock()
	b.cur = s
	b.mu.Unlock()
	s.wg.Add(2)
	go b.writer(s)
	go b.dispatch(s)
	b.signal()
	return s, nil
}

// supervise owns the incarnations: it waits for each to die, cleans up
// after it and starts the next, until Cleanup.
func (b *Bolt) supervise(s *session) {
	defer b.supervisorW.Done()
	bo := backoff{min: b.opts.BackoffMin, max: b.opts.BackoffMax}
	for {
		select {
		case <-s.dead:
		case <-b.closing:
			b.stop(s)
			return
		}
		s.close()
		b.afterDeath(s)
		lived := time.Since(s.started)
		for {
			delay := bo.next(lived)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-b.closing:
				t.Stop()
				return
			}
			next, err := b.start()
			if err == nil {
				s = next
				break
			}
			b.report(nil, err)
			lived = 0
		}
	}
}

// stop ends s for Cleanup: SIGTERM, then SIGKILL after the grace.
func (b *Bolt) stop(s *session) {
	s.proc.Signal()
	t := time.NewTimer(b.opts.StopGrace)
	select {
	case <-s.proc.Exited():
	case <-s.dead:
	case <-t.C:
	}
	t.Stop()
	s.die(ErrClosed)
	s.close()
}

// afterDeath fails the tuples written to s and not acked or failed, drops
// s's pending control messages and reports why s died.
func (b *Bolt) afterDeath(s *session) {
	b.mu.Lock()
	var lost []*entry
	for id, e := range b.inflight {
		if e.sent && e.gen == s.gen {
			delete(b.inflight, id)
			lost = append(lost, e)
		}
	}
	b.ctrl = slices.DeleteFunc(b.ctrl, func(c ctrlItem) bool { return c.gen <= s.gen })
	b.hbQueued = false
	b.cur = nil
	b.mu.Unlock()
	_ = os.Remove(pidFile(b.pidDir, s.pid))
	slices.SortFunc(lost, func(x, y *entry) int { return cmp.Compare(x.seq, y.seq) })
	for _, e := range lost {
		b.out.Fail(e.t)
	}
	b.report(s, fmt.Errorf("%w; %d in-flight tuples failed, restarting", s.cause, len(lost)))
}

// writer writes queued control messages and tuples to s, flushing when
// there is nothing more to write.
func (b *Bolt) writer(s *session) {
	defer s.wg.Done()
	w := NewWriter(s.proc.Stdin())
	for {
		var (
			c      ctrlItem
			isCtrl bool
			e      *entry
		)
		b.mu.Lock()
		if len(b.ctrl) > 0 {
			c, isCtrl = b.ctrl[0], true
			b.ctrl = b.ctrl[1:]
			if c.heartbeat {
				b.hbQueued = false
			}
		} else {
			for len(b.queue) > 0 && e == nil {
				e, b.queue = b.queue[0], b.queue[1:]
				<-b.slots // taken from the queue: the slot frees, as Storm's queue's
				if b.inflight[e.id] != e {
					e = nil // failed or cleaned up meanwhile
					continue
				}
				e.sent, e.gen = true, s.gen
			}
			if len(b.queue) == 0 {
				b.queue = nil
			}
		}
		b.mu.Unlock()

		var err error
		switch {
		case isCtrl && c.heartbeat:
			err = w.WriteHeartbeat(strconv.FormatUint(b.nextID.Add(1), 10))
		case isCtrl:
			err = w.WriteTaskIDs(c.taskIDs)
		case e != nil:
			task, values := e.t.Task, e.t.Values
			if e.t.IsTick() {
				// Storm's tick tuple: from task -1, its one value the
				// tick frequency in seconds.
				task, values = SystemTask, b.tickValues
			}
			err = w.WriteTuple(TupleMsg{ID: e.id, Comp: e.t.Component, Stream: e.t.Stream, Task: task, Values: values})
			if errors.Is(err, ErrEncode) {
				b.failUnsendable(s, e, err)
				continue
			}
		default:
			if err := w.Flush(); err != nil {
				s.die(s.exitCause(fmt.Errorf("%w: %w", ErrBrokenPipe, err)))
				return
			}
			select {
			case <-b.wake:
			case <-s.dead:
				return
			}
			continue
		}
		if err != nil {
			s.die(s.exitCause(fmt.Errorf("%w: %w", ErrBrokenPipe, err)))
			return
		}
	}
}

// failUnsendable fails a tuple that cannot be encoded.
func (b *Bolt) failUnsendable(s *session, e *entry, err error) {
	b.mu.Lock()
	_, ok := b.inflight[e.id]
	delete(b.inflight, e.id)
	b.mu.Unlock()
	if ok {
		b.out.Fail(e.t)
	}
	b.report(s, fmt.Errorf("tuple from %s/%s: %w", e.t.Component, e.t.Stream, err))
}

// dispatch applies what the subprocess sends, sends heartbeats and kills
// the subprocess when it stays silent too long. It returns when the pump
// has closed s.frames.
func (b *Bolt) dispatch(s *session) {
	defer s.wg.Done()
	ticker := time.NewTicker(b.opts.Heartbeat)
	defer ticker.Stop()
	last := time.Now()
	exited := s.proc.Exited()
	var grace <-chan time.Time
	for {
		select {
		case fr, ok := <-s.frames:
			if !ok {
				return
			}
			last = time.Now()
			if fr.err != nil {
				s.die(s.exitCause(fr.err))
				continue
			}
			if err := b.handle(s, fr.f); err != nil {
				s.die(err)
			}
		case <-ticker.C:
			if s.isDead() {
				continue
			}
			if silent := time.Since(last); silent > b.opts.HeartbeatTimeout {
				s.die(fmt.Errorf("%w: no message for %v", ErrHeartbeatTimeout, silent.Round(time.Millisecond)))
				continue
			}
			b.queueHeartbeat(s)
		case <-exited:
			// Normally stdout ends with the process. A descendant that left
			// the process group may hold it open: stop waiting for it.
			exited = nil
			grace = time.After(pipeGrace)
		case <-grace:
			grace = nil
			s.die(s.exitCause(ErrExited))
			_ = s.proc.Close() // closes stdout: the pump ends
		}
	}
}

func (b *Bolt) queueHeartbeat(s *session) {
	b.mu.Lock()
	if !b.hbQueued {
		b.hbQueued = true
		b.ctrl = append(b.ctrl, ctrlItem{heartbeat: true, gen: s.gen})
	}
	b.mu.Unlock()
	b.signal()
}

// handle applies one frame. A returned error is fatal for s.
func (b *Bolt) handle(s *session, f Frame) error {
	if len(f.Junk) > 0 {
		b.report(s, &JunkError{Lines: f.Junk})
	}
	if f.JSON == nil {
		return nil
	}
	c, err := ParseCommand(f.JSON)
	if err != nil {
		return err
	}
	switch c.Name {
	case CmdEmit:
		b.emit(s, &c)
	case CmdAck, CmdFail:
		b.mu.Lock()
		e, ok := b.inflight[c.ID]
		if ok && e.sent {
			delete(b.inflight, c.ID)
		}
		b.mu.Unlock()
		if !ok || !e.sent {
			b.report(s, fmt.Errorf("%w: %s of %q", ErrUnknownID, c.Name, c.ID))
			return nil
		}
		if c.Name == CmdAck {
			b.out.Ack(e.t)
		} else {
			b.out.Fail(e.t)
		}
	case CmdLog:
		b.log.Log(context.Background(), logLevel(c.Level), c.Msg, "pid", s.pid)
	case CmdError:
		b.report(s, fmt.Errorf("%w: %s", ErrSubprocess, c.Msg))
	case CmdMetrics:
		recordMetric(b.tc, b.log, c.Metric, c.Params)
	case CmdSync:
		// A heartbeat answer: the dispatcher already noted the sign of life.
	default:
		b.report(s, fmt.Errorf("%w: %q", ErrUnknownCommand, c.Name))
	}
	return nil
}

func (b *Bolt) emit(s *session, c *Command) {
	var anchors []*tuple.Tuple
	if len(c.Anchors) > 0 {
		anchors = make([]*tuple.Tuple, 0, len(c.Anchors))
		var unknown []string
		b.mu.Lock()
		for _, id := range c.Anchors {
			if e, ok := b.inflight[id]; ok {
				anchors = append(anchors, e.t)
			} else {
				unknown = append(unknown, id)
			}
		}
		b.mu.Unlock()
		if len(unknown) > 0 {
			b.report(s, fmt.Errorf("%w: emit anchored to %q (acked, failed or never sent); anchor dropped", ErrUnknownID, unknown))
		}
	}
	var ids []int
	if err := checkEmit(b.streams, b.direct, c); err != nil {
		b.report(s, err)
	} else {
		ids = b.out.Send(bolt.Message{
			Stream:      c.Stream,
			Anchors:     anchors,
			Values:      c.Tuple,
			DirectTask:  c.Task,
			NeedTaskIDs: c.NeedTaskIDs && c.Task == 0,
		})
	}
	if c.NeedTaskIDs && c.Task == 0 {
		if ids == nil {
			ids = []int{}
		}
		b.mu.Lock()
		b.ctrl = append(b.ctrl, ctrlItem{gen: s.gen, taskIDs: ids})
		b.mu.Unlock()
		b.signal()
	}
}

// checkEmit checks an emit against the declared output streams (nil:
// nothing to check) and, for one with "task", against the direct ones.
func checkEmit(streams topology.Streams, direct []string, c *Command) error {
	if streams == nil {
		return nil
	}
	fields, ok := streams[c.Stream]
	if !ok {
		return fmt.Errorf("%w: stream %q is not declared (declare it in the component's \"outputs\"); emit dropped", ErrUndeclaredStream, c.Stream)
	}
	if len(fields) != len(c.Tuple) {
		return fmt.Errorf("%w: stream %q has fields %v, emit has %d values; emit dropped", ErrUndeclaredStream, c.Stream, fields, len(c.Tuple))
	}
	isDirect := slices.Contains(direct, c.Stream)
	switch {
	case c.Task != 0 && !isDirect:
		// Storm's executor throws this (IllegalArgumentException) for
		// emitDirect on a stream its consumers read with another grouping.
		return fmt.Errorf("%w: Cannot emitDirect to a task expecting a regular grouping (emit with \"task\" %d on stream %q, which is not declared direct); emit dropped",
			ErrDirectEmit, c.Task, c.Stream)
	case c.Task == 0 && isDirect:
		return fmt.Errorf("%w: stream %q is direct: an emit on it needs \"task\"; emit dropped", ErrDirectEmit, c.Stream)
	}
	return nil
}

// tickSecs is the tick frequency of tc's component in seconds: the value
// of Storm's tick tuples (an integer when it is a whole number).
func tickSecs(tc *topology.TaskContext) any {
	if tc == nil || tc.Component == nil {
		return 0
	}
	d := time.Duration(tc.Component.Tick)
	if d%time.Second == 0 {
		return int64(d / time.Second)
	}
	return d.Seconds()
}

// logLevel maps multilang log levels to slog's; a level out of 0..4 is
// INFO, as in Storm's ShellLogLevel.fromInt.
func logLevel(l int) slog.Level {
	switch l {
	case LogTrace:
		return slog.LevelDebug - 4
	case LogDebug:
		return slog.LevelDebug
	case LogWarn:
		return slog.LevelWarn
	case LogError:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// componentLogger returns l, or the task's logger, or the default logger
// with the component's id.
func componentLogger(l *slog.Logger, tc *topology.TaskContext) *slog.Logger {
	if l != nil {
		return l
	}
	if tc != nil && tc.Logger != nil {
		return tc.Logger
	}
	id := ""
	if tc != nil && tc.Component != nil {
		id = tc.Component.ID
	}
	return slog.Default().With("component", id)
}

// pidFile is where the subprocess of pid records itself.
func pidFile(dir string, pid int) string { return filepath.Join(dir, strconv.Itoa(pid)) }
