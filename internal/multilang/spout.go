package multilang

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
)

// Spout runs a spout subprocess speaking Storm's multilang protocol. It is
// the implementation behind spout/shell.
//
// The protocol is synchronous, like Storm's ShellSpout: NextTuple writes
// {"command":"next"}, Ack and Fail write {"command":"ack"|"fail","id":..},
// and each then reads emits, logs and errors until the subprocess answers
// {"command":"sync"}. All of it happens on the spout's goroutine, so the
// collector is only used there. A subprocess that does not sync within
// the heartbeat timeout is killed as hung.
//
// When the subprocess dies the error is returned by NextTuple (or
// reported, from Ack and Fail) and the subprocess is restarted by a later
// NextTuple after an exponential backoff. Tuples it emitted keep their
// trees; acks and fails for them are dropped (logged at debug level),
// since a new subprocess cannot know the message ids of the old one: a
// spout subprocess must recover its own pending messages when it starts,
// e.g. by re-reading from its source's last committed position.
//
// Open, NextTuple, Ack, Fail, Activate, Deactivate and Close follow
// spout.Spout's contract: never called concurrently.
type Spout struct {
	opts Options

	out     spout.Collector
	tc      *topology.TaskContext
	log     *slog.Logger
	compID  string
	streams topology.Streams
	direct  []string
	pidDir  string
	hs      Handshake

	gen       uint64
	s         *session // nil while the subprocess is down
	w         *Writer
	bo        backoff
	restartAt time.Time
	closed    bool
}

// MsgID is the message id of a tuple emitted by a spout subprocess: the
// id as the subprocess wrote it (JSON text) and the incarnation that
// emitted it. It is comparable.
type MsgID struct {
	gen uint64
	raw string
}

// String returns the id as the subprocess wrote it.
func (m MsgID) String() string { return m.raw }

var (
	_ spout.Spout     = (*Spout)(nil)
	_ spout.Activator = (*Spout)(nil)
)

// NewSpout returns a Spout running opts.Command. It validates opts; the
// subprocess starts in Open.
func NewSpout(opts Options) (*Spout, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.setDefaults()
	return &Spout{opts: opts, bo: backoff{min: opts.BackoffMin, max: opts.BackoffMax}}, nil
}

// Open starts the subprocess and completes the handshake. A command that
// cannot be started, or exits or fails before answering the handshake, is
// an error naming the command.
func (sp *Spout) Open(ctx context.Context, tc *topology.TaskContext, out spout.Collector) error {
	sp.out, sp.tc = out, tc
	sp.log = componentLogger(sp.opts.Logger, tc)
	if tc != nil && tc.Component != nil {
		sp.compID = tc.Component.ID
		sp.streams = tc.Component.Streams
		sp.direct = tc.Component.DirectStreams
	}
	dir, err := os.MkdirTemp("", "gale-multilang-")
	if err != nil {
		return sp.wrap(0, nil, fmt.Errorf("%w: pid dir: %w", ErrStart, err))
	}
	sp.pidDir = dir
	sp.hs = Handshake{
		Conf:    Conf(tc, int(sp.opts.HeartbeatTimeout/time.Second), sp.opts.Conf),
		Context: Context(tc),
		PidDir:  dir,
	}
	if err := sp.start(); err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	return nil
}

// NextTuple asks the subprocess for tuples. While the subprocess is down
// it restarts it once the backoff has passed.
func (sp *Spout) NextTuple(ctx context.Context) error {
	if sp.closed {
		return ErrClosed
	}
	if sp.s == nil {
		if wait := time.Until(sp.restartAt); wait > 0 {
			t := time.NewTimer(min(wait, 10*time.Millisecond))
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
			return nil
		}
		if err := sp.start(); err != nil {
			sp.restartAt = time.Now().Add(sp.bo.next(0))
			return err
		}
	}
	return sp.command(ctx, CmdNext, nil)
}

// Ack tells the subprocess that the tree of msgID completed.
func (sp *Spout) Ack(msgID any) { sp.forward(CmdAck, msgID) }

// Fail tells the subprocess that the tree of msgID failed.
func (sp *Spout) Fail(msgID any) { sp.forward(CmdFail, msgID) }

func (sp *Spout) forward(cmd string, msgID any) {
	id, ok := msgID.(MsgID)
	if !ok || sp.s == nil || id.gen != sp.s.gen {
		sp.log.Debug("shell spout: dropping "+cmd+" for a tuple of a previous subprocess", "id", msgID)
		return
	}
	if err := sp.command(context.Background(), cmd, json.RawMessage(id.raw)); err != nil {
		sp.report(err)
	}
}

// Activate forwards {"command":"activate"} and waits for its sync. The
// runtime calls it before the first NextTuple of a topology that starts
// active, and on each activation, as Storm's SpoutExecutor does.
func (sp *Spout) Activate() { sp.simple(CmdActivate) }

// Deactivate forwards {"command":"deactivate"}.
func (sp *Spout) Deactivate() { sp.simple(CmdDeactivate) }

func (sp *Spout) simple(cmd string) {
	if sp.s == nil || sp.closed {
		return
	}
	if err := sp.command(context.Background(), cmd, nil); err != nil {
		sp.report(err)
	}
}

// Close stops the subprocess (SIGTERM to its process group, SIGKILL after
// the stop grace), waits for it and removes the pid directory. It is
// safe to call twice.
func (sp *Spout) Close() error {
	if sp.closed {
		return nil
	}
	sp.closed = true
	if s := sp.s; s != nil {
		sp.s = nil
		s.proc.Signal()
		t := time.NewTimer(sp.opts.StopGrace)
		select {
		case <-s.proc.Exited():
		case <-t.C:
		}
		t.Stop()
		s.die(ErrClosed)
		s.close()
	}
	if sp.pidDir != "" {
		_ = os.RemoveAll(sp.pidDir)
	}
	return nil
}

