// Package tuplestate is the engine's state of a tuple: the trees it
// belongs to, the edges emitted anchored to it, whether it was acked. It
// lives inside every tuple.Tuple, unexported there, so that no bolt can
// read or corrupt it; the engine (package local), the codec and the acker
// reach it through Of.
package tuplestate

import "math/rand/v2"

// Anchor ties a tuple to the tree of one spout tuple: Root identifies the
// tree and Edge is the random id of the edge by which the tuple belongs
// to it. See package acker for the algorithm.
type Anchor struct {
	Root uint64
	Edge uint64
}

// State is a tuple's engine state.
type State struct {
	// Anchors link the tuple to the trees it belongs to; empty when the
	// tuple is not tracked.
	Anchors []Anchor
	// AckVal accumulates the edges emitted anchored to the tuple.
	AckVal uint64
	// Done records that the tuple was acked or failed.
	Done bool
	// Children counts the tuples emitted anchored to this one, to derive
	// their IDs.
	Children int32
	// Born is when the executor took the tuple from its queue (the
	// engine's monotonic clock, in nanoseconds), for latency metrics.
	Born int64
}

// Of returns the state of t, a *tuple.Tuple (a tuple's state is part of
// it: the pointer is valid as long as the tuple). Package tuple sets Of when
// it is initialized: it imports this package, which therefore cannot name
// tuple's types.
var Of func(t any) *State

// NewID returns a random non-zero 64-bit id (an edge or a root). It is
// safe for concurrent use.
func NewID() uint64 {
	for {
		if id := rand.Uint64(); id != 0 {
			return id
		}
	}
}

// Anchors appends to dst the anchors of a new tuple emitted anchored to
// inputs (of gives each input's state), and XORs the new edge into each
// input's AckVal. The first input gets edge; every further input gets an
// edge id of its own, and roots shared by several inputs get the XOR of
// their edges.
//
// Storm gives all inputs the same edge, so a tuple anchored to two tuples
// of the same tree gets the id e^e = 0 and the tree can complete before
// that tuple is acked. Distinct edges close that hole: the shared root's
// id is e1^e2, non-zero, and cancels only once the new tuple is acked too.
func Anchors[T any](dst []Anchor, inputs []T, of func(T) *State, edge uint64) []Anchor {
	start := len(dst)
	first := true
	for _, t := range inputs {
		in := of(t)
		if in == nil {
			continue
		}
		e := edge
		if !first {
			e = NewID()
		}
		first = false
		for _, a := range in.Anchors {
			merged := false
			for j := start; j < len(dst); j++ {
				if dst[j].Root == a.Root {
					dst[j].Edge ^= e
					merged = true
					break
				}
			}
			if !merged {
				dst = append(dst, Anchor{Root: a.Root, Edge: e})
			}
		}
		in.AckVal ^= e
	}
	return dst
}

// AckOps calls send with the value to XOR at the acker, for each tree s
// belongs to, when its tuple is acked.
func (s *State) AckOps(send func(root, val uint64)) {
	for _, a := range s.Anchors {
		send(a.Root, a.Edge^s.AckVal)
	}
}

// FailOps calls send for each tree s belongs to, when its tuple is
// failed. The value is the one AckOps would send: the acker fails the
// tree at once and still XORs it, so that it can forget the failed tree as
// soon as its other tuples have settled instead of at the timeout.
func (s *State) FailOps(send func(root, val uint64)) { s.AckOps(send) }
