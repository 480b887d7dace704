package shell_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt/shell"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/multilang/multilangtest"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

func example(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "examples", "multilang", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func taskContext(id string, streams topology.Streams, logs *galetest.Buffer) *topology.TaskContext {
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("component", id)
	return &topology.TaskContext{
		Component:      &topology.Component{ID: id, Type: shell.TypeName, Streams: streams},
		TaskID:         2,
		ComponentTasks: map[string][]int{"sentences": {1}, id: {2}},
		Logger:         logger,
	}
}

type harness struct {
	t    *testing.T
	b    *shell.Bolt
	out  *galetest.BoltCollector
	logs *galetest.Buffer
}

func start(t *testing.T, cfg *shell.Config, streams topology.Streams) *harness {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := shell.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, b: b, out: &galetest.BoltCollector{TaskIDs: []int{7, 8}}, logs: &galetest.Buffer{}}
	if err := b.Prepare(context.Background(), taskContext("split", streams, h.logs), h.out); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Cleanup(); err != nil {
			t.Error(err)
		}
	})
	return h
}

func config(cmd ...string) *shell.Config {
	c := shell.DefaultConfig()
	c.Command = cmd
	return c
}

func sentence(i int, s string) *tuple.Tuple {
	return &tuple.Tuple{Values: tuple.Values{s}, Fields: tuple.Fields{"sentence"}, Stream: "default",
		Component: "sentences", Task: 1, ID: "gen/" + strconv.Itoa(i)}
}

func (h *harness) execute(ts ...*tuple.Tuple) {
	h.t.Helper()
	for _, tu := range ts {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := h.b.Execute(ctx, tu)
		cancel()
		if err != nil {
			h.t.Fatalf("Execute: %v", err)
		}
	}
}

func (h *harness) settled(n int) func() bool {
	return func() bool {
		_, acked, failed, _ := h.out.Snapshot()
		return len(acked)+len(failed) >= n
	}
}

// died is settled(n) and an error reported: a bolt whose subprocess dies
// fails the tuples it had in flight, then reports why.
func (h *harness) died(n int) func() bool {
	return func() bool {
		_, acked, failed, errs := h.out.Snapshot()
		return len(acked)+len(failed) >= n && len(errs) > 0
	}
}

func words(em []galetest.Emitted) []string {
	var w []string
	for _, e := range em {
		w = append(w, tuple.AsString(e.Values[0]))
	}
	return w
}

var wordStreams = topology.Streams{"default": {"word"}}

func TestBolt_PythonSplit(t *testing.T) {
	py := multilangtest.Python(t)
	h := start(t, config(py, example(t, "splitsentence.py")), wordStreams)
	in := []*tuple.Tuple{sentence(0, "the cow jumped"), sentence(1, "over the moon"), sentence(2, "")}
	h.execute(in...)
	galetest.Eventually(t, "3 acks", 15*time.Second, h.settled(3))
	em, acked, failed, errs := h.out.Snapshot()
	if len(failed) != 0 || len(errs) != 0 {
		t.Fatalf("failed %d, errors %v", len(failed), errs)
	}
	if !slices.Equal(acked, in) {
		t.Errorf("acked %v, want the inputs in order", acked)
	}
	if got, want := words(em), []string{"the", "cow", "jumped", "over", "the", "moon"}; !slices.Equal(got, want) {
		t.Errorf("words %q, want %q", got, want)
	}
	for i, e := range em {
		want := in[i/3]
		if len(e.Anchors) != 1 || e.Anchors[0] != want || e.Stream != "default" {
			t.Errorf("emit %d: stream %q anchors %v, want anchored to input %d", i, e.Stream, e.Anchors, i/3)
		}
	}
}

func TestBolt_NodeUppercase(t *testing.T) {
	node := testenv.Command(t, "node", "nodejs")
	h := start(t, config(node, example(t, "uppercase.js")), topology.Streams{"default": {"upper"}})
	in := []*tuple.Tuple{sentence(0, "hello"), sentence(1, "wörld")}
	h.execute(in...)
	galetest.Eventually(t, "2 acks", 15*time.Second, h.settled(2))
	em, acked, failed, errs := h.out.Snapshot()
	if len(acked) != 2 || len(failed) != 0 || len(errs) != 0 {
		t.Fatalf("acked %d failed %d errors %v", len(acked), len(failed), errs)
	}
	if got := words(em); !slices.Equal(got, []string{"HELLO", "WÖRLD"}) {
		t.Errorf("emitted %q", got)
	}
	galetest.Eventually(t, "the ready log", 15*time.Second, func() bool { return strings.Contains(h.logs.String(), "uppercase ready in component split") })
}

