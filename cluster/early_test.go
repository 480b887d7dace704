package cluster

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func TestEarlyBuffer(t *testing.T) {
	var e earlyBuffer
	e.setKnown(map[uint32]bool{7: true, 8: true, 9: true, 10: true})
	buf := epochFrame(3, "tuple one")
	if !e.hold(7, "w1", buf) {
		t.Fatal("hold refused an empty channel's first message")
	}
	copy(buf[frameEpoch:], "XXXXXXXXX") // the transport reuses its buffer
	e.hold(7, "w1", epochFrame(2, "tuple two"))
	e.hold(7, "w1", epochFrame(4, "next epoch"))
	e.hold(7, "w1", []byte("short"))
	e.hold(8, "w2", epochFrame(3, "other topology"))
	ms := e.take(7, 3)
	if len(ms) != 2 || string(ms[0].payload[frameEpoch:]) != "tuple one" || string(ms[1].payload[frameEpoch:]) != "tuple two" || ms[0].from != "w1" {
		t.Fatalf("take up to epoch 3: %+v; want the two messages of epochs 3 and 2, in order, as they were held", ms)
	}
	if e.bytes[7] != frameEpoch+len("next epoch") {
		t.Fatalf("after take: %d bytes held on channel 7, want the epoch 4 message's %d", e.bytes[7], frameEpoch+len("next epoch"))
	}
	if ms := e.take(7, 3); len(ms) != 0 {
		t.Fatalf("second take: %d messages, want none (the epoch 4 message waits for its epoch)", len(ms))
	}
	if ms := e.take(7, 4); len(ms) != 1 || string(ms[0].payload[frameEpoch:]) != "next epoch" {
		t.Fatalf("take at epoch 4: %+v; want the epoch 4 message", ms)
	}
	// old messages expire
	e.mu.Lock()
	e.msgs[8][0].at = time.Now().Add(-earlyKeep - time.Second)
	e.mu.Unlock()
	if ms := e.take(8, 3); len(ms) != 0 {
		t.Fatalf("an expired message was handed over: %+v", ms)
	}
	// the whole buffer is bounded, across channels
	big := bytes.Repeat([]byte{1}, earlyMaxBytes/2+1)
	if !e.hold(9, "w1", big) || e.hold(10, "w1", big) {
		t.Fatal("want the first half of the budget held and the second refused, on another channel")
	}
	if e.total != len(big) || e.bytes[9] != len(big) {
		t.Fatalf("accounted %d bytes (%d on channel 9), want %d", e.total, e.bytes[9], len(big))
	}
	e.take(9, ^uint64(0))
	if e.total != 0 || e.unknownBytes != 0 {
		t.Fatalf("after take: %d bytes held, %d unknown; want 0", e.total, e.unknownBytes)
	}
}

// TestEarlyBuffer_HostilePeer: issue 16's finding 3 — messages for any
// channel, each channel once, used to stay (and raised a worker's RSS
// 23 → 642 MB). Channels of no stored topology get a small budget, and
// every channel is swept, whether or not it gets another message.
func TestEarlyBuffer_HostilePeer(t *testing.T) {
	var e earlyBuffer
	e.setKnown(map[uint32]bool{1: true})
	msg := bytes.Repeat([]byte{7}, 64<<10)
	held := 0
	for ch := uint32(100); ch < 100+1000; ch++ { // 64 MB offered on 1000 channels
		if e.hold(ch, "evil", msg) {
			held++
		}
	}
	if e.total > earlyMaxUnknown || held != earlyMaxUnknown/len(msg) {
		t.Fatalf("unknown channels: %d messages, %d bytes held; want at most %d bytes", held, e.total, earlyMaxUnknown)
	}
	// a known channel still has room
	if !e.hold(1, "w2", msg) {
		t.Fatal("a stored topology's channel was refused while strangers filled theirs")
	}
	// time passes, no channel gets another message: the sweep empties them
	e.mu.Lock()
	for ch, ms := range e.msgs {
		for i := range ms {
			e.msgs[ch][i].at = time.Now().Add(-earlyKeep - time.Second)
		}
	}
	e.mu.Unlock()
	e.sweep()
	if e.total != 0 || e.unknownBytes != 0 || len(e.msgs) != 0 {
		t.Fatalf("after the sweep: %d bytes, %d unknown, %d channels; want none", e.total, e.unknownBytes, len(e.msgs))
	}
	// a channel that becomes known keeps its accounting right
	e.hold(5, "w3", msg)
	e.setKnown(map[uint32]bool{1: true, 5: true})
	e.take(5, ^uint64(0))
	if e.unknownBytes != 0 || e.total != 0 {
		t.Fatalf("a message held as unknown, taken as known: %d unknown bytes, %d total; want 0", e.unknownBytes, e.total)
	}
}

// epochFrame is a frame from another worker: epoch, then msg.
func epochFrame(epoch uint64, msg string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, epoch), msg...)
}
