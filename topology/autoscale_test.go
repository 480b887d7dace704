package topology_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/topology"
)

func TestDecode_AutoscaleDefaults(t *testing.T) {
	data := doc(`{"id": "s", "type": "generator", "autoscale": {"max": 4}}`,
		`{"id": "split", "type": "split", "parallelism": 3, "inputs": [{"component": "s"}],
		  "autoscale": {"min": 2, "max": 8, "target_capacity": 0.5, "cooldown": "30s"}},
		 {"id": "c", "type": "count", "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}],
		  "autoscale": {"min": 3, "max": 3}}`)
	topo, err := topology.Decode([]byte(data), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		comp        *topology.Component
		want        topology.Autoscale
		parallelism int
	}{
		{topo.Spouts[0], topology.Autoscale{Min: 1, Max: 4, TargetCapacity: 0.7, ScaleUpLagSeconds: 30, Cooldown: topology.Duration(2 * time.Minute)}, 1},
		{topo.Bolts[0], topology.Autoscale{Min: 2, Max: 8, TargetCapacity: 0.5, Cooldown: topology.Duration(30 * time.Second)}, 3},
		// no parallelism given: the policy's min
		{topo.Bolts[1], topology.Autoscale{Min: 3, Max: 3, TargetCapacity: 0.7, Cooldown: topology.Duration(2 * time.Minute)}, 3},
	}
	for _, tt := range tests {
		if tt.comp.Autoscale == nil {
			t.Errorf("%s: no autoscale", tt.comp.ID)
			continue
		}
		if *tt.comp.Autoscale != tt.want {
			t.Errorf("%s: autoscale %+v, want %+v", tt.comp.ID, *tt.comp.Autoscale, tt.want)
		}
		if tt.comp.Parallelism != tt.parallelism {
			t.Errorf("%s: parallelism %d, want %d", tt.comp.ID, tt.comp.Parallelism, tt.parallelism)
		}
	}
	// Validate is idempotent: the filled defaults pass again unchanged.
	before := *topo.Bolts[0].Autoscale
	if err := topo.Validate(newCatalog()); err != nil {
		t.Fatalf("validating again: %v", err)
	}
	if *topo.Bolts[0].Autoscale != before {
		t.Errorf("validating again changed the policy: %+v, was %+v", *topo.Bolts[0].Autoscale, before)
	}
	// a topology without policies keeps none
	plain, err := topology.Decode([]byte(wordCountJSON), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if plain.Bolts[0].Autoscale != nil || plain.Bolts[0].Parallelism != 2 {
		t.Errorf("no policy given: %+v, parallelism %d", plain.Bolts[0].Autoscale, plain.Bolts[0].Parallelism)
	}
}

func TestDecode_AutoscaleErrors(t *testing.T) {
	// bolt wraps an autoscale policy in the second bolt, bolts[1]
	bolt := func(extra, policy string) string {
		return doc(spoutS, boltSplt+`, {"id": "b", "type": "split", "inputs": [{"component": "s"}]`+extra+`, "autoscale": `+policy+`}`)
	}
	spout := func(policy string) string {
		return doc(`{"id": "s", "type": "generator", "autoscale": `+policy+`}`, "")
	}
	tests := []struct {
		name string
		data string
		path string
		msg  string
		is   error
	}{
		{"max below min", bolt("", `{"min": 4, "max": 2}`),
			"bolts[1].autoscale.max", "want at least min (4), got 2", topology.ErrInvalid},
		{"max missing", bolt("", `{"min": 2}`),
			"bolts[1].autoscale.max", "missing required field", topology.ErrMissingField},
		{"max zero", bolt("", `{"max": 0}`),
			"bolts[1].autoscale.max", "want at least min (1), got 0", topology.ErrInvalid},
		{"max too large", bolt("", `{"max": 300}`),
			"bolts[1].autoscale.max", "want at most 256, got 300", topology.ErrInvalid},
		{"min zero", bolt("", `{"min": 0, "max": 2}`),
			"bolts[1].autoscale.min", "want at least 1, got 0", topology.ErrInvalid},
		{"min negative", bolt("", `{"min": -1, "max": 2}`),
			"bolts[1].autoscale.min", "want at least 1, got -1", topology.ErrInvalid},
		{"target above 1", bolt("", `{"max": 2, "target_capacity": 1.5}`),
			"bolts[1].autoscale.target_capacity", "want a number in (0, 1], got 1.5", topology.ErrInvalid},
		{"target zero", bolt("", `{"max": 2, "target_capacity": 0}`),
			"bolts[1].autoscale.target_capacity", "want a number in (0, 1], got 0", topology.ErrInvalid},
		{"target negative", bolt("", `{"max": 2, "target_capacity": -0.5}`),
			"bolts[1].autoscale.target_capacity", "want a number in (0, 1], got -0.5", topology.ErrInvalid},
		{"cooldown short", spout(`{"max": 2, "cooldown": "1s"}`),
			"spouts[0].autoscale.cooldown", "want at least 10s, got 1s", topology.ErrInvalid},
		{"cooldown zero", spout(`{"max": 2, "cooldown": 0}`),
			"spouts[0].autoscale.cooldown", "want at least 10s, got 0s", topology.ErrInvalid},
		{"cooldown not a duration", spout(`{"max": 2, "cooldown": "soon"}`),
			"spouts[0].autoscale.cooldown", `got string "soon"`, topology.ErrType},
		{"lag zero", spout(`{"max": 2, "scale_up_lag_seconds": 0}`),
			"spouts[0].autoscale.scale_up_lag_seconds", "want a number of seconds > 0, got 0", topology.ErrInvalid},
		{"lag negative", spout(`{"max": 2, "scale_up_lag_seconds": -5}`),
			"spouts[0].autoscale.scale_up_lag_seconds", "want a number of seconds > 0, got -5", topology.ErrInvalid},
		{"lag on a bolt", bolt("", `{"max": 2, "scale_up_lag_seconds": 10}`),
			"bolts[1].autoscale.scale_up_lag_seconds", "bolts have no lag: only spouts scale on it", topology.ErrInvalid},
		{"parallelism above max", bolt(`, "parallelism": 12`, `{"min": 2, "max": 8}`),
			"bolts[1].parallelism", "12 is outside autoscale [2, 8]", topology.ErrInvalid},
		{"parallelism below min", bolt(`, "parallelism": 1`, `{"min": 2, "max": 8}`),
			"bolts[1].parallelism", "1 is outside autoscale [2, 8]", topology.ErrInvalid},
		{"global grouping", doc(spoutS, boltSplt+`, {"id": "b", "type": "count", "inputs": [{"component": "split", "grouping": "global"}], "autoscale": {"max": 4}}`),
			"bolts[1].autoscale", "a bolt read with the global grouping runs on one task: it cannot scale", topology.ErrInvalid},
		{"global grouping on a second input", doc(spoutS, boltSplt+`, {"id": "b", "type": "print", "inputs": [{"component": "s"}, {"component": "split", "grouping": "global"}], "autoscale": {"max": 4}}`),
			"bolts[1].autoscale", `inputs[1] reads "split" with it`, topology.ErrInvalid},
		{"all grouping", doc(spoutS, boltSplt+`, {"id": "b", "type": "print", "inputs": [{"component": "split", "grouping": "all"}], "autoscale": {"max": 4}}`),
			"bolts[1].autoscale", "a bolt read with the all grouping gets every tuple on every task", topology.ErrInvalid},
		{"unknown key", bolt("", `{"max": 2, "cooldwn": "1m"}`),
			"bolts[1].autoscale.cooldwn", `unknown field; known fields: min, max, target_capacity, scale_up_lag_seconds, cooldown (did you mean "cooldown"?)`, topology.ErrUnknownField},
		{"not an object", bolt("", `4`),
			"bolts[1].autoscale", "want an object, got number 4", topology.ErrType},
		{"max a fraction", bolt("", `{"max": 2.5}`),
			"bolts[1].autoscale.max", "got number 2.5", topology.ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo, err := topology.Decode([]byte(tt.data), newCatalog())
			if err == nil {
				t.Fatalf("no error; decoded %+v", topo)
			}
			var errs *topology.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not *Errors: %v", err, err)
			}
			if len(errs.List) != 1 {
				t.Errorf("got %d errors, want 1:\n%v", len(errs.List), err)
			}
			fe := errs.List[0]
			if fe.Path != tt.path || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("got %q, want %s: ...%s...", fe, tt.path, tt.msg)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false; err: %v", tt.is, err)
			}
		})
	}
}

