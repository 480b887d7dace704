// Package clustertest starts the gale binary as separate worker processes
// on 127.0.0.1, for the end-to-end tests and benchmarks of the cluster.
package clustertest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/galetest"
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
	return build(tb, tags, "")
}

// GaleVersion builds the gale binary saying it is version version (as a
// release build would): a new binary for a rolling upgrade.
func GaleVersion(tb testing.TB, version string) string {
	tb.Helper()
	return build(tb, "", version)
}

func build(tb testing.TB, tags, version string) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if bin, ok := built[tags+"|"+version]; ok {
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
	if version != "" {
		args = append(args, "-ldflags", "-X github.com/gale-stream/gale/cli.Version="+version)
	}
	cmd := exec.Command("go", append(args, "./cmd/gale")...)
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/gale: %v\n%s", err, out)
	}
	built[tags+"|"+version] = bin
	return bin
}

// FreePort returns a port free on 127.0.0.1 for TCP and UDP (at the time
// of asking), below Linux's ephemeral range (32768 up): a restarted
// worker takes its old ports again, and a port of that range may have
// become the local end of some outgoing connection meanwhile ("address
// already in use" at the restart, seen once in TestStatefulCount_Kills).
func FreePort(tb testing.TB) int {
	tb.Helper()
	for range 1000 {
		port := 20000 + rand.IntN(12700)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	tb.Fatal("no free port in 20000-32699 on 127.0.0.1")
	return 0
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
	wrap     []string // a command that runs the worker (ip netns exec NS)
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
	// the ports are free when chosen, not necessarily when the worker
	// binds them (parallel test packages start processes too): a worker
	// that could not bind is started again on other ports
	for attempt := 1; ; attempt++ {
		w, err := launch(tb, bin, dir, name, join, env, extra)
		if err == nil {
			return w
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			tb.Fatal(err)
		}
		tb.Logf("%v; trying other ports", err)
	}
}

// StartFailingWorker starts a worker that is expected to exit at its start
// (bad flags, a wrong gossip key): it returns the error saying how it
// exited, with the end of its log, or nil if it started after all.
func StartFailingWorker(tb testing.TB, bin, dir, name, join string, extra ...string) error {
	tb.Helper()
	return StartFailingWorkerEnv(tb, bin, dir, name, join, nil, extra...)
}

// StartFailingWorkerEnv is StartFailingWorker with env added to the
// worker's environment ("GALE_AUTH_TOKEN=" starts it without a token).
func StartFailingWorkerEnv(tb testing.TB, bin, dir, name, join string, env []string, extra ...string) error {
	tb.Helper()
	_, err := launch(tb, bin, dir, name, join, env, extra)
	return err
}

// At says where StartWorkerAt runs a worker: through Wrap, a command that
// runs the worker's command line elsewhere (ip netns exec NS, for a host
// of package netns), on the addresses Gossip and HTTP, with Env added to
// its environment.
type At struct {
	Wrap         []string
	Gossip, HTTP string
	Env          []string
}

// StartWorkerAt starts `gale worker` (binary bin) named name in dir, as at
// says, joining join (empty: a new cluster); it stops at the end of the
// test. Its data directory is dir/NAME-data.
func StartWorkerAt(tb testing.TB, bin, dir, name, join string, at At, extra ...string) *Worker {
	tb.Helper()
	w := &Worker{Name: name, Log: filepath.Join(dir, name+".log"), Env: at.Env, bin: bin, dir: dir, wrap: at.Wrap,
		Gossip: at.Gossip, HTTP: at.HTTP}
	args := []string{"worker", "--name", name, "--bind", w.Gossip, "--http", w.HTTP, "--data-dir", filepath.Join(dir, name+"-data")}
	if join != "" {
		args = append(args, "--join", join)
	}
	w.args = append(args, extra...)
	if err := w.start(tb); err != nil {
		tb.Fatal(err)
	}
	return w
}

// launch starts a worker on free ports and waits until it serves.
func launch(tb testing.TB, bin, dir, name, join string, env, extra []string) (*Worker, error) {
	tb.Helper()
	w := &Worker{Name: name, Log: filepath.Join(dir, name+".log"), Env: env, bin: bin, dir: dir}
	g := FreePort(tb)
	// the transport takes the port after the gossip port: find a free pair
	for {
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", g+1)); err == nil {
			l.Close()
			break
		}
		g = FreePort(tb)
	}
	w.Gossip, w.HTTP = fmt.Sprintf("127.0.0.1:%d", g), fmt.Sprintf("127.0.0.1:%d", FreePort(tb))
	args := []string{"worker", "--name", name, "--bind", w.Gossip, "--data-dir", filepath.Join(dir, "data")}
	if i := slices.Index(extra, "--http"); i >= 0 && i+1 < len(extra) {
		// the caller's API address (such as 0.0.0.0:PORT): reached through loopback
		_, port, err := net.SplitHostPort(extra[i+1])
		if err != nil {
			tb.Fatalf("--http %s: %v", extra[i+1], err)
		}
		w.HTTP = "127.0.0.1:" + port
	} else {
		args = append(args, "--http", w.HTTP)
	}
	if join != "" {
		args = append(args, "--join", join)
	}
	w.args = append(args, extra...)
	return w, w.start(tb)
}

