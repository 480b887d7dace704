package sinks

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/gale-stream/gale/tuple"
)

// TestStoreParts: one object per time bucket, each encoded by the codec,
// with its metadata; the store's error stops the batch and is returned as
// it is; a canceled context stops it before the first object.
func TestStoreParts(t *testing.T) {
	m := &tuple.BatchMeta{ID: "ev/00001/000000000004", Source: "ev", Partition: 1, Seq: 4, Start: 400, End: 403}
	t0 := time.Date(2026, 11, 27, 0, 59, 0, 0, time.UTC)
	b := &Batch{Topology: "t", Meta: m, Records: []Record{
		{ID: "ev/1/400", Time: t0, Line: []byte("a")},
		{ID: "ev/1/401", Time: t0.Add(time.Minute), Line: []byte("b")},
		{ID: "ev/1/402", Time: t0.Add(2 * time.Minute), Line: []byte("c")},
	}}
	naming := Naming{Prefix: "p", TimePartition: PartitionHour, Ext: ".jsonl.lz4"}
	codec := Codec{Compression: CompressionLZ4}
	type object struct {
		data []byte
		meta map[string]string
	}
	got := map[string]object{}
	n, err := StoreParts(context.Background(), b, naming, codec, "x-", "test", func(name string, data []byte, meta map[string]string) error {
		got[name] = object{data, meta}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, p := range naming.Parts(b) {
		o, ok := got[p.Name]
		want, _ := codec.Encode(p.Name, p.Content())
		if !ok || string(o.data) != string(want) {
			t.Fatalf("%s: stored %q, want the encoded part", p.Name, o.data)
		}
		wantMeta := map[string]string{"x-batch": m.ID, "x-records": strconv.Itoa(len(p.Records)), "x-sha256": Checksum(p.Content()),
			"x-start": "400", "x-end": "403", "x-bytes": strconv.Itoa(len(want))}
		if !maps.Equal(o.meta, wantMeta) {
			t.Errorf("%s: metadata %v, want %v", p.Name, o.meta, wantMeta)
		}
		total += int64(len(want))
	}
	if len(got) != 2 || n != total {
		t.Fatalf("%d objects, %d bytes; want 2 (two hours), %d bytes", len(got), n, total)
	}

	boom := errors.New("boom")
	calls := 0
	if _, err := StoreParts(context.Background(), b, naming, codec, "x-", "test", func(string, []byte, map[string]string) error {
		calls++
		return boom
	}); err != boom || calls != 1 {
		t.Errorf("store failing: %v after %d calls; want boom after 1", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := StoreParts(ctx, b, naming, codec, "x-", "test", func(string, []byte, map[string]string) error {
		t.Error("store called after the context ended")
		return nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// TestEachPart: each part's content and stored bytes are the part's, also
// when a buffer used by a larger part before is used again for a smaller
// one (uncompressed lines: data is the content's own buffer); the bytes
// stored are summed; the store's error stops the batch.
func TestEachPart(t *testing.T) {
	batch := func(seq uint64, lines ...string) *Batch {
		b := &Batch{Topology: "t", Meta: &tuple.BatchMeta{ID: "ev/00001/" + strconv.FormatUint(seq, 10), Source: "ev", Partition: 1, Seq: seq}}
		for i, l := range lines {
			b.Records = append(b.Records, Record{ID: "ev/1/" + strconv.Itoa(i), Line: []byte(l)})
		}
		return b
	}
	for _, codec := range []Codec{{}, {Compression: CompressionLZ4}} {
		naming := Naming{Prefix: "p", Ext: ".jsonl" + codec.Ext()}
		for i, b := range []*Batch{
			batch(1, "a", "bb"),
			batch(2, "a much longer line than the others", "and another", "and a third"),
			batch(3, "c"),
			batch(4),
		} {
			var stored [][]byte
			n, err := EachPart(context.Background(), b, naming, codec, "test", func(p *Part, content, data []byte) error {
				if want := p.Content(); string(content) != string(want) {
					t.Errorf("batch %d: content %q, want %q", i, content, want)
				}
				stored = append(stored, append([]byte(nil), data...))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			parts := naming.Parts(b)
			var total int64
			for j, p := range parts {
				want, _ := codec.Encode(p.Name, p.Content())
				if j >= len(stored) || string(stored[j]) != string(want) {
					t.Fatalf("%s batch %d part %d: stored %q, want %q", codec.Compression, i, j, stored, want)
				}
				total += int64(len(want))
			}
			if len(stored) != len(parts) || n != total {
				t.Errorf("batch %d: %d parts stored, %d bytes; want %d, %d", i, len(stored), n, len(parts), total)
			}
		}
	}
	boom := errors.New("boom")
	if _, err := EachPart(context.Background(), batch(5, "x"), Naming{Ext: ".jsonl"}, Codec{}, "test", func(*Part, []byte, []byte) error {
		return boom
	}); err != boom {
		t.Errorf("store failing: %v, want boom", err)
	}
}
