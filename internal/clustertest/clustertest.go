// Package clustertest starts the gale binary as separate worker processes
// on 127.0.0.1, for the end-to-end tests and benchmarks of the cluster.
package clustertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
)

var (
	mu    sync.Mutex
	built = map[string]string{} // tags -> binary
)

// RepoRoot is the module root.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Gale builds the gale binary once per process and build tags.
func Gale(tb testing.TB, tags string) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if bin, ok := built[tags]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "gale-bin-")
	if err != nil {
		tb.Fatal(err)
	}
	bin := filepath.Join(dir, "gale")
	args := []string{"build", "-o", bin}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, "./cmd/gale")...)
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/gale: %v\n%s", err, out)
	}
	built[tags] = bin
	return bin
}

// FreePort returns a TCP port free on 127.0.0.1 (at the time of asking).
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Worker is one `gale worker` process.
type Worker struct {
	Name, Gossip, HTTP string
	Cmd                *exec.Cmd
	Log                string
	// Env is added to the process's environment (at every start).
	Env []string

	bin, dir string
	args     []string
}

// Token is the API token the workers of StartWorker require.
const Token = "s3cret"

// StartWorker starts `gale worker` (binary bin) named name in dir, joining
// join (empty: a new cluster); it stops at the end of the test.
func StartWorker(tb testing.TB, bin, dir, name, join string, extra ...string) *Worker {
	tb.Helper()
	return StartWorkerEnv(tb, bin, dir, name, join, nil, extra...)
}

// StartWorkerEnv is StartWorker with env added to the worker's
// environment (e.g. internal/wallclock's GALE_TEST_CLOCK_SKEW).
func StartWorkerEnv(tb testing.TB, bin, dir, name, join string, env []string, extra ...string) *Worker {
	tb.Helper()
	g := FreePort(tb)
	// the transport takes the port after the gossip port: find a free pair
	for {
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", g+1)); err == nil {
			l.Close()
			break
		}
		g = FreePort(tb)
	}
	w := &Worker{Name: name, Gossip: fmt.Sprintf("127.0.0.1:%d", g), HTTP: fmt.Sprintf("127.0.0.1:%d", FreePort(tb)),
		Log: filepath.Join(dir, name+".log"), Env: env}
	args := []string{"worker", "--name", name, "--bind", w.Gossip, "--http", w.HTTP, "--data-dir", filepath.Join(dir, "data")}
	if join != "" {
		args = append(args, "--join", join)
	}
	w.bin, w.dir, w.args = bin, dir, append(args, extra...)
	w.start(tb)
	return w
}

// Restart starts the worker again with the same name and addresses (after
// it died), joining join.
func (w *Worker) Restart(tb testing.TB, join string) {
	tb.Helper()
	args := slices.Clone(w.args)
	if i := slices.Index(args, "--join"); i >= 0 {
		args[i+1] = join
	} else {
		args = append(args, "--join", join)
	}
	w.args = args
	w.start(tb)
}

func (w *Worker) start(tb testing.TB) {
	tb.Helper()
	f, err := os.OpenFile(w.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(w.bin, w.args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = w.dir, f, f
	cmd.Env = append(append(os.Environ(), "GALE_AUTH_TOKEN="+Token), w.Env...)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	w.Cmd = cmd
	tb.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
			}
		}
		f.Close()
	})
}

// Client is an API client of w with the workers' token.
func (w *Worker) Client() *api.Client { return &api.Client{Base: "http://" + w.HTTP, Token: Token} }

// Eventually polls cond every 100 ms until it holds, failing the test after
// limit; it returns how long it took.
func Eventually(tb testing.TB, what string, limit time.Duration, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			tb.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

// WaitMembers waits until the API lists n live workers.
func WaitMembers(tb testing.TB, c *api.Client, n int) {
	tb.Helper()
	Eventually(tb, fmt.Sprintf("%d live members", n), 30*time.Second, func() bool {
		ms, err := c.Members(context.Background())
		alive := 0
		for _, m := range ms {
			if m.State == "alive" {
				alive++
			}
		}
		return err == nil && alive == n
	})
}
