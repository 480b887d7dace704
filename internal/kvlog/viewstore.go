package kvlog

import (
	"slices"
	"strings"
	"sync"

	"github.com/lovoo/goka/storage"
)

// viewStore is the KafkaLog view's storage: a map. goka's memory storage
// keeps a sorted slice of its keys and sorts it again on every new key
// (and searches it linearly on every delete), so that applying a record
// costs O(n log n) in the live keys: a log with 10,000 live keys applied
// about 26,000 records/s, writes and the reading of the topic at open
// alike. Here applying a record costs a map operation, and an iterator
// sorts the keys it covers when it is made (the view's Scan wants them
// sorted); goka's view only iterates on Scan.
type viewStore struct {
	mu     sync.RWMutex
	m      map[string][]byte
	offset *int64
}

var _ storage.Storage = (*viewStore)(nil)

func viewStoreBuilder(string, int32) (storage.Storage, error) {
	return &viewStore{m: map[string][]byte{}}, nil
}

func (s *viewStore) Open() error  { return nil }
func (s *viewStore) Close() error { return nil }

func (s *viewStore) MarkRecovered() error { return nil }

func (s *viewStore) Has(key string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.m[key]
	return ok, nil
}

func (s *viewStore) Get(key string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.m[key], nil
}

func (s *viewStore) Set(key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

func (s *viewStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *viewStore) GetOffset(def int64) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.offset == nil {
		return def, nil
	}
	return *s.offset, nil
}

func (s *viewStore) SetOffset(offset int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset = &offset
	return nil
}

// Iterator is a snapshot of every key, in key order.
func (s *viewStore) Iterator() (storage.Iterator, error) {
	return s.snapshot(func(string) bool { return true }), nil
}

// IteratorWithRange is a snapshot of the keys in [start, limit), in key
// order; an empty limit means the keys with prefix start (as goka's
// memory storage does).
func (s *viewStore) IteratorWithRange(start, limit []byte) (storage.Iterator, error) {
	lo, hi := string(start), string(limit)
	if hi == "" {
		return s.snapshot(func(k string) bool { return strings.HasPrefix(k, lo) }), nil
	}
	return s.snapshot(func(k string) bool { return k >= lo && k < hi }), nil
}

func (s *viewStore) snapshot(in func(string) bool) *viewIter {
	s.mu.RLock()
	it := &viewIter{i: -1, values: map[string][]byte{}}
	for k, v := range s.m {
		if in(k) {
			it.keys = append(it.keys, k)
			it.values[k] = v
		}
	}
	s.mu.RUnlock()
	slices.Sort(it.keys)
	return it
}

// viewIter iterates over a snapshot of a viewStore.
type viewIter struct {
	i      int
	keys   []string
	values map[string][]byte
}

func (it *viewIter) Next() bool {
	it.i++
	return it.i < len(it.keys)
}

func (it *viewIter) Err() error { return nil }

func (it *viewIter) Key() []byte {
	if it.i < 0 || it.i >= len(it.keys) {
		return nil
	}
	return []byte(it.keys[it.i])
}

func (it *viewIter) Value() ([]byte, error) {
	if it.i < 0 || it.i >= len(it.keys) {
		return nil, nil
	}
	return it.values[it.keys[it.i]], nil
}

func (it *viewIter) Release() { it.i = len(it.keys) }

// Seek moves before the first key >= key: Next then reads it.
func (it *viewIter) Seek(key []byte) bool {
	n, _ := slices.BinarySearch(it.keys, string(key))
	it.i = n - 1
	return n < len(it.keys)
}
