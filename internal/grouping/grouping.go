// Package grouping implements the stream groupings: which task(s) of a
// consuming bolt receive each tuple. Each emitting task owns its own
// Groupers, so they need no locks.
package grouping

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Errors of New and CheckDirect.
var (
	ErrUnknownGrouping = errors.New("unknown grouping")
	ErrNoFields        = errors.New("grouping needs fields")
	ErrNoTargets       = errors.New("no target tasks")
	ErrNotTarget       = errors.New("task does not consume the stream")
)

// Grouper chooses the target tasks of one tuple.
type Grouper interface {
	// Choose appends the chosen task ids to dst and returns it.
	Choose(dst []int, values tuple.Values) []int
}

// BatchChooser is implemented by the Grouper of the "batch" grouping: the
// emitter calls ChooseBatch for tuples that belong to a batch.
type BatchChooser interface {
	ChooseBatch(dst []int, batchID string) []int
}

// BatchOwner returns the task of targets (ascending) that the "batch"
// grouping sends batch batchID to.
func BatchOwner(targets []int, batchID string) int {
	return targets[str(fnvOffset, batchID)%uint64(len(targets))]
}

// New returns the Grouper for g. targets are the consumer's task ids in
// ascending order, fieldIdx the positions of the grouping fields in the
// stream, local the targets running in the emitter's own process:
// local_or_shuffle prefers them, and the batch grouping keeps each batch
// among them (the caller gives them to the batch grouping only where no
// other task sends tuples of the emitter's batches to the consumer).
func New(g topology.Grouping, targets, fieldIdx, local []int) (Grouper, error) {
	if len(targets) == 0 {
		return nil, ErrNoTargets
	}
	targets = slices.Clone(targets)
	slices.Sort(targets)
	switch g {
	case topology.Shuffle, topology.None, "":
		return newShuffle(targets), nil
	case topology.LocalOrShuffle:
		if len(local) > 0 {
			return newShuffle(slices.Clone(local)), nil
		}
		return newShuffle(targets), nil
	case topology.FieldsGrouping:
		if len(fieldIdx) == 0 {
			return nil, fmt.Errorf("%s: %w", g, ErrNoFields)
		}
		return &fields{targets: targets, idx: slices.Clone(fieldIdx)}, nil
	case topology.PartialKey:
		if len(fieldIdx) == 0 {
			return nil, fmt.Errorf("%s: %w", g, ErrNoFields)
		}
		return &partialKey{targets: targets, idx: slices.Clone(fieldIdx), load: make([]uint64, len(targets))}, nil
	case topology.BatchGrouping:
		b := &batch{targets: targets, shuffle: newShuffle(slices.Clone(targets))}
		if len(local) > 0 {
			// the emitter is the only sender of its batches (a spout
			// feeding this bolt alone): they stay in its process
			b.targets = slices.Sorted(slices.Values(local))
		}
		return b, nil
	case topology.All:
		return all(targets), nil
	case topology.Global:
		return global(targets[0]), nil
	case topology.Direct:
		return direct{}, nil
	}
	return nil, fmt.Errorf("%q: %w", g, ErrUnknownGrouping)
}

// CheckDirect returns an error unless task is one of targets.
func CheckDirect(targets []int, task int) error {
	if slices.Contains(targets, task) {
		return nil
	}
	return fmt.Errorf("task %d (consumer tasks %v): %w", task, targets, ErrNotTarget)
}

// shuffle deals the targets round robin in a random order, reshuffled each
// round: even spread, no coordination.
type shuffle struct {
	order []int
	pos   int
}

func newShuffle(targets []int) *shuffle {
	s := &shuffle{order: targets}
	s.reshuffle()
	return s
}

func (s *shuffle) reshuffle() {
	rand.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
	s.pos = 0
}

func (s *shuffle) Choose(dst []int, _ tuple.Values) []int {
	if s.pos == len(s.order) {
		s.reshuffle()
	}
	dst = append(dst, s.order[s.pos])
	s.pos++
	return dst
}

type fields struct {
	targets []int
	idx     []int
}

func (f *fields) Choose(dst []int, values tuple.Values) []int {
	return append(dst, f.targets[Hash(values, f.idx)%uint64(len(f.targets))])
}

