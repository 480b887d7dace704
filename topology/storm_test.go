package topology_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// TestDecode_StormAliases: Storm's names of settings Gale has under its own
// name are accepted topology-wide, noted (not errors) with the Gale name,
// and given to the components; a component's own different value is an
// error naming both; a Storm name Gale has no meaning for stays an error.
func TestDecode_StormAliases(t *testing.T) {
	src := `{"name": "x", "config": {"topology.tick.tuple.freq.secs": 5, "topology.subprocess.timeout.secs": 20,
	  "topology.shellbolt.max.pending": 7},
	 "spouts": [{"id": "s", "type": "generator"}],
	 "bolts": [{"id": "split", "type": "split", "inputs": [{"component": "s"}]},
	           {"id": "count", "type": "count", "tick": "5s", "inputs": [{"component": "split"}]}]}`
	topo, err := topology.Decode([]byte(src), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	s := topo.Settings
	if s.TickFreq != 5*time.Second || s.SubprocessTimeout != 20*time.Second || s.ShellBoltMaxPending != 7 {
		t.Errorf("settings %+v", s)
	}
	for _, b := range topo.Bolts {
		if time.Duration(b.Tick) != 5*time.Second {
			t.Errorf("bolt %s tick %v, want topology.tick.tuple.freq.secs's 5s", b.ID, time.Duration(b.Tick))
		}
	}
	if len(topo.Notes) != 3 {
		t.Fatalf("notes %q, want one per Storm name", topo.Notes)
	}
	for i, want := range []string{`"max_pending"`, `"heartbeat_timeout"`, `"tick" of every bolt`} {
		if !strings.Contains(topo.Notes[i], want) || !strings.Contains(topo.Notes[i], "Storm's name") {
			t.Errorf("note %q does not name %s", topo.Notes[i], want)
		}
	}
	if err := topo.Validate(newCatalog()); err != nil || len(topo.Notes) != 3 {
		t.Errorf("validate again: %v, notes %q", err, topo.Notes)
	}

	bad := strings.Replace(src, `"tick": "5s"`, `"tick": "1s"`, 1)
	_, err = topology.Decode([]byte(bad), newCatalog())
	if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), `bolts[1].tick: 1s differs from config["topology.tick.tuple.freq.secs"] (5s)`) {
		t.Errorf("conflicting tick: %v", err)
	}

	for _, c := range []string{`"topology.tick.tuple.freq.secs": 0`, `"topology.subprocess.timeout.secs": "30s"`, `"topology.shellbolt.max.pending": 1.5`,
		`"topology.worker.childopts": "-Xmx1g"`} {
		_, err := topology.Decode([]byte(`{"name": "x", "config": {`+c+`}, "spouts": [{"id": "s", "type": "generator"}]}`), newCatalog())
		if !errors.Is(err, topology.ErrInvalid) {
			t.Errorf("config {%s}: %v, want an error", c, err)
		}
	}
}

// TestDecode_DirectOutputs: "outputs" declares a direct stream as Storm's
// declareStream(id, true, fields) does; only the direct grouping reads it;
// Encode writes it back in the same form.
func TestDecode_DirectOutputs(t *testing.T) {
	src := `{"name": "x",
	 "spouts": [{"id": "s", "type": "lines", "outputs": {"default": ["line"], "toTask": {"fields": ["line"], "direct": true}}}],
	 "bolts": [{"id": "p", "type": "print", "inputs": [{"component": "s", "stream": "toTask", "grouping": "direct"}]}]}`
	topo, err := topology.Decode([]byte(src), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	s := topo.Spouts[0]
	if !slices.Equal(s.DirectStreams, []string{"toTask"}) || !slices.Equal(s.Streams["toTask"], tuple.Fields{"line"}) {
		t.Errorf("direct streams %v, streams %v", s.DirectStreams, s.Streams)
	}
	enc, err := topology.Encode(topo)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(enc), `"toTask": {
          "fields": [
            "line"
          ],
          "direct": true
        }`) {
		t.Errorf("encoded:\n%s", enc)
	}
	again, err := topology.Decode(enc, newCatalog())
	if err != nil || !slices.Equal(again.Spouts[0].DirectStreams, []string{"toTask"}) {
		t.Errorf("round trip: %v %+v", err, again)
	}

	for bad, want := range map[string]string{
		strings.Replace(src, `"grouping": "direct"`, `"grouping": "shuffle"`, 1):            `stream "toTask" of "s" is direct`,
		strings.Replace(src, `"direct": true}`, `"direct": "yes"}`, 1):                      `spouts[0].outputs["toTask"].direct`,
		strings.Replace(src, `"direct": true}`, `"drect": true}`, 1):                        `spouts[0].outputs["toTask"].drect: unknown field`,
		strings.Replace(src, `{"fields": ["line"], "direct": true}`, `{"direct": true}`, 1): `spouts[0].outputs["toTask"].fields`,
	} {
		if _, err := topology.Decode([]byte(bad), newCatalog()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s\n: %v, want %q", bad, err, want)
		}
	}
	// A stream declared direct but not in the outputs (Go).
	topo.Spouts[0].DirectOutputs = []string{"nope"}
	if err := topo.Validate(newCatalog()); err == nil || !strings.Contains(err.Error(), `stream "nope" is declared direct`) {
		t.Errorf("direct stream not in outputs: %v", err)
	}
}
