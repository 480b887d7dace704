package kafka

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gale-stream/gale/internal/kafkasec"
)

// fetcher reads the records of the spout's partitions with one franz-go
// client (direct partition consuming, no group): one poll loop hands each
// partition's records to its reader, a chunk per fetch, where the spout
// takes them without a channel operation per record. It was sarama's
// PartitionConsumer, which sends every record on a channel of its own; a
// bare franz-go consumer reads this workload about twice as fast (see the
// README's figures). The offsets, the dead-letter producer and the ledger
// stay on the spout's sarama client.
//
// A reader is opened at an offset and closed; between the two, its
// records come in offset order, each once. A reader whose queue holds
// pauseBytes or more pauses its partition's fetching until the spout took
// half of it (backpressure: the client buffers at most one fetch per
// broker besides).
type fetcher struct {
	cl         *kgo.Client
	pauseBytes int

	// pollMu is held by the poll loop from a poll until its records are
	// delivered, and by open and close around their (re)assignment: a
	// fetch taken before a partition is removed never reaches a reader
	// opened after (the client drops what it buffered when partitions
	// are removed, so only a poll already returned could hold such)
	pollMu  sync.Mutex
	pending atomic.Int32                       // opens and closes waiting for pollMu
	cancel  atomic.Pointer[context.CancelFunc] // ends the current poll early
	readers map[tp]*partReader                 // under pollMu

	stop context.CancelFunc
	done chan struct{}
}

// partReader is one partition's records, between the poll loop and the
// spout.
type partReader struct {
	f *fetcher
	t tp

	mu     sync.Mutex
	queue  [][]*kgo.Record // fetched chunks not taken yet, in offset order
	bytes  int             // their values' bytes
	want   int64           // the next offset accepted: a record before it was delivered already
	err    error           // a fetch error of the partition, not taken yet
	paused bool
	closed bool

	ready chan struct{} // signalled when records or an error arrive
	hwm   atomic.Int64  // the partition's high watermark as last fetched, -1 unknown
}

// newFetcher makes the client of brokers and starts its poll loop.
func newFetcher(brokers []string, clientID string, sec kafkasec.Security, pauseBytes int) (*fetcher, error) {
	opts, err := sec.KgoOpts()
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.SeedBrokers(brokers...),
		kgo.ClientID(clientID),
		// a record deleted before it was read is an error the spout
		// handles (on_data_loss), never a silent jump
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		kgo.FetchMaxWait(100*time.Millisecond), // the long-poll: bounds idle latency and Close
		kgo.FetchMaxPartitionBytes(4<<20),
		kgo.FetchMaxBytes(16<<20),
		kgo.DialTimeout(5*time.Second),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	f := &fetcher{cl: cl, pauseBytes: pauseBytes, readers: map[tp]*partReader{}, stop: stop, done: make(chan struct{})}
	go f.run(ctx)
	return f, nil
}

