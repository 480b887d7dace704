package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gale-stream/gale/bench/peers"
)

// Engine is one of the compared engines and its runner.
type Engine struct {
	Name   string `json:"name"`
	Runner string `json:"runner"`
	// RunnerCommit is the git commit of the runner's checkout.
	RunnerCommit string `json:"runner_commit,omitempty"`
	// Config is what the driver knows of the engine's settings; Reported
	// is the runner's own "CONFIG ..." line, when it prints one.
	Config   map[string]any `json:"config"`
	Reported any            `json:"config_reported,omitempty"`
	BuildS   float64        `json:"build_s"`
	BuildErr string         `json:"build_error,omitempty"`
	// build builds the runner; nil: run.sh build.
	build func(ctx context.Context, log io.Writer) error
}

// Build builds the engine's runner, its output in logPath.
func (e *Engine) Build(ctx context.Context, logPath string) error {
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	defer func() { e.BuildS = time.Since(start).Seconds() }()
	if e.build != nil {
		return e.build(ctx, f)
	}
	if _, err := os.Stat(e.Runner); err != nil {
		return fmt.Errorf("runner %s: %w", e.Runner, err)
	}
	cmd := exec.CommandContext(ctx, e.Runner, "build")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s build: %w (log: %s)", e.Runner, err, logPath)
	}
	return nil
}

// Proc is a running engine: the runner's process (the JVM itself for the
// peers, which exec java; galepeer for Gale) in a process group of its own.
type Proc struct {
	cmd     *exec.Cmd
	Start   time.Time
	running chan struct{}
	runAt   time.Time
	exited  chan struct{}
	waitErr error
	log     *os.File
	config  string // the CONFIG line's payload

	mu      sync.Mutex
	maxRSS  int64
	last    peers.TreeUsage
	samples int
	tail    []string // the last lines of output, for errors
}

// StartEngine starts e's runner in mode kafka-files with args, its stdout
// and stderr in logPath.
func StartEngine(e *Engine, args []string, logPath string) (*Proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "# %s kafka-files %s\n", e.Runner, strings.Join(args, " "))
	cmd := exec.Command(e.Runner, append([]string{"kafka-files"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	p := &Proc{cmd: cmd, running: make(chan struct{}), exited: make(chan struct{}), log: logf}
	p.Start = time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", e.Runner, err)
	}
	var readDone sync.WaitGroup
	readDone.Add(1)
	go func() {
		defer readDone.Done()
		p.readStdout(out)
	}()
	go func() {
		readDone.Wait()
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	go p.sample()
	return p, nil
}

func (p *Proc) readStdout(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	seen := false
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintf(p.log, "stdout: %s\n", line)
		p.mu.Lock()
		p.tail = append(p.tail, line)
		if len(p.tail) > 20 {
			p.tail = p.tail[1:]
		}
		p.mu.Unlock()
		t := strings.TrimSpace(line)
		switch {
		case !seen && (t == "RUNNING" || strings.HasPrefix(t, "RUNNING ")):
			seen = true
			p.runAt = time.Now()
			close(p.running)
		case strings.HasPrefix(t, "CONFIG "):
			p.mu.Lock()
			p.config = strings.TrimPrefix(t, "CONFIG ")
			p.mu.Unlock()
		}
	}
	io.Copy(io.Discard, r)
}

// sample reads the process tree's CPU and resident set every 200 ms.
func (p *Proc) sample() {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		p.Usage()
		select {
		case <-p.exited:
			return
		case <-t.C:
		}
	}
}

// Usage reads the process tree's usage now (the last one read once the
// process is gone), and keeps the largest resident set seen.
func (p *Proc) Usage() peers.TreeUsage {
	u, err := peers.ReadTree(p.cmd.Process.Pid)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		return p.last
	}
	p.samples++
	p.last = u
	p.maxRSS = max(p.maxRSS, u.RSSBytes)
	return u
}

// PeakRSSMiB is the larger of the process's VmHWM (read now) and the
// largest sampled resident set of its tree.
func (p *Proc) PeakRSSMiB() (peak, hwm, sampled float64) {
	p.Usage()
	kb, err := peers.StatusKB(p.cmd.Process.Pid, "VmHWM")
	p.mu.Lock()
	sampled = float64(p.maxRSS) / (1 << 20)
	p.mu.Unlock()
	if err == nil {
		hwm = float64(kb) / 1024
	}
	return max(hwm, sampled), hwm, sampled
}

// Config is the payload of the runner's CONFIG line ("" when none).
func (p *Proc) Config() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.config
}

// Tail is the last lines of the runner's stdout.
func (p *Proc) Tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// WaitRunning waits for the RUNNING line.
func (p *Proc) WaitRunning(ctx context.Context, timeout time.Duration) error {
	select {
	case <-p.running:
		return nil
	case <-p.exited:
		return fmt.Errorf("exited before printing RUNNING (%v); see %s", p.waitErr, p.log.Name())
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(timeout):
		return fmt.Errorf("no RUNNING line after %v; see %s", timeout, p.log.Name())
	}
}

// Exited reports whether the process has ended, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.exited:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Stop sends SIGTERM to the runner and waits up to timeout for it to
// exit, then kills its process group. It returns how long the exit took.
func (p *Proc) Stop(timeout time.Duration) (time.Duration, error) {
	defer p.log.Close()
	start := time.Now()
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGTERM)
	var err error
	select {
	case <-p.exited:
	case <-time.After(timeout):
		err = fmt.Errorf("still running %v after SIGTERM: killed", timeout)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.exited
	}
	took := time.Since(start)
	// anything the runner left behind in its group
	if syscall.Kill(-pid, 0) == nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	fmt.Fprintf(p.log, "# stopped after %v: %v\n", took.Round(time.Millisecond), p.waitErr)
	return took, err
}

// logPath names a step's log file.
func logPath(dir string, parts ...string) string {
	return filepath.Join(dir, strings.Join(parts, "-")+".log")
}

var errStalled = errors.New("stalled")
