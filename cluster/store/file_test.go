package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/cluster/store/storetest"
)

func TestFileStore_Conformance(t *testing.T) {
	dir := t.TempDir()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenFileStore(dir, store.WithPollInterval(20*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func openFile(t *testing.T, dir string) *store.FileStore {
	t.Helper()
	s, err := store.OpenFileStore(dir, store.WithPollInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestFileStore_Layout: one readable JSON file per record, the topology
// file kept verbatim in it, nothing left in tmp/, deletions remove the
// file.
func TestFileStore_Layout(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir)
	ctx := context.Background()
	raw := "{\n  \"name\": \"wc\"\n}\n"
	if _, err := s.PutTopology(ctx, store.Topology{Name: "wc", JSON: json.RawMessage(raw)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAssignment(ctx, store.Assignment{Topology: "wc", Epoch: 2, Tasks: map[string]string{"split/0": "w1"}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "topologies", "wc.json"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
		JSON    string `json:"json"`
	}
	if err := json.Unmarshal(b, &onDisk); err != nil || onDisk.Name != "wc" || onDisk.Version != 1 || onDisk.JSON != raw {
		t.Errorf("topologies/wc.json = %s (%v); want name, version 1 and the topology file as a string", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "assignments", "wc.json")); err != nil || !strings.Contains(string(b), `"split/0": "w1"`) {
		t.Errorf("assignments/wc.json = %s, %v", b, err)
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "tmp")); err != nil || len(ents) != 0 {
		t.Errorf("tmp/ holds %v (%v) after the writes", ents, err)
	}
	if err := s.DeleteTopology(ctx, "wc", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "topologies", "wc.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file of a deleted topology: %v", err)
	}
}

// TestFileStore_LeftoverTempFiles: files a crashed writer left in tmp/ are
// removed when the store opens; they never count as records.
func TestFileStore_LeftoverTempFiles(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir)
	ctx := context.Background()
	if _, err := s.PutTopology(ctx, store.Topology{Name: "keep"}, 0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	torn := filepath.Join(dir, "tmp", "keep.json.123456")
	if err := os.WriteFile(torn, []byte(`{"format":1,"name":"ke`), 0o644); err != nil {
		t.Fatal(err)
	}
	s = openFile(t, dir)
	if _, err := os.Stat(torn); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temporary file still there: %v", err)
	}
	got, err := s.GetTopology(ctx, "keep")
	if err != nil || got.Version != 1 {
		t.Errorf("record after reopening: %+v, %v", got, err)
	}
}

// TestFileStore_CorruptRecord: a file that does not decode (edited by
// hand, or holding another record) is reported as ErrCorrupt, naming the
// file, by every operation on it; the others still work.
func TestFileStore_CorruptRecord(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir)
	ctx := context.Background()
	if _, err := s.PutTopology(ctx, store.Topology{Name: "good"}, 0); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "topologies", "good.json"))
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"bad":     []byte("{not json"),
		"renamed": good, // a record under another record's file name
	} {
		if err := os.WriteFile(filepath.Join(dir, "topologies", name+".json"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		storetest.WaitEvent(t, events, store.Event{Kind: store.KindTopology, Name: name, Version: 0})
		if _, err := s.GetTopology(ctx, name); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), name+".json") {
			t.Errorf("get %s: %v, want ErrCorrupt naming the file", name, err)
		}
		if _, err := s.PutTopology(ctx, store.Topology{Name: name}, 1); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("put over %s: %v, want ErrCorrupt", name, err)
		}
		if err := s.DeleteTopology(ctx, name, 1); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("delete %s: %v, want ErrCorrupt", name, err)
		}
	}
	if _, err := s.ListTopologies(ctx); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("list: %v, want ErrCorrupt", err)
	}
	if got, err := s.GetTopology(ctx, "good"); err != nil || got.Version != 1 {
		t.Errorf("get of the good record: %+v, %v", got, err)
	}
	// an operator removes the bad files: back to normal
	os.Remove(filepath.Join(dir, "topologies", "bad.json"))
	os.Remove(filepath.Join(dir, "topologies", "renamed.json"))
	if l, err := s.ListTopologies(ctx); err != nil || len(l) != 1 {
		t.Errorf("list after the cleanup: %d records, %v", len(l), err)
	}
}

// TestFileStore_WritersWaitForTheLock: a write waits while another process
// holds the directory's lock (here: another open file description of it),
// gives up with its context, and writes nothing; reads do not wait.
func TestFileStore_WritersWaitForTheLock(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir)
	ctx := context.Background()
	if _, err := s.PutTopology(ctx, store.Topology{Name: "a"}, 0); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.PutTopology(short, store.Topology{Name: "a"}, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("put while the lock is held: %v, want context.DeadlineExceeded", err)
	}
	if got, err := s.GetTopology(ctx, "a"); err != nil || got.Version != 1 {
		t.Errorf("get while the lock is held: %+v, %v; want version 1", got, err)
	}
	// released: the write goes through
	done := make(chan error, 1)
	go func() {
		_, err := s.PutTopology(ctx, store.Topology{Name: "a"}, 1)
		done <- err
	}()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("put after the lock was released: %v", err)
	}
	// and Close does not wait for a lock held elsewhere
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := s.PutTopology(ctx, store.Topology{Name: "a"}, 2)
		done <- err
	}()
	s.Close()
	if err := <-done; !errors.Is(err, store.ErrClosed) {
		t.Errorf("put blocked on the lock, then Close: %v, want ErrClosed", err)
	}
}

func BenchmarkFileStore(b *testing.B) {
	dir := b.TempDir()
	storetest.Bench(b, func(b *testing.B) store.Store {
		s, err := store.OpenFileStore(dir)
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
