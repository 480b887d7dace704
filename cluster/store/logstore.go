package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gale-stream/gale/internal/kvlog"
)

// logStore is a Store on a kvlog.Log, the part FileStore and KafkaStore
// share: a record is the key "KIND/NAME" with the stored JSON (codec.go)
// as value, a deletion is a tombstone, and every write is a kvlog.Update
// of one owner (so each write fences the others and rereads) whose decide
// applies the checks of store.go to the record it reads.
type logStore struct {
	log   kvlog.Log
	owner string
	opts  kvlog.UpdateOptions

	ctx    context.Context // ends when the store closes: cancels the calls in progress
	cancel context.CancelFunc
	// calls counts the calls in progress (and the goroutines of Watch):
	// the log closes after them, not under them.
	calls    sync.WaitGroup
	closedMu sync.RWMutex // orders calls.Add before the Wait of close
	closed   atomic.Bool
	// writeMu serialises the writes of this store: concurrent writers of
	// one owner would only fence each other.
	writeMu sync.Mutex
}

func newLogStore(l kvlog.Log, owner string, opts kvlog.UpdateOptions) *logStore {
	ctx, cancel := context.WithCancel(context.Background())
	return &logStore{log: l, owner: owner, opts: opts, ctx: ctx, cancel: cancel}
}

// begin starts a call: its context is ctx, ended as well when the store
// closes; done ends the call.
func (s *logStore) begin(ctx context.Context) (_ context.Context, done func(), _ error) {
	s.closedMu.RLock()
	defer s.closedMu.RUnlock()
	if s.closed.Load() {
		return nil, nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s.calls.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() { stop(); cancel(); s.calls.Done() }, nil
}

// close cancels the calls in progress, waits for them (and the
// watchers), and closes the log. It may be called more than once.
func (s *logStore) close() error {
	s.closedMu.Lock()
	already := s.closed.Swap(true)
	s.closedMu.Unlock()
	if already {
		return nil
	}
	s.cancel()
	s.calls.Wait()
	return s.log.Close()
}

// mapErr maps the log's errors (and those of a call the closing store
// cancelled) to the store's.
func (s *logStore) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kvlog.ErrClosed), s.closed.Load() && errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.Is(err, kvlog.ErrCorrupt):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

// sync is a read barrier (Syncer).
func (s *logStore) sync(ctx context.Context) error {
	ctx, done, err := s.begin(ctx)
	if err != nil {
		return wrap("sync", "", "", err)
	}
	defer done()
	return wrap("sync", "", "", s.mapErr(s.log.Sync(ctx)))
}

// get reads the record kind/name and decodes it; nil when there is none.
func get[T any](ctx context.Context, s *logStore, kind Kind, name string, decode func([]byte) (T, error)) (*T, error) {
	b, err := s.log.Get(ctx, recordKey(kind, name))
	if err != nil || b == nil {
		return nil, s.mapErr(err)
	}
	return decodeNamed(kind, name, b, decode)
}

// decodeNamed decodes the value of record kind/name and checks that it
// holds that record.
func decodeNamed[T any](kind Kind, name string, b []byte, decode func([]byte) (T, error)) (*T, error) {
	v, err := decode(b)
	if err != nil {
		return nil, err
	}
	var n string
	switch r := any(v).(type) {
	case Topology:
		n = r.Name
	case Assignment:
		n = r.Topology
	case Lease:
		n = r.Name
	}
	if n != name {
		return nil, fmt.Errorf("%w: the record holds %s %q", ErrCorrupt, kind, n)
	}
	return &v, nil
}

// read is the Get of every kind: name's record or ErrNotFound.
func read[T any](ctx context.Context, s *logStore, kind Kind, name string, decode func([]byte) (T, error)) (T, error) {
	var zero T
	if err := checkName("get", kind, name); err != nil {
		return zero, err
	}
	ctx, done, err := s.begin(ctx)
	if err != nil {
		return zero, wrap("get", kind, name, err)
	}
	defer done()
	v, err := get(ctx, s, kind, name, decode)
	if err != nil {
		return zero, wrap("get", kind, name, err)
	}
	if v == nil {
		return zero, &RecordError{Op: "get", Kind: kind, Name: name, Err: ErrNotFound}
	}
	return *v, nil
}

// update writes record kind/name compare-and-set: decide reads the
// record (get) and returns its new value (nil: delete it) or the error
// of a check.
func (s *logStore) update(ctx context.Context, op string, kind Kind, name string, decide func(ctx context.Context) ([]byte, error)) error {
	ctx, done, err := s.begin(ctx)
	if err != nil {
		return wrap(op, kind, name, err)
	}
	defer done()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	key := recordKey(kind, name)
	err = kvlog.Update(ctx, s.log, s.owner, s.opts, func() ([]kvlog.Record, error) {
		v, err := decide(ctx)
		if err != nil {
			return nil, err
		}
		return []kvlog.Record{{Key: key, Value: v}}, nil
	})
	return wrap(op, kind, name, s.mapErr(err))
}

// PutTopology implements Store.
func (s *logStore) PutTopology(ctx context.Context, t Topology, expected uint64) (Topology, error) {
	if err := checkTopology("put", t); err != nil {
		return Topology{}, err
	}
	var out Topology
	err := s.update(ctx, "put", KindTopology, t.Name, func(ctx context.Context) ([]byte, error) {
		cur, err := get(ctx, s, KindTopology, t.Name, decodeTopology)
		if err != nil {
			return nil, err
		}
		if err := checkPut(t.Name, cur, expected); err != nil {
			return nil, err
		}
		out = nextTopology(t, cur, now())
		return encodeTopology(out)
	})
	if err != nil {
		return Topology{}, err
	}
	return out, nil
}

