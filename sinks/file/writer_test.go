package file_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/file"
	"github.com/gale-stream/gale/tuple"
)

func testKey() []byte { return bytes.Repeat([]byte{7}, sinks.KeySize) }

func meta(seq uint64) *tuple.BatchMeta {
	return &tuple.BatchMeta{ID: "events/00002/000000000007", Source: "events", Partition: 2, Seq: seq, Start: 700, End: 800}
}

func TestFileWriterReplayIdentical(t *testing.T) {
	dir := t.TempDir()
	w := file.NewWriter(dir, sinks.Naming{Ext: ".jsonl.lz4.enc"}, sinks.Codec{Compression: sinks.CompressionLZ4, Key: testKey()}, false)
	b := &sinks.Batch{Topology: "topo", Meta: meta(7), Records: []sinks.Record{{ID: "events/2/700", Line: []byte(`{"a":1}`)}, {ID: "events/2/701", Line: []byte(`{"a":2}`)}}}
	if _, err := w.WriteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	names, err := w.List(".jsonl.lz4.enc")
	if err != nil || len(names) != 1 {
		t.Fatalf("list: %v %v", names, err)
	}
	first, _ := w.Get(context.Background(), names[0])
	// a stale temp file from a "crash" is ignored by List
	os.WriteFile(filepath.Join(dir, filepath.Dir(names[0]), "."+filepath.Base(names[0])+".tmp-123"), []byte("torn"), 0o644)
	if _, err := w.WriteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	again, _ := w.List(".jsonl.lz4.enc")
	second, _ := w.Get(context.Background(), names[0])
	if !slices.Equal(names, again) || !bytes.Equal(first, second) {
		t.Fatalf("a replay changed the files: %v -> %v, same bytes %v", names, again, bytes.Equal(first, second))
	}
	plain, err := sinks.Decode(testKey(), second)
	if err != nil || string(plain) != "{\"a\":1}\n{\"a\":2}\n" {
		t.Fatalf("decoded %q, %v", plain, err)
	}
}

func TestFileWriterErrors(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Log("running as root: permission checks do not apply; checking a file in the way instead")
	}
	dir := t.TempDir()
	// a file where a directory must go: a clear error, retried by the bolt
	os.WriteFile(filepath.Join(dir, "topo"), []byte("x"), 0o644)
	w := file.NewWriter(dir, sinks.Naming{Ext: ".log"}, sinks.Codec{Compression: sinks.CompressionNone}, false)
	_, err := w.WriteBatch(context.Background(), &sinks.Batch{Topology: "topo", Meta: meta(1)})
	if err == nil || !strings.Contains(err.Error(), "topo") {
		t.Fatalf("write under a file: %v", err)
	}
}
