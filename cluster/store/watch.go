package store

import (
	"context"
	"sync"
)

// hub fans the events of a store out to its watchers. Publishing never
// blocks: each watcher has a queue that holds at most one event per record
// (a newer event replaces a pending one), so memory is bounded by the
// number of records however slowly a watcher reads.
type hub struct {
	wg   sync.WaitGroup // the watchers' goroutines
	done chan struct{}  // closed by close

	mu     sync.Mutex // guards the fields below
	subs   map[*watcher]struct{}
	closed bool
}

type eventKey struct {
	kind Kind
	name string
}

type watcher struct {
	wake chan struct{} // capacity 1: "the queue grew"

	mu      sync.Mutex // guards the fields below
	queue   []eventKey // records with a pending event, oldest first
	pending map[eventKey]Event
}

func newHub() *hub {
	return &hub{done: make(chan struct{}), subs: map[*watcher]struct{}{}}
}

// watch registers a watcher; its goroutine, owned by the hub, delivers
// events until ctx ends or the hub closes, then closes the channel.
func (h *hub) watch(ctx context.Context) (<-chan Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, &RecordError{Op: "watch", Err: err}
	}
	w := &watcher{wake: make(chan struct{}, 1), pending: map[eventKey]Event{}}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, &RecordError{Op: "watch", Err: ErrClosed}
	}
	h.subs[w] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()
	out := make(chan Event)
	go func() {
		defer h.wg.Done()
		defer close(out)
		defer func() {
			h.mu.Lock()
			delete(h.subs, w)
			h.mu.Unlock()
		}()
		w.run(ctx, h.done, out)
	}()
	return out, nil
}

// publish queues ev for every watcher.
func (h *hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.subs {
		w.add(ev)
	}
}

// close stops every watcher and waits for their goroutines. It may be
// called more than once.
func (h *hub) close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
	h.mu.Unlock()
	h.wg.Wait()
}

func (w *watcher) add(ev Event) {
	k := eventKey{ev.Kind, ev.Name}
	w.mu.Lock()
	if _, ok := w.pending[k]; !ok {
		w.queue = append(w.queue, k)
	}
	w.pending[k] = ev
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) next() (Event, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		return Event{}, false
	}
	k := w.queue[0]
	w.queue[0] = eventKey{}
	w.queue = w.queue[1:]
	ev := w.pending[k]
	delete(w.pending, k)
	return ev, true
}

func (w *watcher) run(ctx context.Context, done <-chan struct{}, out chan<- Event) {
	for {
		ev, ok := w.next()
		if !ok {
			select {
			case <-w.wake:
				continue
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return
		case <-done:
			return
		}
	}
}
