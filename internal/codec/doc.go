// Package codec is the compact binary encoding of what Gale workers send
// each other: batches of tuples for one target task, and batches of ack
// messages for one acker task. It is the engine's remote protocol: package
// local (the runtime) writes and reads the messages, and the cluster's
// transport carries them as opaque bytes.
//
// A message ([AppendTuplesMessage], [AppendAcksMessage],
// [AppendEventMessage], [DecodeMessage]) is a frame with its target in
// front: a kind byte, the target (a task id or an acker index) and the
// frame (a tuple frame, an ack frame, or a tree's completion). The frames
// are described below.
//
// [AppendTuples] appends a frame holding a batch of tuples to a buffer and
// [DecodeTuples] turns such a frame back into tuples; [AppendAcks] and
// [DecodeAcks] do the same for ack messages. [FrameKind] tells the two
// kinds of frame apart.
//
//	buf, err := codec.AppendTuples(buf[:0], batch) // batch []*tuple.Tuple
//	...                                           // send buf to the peer
//	ts, err := codec.DecodeTuples(buf, nil)       // on the receiving side
//
// # What a tuple frame carries
//
// Per tuple: Values, Stream, Component, Task (the emitting task), ID,
// BatchID and the anchors (the trees it belongs to, from the tuple's
// engine state: internal/tuplestate). Not Fields (the receiver knows them
// from the topology by Component and Stream) and not the rest of the
// engine's per-task state (ack value, done, children, birth), which
// decode as zero values.
//
// Stream, Component and BatchID (and the ID, Origin and Source of a
// [tuple.BatchMeta]) are interned per frame: the first occurrence is
// written in full and later ones as a small index, so a batch of 64 tuples
// names "default" once. Other strings (IDs, values) are written in full. Integers and lengths are varints
// (encoding/binary); anchor ids are fixed 8-byte words (they are random).
//
// # Format
//
// A tuple frame is the byte [KindTuples], the tuple count (uvarint), then
// per tuple: a flags byte (which of ID, BatchID, Anchors and Values
// follow), Stream and Component (interned), Task (varint), ID (uvarint
// length and bytes), BatchID (interned), the anchors (count, then Root
// and Edge as little-endian uint64s) and the values (count, then each
// value as a tag byte and its content). An interned string is an index
// into the frame's table; the index one past the table's end adds the
// string that follows it to the table. Slices and maps are written with
// their length plus one, 0 meaning nil; map entries follow Go's map
// iteration order, so equal batches holding maps may encode to different
// bytes (that decode equal). An ack frame is the byte
// [KindAcks], the count, then per ack: Kind (one byte), Task (varint),
// Root and Val (little-endian uint64s).
//
// # Values
//
// A value is one of: nil, string, []byte, bool, int, int8, int16, int32,
// int64, uint, uint8, uint16, uint32, uint64, float32, float64,
// json.Number, time.Time, map[string]any, []any, map[string]string,
// [tuple.Values] (a nested list) and *[tuple.BatchMeta] (the end-of-batch
// markers carry one). Decoding returns the same Go types, so
// reflect.DeepEqual(decoded, original) holds, with these precisions:
//
//   - nil and empty slices and maps stay distinct;
//   - a time.Time loses its monotonic clock reading (as with gob and
//     JSON); a time in UTC or time.Local comes back in UTC or in the
//     receiver's time.Local (the same instant), any other location comes
//     back as a fixed zone with the same name and offset at that instant;
//   - float NaNs keep their bits (reflect.DeepEqual never holds for NaN).
//
// Any other type, named types included (type Word string), is an encode
// error naming the type ([UnsupportedTypeError]); so is a container
// nested deeper than [MaxDepth] (for example one that contains itself).
// The encoder uses type switches, no reflection.
//
// # Hostile input
//
// The decoders never panic on any input. Every length is checked against
// the bytes that remain before anything is allocated, so what a frame
// makes the decoder allocate is bounded by a small multiple of its size;
// nesting is bounded by [MaxDepth]. Errors are [*DecodeError]s that say
// what is wrong (an error matching one of the Err sentinels), where (tuple
// and value) and at which byte offset.
//
// # Ownership
//
// Decoded tuples share nothing with the input: the caller may reuse the
// input buffer at once. Tuples of one frame share the backing arrays of
// their Values and Anchors slices (one allocation per frame, not per
// tuple), so, as everywhere in Gale, they must be treated as read-only.
package codec
