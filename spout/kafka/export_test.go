package kafka

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/internal/ledger"
)

// WrapStore makes s open its ledger through wrap (tests of a faulty or
// hanging ledger); call it before Open.
func WrapStore(s *Spout, wrap func(ledger.Store) ledger.Store) { s.wrapStore = wrap }

// SetHandoverWait makes resized spouts wait at most d for a partition's
// previous owner; it returns the previous value's restore.
func SetHandoverWait(d time.Duration) (restore func()) {
	old := handoverWait
	handoverWait = d
	return func() { handoverWait = old }
}

// Partitions lists the partitions s holds (releasing ones included), as
// "topic/partition"; call it from the goroutine that calls NextTuple.
func Partitions(s *Spout) []string {
	var out []string
	for _, p := range s.order {
		out = append(out, fmt.Sprintf("%s/%d", p.topic, p.partition))
	}
	return out
}

// Fetcher is the spout's record reader (fetcher), for tests.
type Fetcher struct{ f *fetcher }

// NewFetcher starts a fetcher of brokers whose readers pause at pauseBytes.
func NewFetcher(brokers string, pauseBytes int) (Fetcher, error) {
	f, err := newFetcher([]string{brokers}, "gale-test", kafkasec.Security{}, pauseBytes)
	return Fetcher{f}, err
}

// Open opens a reader of topic/partition at offset from.
func (f Fetcher) Open(topic string, partition int32, from int64) Reader {
	return Reader{f.f.open(tp{topic, partition}, from)}
}

// Close stops the fetcher.
func (f Fetcher) Close() { f.f.close() }

// Reader is one partition's reader, for tests.
type Reader struct{ r *partReader }

// Take is partReader.take.
func (r Reader) Take(n, maxBytes int) ([]*kgo.Record, error) { return r.r.take(n, maxBytes) }

// Ready is signalled when records or an error arrive.
func (r Reader) Ready() <-chan struct{} { return r.r.ready }

// Queued is the bytes of the values queued, and whether fetching is paused.
func (r Reader) Queued() (int, bool) {
	r.r.mu.Lock()
	defer r.r.mu.Unlock()
	return r.r.bytes, r.r.paused
}

// HighWatermark is the partition's high watermark as last fetched.
func (r Reader) HighWatermark() int64 { return r.r.HighWaterMarkOffset() }

// Close closes the reader.
func (r Reader) Close() { r.r.Close() }
