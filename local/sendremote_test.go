package local_test

import (
	"bytes"
	"testing"

	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/tuple"
)

// sizes records the messages sent to other workers.
type sizes struct{ msgs [][]byte }

func (s *sizes) SendTask(task int, msg []byte) { s.msgs = append(s.msgs, msg) }
func (s *sizes) SendAcker(int, []byte)         {}

// TestSendRemote_SplitsLargeBatches: a batch that encodes to more than a
// message between workers may hold (the transport's frame limit) is sent
// in parts, each within the limit, with every tuple once and in order.
func TestSendRemote_SplitsLargeBatches(t *testing.T) {
	h := &harness{count: 1}
	topo := decode(t, h.registry(t), wordcountJSON(""))
	s := &sizes{}
	rt, err := local.New(topo, local.Options{Placement: &local.Placement{Worker: "a", LocalTasks: map[int]bool{}, Remote: s}})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 300<<10)
	batch := make([]*tuple.Tuple, 64) // 64 × 300 KiB: 19 MiB
	for i := range batch {
		batch[i] = &tuple.Tuple{Stream: "default", Component: "split", Values: []any{big, int64(i)}}
	}
	local.SendRemote(rt, 3, batch)
	if len(s.msgs) < 3 {
		t.Fatalf("%d messages, want the 19 MiB batch in at least 3", len(s.msgs))
	}
	next := int64(0)
	for _, m := range s.msgs {
		if len(m) > codec.MaxMessage {
			t.Errorf("a message of %d bytes, over codec.MaxMessage %d", len(m), codec.MaxMessage)
		}
		dm, err := codec.DecodeMessage(m)
		if err != nil || dm.Target != 3 {
			t.Fatalf("message: target %d, %v", dm.Target, err)
		}
		for _, tp := range dm.Tuples {
			if tp.Values[1].(int64) != next {
				t.Fatalf("tuple %v after %d: out of order or repeated", tp.Values[1], next-1)
			}
			next++
		}
	}
	if next != 64 {
		t.Errorf("%d tuples crossed, want 64", next)
	}
}
