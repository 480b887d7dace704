package metrics_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gale-stream/gale/cluster/internal/metrics"
	"github.com/gale-stream/gale/local"
)

// A worker serves its local tasks' stats at /metrics; here a source with
// one bolt task, and the lines of two of its series.
func ExampleHandler() {
	src := metrics.SourceFunc(func() []local.Stats {
		return []local.Stats{{Topology: "wordcount", Tasks: []local.TaskStats{
			{Component: "split", Kind: "bolt", Task: 3, Executed: 42, Acked: 41, Failed: 1},
		}}}
	})
	srv := httptest.NewServer(metrics.Handler("w1", "v1.0.0", src))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "gale_task_executed_total") || strings.HasPrefix(line, "gale_worker_info") {
			fmt.Println(line)
		}
	}
	// Output:
	// gale_task_executed_total{component="split",kind="bolt",task="3",topology="wordcount",worker="w1"} 42
	// gale_worker_info{version="v1.0.0",worker="w1"} 1
}
