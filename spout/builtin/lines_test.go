package builtin

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openLines(t *testing.T, cfg *LinesConfig, k, n int) (*Lines, *galetest.SpoutCollector) {
	t.Helper()
	l, err := NewLines(cfg)
	if err != nil {
		t.Fatalf("NewLines: %v", err)
	}
	out := &galetest.SpoutCollector{}
	if err := l.Open(context.Background(), taskContext(k, n), out); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l, out
}

func TestLinesConfig_Validate(t *testing.T) {
	typ, _ := registry.Describe(LinesType())
	tests := []struct {
		name    string
		json    string
		wantErr string
	}{
		{"file", `{"path":"/tmp/x"}`, ""},
		{"stdin", `{"path":"-","reliable":false}`, ""},
		{"follow", `{"path":"/tmp/x","follow":true,"poll":"1s"}`, ""},
		{"no path", ``, "path"},
		{"follow stdin", `{"path":"-","follow":true}`, "follow"},
		{"zero poll", `{"path":"/tmp/x","poll":0}`, "poll"},
		{"bad poll", `{"path":"/tmp/x","poll":"soon"}`, "poll"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := typ.DecodeSettings([]byte(tt.json), "spouts[1].config")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("DecodeSettings: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("DecodeSettings(%s) = %v, want an error about %q", tt.json, err, tt.wantErr)
			}
		})
	}
}

func TestLines_File(t *testing.T) {
	path := writeFile(t, "alpha\nbeta\r\n\ngamma") // CRLF, an empty line, no final newline
	cfg := NewLinesConfig()
	cfg.Path = path
	l, out := openLines(t, cfg, 0, 1)
	next(t, l, 6) // four lines, then EOF with lines pending: no stop
	em, _ := out.Snapshot()
	var got []string
	for i, e := range em {
		got = append(got, e.Values[0].(string))
		if want := uint64(i + 1); e.MsgID != want {
			t.Errorf("line %d: msgID %v", i+1, e.MsgID)
		}
		if want := path + ":" + []string{"1", "2", "3", "4"}[i]; e.ID != want {
			t.Errorf("line %d: id %q, want %q", i+1, e.ID, want)
		}
	}
	if want := []string{"alpha", "beta", "", "gamma"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}

	// Replay of a failed line, from memory.
	l.Ack(uint64(1))
	l.Ack(uint64(3))
	l.Fail(uint64(2))
	l.Fail(uint64(2)) // ignored: already queued
	l.Ack(uint64(2))  // ignored: a failed line is acked only after its replay
	next(t, l, 2)
	em, _ = out.Snapshot()
	if len(em) != 5 || em[4].MsgID != uint64(2) || em[4].Values[0] != "beta" || em[4].ID != path+":2" {
		t.Fatalf("after failing line 2: emits %+v", em[4:])
	}
	l.Ack(uint64(2))
	next(t, l, 1) // line 4 still pending
	l.Ack(uint64(4))
	if err := l.NextTuple(context.Background()); !errors.Is(err, spout.ErrStop) {
		t.Fatalf("NextTuple at EOF, all acked = %v, want ErrStop", err)
	}
	if l.Emitted() != 4 || l.Acked() != 4 || l.Failed() != 1 || l.Replayed() != 1 {
		t.Errorf("counters emitted=%d acked=%d failed=%d replayed=%d, want 4 4 1 1",
			l.Emitted(), l.Acked(), l.Failed(), l.Replayed())
	}
}

func TestLines_MissingFile(t *testing.T) {
	cfg := NewLinesConfig()
	cfg.Path = filepath.Join(t.TempDir(), "nope.txt")
	l, err := NewLines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = l.Open(context.Background(), nil, &galetest.SpoutCollector{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), cfg.Path) {
		t.Fatalf("Open = %v, want a not-exist error naming %s", err, cfg.Path)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close after failed Open: %v", err)
	}
}

func TestLines_TaskShare(t *testing.T) {
	path := writeFile(t, "1\n2\n3\n4\n5\n")
	cfg := NewLinesConfig()
	cfg.Path = path
	cfg.Reliable = false
	for k, want := range [][]string{{"1", "3", "5"}, {"2", "4"}} {
		l, out := openLines(t, cfg, k, 2)
		var err error
		for range 10 {
			if err = l.NextTuple(context.Background()); err != nil {
				break
			}
		}
		if !errors.Is(err, spout.ErrStop) {
			t.Errorf("task %d: NextTuple = %v, want ErrStop", k, err)
		}
		if got := emittedValues(out); !slices.Equal(got, want) {
			t.Errorf("task %d of 2: lines %q, want %q", k, got, want)
		}
	}
}

func TestLines_Stdin(t *testing.T) {
	cfg := NewLinesConfig()
	cfg.Path = Stdin
	l, err := NewLines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.stdin = strings.NewReader("x\ny\nz")
	out := &galetest.SpoutCollector{}
	if err := l.Open(context.Background(), nil, out); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	took := galetest.Eventually(t, "3 lines from stdin", 5*time.Second, func() bool {
		next(t, l, 1)
		return len(emittedValues(out)) >= 3
	})
	if got := emittedValues(out); !slices.Equal(got, []string{"x", "y", "z"}) {
		t.Fatalf("stdin lines %q", got)
	}
	em, _ := out.Snapshot()
	if em[0].ID != "-:1" {
		t.Errorf("id %q, want -:1", em[0].ID)
	}
	for i := range 3 {
		l.Ack(uint64(i + 1))
	}
	var stop error
	galetest.Eventually(t, "the end of stdin", 5*time.Second-took, func() bool {
		stop = l.NextTuple(context.Background())
		return stop != nil
	})
	if !errors.Is(stop, spout.ErrStop) {
		t.Fatalf("NextTuple at end of stdin = %v, want ErrStop", stop)
	}

	// Other tasks of a stdin spout stop at once.
	other, _ := openLines(t, cfg, 1, 2)
	if err := other.NextTuple(context.Background()); !errors.Is(err, spout.ErrStop) {
		t.Errorf("task 1 of a stdin spout: NextTuple = %v, want ErrStop", err)
	}
}

func TestLines_Follow(t *testing.T) {
	path := writeFile(t, "one\ntw")
	cfg := NewLinesConfig()
	cfg.Path = path
	cfg.Follow = true
	cfg.Poll = topology.Duration(100 * time.Millisecond)
	l, err := NewLines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1000, 0)
	l.now = func() time.Time { return clock }
	out := &galetest.SpoutCollector{}
	if err := l.Open(context.Background(), nil, out); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	next(t, l, 3)
	if got := emittedValues(out); !slices.Equal(got, []string{"one"}) {
		t.Fatalf("lines %q, want [one] (\"tw\" is incomplete)", got)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("o\nthree\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	next(t, l, 2) // before the poll interval: nothing read
	if got := emittedValues(out); len(got) != 1 {
		t.Fatalf("read %q before the poll interval", got)
	}
	clock = clock.Add(100 * time.Millisecond)
	next(t, l, 3)
	if got := emittedValues(out); !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Fatalf("lines %q after append", got)
	}
	for i := range 3 {
		l.Ack(uint64(i + 1))
	}
	clock = clock.Add(time.Second)
	next(t, l, 3) // following never stops
}
