package kafka

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gale-stream/gale/internal/ledger"
)

// Resizing (spout.Resizer). A task's share of the partitions is the i-th
// of all the topics' partitions (sorted) with i mod n == index; Resize
// changes n and index while the task runs.
//
//   - A partition leaving the share is released: its consumer is closed
//     and the records read but not planned are dropped (they were never
//     in the ledger: the next owner reads them again from the ledger's
//     NextStart). What is planned completes as usual — replays, batches
//     held, being fetched or planned, commits — and once nothing planned
//     is left uncommitted and no ledger write is outstanding the
//     partition is closed (its ledger writer, its group offset flushed)
//     and leaves the task's status.
//   - A partition entering the share is taken over: its previous owner
//     may still be draining it. Its ledger is read without fencing
//     (ledger reads, every handoverPoll) until two reads in a row show
//     nothing pending and the same next seq — the previous owner released
//     it —, or until handoverWait passed since it entered the share (the
//     previous owner may never have learnt of the change). Then it is
//     opened, which fences the previous owner; its pending plans, if any,
//     are replayed first, as after a restart.
//   - A leaving task (index -1) stops (ErrStop) once it released every
//     partition: all it emitted was acked and committed by then.

// handoverWait bounds the wait for a partition's previous owner to release
// it; handoverPoll is how often its ledger is read meanwhile. Variables
// for the tests.
var (
	handoverWait = 10 * time.Second
	handoverPoll = 250 * time.Millisecond
)

// handover is a partition of the share waiting for its previous owner.
type handover struct {
	t     tp
	since time.Time // when it entered the share
	// a read is on its way; the next may start at pollAt
	reading bool
	pollAt  time.Time
	// the last read found nothing pending, with this next seq; ready: two
	// reads in a row did, with the same next seq
	quiet   bool
	nextSeq uint64
	ready   bool
	// the last open failed: tried again at retryAt
	tries   int
	retryAt time.Time
}

// reader is a ledger store that reads a partition's ledger without taking
// it over (both of Gale's stores).
type reader interface {
	Read(ctx context.Context, key ledger.Key) (ledger.State, error)
}

// Resize implements spout.Resizer: the task's share becomes the
// partitions i with i mod tasks == index (none when index is -1). It is
// called from the task's goroutine, between NextTuple calls. The same
// share again changes nothing, except on a task that has not assigned
// its partitions yet (one started by the change): from then on, the
// partitions it takes wait for their previous owners.
func (s *Spout) Resize(tasks, index int) {
	tasks = max(1, tasks)
	if index < 0 || index >= tasks {
		index = -1
	}
	fresh := !s.resized && s.client == nil
	if tasks == s.n && index == s.index && !fresh {
		return
	}
	s.info("kafka spout: resized", "tasks", tasks, "index", index, "was_tasks", s.n, "was_index", s.index)
	s.n, s.index, s.resized = tasks, index, true
	s.reshare(time.Now())
}

// reshare applies the task's share to the partitions known (s.all):
// partitions that left it are released, those released that are back in
// it resume, those entering it wait for their previous owner (after a
// Resize) or are returned, to be opened now.
func (s *Spout) reshare(now time.Time) (open []tp) {
	share := map[tp]bool{}
	if s.index >= 0 {
		for i, t := range s.all {
			if i%s.n == s.index {
				share[t] = true
			}
		}
	}
	for _, p := range s.order {
		switch {
		case share[p.tp] && p.releasing:
			p.releasing = false // it resumes from where it planned last
			s.info("kafka spout: partition back in the task's share before it was released", "topic", p.topic, "partition", p.partition)
		case !share[p.tp] && !p.releasing:
			s.release(p)
		}
	}
	for t := range s.waiting {
		if !share[t] {
			delete(s.waiting, t)
		}
	}
	for _, t := range s.all {
		if !share[t] || s.parts[t] != nil || s.waiting[t] != nil {
			continue
		}
		if s.resized {
			s.waiting[t] = &handover{t: t, since: now}
		} else if !s.stillClosing(t) { // else at the next assign

			open = append(open, t)
		}
	}
	return open
}

// release stops reading p; what it planned completes (see retireReleased).
func (s *Spout) release(p *partition) {
	p.releasing = true
	if p.pc != nil {
		pc, closed := p.pc, make(chan struct{})
		p.pc, p.pcClosed = nil, closed
		s.releases.Add(1)
		go func() {
			defer s.releases.Done()
			defer close(closed)
			pc.Close()
		}()
	}
	p.buf, p.bufBytes, p.sinksBehind, p.heldBack = nil, 0, false, false
	// the batches cut whose plans are not being written are dropped; those
	// being written complete (or are dropped if the write fails)
	if p.planOp != nil {
		p.planning = p.planning[:len(p.planOp.plans)]
	} else {
		p.planning = nil
	}
}