func TestBolt_Heartbeats(t *testing.T) {
	py := multilangtest.Python(t)
	cfg := config(py, example(t, "splitsentence.py"))
	cfg.Heartbeat = topology.Duration(20 * time.Millisecond)
	cfg.HeartbeatTimeout = topology.Duration(2 * time.Second)
	h := start(t, cfg, wordStreams)
	time.Sleep(300 * time.Millisecond) // many heartbeats, all answered
	h.execute(sentence(0, "still alive"))
	galetest.Eventually(t, "1 ack", 15*time.Second, h.settled(1))
	if _, _, failed, errs := h.out.Snapshot(); len(failed)+len(errs) != 0 {
		t.Fatalf("failed %v errors %v", failed, errs)
	}
}

func TestBolt_CrashMidBatch(t *testing.T) {
	py := multilangtest.Python(t)
	cfg := config(py, example(t, "splitsentence.py"))
	marker := filepath.Join(t.TempDir(), "crashed")
	cfg.Env = map[string]string{"SPLIT_CRASH_AFTER": "5", "SPLIT_CRASH_MARKER": marker}
	cfg.RestartBackoff = shell.Backoff{Min: topology.Duration(10 * time.Millisecond), Max: topology.Duration(time.Second)}
	h := start(t, cfg, wordStreams)
	var in []*tuple.Tuple
	for i := range 20 {
		in = append(in, sentence(i, fmt.Sprintf("w%d x%d", i, i)))
	}
	h.execute(in...)
	galetest.Eventually(t, "20 tuples acked or failed, and the crash reported", 15*time.Second, h.died(20))
	_, acked, failed, errs := h.out.Snapshot()
	if len(acked) != 5 {
		t.Errorf("acked %d, want the 5 processed before the crash", len(acked))
	}
	if len(failed) != 15 {
		t.Errorf("failed %d, want 15 (in flight when the subprocess died)", len(failed))
	}
	if len(errs) != 1 || !errors.Is(errs[0], shell.ErrExited) {
		t.Fatalf("errors %v, want one ErrExited", errs)
	}
	msg := errs[0].Error()
	for _, want := range []string{`shell bolt "split"`, "splitsentence.py", "exit status 3", "crashing on purpose"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	// The restarted subprocess processes later tuples.
	later := []*tuple.Tuple{sentence(100, "after the crash"), sentence(101, "still fine")}
	h.execute(later...)
	galetest.Eventually(t, "22 settled", 15*time.Second, h.settled(22))
	_, acked, _, _ = h.out.Snapshot()
	if !slices.Equal(acked[len(acked)-2:], later) {
		t.Errorf("later tuples not acked")
	}
}

func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

func TestBolt_HangKilledAfterHeartbeatTimeout(t *testing.T) {
	py := multilangtest.Python(t)
	testenv.Command(t, "sleep", "coreutils")
	childPid := filepath.Join(t.TempDir(), "child")
	cfg := config(py, "testdata/fakebolt.py")
	cfg.Env = map[string]string{"FAKE_MODE": "hang", "FAKE_CHILD_PID": childPid}
	cfg.Heartbeat = topology.Duration(50 * time.Millisecond)
	cfg.HeartbeatTimeout = topology.Duration(400 * time.Millisecond)
	cfg.RestartBackoff = shell.Backoff{Min: topology.Duration(time.Hour), Max: topology.Duration(time.Hour)}
	h := start(t, cfg, wordStreams)
	var pid int
	galetest.Eventually(t, "the child pid", 15*time.Second, func() bool {
		b, err := os.ReadFile(childPid)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	began := time.Now()
	in := []*tuple.Tuple{sentence(0, "a"), sentence(1, "b")}
	h.execute(in...)
	galetest.Eventually(t, "2 failed, and the timeout reported", 15*time.Second, h.died(2))
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Errorf("failed after %v, before the heartbeat timeout", d)
	}
	_, acked, failed, errs := h.out.Snapshot()
	if len(acked) != 0 || len(failed) != 2 {
		t.Errorf("acked %d failed %d", len(acked), len(failed))
	}
	if len(errs) != 1 || !errors.Is(errs[0], shell.ErrHeartbeatTimeout) {
		t.Fatalf("errors %v, want ErrHeartbeatTimeout", errs)
	}
	galetest.Eventually(t, "the grandchild killed with its process group", 15*time.Second, func() bool { return processGone(pid) })
}

func TestBolt_CommandNotFound(t *testing.T) {
	b, err := shell.New(config("gale-no-such-command-xyz", "arg"))
	if err != nil {
		t.Fatal(err)
	}
	err = b.Prepare(context.Background(), taskContext("split", wordStreams, &galetest.Buffer{}), &galetest.BoltCollector{})
	if !errors.Is(err, shell.ErrStart) || !errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("err = %v, want ErrStart and exec.ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "gale-no-such-command-xyz") || !strings.Contains(err.Error(), `"split"`) {
		t.Errorf("error %q does not name the command and component", err)
	}
	if err := b.Cleanup(); err != nil {
		t.Error(err)
	}
}

func TestBolt_ExitsAtOnce(t *testing.T) {
	py := multilangtest.Python(t)
	b, err := shell.New(config(py, "-c", "import sys; sys.stderr.write('no config here\\n'); sys.exit(2)"))
	if err != nil {
		t.Fatal(err)
	}
	err = b.Prepare(context.Background(), taskContext("split", wordStreams, &galetest.Buffer{}), &galetest.BoltCollector{})
	if !errors.Is(err, shell.ErrHandshake) || !errors.Is(err, shell.ErrExited) {
		t.Fatalf("err = %v, want ErrHandshake wrapping ErrExited", err)
	}
	for _, want := range []string{py, "exit status 2", "no config here"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestBolt_MalformedJSON(t *testing.T) {
	py := multilangtest.Python(t)
	cfg := config(py, "testdata/fakebolt.py")
	cfg.Env = map[string]string{"FAKE_MODE": "malformed", "FAKE_MARKER": filepath.Join(t.TempDir(), "m")}
	cfg.RestartBackoff = shell.Backoff{Min: topology.Duration(10 * time.Millisecond), Max: topology.Duration(time.Second)}
	h := start(t, cfg, wordStreams)
	first := sentence(0, "first")
	h.execute(first)
	galetest.Eventually(t, "the first tuple failed, and the malformed message reported", 15*time.Second, h.died(1))
	_, _, failed, errs := h.out.Snapshot()
	if len(failed) != 1 || failed[0] != first {
		t.Fatalf("failed %v", failed)
	}
	if len(errs) != 1 || !errors.Is(errs[0], shell.ErrMalformed) || !strings.Contains(errs[0].Error(), `shell bolt "split"`) {
		t.Fatalf("errors %v, want ErrMalformed naming the component", errs)
	}
	second := sentence(1, "second")
	h.execute(second)
	galetest.Eventually(t, "the second tuple acked by the restarted subprocess", 15*time.Second, h.settled(2))
	if _, acked, _, _ := h.out.Snapshot(); len(acked) != 1 || acked[0] != second {
		t.Fatalf("acked %v", acked)
	}
}

func TestBolt_JunkOnStdout(t *testing.T) {
	py := multilangtest.Python(t)
	cfg := config(py, "testdata/fakebolt.py")
	cfg.Env = map[string]string{"FAKE_MODE": "junk"}
	h := start(t, cfg, wordStreams)
	in := []*tuple.Tuple{sentence(0, "a"), sentence(1, "b")}
	h.execute(in...)
	galetest.Eventually(t, "2 acks", 15*time.Second, h.settled(2))
	_, acked, failed, errs := h.out.Snapshot()
	if len(acked) != 2 || len(failed) != 0 {
		t.Fatalf("acked %d failed %d: junk must not crash the subprocess", len(acked), len(failed))
	}
	if len(errs) != 2 {
		t.Fatalf("errors %v, want one junk report per tuple", errs)
	}
	var junk *shell.JunkError
	if !errors.Is(errs[0], shell.ErrJunk) || !errors.As(errs[0], &junk) ||
		!slices.Equal(junk.Lines, []string{"hello from a stray print", "another stray line"}) {
		t.Errorf("error %v, want the junk lines", errs[0])
	}
	if strings.Contains(h.logs.String(), "started") && strings.Count(h.logs.String(), "subprocess started") != 1 {
		t.Errorf("the subprocess was restarted")
	}
}

func TestBolt_UnknownIDAndUndeclaredStream(t *testing.T) {
	py := multilangtest.Python(t)
	for _, mode := range []string{"unknown", "badstream"} {
		t.Run(mode, func(t *testing.T) {
			cfg := config(py, "testdata/fakebolt.py")
			cfg.Env = map[string]string{"FAKE_MODE": mode}
			h := start(t, cfg, wordStreams)
			h.execute(sentence(0, "a"))
			galetest.Eventually(t, "1 ack", 15*time.Second, h.settled(1))
			em, acked, _, errs := h.out.Snapshot()
			if len(acked) != 1 || len(em) != 0 {
				t.Fatalf("acked %d emitted %v", len(acked), em)
			}
			want := map[string]error{"unknown": shell.ErrUnknownID, "badstream": shell.ErrUndeclaredStream}[mode]
			if len(errs) != 1 || !errors.Is(errs[0], want) {
				t.Fatalf("errors %v, want %v", errs, want)
			}
			// reported once: the runtime logs what is reported (the bolt
			// used to log it too, so every error was logged twice)
			if strings.Contains(h.logs.String(), "shell bolt error") {
				t.Errorf("the bolt logged the error it reported:\n%s", h.logs)
			}
			if mode == "badstream" && !strings.Contains(h.logs.String(), "task ids []") {
				t.Errorf("the dropped emit got no (empty) task id reply; logs:\n%s", h.logs)
			}
		})
	}
}

// TestBolt_MaxPendingCountsUnwritten: max_pending is Storm's
// topology.shellbolt.max.pending, the capacity of the queue of tuples not
// yet written to the subprocess. Tuples written and not acked hold no
// slot (a bolt that acks later, on a tick, keeps receiving tuples); a
// subprocess that stops reading fills the queue and Execute blocks.
func TestBolt_MaxPendingCountsUnwritten(t *testing.T) {
	py := multilangtest.Python(t)
	cfg := config(py, "testdata/fakebolt.py")
	cfg.Env = map[string]string{"FAKE_MODE": "noack"}
	cfg.MaxPending = 2
	h := start(t, cfg, wordStreams)
	for i := range 50 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := h.b.Execute(ctx, sentence(i, "a"))
		cancel()
		if err != nil {
			t.Fatalf("Execute %d with %d tuples written and not acked (max_pending 2) = %v, want it accepted", i, i, err)
		}
	}

	cfg = config(py, "testdata/fakebolt.py")
	cfg.Env = map[string]string{"FAKE_MODE": "hang", "FAKE_CHILD_PID": filepath.Join(t.TempDir(), "child")}
	cfg.MaxPending = 2
	h = start(t, cfg, wordStreams)
	big := strings.Repeat("x", 4096)
	for i := range 1000 { // the pipe holds 64 KiB: 16 of these, then 2 queued
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := h.b.Execute(ctx, sentence(i, big))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			t.Logf("Execute blocked after %d tuples to a subprocess that does not read", i)
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("Execute never blocked on a subprocess that does not read its stdin")
}

func TestBolt_CleanupKillsAndFailsInFlight(t *testing.T) {
	py := multilangtest.Python(t)
	cfg := config(py, "testdata/fakebolt.py")
	cfg.Env = map[string]string{"FAKE_MODE": "noack"}
	b, err := shell.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := &galetest.BoltCollector{}
	logs := &galetest.Buffer{}
	if err := b.Prepare(context.Background(), taskContext("split", wordStreams, logs), out); err != nil {
		t.Fatal(err)
	}
	pid := 0
	galetest.Eventually(t, "the start log", 15*time.Second, func() bool {
		m := regexp.MustCompile(`subprocess started".*? pid=(\d+)`).FindStringSubmatch(logs.String())
		if m == nil {
			return false
		}
		pid, _ = strconv.Atoi(m[1])
		return true
	})
	if err := b.Execute(context.Background(), sentence(0, "x")); err != nil {
		t.Fatal(err)
	}
	if err := b.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if err := b.Cleanup(); err != nil { // twice is fine
		t.Fatal(err)
	}
	if !processGone(pid) {
		t.Errorf("subprocess %d still running after Cleanup", pid)
	}
	_, _, failed, errs := out.Snapshot()
	if len(failed) != 1 || len(errs) != 0 {
		t.Errorf("failed %d errors %v, want the in-flight tuple failed and nothing reported", len(failed), errs)
	}
	if err := b.Execute(context.Background(), sentence(1, "y")); !errors.Is(err, shell.ErrClosed) {
		t.Errorf("Execute after Cleanup = %v", err)
	}
}
