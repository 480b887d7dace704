package kafka

import (
	"fmt"
	"time"

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
