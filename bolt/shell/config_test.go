package shell_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt/shell"
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