func (sp *Spout) start() error {
	sp.gen++
	spec := Spec{Command: sp.opts.Command, Dir: sp.opts.Dir, Env: sp.opts.Env, Logger: sp.log}
	s, err := startSession(&sp.opts, spec, sp.hs, sp.gen, func(junk []string) {
		sp.report(&JunkError{Lines: junk})
	})
	if err != nil {
		return sp.wrap(0, nil, err)
	}
	sp.log.Info("shell spout subprocess started", "pid", s.pid, "command", sp.opts.Command)
	sp.s, sp.w = s, NewWriter(s.proc.Stdin())
	return nil
}

// command sends one command and handles the answers up to sync. Errors
// are fatal for the subprocess: it is torn down and a restart scheduled.
func (sp *Spout) command(ctx context.Context, cmd string, id json.RawMessage) error {
	s := sp.s
	setWriteDeadline(s.proc.Stdin(), time.Now().Add(sp.opts.HeartbeatTimeout))
	err := sp.w.WriteSpoutCommand(cmd, id)
	if err == nil {
		err = sp.w.Flush()
	}
	if err != nil {
		return sp.crash(s.exitCause(fmt.Errorf("%w: %w", ErrBrokenPipe, err)))
	}
	timer := time.NewTimer(sp.opts.HeartbeatTimeout)
	defer timer.Stop()
	for {
		select {
		case fr, ok := <-s.frames:
			if !ok {
				return sp.crash(s.exitCause(ErrExited))
			}
			if fr.err != nil {
				return sp.crash(s.exitCause(fr.err))
			}
			timer.Reset(sp.opts.HeartbeatTimeout)
			done, err := sp.handle(fr.f)
			if err != nil {
				return sp.crash(err)
			}
			if done {
				return nil
			}
		case <-timer.C:
			return sp.crash(fmt.Errorf("%w: no sync within %v of %q", ErrHeartbeatTimeout, sp.opts.HeartbeatTimeout, cmd))
		case <-ctx.Done():
			return sp.crash(fmt.Errorf("%w: %q interrupted: %w", ErrClosed, cmd, ctx.Err()))
		}
	}
}

// handle applies one frame; done is true on sync.
func (sp *Spout) handle(f Frame) (done bool, err error) {
	if len(f.Junk) > 0 {
		sp.report(&JunkError{Lines: f.Junk})
	}
	if f.JSON == nil {
		return false, nil
	}
	c, err := ParseCommand(f.JSON)
	if err != nil {
		return false, err
	}
	switch c.Name {
	case CmdSync:
		return true, nil
	case CmdEmit:
		return false, sp.emit(&c)
	case CmdLog:
		sp.log.Log(context.Background(), logLevel(c.Level), c.Msg, "pid", sp.s.pid)
	case CmdError:
		sp.report(fmt.Errorf("%w: %s", ErrSubprocess, c.Msg))
	case CmdMetrics:
		recordMetric(sp.tc, sp.log, c.Metric, c.Params)
	default:
		sp.report(fmt.Errorf("%w: %q", ErrUnknownCommand, c.Name))
	}
	return false, nil
}

func (sp *Spout) emit(c *Command) error {
	var ids []int
	if err := checkEmit(sp.streams, sp.direct, c); err != nil {
		sp.report(err)
	} else {
		var msgID any
		if c.MsgID != nil {
			msgID = MsgID{gen: sp.s.gen, raw: string(c.MsgID)}
		}
		ids = sp.out.Send(spout.Message{
			Stream:      c.Stream,
			Values:      c.Tuple,
			MsgID:       msgID,
			DirectTask:  c.Task,
			NeedTaskIDs: c.NeedTaskIDs && c.Task == 0,
		})
	}
	if !c.NeedTaskIDs || c.Task != 0 {
		return nil
	}
	if ids == nil {
		ids = []int{}
	}
	err := sp.w.WriteTaskIDs(ids)
	if err == nil {
		err = sp.w.Flush()
	}
	if err != nil {
		return sp.s.exitCause(fmt.Errorf("%w: %w", ErrBrokenPipe, err))
	}
	return nil
}

// crash tears the subprocess down after err and schedules its restart.
// It returns err wrapped with the component.
func (sp *Spout) crash(err error) error {
	s := sp.s
	sp.s, sp.w = nil, nil
	s.die(err)
	s.close()
	_ = os.Remove(pidFile(sp.pidDir, s.pid))
	sp.restartAt = time.Now().Add(sp.bo.next(time.Since(s.started)))
	var tail []string
	if errors.Is(err, ErrExited) || errors.Is(err, ErrBrokenPipe) || errors.Is(err, ErrHeartbeatTimeout) {
		tail = s.proc.StderrTail()
	}
	return sp.wrap(s.proc.Pid(), tail, fmt.Errorf("%w; restarting", err))
}

func (sp *Spout) wrap(pid int, tail []string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Component == "" && e.Kind == "" {
		e.Kind, e.Component, e.Command = "spout", sp.compID, sp.opts.Command
		return e
	}
	return &Error{Kind: "spout", Component: sp.compID, Command: sp.opts.Command, Pid: pid, Err: err, Stderr: tail}
}

func (sp *Spout) report(err error) {
	var e *Error
	if !errors.As(err, &e) {
		pid := 0
		if sp.s != nil {
			pid = sp.s.proc.Pid()
		}
		err = sp.wrap(pid, nil, err)
	}
	sp.out.ReportError(err) // the runtime logs it: logging here too wrote it twice
}
