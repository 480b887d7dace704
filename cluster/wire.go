package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/gale-stream/gale/acker"
	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/tuple"
)

// What one worker sends another for a topology, on the transport channel
// of the topology (channelOf): one message per frame,
//
//	kind (1 byte) | target (uvarint: task id, acker index or spout task) | body
//
// where the body is internal/codec's encoding of tuples or acks, or for a
// tree completion: root (8 bytes) and flags (1 byte: failed, timed out).
const (
	msgTuples byte = 1
	msgAcks   byte = 2
	msgEvent  byte = 3
)

// channelOf is the transport channel of a topology.
func channelOf(topology string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(topology))
	return h.Sum32()
}

var errMessage = errors.New("malformed worker message")

func tuplesMsg(task int, ts []*tuple.Tuple) ([]byte, error) {
	b := append(make([]byte, 0, 64+32*len(ts)), msgTuples)
	b = binary.AppendUvarint(b, uint64(task))
	return codec.AppendTuples(b, ts)
}

func acksMsg(i int, msgs []local.AckMsg) []byte {
	b := append(make([]byte, 0, 16+20*len(msgs)), msgAcks)
	b = binary.AppendUvarint(b, uint64(i))
	acks := make([]codec.Ack, len(msgs))
	for k, m := range msgs {
		acks[k] = codec.Ack{Kind: m.Kind, Task: m.Task, Root: m.Root, Val: m.Val}
	}
	return codec.AppendAcks(b, acks)
}

func eventMsg(ev acker.Event) []byte {
	b := append(make([]byte, 0, 16), msgEvent)
	b = binary.AppendUvarint(b, uint64(ev.SpoutTask))
	b = binary.BigEndian.AppendUint64(b, ev.Root)
	var flags byte
	if ev.Failed {
		flags |= 1
	}
	if ev.TimedOut {
		flags |= 2
	}
	return append(b, flags)
}

// deliver decodes one message and hands it to rt.
func deliver(rt *local.Runtime, payload []byte) error {
	if len(payload) < 2 {
		return fmt.Errorf("%w: %d bytes", errMessage, len(payload))
	}
	kind := payload[0]
	target, n := binary.Uvarint(payload[1:])
	if n <= 0 || target > 1<<31 {
		return fmt.Errorf("%w: bad target", errMessage)
	}
	body := payload[1+n:]
	switch kind {
	case msgTuples:
		ts, err := codec.DecodeTuples(body, nil)
		if err != nil {
			return err
		}
		return rt.Deliver(int(target), ts)
	case msgAcks:
		acks, err := codec.DecodeAcks(body, nil)
		if err != nil {
			return err
		}
		msgs := make([]local.AckMsg, len(acks))
		for k, a := range acks {
			msgs[k] = local.AckMsg{Kind: a.Kind, Task: a.Task, Root: a.Root, Val: a.Val}
		}
		return rt.DeliverAcks(int(target), msgs)
	case msgEvent:
		if len(body) != 9 {
			return fmt.Errorf("%w: event of %d bytes", errMessage, len(body))
		}
		return rt.DeliverEvent(acker.Event{SpoutTask: int(target), Root: binary.BigEndian.Uint64(body),
			Failed: body[8]&1 != 0, TimedOut: body[8]&2 != 0})
	}
	return fmt.Errorf("%w: kind %d", errMessage, kind)
}