// partialKey is Storm's PartialKeyGrouping: two candidate tasks per key,
// the one this emitter has sent fewer tuples to wins.
type partialKey struct {
	targets []int
	idx     []int
	load    []uint64
}

func (p *partialKey) Choose(dst []int, values tuple.Values) []int {
	h1 := Hash(values, p.idx)
	h2 := mix(h1 ^ 0x9e3779b97f4a7c15)
	n := uint64(len(p.targets))
	a, b := h1%n, h2%n
	if p.load[b] < p.load[a] {
		a = b
	}
	p.load[a]++
	return append(dst, p.targets[a])
}

// batch sends each batch to one task (BatchOwner over its targets: all
// the consumer's tasks, or those local to the emitter when New was given
// some); tuples outside batches (Choose) are shuffled over all of them.
type batch struct {
	targets []int
	*shuffle
	// the last batch chosen for, and its owner: a batch's tuples come in
	// a row, and hashing its id for each was 6 % of a Kafka -> files run
	lastID    string
	lastOwner int
}

func (b *batch) ChooseBatch(dst []int, batchID string) []int {
	if batchID != b.lastID || b.lastID == "" {
		b.lastID, b.lastOwner = batchID, BatchOwner(b.targets, batchID)
	}
	return append(dst, b.lastOwner)
}

type all []int

func (a all) Choose(dst []int, _ tuple.Values) []int { return append(dst, a...) }

type global int

func (g global) Choose(dst []int, _ tuple.Values) []int { return append(dst, int(g)) }

// direct chooses nothing: the emitter names the task (CheckDirect).
type direct struct{}

func (direct) Choose(dst []int, _ tuple.Values) []int { return dst }

// mix is SplitMix64's finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Hash is the stable hash of the values at idx: FNV-1a 64 over a canonical
// encoding of each value (a type tag, then the value: ints as int64 and
// uints as uint64 little-endian, floats as IEEE bits, strings and []byte
// as their length and bytes, bool, nil; other types as fmt.Sprint text).
// It is the same in every process and on every machine, so that the
// workers of a cluster agree on where each key goes.
func Hash(values tuple.Values, idx []int) uint64 {
	h := uint64(fnvOffset)
	for _, i := range idx {
		var v any
		if i >= 0 && i < len(values) {
			v = values[i]
		}
		h = hashValue(h, v)
	}
	return h
}

func byte1(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func word(h uint64, w uint64) uint64 {
	for range 8 {
		h = byte1(h, byte(w))
		w >>= 8
	}
	return h
}

func str(h uint64, s string) uint64 {
	h = byte1(h, 's')
	h = word(h, uint64(len(s)))
	for i := 0; i < len(s); i++ {
		h = byte1(h, s[i])
	}
	return h
}

func hashValue(h uint64, v any) uint64 {
	switch x := v.(type) {
	case nil:
		return byte1(h, 'n')
	case string:
		return str(h, x)
	case []byte:
		h = byte1(h, 's')
		h = word(h, uint64(len(x)))
		for _, c := range x {
			h = byte1(h, c)
		}
		return h
	case bool:
		if x {
			return byte1(byte1(h, 'b'), 1)
		}
		return byte1(byte1(h, 'b'), 0)
	case int:
		return word(byte1(h, 'i'), uint64(int64(x)))
	case int8:
		return word(byte1(h, 'i'), uint64(int64(x)))
	case int16:
		return word(byte1(h, 'i'), uint64(int64(x)))
	case int32:
		return word(byte1(h, 'i'), uint64(int64(x)))
	case int64:
		return word(byte1(h, 'i'), uint64(x))
	case uint:
		return word(byte1(h, 'u'), uint64(x))
	case uint8:
		return word(byte1(h, 'u'), uint64(x))
	case uint16:
		return word(byte1(h, 'u'), uint64(x))
	case uint32:
		return word(byte1(h, 'u'), uint64(x))
	case uint64:
		return word(byte1(h, 'u'), x)
	case float32:
		return word(byte1(h, 'f'), math.Float64bits(float64(x)))
	case float64:
		return word(byte1(h, 'f'), math.Float64bits(x))
	}
	return str(h, fmt.Sprint(v))
}
