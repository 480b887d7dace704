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
	"github.com/gale-stream/gale/internal/kvlog"
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

// openLog opens the FileLog under a FileStore's directory, as another
// program would.
func openLog(t *testing.T, dir string) *kvlog.FileLog {
	t.Helper()
	l, err := kvlog.OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// writeLog writes records to the FileLog in dir as owner "test".
func writeLog(t *testing.T, l kvlog.Log, recs ...kvlog.Record) {
	t.Helper()
	ctx := context.Background()
	w, err := l.Writer(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(ctx, recs...); err != nil {
		t.Fatal(err)
	}
}

// TestFileStore_Layout: the directory is a kvlog.FileLog; a record is the
// key KIND/NAME with readable JSON, the topology file kept verbatim in it;
// a deletion removes the key.
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
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
	}
	if strings.Join(files, " ") != "ID LOCK log" {
		t.Errorf("the directory holds %q, want the FileLog's ID, LOCK and log", files)
	}
	l := openLog(t, dir)
	b, err := l.Get(ctx, "topology/wc")
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
		JSON    string `json:"json"`
	}
	if err := json.Unmarshal(b, &stored); err != nil || stored.Name != "wc" || stored.Version != 1 || stored.JSON != raw {
		t.Errorf("topology/wc = %s (%v); want name, version 1 and the topology file as a string", b, err)
	}
	if b, err := l.Get(ctx, "assignment/wc"); err != nil || !strings.Contains(string(b), `"split/0": "w1"`) {
		t.Errorf("assignment/wc = %s, %v", b, err)
	}
	if err := s.DeleteTopology(ctx, "wc", 1); err != nil {
		t.Fatal(err)
	}
	if b, err := l.Get(ctx, "topology/wc"); err != nil || b != nil {
		t.Errorf("the key of a deleted topology: %q, %v", b, err)
	}
}

// TestFileStore_MigratesJSONFiles: a directory of the first layout (a JSON
// file per record, written here by hand as the old store wrote them) is
// imported into the log when opened, and its folders removed; reopening
// does nothing more, and a migration a crash interrupted (records in the
// log, some files left) keeps the log's records and imports the rest.
func TestFileStore_MigratesJSONFiles(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	oldFiles := map[string]string{
		"topologies/wc.json": `{
  "format": 1,
  "name": "wc",
  "version": 3,
  "status": "inactive",
  "submitted_at": "2026-01-02T03:04:05Z",
  "updated_at": "2026-01-02T03:05:00Z",
  "parallelism": {
    "split": 4
  },
  "workers": 2,
  "json": "{\"name\": \"wc\"}"
}`,
		"topologies/bad.json":  "{not json",
		"topologies/a b.json":  "{}", // not a name: the old store ignored it
		"topologies/notes.txt": "hello",
		"assignments/wc.json":  `{"format": 1, "topology": "wc", "epoch": 7, "updated_at": "2026-01-02T03:05:00Z", "tasks": {"split/0": "w1"}}`,
		"leases/leader.json":   `{"format": 1, "name": "leader", "holder": "w1", "version": 9, "ttl_ms": 3000, "updated_at": "2026-01-02T03:05:00Z"}`,
		"tmp/wc.json.1234567":  `{"format":1,"na`,
		"LOCK":                 "",
	}
	write := func(files map[string]string) {
		t.Helper()
		for p, content := range files {
			p = filepath.Join(dir, p)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(oldFiles)
	check := func(s *store.FileStore, wantVersion uint64) {
		t.Helper()
		for _, d := range []string{"topologies", "assignments", "leases", "tmp"} {
			if _, err := os.Stat(filepath.Join(dir, d)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s/ after the migration: %v", d, err)
			}
		}
		got, err := s.GetTopology(ctx, "wc")
		if err != nil || got.Version != wantVersion || got.Status != store.StatusInactive || got.Workers != 2 ||
			got.Parallelism["split"] != 4 || string(got.JSON) != `{"name": "wc"}` ||
			!got.SubmittedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Errorf("migrated topology %+v, %v; want version %d and the file's fields", got, err, wantVersion)
		}
		if a, err := s.GetAssignment(ctx, "wc"); err != nil || a.Epoch != 7 || a.Tasks["split/0"] != "w1" {
			t.Errorf("migrated assignment %+v, %v", a, err)
		}
		if l, err := s.GetLease(ctx, "leader"); err != nil || l.Version != 9 || l.Holder != "w1" || l.TTL != 3*time.Second {
			t.Errorf("migrated lease %+v, %v", l, err)
		}
		if _, err := s.GetTopology(ctx, "bad"); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("a corrupt file, migrated: %v, want ErrCorrupt as before", err)
		}
	}
	s, err := store.OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	check(s, 3)
	// the migrated records are the store's: compare-and-set goes on
	if _, err := s.PutTopology(ctx, store.Topology{Name: "wc", Status: store.StatusInactive, Workers: 2,
		Parallelism: map[string]int{"split": 4}, JSON: json.RawMessage(`{"name": "wc"}`)}, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAssignment(ctx, store.Assignment{Topology: "wc", Epoch: 7}); !errors.Is(err, store.ErrStale) {
		t.Errorf("put of the migrated epoch: %v, want ErrStale", err)
	}
	s.Close()

	// reopening: nothing to migrate
	s = openFile(t, dir)
	check(s, 4)
	s.Close()

	// interrupted: old files left beside the log; the log's records win,
	// the others are imported
	write(map[string]string{
		"topologies/wc.json":    oldFiles["topologies/wc.json"],
		"topologies/late.json":  strings.ReplaceAll(oldFiles["topologies/wc.json"], `"name": "wc",`, `"name": "late",`),
		"tmp/late.json.7654321": "",
	})
	s = openFile(t, dir)
	check(s, 4)
	if got, err := s.GetTopology(ctx, "late"); err != nil || got.Version != 3 {
		t.Errorf("a file left by an interrupted migration: %+v, %v", got, err)
	}
	if l, err := s.ListTopologies(ctx); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("list with the corrupt record: %v, %v; want ErrCorrupt", l, err)
	}
}

// TestFileStore_CorruptRecord: a record that does not decode (written by
// another program, or holding another record) is reported as ErrCorrupt,
// naming the record, by every operation on it; the others still work.
func TestFileStore_CorruptRecord(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir)
	ctx := context.Background()
	if _, err := s.PutTopology(ctx, store.Topology{Name: "good"}, 0); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, dir)
	good, err := l.Get(ctx, "topology/good")
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"bad":     []byte("{not json"),
		"renamed": good, // a record under another record's key
	} {
		writeLog(t, l, kvlog.Record{Key: "topology/" + name, Value: content})
		storetest.WaitEvent(t, events, store.Event{Kind: store.KindTopology, Name: name, Version: 0})
		if _, err := s.GetTopology(ctx, name); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("get %s: %v, want ErrCorrupt naming the record", name, err)
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
	// an operator deletes the bad records: back to normal
	writeLog(t, l, kvlog.Record{Key: "topology/bad"}, kvlog.Record{Key: "topology/renamed"})
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
