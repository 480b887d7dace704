package store_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/galetest"
)

// checkNoLeak runs cycle (open a store, use it, close it) once to warm up
// what libraries start once per process, then twice more, and fails
// unless the number of goroutines comes back to where it was.
func checkNoLeak(t *testing.T, cycle func(i int)) {
	cycle(0)
	base := runtime.NumGoroutine()
	cycle(1)
	cycle(2)
	back := false
	defer func() {
		if !back {
			t.Logf("%d goroutines after closing the stores, %d before", runtime.NumGoroutine(), base)
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		}
	}()
	galetest.Eventually(t, fmt.Sprintf("the goroutines to come back to %d", base), 10*time.Second, func() bool {
		return runtime.NumGoroutine() <= base
	})
	back = true
}

// useStore writes, watches (leaving the watch open: Close ends it) and
// reads.
func useStore(t *testing.T, s store.Store, i int) {
	ctx := context.Background()
	if _, err := s.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutTopology(ctx, store.Topology{Name: "leak"}, uint64(i)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListTopologies(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFileStore_CloseLeavesNoGoroutines(t *testing.T) {
	dir := t.TempDir()
	checkNoLeak(t, func(i int) {
		s, err := store.OpenFileStore(dir, store.WithPollInterval(10*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		useStore(t, s, i)
	})
}

func TestKafkaStore_CloseLeavesNoGoroutines(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	checkNoLeak(t, func(i int) { useStore(t, openKafka(t, brokers, topic), i) })
}
