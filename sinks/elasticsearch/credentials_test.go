package elasticsearch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/topology"
)

// TestCredentials: the password comes from an environment variable or a
// file and reaches the cluster as basic auth; a password in the topology
// is refused at its field, and a missing variable is an error naming it
// (not its value).
func TestCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		mu.Lock()
		seen = append(seen, u+":"+p)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"took":1,"errors":false,"items":[]}`))
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	t.Setenv("GALE_TEST_ES_PW", "from-env")
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Username, c.PasswordEnv = "gale", "GALE_TEST_ES_PW" }, "gale:from-env"},
		{func(c *Config) { c.Username, c.PasswordFile = "gale", file }, "gale:from-file"},
	} {
		w := newTestWriter(t, srv.URL, tc.mod)
		w.WriteBatch(context.Background(), batchOf(1, func(int) string { return `{"n":1}` }))
		mu.Lock()
		got := seen[len(seen)-1]
		mu.Unlock()
		if got != tc.want {
			t.Errorf("basic auth %q, want %q", got, tc.want)
		}
	}

	err := topology.DecodeConfig([]byte(`{"urls": ["http://127.0.0.1:9"], "index": "x", "username": "u", "password": "hunter2"}`), NewConfig(), "bolts[0].config")
	if err == nil || !strings.Contains(err.Error(), "bolts[0].config.password:") || !strings.Contains(err.Error(), "password_env") ||
		strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a password in the topology: %v; want an error at bolts[0].config.password naming password_env, without the password", err)
	}
	c := NewConfig()
	c.URLs, c.Index, c.Username, c.PasswordEnv = []string{srv.URL}, "x", "u", "GALE_TEST_NO_SUCH_VAR"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(c); !errors.Is(err, sinks.ErrConfig) || !strings.Contains(err.Error(), "$GALE_TEST_NO_SUCH_VAR is not set") {
		t.Errorf("an unset password_env: %v", err)
	}
}
