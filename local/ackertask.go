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
	if s := a.rt.tasks[ev.SpoutTask].sp; s != nil {
		s.events.push(ev)
	} else if a.rt.remote != nil {
		a.rt.remote.SendTask(ev.SpoutTask, codec.AppendEventMessage(nil, ev))
	}
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
		case <-a.remote.notify:
			now := time.Now()
			for _, b := range a.remote.drain() {
				a.handle(b, now)
			}
		case now := <-tk.C:
			a.tr.Expire(now, a.deliver)
		case <-a.rt.stop:
			return
		}
	}
}
