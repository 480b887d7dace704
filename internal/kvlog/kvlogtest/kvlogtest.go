// Package kvlogtest is the conformance suite every kvlog.Log must pass:
// reads and writes, atomic transactions, tombstones, read barriers across
// instances, Watch, fencing of an owner's older writers, compare-and-set
// updates racing from several instances, reopening, bad keys, and storage
// deleted while in use.
//
//	func TestFileLog_Conformance(t *testing.T) {
//		kvlogtest.Run(t, func(t *testing.T) kvlogtest.Backend {
//			dir := t.TempDir()
//			return kvlogtest.Backend{
//				Open:    func(t *testing.T) kvlog.Log { l, _ := kvlog.OpenFile(dir); return l },
//				Destroy: func(t *testing.T) { os.RemoveAll(dir) },
//			}
//		})
//	}
package kvlogtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/kvlog"
)

// Timeout bounds each wait of the suite.
const Timeout = 30 * time.Second

// Backend is one fresh storage (a directory, a topic).
type Backend struct {
	// Open returns a new Log on the storage, as another process would
	// open it; the suite closes it.
	Open func(t *testing.T) kvlog.Log
	// Destroy deletes the storage (the directory, the topic).
	Destroy func(t *testing.T)
}

// Run runs the suite; newBackend is called once per subtest.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	open := func(t *testing.T, b Backend) kvlog.Log {
		l := b.Open(t)
		t.Cleanup(func() { l.Close() })
		return l
	}
	writer := func(t *testing.T, l kvlog.Log, owner string) kvlog.Writer {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		w, err := l.Writer(ctx, owner)
		if err != nil {
			t.Fatalf("writer %q: %v", owner, err)
		}
		t.Cleanup(func() { w.Close() })
		return w
	}
	ctx := context.Background()

	t.Run("ReadYourWrites", func(t *testing.T) {
		l := open(t, newBackend(t))
		w := writer(t, l, "a")
		if err := w.Write(ctx, kvlog.Record{Key: "k/1", Value: []byte("one")}, kvlog.Record{Key: "k/2", Value: []byte("two")},
			kvlog.Record{Key: "other", Value: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		Equal(t, l, "k/1", "one")
		Equal(t, l, "k/2", "two")
		Equal(t, l, "missing", "")
		if got := Keys(t, l, "k/"); fmt.Sprint(got) != "[k/1=one k/2=two]" {
			t.Errorf("scan k/: %v", got)
		}
		// an empty value is a value, not a tombstone
		if err := w.Write(ctx, kvlog.Record{Key: "k/1", Value: []byte{}}); err != nil {
			t.Fatal(err)
		}
		if v, err := l.Get(ctx, "k/1"); err != nil || v == nil || len(v) != 0 {
			t.Errorf("empty value: %q, %v; want an empty, non-nil value", v, err)
		}
		if err := w.Write(ctx, kvlog.Record{Key: "k/1"}); err != nil {
			t.Fatal(err)
		}
		Equal(t, l, "k/1", "")
		if got := Keys(t, l, "k/"); fmt.Sprint(got) != "[k/2=two]" {
			t.Errorf("scan after a tombstone: %v", got)
		}
	})

	t.Run("ScanOrderAndStop", func(t *testing.T) {
		l := open(t, newBackend(t))
		w := writer(t, l, "a")
		var recs []kvlog.Record
		for _, i := range []int{5, 1, 12, 3, 0} {
			recs = append(recs, kvlog.Record{Key: fmt.Sprintf("p/%02d", i), Value: []byte(strconv.Itoa(i))})
		}
		recs = append(recs, kvlog.Record{Key: "q", Value: []byte("q")}, kvlog.Record{Key: "o", Value: []byte("o")})
		if err := w.Write(ctx, recs...); err != nil {
			t.Fatal(err)
		}
		if got := Keys(t, l, "p/"); fmt.Sprint(got) != "[p/00=0 p/01=1 p/03=3 p/05=5 p/12=12]" {
			t.Errorf("scan p/: %v", got)
		}
		if got := Keys(t, l, ""); len(got) != 7 {
			t.Errorf("scan everything: %v, want 7 keys (and none of the log's own)", got)
		}
		stop := errors.New("stop")
		n := 0
		err := l.Scan(ctx, "p/", func(string, []byte) error {
			n++
			if n == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 2 {
			t.Errorf("scan stopped by fn: %v after %d keys, want the fn's error after 2", err, n)
		}
	})

	t.Run("AtomicAcrossInstances", func(t *testing.T) {
		b := newBackend(t)
		a, c := open(t, b), open(t, b)
		w := writer(t, a, "a")
		const n = 500
		recs := make([]kvlog.Record, n)
		for i := range recs {
			recs[i] = kvlog.Record{Key: fmt.Sprintf("batch/%04d", i), Value: []byte(strconv.Itoa(i))}
		}
		// the other instance watches: it must never see part of the write
		events, err := c.Watch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ctx, recs...); err != nil {
			t.Fatal(err)
		}
		Sync(t, c)
		if got := len(Keys(t, c, "batch/")); got != n {
			t.Fatalf("other instance after Sync: %d keys, want %d", got, n)
		}
		seen := map[string]bool{}
		deadline := time.After(Timeout)
		for len(seen) < n {
			select {
			case ch, ok := <-events:
				if !ok {
					t.Fatal("watch closed")
				}
				seen[ch.Key] = true
			case <-deadline:
				t.Fatalf("watch: %d of %d changes", len(seen), n)
			}
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		b := newBackend(t)
		l := b.Open(t)
		w, err := l.Writer(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			// overwrite and delete: what survives is the last value
			if err := w.Write(ctx, kvlog.Record{Key: "k", Value: []byte(strconv.Itoa(i))},
				kvlog.Record{Key: "gone/" + strconv.Itoa(i), Value: []byte("x")},
				kvlog.Record{Key: "gone/" + strconv.Itoa(i-1)}); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := l.Get(ctx, "k"); !errors.Is(err, kvlog.ErrClosed) {
			t.Errorf("Get after Close: %v, want ErrClosed", err)
		}
		if _, err := l.Writer(ctx, "a"); !errors.Is(err, kvlog.ErrClosed) {
			t.Errorf("Writer after Close: %v, want ErrClosed", err)
		}
		if err := w.Write(ctx, kvlog.Record{Key: "k", Value: []byte("late")}); err == nil {
			t.Error("Write of a closed writer succeeded")
		}
		l2 := open(t, b)
		Equal(t, l2, "k", "49")
		if got := Keys(t, l2, "gone/"); fmt.Sprint(got) != "[gone/49=x]" {
			t.Errorf("after reopening: %v, want [gone/49=x]", got)
		}
	})

	t.Run("Fencing", func(t *testing.T) {
		b := newBackend(t)
		a, c := open(t, b), open(t, b)
		old := writer(t, a, "owner")
		other := writer(t, a, "someone-else")
		if err := old.Write(ctx, kvlog.Record{Key: "k", Value: []byte("old")}); err != nil {
			t.Fatal(err)
		}
		// a new writer of the owner, from another instance, reads the old
		// writer's records and fences it
		nw := writer(t, c, "owner")
		Equal(t, c, "k", "old")
		err := old.Write(ctx, kvlog.Record{Key: "k", Value: []byte("stale")}, kvlog.Record{Key: "stale", Value: []byte("x")})
		if !errors.Is(err, kvlog.ErrFenced) {
			t.Fatalf("fenced writer's write: %v, want ErrFenced", err)
		}
		if err := old.Write(ctx, kvlog.Record{Key: "k", Value: []byte("stale")}); !errors.Is(err, kvlog.ErrFenced) {
			t.Errorf("fenced writer's second write: %v, want ErrFenced", err)
		}
		if err := nw.Write(ctx, kvlog.Record{Key: "k", Value: []byte("new")}); err != nil {
			t.Fatal(err)
		}
		// another owner is not fenced
		if err := other.Write(ctx, kvlog.Record{Key: "o", Value: []byte("o")}); err != nil {
			t.Errorf("another owner's writer: %v", err)
		}
		for _, l := range []kvlog.Log{a, c} {
			Sync(t, l)
			Equal(t, l, "k", "new")
			Equal(t, l, "stale", "")
		}
		// a writer fenced on the same instance too
		third := writer(t, a, "owner")
		if err := nw.Write(ctx, kvlog.Record{Key: "k", Value: []byte("x")}); !errors.Is(err, kvlog.ErrFenced) {
			t.Errorf("writer fenced by one of its own instance: %v, want ErrFenced", err)
		}
		if err := third.Write(ctx, kvlog.Record{Key: "k", Value: []byte("third")}); err != nil {
			t.Fatal(err)
		}
		Equal(t, a, "k", "third")
	})

	t.Run("SettleAfterFailedWrite", func(t *testing.T) {
		l := open(t, newBackend(t))
		w := writer(t, l, "owner")
		// writes under a deadline too short for them, until one fails (a
		// log whose writes never fail so has nothing to settle)
		failed := ""
		for i := range 50 {
			short, cancel := context.WithTimeout(ctx, time.Millisecond)
			err := w.Write(short, kvlog.Record{Key: "k/" + strconv.Itoa(i), Value: []byte("v")})
			cancel()
			if err != nil {
				failed = "k/" + strconv.Itoa(i)
				break
			}
		}
		if failed == "" {
			t.Log("no write failed under a 1ms deadline")
		}
		// once settled, the failed write is in the view after a Sync or
		// never appears
		if err := w.Settle(ctx); err != nil {
			t.Fatalf("settle: %v", err)
		}
		Sync(t, l)
		v, err := l.Get(ctx, failed)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if err := w.Write(ctx, kvlog.Record{Key: "after", Value: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		Sync(t, l)
		if failed != "" {
			Equal(t, l, failed, string(v))
			t.Logf("the failed write of %s landed: %v", failed, v != nil)
		}
		Equal(t, l, "after", "x")
		// a fenced writer: Settle has nothing to end, or knows it is
		// fenced; its Write is refused
		writer(t, l, "owner")
		if err := w.Settle(ctx); err != nil && !errors.Is(err, kvlog.ErrFenced) {
			t.Errorf("fenced writer's settle: %v, want nil or ErrFenced", err)
		}
		if err := w.Write(ctx, kvlog.Record{Key: "k", Value: []byte("x")}); !errors.Is(err, kvlog.ErrFenced) {
			t.Errorf("fenced writer's write after a settle: %v, want ErrFenced", err)
		}
	})

	t.Run("UpdateRaces", func(t *testing.T) {
		b := newBackend(t)
		const instances, each = 3, 4
		logs := make([]kvlog.Log, instances)
		for i := range logs {
			logs[i] = open(t, b)
		}
		var wg sync.WaitGroup
		errs := make(chan error, instances*each)
		for i, l := range logs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each {
					ctx, cancel := context.WithTimeout(ctx, 2*Timeout)
					err := kvlog.Update(ctx, l, "counter", kvlog.UpdateOptions{Attempts: 50}, func() ([]kvlog.Record, error) {
						v, err := l.Get(ctx, "n")
						if err != nil {
							return nil, err
						}
						n, _ := strconv.Atoi(string(v))
						return []kvlog.Record{{Key: "n", Value: []byte(strconv.Itoa(n + 1))},
							{Key: fmt.Sprintf("by/%d/%d", i, j), Value: []byte(strconv.Itoa(n + 1))}}, nil
					})
					cancel()
					if err != nil {
						errs <- fmt.Errorf("instance %d update %d: %w", i, j, err)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		l := logs[0]
		Sync(t, l)
		Equal(t, l, "n", strconv.Itoa(instances*each))
		// every increment saw a different value: none was lost
		seen := map[string]string{}
		for _, kv := range Keys(t, l, "by/") {
			k, v, _ := cut(kv)
			if prev, dup := seen[v]; dup {
				t.Errorf("updates %s and %s both wrote %s", prev, k, v)
			}
			seen[v] = k
		}
		if len(seen) != instances*each {
			t.Errorf("%d distinct increments, want %d", len(seen), instances*each)
		}
	})

	t.Run("UpdateConflict", func(t *testing.T) {
		l := open(t, newBackend(t))
		conflict := errors.New("version mismatch")
		err := kvlog.Update(ctx, l, "x", kvlog.UpdateOptions{}, func() ([]kvlog.Record, error) { return nil, conflict })
		if !errors.Is(err, conflict) {
			t.Errorf("Update whose decide fails: %v, want its error", err)
		}
		if err := kvlog.Update(ctx, l, "x", kvlog.UpdateOptions{}, func() ([]kvlog.Record, error) { return nil, nil }); err != nil {
			t.Errorf("Update with nothing to write: %v", err)
		}
	})

	t.Run("Watch", func(t *testing.T) {
		b := newBackend(t)
		a, c := open(t, b), open(t, b)
		wctx, stop := context.WithCancel(ctx)
		events, err := c.Watch(wctx)
		if err != nil {
			t.Fatal(err)
		}
		w := writer(t, a, "a")
		if err := w.Write(ctx, kvlog.Record{Key: "x", Value: []byte("1")}); err != nil {
			t.Fatal(err)
		}
		WaitChange(t, events, kvlog.Change{Key: "x"})
		if err := w.Write(ctx, kvlog.Record{Key: "x"}); err != nil {
			t.Fatal(err)
		}
		WaitChange(t, events, kvlog.Change{Key: "x", Deleted: true})
		stop()
		select {
		case _, ok := <-events:
			for ok {
				_, ok = <-events
			}
		case <-time.After(Timeout):
			t.Error("the watch channel stayed open after its context ended")
		}
		// closing the log closes its watchers
		events2, err := c.Watch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		deadline := time.After(Timeout)
		for open := true; open; {
			select {
			case _, open = <-events2:
			case <-deadline:
				t.Fatal("the watch channel stayed open after Close")
			}
		}
	})

	t.Run("SlowWatcherIsBounded", func(t *testing.T) {
		l := open(t, newBackend(t))
		events, err := l.Watch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w := writer(t, l, "a")
		// 200 writes to 3 keys, nobody reading: the watcher keeps the last
		// change of each key, not 200
		for i := range 200 {
			if err := w.Write(ctx, kvlog.Record{Key: "k" + strconv.Itoa(i%3), Value: []byte(strconv.Itoa(i))}); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]bool{}
		for n := 0; ; n++ {
			select {
			case c := <-events:
				if n >= 6 { // 3 keys, maybe one delivered early each
					t.Fatalf("more than 6 changes queued for 3 keys: %v", c)
				}
				got[c.Key] = true
				continue
			case <-time.After(500 * time.Millisecond):
			}
			break
		}
		if len(got) != 3 {
			t.Errorf("changes of %v, want the 3 keys", got)
		}
	})

	t.Run("BadKeys", func(t *testing.T) {
		l := open(t, newBackend(t))
		w := writer(t, l, "a")
		for _, k := range []string{"", "\x00barrier", "\x00owner/a"} {
			if err := w.Write(ctx, kvlog.Record{Key: "ok", Value: []byte("1")}, kvlog.Record{Key: k, Value: []byte("x")}); !errors.Is(err, kvlog.ErrInvalid) {
				t.Errorf("key %q: %v, want ErrInvalid", k, err)
			}
		}
		Equal(t, l, "ok", "") // nothing of a refused write
		for _, o := range []string{"", "\x00x", "a\nb"} {
			if _, err := l.Writer(ctx, o); !errors.Is(err, kvlog.ErrInvalid) {
				t.Errorf("owner %q: %v, want ErrInvalid", o, err)
			}
		}
		if err := w.Write(ctx, kvlog.Record{Key: "ok", Value: []byte("1")}); err != nil {
			t.Errorf("a refused write broke the writer: %v", err)
		}
	})

	t.Run("DeletedWhileInUse", func(t *testing.T) {
		b := newBackend(t)
		l := open(t, b)
		w := writer(t, l, "a")
		if err := w.Write(ctx, kvlog.Record{Key: "k", Value: []byte("1")}); err != nil {
			t.Fatal(err)
		}
		b.Destroy(t)
		var err error
		deadline := time.Now().Add(Timeout)
		for {
			wctx, cancel := context.WithTimeout(ctx, Timeout)
			err = w.Write(wctx, kvlog.Record{Key: "k", Value: []byte("2")})
			cancel()
			if errors.Is(err, kvlog.ErrGone) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond) // a broker may need a moment to forget the topic
		}
		if !errors.Is(err, kvlog.ErrGone) {
			t.Fatalf("write after the storage was deleted: %v, want ErrGone", err)
		}
		if err := w.Write(ctx, kvlog.Record{Key: "k", Value: []byte("3")}); !errors.Is(err, kvlog.ErrGone) {
			t.Errorf("second write: %v, want ErrGone again", err)
		}
	})
}

// Sync runs a read barrier on l.
func Sync(t testing.TB, l kvlog.Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := l.Sync(ctx); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// Equal checks key's value in l's view ("" for none).
func Equal(t testing.TB, l kvlog.Log, key, want string) {
	t.Helper()
	v, err := l.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if want == "" && v != nil {
		t.Errorf("get %s: %q, want no value", key, v)
	} else if string(v) != want {
		t.Errorf("get %s: %q, want %q", key, v, want)
	}
}

// Keys returns "key=value" of every key with prefix.
func Keys(t testing.TB, l kvlog.Log, prefix string) []string {
	t.Helper()
	var out []string
	if err := l.Scan(context.Background(), prefix, func(k string, v []byte) error {
		out = append(out, k+"="+string(v))
		return nil
	}); err != nil {
		t.Fatalf("scan %q: %v", prefix, err)
	}
	return out
}

// WaitChange waits for want on events, skipping other changes.
func WaitChange(t testing.TB, events <-chan kvlog.Change, want kvlog.Change) {
	t.Helper()
	deadline := time.After(Timeout)
	for {
		select {
		case c, ok := <-events:
			if !ok {
				t.Fatalf("watch closed waiting for %+v", want)
			}
			if c == want {
				return
			}
		case <-deadline:
			t.Fatalf("no change %+v within %v", want, Timeout)
		}
	}
}

func cut(kv string) (k, v string, ok bool) {
	for i := len(kv) - 1; i >= 0; i-- {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}
