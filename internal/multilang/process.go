package multilang

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Proc is one running subprocess as the shell components see it. The
// production implementation is returned by Start; tests substitute
// in-memory fakes.
type Proc interface {
	// Stdin is the subprocess's standard input.
	Stdin() io.WriteCloser
	// Stdout is the subprocess's standard output.
	Stdout() io.ReadCloser
	// Pid is the process id (of the process group leader).
	Pid() int
	// Signal asks the process group to terminate (SIGTERM); Kill kills it
	// (SIGKILL). Both are idempotent and safe to call concurrently.
	Signal()
	Kill()
	// Exited is closed when the process has exited; ExitErr then tells
	// how (nil for exit status 0).
	Exited() <-chan struct{}
	ExitErr() error
	// StderrTail returns the last lines the process wrote to stderr.
	StderrTail() []string
	// Close kills the process group if it still runs, waits for it and
	// for the goroutines the Proc owns, and closes the pipes. Idempotent.
	Close() error
}

// Spec says how to start a subprocess.
type Spec struct {
	// Command is the program and its arguments. A program without a
	// slash is looked up in PATH; a relative path is relative to Dir.
	Command []string
	// Dir is the working directory; empty means Gale's.
	Dir string
	// Env adds to (and overrides) Gale's environment.
	Env map[string]string
	// Logger receives the subprocess's stderr, one record per line.
	Logger *slog.Logger
}

// Starter starts a subprocess. Start is the production one.
type Starter func(Spec) (Proc, error)

// stderrTailLines is how many of the last stderr lines a Proc keeps for
// error messages; stderrLineBytes bounds each line kept.
const (
	stderrTailLines = 10
	stderrLineBytes = 1024
)

// errorMarker matches a stderr line that says what went wrong: Node's
// "Error: boom" or "TypeError: x", Python's "Traceback ..." and
// "ValueError: x", Java's "...Exception: x", Go's "panic: x".
var errorMarker = regexp.MustCompile(`^\s*(Traceback \(|[\w.$]*(Error|Exception)\b|panic: |fatal error: |Uncaught )`)

// stderrTail keeps the last stderrTailLines lines of a stderr, and the
// latest line matching errorMarker that has left them: Node prints the
// "Error:" line of an uncaught exception above its stack, more than 10
// lines before the end. Memory is bounded (lines are cut at
// stderrLineBytes).
type stderrTail struct {
	last   []string
	marker string // the latest error line no longer in last
}

func (t *stderrTail) add(line string) {
	if len(line) > stderrLineBytes {
		line = line[:stderrLineBytes] + "..."
	}
	if len(t.last) == stderrTailLines {
		if out := t.last[0]; errorMarker.MatchString(out) {
			t.marker = out
		}
		t.last = append(t.last[:0], t.last[1:]...)
	}
	t.last = append(t.last, line)
}

// lines returns the error line (when it left the last lines, then "...")
// and the last lines.
func (t *stderrTail) lines() []string {
	var out []string
	if t.marker != "" {
		out = append(out, t.marker, "...")
	}
	return append(out, t.last...)
}

// pipeGrace is how long Close waits, once the process has exited, for
// stray descendants that escaped the process group to release the pipes
// before it closes them itself.
const pipeGrace = time.Second

type execProc struct {
	cmd    *exec.Cmd
	stdin  *os.File
	stdout *os.File
	stderr *os.File
	logger *slog.Logger

	exited  chan struct{} // closed by the waiter goroutine
	exitErr error         // set before exited is closed

	wg        sync.WaitGroup // the waiter and stderr goroutines
	closeOnce sync.Once
	closeErr  error

	mu   sync.Mutex // guards tail
	tail stderrTail
}

var _ Proc = (*execProc)(nil)