// SetBinary makes the worker's next (re)start run bin.
func (w *Worker) SetBinary(bin string) { w.bin = bin }

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
	if err := w.start(tb); err != nil {
		tb.Fatal(err)
	}
}

// start starts the process and waits until its API answers; it returns
// an error, with the end of the worker's log, when the process exits
// first.
func (w *Worker) start(tb testing.TB) error {
	tb.Helper()
	f, err := os.OpenFile(w.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	argv := append(slices.Clone(w.wrap), w.bin)
	argv = append(argv, w.args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = w.dir, f, f
	cmd.Env = append(append(os.Environ(), "GALE_AUTH_TOKEN="+Token), w.Env...)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	w.Cmd = cmd
	stopAll := stopTogether(tb, cmd)
	tb.Cleanup(func() {
		if cmd.ProcessState == nil {
			stopAll()
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
			}
		}
		f.Close()
		if tb.Failed() {
			tb.Logf("the end of worker %s's log (%s):\n%s", w.Name, w.Log, logTail(w.Log, 40))
		}
	})
	c := &api.Client{Base: "http://" + w.HTTP, Token: Token, HTTP: &http.Client{Timeout: time.Second}}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := c.Info(context.Background()); err == nil {
			return nil
		}
		if exited(cmd.Process.Pid) {
			cmd.Wait()
			return fmt.Errorf("worker %s exited at its start (%v):\n%s", w.Name, cmd.ProcessState, logTail(w.Log, 20))
		}
	}
	return fmt.Errorf("worker %s: its API at %s did not answer within 30 s:\n%s", w.Name, w.HTTP, logTail(w.Log, 20))
}

// stopGroups are the worker processes started by each test, stopped
// together at its end: a worker told to stop alone would first hand its
// tasks over to the others (a graceful leave), one after the other; all
// leaving at once, each drains what it runs.
var stopGroups sync.Map // testing.TB -> *stopGroup

type stopGroup struct {
	mu   sync.Mutex
	cmds []*exec.Cmd
	done bool
}

// stopTogether adds cmd to tb's group and returns the function that sends
// SIGTERM to every process of the group (once).
func stopTogether(tb testing.TB, cmd *exec.Cmd) func() {
	v, _ := stopGroups.LoadOrStore(tb, &stopGroup{})
	g := v.(*stopGroup)
	g.mu.Lock()
	g.cmds = append(g.cmds, cmd)
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.done {
			return
		}
		g.done = true
		stopGroups.Delete(tb)
		for _, c := range g.cmds {
			c.Process.Signal(syscall.SIGTERM) // an exited one: os.ErrProcessDone
		}
	}
}

// exited reports whether process pid is gone or a zombie (Linux).
func exited(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// logTail returns the last n lines of file path.
func logTail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Client is an API client of w with the workers' token.
func (w *Worker) Client() *api.Client { return &api.Client{Base: "http://" + w.HTTP, Token: Token} }

// WaitMembers waits until the API lists n live workers.
func WaitMembers(tb testing.TB, c *api.Client, n int) {
	tb.Helper()
	galetest.Eventually(tb, fmt.Sprintf("%d live members", n), 30*time.Second, func() bool {
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
