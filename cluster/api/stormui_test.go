package api

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestStormDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {59 * time.Second, "59s"}, {6*time.Minute + 5*time.Second, "6m 5s"},
		{3 * time.Hour, "3h 0m 0s"}, {24*time.Hour + time.Second, "1d 0h 0m 1s"},
	} {
		if got := stormDuration(c.d); got != c.want {
			t.Errorf("stormDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestStormWindow(t *testing.T) {
	for q, want := range map[string]string{"": "all", "?window=600": "10m", "?window=10800": "3h", "?window=:all-time": "all"} {
		_, gale, _, err := stormWindow(httptest.NewRequest("GET", "/api/v1/topology/x"+q, nil))
		if err != nil || gale != want {
			t.Errorf("window %q: %q, %v; want %q", q, gale, err, want)
		}
	}
	for _, q := range []string{"?window=86400", "?window=abc"} {
		if _, _, _, err := stormWindow(httptest.NewRequest("GET", "/api/v1/topology/x"+q, nil)); err == nil {
			t.Errorf("window %q: no error", q)
		}
	}
}

// TestTopologyWindows: Storm's topologyStats count every component's
// emits and the spouts' trees, with the complete latency weighted by the
// acked trees.
func TestTopologyWindows(t *testing.T) {
	top := &Topology{Components: []Component{
		{ID: "s1", Kind: "spout", Windows: []Window{{Window: "10m", Emitted: 10, Acked: 10, CompleteLatencyMs: 1}}},
		{ID: "s2", Kind: "spout", Windows: []Window{{Window: "10m", Emitted: 30, Acked: 30, Failed: 2, CompleteLatencyMs: 5}}},
		{ID: "b", Kind: "bolt", Windows: []Window{{Window: "10m", Emitted: 100, Transferred: 100, Acked: 40}}},
	}}
	w := topologyWindows(top)[0]
	if w.Window != "10m" || w.Emitted != 140 || w.Transferred != 100 || w.Acked != 40 || w.Failed != 2 || w.CompleteLatencyMs != 4 {
		t.Fatalf("10m: %+v; want emitted 140, transferred 100, acked 40 (spouts), failed 2, complete latency 4 ms", w)
	}
}
