package builtin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Stdin is the path that makes the lines spout read standard input.
const Stdin = "-"

// LinesConfig configures the "lines" spout.
type LinesConfig struct {
	// Path is the file to read, or "-" for standard input. Required.
	Path string `json:"path"`
	// Follow keeps polling the file for lines appended after its end, like
	// tail -f, instead of stopping at the end. Files only; truncation and
	// rotation are not detected.
	Follow bool `json:"follow"`
	// Poll is how often a followed file is checked for new lines at its
	// end (default 250ms).
	Poll topology.Duration `json:"poll"`
	// Reliable emits with message ids and replays failed lines (default
	// true). The text of every pending line is kept in memory until it is
	// acked.
	Reliable bool `json:"reliable"`
}

// NewLinesConfig returns the defaults.
func NewLinesConfig() *LinesConfig {
	return &LinesConfig{Poll: topology.Duration(250 * time.Millisecond), Reliable: true}
}

// Validate checks the settings.
func (c *LinesConfig) Validate() error {
	switch {
	case c.Path == "":
		return fmt.Errorf("%w: path: want a file path or %q for stdin", ErrInvalidConfig, Stdin)
	case c.Follow && c.Path == Stdin:
		return fmt.Errorf("%w: follow: applies to files, not to stdin", ErrInvalidConfig)
	case c.Poll <= 0:
		return fmt.Errorf("%w: poll: want a positive duration, got %s", ErrInvalidConfig, time.Duration(c.Poll))
	}
	return nil
}

// LinesType is the "lines" spout type.
func LinesType() registry.Spout[LinesConfig] {
	return registry.Spout[LinesConfig]{
		Name:    "lines",
		Doc:     "emits one tuple per line of a file (or stdin with path \"-\"), optionally following it",
		Config:  NewLinesConfig,
		Outputs: registry.Emits("line"),
		New:     func(c *LinesConfig) (spout.Spout, error) { return NewLines(c) },
	}
}

// Lines is the "lines" spout. It emits {line} with message id the line
// number (a uint64, from 1) and tuple id "<path>:<line number>". A line
// ends at "\n"; a trailing "\r" is removed; a last line without "\n" is
// emitted at the end of the file (when not following).
//
// Task k of a component with n tasks emits the lines whose number is
// ≡ k+1 (mod n); with stdin only task 0 reads and the others stop at once.
// At the end of the input, once nothing is pending, NextTuple returns an
// error wrapping spout.ErrStop, unless Follow is set.
type Lines struct {
	cfg   LinesConfig
	out   spout.Collector
	stdin io.Reader        // standard input; tests replace it
	now   func() time.Time // the clock, replaced by tests

	src     lineSource
	k, n    uint64                  // task index and count
	lineno  uint64                  // number of the last line read
	eof     bool                    // the input is exhausted (not following)
	waitEnd time.Time               // following: no read before this time
	pending map[uint64]*pendingLine // emitted and not acked
	replay  []uint64                // failed line numbers, to emit first

	emitted, acked, failed, replayed atomic.Uint64
}

// pendingLine is a line emitted and not acked yet.
type pendingLine struct {
	text   string
	queued bool // failed, waiting in Lines.replay
}

var _ spout.Spout = (*Lines)(nil)

// NewLines returns a lines spout for cfg, which is validated. The file is
// opened by Open.
func NewLines(cfg *LinesConfig) (*Lines, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Lines{cfg: *cfg, stdin: os.Stdin, now: time.Now, n: 1, pending: map[uint64]*pendingLine{}}, nil
}

// Open opens the file (a missing file is an error naming its path) or
// starts reading stdin.
func (l *Lines) Open(_ context.Context, tc *topology.TaskContext, out spout.Collector) error {
	l.out = out
	l.k, l.n = taskShare(tc)
	if l.cfg.Path == Stdin {
		if l.k != 0 {
			l.eof = true
			return nil
		}
		l.src = newReaderSource(l.stdin)
		return nil
	}
	f, err := os.Open(l.cfg.Path)
	if err != nil {
		return fmt.Errorf("lines: open %q: %w", l.cfg.Path, err)
	}
	l.src = &fileSource{f: f, r: bufio.NewReaderSize(f, 64<<10), follow: l.cfg.Follow}
	return nil
}

// NextTuple emits one line: a replay when one is due, else the next line
// of this task.
func (l *Lines) NextTuple(context.Context) error {
	if len(l.replay) > 0 {
		n := l.replay[0]
		l.replay = l.replay[1:]
		if len(l.replay) == 0 {
			l.replay = nil
		}
		l.emit(n, l.pending[n].text)
		l.replayed.Add(1)
		return nil
	}
	if l.eof {
		if len(l.pending) == 0 {
			return fmt.Errorf("lines: end of %q after %d lines: %w", l.cfg.Path, l.lineno, spout.ErrStop)
		}
		return nil
	}
	if !l.waitEnd.IsZero() {
		if l.now().Before(l.waitEnd) {
			return nil
		}
		l.waitEnd = time.Time{}
	}
	// Read up to n lines to find the next one of this task.
	for range l.n {
		line, ok, err := l.src.next()
		switch {
		case errors.Is(err, io.EOF):
			l.eof = true
			return nil
		case err != nil:
			return fmt.Errorf("lines: read %q after line %d: %w", l.cfg.Path, l.lineno, err)
		case !ok:
			if l.cfg.Follow {
				l.waitEnd = l.now().Add(time.Duration(l.cfg.Poll))
			}
			return nil // nothing yet
		}
		l.lineno++
		if (l.lineno-1)%l.n != l.k {
			continue
		}
		l.emit(l.lineno, line)
		l.emitted.Add(1)
		return nil
	}
	return nil
}

