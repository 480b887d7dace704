package kvlog

import (
	"context"
	"sync"
)

// hub fans a log's changes out to its watchers. Publishing never blocks:
// each watcher has a queue that holds at most one change per key (a newer
// change replaces a pending one), so memory is bounded by the number of
// keys however slowly a watcher reads.
type hub struct {
	wg   sync.WaitGroup // the watchers' goroutines
	done chan struct{}  // closed by close

	mu     sync.Mutex // guards the fields below
	subs   map[*watcher]struct{}
	closed bool
}

type watcher struct {
	wake chan struct{} // capacity 1: "the queue grew"

	mu      sync.Mutex // guards the fields below
	queue   []string   // keys with a pending change, oldest first
	pending map[string]Change
}

func newHub() *hub {
	return &hub{done: make(chan struct{}), subs: map[*watcher]struct{}{}}
}

// watch registers a watcher; its goroutine, owned by the hub, delivers
// changes until ctx ends or the hub closes, then closes the channel.
func (h *hub) watch(ctx context.Context) (<-chan Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &watcher{wake: make(chan struct{}, 1), pending: map[string]Change{}}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	h.subs[w] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()
	out := make(chan Change)
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

// publish queues c for every watcher.
func (h *hub) publish(c Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.subs {
		w.add(c)
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

func (w *watcher) add(c Change) {
	w.mu.Lock()
	if _, ok := w.pending[c.Key]; !ok {
		w.queue = append(w.queue, c.Key)
	}
	w.pending[c.Key] = c
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) next() (Change, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		return Change{}, false
	}
	k := w.queue[0]
	w.queue[0] = ""
	w.queue = w.queue[1:]
	c := w.pending[k]
	delete(w.pending, k)
	return c, true
}

func (w *watcher) run(ctx context.Context, done <-chan struct{}, out chan<- Change) {
	for {
		c, ok := w.next()
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
		case out <- c:
		case <-ctx.Done():
			return
		case <-done:
			return
		}
	}
}
