// Package acker implements Storm's XOR acking: how Gale knows, with a few
// bytes per spout tuple and no matter how large the tree of tuples that
// grows from it, when that tree is fully processed.
//
// Every tuple a spout emits with a message id starts a tree, named by a
// random 64-bit root id. Every edge of the tree — one tuple delivered to
// one task — gets a random 64-bit edge id. An acker task (chosen by
// TaskIndex from the root) keeps one value per tree: the XOR of the edge
// ids it has been told about.
//
//   - The spout sends Init(root, e1 ^ e2 ^ ...) with the edges it created.
//   - A bolt that emits a tuple anchored to input t creates a new edge e:
//     e goes into the new tuple's anchor, and into t's ack value (the XOR
//     of the edges created from t).
//   - When the bolt acks t it sends Ack(root, t's edge ^ t's ack value):
//     the edge that delivered t, and every edge created from t.
//
// Each edge id therefore reaches the acker exactly twice — once when it is
// created and once when its tuple is acked — and cancels itself out. The
// tree is complete when the value returns to zero after the spout's Init
// arrived; the chance of a false zero is 2^-64 per update. A Fail anywhere
// fails the tree at once; a tree not complete within the message timeout
// fails as timed out. Either way the spout hears about it exactly once,
// and replays.
//
// This package is the acker task's side: [Tracker] keeps the values,
// [TaskIndex] picks the acker of a root. The tuples' side — anchors, ack
// values, the messages to send — is the engine's (package local), kept in
// each tuple's unexported state where no bolt can disturb it. Unlike
// Storm, a tuple anchored to several inputs gets a distinct edge per input,
// so that two inputs of the same tree cannot cancel each other's edge.
package acker
