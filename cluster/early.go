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
//
// The buffer is bounded in all: earlyMaxBytes for every channel together,
// of which channels of no stored topology (a peer that is ahead of this
// worker's view of the store, or a hostile one) may use earlyMaxUnknown;
// messages older than earlyKeep are swept from every channel at least
// every second, not only when their channel gets another one.
const (
	earlyKeep       = 5 * time.Second
	earlyMaxBytes   = 64 << 20
	earlyMaxUnknown = 4 << 20
	earlySweepEvery = time.Second
)

type earlyMsg struct {
	from    string
	payload []byte
	at      time.Time
	unknown bool // counted in unknownBytes
}

// earlyBuffer holds the messages that came before their runtime.
type earlyBuffer struct {
	mu           sync.Mutex
	msgs         map[uint32][]earlyMsg
	bytes        map[uint32]int
	known        map[uint32]bool // channels of stored topologies (setKnown)
	total        int             // bytes held, all channels
	unknownBytes int             // of which in unknown channels
	swept        time.Time
}

// setKnown replaces the set of channels of stored topologies.
func (e *earlyBuffer) setKnown(chans map[uint32]bool) {
	e.mu.Lock()
	e.known = chans
	e.mu.Unlock()
}

// hold keeps a copy of a message for channel; it reports false when the
// buffer is full (the message is dropped: its tree times out and replays).
func (e *earlyBuffer) hold(channel uint32, from string, payload []byte) bool {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.msgs == nil {
		e.msgs, e.bytes = map[uint32][]earlyMsg{}, map[uint32]int{}
	}
	if now.Sub(e.swept) >= earlySweepEvery {
		e.sweepLocked(now)
	}
	known := e.known[channel]
	if e.total+len(payload) > earlyMaxBytes || (!known && e.unknownBytes+len(payload) > earlyMaxUnknown) {
		return false
	}
	// the transport reuses payload's memory once the callback returns
	e.msgs[channel] = append(e.msgs[channel], earlyMsg{from: from, payload: bytes.Clone(payload), at: now, unknown: !known})
	e.bytes[channel] += len(payload)
	e.total += len(payload)
	if !known {
		e.unknownBytes += len(payload)
	}
	return true
}

// sweep drops every channel's messages older than earlyKeep.
func (e *earlyBuffer) sweep() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sweepLocked(time.Now())
}

func (e *earlyBuffer) sweepLocked(now time.Time) {
	e.swept = now
	for ch := range e.msgs {
		e.expire(ch, now)
	}
}

// expire drops channel's messages older than earlyKeep.
func (e *earlyBuffer) expire(channel uint32, now time.Time) {
	ms := e.msgs[channel]
	i := 0
	for i < len(ms) && now.Sub(ms[i].at) > earlyKeep {
		i++
	}
	if i == 0 {
		return
	}
	e.forget(channel, ms[:i])
	if i == len(ms) {
		delete(e.msgs, channel)
		delete(e.bytes, channel)
		return
	}
	e.msgs[channel] = ms[i:]
}

// forget takes ms, messages of channel, out of the byte counts.
func (e *earlyBuffer) forget(channel uint32, ms []earlyMsg) {
	for _, m := range ms {
		e.bytes[channel] -= len(m.payload)
		e.total -= len(m.payload)
		if m.unknown {
			e.unknownBytes -= len(m.payload)
		}
	}
}

// take removes and returns channel's messages still young enough of an
// epoch up to epoch (splitFrame); later ones stay (for the runtime of
// their epoch), malformed ones are dropped.
func (e *earlyBuffer) take(channel uint32, epoch uint64) []earlyMsg {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.expire(channel, time.Now())
	var out, keep []earlyMsg
	for _, m := range e.msgs[channel] {
		switch ep, _, ok := splitFrame(m.payload); {
		case ok && ep > epoch:
			keep = append(keep, m)
		case ok:
			out = append(out, m)
		}
	}
	e.forget(channel, e.msgs[channel])
	delete(e.msgs, channel)
	delete(e.bytes, channel)
	for _, m := range keep {
		e.msgs[channel] = append(e.msgs[channel], m)
		e.bytes[channel] += len(m.payload)
		e.total += len(m.payload)
		if m.unknown {
			e.unknownBytes += len(m.payload)
		}
	}
	return out
}
