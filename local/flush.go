package local

import "time"

// A task buffers what it emits per target task (and its acks per acker)
// and sends a buffer when it holds topology.transfer.batch.size items or
// when the task's loop has nothing more to do. A spout whose NextTuple
// blocks between emits, or a bolt whose Execute is slow, would hold a
// partial buffer until the batch fills: at 10 tuples/s, seconds. The timer
// flush bounds that wait by topology.batch.flush.interval.millis, like
// Storm's flush tuple (default 1 ms).
//
// One flusher goroutine per task sleeps until something is buffered after
// a flush (a kick), waits one interval, and flushes unless the task
// flushed by itself meanwhile. An idle task costs nothing; a busy one at
// most one wake-up per interval.

// kickLocked tells the flusher that the task buffered something after its
// last flush. The caller holds e.mu.
func (e *emitter) kickLocked() {
	if e.kick == nil {
		return
	}
	select {
	case e.kick <- struct{}{}:
	default: // the flusher already knows
	}
}

// flushLoop is the task's flusher; it returns when stop or quit (a task
// retired alone; nil otherwise) is closed.
func (e *emitter) flushLoop(every time.Duration, stop, quit <-chan struct{}) {
	timer := time.NewTimer(every)
	timer.Stop()
	for {
		select {
		case <-e.kick:
		case <-stop:
			return
		case <-quit:
			return
		}
		e.mu.Lock()
		gen := e.gen
		e.mu.Unlock()
		timer.Reset(every)
		select {
		case <-timer.C:
		case <-stop:
			timer.Stop()
			return
		case <-quit:
			timer.Stop()
			return
		}
		e.mu.Lock()
		if e.gen == gen { // nothing flushed the buffers since the kick
			e.flushAllLocked()
		}
		e.mu.Unlock()
	}
}

// startFlushers starts a flusher for every spout and bolt task of this
// runtime when the topology's flush interval is positive.
func (r *Runtime) startFlushers() {
	for _, s := range r.spoutExecs() {
		r.startFlusher(s.em, s.quit)
	}
	for _, b := range r.bolts {
		r.startFlusher(b.em, b.quit)
	}
}

// startFlusher starts e's flusher when the topology's flush interval is
// positive.
func (r *Runtime) startFlusher(e *emitter, quit <-chan struct{}) {
	every := r.topo.Settings.FlushInterval
	if every <= 0 {
		return
	}
	r.flushWG.Add(1)
	go func() {
		defer r.flushWG.Done()
		e.flushLoop(every, r.stop, quit)
	}()
}
