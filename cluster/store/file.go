package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// FileStore is the embedded single-node store of local and dev mode: a
// directory of JSON files, one per record,
//
//	DIR/LOCK                      flock'ed by writers
//	DIR/topologies/NAME.json      Topology records
//	DIR/assignments/NAME.json     Assignment records
//	DIR/leases/NAME.json          Lease records
//	DIR/tmp/                      files being written
//
// Every write happens under an exclusive flock of DIR/LOCK (so between
// processes on one machine as well as between goroutines and instances),
// reads the current record, checks the expected version or epoch, and
// replaces the file atomically: temporary file, fsync, rename, fsync of
// the directory. A crash leaves either the old or the new record, never a
// torn one; a leftover temporary file is removed by the next
// OpenFileStore. Reads take no lock and always see the latest completed
// write. Watch polls the directories (WithPollInterval, 200 ms by default)
// and reports a change within about one interval.
//
// flock is advisory and local: every writer must go through a FileStore,
// and DIR must not be shared between machines (NFS flock emulation is not
// to be trusted). A FileStore is safe for concurrent use.
type FileStore struct {
	dir  string
	poll time.Duration
	hub  *hub
	done chan struct{} // closed by Close
	wg   sync.WaitGroup

	closed atomic.Bool

	mu   sync.Mutex // serialises this instance's writers; guards lock
	lock *os.File   // DIR/LOCK, nil once closed

	pollMu  sync.Mutex // guards the fields below
	polling bool
	seen    map[eventKey]fileState
}

var (
	_ Store = (*FileStore)(nil)
)

// FileOption configures a FileStore.
type FileOption func(*FileStore)

// WithPollInterval sets how often Watch scans the directory (default
// 200 ms).
func WithPollInterval(d time.Duration) FileOption {
	return func(s *FileStore) {
		if d > 0 {
			s.poll = d
		}
	}
}

const (
	topologiesDir  = "topologies"
	assignmentsDir = "assignments"
	leasesDir      = "leases"
	tmpDir         = "tmp"
	lockFile       = "LOCK"
)

