package engine

import (
	"time"

	"github.com/gale-stream/gale/acker"
)

// ackerExec runs one acker task: it owns an acker.Tracker and reports
// completed, failed and timed-out trees to their spout tasks.
type ackerExec struct {
	rt    *Runtime
	idx   int
	inbox chan []ackMsg
	tr    *acker.Tracker
}

func (a *ackerExec) send(b []ackMsg, stop <-chan struct{}) {
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
			now := time.Now()
			for _, m := range batch {
				var ev acker.Event
				var ok bool
				switch m.kind {
				case ackInit:
					ev, ok = a.tr.Init(m.root, m.val, m.task, now)
				case ackAck:
					ev, ok = a.tr.Ack(m.root, m.val, now)
				case ackFail:
					ev, ok = a.tr.Fail(m.root, m.val, now)
				case ackReset:
					a.tr.Reset(m.root, now)
				}
				if ok {
					a.deliver(ev)
				}
			}
		case now := <-tk.C:
			a.tr.Expire(now, a.deliver)
		case <-a.rt.stop:
			return
		}
	}
}
