package builtin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// taskContext returns the context of task k of a component with n tasks.
func taskContext(k, n int) *topology.TaskContext {
	return &topology.TaskContext{
		Component: &topology.Component{ID: "gen", Parallelism: n},
		TaskID:    k + 1,
		TaskIndex: k,
	}
}

// openGenerator builds and opens a generator on a fake collector.
func openGenerator(t *testing.T, cfg *GeneratorConfig, k, n int) (*Generator, *galetest.SpoutCollector) {
	t.Helper()
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatalf("NewGenerator: %v", err)
	}
	out := &galetest.SpoutCollector{}
	if err := g.Open(context.Background(), taskContext(k, n), out); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g, out
}

// next calls NextTuple n times and fails the test on any error.
func next(t *testing.T, s spout.Spout, n int) {
	t.Helper()
	for range n {
		if err := s.NextTuple(context.Background()); err != nil {
			t.Fatalf("NextTuple: %v", err)
		}
	}
}

func emittedValues(out *galetest.SpoutCollector) []string {
	em, _ := out.Snapshot()
	var vs []string
	for _, e := range em {
		vs = append(vs, tuple.AsString(e.Values[0]))
	}
	return vs
}

func TestGeneratorConfig_Validate(t *testing.T) {
	typ, _ := registry.Describe(GeneratorType())
	tests := []struct {
		name    string
		json    string
		wantErr string // substring; "" means valid
	}{
		{"defaults", ``, ""},
		{"all set", `{"sentences":["a b","c"],"seed":7,"count":10,"rate":5.5,"reliable":false,"field":"s"}`, ""},
		{"no sentences", `{"sentences":[]}`, "sentences"},
		{"empty field", `{"field":""}`, "field"},
		{"negative rate", `{"rate":-1}`, "rate"},
		{"negative count", `{"count":-1}`, "count"},
		{"unknown key", `{"sentence":["x"]}`, "sentence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings, err := typ.DecodeSettings([]byte(tt.json), "spouts[0].config")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("DecodeSettings: %v", err)
				}
				if _, ok := settings.(*GeneratorConfig); !ok {
					t.Fatalf("settings are %T, want *GeneratorConfig", settings)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeSettings(%s): no error, want one about %q", tt.json, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "spouts[0].config") {
				t.Errorf("error %q does not name %q at spouts[0].config", err, tt.wantErr)
			}
		})
	}
	if err := (&GeneratorConfig{Field: "x"}).Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Validate without sentences = %v, want ErrInvalidConfig", err)
	}
}

