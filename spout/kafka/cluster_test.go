package kafka_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gale-stream/gale/registry"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
)

// TestConfig_CheckCluster decodes topologies whose second kafka spout has
// each kind of ledger (the first keeps it in Kafka) and checks them for a
// cluster: a file ledger is refused at its path unless it is shared, which
// needs an absolute directory (checked when the topology is decoded, for
// gale run too).
func TestConfig_CheckCluster(t *testing.T) {
	reg := registry.New()
	reg.MustRegister(kafkaspout.Type())
	abs := filepath.Join(t.TempDir(), "ledger")
	const refusal = `spouts[1].config.ledger.kind: a file ledger lives on one worker's disk; in a cluster use {"kind": "kafka"} ` +
		`(or a directory on a filesystem every worker shares, with "shared": true and an absolute "dir")`
	for _, tc := range []struct {
		name   string
		ledger string // the second spout's "ledger", "" for none
		decode string // the decode error, "" for none
		check  string // the cluster check's error, "" for none
	}{
		{name: "default", ledger: "", check: refusal},
		{name: "file, relative", ledger: `{"kind": "file", "dir": ".gale/ledger"}`, check: refusal},
		{name: "file, absolute", ledger: fmt.Sprintf(`{"kind": "file", "dir": %q}`, abs), check: refusal},
		{name: "file, shared: false", ledger: fmt.Sprintf(`{"kind": "file", "dir": %q, "shared": false}`, abs), check: refusal},
		{name: "file, shared, absolute", ledger: fmt.Sprintf(`{"kind": "file", "dir": %q, "shared": true}`, abs)},
		{name: "file, shared, relative", ledger: `{"kind": "file", "dir": "ledger", "shared": true}`,
			decode: `spouts[1].config: ledger.dir: a shared ledger needs an absolute directory (the same on every worker), got "ledger"`},
		{name: "kafka", ledger: `{"kind": "kafka"}`},
		{name: "kafka, shared", ledger: `{"kind": "kafka", "shared": true}`,
			decode: `spouts[1].config: ledger.shared: only for a file ledger (a kafka ledger is shared by nature)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ledger := ""
			if tc.ledger != "" {
				ledger = `, "ledger": ` + tc.ledger
			}
			js := `{"name": "t", "spouts": [
			  {"id": "a", "type": "kafka", "config": {"brokers": ["127.0.0.1:9092"], "topics": ["a"], "ledger": {"kind": "kafka"}}},
			  {"id": "b", "type": "kafka", "config": {"brokers": ["127.0.0.1:9092"], "topics": ["b"]` + ledger + `}}]}`
			topo, err := topology.Decode([]byte(js), reg)
			if tc.decode != "" {
				if err == nil || err.Error() != tc.decode {
					t.Fatalf("Decode() = %v, want %q", err, tc.decode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode() = %v", err)
			}
			err = topo.CheckCluster()
			if tc.check == "" {
				if err != nil {
					t.Errorf("CheckCluster() = %v, want nil", err)
				}
				return
			}
			var errs *topology.Errors
			if !errors.As(err, &errs) || len(errs.List) != 1 || err.Error() != tc.check {
				t.Fatalf("CheckCluster() = %v, want one error: %s", err, tc.check)
			}
			if !errors.Is(err, topology.ErrLocalOnly) || !errors.Is(err, kafkaspout.ErrLocalLedger) {
				t.Errorf("CheckCluster() = %v, want it to wrap topology.ErrLocalOnly and kafka.ErrLocalLedger", err)
			}
		})
	}
}