// Start starts spec's command in a process group of its own, with pipes
// for stdin, stdout and stderr. Stderr is logged line by line. Errors
// wrap ErrStart and name the command.
func Start(spec Spec) (Proc, error) {
	if len(spec.Command) == 0 || spec.Command[0] == "" {
		return nil, fmt.Errorf("%w: empty command", ErrStart)
	}
	logger := spec.Logger
	if logger == nil {
		logger = slog.Default()
	}
	cmd := exec.Command(spec.Command[0], spec.Command[1:]...)
	cmd.Dir = spec.Dir
	env := ChildEnv(os.Environ())
	for k, v := range spec.Env {
		env = append(env, k+"="+v) // later entries win
	}
	cmd.Env = env
	setProcAttr(cmd)

	p := &execProc{cmd: cmd, logger: logger, exited: make(chan struct{})}
	var childEnds []*os.File
	closeAll := func() {
		for _, f := range append(childEnds, p.stdin, p.stdout, p.stderr) {
			if f != nil {
				f.Close()
			}
		}
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrStart, spec.Command[0], err)
	}
	childEnds, p.stdin = append(childEnds, inR), inW
	outR, outW, err := os.Pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("%w: %q: %w", ErrStart, spec.Command[0], err)
	}
	childEnds, p.stdout = append(childEnds, outW), outR
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("%w: %q: %w", ErrStart, spec.Command[0], err)
	}
	childEnds, p.stderr = append(childEnds, errW), errR
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW

	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, fmt.Errorf("%w: %q: %w", ErrStart, spec.Command[0], err)
	}
	for _, f := range childEnds {
		f.Close()
	}
	p.wg.Add(2)
	go p.wait()
	go p.readStderr()
	return p, nil
}

func (p *execProc) wait() {
	defer p.wg.Done()
	p.exitErr = p.cmd.Wait()
	// Descendants still in the group are killed with their leader.
	killGroup(p.cmd.Process.Pid)
	close(p.exited)
}

func (p *execProc) readStderr() {
	defer p.wg.Done()
	sc := bufio.NewScanner(p.stderr)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	pid := p.cmd.Process.Pid
	for sc.Scan() {
		line := sc.Text()
		p.logger.Info("subprocess stderr", "pid", pid, "line", line)
		p.mu.Lock()
		p.tail.add(line)
		p.mu.Unlock()
	}
	if err := sc.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		p.logger.Warn("subprocess stderr", "pid", pid, "err", err)
	}
}

func (p *execProc) Stdin() io.WriteCloser { return p.stdin }
func (p *execProc) Stdout() io.ReadCloser { return p.stdout }
func (p *execProc) Pid() int              { return p.cmd.Process.Pid }
func (p *execProc) Exited() <-chan struct{} {
	return p.exited
}

func (p *execProc) ExitErr() error {
	select {
	case <-p.exited:
		return p.exitErr
	default:
		return nil
	}
}

func (p *execProc) Signal() { signalGroup(p.cmd.Process.Pid) }
func (p *execProc) Kill()   { killGroup(p.cmd.Process.Pid) }

func (p *execProc) StderrTail() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tail.lines()
}

func (p *execProc) Close() error {
	p.closeOnce.Do(func() {
		p.Kill()
		<-p.exited
		p.stdin.Close()
		// Let the stderr reader drain what the process wrote last; close
		// the pipe if a descendant outside the group still holds it.
		drained := make(chan struct{})
		go func() { p.wg.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(pipeGrace):
			p.stderr.Close()
			<-drained
		}
		p.stderr.Close()
		p.stdout.Close()
		p.closeErr = p.exitErr
	})
	return p.closeErr
}

// ChildEnv is environ without Gale's secrets: a subprocess (any code a
// topology names) gets neither the API token nor the cluster key, nor any
// GALE_ variable whose name says it is a secret (TOKEN, KEY, SECRET,
// PASSWORD). A topology's own "env" entries are added after.
func ChildEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if isSecretVar(name) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func isSecretVar(name string) bool {
	up := strings.ToUpper(name)
	if !strings.HasPrefix(up, "GALE_") {
		return false
	}
	for _, w := range []string{"TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"} {
		if strings.Contains(up, w) {
			return true
		}
	}
	return false
}
