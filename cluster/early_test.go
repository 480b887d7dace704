package cluster

import (
	"bytes"
	"testing"
	"time"
)

func TestEarlyBuffer(t *testing.T) {
	var e earlyBuffer
	buf := []byte("tuple one")
	if !e.hold(7, "w1", buf) {
		t.Fatal("hold refused an empty channel's first message")
	}
	copy(buf, "XXXXXXXXX") // the transport reuses its buffer
	e.hold(7, "w1", []byte("tuple two"))
	e.hold(8, "w2", []byte("other topology"))
	ms := e.take(7)
	if len(ms) != 2 || string(ms[0].payload) != "tuple one" || string(ms[1].payload) != "tuple two" || ms[0].from != "w1" {
		t.Fatalf("take: %+v; want both messages, in order, as they were held", ms)
	}
	if ms := e.take(7); len(ms) != 0 {
		t.Fatalf("second take: %d messages, want none", len(ms))
	}
	// old messages expire
	e.mu.Lock()
	e.msgs[8][0].at = time.Now().Add(-earlyKeep - time.Second)
	e.mu.Unlock()
	if ms := e.take(8); len(ms) != 0 {
		t.Fatalf("an expired message was handed over: %+v", ms)
	}
	// a channel's buffer is bounded
	big := bytes.Repeat([]byte{1}, earlyMaxBytes/2+1)
	if !e.hold(9, "w1", big) || e.hold(9, "w1", big) {
		t.Fatal("want the first half of the budget held and the second refused")
	}
	if e.bytes[9] != len(big) {
		t.Fatalf("accounted %d bytes, want %d", e.bytes[9], len(big))
	}
}
