// Package storetest is the conformance suite every store.Store must pass:
// CRUD, optimistic concurrency (conflicts, ErrExists, stale epochs),
// validation, Watch across instances, restart, and writers racing from
// several instances.
//
//	func TestMyStore_Conformance(t *testing.T) {
//		dir := t.TempDir()
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := store.OpenFileStore(dir)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
)

// Timeout bounds each wait for a Watch event.
const Timeout = 15 * time.Second

// Run runs the suite. newStore must return a new instance on the same
// backing store (the same directory, the same topic) at every call, as a
// second process would open it; the suite closes the instances. Every
// subtest uses names of its own, so the backing store may hold other
// records.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	uniq := fmt.Sprintf("c%d", time.Now().UnixNano()%1_000_000_000_000)
	name := func(s string) string { return uniq + "-" + s }
	open := func(t *testing.T) store.Store {
		s := newStore(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	ctx := context.Background()

	t.Run("TopologyCRUD", func(t *testing.T) {
		s := open(t)
		n := name("crud")
		in := store.Topology{Name: n, JSON: json.RawMessage(`{"name":"` + n + `","spouts":[]}`),
			Parallelism: map[string]int{"split": 3}, Workers: 2}
		before := time.Now().Add(-time.Second)
		v1, err := s.PutTopology(ctx, in, 0)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if v1.Version != 1 || v1.Status != store.StatusActive || v1.SubmittedAt.Before(before) || !v1.UpdatedAt.Equal(v1.SubmittedAt) {
			t.Errorf("created %+v: want version 1, status active, SubmittedAt = UpdatedAt = now", v1)
		}
		got, err := s.GetTopology(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		EqualTopology(t, got, v1)
		if string(got.JSON) != string(in.JSON) || got.Parallelism["split"] != 3 || got.Workers != 2 {
			t.Errorf("got %+v, want the fields put", got)
		}

		upd := got
		upd.Status, upd.KillDrainSeconds, upd.Parallelism = store.StatusKilled, 30, map[string]int{"split": 5, "count": 2}
		upd.SubmittedAt = time.Time{} // ignored: the store keeps the creation time
		v2, err := s.PutTopology(ctx, upd, 1)
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		if v2.Version != 2 || !v2.SubmittedAt.Equal(v1.SubmittedAt) || v2.UpdatedAt.Before(v1.UpdatedAt) {
			t.Errorf("updated %+v: want version 2, SubmittedAt kept, UpdatedAt ≥ the first", v2)
		}
		got, err = s.GetTopology(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		EqualTopology(t, got, v2)

		list, err := s.ListTopologies(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if l := filter(list, uniq+"-crud"); len(l) != 1 || l[0].Version != 2 {
			t.Errorf("list = %v, want %s at version 2", names(l), n)
		}

		if err := s.DeleteTopology(ctx, n, 2); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := s.GetTopology(ctx, n); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get after delete: %v, want ErrNotFound", err)
		}
		list, err = s.ListTopologies(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if l := filter(list, uniq+"-crud"); len(l) != 0 {
			t.Errorf("list after delete = %v", names(l))
		}
		// created again: a new record, version 1
		again, err := s.PutTopology(ctx, in, 0)
		if err != nil || again.Version != 1 {
			t.Errorf("create after delete = version %d, %v; want 1", again.Version, err)
		}
	})

	t.Run("TopologyJSONKeptByteForByte", func(t *testing.T) {
		s := open(t)
		for i, raw := range []string{
			"{\n  \"name\": \"x\",\n\t\"spouts\": [ ]\n}\n",
			`{"note":"héllo – ✓ \u00e9","n":1e3}`,
			"{\"bad-utf8\": \"\xff\xfe\"}",
			"",
		} {
			n := name(fmt.Sprintf("raw%d", i))
			if _, err := s.PutTopology(ctx, store.Topology{Name: n, JSON: json.RawMessage(raw)}, 0); err != nil {
				t.Fatalf("put %q: %v", raw, err)
			}
			got, err := s.GetTopology(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.JSON) != raw {
				t.Errorf("JSON read back %q, want %q", got.JSON, raw)
			}
		}
	})

	t.Run("TopologyConflicts", func(t *testing.T) {
		s := open(t)
		n := name("conflict")
		if _, err := s.PutTopology(ctx, store.Topology{Name: n}, 0); err != nil {
			t.Fatal(err)
		}
		v2, err := s.PutTopology(ctx, store.Topology{Name: n, Workers: 1}, 1)
		if err != nil {
			t.Fatal(err)
		}

		// a second submit of the same name
		_, err = s.PutTopology(ctx, store.Topology{Name: n, Workers: 9}, 0)
		checkRecordError(t, err, store.ErrExists, store.KindTopology, n, 0, 2)
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("ErrExists does not match ErrConflict: %v", err)
		}
		// an update from a stale read
		for _, v := range []uint64{1, 3, 99} {
			_, err = s.PutTopology(ctx, store.Topology{Name: n, Workers: 9}, v)
			checkRecordError(t, err, store.ErrConflict, store.KindTopology, n, v, 2)
		}
		// an update of a record that does not exist
		_, err = s.PutTopology(ctx, store.Topology{Name: name("missing")}, 4)
		checkRecordError(t, err, store.ErrNotFound, store.KindTopology, name("missing"), 4, 0)
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("a Put's ErrNotFound does not match ErrConflict: %v", err)
		}
		// deletes
		err = s.DeleteTopology(ctx, n, 1)
		checkRecordError(t, err, store.ErrConflict, store.KindTopology, n, 1, 2)
		err = s.DeleteTopology(ctx, name("missing"), 1)
		checkRecordError(t, err, store.ErrNotFound, store.KindTopology, name("missing"), 1, 0)
		if _, err := s.GetTopology(ctx, name("missing")); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), name("missing")) {
			t.Errorf("get of a missing record: %v, want ErrNotFound naming it", err)
		}

		// nothing above changed the record
		got, err := s.GetTopology(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		EqualTopology(t, got, v2)
	})

	t.Run("InvalidRecords", func(t *testing.T) {
		s := open(t)
		n := name("invalid")
		for _, tc := range []struct {
			what string
			t    store.Topology
		}{
			{"empty name", store.Topology{}},
			{"slash in name", store.Topology{Name: "a/b"}},
			{"space in name", store.Topology{Name: "a b"}},
			{"long name", store.Topology{Name: strings.Repeat("x", store.MaxNameLen+1)}},
			{"status", store.Topology{Name: n, Status: "paused"}},
			{"json", store.Topology{Name: n, JSON: json.RawMessage(`{"a":`)}},
			{"parallelism 0", store.Topology{Name: n, Parallelism: map[string]int{"split": 0}}},
			{"parallelism of no component", store.Topology{Name: n, Parallelism: map[string]int{"": 2}}},
			{"workers", store.Topology{Name: n, Workers: -1}},
			{"drain", store.Topology{Name: n, KillDrainSeconds: -1}},
		} {
			if _, err := s.PutTopology(ctx, tc.t, 0); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("put with a bad %s: %v, want ErrInvalid", tc.what, err)
			}
		}
		for _, a := range []store.Assignment{
			{Topology: n, Epoch: 0},
			{Topology: "", Epoch: 1},
			{Topology: n, Epoch: 1, Tasks: map[string]string{"split/0": ""}},
			{Topology: n, Epoch: 1, Tasks: map[string]string{"": "w1"}},
		} {
			if _, err := s.PutAssignment(ctx, a); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("put assignment %+v: %v, want ErrInvalid", a, err)
			}
		}
		if _, err := s.GetTopology(ctx, "../etc"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("get ../etc: %v, want ErrInvalid", err)
		}
		if _, err := s.GetTopology(ctx, n); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an invalid put wrote something: get = %v", err)
		}
	})

	t.Run("AssignmentEpochs", func(t *testing.T) {
		s := open(t)
		n := name("assign")
		if _, err := s.GetAssignment(ctx, n); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get of no assignment: %v, want ErrNotFound", err)
		}
		tasks := map[string]string{"split/0": "w1", "split/1": "w2", "count/0": "w3"}
		a1, err := s.PutAssignment(ctx, store.Assignment{Topology: n, Epoch: 1, Tasks: tasks})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetAssignment(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		EqualAssignment(t, got, a1)
		if !maps.Equal(got.Tasks, tasks) || got.Epoch != 1 || got.UpdatedAt.IsZero() {
			t.Errorf("got %+v, want epoch 1 and the tasks put", got)
		}

		_, err = s.PutAssignment(ctx, store.Assignment{Topology: n, Epoch: 1, Tasks: map[string]string{"split/0": "w9"}})
		checkRecordError(t, err, store.ErrStale, store.KindAssignment, n, 1, 1)
		a5, err := s.PutAssignment(ctx, store.Assignment{Topology: n, Epoch: 5}) // epochs may jump
		if err != nil {
			t.Fatal(err)
		}
		if len(a5.Tasks) != 0 || a5.Tasks == nil {
			t.Errorf("an assignment without tasks reads back %#v, want an empty map", a5.Tasks)
		}
		for _, e := range []uint64{4, 5} {
			_, err = s.PutAssignment(ctx, store.Assignment{Topology: n, Epoch: e})
			checkRecordError(t, err, store.ErrStale, store.KindAssignment, n, e, 5)
		}
		got, err = s.GetAssignment(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		EqualAssignment(t, got, a5)

		err = s.DeleteAssignment(ctx, n, 4)
		checkRecordError(t, err, store.ErrStale, store.KindAssignment, n, 4, 5)
		if err := s.DeleteAssignment(ctx, n, 5); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := s.GetAssignment(ctx, n); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get after delete: %v, want ErrNotFound", err)
		}
		err = s.DeleteAssignment(ctx, n, 5)
		checkRecordError(t, err, store.ErrNotFound, store.KindAssignment, n, 5, 0)

		// a topology and its assignment are separate records
		if _, err := s.GetTopology(ctx, n); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an assignment made a topology record: %v", err)
		}
	})

	t.Run("ListSortedByName", func(t *testing.T) {
		s := open(t)
		for _, x := range []string{"list-c", "list-a", "list-b"} {
			if _, err := s.PutTopology(ctx, store.Topology{Name: name(x)}, 0); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.ListTopologies(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := names(filter(list, uniq+"-list-"))
		if want := []string{name("list-a"), name("list-b"), name("list-c")}; !slices.Equal(got, want) {
			t.Errorf("list = %v, want %v", got, want)
		}
		if !slices.IsSortedFunc(list, func(a, b store.Topology) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("list not sorted: %v", names(list))
		}
	})

	t.Run("WatchSeesAnotherInstance", func(t *testing.T) {
		watcher, writer := open(t), open(t)
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		events, err := watcher.Watch(wctx)
		if err != nil {
			t.Fatal(err)
		}
		n := name("watch")
		if _, err := writer.PutTopology(ctx, store.Topology{Name: n}, 0); err != nil {
			t.Fatal(err)
		}
		WaitEvent(t, events, store.Event{Kind: store.KindTopology, Name: n, Version: 1})
		// after an event, the watcher's store reads that version
		if got, err := watcher.GetTopology(ctx, n); err != nil || got.Version != 1 {
			t.Errorf("get after the event = version %d, %v; want 1", got.Version, err)
		}
		if _, err := writer.PutTopology(ctx, store.Topology{Name: n, Status: store.StatusInactive}, 1); err != nil {
			t.Fatal(err)
		}
		WaitEvent(t, events, store.Event{Kind: store.KindTopology, Name: n, Version: 2})
		if got, err := watcher.GetTopology(ctx, n); err != nil || got.Status != store.StatusInactive {
			t.Errorf("get after the event = %+v, %v; want it inactive", got, err)
		}
		if _, err := writer.PutAssignment(ctx, store.Assignment{Topology: n, Epoch: 7, Tasks: map[string]string{"a/0": "w1"}}); err != nil {
			t.Fatal(err)
		}
		WaitEvent(t, events, store.Event{Kind: store.KindAssignment, Name: n, Version: 7})
		if got, err := watcher.GetAssignment(ctx, n); err != nil || got.Epoch != 7 {
			t.Errorf("get assignment after the event = epoch %d, %v; want 7", got.Epoch, err)
		}
		if err := writer.DeleteTopology(ctx, n, 2); err != nil {
			t.Fatal(err)
		}
		WaitEvent(t, events, store.Event{Kind: store.KindTopology, Name: n, Deleted: true})
		if err := writer.DeleteAssignment(ctx, n, 7); err != nil {
			t.Fatal(err)
		}
		WaitEvent(t, events, store.Event{Kind: store.KindAssignment, Name: n, Deleted: true})

		// the channel closes when the context ends
		cancel()
		deadline := time.After(Timeout)
		for {
			select {
			case _, ok := <-events:
				if !ok {
					return
				}
			case <-deadline:
				t.Fatal("the Watch channel stayed open after its context ended")
			}
		}
	})

	t.Run("WatchSeesOwnWrites", func(t *testing.T) {
		s := open(t)
		events, err := s.Watch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := name("ownwatch")
		if _, err := s.PutTopology(ctx, store.Topology{Name: n}, 0); err != nil {
			t.Fatal(err)
		}
		WaitEvent(t, events, store.Event{Kind: store.KindTopology, Name: n, Version: 1})
		// Close ends the watch
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(Timeout)
		for {
			select {
			case _, ok := <-events:
				if !ok {
					return
				}
			case <-deadline:
				t.Fatal("the Watch channel stayed open after Close")
			}
		}
	})

	t.Run("RestartReadsEverythingBack", func(t *testing.T) {
		s := newStore(t)
		var want []store.Topology
		for i := range 3 {
			tp, err := s.PutTopology(ctx, store.Topology{Name: name(fmt.Sprintf("restart%d", i)),
				JSON: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				if tp, err = s.PutTopology(ctx, store.Topology{Name: tp.Name, Status: store.StatusInactive, Workers: 3}, 1); err != nil {
					t.Fatal(err)
				}
			}
			want = append(want, tp)
		}
		a, err := s.PutAssignment(ctx, store.Assignment{Topology: name("restart0"), Epoch: 3, Tasks: map[string]string{"s/0": "w1", "s/1": "w2"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetTopology(ctx, want[0].Name); !errors.Is(err, store.ErrClosed) {
			t.Errorf("get on a closed store: %v, want ErrClosed", err)
		}

		r := open(t)
		list, err := r.ListTopologies(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := filter(list, uniq+"-restart")
		if len(got) != len(want) {
			t.Fatalf("after restart: %v, want %v", names(got), names(want))
		}
		for i := range want {
			EqualTopology(t, got[i], want[i])
		}
		ga, err := r.GetAssignment(ctx, a.Topology)
		if err != nil {
			t.Fatal(err)
		}
		EqualAssignment(t, ga, a)
		// and the versions carry on
		if _, err := r.PutTopology(ctx, store.Topology{Name: want[1].Name}, 2); err != nil {
			t.Errorf("update after restart: %v", err)
		}
		if _, err := r.PutAssignment(ctx, store.Assignment{Topology: a.Topology, Epoch: 3}); !errors.Is(err, store.ErrStale) {
			t.Errorf("stale epoch after restart: %v, want ErrStale", err)
		}
	})

	t.Run("ConcurrentWritersOneWinsEachRound", func(t *testing.T) {
		a, b := open(t), open(t)
		n := name("race")
		if _, err := a.PutTopology(ctx, store.Topology{Name: n}, 0); err != nil {
			t.Fatal(err)
		}
		const rounds = 8
		wins := map[string]int{}
		for round := range rounds {
			version := uint64(round + 1)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, s := range []store.Store{a, b} {
				wg.Go(func() {
					_, errs[i] = s.PutTopology(ctx, store.Topology{Name: n, Workers: i + 1}, version)
				})
			}
			wg.Wait()
			won := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if won >= 0 {
						t.Fatalf("round %d: both writers won", round)
					}
					won = i
				case errors.Is(err, store.ErrConflict):
				default:
					t.Fatalf("round %d: writer %d: %v", round, i, err)
				}
			}
			if won < 0 {
				t.Fatalf("round %d: no writer won: %v", round, errs)
			}
			wins[fmt.Sprint(won)]++
			Sync(t, a)
			got, err := a.GetTopology(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != version+1 || got.Workers != won+1 {
				t.Fatalf("round %d: stored version %d workers %d, want the winner's (%d, %d)", round, got.Version, got.Workers, version+1, won+1)
			}
		}
		t.Logf("wins per writer over %d rounds: %v", rounds, wins)

		// creates race the same way: exactly one ErrExists
		n2 := name("race-create")
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, s := range []store.Store{a, b} {
			wg.Go(func() { _, errs[i] = s.PutTopology(ctx, store.Topology{Name: n2}, 0) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), store.ErrExists) {
			t.Errorf("two creates of one name: %v, want one success and one ErrExists", errs)
		}
	})

	t.Run("ConcurrentAssignmentsOneWinsEachEpoch", func(t *testing.T) {
		a, b := open(t), open(t)
		n := name("race-assign")
		for epoch := uint64(1); epoch <= 6; epoch++ {
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, s := range []store.Store{a, b} {
				wg.Go(func() {
					_, errs[i] = s.PutAssignment(ctx, store.Assignment{Topology: n, Epoch: epoch,
						Tasks: map[string]string{"t/0": fmt.Sprintf("w%d", i)}})
				})
			}
			wg.Wait()
			ok := 0
			for i, err := range errs {
				if err == nil {
					ok++
				} else if !errors.Is(err, store.ErrStale) {
					t.Fatalf("epoch %d: writer %d: %v", epoch, i, err)
				}
			}
			if ok != 1 {
				t.Fatalf("epoch %d: %d writers won (%v), want exactly 1", epoch, ok, errs)
			}
		}
		got, err := b.GetAssignment(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if sy, ok := b.(store.Syncer); ok && got.Epoch != 6 {
			if err := sy.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			got, err = b.GetAssignment(ctx, n)
		}
		if err != nil || got.Epoch != 6 {
			t.Errorf("final epoch %d, %v; want 6", got.Epoch, err)
		}
	})

	t.Run("NoLostUpdates", func(t *testing.T) {
		// three instances increment a counter (Workers) with
		// read-modify-write loops; every increment must land
		stores := []store.Store{open(t), open(t), open(t)}
		n := name("counter")
		if _, err := stores[0].PutTopology(ctx, store.Topology{Name: n}, 0); err != nil {
			t.Fatal(err)
		}
		for _, s := range stores {
			Sync(t, s)
		}
		const perWriter = 4
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		conflicts := make([]int, len(stores))
		for i, s := range stores {
			wg.Go(func() {
				for range perWriter {
					for {
						if sy, ok := s.(store.Syncer); ok && conflicts[i] > 0 {
							if errs[i] = sy.Sync(ctx); errs[i] != nil {
								return
							}
						}
						cur, err := s.GetTopology(ctx, n)
						if err != nil {
							errs[i] = err
							return
						}
						cur.Workers++
						if _, err = s.PutTopology(ctx, cur, cur.Version); err == nil {
							break
						} else if !errors.Is(err, store.ErrConflict) {
							errs[i] = err
							return
						}
						conflicts[i]++
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		got, err := stores[0].GetTopology(ctx, n)
		if sy, ok := stores[0].(store.Syncer); ok && err == nil && got.Workers != len(stores)*perWriter {
			if err := sy.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			got, err = stores[0].GetTopology(ctx, n)
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := len(stores) * perWriter; got.Workers != want || got.Version != uint64(want+1) {
			t.Errorf("counter %d at version %d, want %d at version %d (conflicts retried: %v)", got.Workers, got.Version, want, want+1, conflicts)
		}
	})

	t.Run("SyncSeesOtherInstancesWrites", func(t *testing.T) {
		a, b := open(t), open(t)
		sy, ok := b.(store.Syncer)
		n := name("sync")
		for i := range 3 {
			tp, err := a.PutTopology(ctx, store.Topology{Name: n, Workers: i}, uint64(i))
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				if err := sy.Sync(ctx); err != nil {
					t.Fatal(err)
				}
			}
			got, err := b.GetTopology(ctx, n)
			if err != nil || got.Version != tp.Version {
				t.Fatalf("read on another instance after Sync: version %d, %v; want %d", got.Version, err, tp.Version)
			}
		}
	})

	t.Run("LeaseCompareAndSet", func(t *testing.T) {
		a, b := open(t), open(t)
		n := name("lease")
		if _, err := a.GetLease(ctx, n); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get a missing lease: %v, want ErrNotFound", err)
		}
		if _, err := a.PutLease(ctx, store.Lease{Name: n, Holder: "a"}, 0); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a lease without a ttl: %v, want ErrInvalid", err)
		}
		l1, err := a.PutLease(ctx, store.Lease{Name: n, Holder: "a", TTL: 3 * time.Second}, 0)
		if err != nil || l1.Version != 1 || l1.Holder != "a" || l1.TTL != 3*time.Second {
			t.Fatalf("create: %+v, %v", l1, err)
		}
		Sync(t, b)
		got, err := b.GetLease(ctx, n)
		if err != nil || got != l1 {
			t.Fatalf("the other instance reads %+v, %v; want %+v", got, err, l1)
		}
		if _, err := b.PutLease(ctx, store.Lease{Name: n, Holder: "b", TTL: time.Second}, 0); !errors.Is(err, store.ErrExists) || !errors.Is(err, store.ErrConflict) {
			t.Errorf("create over an existing lease: %v, want ErrExists and ErrConflict", err)
		}
		// of two contenders taking version 1 over, exactly one wins
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i, s := range []store.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.PutLease(ctx, store.Lease{Name: n, Holder: fmt.Sprint("c", i), TTL: time.Second}, 1)
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("contender %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d contenders took the lease, want 1", wins.Load())
		}
		Sync(t, a)
		if l, err := a.GetLease(ctx, n); err != nil || l.Version != 2 || (l.Holder != "c0" && l.Holder != "c1") {
			t.Errorf("after the race: %+v, %v", l, err)
		}
	})

	t.Run("ClosedAndCanceled", func(t *testing.T) {
		s := newStore(t)
		n := name("closed")
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.PutTopology(canceled, store.Topology{Name: n}, 0); !errors.Is(err, context.Canceled) {
			t.Errorf("put with a canceled context: %v, want context.Canceled", err)
		}
		if _, err := s.GetTopology(canceled, n); !errors.Is(err, context.Canceled) {
			t.Errorf("get with a canceled context: %v, want context.Canceled", err)
		}
		if _, err := s.Watch(canceled); !errors.Is(err, context.Canceled) {
			t.Errorf("watch with a canceled context: %v, want context.Canceled", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		checks := map[string]error{}
		_, checks["put"] = s.PutTopology(ctx, store.Topology{Name: n}, 0)
		_, checks["get"] = s.GetTopology(ctx, n)
		_, checks["list"] = s.ListTopologies(ctx)
		checks["delete"] = s.DeleteTopology(ctx, n, 1)
		_, checks["put assignment"] = s.PutAssignment(ctx, store.Assignment{Topology: n, Epoch: 1})
		_, checks["get assignment"] = s.GetAssignment(ctx, n)
		checks["delete assignment"] = s.DeleteAssignment(ctx, n, 1)
		_, checks["watch"] = s.Watch(ctx)
		for op, err := range checks {
			if !errors.Is(err, store.ErrClosed) {
				t.Errorf("%s after Close: %v, want ErrClosed", op, err)
			}
		}
		// nothing was written
		r := open(t)
		if _, err := r.GetTopology(ctx, n); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a canceled or closed put wrote: %v", err)
		}
	})
}

// Sync calls s.Sync when s is a store.Syncer, so that s reads the writes
// other instances completed.
func Sync(t testing.TB, s store.Store) {
	t.Helper()
	if sy, ok := s.(store.Syncer); ok {
		if err := sy.Sync(context.Background()); err != nil {
			t.Fatalf("sync: %v", err)
		}
	}
}

// WaitEvent reads events until one equal to each of want has arrived, in
// any order (other events are skipped); it fails the test after Timeout
// or when the channel closes.
func WaitEvent(t testing.TB, events <-chan store.Event, want ...store.Event) {
	t.Helper()
	missing := map[store.Event]bool{}
	for _, w := range want {
		missing[w] = true
	}
	deadline := time.After(Timeout)
	var seen []string
	for len(missing) > 0 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("watch closed before %v; saw %v", slices.Collect(maps.Keys(missing)), seen)
			}
			delete(missing, ev)
			seen = append(seen, ev.String())
		case <-deadline:
			t.Fatalf("no event %v within %v; saw %v", slices.Collect(maps.Keys(missing)), Timeout, seen)
		}
	}
}

// EqualTopology fails the test unless got and want are the same record.
func EqualTopology(t testing.TB, got, want store.Topology) {
	t.Helper()
	if got.Name != want.Name || string(got.JSON) != string(want.JSON) || got.Version != want.Version ||
		got.Status != want.Status || !got.SubmittedAt.Equal(want.SubmittedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) ||
		!maps.Equal(got.Parallelism, want.Parallelism) || got.Workers != want.Workers || got.KillDrainSeconds != want.KillDrainSeconds {
		t.Errorf("topology\n got  %+v\n want %+v", got, want)
	}
}

// EqualAssignment fails the test unless got and want are the same record.
func EqualAssignment(t testing.TB, got, want store.Assignment) {
	t.Helper()
	if got.Topology != want.Topology || got.Epoch != want.Epoch || !got.UpdatedAt.Equal(want.UpdatedAt) || !maps.Equal(got.Tasks, want.Tasks) {
		t.Errorf("assignment\n got  %+v\n want %+v", got, want)
	}
}

func checkRecordError(t testing.TB, err, sentinel error, kind store.Kind, name string, want, have uint64) {
	t.Helper()
	var re *store.RecordError
	switch {
	case !errors.Is(err, sentinel):
		t.Errorf("error %v, want %v", err, sentinel)
	case !errors.As(err, &re):
		t.Errorf("error %v (%T) is not a *store.RecordError", err, err)
	case re.Kind != kind || re.Name != name || re.Want != want || re.Have != have:
		t.Errorf("error %+v, want it about %s %q, want %d have %d", *re, kind, name, want, have)
	case !strings.Contains(err.Error(), name):
		t.Errorf("error %q does not name the record %q", err, name)
	}
}

func filter(list []store.Topology, prefix string) []store.Topology {
	var out []store.Topology
	for _, t := range list {
		if strings.HasPrefix(t.Name, prefix) {
			out = append(out, t)
		}
	}
	return out
}

func names(list []store.Topology) []string {
	out := make([]string, len(list))
	for i, t := range list {
		out[i] = t.Name
	}
	return out
}

// Bench measures a store: sub-benchmarks for a compare-and-set update, a
// read, an assignment write, and updates racing from two instances (each
// iteration is one successful update). newStore works as for Run.
func Bench(b *testing.B, newStore func(b *testing.B) store.Store) {
	ctx := context.Background()
	var runs atomic.Int64 // a sub-benchmark may run several times: new names each time
	name := func(what string) string {
		return fmt.Sprintf("b%d-%s-%d", time.Now().UnixNano()%1_000_000_000_000, what, runs.Add(1))
	}
	open := func(b *testing.B) store.Store {
		s := newStore(b)
		b.Cleanup(func() { s.Close() })
		return s
	}
	js := json.RawMessage(`{"name":"wc","spouts":[{"id":"lines","type":"kafka","parallelism":4}],` +
		`"bolts":[{"id":"split","type":"split","parallelism":8},{"id":"count","type":"count","parallelism":8}]}`)

	b.Run("PutTopology", func(b *testing.B) {
		s := open(b)
		t, err := s.PutTopology(ctx, store.Topology{Name: name("put"), JSON: js}, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(js)))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			t.Workers++
			if t, err = s.PutTopology(ctx, t, t.Version); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("GetTopology", func(b *testing.B) {
		s := open(b)
		n := name("get")
		if _, err := s.PutTopology(ctx, store.Topology{Name: n, JSON: js}, 0); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(js)))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := s.GetTopology(ctx, n); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("PutAssignment", func(b *testing.B) {
		s := open(b)
		tasks := map[string]string{}
		for i := range 20 {
			tasks[fmt.Sprintf("split/%d", i)] = fmt.Sprintf("worker-%d", i%3)
		}
		b.ReportAllocs()
		b.ResetTimer()
		epoch, n := uint64(0), name("assign")
		for b.Loop() {
			epoch++
			if _, err := s.PutAssignment(ctx, store.Assignment{Topology: n, Epoch: epoch, Tasks: tasks}); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("ContendedPut", func(b *testing.B) {
		stores := []store.Store{open(b), open(b)}
		name := name("contended")
		if _, err := stores[0].PutTopology(ctx, store.Topology{Name: name}, 0); err != nil {
			b.Fatal(err)
		}
		Sync(b, stores[1])
		b.ReportAllocs()
		b.ResetTimer()
		var mu sync.Mutex
		done, conflicts := 0, 0
		var wg sync.WaitGroup
		for _, s := range stores {
			wg.Go(func() {
				for {
					mu.Lock()
					finished := done >= b.N
					mu.Unlock()
					if finished {
						return
					}
					cur, err := s.GetTopology(ctx, name)
					if err != nil {
						b.Error(err)
						return
					}
					cur.Workers++
					_, err = s.PutTopology(ctx, cur, cur.Version)
					mu.Lock()
					switch {
					case err == nil:
						done++
					case errors.Is(err, store.ErrConflict):
						conflicts++
						if sy, ok := s.(store.Syncer); ok {
							mu.Unlock()
							if err := sy.Sync(ctx); err != nil {
								b.Error(err)
								return
							}
							mu.Lock()
						}
					default:
						b.Error(err)
						mu.Unlock()
						return
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(conflicts)/float64(b.N), "conflicts/op")
	})
}