// released reports whether p, releasing, has nothing left to complete.
func (p *partition) released() bool {
	if p.ops > 0 {
		return false
	}
	if p.stopped != nil {
		// it emits nothing more and its commits are refused: done once
		// its trees settled (the next owner replays them)
		for _, b := range p.inflight {
			if !b.committing {
				return false
			}
		}
		return true
	}
	return len(p.inflight) == 0 && len(p.replay) == 0 && len(p.fetch) == 0 && len(p.held) == 0 &&
		len(p.planning) == 0 && p.planOp == nil
}

// retireReleased closes the releasing partitions that completed what they
// planned, and removes them from the task.
func (s *Spout) retireReleased() {
	var gone []*partition
	for _, p := range s.order {
		if p.releasing && p.released() {
			gone = append(gone, p)
		}
	}
	if len(gone) == 0 {
		return
	}
	for _, p := range gone {
		delete(s.parts, p.tp)
		p.lw.close() // nothing queued: its loop returns at once
		s.Released.Add(1)
		s.info("kafka spout: partition released", "topic", p.topic, "partition", p.partition,
			"committed_batches", p.committed, "committed_offset", p.groupOffset, "stopped", p.stopped != nil)
		closed := make(chan struct{})
		s.closing[p.tp] = closed
		s.releases.Add(1)
		go func() {
			defer s.releases.Done()
			defer close(closed)
			<-p.loopDone
			if p.pcClosed != nil {
				<-p.pcClosed
			}
			p.close() // flushes the group offset
		}()
	}
	s.order = slices.DeleteFunc(s.order, func(p *partition) bool { return slices.Contains(gone, p) })
	s.publish()
}

// takeOver polls the ledgers of the partitions waiting for their previous
// owner, and opens those released (or waited for long enough). Polls run
// in goroutines that answer through the mailbox (polled): NextTuple keeps
// serving the other partitions meanwhile.
func (s *Spout) takeOver(ctx context.Context) error {
	if len(s.waiting) == 0 || s.client == nil || s.unassigned {
		return nil
	}
	now := time.Now()
	r, canRead := s.store.(reader)
	var todo []tp
	var forced []bool
	for _, t := range s.all {
		h := s.waiting[t]
		if h == nil || now.Before(h.retryAt) || s.stillClosing(t) {
			continue
		}
		expired := now.Sub(h.since) >= handoverWait
		if h.ready || expired || !canRead {
			todo = append(todo, t)
			forced = append(forced, !h.ready && canRead)
			continue
		}
		if !h.reading && !now.Before(h.pollAt) {
			h.reading, h.pollAt = true, now.Add(handoverPoll)
			s.poll(r, h)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	errs := s.openAll(ctx, todo)
	for i, t := range todo {
		h := s.waiting[t]
		if errs[i] != nil {
			h.tries++
			h.retryAt = time.Now().Add(backoff(h.tries))
			continue
		}
		delete(s.waiting, t)
		s.Handovers.Add(1)
		p := s.parts[t]
		s.info("kafka spout: partition taken over", "topic", t.topic, "partition", t.partition,
			"waited", time.Since(h.since).Round(time.Millisecond), "forced", forced[i], "replaying", len(p.fetch))
	}
	s.publish()
	return errors.Join(errs...)
}

// stillClosing reports whether t, released by this task, is still being
// closed (its offset manager flushing): it cannot be opened again yet.
func (s *Spout) stillClosing(t tp) bool {
	c := s.closing[t]
	if c == nil {
		return false
	}
	select {
	case <-c:
		delete(s.closing, t)
		return false
	default:
		return true
	}
}

// poll reads h's ledger without taking it over; the answer goes to the
// mailbox (opRead).
func (s *Spout) poll(r reader, h *handover) {
	key := s.key(h.t)
	timeout := time.Duration(s.cfg.Ledger.Timeout)
	s.reads.Add(1)
	go func() {
		defer s.reads.Done()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		st, err := r.Read(ctx, key)
		cancel()
		s.box.post(&ledgerOp{kind: opRead, hand: h, state: st, err: err})
	}()
}

// polled takes a handover poll's answer.
func (s *Spout) polled(op *ledgerOp) {
	h := op.hand
	if s.waiting[h.t] != h {
		return // no longer waited for
	}
	h.reading = false
	if op.err != nil {
		h.quiet = false
		return
	}
	quiet := len(op.state.Pending) == 0
	h.ready = quiet && h.quiet && h.nextSeq == op.state.NextSeq
	h.quiet, h.nextSeq = quiet, op.state.NextSeq
}

// submit hands op to p's ledger loop, counting it until it is answered.
func (s *Spout) submit(p *partition, op *ledgerOp) {
	p.ops++
	p.lw.submit(op)
}

// key is the ledger key of partition t.
func (s *Spout) key(t tp) ledger.Key {
	return ledger.Key{Topology: s.tc.Topology.Name, Spout: s.tc.Component.ID, Topic: t.topic, Partition: t.partition}
}

// info logs at Info through the task's logger, if any.
func (s *Spout) info(msg string, args ...any) {
	if s.tc != nil && s.tc.Logger != nil {
		s.tc.Logger.Info(msg, args...)
	}
}