func TestBuilder_Autoscale(t *testing.T) {
	b := topology.NewBuilder("t")
	b.Spout("s", "generator", 0).Autoscale(topology.Autoscale{Max: 4, ScaleUpLagSeconds: 10})
	policy := topology.Autoscale{Min: 2, Max: 6}
	b.Bolt("split", "split", 0).ShuffleGrouping("s").Autoscale(policy)
	topo, err := b.Build(newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if got := *topo.Spouts[0].Autoscale; got.ScaleUpLagSeconds != 10 || got.Min != 1 || got.Cooldown != topology.DefaultCooldown {
		t.Errorf("spout policy %+v", got)
	}
	if topo.Bolts[0].Parallelism != 2 || topo.Bolts[0].Autoscale.TargetCapacity != topology.DefaultTargetCapacity {
		t.Errorf("bolt: parallelism %d, policy %+v; want min's 2 and the defaults", topo.Bolts[0].Parallelism, *topo.Bolts[0].Autoscale)
	}
	// a second build does not share the policy with the first
	second, err := b.Build(newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if second.Bolts[0].Autoscale == topo.Bolts[0].Autoscale {
		t.Error("two builds share one policy")
	}

	b.Bolt("one", "count", 5).GlobalGrouping("split").Autoscale(topology.Autoscale{Min: 1, Max: 4, Cooldown: topology.Duration(time.Second)})
	_, err = b.Build(newCatalog())
	want := []string{
		"bolts[1].autoscale.cooldown: want at least 10s, got 1s",
		"bolts[1].autoscale: a bolt read with the global grouping runs on one task: it cannot scale",
	}
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if i < len(lines) && !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

func TestEncode_AutoscaleRoundTrip(t *testing.T) {
	data := doc(`{"id": "s", "type": "generator", "parallelism": 2, "autoscale": {"min": 2, "max": 4, "scale_up_lag_seconds": 12.5}}`,
		`{"id": "split", "type": "split", "inputs": [{"component": "s"}], "autoscale": {"max": 8, "cooldown": 45}},
		 {"id": "r", "type": "router", "inputs": [{"component": "split"}]},
		 {"id": "p", "type": "print", "inputs": [{"component": "r", "stream": "routed", "grouping": "direct"}], "autoscale": {"max": 3}}`)
	cat := newCatalog()
	first, err := topology.Decode([]byte(data), cat)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := topology.Encode(first)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(enc), `"cooldown": "45s"`) || strings.Count(string(enc), `"autoscale"`) != 3 {
		t.Errorf("encoding lost a policy:\n%s", enc)
	}
	second, err := topology.Decode(enc, cat)
	if err != nil {
		t.Fatalf("decode of encoded: %v\n%s", err, enc)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("round trip changed the topology:\n%s", enc)
	}
}

func TestTopology_WithParallelism_Autoscale(t *testing.T) {
	data := doc(spoutS, `{"id": "split", "type": "split", "parallelism": 3, "inputs": [{"component": "s"}], "autoscale": {"min": 2, "max": 8}}`)
	topo, err := topology.Decode([]byte(data), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 8} {
		re, err := topo.WithParallelism(map[string]int{"split": n})
		if err != nil {
			t.Fatalf("parallelism %d within [2, 8]: %v", n, err)
		}
		if re.Bolts[0].Parallelism != n || *re.Bolts[0].Autoscale != *topo.Bolts[0].Autoscale {
			t.Errorf("parallelism %d: copy has %d and policy %+v", n, re.Bolts[0].Parallelism, re.Bolts[0].Autoscale)
		}
		if re.Bolts[0].Autoscale == topo.Bolts[0].Autoscale {
			t.Error("the copy shares the original's policy")
		}
	}
	for _, n := range []int{1, 9} {
		_, err := topo.WithParallelism(map[string]int{"split": n})
		if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), "outside autoscale [2, 8]") {
			t.Errorf("parallelism %d: %v, want ErrInvalid naming the bounds", n, err)
		}
	}
}
