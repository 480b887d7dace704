package cli_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/galetest"
)

// TestRun_UI runs a topology with --ui and uses the API, the UI and
// /metrics of the local run: counts rise, actions need the token, a local
// run refuses to rebalance, kill ends the run and the UI stays up.
func TestRun_UI(t *testing.T) {
	p := write(t, "wc.json", `{"name": "wc",
	  "spouts": [{"id": "sentences", "type": "generator", "config": {"seed": 1}}],
	  "bolts": [{"id": "split", "type": "split", "inputs": [{"component": "sentences"}]},
	            {"id": "count", "type": "count", "parallelism": 2, "config": {"field": "word"},
	             "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}]}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs galetest.Buffer
	code := make(chan int, 1)
	go func() {
		code <- cli.Run(ctx, &cli.Env{Stdout: &out, Stderr: &errs}, []string{"run", p, "--ui", "127.0.0.1:0", "--quiet", "--auth-token", "tok"})
	}()
	re := regexp.MustCompile(`monitor UI at http://([0-9.:]+)/`)
	var addr string
	galetest.Eventually(t, "the UI address on stderr", 20*time.Second, func() bool {
		m := re.FindStringSubmatch(errs.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	c := &api.Client{Base: "http://" + addr}
	var d api.Topology
	if err := c.Get(ctx, "/api/v1/topologies/wc", &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Components) != 3 || len(d.Streams) != 2 || d.Tasks != 4 || d.Workers != 1 {
		t.Fatalf("describe: %d components, %d streams, %d tasks, %d workers; want 3, 2, 4, 1", len(d.Components), len(d.Streams), d.Tasks, d.Workers)
	}
	sr, err := c.Series(ctx, "wc", "10m")
	if err != nil || len(sr.Components) != 3 || sr.StepSeconds != 5 {
		t.Fatalf("series: %+v, %v", sr, err)
	}
	var se *api.StatusError
	if _, err := c.Series(ctx, "wc", "1d"); !errors.As(err, &se) || se.Status != 400 || !strings.Contains(se.Message, "want 10m or 3h") {
		t.Fatalf("series of an unknown window: %v, want 400 naming the windows", err)
	}
	first := d.Acked
	galetest.Eventually(t, "acked to rise", 20*time.Second, func() bool {
		var d2 api.Topology
		return c.Get(ctx, "/api/v1/topologies/wc", &d2) == nil && d2.Acked > first
	})

	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s\n%s", path, resp.Status, b)
		}
		return string(b)
	}
	if page := get("/"); !strings.Contains(page, "<html") {
		t.Fatalf("GET /: not the UI:\n%.300s", page)
	}
	if m := get("/metrics"); !regexp.MustCompile(`gale_task_acked_total\{[^}]*component="count"`).MatchString(m) {
		t.Fatalf("/metrics has no acked counter of the count bolt:\n%.2000s", m)
	}
	info, err := c.Info(ctx)
	if err != nil || info.Mode != "local" || !info.AuthRequired || info.Rebalance {
		t.Fatalf("info %+v (%v): want local, a token, no rebalance", info, err)
	}

	if err := c.SetActive(ctx, "wc", false); !errors.As(err, &se) || se.Status != 401 {
		t.Fatalf("deactivate without the token: %v, want 401", err)
	}
	c.Token = "tok"
	if err := c.Rebalance(ctx, "wc", api.Rebalance{Workers: 2}); !errors.As(err, &se) || se.Status != 501 {
		t.Fatalf("rebalance of a local run: %v, want 501", err)
	}
	if err := c.SetActive(ctx, "wc", false); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "/api/v1/topologies/wc", &d); err != nil || d.Status != "inactive" {
		t.Fatalf("after deactivate: status %q (%v)", d.Status, err)
	}
	if err := c.Get(ctx, "/api/v1/topologies/gone", &d); !errors.As(err, &se) || se.Status != 404 {
		t.Fatalf("unknown topology: %v, want 404", err)
	}
	if err := c.Kill(ctx, "wc", time.Second); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "the run to end and the UI to stay", 20*time.Second, func() bool { return strings.Contains(errs.String(), "the run is over") })
	if err := c.Get(ctx, "/api/v1/topologies/wc", &d); err != nil || d.Status != "killed" || d.Acked == 0 {
		t.Fatalf("after kill: status %q, acked %d (%v); want killed with its counts", d.Status, d.Acked, err)
	}
	select {
	case c := <-code:
		t.Fatalf("gale run exited (%d) while the UI should stay up", c)
	default:
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d\n%s", c, errs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("gale run did not exit after Ctrl-C")
	}
	if !strings.Contains(out.String(), "Topology wc ran") {
		t.Fatalf("no summary on stdout:\n%s", out.String())
	}
}
