package codec

import (
	"errors"
	"testing"

	"github.com/gale-stream/gale/acker"
)

func TestMessage_RoundTrip(t *testing.T) {
	tm, err := AppendTuplesMessage(nil, 7, wordBatch(3))
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeMessage(tm)
	if err != nil || m.Target != 7 || len(m.Tuples) != 3 || m.Kind != MessageTuples {
		t.Fatalf("tuples message: %+v, %v", m, err)
	}
	acks := []Ack{{Kind: AckInit, Task: 3, Root: 1, Val: 2}, {Kind: AckReset, Root: 9}}
	m, err = DecodeMessage(AppendAcksMessage(nil, 1, acks))
	if err != nil || m.Kind != MessageAcks || m.Target != 1 || len(m.Acks) != 2 || m.Acks[0] != acks[0] || m.Acks[1] != acks[1] {
		t.Fatalf("acks message: %+v, %v", m, err)
	}
	ev := acker.Event{SpoutTask: 4, Root: 1 << 63, Failed: true, TimedOut: true}
	m, err = DecodeMessage(AppendEventMessage(nil, ev))
	if err != nil || m.Kind != MessageEvent || len(m.Events) != 1 || m.Events[0] != ev || m.Target != 4 {
		t.Fatalf("event message: %+v, %v", m, err)
	}
	evs := []acker.Event{ev, {SpoutTask: 4, Root: 7}, {SpoutTask: 4, Root: 8, Failed: true}}
	m, err = DecodeMessage(AppendEventsMessage(nil, 4, evs))
	if err != nil || m.Kind != MessageEvent || m.Target != 4 || len(m.Events) != 3 ||
		m.Events[0] != evs[0] || m.Events[1] != evs[1] || m.Events[2] != evs[2] {
		t.Fatalf("events message: %+v, %v", m, err)
	}
	tooMany := AppendEventsMessage(nil, 4, make([]acker.Event, MaxEvents+1))
	for name, bad := range map[string][]byte{
		"empty":           nil,
		"unknown kind":    {9, 1, 0},
		"huge target":     {byte(MessageAcks), 0xff, 0xff, 0xff, 0xff, 0x7f},
		"short event":     {byte(MessageEvent), 1, 0, 0},
		"no event":        {byte(MessageEvent), 1},
		"event and part":  append(AppendEventMessage(nil, ev), 1, 2),
		"too many events": tooMany,
		"truncated acks":  AppendAcksMessage(nil, 1, acks)[:10],
	} {
		if _, err := DecodeMessage(bad); err == nil {
			t.Errorf("%s: decoded", name)
		} else if de := (*DecodeError)(nil); !errors.Is(err, ErrMessage) && !errors.As(err, &de) {
			t.Errorf("%s: %v is neither ErrMessage nor a *DecodeError", name, err)
		}
	}
}

// FuzzDecodeMessage: any input decodes to a message or an error, without
// panicking; what decodes encodes again to the same bytes' meaning.
func FuzzDecodeMessage(f *testing.F) {
	tm, _ := AppendTuplesMessage(nil, 3, wordBatch(2))
	f.Add(tm)
	f.Add(AppendAcksMessage(nil, 0, []Ack{{Kind: AckAck, Root: 5, Val: 6}}))
	f.Add(AppendEventMessage(nil, acker.Event{SpoutTask: 2, Root: 8, Failed: true}))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := DecodeMessage(src)
		if err != nil {
			return
		}
		var again []byte
		switch m.Kind {
		case MessageEvent:
			again = AppendEventsMessage(nil, m.Target, m.Events)
		case MessageAcks:
			again = AppendAcksMessage(nil, m.Target, m.Acks)
		default:
			if again, err = AppendTuplesMessage(nil, m.Target, m.Tuples); err != nil {
				t.Fatalf("decoded tuples do not encode: %v", err)
			}
		}
		m2, err := DecodeMessage(again)
		if err != nil || m2.Kind != m.Kind || m2.Target != m.Target || len(m2.Tuples) != len(m.Tuples) || len(m2.Acks) != len(m.Acks) || len(m2.Events) != len(m.Events) {
			t.Fatalf("re-encoded message: %+v, %v; was %+v", m2, err, m)
		}
	})
}
