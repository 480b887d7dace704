package cluster

import (
	"bytes"
	"sync"
	"time"
)

// Messages from other workers can arrive a little before this worker runs
// its share of a topology: at a submit or a rebalance, the workers start
// their runtimes one after the other, and a worker that learned a new
// assignment first sends tuples, acks and completions to tasks the
// receiver has not started yet. Dropping them would stall their trees
// until they time out (1.5 times the message timeout) before they replay;
// instead they wait here, a few seconds at most, for the runtime they are
// for.
const (
	earlyKeep     = 5 * time.Second
	earlyMaxBytes = 64 << 20 // per topology channel
)

type earlyMsg struct {
	from    string
	payload []byte
	at      time.Time
}

// earlyBuffer holds the messages that came before their runtime.
type earlyBuffer struct {
	mu    sync.Mutex
	msgs  map[uint32][]earlyMsg
	bytes map[uint32]int
}

// hold keeps a copy of a message for channel; it reports false when the channel's
// buffer is full (the message is dropped: its tree times out).
func (e *earlyBuffer) hold(channel uint32, from string, payload []byte) bool {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.msgs == nil {
		e.msgs, e.bytes = map[uint32][]earlyMsg{}, map[uint32]int{}
	}
	e.expire(channel, now)
	if e.bytes[channel]+len(payload) > earlyMaxBytes {
		return false
	}
	// the transport reuses payload's memory once the callback returns
	e.msgs[channel] = append(e.msgs[channel], earlyMsg{from: from, payload: bytes.Clone(payload), at: now})
	e.bytes[channel] += len(payload)
	return true
}

// expire drops channel's messages older than earlyKeep.
func (e *earlyBuffer) expire(channel uint32, now time.Time) {
	ms := e.msgs[channel]
	i := 0
	for i < len(ms) && now.Sub(ms[i].at) > earlyKeep {
		e.bytes[channel] -= len(ms[i].payload)
		i++
	}
	if i == len(ms) {
		delete(e.msgs, channel)
		delete(e.bytes, channel)
		return
	}
	e.msgs[channel] = ms[i:]
}

// take removes and returns channel's messages still young enough.
func (e *earlyBuffer) take(channel uint32) []earlyMsg {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.expire(channel, time.Now())
	ms := e.msgs[channel]
	delete(e.msgs, channel)
	delete(e.bytes, channel)
	return ms
}
