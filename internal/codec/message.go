package codec

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gale-stream/gale/acker"
	"github.com/gale-stream/gale/tuple"
)

// The ack kinds: what an Ack tells its acker task.
const (
	// AckInit starts a tree: Task is the spout task, Val the xor of the
	// edges the spout emitted.
	AckInit uint8 = iota + 1
	// AckAck XORs Val into the tree (a tuple acked).
	AckAck
	// AckFail fails the tree (a tuple failed), XORing Val too.
	AckFail
	// AckReset restarts the tree's timeout (bolt.Collector.ResetTimeout).
	AckReset
)

// A message is what one worker sends another for one topology: a batch
// of tuples for a bolt task, a batch of acks for an acker task, or a tree's
// completion for a spout task. It is a frame with its target in front:
//
//	kind (1 byte) | target (uvarint: task id, acker index or spout task) | body
//
// where the body is a tuple frame (AppendTuples), an ack frame
// (AppendAcks), or for completions, one or more (at most MaxEvents) of:
// the tree's root (8 bytes, big-endian) and flags (1 byte: 1 failed, 2
// timed out).
const (
	MessageTuples MessageKind = 1
	MessageAcks   MessageKind = 2
	MessageEvent  MessageKind = 3
)

// MessageKind tells what a message carries.
type MessageKind byte

// maxTarget bounds a message's target (a task id or acker index).
const maxTarget = 1 << 31

// ErrMessage: a message that is not one of the three kinds, or whose
// target is out of range.
var ErrMessage = errors.New("malformed worker message")

// AppendTuplesMessage appends to dst the message carrying ts to task.
func AppendTuplesMessage(dst []byte, task int, ts []*tuple.Tuple) ([]byte, error) {
	dst = append(dst, byte(MessageTuples))
	dst = binary.AppendUvarint(dst, uint64(task))
	return AppendTuples(dst, ts)
}

// AppendAcksMessage appends to dst the message carrying acks to acker
// task i.
func AppendAcksMessage(dst []byte, i int, acks []Ack) []byte {
	dst = append(dst, byte(MessageAcks))
	dst = binary.AppendUvarint(dst, uint64(i))
	return AppendAcks(dst, acks)
}

// MaxEvents bounds the completions in one message.
const MaxEvents = 65536

// eventBytes is the size of one completion in a message.
const eventBytes = 9

// AppendEventMessage appends to dst the message telling spout task
// ev.SpoutTask that its tree ev.Root completed or failed.
func AppendEventMessage(dst []byte, ev acker.Event) []byte {
	dst = append(dst, byte(MessageEvent))
	dst = binary.AppendUvarint(dst, uint64(ev.SpoutTask))
	return appendEvent(dst, ev)
}

// AppendEventsMessage appends to dst the message telling spout task task
// that the trees of evs (at most MaxEvents; their SpoutTask is not
// written) completed or failed: an acker sends a batch's completions for
// one spout task in one message rather than one message each.
func AppendEventsMessage(dst []byte, task int, evs []acker.Event) []byte {
	dst = append(dst, byte(MessageEvent))
	dst = binary.AppendUvarint(dst, uint64(task))
	for _, ev := range evs {
		dst = appendEvent(dst, ev)
	}
	return dst
}

func appendEvent(dst []byte, ev acker.Event) []byte {
	dst = binary.BigEndian.AppendUint64(dst, ev.Root)
	var flags byte
	if ev.Failed {
		flags |= 1
	}
	if ev.TimedOut {
		flags |= 2
	}
	return append(dst, flags)
}

// Message is a decoded message: by Kind, Tuples (for task Target), Acks
// (for acker task Target) or Events (for spout task Target).
type Message struct {
	Kind   MessageKind
	Target int
	Tuples []*tuple.Tuple
	Acks   []Ack
	Events []acker.Event
}

// PeekMessage reads a message's kind and target without decoding its
// body, so that a receiver can turn away a message for a target it does
// not run before it pays for decoding.
func PeekMessage(src []byte) (MessageKind, int, error) {
	_, kind, target, err := peek(src)
	return kind, target, err
}

func peek(src []byte) (body []byte, kind MessageKind, target int, err error) {
	if len(src) < 2 {
		return nil, 0, 0, fmt.Errorf("%w: %d bytes", ErrMessage, len(src))
	}
	t, n := binary.Uvarint(src[1:])
	if n <= 0 || t > maxTarget {
		return nil, 0, 0, fmt.Errorf("%w: bad target", ErrMessage)
	}
	return src[1+n:], MessageKind(src[0]), int(t), nil
}

// DecodeMessage decodes a message. The result does not alias src.
func DecodeMessage(src []byte) (Message, error) {
	body, kind, target, err := peek(src)
	if err != nil {
		return Message{}, err
	}
	m := Message{Kind: kind, Target: target}
	switch m.Kind {
	case MessageTuples:
		m.Tuples, err = DecodeTuples(body, nil)
	case MessageAcks:
		m.Acks, err = DecodeAcks(body, nil)
	case MessageEvent:
		n := len(body) / eventBytes
		if len(body) == 0 || len(body)%eventBytes != 0 || n > MaxEvents {
			return Message{}, fmt.Errorf("%w: events of %d bytes", ErrMessage, len(body))
		}
		m.Events = make([]acker.Event, n)
		for i := range m.Events {
			e := body[i*eventBytes : (i+1)*eventBytes]
			m.Events[i] = acker.Event{SpoutTask: m.Target, Root: binary.BigEndian.Uint64(e),
				Failed: e[8]&1 != 0, TimedOut: e[8]&2 != 0}
		}
	default:
		return Message{}, fmt.Errorf("%w: kind %d", ErrMessage, src[0])
	}
	if err != nil {
		return Message{}, err
	}
	return m, nil
}
