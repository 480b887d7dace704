package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/galetest"
)

// cuttableStore is a file store whose Sync fails while cut (a worker cut
// from the Kafka of its store).
type cuttableStore struct {
	store.Store
	cut atomic.Bool
}

func (s *cuttableStore) Sync(ctx context.Context) error {
	if s.cut.Load() {
		<-ctx.Done()
		return errors.New("cut")
	}
	return nil
}

// TestIsolation: a worker that cannot reach the store says so in its
// gossip metadata (the others see Meta.Isolated) once the lease's time
// to live has passed twice, and clears it when the store answers again.
func TestIsolation(t *testing.T) {
	st, err := store.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := &cuttableStore{Store: st}
	w1 := startInProcess(t, Config{Name: "w1", Store: cs, LeaderTTL: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	w2 := startInProcess(t, Config{Name: "w2", Join: []string{w1.GossipAddr()}, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	isolated := func() bool {
		for _, m := range w2.ms.Members() {
			if m.Name == "w1" {
				return m.Meta.Isolated
			}
		}
		return false
	}
	galetest.Eventually(t, "w2 to see w1", 10*time.Second, func() bool { return len(w2.ms.Members()) == 2 })
	time.Sleep(3 * time.Second)
	if isolated() {
		t.Fatal("w1 isolated while it reaches the store")
	}
	cs.cut.Store(true)
	start := time.Now()
	galetest.Eventually(t, "w1 isolated", 15*time.Second, isolated)
	t.Logf("w1 isolated %v after the cut", time.Since(start).Round(100*time.Millisecond))
	cs.cut.Store(false)
	galetest.Eventually(t, "w1 back", 15*time.Second, func() bool { return !isolated() })
}
