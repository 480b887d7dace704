package multilang

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// frameResult is one read of the pump.
type frameResult struct {
	f   Frame
	err error
}

// session is one incarnation of the subprocess: a started process that
// completed the handshake, and the goroutines that serve it.
type session struct {
	proc    Proc
	pid     int    // as the subprocess reported it
	gen     uint64 // incarnation number, from 1
	started time.Time

	frames   chan frameResult // from the pump; closed when it returns
	stop     chan struct{}    // closed by the owner to release the pump
	pumpDone chan struct{}

	dead    chan struct{} // closed by die
	dieOnce sync.Once
	cause   error // why the session died; set before dead is closed

	wg sync.WaitGroup // the owner's per-session goroutines besides the pump
}

// startSession starts a subprocess, writes the handshake and waits (up to
// the handshake timeout) for {"pid": N}. Junk printed before the pid is
// passed to onJunk. On failure everything started is torn down and the
// error wraps ErrStart or ErrHandshake.
func startSession(o *Options, spec Spec, hs Handshake, gen uint64, onJunk func([]string)) (*session, error) {
	proc, err := o.Start(spec)
	if err != nil {
		return nil, &Error{Err: err}
	}
	s := &session{
		proc:     proc,
		gen:      gen,
		started:  time.Now(),
		frames:   make(chan frameResult, 16),
		stop:     make(chan struct{}),
		pumpDone: make(chan struct{}),
		dead:     make(chan struct{}),
	}
	go s.pump(NewReader(proc.Stdout(), o.MaxMessageSize))

	fail := func(err error) (*session, error) {
		s.die(err)
		s.close()
		return nil, &Error{Pid: proc.Pid(), Err: fmt.Errorf("%w: %w", ErrHandshake, s.cause), Stderr: proc.StderrTail()}
	}
	w := NewWriter(proc.Stdin())
	timeout := o.handshakeTimeout()
	setWriteDeadline(proc.Stdin(), time.Now().Add(timeout))
	if err := w.WriteHandshake(hs); err != nil {
		return fail(s.exitCause(fmt.Errorf("%w: %w", ErrBrokenPipe, err)))
	}
	if err := w.Flush(); err != nil {
		return fail(s.exitCause(fmt.Errorf("%w: %w", ErrBrokenPipe, err)))
	}
	setWriteDeadline(proc.Stdin(), time.Time{})
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case fr, ok := <-s.frames:
			if !ok {
				return fail(s.exitCause(io.EOF))
			}
			if fr.err != nil {
				return fail(s.exitCause(fr.err))
			}
			if len(fr.f.Junk) > 0 && onJunk != nil {
				onJunk(fr.f.Junk)
			}
			if fr.f.JSON == nil {
				continue
			}
			pid, err := ParsePid(fr.f.JSON)
			if err != nil {
				return fail(err)
			}
			s.pid = pid
			return s, nil
		case <-timer.C:
			return fail(fmt.Errorf("no pid within %v", timeout))
		}
	}
}

// pump reads frames into s.frames until an error, then closes it.
func (s *session) pump(r *Reader) {
	defer close(s.pumpDone)
	defer close(s.frames)
	for {
		f, err := r.Next()
		select {
		case s.frames <- frameResult{f, err}:
		case <-s.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// die records the cause of the session's end (the first one wins) and
// kills the process group.
func (s *session) die(cause error) {
	s.dieOnce.Do(func() {
		s.cause = cause
		close(s.dead)
		s.proc.Kill()
	})
}

// isDead reports whether die was called.
func (s *session) isDead() bool {
	select {
	case <-s.dead:
		return true
	default:
		return false
	}
}

// close tears the session down after die: it waits for the owner's
// goroutines, the process and its stderr, then releases the pump.
func (s *session) close() {
	s.die(ErrClosed) // no-op when already dead
	s.wg.Wait()
	_ = s.proc.Close()
	close(s.stop)
	<-s.pumpDone
}

// exitCause turns a read or write failure into the error to report: when
// the process has exited (it is given a moment to) the error wraps
// ErrExited and says the exit status, whichever of the end of stdout or a
// broken stdin was noticed first.
func (s *session) exitCause(err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, os.ErrClosed),
		errors.Is(err, ErrBrokenPipe), errors.Is(err, ErrExited):
	default:
		return err // malformed, too large...
	}
	select {
	case <-s.proc.Exited():
	case <-time.After(pipeGrace):
	}
	select {
	case <-s.proc.Exited():
	default: // it closed stdin or stdout but still runs
		if errors.Is(err, ErrBrokenPipe) {
			return err
		}
		return fmt.Errorf("%w (closed its stdout, still running): %w", ErrExited, err)
	}
	status := "exit status 0"
	if e := s.proc.ExitErr(); e != nil {
		status = e.Error()
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, ErrExited):
		return fmt.Errorf("%w (%s)", ErrExited, status)
	default: // a broken pipe, or stdout ended inside a message
		return fmt.Errorf("%w (%s): %w", ErrExited, status, err)
	}
}

// setWriteDeadline sets a write deadline on w when it supports one (pipes
// from os.Pipe do), so that a subprocess that never reads its stdin
// cannot block a synchronous write forever.
func setWriteDeadline(w io.Writer, t time.Time) {
	if d, ok := w.(interface{ SetWriteDeadline(time.Time) error }); ok {
		_ = d.SetWriteDeadline(t)
	}
}
