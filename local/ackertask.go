package local

import (
	"time"

	"github.com/gale-stream/gale/acker"
	"github.com/gale-stream/gale/internal/codec"
)

// ackerExec runs one acker task: it owns an acker.Tracker and reports
// completed, failed and timed-out trees to their spout tasks.
type ackerExec struct {
	rt     *Runtime
	idx    int
	local  bool // runs in this process (else in another worker)
	inbox  chan []codec.Ack
	remote *ackQueue // acks from other workers
	tr     *acker.Tracker
	// completions for spout tasks of other workers, sent per spout task
	// in one message at the end of each batch handled (sendEvents)
	out      map[int][]acker.Event
	outTasks []int // the keys of out whose slices are not empty
}

func (a *ackerExec) send(b []codec.Ack, stop <-chan struct{}) {
	if !a.local {
		a.rt.remote.SendAcker(a.idx, codec.AppendAcksMessage(nil, a.idx, b))
		return
	}
	select {
	case a.inbox <- b:
	case <-stop:
	}
}

func (a *ackerExec) deliver(ev acker.Event) {
	if ev.SpoutTask <= 0 || ev.SpoutTask >= len(a.rt.tasks) {
		return
	}
	s := a.rt.tasks[ev.SpoutTask].sp.Load()
	if s != nil {
		s.events.push(ev)
	}
	if a.rt.remote != nil && (s == nil || s.shared(a.rt)) {
		if a.out == nil {
			a.out = map[int][]acker.Event{}
		}
		evs := a.out[ev.SpoutTask]
		if len(evs) == 0 {
			a.outTasks = append(a.outTasks, ev.SpoutTask)
		}
		a.out[ev.SpoutTask] = append(evs, ev)
	}
}

// sendEvents sends the completions gathered for other workers' spout
// tasks, one message per spout task (in parts of codec.MaxEvents).
func (a *ackerExec) sendEvents() {
	for _, task := range a.outTasks {
		evs := a.out[task]
		for len(evs) > 0 {
			n := min(len(evs), codec.MaxEvents)
			a.rt.remote.SendTask(task, codec.AppendEventsMessage(nil, task, evs[:n]))
			evs = evs[n:]
		}
		if cap(a.out[task]) > 4096 {
			delete(a.out, task) // after a burst of timeouts: do not keep its memory
		} else {
			a.out[task] = a.out[task][:0]
		}
	}
	a.outTasks = a.outTasks[:0]
}

func (a *ackerExec) handle(batch []codec.Ack, now time.Time) {
	for _, m := range batch {
		var ev acker.Event
		var ok bool
		switch m.Kind {
		case codec.AckInit:
			ev, ok = a.tr.Init(m.Root, m.Val, m.Task, now)
		case codec.AckAck:
			ev, ok = a.tr.Ack(m.Root, m.Val, now)
		case codec.AckFail:
			ev, ok = a.tr.Fail(m.Root, m.Val, now)
		case codec.AckReset:
			a.tr.Reset(m.Root, now)
		}
		if ok {
			a.deliver(ev)
		}
	}
}

func (a *ackerExec) run() {
	defer a.rt.ackersWG.Done()
	every := min(100*time.Millisecond, a.rt.timeout/4)
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case batch := <-a.inbox:
			a.handle(batch, time.Now())
			a.sendEvents()
		case <-a.remote.notify:
			now := time.Now()
			for _, b := range a.remote.drain() {
				a.handle(b, now)
			}
			a.sendEvents()
		case now := <-tk.C:
			a.tr.Expire(now, a.deliver)
			a.sendEvents()
		case <-a.rt.stop:
			return
		}
	}
}