func TestGeneratorType_Outputs(t *testing.T) {
	typ, _ := registry.Describe(GeneratorType())
	cfg := NewGeneratorConfig()
	cfg.Field = "text"
	got, err := typ.Outputs(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := got[tuple.DefaultStream]; !slices.Equal(f, tuple.Fields{"text"}) {
		t.Errorf("outputs = %v, want default: [text]", got)
	}
}

func TestGenerator_Deterministic(t *testing.T) {
	seq := func(seed int64) []galetest.Emitted {
		cfg := NewGeneratorConfig()
		cfg.Seed = seed
		g, out := openGenerator(t, cfg, 0, 1)
		next(t, g, 200)
		em, _ := out.Snapshot()
		return em
	}
	a, b, c := seq(42), seq(42), seq(43)
	if len(a) != 200 {
		t.Fatalf("emitted %d tuples, want 200", len(a))
	}
	differ := false
	for i := range a {
		if a[i].Values[0] != b[i].Values[0] {
			t.Fatalf("seed 42 tuple %d: %v then %v", i, a[i].Values, b[i].Values)
		}
		if a[i].MsgID != uint64(i) || a[i].ID != TupleID(uint64(i)) {
			t.Fatalf("tuple %d: msgID %v id %q, want %d and %q", i, a[i].MsgID, a[i].ID, i, TupleID(uint64(i)))
		}
		if a[i].Values[0] != c[i].Values[0] {
			differ = true
		}
	}
	if !differ {
		t.Error("seeds 42 and 43 gave the same 200 sentences")
	}
	// Every sentence is used: the hash spreads.
	seen := map[string]bool{}
	for _, e := range a {
		seen[e.Values[0].(string)] = true
	}
	if len(seen) != len(DefaultSentences) {
		t.Errorf("200 tuples used %d of %d sentences", len(seen), len(DefaultSentences))
	}
}

func TestGenerator_Replay(t *testing.T) {
	cfg := NewGeneratorConfig()
	cfg.Seed = 5
	g, out := openGenerator(t, cfg, 0, 1)
	next(t, g, 5)
	first, _ := out.Snapshot()

	g.Fail(uint64(3))
	g.Fail(uint64(1))
	g.Fail(uint64(1)) // a second failure of the same id is ignored
	g.Ack(uint64(0))
	next(t, g, 3)
	em, _ := out.Snapshot()
	got := em[5:]
	for i, want := range []uint64{3, 1, 5} {
		if got[i].MsgID != want {
			t.Fatalf("emit %d after failures: msgID %v, want %d", i, got[i].MsgID, want)
		}
	}
	for _, e := range got[:2] {
		orig := first[e.MsgID.(uint64)]
		if e.Values[0] != orig.Values[0] || e.ID != orig.ID {
			t.Errorf("replay of %v = %v %q, want %v %q", e.MsgID, e.Values, e.ID, orig.Values, orig.ID)
		}
	}
	if got[2].Values[0] != cfg.Sentence(5) {
		t.Errorf("tuple 5 = %v, want %q", got[2].Values, cfg.Sentence(5))
	}
	if g.Emitted() != 6 || g.Replayed() != 2 || g.Failed() != 2 || g.Acked() != 1 {
		t.Errorf("counters emitted=%d replayed=%d failed=%d acked=%d, want 6 2 2 1",
			g.Emitted(), g.Replayed(), g.Failed(), g.Acked())
	}
}

func TestGenerator_TaskShare(t *testing.T) {
	const n, count = 3, 20
	cfg := NewGeneratorConfig()
	cfg.Count = count
	var all []uint64
	for k := range n {
		g, out := openGenerator(t, cfg, k, n)
		for range count { // more calls than its share
			if err := g.NextTuple(context.Background()); err != nil {
				t.Fatalf("task %d: NextTuple: %v", k, err)
			}
		}
		em, _ := out.Snapshot()
		for _, e := range em {
			i := e.MsgID.(uint64)
			if i%n != uint64(k) {
				t.Errorf("task %d of %d emitted tuple %d", k, n, i)
			}
			if e.Values[0] != cfg.Sentence(i) {
				t.Errorf("task %d: tuple %d = %v, want %q", k, i, e.Values, cfg.Sentence(i))
			}
			all = append(all, i)
		}
	}
	slices.Sort(all)
	want := make([]uint64, count)
	for i := range want {
		want[i] = uint64(i)
	}
	if !slices.Equal(all, want) {
		t.Errorf("tasks emitted %v, want 0..%d once each", all, count-1)
	}
}

func TestGenerator_Stop(t *testing.T) {
	ctx := context.Background()
	cfg := NewGeneratorConfig()
	cfg.Count = 3
	g, out := openGenerator(t, cfg, 0, 1)
	next(t, g, 3)
	// count reached, three pending: no stop
	next(t, g, 2)
	g.Ack(uint64(0))
	g.Ack(uint64(1))
	next(t, g, 1)
	g.Fail(uint64(2))
	next(t, g, 1) // the replay
	em, _ := out.Snapshot()
	if len(em) != 4 || em[3].MsgID != uint64(2) {
		t.Fatalf("emits %v, want 3 tuples and a replay of 2", em)
	}
	next(t, g, 1) // still pending
	g.Ack(uint64(2))
	err := g.NextTuple(ctx)
	if !errors.Is(err, spout.ErrStop) {
		t.Fatalf("NextTuple after all acked = %v, want ErrStop", err)
	}
}

func TestGenerator_Unreliable(t *testing.T) {
	cfg := NewGeneratorConfig()
	cfg.Count = 2
	cfg.Reliable = false
	g, out := openGenerator(t, cfg, 0, 1)
	next(t, g, 2)
	if err := g.NextTuple(context.Background()); !errors.Is(err, spout.ErrStop) {
		t.Fatalf("NextTuple after count = %v, want ErrStop", err)
	}
	em, _ := out.Snapshot()
	for _, e := range em {
		if e.MsgID != nil {
			t.Errorf("unreliable emit with msgID %v", e.MsgID)
		}
		if e.ID == "" {
			t.Error("unreliable emit without tuple id")
		}
	}
}

func TestGenerator_Rate(t *testing.T) {
	cfg := NewGeneratorConfig()
	cfg.Rate = 10 // one per 100 ms, bucket of 1
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1000, 0)
	g.now = func() time.Time { return clock }
	out := &galetest.SpoutCollector{}
	if err := g.Open(context.Background(), nil, out); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		calls   int
		want    int // total emitted after the calls
	}{
		{0, 5, 1},
		{50 * time.Millisecond, 5, 1},
		{50 * time.Millisecond, 5, 2},
		{time.Second, 5, 3},            // the bucket holds one token at most
		{250 * time.Millisecond, 5, 4}, // one token, not 2.5
		{100 * time.Millisecond, 5, 5},
	}
	for i, s := range steps {
		clock = clock.Add(s.advance)
		next(t, g, s.calls)
		if got := len(emittedValues(out)); got != s.want {
			t.Fatalf("step %d: %d emitted, want %d", i, got, s.want)
		}
	}
}

func TestGenerator_Sentences(t *testing.T) {
	cfg := &GeneratorConfig{Sentences: []string{"only"}, Field: "f"}
	g, out := openGenerator(t, cfg, 0, 1)
	next(t, g, 3)
	if got := emittedValues(out); !slices.Equal(got, []string{"only", "only", "only"}) {
		t.Errorf("emitted %v", got)
	}
}

func TestRegister(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if got := r.TypeNames(topology.KindSpout); !slices.Equal(got, []string{"generator", "lines"}) {
		t.Errorf("spout types %v", got)
	}
	if err := Register(r); !errors.Is(err, registry.ErrDuplicate) {
		t.Errorf("second Register = %v, want ErrDuplicate", err)
	}
	// A round trip through the registry: decode settings, build a spout.
	typ, _ := r.ComponentType(topology.KindSpout, "generator")
	settings, err := typ.DecodeSettings([]byte(`{"seed":3,"count":1}`), "config")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := r.NewSpout(&topology.Component{ID: "g", Type: "generator", Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	g, ok := sp.(*Generator)
	if !ok || g.Config().Seed != 3 {
		t.Fatalf("NewSpout = %T %+v", sp, sp)
	}
	if _, err := r.NewSpout(&topology.Component{ID: "g", Type: "generator", Settings: "not a config"}); !errors.Is(err, registry.ErrConfigType) {
		t.Errorf("NewSpout with a string for settings = %v, want registry.ErrConfigType", err)
	}
}
