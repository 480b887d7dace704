package topology_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/topology"
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
