package ledger

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gale-stream/gale/internal/atomicfile"

	"github.com/gale-stream/gale/internal/kvlog"
)

// FileStore keeps each partition's ledger in a kvlog.FileLog of its own,
// DIR/TOPOLOGY/SPOUT/TOPIC/PARTITION/, for local mode: partitions write
// (and fsync) independently, a writer's epoch is checked under the log's
// flock, and the log compacts itself, so that it holds about the
// partition's checkpoint and pending batches however long it runs.
//
// flock works between processes of one machine: a FileStore directory
// must not be shared by several machines (a cluster refuses it unless it
// is declared shared, on a filesystem whose locks span machines).
//
// The files of Gale's first ledger (PARTITION.log, PARTITION.epoch) are
// migrated when the partition is opened.
type FileStore struct {
	dir string
}

var _ Store = (*FileStore)(nil)
var _ Reader = (*FileStore)(nil)

// NewFileStore returns a store under dir (created if missing).
func NewFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ledger dir: %w", err)
	}
	return &FileStore{dir: dir}, nil
}

// Close does nothing; writers hold their own logs.
func (s *FileStore) Close() error { return nil }

// safe makes s one path element that stays in its directory.
func safe(s string) string {
	if s == "" || s == "." || s == ".." {
		return "_" + s
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, s)
}

// paths returns the partition's log directory and the files of the first
// ledger format.
func (s *FileStore) paths(k Key) (dir, oldLog, oldEpoch string) {
	topic := filepath.Join(s.dir, safe(k.Topology), safe(k.Spout), safe(k.Topic))
	n := strconv.Itoa(int(k.Partition))
	return filepath.Join(topic, n), filepath.Join(topic, n+".log"), filepath.Join(topic, n+".epoch")
}

// within checks that a ledger path stays in the store's directory (safe
// makes every element one name; this is the last line of defence).
func (s *FileStore) within(p string) error {
	if err := atomicfile.Within(s.dir, p); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// Open fences earlier owners of the partition and reads its ledger.
func (s *FileStore) Open(ctx context.Context, key Key) (Writer, State, error) {
	dir, oldLog, oldEpoch := s.paths(key)
	if err := s.within(dir); err != nil {
		return nil, State{}, err
	}
	l, err := kvlog.OpenFile(dir)
	if err != nil {
		return nil, State{}, fmt.Errorf("open ledger %s: %w", key, mapErr(err))
	}
	w, st, err := openWriter(ctx, l, key, key.String(), l.Close)
	if err != nil {
		l.Close()
		return nil, State{}, err
	}
	if _, err := os.Stat(oldLog); err == nil {
		if st, err = w.migrateFile(ctx, oldLog, oldEpoch); err != nil {
			w.Close()
			return nil, State{}, fmt.Errorf("migrate ledger %s: %w", key, err)
		}
	}
	return w, st, nil
}

// migrateFile rewrites the first format's log into the writer's (unless
// the writer's holds a ledger already: a migration interrupted after it
// wrote), then deletes the old files.
func (w *logWriter) migrateFile(ctx context.Context, oldLog, oldEpoch string) (State, error) {
	if w.st.nextSeq == 0 && w.st.committed == 0 {
		old, err := readLegacyFile(w.key, oldLog)
		if err != nil {
			return State{}, err
		}
		if err := w.write(ctx, old.allRecords()); err != nil {
			return State{}, err
		}
		w.st = old
	}
	if err := errors.Join(os.Remove(oldLog), os.Remove(oldEpoch)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return State{}, err
	}
	return w.st.export(), nil
}

// readLegacyFile folds a log of the first format: JSON lines
// {"op","epoch","seq","start","end"}; a record of an older epoch than one
// before it was written by a fenced owner and is ignored, a torn last
// line too.
func readLegacyFile(key Key, path string) (*state, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64*1024)
	var recs []legacyRecord
	var maxEpoch uint64
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		var rec struct {
			Op    string `json:"op"`
			Epoch uint64 `json:"epoch"`
			Seq   uint64 `json:"seq"`
			Start int64  `json:"start"`
			End   int64  `json:"end"`
		}
		if json.Unmarshal(line, &rec) != nil || rec.Epoch < maxEpoch {
			continue
		}
		maxEpoch = rec.Epoch
		recs = append(recs, legacyRecord{kind: rec.Op, seq: rec.Seq, start: rec.Start, end: rec.End})
	}
	st := newState(key)
	foldLegacy(st, recs)
	return st, nil
}

// Read reads key's ledger without taking ownership.
func (s *FileStore) Read(ctx context.Context, key Key) (State, error) {
	dir, oldLog, _ := s.paths(key)
	if err := s.within(dir); err != nil {
		return State{}, err
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(oldLog); err == nil {
			st, err := readLegacyFile(key, oldLog)
			if err != nil {
				return State{}, fmt.Errorf("read ledger %s: %w", key, err)
			}
			return st.export(), nil
		}
		return newState(key).export(), nil
	}
	l, err := kvlog.OpenFile(dir)
	if err != nil {
		return State{}, fmt.Errorf("read ledger %s: %w", key, mapErr(err))
	}
	defer l.Close()
	return readOnly(ctx, l, key)
}

// Keys lists the partitions with a ledger under topology and spout.
func (s *FileStore) Keys(_ context.Context, topology, spout string) ([]Key, error) {
	base := filepath.Join(s.dir, safe(topology), safe(spout))
	topics, err := os.ReadDir(base)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []Key
	for _, t := range topics {
		if !t.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(base, t.Name()))
		if err != nil {
			return nil, err
		}
		seen := map[int64]bool{}
		for _, e := range entries {
			name := e.Name()
			if !e.IsDir() {
				name = strings.TrimSuffix(name, ".log") // the first format
				if name == e.Name() {
					continue
				}
			}
			n, err := strconv.ParseInt(name, 10, 32)
			if err != nil || seen[n] {
				continue
			}
			seen[n] = true
			keys = append(keys, Key{Topology: topology, Spout: spout, Topic: t.Name(), Partition: int32(n)})
		}
	}
	return keys, nil
}