// run polls until the fetcher closes.
func (f *fetcher) run(ctx context.Context) {
	defer close(f.done)
	for ctx.Err() == nil {
		f.pollMu.Lock()
		pctx, cancel := context.WithCancel(ctx)
		f.cancel.Store(&cancel)
		if f.pending.Load() > 0 {
			cancel() // an open or close waits: take what is buffered, no more
		}
		fs := f.cl.PollFetches(pctx)
		idle := fs.NumRecords() == 0
		closed := fs.IsClientClosed()
		fs.EachPartition(f.deliver)
		f.cancel.Store(nil)
		cut := pctx.Err() != nil // by an open or close, or the fetcher's end
		cancel()
		f.pollMu.Unlock()
		if closed {
			return
		}
		if f.pending.Load() > 0 {
			runtime.Gosched()
		} else if idle && !cut {
			// only errors (the brokers unreachable...): they are not
			// asked for again at once
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// deliver hands one partition's fetch to its reader; an error of no
// partition (the client's) goes to every reader.
func (f *fetcher) deliver(fp kgo.FetchTopicPartition) {
	if fp.Err != nil && (errors.Is(fp.Err, context.Canceled) || errors.Is(fp.Err, kgo.ErrClientClosed)) {
		return
	}
	if r := f.readers[tp{fp.Topic, fp.Partition}]; r != nil {
		r.put(fp.Records, fp.Err, fp.HighWatermark)
		return
	}
	if fp.Err != nil && fp.Partition < 0 {
		for _, r := range f.readers {
			r.put(nil, fp.Err, -1)
		}
	}
}

// exclusive runs fn with the poll loop stopped between two polls.
func (f *fetcher) exclusive(fn func()) {
	f.pending.Add(1)
	if c := f.cancel.Load(); c != nil {
		(*c)()
	}
	f.pollMu.Lock()
	f.pending.Add(-1)
	defer f.pollMu.Unlock()
	fn()
}

// open starts reading t at offset from; a reader of t still open is
// closed first.
func (f *fetcher) open(t tp, from int64) *partReader {
	r := &partReader{f: f, t: t, want: from, ready: make(chan struct{}, 1)}
	r.hwm.Store(-1)
	f.exclusive(func() {
		if old := f.readers[t]; old != nil {
			f.removeLocked(old)
		}
		f.readers[t] = r
		f.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{t.topic: {t.partition: kgo.NewOffset().At(from)}})
	})
	return r
}

// Close stops reading r's partition; what it queued is dropped.
func (r *partReader) Close() {
	r.f.exclusive(func() {
		if r.f.readers[r.t] == r {
			r.f.removeLocked(r)
		}
	})
}

// removeLocked stops fetching r's partition (pollMu held).
func (f *fetcher) removeLocked(r *partReader) {
	delete(f.readers, r.t)
	f.cl.RemoveConsumePartitions(map[string][]int32{r.t.topic: {r.t.partition}})
	r.mu.Lock()
	if r.paused {
		f.cl.ResumeFetchPartitions(map[string][]int32{r.t.topic: {r.t.partition}})
	}
	r.closed, r.paused, r.queue, r.bytes = true, false, nil, 0
	r.mu.Unlock()
}

// close stops the poll loop and the client.
func (f *fetcher) close() {
	f.stop()
	f.cl.Close()
	<-f.done
}

// put queues a fetch of r's partition (the poll loop).
func (r *partReader) put(recs []*kgo.Record, err error, hwm int64) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	if hwm >= 0 {
		r.hwm.Store(hwm)
	}
	i := 0
	for i < len(recs) && recs[i].Offset < r.want {
		i++
	}
	if recs = recs[i:]; len(recs) > 0 {
		r.want = recs[len(recs)-1].Offset + 1
		r.queue = append(r.queue, recs)
		for _, m := range recs {
			r.bytes += len(m.Value)
		}
	}
	if err != nil && r.err == nil {
		r.err = err
	}
	if !r.paused && r.bytes >= r.f.pauseBytes {
		// under r.mu, as take's resume: the two never cross (the client
		// calls nothing of Gale's back)
		r.paused = true
		r.f.cl.PauseFetchPartitions(map[string][]int32{r.t.topic: {r.t.partition}})
	}
	r.mu.Unlock()
	if len(recs) > 0 || err != nil {
		select {
		case r.ready <- struct{}{}:
		default:
		}
	}
}

// take returns up to n records queued, fewer if their values reach
// maxBytes (at least one), and the fetch error that came with or before
// them (then no records: those queued before it are taken first).
func (r *partReader) take(n, maxBytes int) ([]*kgo.Record, error) {
	r.mu.Lock()
	if len(r.queue) == 0 {
		err := r.err
		r.err = nil
		r.mu.Unlock()
		return nil, err
	}
	chunk := r.queue[0]
	k, bytes := 0, 0
	for k < len(chunk) && k < n && (k == 0 || bytes < maxBytes) {
		bytes += len(chunk[k].Value)
		k++
	}
	out := chunk[:k:k]
	if k == len(chunk) {
		r.queue[0] = nil
		r.queue = r.queue[1:]
	} else {
		r.queue[0] = chunk[k:]
	}
	r.bytes -= bytes
	if r.paused && r.bytes < r.f.pauseBytes/2 {
		r.paused = false
		r.f.cl.ResumeFetchPartitions(map[string][]int32{r.t.topic: {r.t.partition}})
	}
	r.mu.Unlock()
	return out, nil
}

// HighWaterMarkOffset is the partition's high watermark as last fetched,
// -1 before the first fetch.
func (r *partReader) HighWaterMarkOffset() int64 { return r.hwm.Load() }
