package builtin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/tuple"
)

func TestPrint_Execute(t *testing.T) {
	tu := in(tuple.Fields{"word", "count", "raw"}, "moon", int64(3), []byte("b"))
	tu.ID = "gen/7/2"
	tests := []struct {
		format, want string
	}{
		{FormatText, "src default [moon 3 b]\n"},
		{FormatJSON, `{"component":"src","stream":"default","id":"gen/7/2","values":{"count":3,"raw":"b","word":"moon"}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			p, err := NewPrint(&PrintConfig{Format: tt.format}, &buf)
			if err != nil {
				t.Fatal(err)
			}
			out := prepare(t, p)
			execute(t, p, tu, tick())
			if got := buf.String(); got != tt.want {
				t.Errorf("printed %q, want %q", got, tt.want)
			}
			em, acked, _, _ := out.Snapshot()
			if len(em) != 0 || len(acked) != 2 {
				t.Errorf("emitted %d acked %d, want 0 2", len(em), len(acked))
			}
		})
	}
}

func TestPrint_JSONFallbacks(t *testing.T) {
	var buf bytes.Buffer
	p, err := NewPrint(&PrintConfig{Format: FormatJSON}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	prepare(t, p)
	// unnamed values are listed; NaN cannot be JSON and is written as text
	execute(t, p, &tuple.Tuple{Values: tuple.Values{"a", math.NaN()}, Stream: "s", Component: "c"})
	want := `{"component":"c","stream":"s","values":["a","NaN"]}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPrint_WriteError(t *testing.T) {
	p, err := NewPrint(NewPrintConfig(), failingWriter{})
	if err != nil {
		t.Fatal(err)
	}
	out := prepare(t, p)
	tu := in(tuple.Fields{"x"}, 1)
	if err := p.Execute(t.Context(), tu); err == nil {
		t.Fatal("Execute with a failing writer: no error")
	}
	if _, acked, _, _ := out.Snapshot(); len(acked) != 0 {
		t.Error("acked a tuple that was not written")
	}
}

// Several print tasks share stdout: their lines never interleave.
func TestPrint_SharedStdout(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = f
	defer func() { os.Stdout = saved }()

	const tasks, lines = 4, 300
	long := strings.Repeat("x", 5000) // longer than a pipe's atomic write
	var wg sync.WaitGroup
	for k := range tasks {
		p, err := NewPrint(NewPrintConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Prepare(t.Context(), nil, &galetest.BoltCollector{}); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := range lines {
				tu := &tuple.Tuple{Values: tuple.Values{k, i, long}, Stream: "default", Component: fmt.Sprint("p", k)}
				if err := p.Execute(t.Context(), tu); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	os.Stdout = saved
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(got) != tasks*lines {
		t.Fatalf("%d lines, want %d", len(got), tasks*lines)
	}
	for _, l := range got {
		var k, i int
		if _, err := fmt.Sscanf(l, "p%d default [%d %d "+long+"]", &k, &k, &i); err != nil || !strings.HasSuffix(l, long+"]") {
			t.Fatalf("mangled line %.60q...: %v", l, err)
		}
	}
}

func TestPrint_File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	for range 2 { // two tasks, one after the other: the file is appended to
		b := newBolt(t, "print", `{"path":`+fmt.Sprintf("%q", path)+`,"format":"json"}`)
		prepare(t, b)
		execute(t, b, in(tuple.Fields{"w"}, "hi"))
		if err := b.Cleanup(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("file holds %q, want two lines", data)
	}
	var rec struct{ Values map[string]string }
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil || rec.Values["w"] != "hi" {
		t.Errorf("line %q: %v", lines[1], err)
	}
}

func TestPrint_BadPath(t *testing.T) {
	b := newBolt(t, "print", `{"path":"/nonexistent-dir/x/out.txt"}`)
	err := b.Prepare(t.Context(), nil, &galetest.BoltCollector{})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent-dir/x/out.txt") {
		t.Errorf("Prepare = %v, want an error naming the path", err)
	}
}

func TestFail_Execute(t *testing.T) {
	const n = 2000
	run := func(config string, ids bool) (failedIDs map[int]bool, b *Fail, out *galetest.BoltCollector) {
		b = newBolt(t, "fail", config).(*Fail)
		out = prepare(t, b)
		for i := range n {
			tu := in(tuple.Fields{"n"}, i)
			if ids {
				tu.ID = fmt.Sprint("gen/", i)
			}
			execute(t, b, tu)
		}
		_, _, failed, _ := out.Snapshot()
		failedIDs = map[int]bool{}
		for _, f := range failed {
			failedIDs[f.Values[0].(int)] = true
		}
		return failedIDs, b, out
	}

	a, b, out := run(`{"ratio":0.3,"seed":1}`, true)
	if len(a) < n*25/100 || len(a) > n*35/100 {
		t.Errorf("ratio 0.3 failed %d of %d", len(a), n)
	}
	if b.Failed() != int64(len(a)) || b.Passed() != int64(n-len(a)) {
		t.Errorf("Failed()=%d Passed()=%d, want %d %d", b.Failed(), b.Passed(), len(a), n-len(a))
	}
	em, acked, _, _ := out.Snapshot()
	if len(em) != n-len(a) || len(acked) != n-len(a) {
		t.Errorf("emitted %d acked %d, want %d each", len(em), len(acked), n-len(a))
	}
	for _, e := range em {
		if len(e.Anchors) != 1 || e.Anchors[0].Values[0] != e.Values[0] {
			t.Fatalf("emit %v not passed through anchored", e.Values)
		}
	}
	// replays of the failed tuples pass
	for i := range a {
		tu := in(tuple.Fields{"n"}, i)
		tu.ID = fmt.Sprint("gen/", i)
		execute(t, b, tu)
	}
	if b.Failed() != int64(len(a)) || b.Passed() != n {
		t.Errorf("after replays Failed()=%d Passed()=%d, want %d %d", b.Failed(), b.Passed(), len(a), n)
	}

	// deterministic: same seed, same choice; another seed, another one
	if same, _, _ := run(`{"ratio":0.3,"seed":1}`, true); !equalSets(same, a) {
		t.Error("same seed chose other tuples")
	}
	if other, _, _ := run(`{"ratio":0.3,"seed":2}`, true); equalSets(other, a) {
		t.Error("seeds 1 and 2 chose the same tuples")
	}
	// without tuple ids the values decide, as deterministically
	v1, _, _ := run(`{"ratio":0.3}`, false)
	v2, _, _ := run(`{"ratio":0.3}`, false)
	if !equalSets(v1, v2) || len(v1) == 0 {
		t.Errorf("value-keyed choice: %d then %d tuples", len(v1), len(v2))
	}
	if none, _, _ := run(`{"ratio":0}`, true); len(none) != 0 {
		t.Errorf("ratio 0 failed %d", len(none))
	}
	if all, _, _ := run(`{"ratio":1}`, true); len(all) != n {
		t.Errorf("ratio 1 failed %d of %d", len(all), n)
	}
}

func TestFail_ReportErrors(t *testing.T) {
	for _, report := range []bool{false, true} {
		b := newBolt(t, "fail", fmt.Sprintf(`{"ratio":0.5,"seed":3,"report_errors":%v}`, report)).(*Fail)
		out := prepare(t, b)
		for i := range 200 {
			tu := in(tuple.Fields{"n"}, i)
			if i%2 == 0 {
				tu.ID = fmt.Sprint("gen/", i)
			}
			execute(t, b, tu)
		}
		_, _, failed, errs := out.Snapshot()
		if len(failed) == 0 {
			t.Fatal("nothing failed at ratio 0.5")
		}
		if !report {
			if len(errs) != 0 {
				t.Errorf("report_errors off: %d errors reported", len(errs))
			}
			continue
		}
		if len(errs) != len(failed) {
			t.Fatalf("report_errors: %d errors for %d failed tuples", len(errs), len(failed))
		}
		for i, err := range errs {
			want := failed[i].ID
			if want == "" {
				want = fmt.Sprintf("default[%q]", fmt.Sprint(failed[i].Values[0]))
			}
			if !errors.Is(err, ErrFailedOnPurpose) || !strings.Contains(err.Error(), want) {
				t.Errorf("error %d: %v, want ErrFailedOnPurpose naming %s", i, err, want)
			}
		}
		// a replay passes, and reports nothing
		execute(t, b, failed[0])
		if _, _, _, again := out.Snapshot(); len(again) != len(errs) {
			t.Errorf("a replay reported an error")
		}
	}
}

func equalSets(a, b map[int]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