func (l *Lines) emit(n uint64, line string) {
	m := spout.Message{Values: tuple.Values{line}, ID: l.cfg.Path + ":" + strconv.FormatUint(n, 10)}
	if l.cfg.Reliable {
		m.MsgID = n
		l.pending[n] = &pendingLine{text: line}
	}
	l.out.Send(m)
}

// Ack forgets the line msgID.
func (l *Lines) Ack(msgID any) {
	n, ok := asUint64(msgID)
	if !ok {
		return
	}
	if p := l.pending[n]; p != nil && !p.queued {
		delete(l.pending, n)
		l.acked.Add(1)
	}
}

// Fail queues the line msgID for replay. Its text stays in memory.
func (l *Lines) Fail(msgID any) {
	n, ok := asUint64(msgID)
	if !ok {
		return
	}
	if p := l.pending[n]; p != nil && !p.queued {
		p.queued = true
		l.replay = append(l.replay, n)
		l.failed.Add(1)
	}
}

// Close closes the file, or stops reading stdin.
func (l *Lines) Close() error {
	if l.src == nil {
		return nil
	}
	err := l.src.close()
	l.src = nil
	if err != nil {
		return fmt.Errorf("lines: close %q: %w", l.cfg.Path, err)
	}
	return nil
}

// Emitted returns the number of lines emitted (replays excluded).
func (l *Lines) Emitted() uint64 { return l.emitted.Load() }

// Acked returns the number of lines acked.
func (l *Lines) Acked() uint64 { return l.acked.Load() }

// Failed returns the number of failures reported.
func (l *Lines) Failed() uint64 { return l.failed.Load() }

// Replayed returns the number of lines emitted again after a failure.
func (l *Lines) Replayed() uint64 { return l.replayed.Load() }

// lineSource yields lines without blocking for long.
type lineSource interface {
	// next returns the next line (ok), or nothing yet (!ok, nil error),
	// or io.EOF at the end, or a read error.
	next() (line string, ok bool, err error)
	close() error
}

// fileSource reads a regular file. At its end it reports io.EOF, or when
// following it keeps the incomplete last line and reports nothing yet.
type fileSource struct {
	f       *os.File
	r       *bufio.Reader
	follow  bool
	partial []byte // following: start of a line without its "\n" yet
}

func (s *fileSource) next() (string, bool, error) {
	b, err := s.r.ReadBytes('\n')
	if err == nil {
		if len(s.partial) > 0 {
			b = append(s.partial, b...)
			s.partial = nil
		}
		return trimEOL(b), true, nil
	}
	if !errors.Is(err, io.EOF) {
		return "", false, err
	}
	if s.follow {
		s.partial = append(s.partial, b...)
		return "", false, nil
	}
	if len(b) > 0 {
		return trimEOL(b), true, nil // last line without "\n"
	}
	return "", false, io.EOF
}

func (s *fileSource) close() error { return s.f.Close() }

func trimEOL(b []byte) string {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return string(b)
}

// readerSource reads a stream that may block (stdin) in a goroutine of
// its own and hands lines over through a channel.
type readerSource struct {
	r      io.Reader
	lines  chan lineOrErr
	done   chan struct{} // closed by close
	exited chan struct{} // closed when the goroutine returns
	ended  bool          // io.EOF or an error was delivered
}

type lineOrErr struct {
	line string
	err  error
}

func newReaderSource(r io.Reader) *readerSource {
	s := &readerSource{r: r, lines: make(chan lineOrErr, 1024),
		done: make(chan struct{}), exited: make(chan struct{})}
	go s.read()
	return s
}

func (s *readerSource) read() {
	defer close(s.exited)
	br := bufio.NewReaderSize(s.r, 64<<10)
	for {
		b, err := br.ReadBytes('\n')
		var m lineOrErr
		switch {
		case err == nil || errors.Is(err, io.EOF) && len(b) > 0:
			m.line = trimEOL(b)
		default:
			m.err = err
		}
		select {
		case s.lines <- m:
		case <-s.done:
			return
		}
		if m.err != nil {
			return
		}
		if err != nil { // the last line had no "\n": report the end next
			select {
			case s.lines <- lineOrErr{err: io.EOF}:
			case <-s.done:
			}
			return
		}
	}
}

func (s *readerSource) next() (string, bool, error) {
	if s.ended {
		return "", false, io.EOF
	}
	select {
	case m := <-s.lines:
		if m.err != nil {
			s.ended = true
			return "", false, m.err
		}
		return m.line, true, nil
	default:
		return "", false, nil
	}
}

// close stops the reading goroutine and waits for it when it can be
// interrupted: always for readers that are not files (they return), and
// for a file (stdin) that supports read deadlines. A read of a blocking
// stdin cannot be interrupted in Go: that goroutine then ends with the
// next line or the end of stdin.
func (s *readerSource) close() error {
	close(s.done)
	f, isFile := s.r.(*os.File)
	if !isFile {
		<-s.exited
		return nil
	}
	if f.SetReadDeadline(time.Now()) == nil {
		<-s.exited
		_ = f.SetReadDeadline(time.Time{})
	}
	return nil
}
