package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/clustertest"
)

// TestCluster_TypeUnknownToAWorker runs two workers: `gale worker` and
// the custom-bolt example's binary (the gale command line with a "shout"
// bolt compiled in). A topology using shout is refused with 422, naming
// the gale worker and the type, through the API and through `gale
// submit`; nothing is stored.
func TestCluster_TypeUnknownToAWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	dir := t.TempDir()
	shouter := filepath.Join(dir, "custom-bolt")
	build := exec.Command("go", "build", "-o", shouter, "./examples/custom-bolt")
	build.Dir = clustertest.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/custom-bolt: %v\n%s", err, out)
	}
	plain := startWorker(t, dir, "plain-gale", "")
	custom := clustertest.StartWorker(t, shouter, dir, "with-shout", plain.Gossip)
	c := custom.Client()
	ctx := context.Background()
	waitMembers(t, c, 2)
	spec := filepath.Join(clustertest.RepoRoot(), "examples", "custom-bolt", "topology.json")
	data, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}

	// through the worker that knows shout: 422 naming the one that does not
	_, err = c.Submit(ctx, data)
	var se *api.StatusError
	if !errors.As(err, &se) || se.Status != 422 {
		t.Fatalf("submit through %s: %v, want HTTP 422", custom.Name, err)
	}
	if !strings.Contains(se.Message, `worker plain-gale has no type "shout"`) || strings.Contains(se.Message, "with-shout") {
		t.Errorf("the 422 message: %q; want it to name worker plain-gale and type \"shout\" (and not with-shout)", se.Message)
	}
	t.Logf("API: %v", se)

	// the CLI, as a user runs it
	cmd := exec.Command(gale(t), "submit", "--api", custom.HTTP, spec)
	cmd.Env = append(os.Environ(), "GALE_AUTH_TOKEN="+clustertest.Token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("gale submit: %v, want exit status 1", err)
	}
	msg := stderr.String()
	if !strings.Contains(msg, `worker plain-gale has no type "shout", or refuses it (component "shout")`) || !strings.Contains(msg, "422") {
		t.Errorf("gale submit printed:\n%s%s\nwant the worker, the type, the component and the status", msg, stdout.String())
	}
	t.Logf("gale submit says:\n%s", msg)

	// through the plain worker: it cannot even decode the topology (400)
	_, err = plain.Client().Submit(ctx, data)
	if !errors.As(err, &se) || se.Status != 400 || !strings.Contains(strings.Join(se.Details, " "), "shout") {
		t.Errorf("submit through plain-gale: %v, want HTTP 400 naming shout", err)
	}
	// nothing was stored
	if tops, err := c.Topologies(ctx); err != nil || len(tops) != 0 {
		t.Errorf("topologies after the refusals: %v, %v", tops, err)
	}
}
