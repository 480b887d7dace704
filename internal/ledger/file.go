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
	"sync"
	"syscall"
)

// FileStore keeps each partition's ledger in files of its own under a
// directory, for local mode: an append-only log of JSON records
// (PARTITION.log, fsynced per record) and an epoch file (PARTITION.epoch).
//
// Fencing: Open increments the epoch; every write first checks, under an
// exclusive flock of the epoch file, that the epoch is still the writer's
// own, then appends. A writer whose epoch was bumped gets ErrFenced and
// nothing it writes afterwards reaches the log. flock works between
// processes on one machine (and on most shared filesystems).
type FileStore struct {
	dir string
}

var _ Store = (*FileStore)(nil)

// NewFileStore returns a store under dir (created if missing).
func NewFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ledger dir: %w", err)
	}
	return &FileStore{dir: dir}, nil
}

// Close does nothing; writers hold their own files.
func (s *FileStore) Close() error { return nil }

type record struct {
	Op    string `json:"op"` // "plan", "commit" or "lost"
	Epoch uint64 `json:"epoch"`
	Seq   uint64 `json:"seq"`
	Start int64  `json:"start,omitempty"`
	End   int64  `json:"end,omitempty"`
}

func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, s)
}

func (s *FileStore) paths(k Key) (dir, log, epoch string) {
	dir = filepath.Join(s.dir, safe(k.Topology), safe(k.Spout), safe(k.Topic))
	base := filepath.Join(dir, strconv.Itoa(int(k.Partition)))
	return dir, base + ".log", base + ".epoch"
}

// Open bumps the partition's epoch (fencing earlier owners) and reads its
// log back.
func (s *FileStore) Open(_ context.Context, key Key) (Writer, State, error) {
	dir, logPath, epochPath := s.paths(key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, State{}, fmt.Errorf("open ledger %s: %w", key, err)
	}
	ef, err := os.OpenFile(epochPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, State{}, fmt.Errorf("open ledger %s: %w", key, err)
	}
	w := &fileWriter{key: key, epochFile: ef}
	if err := w.lock(); err != nil {
		ef.Close()
		return nil, State{}, err
	}
	defer w.unlock()
	old, err := readEpoch(ef)
	if err != nil {
		ef.Close()
		return nil, State{}, fmt.Errorf("open ledger %s: %w", key, err)
	}
	w.epoch = old + 1
	if err := writeEpoch(ef, w.epoch); err != nil {
		ef.Close()
		return nil, State{}, fmt.Errorf("open ledger %s: %w", key, err)
	}
	lf, err := os.OpenFile(logPath, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		ef.Close()
		return nil, State{}, fmt.Errorf("open ledger %s: %w", key, err)
	}
	w.logFile = lf
	w.logPath, w.epochPath = logPath, epochPath
	w.st = newState()
	if err := w.replay(); err != nil {
		w.Close()
		return nil, State{}, fmt.Errorf("read ledger %s: %w", key, err)
	}
	return w, w.st.export(), nil
}

func readEpoch(f *os.File) (uint64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return 0, err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return 0, nil
	}
	return strconv.ParseUint(t, 10, 64)
}

func writeEpoch(f *os.File, e uint64) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.FormatUint(e, 10)+"\n"), 0); err != nil {
		return err
	}
	return f.Sync()
}

type fileWriter struct {
	key       Key
	epoch     uint64
	logPath   string
	epochPath string
	mu        sync.Mutex // guards the fields below
	epochFile *os.File
	logFile   *os.File
	st        *state
	closed    bool
}

