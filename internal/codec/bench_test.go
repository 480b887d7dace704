package codec

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"testing"

	"github.com/gale-stream/gale/internal/tuplestate"
	"github.com/gale-stream/gale/tuple"
)

// wireTuple is what the codec carries of a tuple, for the gob and JSON
// baselines (encoding tuple.Tuple itself would add the engine fields).
type wireTuple struct {
	Values    []any
	Stream    string
	Component string
	Task      int
	ID        string `json:",omitempty"`
	BatchID   string `json:",omitempty"`
	Anchors   []tuplestate.Anchor
}

func toWire(ts []*tuple.Tuple) []wireTuple {
	w := make([]wireTuple, len(ts))
	for i, t := range ts {
		w[i] = wireTuple{t.Values, t.Stream, t.Component, t.Task, t.ID, t.BatchID, tuplestate.Of(t).Anchors}
	}
	return w
}

// BenchmarkWordBatch encodes and decodes a word-count batch (64 tuples of
// one short word, with an anchor and a batch id) with this codec, with
// encoding/gob (an Encoder per batch: frames are independent messages)
// and with encoding/json. It reports ns and bytes per tuple.
func BenchmarkWordBatch(b *testing.B) {
	const n = 64
	ts := wordBatch(n)
	wire := toWire(ts)
	type codecImpl struct {
		name   string
		encode func(dst []byte) []byte
		decode func(src []byte)
	}
	impls := []codecImpl{
		{"codec",
			func(dst []byte) []byte {
				out, err := AppendTuples(dst, ts)
				if err != nil {
					b.Fatal(err)
				}
				return out
			},
			func(src []byte) {
				if _, err := DecodeTuples(src, nil); err != nil {
					b.Fatal(err)
				}
			}},
		{"gob",
			func(dst []byte) []byte {
				buf := bytes.NewBuffer(dst)
				if err := gob.NewEncoder(buf).Encode(wire); err != nil {
					b.Fatal(err)
				}
				return buf.Bytes()
			},
			func(src []byte) {
				var out []wireTuple
				if err := gob.NewDecoder(bytes.NewReader(src)).Decode(&out); err != nil {
					b.Fatal(err)
				}
			}},
		{"json",
			func(dst []byte) []byte {
				buf := bytes.NewBuffer(dst)
				if err := json.NewEncoder(buf).Encode(wire); err != nil {
					b.Fatal(err)
				}
				return buf.Bytes()
			},
			func(src []byte) {
				var out []wireTuple
				if err := json.Unmarshal(src, &out); err != nil {
					b.Fatal(err)
				}
			}},
	}
	for _, c := range impls {
		frame := c.encode(nil)
		perTuple := float64(len(frame)) / n
		b.Run(c.name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			buf := make([]byte, 0, 2*len(frame))
			for b.Loop() {
				buf = c.encode(buf[:0])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/tuple")
			b.ReportMetric(perTuple, "B/tuple")
		})
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				c.decode(frame)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/tuple")
			b.ReportMetric(perTuple, "B/tuple")
		})
	}
}

// BenchmarkAcks encodes and decodes a batch of 64 ack messages.
func BenchmarkAcks(b *testing.B) {
	acks := make([]Ack, 64)
	for i := range acks {
		acks[i] = Ack{Kind: 2, Root: 0x9e3779b97f4a7c15 * uint64(i+1), Val: 0xbf58476d1ce4e5b9 * uint64(i+1)}
	}
	frame := AppendAcks(nil, acks)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		buf := make([]byte, 0, len(frame))
		for b.Loop() {
			buf = AppendAcks(buf[:0], acks)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		dst := make([]Ack, 0, len(acks))
		for b.Loop() {
			var err error
			if dst, err = DecodeAcks(frame, dst[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