// GetTopology implements Store.
func (s *logStore) GetTopology(ctx context.Context, name string) (Topology, error) {
	return read(ctx, s, KindTopology, name, decodeTopology)
}

// ListTopologies implements Store.
func (s *logStore) ListTopologies(ctx context.Context) ([]Topology, error) {
	ctx, done, err := s.begin(ctx)
	if err != nil {
		return nil, wrap("list", KindTopology, "", err)
	}
	defer done()
	var ts []Topology
	err = s.log.Scan(ctx, topologyPrefix, func(key string, b []byte) error {
		kind, name, ok := parseKey(key)
		if !ok || kind != KindTopology {
			return nil
		}
		t, err := decodeNamed(KindTopology, name, b, decodeTopology)
		if err != nil {
			return wrap("list", KindTopology, name, err)
		}
		ts = append(ts, *t)
		return nil
	})
	if err != nil {
		return nil, wrap("list", KindTopology, "", s.mapErr(err))
	}
	return ts, nil // the keys come sorted, hence the names
}

// DeleteTopology implements Store.
func (s *logStore) DeleteTopology(ctx context.Context, name string, expected uint64) error {
	if err := checkName("delete", KindTopology, name); err != nil {
		return err
	}
	return s.update(ctx, "delete", KindTopology, name, func(ctx context.Context) ([]byte, error) {
		cur, err := get(ctx, s, KindTopology, name, decodeTopology)
		if err != nil {
			return nil, err
		}
		return nil, checkDelete(name, cur, expected)
	})
}

// PutAssignment implements Store.
func (s *logStore) PutAssignment(ctx context.Context, a Assignment) (Assignment, error) {
	if err := checkAssignment("put", a); err != nil {
		return Assignment{}, err
	}
	var out Assignment
	err := s.update(ctx, "put", KindAssignment, a.Topology, func(ctx context.Context) ([]byte, error) {
		cur, err := get(ctx, s, KindAssignment, a.Topology, decodeAssignment)
		if err != nil {
			return nil, err
		}
		if err := checkEpoch(a, cur); err != nil {
			return nil, err
		}
		out = nextAssignment(a, now())
		return encodeAssignment(out)
	})
	if err != nil {
		return Assignment{}, err
	}
	return out, nil
}

// GetAssignment implements Store.
func (s *logStore) GetAssignment(ctx context.Context, name string) (Assignment, error) {
	return read(ctx, s, KindAssignment, name, decodeAssignment)
}

// DeleteAssignment implements Store.
func (s *logStore) DeleteAssignment(ctx context.Context, name string, epoch uint64) error {
	if err := checkName("delete", KindAssignment, name); err != nil {
		return err
	}
	return s.update(ctx, "delete", KindAssignment, name, func(ctx context.Context) ([]byte, error) {
		cur, err := get(ctx, s, KindAssignment, name, decodeAssignment)
		if err != nil {
			return nil, err
		}
		return nil, checkDeleteAssignment(name, cur, epoch)
	})
}

// PutLease implements Store.
func (s *logStore) PutLease(ctx context.Context, l Lease, expected uint64) (Lease, error) {
	if err := checkLease("put", l); err != nil {
		return Lease{}, err
	}
	var out Lease
	err := s.update(ctx, "put", KindLease, l.Name, func(ctx context.Context) ([]byte, error) {
		cur, err := get(ctx, s, KindLease, l.Name, decodeLease)
		if err != nil {
			return nil, err
		}
		if err := checkLeasePut(l.Name, cur, expected); err != nil {
			return nil, err
		}
		out = nextLease(l, cur, now())
		return encodeLease(out)
	})
	if err != nil {
		return Lease{}, err
	}
	return out, nil
}

// GetLease implements Store.
func (s *logStore) GetLease(ctx context.Context, name string) (Lease, error) {
	return read(ctx, s, KindLease, name, decodeLease)
}

// Watch implements Store on the log's Watch: a change of a topology or
// assignment key becomes an Event carrying the version the log holds when
// the event is sent (so Get returns it or a newer one); the log coalesces
// the changes of a key a slow watcher has not read yet. Leases and foreign
// keys are left out.
func (s *logStore) Watch(ctx context.Context) (<-chan Event, error) {
	ctx, done, err := s.begin(ctx)
	if err != nil {
		return nil, wrap("watch", "", "", err)
	}
	changes, err := s.log.Watch(ctx)
	if err != nil {
		done()
		return nil, wrap("watch", "", "", s.mapErr(err))
	}
	out := make(chan Event)
	go func() {
		defer done()
		defer close(out)
		for c := range changes { // closed when ctx ends or the log closes
			kind, name, ok := parseKey(c.Key)
			if !ok || kind == KindLease {
				continue
			}
			ev := Event{Kind: kind, Name: name, Deleted: c.Deleted}
			if !c.Deleted {
				b, err := s.log.Get(ctx, c.Key)
				switch {
				case err != nil:
					return // closed, or ctx ended
				case b == nil:
					continue // deleted since: that change follows
				default:
					if n, v, err := decodeVersion(kind, b); err == nil && n == name {
						ev.Version = v
					}
				}
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
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
