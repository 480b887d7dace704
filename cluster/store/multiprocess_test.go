package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/cluster/store/storetest"
)

// The multi-process tests re-run this test binary as helper processes;
// these variables tell a helper what to do.
const (
	helperEnv   = "GALE_STORE_HELPER" // "file" or "kafka"
	targetEnv   = "GALE_STORE_TARGET" // the directory, or "brokers|topic"
	recordEnv   = "GALE_STORE_RECORD" // the topology whose Workers count is incremented
	countEnv    = "GALE_STORE_COUNT"  // how many increments
	indexEnv    = "GALE_STORE_INDEX"  // the helper's number
	helperLimit = 60 * time.Second
)

func TestMain(m *testing.M) {
	if kind := os.Getenv(helperEnv); kind != "" {
		if err := runHelper(kind); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func openTarget(ctx context.Context, kind, target string) (store.Store, error) {
	if kind == "file" {
		return store.OpenFileStore(target, store.WithPollInterval(20*time.Millisecond))
	}
	brokers, topic, _ := strings.Cut(target, "|")
	cfg := store.DefaultKafkaConfig(strings.Split(brokers, ",")...)
	cfg.Topic = topic
	return store.OpenKafkaStore(ctx, cfg)
}

// runHelper increments the record's Workers count COUNT times with
// read-modify-write loops, retrying on conflicts.
func runHelper(kind string) error {
	ctx, cancel := context.WithTimeout(context.Background(), helperLimit)
	defer cancel()
	s, err := openTarget(ctx, kind, os.Getenv(targetEnv))
	if err != nil {
		return err
	}
	defer s.Close()
	n, _ := strconv.Atoi(os.Getenv(countEnv))
	name := os.Getenv(recordEnv)
	// ready, then wait for the go: the record turning active
	events, err := s.Watch(ctx)
	if err != nil {
		return err
	}
	if _, err := s.PutAssignment(ctx, store.Assignment{Topology: name + "-ready" + os.Getenv(indexEnv), Epoch: 1}); err != nil {
		return err
	}
	for {
		t, err := s.GetTopology(ctx, name)
		if err != nil {
			return err
		}
		if t.Status == store.StatusActive {
			break
		}
		select {
		case <-events:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the start: %w", ctx.Err())
		}
	}
	conflicts, err := increment(ctx, s, name, n)
	fmt.Printf("conflicts=%d\n", conflicts)
	return err
}

func increment(ctx context.Context, s store.Store, name string, n int) (conflicts int, err error) {
	for range n {
		for {
			if sy, ok := s.(store.Syncer); ok && conflicts > 0 {
				if err := sy.Sync(ctx); err != nil {
					return conflicts, err
				}
			}
			cur, err := s.GetTopology(ctx, name)
			if err != nil {
				return conflicts, err
			}
			cur.Workers++
			if _, err = s.PutTopology(ctx, cur, cur.Version); err == nil {
				break
			} else if !errors.Is(err, store.ErrConflict) {
				return conflicts, err
			}
			conflicts++
		}
	}
	return conflicts, nil
}

// multiProcess runs two helper processes and this process incrementing one
// counter concurrently (the helpers say they are ready with a record each,
// and all start when the counter's record turns active), while this
// process watches: no increment is lost, and the watcher sees the final
// version written by whichever process.
func multiProcess(t *testing.T, kind, target string, perProcess int) {
	ctx := context.Background()
	s, err := openTarget(ctx, kind, target)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	name := fmt.Sprintf("mp%d", time.Now().UnixNano())
	events, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutTopology(ctx, store.Topology{Name: name, Status: store.StatusInactive}, 0); err != nil {
		t.Fatal(err)
	}

	const helpers = 2
	var wg sync.WaitGroup
	outs := make([]string, helpers)
	errs := make([]error, helpers+1)
	for i := range helpers {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+kind, targetEnv+"="+target, recordEnv+"="+name,
			countEnv+"="+strconv.Itoa(perProcess), indexEnv+"="+strconv.Itoa(i))
		wg.Go(func() {
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = strings.TrimSpace(string(out)), err
		})
	}
	// every helper is ready: start them all at once
	var ready []store.Event
	for i := range helpers {
		ready = append(ready, store.Event{Kind: store.KindAssignment, Name: fmt.Sprintf("%s-ready%d", name, i), Version: 1})
	}
	storetest.WaitEvent(t, events, ready...)
	if _, err := s.PutTopology(ctx, store.Topology{Name: name, Status: store.StatusActive}, 1); err != nil {
		t.Fatal(err)
	}
	var own int
	wg.Go(func() { own, errs[helpers] = increment(ctx, s, name, perProcess) })
	wg.Wait()
	for i := range helpers {
		if errs[i] != nil {
			t.Errorf("helper %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	if errs[helpers] != nil {
		t.Fatalf("this process: %v", errs[helpers])
	}
	t.Logf("conflicts retried: helpers %v, this process conflicts=%d", outs, own)

	total := (helpers + 1) * perProcess
	final := uint64(total + 2) // created, activated, incremented
	storetest.Sync(t, s)
	got, err := s.GetTopology(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Workers != total || got.Version != final {
		t.Fatalf("counter %d at version %d, want %d at version %d: increments were lost", got.Workers, got.Version, total, final)
	}
	storetest.WaitEvent(t, events, store.Event{Kind: store.KindTopology, Name: name, Version: final})
}

// TestFileStore_MultiProcess: three processes on one directory (the flock
// is what keeps them apart).
func TestFileStore_MultiProcess(t *testing.T) {
	multiProcess(t, "file", t.TempDir(), 200)
}

// TestKafkaStore_MultiProcess: three processes on one topic (the
// transactional fencing is what keeps them apart).
func TestKafkaStore_MultiProcess(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	multiProcess(t, "kafka", strings.Join(brokers, ",")+"|"+topic, 5)
}
