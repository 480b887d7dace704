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
//
// The ledger is bounded: a partition's state is a checkpoint (the batches
// committed contiguously, the offset they reach, the lost ranges) and one
// record per pending batch, deleted when the checkpoint passes it, so
// that it stays in the order of the batches in flight however long the
// partition runs. Both stores keep it in a kvlog.Log, the fenced,
// compacted key/value log the cluster store also uses:
//
//	TOPOLOGY/SPOUT/TOPIC/PARTITION/cp         checkpoint (JSON)
//	TOPOLOGY/SPOUT/TOPIC/PARTITION/b/SEQ      a pending batch: start, end, done
//
// The history of committed batches is not kept: gale verify checks the
// sinks against the checkpoint (batches 0..Committed-1 tile the offsets
// [Base, CommittedEnd) and every one of them is in every sink).
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
// record is durable, and write all they are given in one atomic record,
// so that a caller may coalesce what piled up. A Writer is used by one
// goroutine at a time.
//
// A method that fails otherwise than with ErrFenced, ErrGone, ErrClosed
// or a refusal (ErrNotContiguous, ErrUnknownBatch) may or may not have
// been recorded: calling it again with the same arguments is safe (plans
// recorded already are recorded once), and so is writing other things
// first — the writer reads the ledger again before its next write, so
// that what it writes agrees with whatever landed.
type Writer interface {
	// Plan records new batches. The first's Seq must be the state's
	// NextSeq and its Start the state's NextStart (when not -1), and
	// each follows the one before: plans are contiguous.
	Plan(ctx context.Context, plans ...Plan) error
	// Commit marks batches committed; committing a committed batch again
	// does nothing.
	Commit(ctx context.Context, seqs ...uint64) error
	// Lose records that the offsets [start, end) of the pending batch seq
	// are gone from Kafka. The batch stays pending: commit it once what
	// is left of it is written (at once when all of it is lost).
	// Recording the same range twice records it once.
	Lose(ctx context.Context, seq uint64, start, end int64) error
	// Apply writes a Batch as one atomic record: its plans, then its lost
	// ranges, then its commits, each checked as Plan, Lose and Commit
	// check them (nothing is written when one is refused). Plan, Commit
	// and Lose are Apply of one kind.
	Apply(ctx context.Context, b Batch) error
	// Close releases the writer (it does not fence anyone).
	Close() error
}

// Batch is several writes to one partition's ledger, made at once by
// Writer.Apply: under load, the writes that piled up while the last one
// was on its way cost one transaction.
type Batch struct {
	Plans   []Plan
	Lost    []Lost
	Commits []uint64
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
	// ErrCorrupt: the ledger holds records that contradict each other.
	ErrCorrupt = errors.New("ledger: corrupt")
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

// state is a partition's ledger in memory: the checkpoint and the pending
// batches. Its size is bounded by the batches in flight.
type state struct {
	key          Key
	base         int64           // start of batch 0, -1 before it is planned
	committed    uint64          // batches committed contiguously
	committedEnd int64           // end of batch committed-1, -1 when none
	plans        map[uint64]Plan // pending: seq >= committed
	done         map[uint64]bool // pending batches committed out of order
	nextSeq      uint64
	nextStart    int64
	lost         []Lost
	lostOffsets  int64
	folded       []uint64 // batches load found done at the checkpoint, passed since
}

func newState(key Key) *state {
	return &state{key: key, base: -1, committedEnd: -1, nextStart: -1,
		plans: map[uint64]Plan{}, done: map[uint64]bool{}}
}

func (s *state) clone() *state {
	c := *s
	c.plans = make(map[uint64]Plan, len(s.plans))
	for k, v := range s.plans {
		c.plans[k] = v
	}
	c.done = make(map[uint64]bool, len(s.done))
	for k, v := range s.done {
		c.done[k] = v
	}
	c.lost = append([]Lost(nil), s.lost...)
	return &c
}

// checkPlan returns an error unless p may follow the plans so far.
func (s *state) checkPlan(p Plan) error {
	if p.Seq != s.nextSeq || (s.nextStart >= 0 && p.Start != s.nextStart) || p.End <= p.Start || p.Start < 0 {
		return fmt.Errorf("%w: plan seq %d [%d, %d), want seq %d starting at %d",
			ErrNotContiguous, p.Seq, p.Start, p.End, s.nextSeq, s.nextStart)
	}
	return nil
}

func (s *state) addPlan(p Plan) {
	p.Key = s.key
	s.plans[p.Seq] = p
	if p.Seq == 0 {
		s.base = p.Start
	}
	s.nextSeq = p.Seq + 1
	s.nextStart = p.End
}

// checkCommit returns an error unless seq was planned.
func (s *state) checkCommit(seq uint64) error {
	if _, ok := s.plans[seq]; !ok && seq >= s.committed {
		return fmt.Errorf("%w: seq %d", ErrUnknownBatch, seq)
	}
	return nil
}

// addCommit marks seq done and moves the checkpoint past the batches done
// contiguously; it returns the batches the checkpoint passed.
func (s *state) addCommit(seq uint64) (passed []uint64) {
	if seq < s.committed {
		return nil
	}
	s.done[seq] = true
	for s.done[s.committed] {
		p := s.plans[s.committed]
		s.committedEnd = p.End
		delete(s.plans, s.committed)
		delete(s.done, s.committed)
		passed = append(passed, s.committed)
		s.committed++
	}
	return passed
}

// checkLose returns an error unless [start, end) lies in the pending
// batch seq.
func (s *state) checkLose(seq uint64, start, end int64) error {
	p, ok := s.plans[seq]
	if !ok {
		return fmt.Errorf("%w: seq %d is not pending", ErrUnknownBatch, seq)
	}
	if start < p.Start || end > p.End || end <= start {
		return fmt.Errorf("%w: lost range [%d, %d) outside batch %d [%d, %d)", ErrNotContiguous, start, end, seq, p.Start, p.End)
	}
	return nil
}

// addLost records l; it reports false when l was recorded already.
func (s *state) addLost(l Lost) bool {
	for _, x := range s.lost {
		if x == l {
			return false
		}
	}
	s.lostOffsets += l.End - l.Start
	s.lost = append(s.lost, l)
	if len(s.lost) > MaxLost {
		s.lost = append([]Lost(nil), s.lost[len(s.lost)-MaxLost:]...)
	}
	return true
}

func (s *state) export() State {
	st := State{Committed: s.committed, CommittedEnd: s.committedEnd, NextSeq: s.nextSeq, NextStart: s.nextStart,
		Base: s.base, Lost: append([]Lost(nil), s.lost...), LostOffsets: s.lostOffsets}
	for seq := s.committed; seq < s.nextSeq; seq++ {
		if !s.done[seq] {
			st.Pending = append(st.Pending, s.plans[seq])
		}
	}
	return st
}
