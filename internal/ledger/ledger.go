// Package ledger is the batch ledger of Gale's Kafka spout: the durable
// record of how each partition was cut into batches. A spout writes a
// batch's plan — (topology, spout, topic, partition, seq, start, end) —
// before it emits any of its tuples, and marks the batch committed once its
// tuple trees completed. After any failure the spout reads the ledger back
// and replays the planned-but-uncommitted batches with exactly their
// planned ranges, so that sinks see the same batches under the same ids.
//
// One writer per partition: opening a partition's ledger fences every
// earlier owner, whose next write fails with ErrFenced.
package ledger

import (
	"context"
	"errors"
	"fmt"
)

// Key names one partition's ledger.
type Key struct {
	Topology  string `json:"topology"`
	Spout     string `json:"spout"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

func (k Key) String() string {
	return fmt.Sprintf("%s/%s/%s/%d", k.Topology, k.Spout, k.Topic, k.Partition)
}

// Plan is one batch: the offsets [Start, End) of a partition, number Seq.
type Plan struct {
	Key
	Seq   uint64 `json:"seq"`
	Start int64  `json:"start"`
	End   int64  `json:"end"`
}

// BatchID is the batch's stable name, "topic/partition/seq" with the
// numbers zero-padded so that ids sort.
func (p Plan) BatchID() string {
	return fmt.Sprintf("%s/%05d/%012d", p.Topic, p.Partition, p.Seq)
}

// State is what a partition's ledger holds.
type State struct {
	// Pending are the planned batches not committed yet, by Seq.
	Pending []Plan
	// Committed is the number of batches committed contiguously from seq 0:
	// every batch with Seq < Committed is committed.
	Committed uint64
	// CommittedEnd is the End of batch Committed-1 (the offset the consumer
	// may resume from when nothing is pending), or -1 when none.
	CommittedEnd int64
	// NextSeq is the Seq of the next new batch.
	NextSeq uint64
	// NextStart is where the next new batch starts (the End of the last
	// plan), or -1 when nothing was ever planned.
	NextStart int64
	// Base is the Start of batch 0 (where the partition's ledger begins),
	// or -1 when nothing was ever planned: batches 0..Committed-1 tile the
	// offsets [Base, CommittedEnd) without gap or overlap.
	Base int64
	// Lost are the ranges recorded lost (Writer.Lose), oldest first: the
	// last MaxLost of them; LostOffsets counts the offsets of all of them.
	Lost        []Lost
	LostOffsets int64
}

// Lost is a range of offsets of batch Seq that Kafka no longer had when
// the batch was read (its retention deleted them): recorded so, never
// silently skipped.
type Lost struct {
	Seq   uint64 `json:"seq"`
	Start int64  `json:"start"`
	End   int64  `json:"end"`
}

// MaxLost is how many lost ranges a ledger keeps (the most recent);
// State.LostOffsets still counts them all.
const MaxLost = 100

// Store opens partition ledgers. Implementations: the file store (local
// mode) and the Kafka store (production); both pass the same conformance
// tests.
type Store interface {
	// Open takes ownership of key's ledger, fencing earlier owners, and
	// returns a writer and the ledger's state.
	Open(ctx context.Context, key Key) (Writer, State, error)
	// Close releases the store.
	Close() error
}

// Writer writes one partition's ledger. Its methods return only once the
// record is durable. A Writer is used by one goroutine.
type Writer interface {
	// Plan records a new batch. Its Seq must be the state's NextSeq and its
	// Start the state's NextStart (when not -1): plans are contiguous.
	Plan(ctx context.Context, p Plan) error
	// Commit marks batch seq committed.
	Commit(ctx context.Context, seq uint64) error
	// Lose records that the offsets [start, end) of the planned batch seq
	// are gone from Kafka. The batch stays planned: commit it once what
	// is left of it is written (at once when all of it is lost).
	Lose(ctx context.Context, seq uint64, start, end int64) error
	// Close releases the writer (it does not fence anyone).
	Close() error
}

// Errors of the ledger.
var (
	// ErrFenced: a newer owner opened the partition's ledger; this writer
	// must stop emitting for the partition.
	ErrFenced = errors.New("ledger: fenced by a newer owner")
	// ErrNotContiguous: a plan does not follow the previous one.
	ErrNotContiguous = errors.New("ledger: plan does not follow the last one")
	// ErrUnknownBatch: a commit names a batch that was never planned.
	ErrUnknownBatch = errors.New("ledger: commit of an unplanned batch")
	// ErrClosed: the writer or store was closed.
	ErrClosed = errors.New("ledger: closed")
	// ErrGone: the ledger's storage disappeared (a deleted file or topic);
	// the writer refuses to record anything and the spout stops emitting.
	ErrGone = errors.New("ledger: storage deleted while in use")
)

// Reader is implemented by stores that can read ledgers without taking
// ownership, so without disturbing a running topology: `gale verify`
// reads the ledgers so.
type Reader interface {
	// Keys lists the partitions that have a ledger under topology/spout.
	Keys(ctx context.Context, topology, spout string) ([]Key, error)
	// Read returns one partition's state, as Open would.
	Read(ctx context.Context, key Key) (State, error)
}

// state folds records into a State; both stores use it.
type state struct {
	plans       map[uint64]Plan
	committed   map[uint64]bool
	nextSeq     uint64
	nextStart   int64
	lost        []Lost
	lostOffsets int64
}

func newState() *state {
	return &state{plans: map[uint64]Plan{}, committed: map[uint64]bool{}, nextStart: -1}
}

// checkLose returns an error unless [start, end) lies in the planned
// batch seq.
func (s *state) checkLose(seq uint64, start, end int64) error {
	p, ok := s.plans[seq]
	if !ok {
		return fmt.Errorf("%w: seq %d", ErrUnknownBatch, seq)
	}
	if start < p.Start || end > p.End || end <= start {
		return fmt.Errorf("%w: lost range [%d, %d) outside batch %d [%d, %d)", ErrNotContiguous, start, end, seq, p.Start, p.End)
	}
	return nil
}

func (s *state) addLost(l Lost) {
	s.lostOffsets += l.End - l.Start
	s.lost = append(s.lost, l)
	if len(s.lost) > MaxLost {
		s.lost = append([]Lost(nil), s.lost[len(s.lost)-MaxLost:]...)
	}
}

// checkPlan returns an error unless p may follow the plans so far.
func (s *state) checkPlan(p Plan) error {
	if p.Seq != s.nextSeq || (s.nextStart >= 0 && p.Start != s.nextStart) || p.End <= p.Start {
		return fmt.Errorf("%w: plan seq %d [%d, %d), want seq %d starting at %d",
			ErrNotContiguous, p.Seq, p.Start, p.End, s.nextSeq, s.nextStart)
	}
	return nil
}

func (s *state) addPlan(p Plan) {
	s.plans[p.Seq] = p
	s.nextSeq = p.Seq + 1
	s.nextStart = p.End
}

func (s *state) checkCommit(seq uint64) error {
	if _, ok := s.plans[seq]; !ok {
		return fmt.Errorf("%w: seq %d", ErrUnknownBatch, seq)
	}
	return nil
}

func (s *state) addCommit(seq uint64) { s.committed[seq] = true }

func (s *state) export() State {
	st := State{NextSeq: s.nextSeq, NextStart: s.nextStart, CommittedEnd: -1, Base: -1,
		Lost: append([]Lost(nil), s.lost...), LostOffsets: s.lostOffsets}
	if p, ok := s.plans[0]; ok {
		st.Base = p.Start
	}
	for st.Committed < s.nextSeq && s.committed[st.Committed] {
		st.CommittedEnd = s.plans[st.Committed].End
		st.Committed++
	}
	for seq := st.Committed; seq < s.nextSeq; seq++ {
		if !s.committed[seq] {
			st.Pending = append(st.Pending, s.plans[seq])
		}
	}
	return st
}
