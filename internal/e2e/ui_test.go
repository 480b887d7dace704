package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/uitest"
)

// uiTopology is a word count whose "flaky" bolt fails a few tuples once
// each and reports an error for each.
const uiTopology = `{"name": "wc-ui", "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 1000},
  "spouts": [{"id": "sentences", "type": "generator", "parallelism": 2, "config": {"seed": 11, "rate": 2000}}],
  "bolts": [
    {"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "sentences"}]},
    {"id": "flaky", "type": "fail", "parallelism": 2, "config": {"ratio": 0.05, "seed": 3, "report_errors": true},
     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]},
    {"id": "count", "type": "count", "parallelism": 2, "config": {"field": "word"},
     "inputs": [{"component": "flaky", "grouping": "fields", "fields": ["word"]}]}]}`

// TestUI opens the monitor UI of one of two gale workers running a word
// count in a real headless Chromium: the DAG shows every component, the
// acked count rises, the failing bolt's error shows in its errors list,
// and a rebalance through the UI (token prompt, confirmation) changes the
// parallelism. Screenshots go to the artefacts directory (ui/e2e-*.png).
func TestUI(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster and browser test (-short)")
	}
	b := uitest.New(t) // first: skips (or fails in CI) without a browser, before starting workers
	b.Timeout = 60 * time.Second
	dir := t.TempDir()
	w1 := startWorker(t, dir, "w1", "")
	w2 := startWorker(t, dir, "w2", w1.Gossip)
	c := w1.Client()
	ctx := context.Background()
	waitMembers(t, c, 2)
	if _, err := c.Submit(ctx, []byte(uiTopology)); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "the topology to run on 2 workers", 60*time.Second, func() bool {
		d, err := c.Describe(ctx, "wc-ui")
		return err == nil && d.Workers == 2 && d.Acked > 0 && len(d.Unassigned) == 0
	})
	_ = w2

	start := time.Now()
	base := "http://" + w1.HTTP + "/"
	b.Open(base + "#/")
	b.Wait("both workers on the cluster page", `document.querySelectorAll('#members tr[data-member]').length === 2`)
	b.Wait("the topology on the cluster page", `!!document.querySelector('#topologies tr[data-topology="wc-ui"]')`)
	b.Screenshot("e2e-cluster")

	b.Click(`#topologies a[href="#/topology/wc-ui"]`)
	b.Wait("the DAG", `document.querySelectorAll('svg.dag [data-component]').length === 4`)
	ids := uitest.Eval[[]string](b, `[...document.querySelectorAll('svg.dag [data-component]')].map(n => n.dataset.component).sort()`)
	if got := strings.Join(ids, ","); got != "count,flaky,sentences,split" {
		t.Errorf("DAG nodes %s, want count,flaky,sentences,split", got)
	}
	if n := uitest.Eval[int](b, `document.querySelectorAll('svg.dag path.edge').length`); n != 3 {
		t.Errorf("%d DAG edges, want 3", n)
	}

	// the acked count rises between two reads
	acked := `Number(document.querySelector('[data-metric="acked"]').dataset.value)`
	a0 := uitest.Eval[float64](b, acked)
	b.Wait("the acked count to rise", fmt.Sprintf(`%s > %v`, acked, a0))
	t.Logf("acked on the page: %v, then %v", a0, uitest.Eval[float64](b, acked))

	// the fail bolt's errors, with the worker and task
	b.Wait("flaky's errors", `(document.querySelector('[data-errors="flaky"]') || {}).innerText?.includes('failed on purpose by the fail bolt')`)
	row := uitest.Eval[string](b, `document.querySelector('[data-errors="flaky"] tr.error-row').innerText`)
	if !strings.Contains(row, "w1") && !strings.Contains(row, "w2") {
		t.Errorf("the error row names no worker: %q", row)
	}
	b.Wait("the charts", `document.querySelectorAll('#chart-throughput path.line').length > 0`)
	b.Screenshot("e2e-topology")

	b.Click(`svg.dag [data-component="flaky"]`)
	b.Wait("flaky's page", `document.querySelectorAll('#tasks-table tr[data-task]').length === 2`)
	b.Wait("flaky's errors on its page", `document.querySelector('#errors').innerText.includes('failed on purpose')`)
	b.Screenshot("e2e-component")

	// rebalance split to 3 tasks through the UI: form, confirmation, token
	b.Open(base + "#/topology/wc-ui")
	b.Wait("the rebalance button", `!!document.querySelector('#action-rebalance:not([disabled])')`)
	b.Click("#action-rebalance")
	b.Type(`#rebalance-form input[data-component="split"]`, "3")
	b.Click("#dialog-ok")
	b.Wait("the confirmation", `(document.querySelector('#rebalance-summary') || {}).innerText?.includes('split: 2 → 3')`)
	b.Click("#dialog-ok")
	b.Wait("the token prompt", `!!document.querySelector('#dialog[open] #token-input')`)
	b.Type("#token-input", clustertest.Token)
	b.Click("#dialog-ok")
	galetest.Eventually(t, "split to run 3 tasks", 60*time.Second, func() bool {
		d, err := c.Describe(ctx, "wc-ui")
		if err != nil {
			return false
		}
		for _, comp := range d.Components {
			if comp.ID == "split" {
				// version 2: the rescale stored; 3: applied (once the
				// trees in flight completed)
				return d.Version == 3 && d.Rescale == nil && comp.Parallelism == 3 && len(comp.Tasks) == 3
			}
		}
		return false
	})
	b.Wait("the new parallelism in the DAG", `(document.querySelector('[data-component="split"] .t2') || {}).textContent?.includes('×3')`)
	b.Screenshot("e2e-after-rebalance")
	t.Logf("browser part: %v", time.Since(start).Round(100*time.Millisecond))
}
