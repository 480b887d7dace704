package shell_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt/shell"
	"github.com/gale-stream/gale/registry"
	spoutshell "github.com/gale-stream/gale/spout/shell"
	"github.com/gale-stream/gale/topology"
)

// TestConfig_JSON: the JSON config of both shell types, the spout's being
// the shared Process: every key lands in its field, the bolt-only keys are
// unknown to the spout, the defaults are the same, and Validate runs for
// both.
func TestConfig_JSON(t *testing.T) {
	shared := `"command": ["python3", "x.py"], "dir": "/tmp", "env": {"A": "1"}, "conf": {"k": 2},
	  "heartbeat_timeout": "5s", "restart_backoff": {"min": "20ms", "max": "2s"}, "stop_grace": 3`
	want := shell.Process{Command: []string{"python3", "x.py"}, Dir: "/tmp", Env: map[string]string{"A": "1"},
		Conf: map[string]any{"k": float64(2)}, HeartbeatTimeout: topology.Duration(5 * time.Second),
		RestartBackoff: shell.Backoff{Min: topology.Duration(20 * time.Millisecond), Max: topology.Duration(2 * time.Second)},
		StopGrace:      topology.Duration(3 * time.Second)}
	equal := func(a, b shell.Process) bool {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return string(ja) == string(jb)
	}

	b := shell.DefaultConfig()
	if err := topology.DecodeConfig(json.RawMessage(`{`+shared+`, "heartbeat": "1s", "max_pending": 7}`), b, "config"); err != nil {
		t.Fatalf("bolt config: %v", err)
	}
	if !equal(b.Process, want) || b.Heartbeat != topology.Duration(time.Second) || b.MaxPending != 7 {
		t.Errorf("bolt config %+v", b)
	}

	s := spoutshell.DefaultConfig()
	if err := topology.DecodeConfig(json.RawMessage(`{`+shared+`}`), s, "config"); err != nil {
		t.Fatalf("spout config: %v", err)
	}
	if !equal(s.Process, want) {
		t.Errorf("spout config %+v", s)
	}
	for _, key := range []string{"heartbeat", "max_pending"} {
		err := topology.DecodeConfig(json.RawMessage(`{"command": ["x"], "`+key+`": 1}`), spoutshell.DefaultConfig(), "config")
		if !errors.Is(err, topology.ErrUnknownField) || !strings.Contains(err.Error(), "config."+key) {
			t.Errorf("spout config with %q: %v, want an unknown field", key, err)
		}
	}

	if !equal(spoutshell.DefaultConfig().Process, shell.DefaultConfig().Process) {
		t.Errorf("spout defaults %+v, bolt defaults %+v", spoutshell.DefaultConfig().Process, shell.DefaultConfig().Process)
	}
	for what, cfg := range map[string]any{"bolt": shell.DefaultConfig(), "spout": spoutshell.DefaultConfig()} {
		if err := topology.DecodeConfig(json.RawMessage(`{"dir": "/tmp"}`), cfg, "config"); !errors.Is(err, shell.ErrConfig) {
			t.Errorf("%s config without a command: %v, want ErrConfig", what, err)
		}
	}
}

// TestConfig_StormSettings: Storm's topology.subprocess.timeout.secs and
// topology.shellbolt.max.pending, given topology-wide, become the
// heartbeat_timeout of shell spouts and bolts and the max_pending of shell
// bolts that set none; a different value set in a config is an error
// naming both.
func TestConfig_StormSettings(t *testing.T) {
	reg := registry.New()
	if err := reg.Register(shell.Type()); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(spoutshell.Type()); err != nil {
		t.Fatal(err)
	}
	src := `{"name": "x", "config": {"topology.subprocess.timeout.secs": 20, "topology.shellbolt.max.pending": 7},
	 "spouts": [{"id": "s", "type": "shell", "config": {"command": ["x"]}, "outputs": {"default": ["a"]}}],
	 "bolts": [{"id": "b", "type": "shell", "config": {"command": ["x"] BOLT}, "inputs": [{"component": "s"}]}]}`
	topo, err := topology.Decode([]byte(strings.Replace(src, "BOLT", "", 1)), reg)
	if err != nil {
		t.Fatal(err)
	}
	sp, b := topo.Spouts[0].Settings.(*spoutshell.Config), topo.Bolts[0].Settings.(*shell.Config)
	if sp.HeartbeatTimeout != topology.Duration(20*time.Second) || b.HeartbeatTimeout != topology.Duration(20*time.Second) || b.MaxPending != 7 {
		t.Errorf("spout %+v bolt %+v", sp.Process, b)
	}
	if _, err := topology.Decode([]byte(strings.Replace(src, "BOLT", `, "heartbeat_timeout": "20s", "max_pending": 7`, 1)), reg); err != nil {
		t.Errorf("the same values under both names: %v", err)
	}
	for own, want := range map[string]string{
		`"heartbeat_timeout": "10s"`: `bolts[0].config.heartbeat_timeout: 10s differs from config["topology.subprocess.timeout.secs"] (20s)`,
		`"max_pending": 8`:           `bolts[0].config.max_pending: 8 differs from config["topology.shellbolt.max.pending"] (7)`,
	} {
		_, err = topology.Decode([]byte(strings.Replace(src, "BOLT", ", "+own, 1)), reg)
		if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("conflict: %v\nwant %s", err, want)
		}
	}
}