// OpenFileStore opens (creating it if needed) the store in dir.
func OpenFileStore(dir string, opts ...FileOption) (*FileStore, error) {
	s := &FileStore{dir: dir, poll: 200 * time.Millisecond, hub: newHub(), done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	for _, d := range []string{topologiesDir, assignmentsDir, leasesDir, tmpDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("open file store %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open file store %s: %w", dir, err)
	}
	s.lock = f
	// Files a crashed writer left in tmp/: no writer runs while we hold
	// the lock, so none of them is being written.
	err = s.locked(context.Background(), func() error {
		ents, err := os.ReadDir(filepath.Join(dir, tmpDir))
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := os.Remove(filepath.Join(dir, tmpDir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open file store %s: %w", dir, err)
	}
	return s, nil
}

// Dir returns the store's directory.
func (s *FileStore) Dir() string { return s.dir }

// Close stops the watchers and releases the lock file.
func (s *FileStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.done)
	s.hub.close()
	s.wg.Wait()
	s.mu.Lock() // wait for a write in progress
	defer s.mu.Unlock()
	err := s.lock.Close()
	s.lock = nil
	return err
}

func (s *FileStore) checkOpen(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// locked runs fn holding the instance's mutex and the directory's flock.
func (s *FileStore) locked(ctx context.Context, fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return ErrClosed
	}
	fd := int(s.lock.Fd())
	wait := time.Millisecond
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("lock %s: %w", s.lock.Name(), err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.done:
			t.Stop()
			return ErrClosed
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
	defer syscall.Flock(fd, syscall.LOCK_UN)
	return fn()
}

// recordDir is the directory of the records of kind.
func (s *FileStore) recordDir(kind Kind) string {
	switch kind {
	case KindAssignment:
		return filepath.Join(s.dir, assignmentsDir)
	case KindLease:
		return filepath.Join(s.dir, leasesDir)
	}
	return filepath.Join(s.dir, topologiesDir)
}

func (s *FileStore) path(kind Kind, name string) string {
	return filepath.Join(s.recordDir(kind), name+".json")
}

// read returns the content of a record's file, or nil when it does not
// exist.
func (s *FileStore) read(kind Kind, name string) ([]byte, error) {
	b, err := os.ReadFile(s.path(kind, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func (s *FileStore) readTopology(name string) (*Topology, error) {
	b, err := s.read(KindTopology, name)
	if err != nil || b == nil {
		return nil, err
	}
	t, err := decodeTopology(b)
	if err == nil && t.Name != name {
		err = fmt.Errorf("%w: the file holds topology %q", ErrCorrupt, t.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path(KindTopology, name), err)
	}
	return &t, nil
}

func (s *FileStore) readAssignment(name string) (*Assignment, error) {
	b, err := s.read(KindAssignment, name)
	if err != nil || b == nil {
		return nil, err
	}
	a, err := decodeAssignment(b)
	if err == nil && a.Topology != name {
		err = fmt.Errorf("%w: the file holds the assignment of %q", ErrCorrupt, a.Topology)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path(KindAssignment, name), err)
	}
	return &a, nil
}

// write replaces a record's file atomically and durably.
func (s *FileStore) write(kind Kind, name string, b []byte) (err error) {
	final := s.path(kind, name)
	f, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), name+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), final); err != nil {
		return err
	}
	return syncDir(filepath.Dir(final))
}

func (s *FileStore) remove(kind Kind, name string) error {
	p := s.path(kind, name)
	if err := os.Remove(p); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// wrap names the record in err unless it already does.
func wrap(op string, kind Kind, name string, err error) error {
	if err == nil {
		return nil
	}
	var re *RecordError
	if errors.As(err, &re) {
		return err
	}
	return &RecordError{Op: op, Kind: kind, Name: name, Err: err}
}

// PutTopology implements Store.
func (s *FileStore) PutTopology(ctx context.Context, t Topology, expected uint64) (Topology, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Topology{}, wrap("put", KindTopology, t.Name, err)
	}
	if err := checkTopology("put", t); err != nil {
		return Topology{}, err
	}
	var out Topology
	err := s.locked(ctx, func() error {
		cur, err := s.readTopology(t.Name)
		if err != nil {
			return err
		}
		if err := checkPut(t.Name, cur, expected); err != nil {
			return err
		}
		out = nextTopology(t, cur, now())
		b, err := encodeTopology(out)
		if err != nil {
			return err
		}
		return s.write(KindTopology, t.Name, b)
	})
	if err != nil {
		return Topology{}, wrap("put", KindTopology, t.Name, err)
	}
	return out, nil
}

// GetTopology implements Store.
func (s *FileStore) GetTopology(ctx context.Context, name string) (Topology, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Topology{}, wrap("get", KindTopology, name, err)
	}
	if err := checkName("get", KindTopology, name); err != nil {
		return Topology{}, err
	}
	t, err := s.readTopology(name)
	if err != nil {
		return Topology{}, wrap("get", KindTopology, name, err)
	}
	if t == nil {
		return Topology{}, &RecordError{Op: "get", Kind: KindTopology, Name: name, Err: ErrNotFound}
	}
	return *t, nil
}

// ListTopologies implements Store.
func (s *FileStore) ListTopologies(ctx context.Context) ([]Topology, error) {
	if err := s.checkOpen(ctx); err != nil {
		return nil, wrap("list", KindTopology, "", err)
	}
	names, err := s.names(KindTopology)
	if err != nil {
		return nil, wrap("list", KindTopology, "", err)
	}
	ts := make([]Topology, 0, len(names))
	for _, n := range names {
		t, err := s.readTopology(n)
		if err != nil {
			return nil, wrap("list", KindTopology, n, err)
		}
		if t != nil { // nil: deleted since ReadDir
			ts = append(ts, *t)
		}
	}
	return ts, nil
}

// names lists the records of kind, sorted.
func (s *FileStore) names(kind Kind) ([]string, error) {
	ents, err := os.ReadDir(s.recordDir(kind))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && e.Type().IsRegular() && checkName("list", kind, n) == nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// DeleteTopology implements Store.
func (s *FileStore) DeleteTopology(ctx context.Context, name string, expected uint64) error {
	if err := s.checkOpen(ctx); err != nil {
		return wrap("delete", KindTopology, name, err)
	}
	if err := checkName("delete", KindTopology, name); err != nil {
		return err
	}
	err := s.locked(ctx, func() error {
		cur, err := s.readTopology(name)
		if err != nil {
			return err
		}
		if err := checkDelete(name, cur, expected); err != nil {
			return err
		}
		return s.remove(KindTopology, name)
	})
	return wrap("delete", KindTopology, name, err)
}

// PutAssignment implements Store.
func (s *FileStore) PutAssignment(ctx context.Context, a Assignment) (Assignment, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Assignment{}, wrap("put", KindAssignment, a.Topology, err)
	}
	if err := checkAssignment("put", a); err != nil {
		return Assignment{}, err
	}
	var out Assignment
	err := s.locked(ctx, func() error {
		cur, err := s.readAssignment(a.Topology)
		if err != nil {
			return err
		}
		if err := checkEpoch(a, cur); err != nil {
			return err
		}
		out = nextAssignment(a, now())
		b, err := encodeAssignment(out)
		if err != nil {
			return err
		}
		return s.write(KindAssignment, a.Topology, b)
	})
	if err != nil {
		return Assignment{}, wrap("put", KindAssignment, a.Topology, err)
	}
	return out, nil
}

// GetAssignment implements Store.
func (s *FileStore) GetAssignment(ctx context.Context, name string) (Assignment, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Assignment{}, wrap("get", KindAssignment, name, err)
	}
	if err := checkName("get", KindAssignment, name); err != nil {
		return Assignment{}, err
	}
	a, err := s.readAssignment(name)
	if err != nil {
		return Assignment{}, wrap("get", KindAssignment, name, err)
	}
	if a == nil {
		return Assignment{}, &RecordError{Op: "get", Kind: KindAssignment, Name: name, Err: ErrNotFound}
	}
	return *a, nil
}

// DeleteAssignment implements Store.
func (s *FileStore) DeleteAssignment(ctx context.Context, name string, epoch uint64) error {
	if err := s.checkOpen(ctx); err != nil {
		return wrap("delete", KindAssignment, name, err)
	}
	if err := checkName("delete", KindAssignment, name); err != nil {
		return err
	}
	err := s.locked(ctx, func() error {
		cur, err := s.readAssignment(name)
		if err != nil {
			return err
		}
		if err := checkDeleteAssignment(name, cur, epoch); err != nil {
			return err
		}
		return s.remove(KindAssignment, name)
	})
	return wrap("delete", KindAssignment, name, err)
}

// fileState identifies one version of a record's file: a write renames a
// new file (a new inode) over the old one.
type fileState struct {
	ino   uint64
	size  int64
	mtime int64
}

// Watch implements Store. The first call takes a snapshot of the
// directory and starts the poller, which runs until Close.
func (s *FileStore) Watch(ctx context.Context) (<-chan Event, error) {
	if err := s.checkOpen(ctx); err != nil {
		return nil, wrap("watch", "", "", err)
	}
	s.pollMu.Lock()
	if !s.polling {
		seen, _, err := s.scan(nil)
		if err != nil {
			s.pollMu.Unlock()
			return nil, wrap("watch", "", "", err)
		}
		s.seen, s.polling = seen, true
		s.wg.Add(1)
		go s.pollLoop()
	}
	s.pollMu.Unlock()
	return s.hub.watch(ctx)
}

func (s *FileStore) pollLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		s.pollMu.Lock()
		seen, events, err := s.scan(s.seen)
		if err == nil {
			s.seen = seen
		}
		s.pollMu.Unlock()
		for _, ev := range events {
			s.hub.publish(ev)
		}
	}
}

