package bolt_test

import (
	"testing"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/tuple"
)

// countingCollector counts Ack and Fail calls.
type countingCollector struct {
	bolt.Collector
	acked, failed []*tuple.Tuple
}

func (c *countingCollector) Ack(t *tuple.Tuple)  { c.acked = append(c.acked, t) }
func (c *countingCollector) Fail(t *tuple.Tuple) { c.failed = append(c.failed, t) }

// bulkCollector settles in bulk too.
type bulkCollector struct {
	countingCollector
	calls int
}

func (c *bulkCollector) SettleAll(ok bool, ts []*tuple.Tuple) {
	c.calls++
	for _, t := range ts {
		if ok {
			c.Ack(t)
		} else {
			c.Fail(t)
		}
	}
}

func TestSettle(t *testing.T) {
	ts := []*tuple.Tuple{{}, {}, {}}
	ends := []*tuple.Tuple{{}}
	var plain countingCollector
	bolt.Settle(&plain, true, ts, ends)
	bolt.Settle(&plain, false, ends)
	if len(plain.acked) != 4 || len(plain.failed) != 1 || plain.failed[0] != ends[0] {
		t.Errorf("plain collector: %d acked, %d failed, want 4 and the end marker", len(plain.acked), len(plain.failed))
	}
	var bulk bulkCollector
	bolt.Settle(&bulk, false, ts, nil, ends)
	if bulk.calls != 3 || len(bulk.failed) != 4 || len(bulk.acked) != 0 {
		t.Errorf("bulk collector: %d calls, %d failed, %d acked, want 3 calls failing 4", bulk.calls, len(bulk.failed), len(bulk.acked))
	}
}
