package kafka

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/gale-stream/gale/internal/ledger"
)

// A partition's ledger is written by a goroutine of its own, its ledger
// loop, never by the spout's goroutine: the engine calls NextTuple, Ack
// and Fail there, and a ledger write that hangs on a broker must not
// freeze the task. The loop makes the partition's writes one at a time (a
// ledger.Writer is used by one goroutine), each within ledger.timeout, and
// each carrying every write queued meanwhile (ledger.Writer.Apply): under
// load, the plans of the batches cut and the commits of the batches
// completed while a write was on its way cost one transaction together.
// Commits and lost ranges that fail are retried with exponential backoff
// and jitter until they are written or fail for good (finalErr); a plan is
// tried once, the spout decides what next. Every write ends in the spout's
// mailbox, which the spout goroutine drains (NextTuple first) to advance
// the partition's bookkeeping.

type opKind uint8

const (
	opPlan opKind = iota
	opLose
	opCommit
	opRead // not a write: a handover poll's read of a ledger (see takeOver)
)

// ledgerOp is one write to a partition's ledger.
type ledgerOp struct {
	kind  opKind
	p     *partition    // whose ledger (for the spout goroutine: the loop does not touch it)
	plan  ledger.Plan   // the batch (its seq); opPlan: the first of plans
	plans []ledger.Plan // opPlan: the plans to write, contiguous
	// opLose: the lost offsets [start, end)
	start, end int64
	// opRead: the partition waiting for its previous owner, and the
	// ledger's state as read (p is nil)
	hand  *handover
	state ledger.State

	// set by the loop
	err     error     // when handed back: nil once written, else why not
	tries   int       // failed attempts
	retryAt time.Time // while queued: the next attempt's time
}

// Backoff of the retried writes: from backoffMin, doubling, up to
// backoffMax, each wait drawn in [d/2, d).
const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 10 * time.Second
)

// backoff is the wait before attempt tries+1, with jitter.
func backoff(tries int) time.Duration {
	d := backoffMax
	if tries < 20 {
		d = min(backoffMin<<max(tries-1, 0), backoffMax)
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)))
}

// finalErr reports whether a ledger error is final: retrying cannot help
// (a newer owner fenced the writer, the ledger's storage is gone, the
// ledger refuses the write as inconsistent, or what it read again after a
// failed write is corrupt).
func finalErr(err error) bool {
	for _, e := range []error{ledger.ErrFenced, ledger.ErrGone, ledger.ErrClosed, ledger.ErrUnknownBatch, ledger.ErrNotContiguous,
		ledger.ErrCorrupt} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// mailbox hands finished writes to the spout goroutine; it never blocks
// the loops. It holds at most the writes queued, which the partitions'
// in-flight batches bound.
type mailbox struct {
	mu   sync.Mutex // guards done
	done []*ledgerOp
}

func newMailbox() *mailbox { return &mailbox{} }

func (m *mailbox) post(op *ledgerOp) {
	m.mu.Lock()
	m.done = append(m.done, op)
	m.mu.Unlock()
}

func (m *mailbox) take() []*ledgerOp {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.done
	m.done = nil
	return d
}

// ledgerLoop writes one partition's ledger; see above. submit and close
// are called by the spout goroutine, run by the loop's own goroutine
// (which the spout starts and waits for in Close).
type ledgerLoop struct {
	w       ledger.Writer
	timeout time.Duration
	box     *mailbox
	wake    chan struct{} // capacity 1: a write was queued, or close was called

	mu        sync.Mutex // guards the fields below
	queue     []*ledgerOp
	closing   bool
	retries   int64 // failed writes retried
	lastErr   string
	lastErrAt time.Time
}

func newLedgerLoop(w ledger.Writer, timeout time.Duration, box *mailbox) *ledgerLoop {
	return &ledgerLoop{w: w, timeout: timeout, box: box, wake: make(chan struct{}, 1)}
}

// submit queues a write; it never blocks.
func (l *ledgerLoop) submit(op *ledgerOp) {
	l.mu.Lock()
	l.queue = append(l.queue, op)
	l.mu.Unlock()
	l.signal()
}

// close makes run write what is queued once more (within one timeout in
// all) and return.
func (l *ledgerLoop) close() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.signal()
}

func (l *ledgerLoop) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// stats returns the retries so far and the last error (empty if none).
func (l *ledgerLoop) stats() (retries int64, lastErr string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.retries, l.lastErr, l.lastErrAt
}

// run writes the queued ops until close.
func (l *ledgerLoop) run() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		ops, wait, closing := l.next(time.Now())
		if closing {
			l.finish()
			return
		}
		if len(ops) == 0 {
			timer.Reset(wait)
			select {
			case <-l.wake:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		err := l.write(ctx, ops)
		cancel()
		l.settle(ops, err, false)
	}
}

// next returns the queued ops that may be written now, or how long until
// one may. An op waits behind an earlier op of its batch that is not
// written with it (a lost range is recorded before its batch commits:
// Apply writes lost ranges before commits); batches do not wait for each
// other.
func (l *ledgerLoop) next(now time.Time) (ops []*ledgerOp, wait time.Duration, closing bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return nil, 0, true
	}
	wait = time.Hour
	var held []*ledgerOp // queued ops not written now
queue:
	for _, o := range l.queue {
		for _, before := range held {
			if before.plan.Seq == o.plan.Seq {
				held = append(held, o)
				continue queue
			}
		}
		if d := o.retryAt.Sub(now); d > 0 {
			wait = min(wait, d)
			held = append(held, o)
			continue
		}
		ops = append(ops, o)
	}
	if len(ops) > 0 {
		wait = 0
	}
	return ops, wait, false
}

// write makes ops one ledger write.
func (l *ledgerLoop) write(ctx context.Context, ops []*ledgerOp) error {
	var b ledger.Batch
	for _, o := range ops {
		switch o.kind {
		case opPlan:
			b.Plans = append(b.Plans, o.plans...)
		case opLose:
			b.Lost = append(b.Lost, ledger.Lost{Seq: o.plan.Seq, Start: o.start, End: o.end})
		default:
			b.Commits = append(b.Commits, o.plan.Seq)
		}
	}
	return l.w.Apply(ctx, b)
}

// settle records one write of ops: ops that were written, that failed for
// good, plans (the spout decides), or the last try (at close) go back to
// the spout; the others are retried after a backoff. A failed write
// counts one retry, however many batches it carried.
func (l *ledgerLoop) settle(ops []*ledgerOp, err error, last bool) {
	l.mu.Lock()
	var answered []*ledgerOp
	retried := false
	for _, op := range ops {
		done := err == nil || last || op.kind == opPlan || finalErr(err)
		if err != nil {
			op.tries++
			if !done {
				retried = true
				op.retryAt = time.Now().Add(backoff(op.tries))
			}
		}
		if done {
			op.err = err
			answered = append(answered, op)
		}
	}
	l.queue = slices.DeleteFunc(l.queue, func(o *ledgerOp) bool { return slices.Contains(answered, o) })
	if err != nil {
		l.lastErr, l.lastErrAt = err.Error(), time.Now()
		if retried {
			l.retries++
		}
	}
	l.mu.Unlock()
	for _, op := range answered {
		l.box.post(op)
	}
}

// finish gives the queued writes one last try, as one write within one
// timeout: what fails is replayed after a restart.
func (l *ledgerLoop) finish() {
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	l.mu.Lock()
	queue := append([]*ledgerOp(nil), l.queue...)
	l.mu.Unlock()
	if len(queue) == 0 {
		return
	}
	l.settle(queue, l.write(ctx, queue), true)
}
