package shell_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	boltshell "github.com/gale-stream/gale/bolt/shell"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/multilang/multilangtest"
	"github.com/gale-stream/gale/spout/shell"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

type harness struct {
	t    *testing.T
	s    *shell.Spout
	out  *galetest.SpoutCollector
	logs *galetest.Buffer
}

func open(t *testing.T, cfg *shell.Config) (*harness, error) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := shell.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, s: s, out: &galetest.SpoutCollector{TaskIDs: []int{4}}, logs: &galetest.Buffer{}}
	tc := &topology.TaskContext{
		Component: &topology.Component{ID: "sentences", Type: shell.TypeName,
			Streams: topology.Streams{"default": {"sentence"}}},
		TaskID: 1, ComponentTasks: map[string][]int{"sentences": {1}},
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	err = s.Open(context.Background(), tc, h.out)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return h, err
}

func config(cmd ...string) *shell.Config {
	c := shell.DefaultConfig()
	c.Command = cmd
	return c
}

func (h *harness) next() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.s.NextTuple(ctx)
}

// pump calls NextTuple n times, failing the test on an error.
func (h *harness) pump(n int) {
	h.t.Helper()
	for range n {
		if err := h.next(); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) emitted() []galetest.Emitted {
	em, _ := h.out.Snapshot()
	return em
}

func TestSpout_PythonSentences(t *testing.T) {
	py := multilangtest.Python(t)
	ex, _ := filepath.Abs("../../examples/multilang/sentences.py")
	h, err := open(t, config(py, ex))
	if err != nil {
		t.Fatal(err)
	}
	h.pump(3)
	em := h.emitted()
	if len(em) != 3 {
		t.Fatalf("emitted %d tuples, want 3", len(em))
	}
	if em[0].Values[0] != "the cow jumped over the moon" || em[0].Stream != tuple.DefaultStream || em[0].MsgID == nil {
		t.Errorf("first emit %+v", em[0])
	}
	if s, ok := em[1].MsgID.(interface{ String() string }); !ok || s.String() != `"s1"` {
		t.Errorf("message id %v, want the subprocess's \"s1\"", em[1].MsgID)
	}
	h.s.Ack(em[0].MsgID)
	h.s.Fail(em[1].MsgID)
	if err := h.next(); err != nil {
		t.Fatal(err)
	}
	em = h.emitted()
	if len(em) != 4 || em[3].MsgID != em[1].MsgID || em[3].Values[0] != em[1].Values[0] {
		t.Fatalf("after a fail, emitted %+v, want the failed tuple replayed with the same id", em[len(em)-1])
	}
	h.s.Deactivate()
	h.s.Activate()
	if _, errs := h.out.Snapshot(); len(errs) != 0 {
		t.Errorf("errors %v", errs)
	}
}

func TestSpout_CrashRestart(t *testing.T) {
	py := multilangtest.Python(t)
	cfg := config(py, "testdata/fakespout.py")
	cfg.Env = map[string]string{"FAKE_MODE": "crash", "FAKE_MARKER": filepath.Join(t.TempDir(), "m")}
	cfg.RestartBackoff = boltshell.Backoff{Min: topology.Duration(20 * time.Millisecond), Max: topology.Duration(time.Second)}
	h, err := open(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.next(); err != nil {
		t.Fatal(err)
	}
	first := h.emitted()[0].MsgID
	err = h.next()
	if !errors.Is(err, boltshell.ErrExited) || !strings.Contains(err.Error(), `shell spout "sentences"`) ||
		!strings.Contains(err.Error(), "exit status 4") || !strings.Contains(err.Error(), "fakespout: crashing") {
		t.Fatalf("second next = %v, want ErrExited naming the component, status and stderr", err)
	}
	// An ack for a tuple of the dead subprocess is dropped, not forwarded.
	h.s.Ack(first)
	galetest.Eventually(t, "2 tuples after the restart", 10*time.Second, func() bool {
		if err := h.next(); err != nil {
			t.Fatal(err)
		}
		return len(h.emitted()) >= 3
	})
	em := h.emitted()
	if em[1].Values[0] != "t1" || em[1].MsgID == first {
		t.Errorf("after restart emitted %+v; its id must differ from the old incarnation's", em[1])
	}
	h.s.Ack(em[1].MsgID)
	if !strings.Contains(h.logs.String(), `got ack 1`) {
		t.Errorf("ack of a live tuple not forwarded; logs:\n%s", h.logs)
	}
	if strings.Count(h.logs.String(), "got ack") != 1 {
		t.Errorf("ack of the dead subprocess's tuple was forwarded")
	}
}

func TestSpout_HangAndMalformed(t *testing.T) {
	py := multilangtest.Python(t)
	for _, tc := range []struct {
		mode string
		want error
	}{{"hang", boltshell.ErrHeartbeatTimeout}, {"malformed", boltshell.ErrMalformed}} {
		t.Run(tc.mode, func(t *testing.T) {
			cfg := config(py, "testdata/fakespout.py")
			cfg.Env = map[string]string{"FAKE_MODE": tc.mode}
			cfg.HeartbeatTimeout = topology.Duration(300 * time.Millisecond)
			h, err := open(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.next(); !errors.Is(err, tc.want) {
				t.Fatalf("next = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSpout_TaskIDs(t *testing.T) {
	py := multilangtest.Python(t)
	cfg := config(py, "testdata/fakespout.py")
	cfg.Env = map[string]string{"FAKE_MODE": "taskids"}
	h, err := open(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.next(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.logs.String(), "task ids [4]") {
		t.Errorf("task ids not sent back; logs:\n%s", h.logs)
	}
}

func TestSpout_CommandNotFound(t *testing.T) {
	_, err := open(t, config("gale-no-such-spout-cmd"))
	if !errors.Is(err, boltshell.ErrStart) || !strings.Contains(err.Error(), "gale-no-such-spout-cmd") {
		t.Fatalf("Open = %v, want ErrStart naming the command", err)
	}
}