// scan stats every record file and returns their states and the events
// that lead from prev to them (none when prev is nil).
func (s *FileStore) scan(prev map[eventKey]fileState) (map[eventKey]fileState, []Event, error) {
	seen := map[eventKey]fileState{}
	var events []Event
	for _, kind := range []Kind{KindTopology, KindAssignment} {
		dir := s.recordDir(kind)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range ents {
			name, ok := strings.CutSuffix(e.Name(), ".json")
			if !ok || checkName("watch", kind, name) != nil {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue // deleted since ReadDir: the next scan reports it
			}
			st := fileState{size: info.Size(), mtime: info.ModTime().UnixNano()}
			if sys, ok := info.Sys().(*syscall.Stat_t); ok {
				st.ino = uint64(sys.Ino)
			}
			k := eventKey{kind, name}
			seen[k] = st
			if old, ok := prev[k]; prev == nil || ok && old == st {
				continue
			}
			ev := Event{Kind: kind, Name: name}
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				if n, v, err := decodeVersion(kind, b); err == nil && n == name {
					ev.Version = v
				}
			}
			events = append(events, ev)
		}
	}
	for k := range prev {
		if _, ok := seen[k]; !ok {
			events = append(events, Event{Kind: k.kind, Name: k.name, Deleted: true})
		}
	}
	return seen, events, nil
}

func (s *FileStore) readLease(name string) (*Lease, error) {
	b, err := s.read(KindLease, name)
	if err != nil || b == nil {
		return nil, err
	}
	l, err := decodeLease(b)
	if err == nil && l.Name != name {
		err = fmt.Errorf("%w: the file holds lease %q", ErrCorrupt, l.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path(KindLease, name), err)
	}
	return &l, nil
}

// PutLease implements Store.
func (s *FileStore) PutLease(ctx context.Context, l Lease, expected uint64) (Lease, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Lease{}, wrap("put", KindLease, l.Name, err)
	}
	if err := checkLease("put", l); err != nil {
		return Lease{}, err
	}
	var out Lease
	err := s.locked(ctx, func() error {
		cur, err := s.readLease(l.Name)
		if err != nil {
			return err
		}
		if err := checkLeasePut(l.Name, cur, expected); err != nil {
			return err
		}
		out = nextLease(l, cur, now())
		b, err := encodeLease(out)
		if err != nil {
			return err
		}
		return s.write(KindLease, l.Name, b)
	})
	if err != nil {
		return Lease{}, wrap("put", KindLease, l.Name, err)
	}
	return out, nil
}

// GetLease implements Store.
func (s *FileStore) GetLease(ctx context.Context, name string) (Lease, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Lease{}, wrap("get", KindLease, name, err)
	}
	if err := checkName("get", KindLease, name); err != nil {
		return Lease{}, err
	}
	l, err := s.readLease(name)
	if err != nil {
		return Lease{}, wrap("get", KindLease, name, err)
	}
	if l == nil {
		return Lease{}, &RecordError{Op: "get", Kind: KindLease, Name: name, Err: ErrNotFound}
	}
	return *l, nil
}
