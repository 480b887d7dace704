package local

import (
	"fmt"
	"testing"

	"github.com/gale-stream/gale/internal/codec"
)

// TestBufferAck_CoalescesOneTree: acks (or fails) of one tree that follow
// each other in an emitter's buffer become one message with the XOR of
// their values, as the acker would apply them in turn; anything else
// (another tree, another kind, a timeout reset, an init) keeps its place.
func TestBufferAck_CoalescesOneTree(t *testing.T) {
	inbox := make(chan []codec.Ack, 1)
	rt := &Runtime{ackers: []*ackerExec{{local: true, inbox: inbox}}, batchSize: 64}
	e := &emitter{rt: rt, acks: make([][]codec.Ack, 1)}
	ack := func(kind uint8, root, val uint64) codec.Ack { return codec.Ack{Kind: kind, Root: root, Val: val} }
	for _, m := range []codec.Ack{
		ack(codec.AckAck, 1, 0b0001), ack(codec.AckAck, 1, 0b0010), ack(codec.AckAck, 1, 0b0110),
		ack(codec.AckFail, 1, 0b1000), ack(codec.AckFail, 1, 0b1000),
		ack(codec.AckAck, 2, 5), ack(codec.AckAck, 1, 7),
		ack(codec.AckReset, 1, 0), ack(codec.AckReset, 1, 0),
		{Kind: codec.AckInit, Task: 3, Root: 4, Val: 1}, {Kind: codec.AckInit, Task: 3, Root: 4, Val: 2},
	} {
		e.bufferAck(m)
	}
	e.flushAckLocked(0)
	got := <-inbox
	want := []codec.Ack{
		ack(codec.AckAck, 1, 0b0101), ack(codec.AckFail, 1, 0),
		ack(codec.AckAck, 2, 5), ack(codec.AckAck, 1, 7),
		ack(codec.AckReset, 1, 0), ack(codec.AckReset, 1, 0),
		{Kind: codec.AckInit, Task: 3, Root: 4, Val: 1}, {Kind: codec.AckInit, Task: 3, Root: 4, Val: 2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent %v\nwant %v", got, want)
	}
}
