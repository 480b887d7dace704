package codec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// minimalFrame is a tuple frame of n tuples of 4 bytes each (no flags,
// stream and component the first string of the table, task 0) — the
// cheapest tuples to send and the dearest to decode, per byte.
func minimalFrame(n int) []byte {
	ts := make([]*tuple.Tuple, n)
	for i := range ts {
		ts[i] = &tuple.Tuple{Stream: "s", Component: "c"}
	}
	if n <= codec.MaxTuples {
		f, err := codec.AppendTuples(nil, ts)
		if err != nil {
			panic(err)
		}
		return f
	}
	// past the encoder's limit: written by hand, as a hostile peer would
	f, _ := codec.AppendTuples(nil, ts[:1])
	body := f[2:] // kind, count 1, then the first tuple with the table
	out := []byte{byte(codec.KindTuples)}
	out = binary.AppendUvarint(out, uint64(n))
	out = append(out, body...)
	one, _ := codec.AppendTuples(nil, ts[:2])
	second := one[len(f):] // a tuple that refers to the table
	for i := 1; i < n; i++ {
		out = append(out, second...)
	}
	return out
}

// TestDecodeTuples_Amplification: issue 16's finding 10 — an 8 MB frame of
// minimal tuples decoded to 335 MB. A frame now holds at most MaxTuples
// tuples, so what any frame decodes to is bounded: at most a fixed
// multiple of its size, plus MaxTuples tuples' worth.
func TestDecodeTuples_Amplification(t *testing.T) {
	if _, err := codec.DecodeTuples(minimalFrame(codec.MaxTuples+1), nil); !errors.Is(err, codec.ErrLength) {
		t.Fatalf("a frame of MaxTuples+1 tuples: %v, want ErrLength", err)
	}
	big := minimalFrame(2 << 20) // 2M tuples in ~8 MB, the old attack
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := codec.DecodeTuples(big, nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, codec.ErrLength) {
		t.Fatalf("a frame of 2M tuples (%d bytes): %v, want ErrLength", len(big), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("refusing a %d-byte frame allocated %d bytes", len(big), alloc)
	}
	const perTuple = 512 // generous: a tuple.Tuple and its slice entry
	for _, n := range []int{1, 1000, codec.MaxTuples} {
		f := minimalFrame(n)
		runtime.ReadMemStats(&before)
		ts, err := codec.DecodeTuples(f, nil)
		runtime.ReadMemStats(&after)
		if err != nil || len(ts) != n {
			t.Fatalf("%d tuples: %d decoded, %v", n, len(ts), err)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		if bound := uint64(64*len(f) + perTuple*codec.MaxTuples); alloc > bound {
			t.Errorf("a %d-byte frame of %d tuples decoded to %d bytes, over the bound %d", len(f), n, alloc, bound)
		}
		t.Logf("%d tuples: %d-byte frame decoded to %d bytes (%.0f×)", n, len(f), alloc, float64(alloc)/float64(len(f)))
	}
	// the encoder refuses what the decoder would
	ts := make([]*tuple.Tuple, codec.MaxTuples+1)
	for i := range ts {
		ts[i] = &tuple.Tuple{}
	}
	if _, err := codec.AppendTuples(nil, ts); !errors.Is(err, codec.ErrLength) {
		t.Errorf("encoding MaxTuples+1 tuples: %v, want ErrLength", err)
	}
	if topology.MaxBatchSize > codec.MaxTuples {
		t.Errorf("topology.MaxBatchSize %d > codec.MaxTuples %d: a valid batch would not cross workers", topology.MaxBatchSize, codec.MaxTuples)
	}
}

// TestPeekMessage: the target is read without decoding the body.
func TestPeekMessage(t *testing.T) {
	msg, err := codec.AppendTuplesMessage(nil, 42, []*tuple.Tuple{{Stream: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	kind, target, err := codec.PeekMessage(msg)
	if err != nil || kind != codec.MessageTuples || target != 42 {
		t.Fatalf("peek: %v %d %v", kind, target, err)
	}
	// a body that does not decode still peeks: the receiver checks the target first
	bad := append(bytes.Clone(msg[:2]), 0xff, 0xff)
	if _, target, err := codec.PeekMessage(bad); err != nil || target != 42 {
		t.Fatalf("peek of a bad body: %d %v", target, err)
	}
	if _, _, err := codec.PeekMessage([]byte{1}); !errors.Is(err, codec.ErrMessage) {
		t.Fatalf("peek of 1 byte: %v", err)
	}
}
