package cluster

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/registry/all"
)

// Two workers with --transport-compression lz4 run a word count whose
// tuples, acks and completions cross between them: the trees complete
// (none fails: every frame decompressed to what was sent) and the frames
// took less room on the wire than they hold (about a quarter less for
// this binary tuple encoding of short words, acks not compressed).
func TestTransportCompression_WordCount(t *testing.T) {
	st, err := store.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := all.Registry()
	// (a short drain: at the test's end both leave, nobody takes the tasks)
	w1 := startInProcess(t, Config{Name: "w1", Store: st, Logger: quiet, Registry: reg, TransportCompress: true,
		DrainTimeout: time.Second})
	w2 := startInProcess(t, Config{Name: "w2", Store: st, Logger: quiet, Registry: reg, TransportCompress: true,
		DrainTimeout: time.Second, Join: []string{w1.GossipAddr()}})
	galetest.Eventually(t, "both workers to see each other", 10*time.Second, func() bool {
		return len(w1.ms.Members()) == 2 && len(w2.ms.Members()) == 2
	})
	c := &api.Client{Base: "http://" + w1.APIAddr(), Token: "tok"}
	ctx := context.Background()
	const wc = `{"name": "wc", "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 500},
  "spouts": [{"id": "sentences", "type": "generator", "parallelism": 2, "config": {"seed": 1}}],
  "bolts": [
    {"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "sentences"}]},
    {"id": "count", "type": "count", "parallelism": 2, "config": {"field": "word"},
     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}]}`
	if _, err := c.Submit(ctx, []byte(wc)); err != nil {
		t.Fatal(err)
	}
	var d *api.Topology
	galetest.Eventually(t, "5,000 trees acked on two workers", 2*time.Minute, func() bool {
		d, err = c.Describe(ctx, "wc")
		return err == nil && d.Workers == 2 && d.Acked >= 5000
	})
	if d.Failed > 0 {
		t.Errorf("%d trees failed, %d acked", d.Failed, d.Acked)
	}
	// what an operator sees: the metrics of both kinds of bytes
	req, _ := http.NewRequest(http.MethodGet, "http://"+w1.APIAddr()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	metric := func(labels string) float64 {
		m := regexp.MustCompile(`(?m)^gale_transport_bytes_total\{` + labels + `\} (\S+)$`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no gale_transport_bytes_total{%s} in:\n%s", labels, body)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	if frames, wire := metric(`direction="out",kind="frames",peer="w2"`), metric(`direction="out",kind="wire",peer="w2"`); frames == 0 || wire >= frames {
		t.Errorf("metrics: %v bytes of frames to w2, %v on the wire", frames, wire)
	}
	for _, w := range []*Worker{w1, w2} {
		for _, p := range w.tr.Peers() {
			t.Logf("%s -> %s: %d frames, %d bytes, %d on the wire", w.cfg.Name, p.Name, p.FramesSent, p.BytesSent, p.WireBytesSent)
			// (acks and small batches, under 512 bytes, go as they are)
			if p.BytesSent < 256<<10 || p.WireBytesSent*10 > p.BytesSent*9 {
				t.Errorf("%s -> %s: %d bytes on the wire for %d of frames: want at least 256 KiB, 10 %% less on the wire",
					w.cfg.Name, p.Name, p.WireBytesSent, p.BytesSent)
			}
		}
	}
}