func (w *fileWriter) lock() error {
	if err := syscall.Flock(int(w.epochFile.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock ledger %s: %w", w.key, err)
	}
	return nil
}

func (w *fileWriter) unlock() { _ = syscall.Flock(int(w.epochFile.Fd()), syscall.LOCK_UN) }

// replay folds the log into w.st. A torn last line (a crash mid-write) is
// cut off, so that the next record starts on a line of its own; records of
// a stale epoch written after a newer one are ignored.
func (w *fileWriter) replay() error {
	if _, err := w.logFile.Seek(0, io.SeekStart); err != nil {
		return err
	}
	good, torn, err := foldLog(w.logFile, w.key, w.st)
	if err != nil {
		return err
	}
	if torn {
		return w.logFile.Truncate(good)
	}
	return nil
}

// foldLog folds the records of a log into st; it returns the length of the
// complete lines and whether a torn last line follows them.
func foldLog(f io.Reader, key Key, st *state) (good int64, torn bool, err error) {
	r := bufio.NewReaderSize(f, 64*1024)
	var maxEpoch uint64
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			return good, len(line) > 0, nil
		}
		if err != nil {
			return good, false, err
		}
		good += int64(len(line))
		var rec record
		if json.Unmarshal(line, &rec) != nil || rec.Epoch < maxEpoch {
			continue
		}
		maxEpoch = rec.Epoch
		switch rec.Op {
		case "plan":
			p := Plan{Key: key, Seq: rec.Seq, Start: rec.Start, End: rec.End}
			if st.checkPlan(p) == nil {
				st.addPlan(p)
			}
		case "commit":
			if st.checkCommit(rec.Seq) == nil {
				st.addCommit(rec.Seq)
			}
		case "lost":
			if st.checkLose(rec.Seq, rec.Start, rec.End) == nil {
				st.addLost(Lost{Seq: rec.Seq, Start: rec.Start, End: rec.End})
			}
		}
	}
}

// Read reads key's ledger without taking ownership (no fencing, no
// repair of a torn last record).
func (s *FileStore) Read(_ context.Context, key Key) (State, error) {
	_, logPath, _ := s.paths(key)
	st := newState()
	f, err := os.Open(logPath)
	if errors.Is(err, os.ErrNotExist) {
		return st.export(), nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read ledger %s: %w", key, err)
	}
	defer f.Close()
	if _, _, err := foldLog(f, key, st); err != nil {
		return State{}, fmt.Errorf("read ledger %s: %w", key, err)
	}
	return st.export(), nil
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
		logs, err := filepath.Glob(filepath.Join(base, t.Name(), "*.log"))
		if err != nil {
			return nil, err
		}
		for _, l := range logs {
			n, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(l), ".log"))
			if err != nil {
				continue
			}
			keys = append(keys, Key{Topology: topology, Spout: spout, Topic: t.Name(), Partition: int32(n)})
		}
	}
	return keys, nil
}

// append writes one record if this writer still owns the partition.
func (w *fileWriter) append(r record) error {
	if w.closed {
		return ErrClosed
	}
	if err := w.lock(); err != nil {
		return err
	}
	defer w.unlock()
	cur, err := readEpoch(w.epochFile)
	if err != nil {
		return fmt.Errorf("ledger %s: %w", w.key, err)
	}
	if cur != w.epoch {
		return fmt.Errorf("ledger %s: epoch %d, now %d: %w", w.key, w.epoch, cur, ErrFenced)
	}
	// a ledger file deleted (or replaced) under us: writing to the old
	// inode would succeed and be lost
	for path, f := range map[string]*os.File{w.logPath: w.logFile, w.epochPath: w.epochFile} {
		onDisk, err1 := os.Stat(path)
		open, err2 := f.Stat()
		if err1 != nil || err2 != nil || !os.SameFile(onDisk, open) {
			return fmt.Errorf("ledger %s: %s: %w", w.key, path, ErrGone)
		}
	}
	r.Epoch = w.epoch
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := w.logFile.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("ledger %s: write: %w", w.key, err)
	}
	if err := w.logFile.Sync(); err != nil {
		return fmt.Errorf("ledger %s: sync: %w", w.key, err)
	}
	return nil
}

func (w *fileWriter) Plan(_ context.Context, p Plan) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	p.Key = w.key
	if err := w.st.checkPlan(p); err != nil {
		return err
	}
	if err := w.append(record{Op: "plan", Seq: p.Seq, Start: p.Start, End: p.End}); err != nil {
		return err
	}
	w.st.addPlan(p)
	return nil
}

func (w *fileWriter) Commit(_ context.Context, seq uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.st.checkCommit(seq); err != nil {
		return err
	}
	if err := w.append(record{Op: "commit", Seq: seq}); err != nil {
		return err
	}
	w.st.addCommit(seq)
	return nil
}

func (w *fileWriter) Lose(_ context.Context, seq uint64, start, end int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.st.checkLose(seq, start, end); err != nil {
		return err
	}
	if err := w.append(record{Op: "lost", Seq: seq, Start: start, End: end}); err != nil {
		return err
	}
	w.st.addLost(Lost{Seq: seq, Start: start, End: end})
	return nil
}

func (w *fileWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	return errors.Join(w.logFile.Close(), w.epochFile.Close())
}
