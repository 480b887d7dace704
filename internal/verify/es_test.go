package verify

// Integration test against the real OpenSearch that `testenv/testenv up es`
// starts (GALE_ES_URL): gale verify reads an es_sink's documents (its
// scroll read path) and compares them with a file sink's objects.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/elasticsearch"
	"github.com/gale-stream/gale/sinks/file"
	"github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
)

// TestRun_Elasticsearch: two file sinks and an es_sink hold the 30
// committed batches of 5 records of two partitions; gale verify finds them equal,
// then finds a document missing, a document changed, a document held twice
// (in another index of the sink's pattern) and a document never planned.
func TestRun_Elasticsearch(t *testing.T) {
	url := testenv.ESURL(t)
	ctx := context.Background()
	dir := t.TempDir()
	r := make([]byte, 4)
	rand.Read(r)
	prefix := "gale-test-verify-" + hex.EncodeToString(r) + "-"
	reg := registry.New()
	reg.MustRegister(kafka.Type())
	reg.MustRegister(file.Type())
	reg.MustRegister(elasticsearch.Type())
	in := []topology.Input{{Component: "k", Grouping: topology.BatchGrouping}}
	js, _ := json.Marshal(map[string]any{"name": topoName,
		"spouts": []map[string]any{{"id": "k", "type": kafka.TypeName, "config": map[string]any{
			"brokers": []string{"127.0.0.1:1"}, "topics": []string{topic}, "ledger": map[string]any{"kind": "file", "dir": filepath.Join(dir, "ledger")}}}},
		"bolts": []map[string]any{
			{"id": "files", "type": file.TypeName, "inputs": in, "config": map[string]any{"dir": filepath.Join(dir, "files"), "no_fsync": true}},
			{"id": "copy", "type": file.TypeName, "inputs": in, "config": map[string]any{"dir": filepath.Join(dir, "copy"), "no_fsync": true}},
			{"id": "search", "type": elasticsearch.TypeName, "inputs": in, "config": map[string]any{"urls": []string{url}, "index": prefix + "{2006}"}},
		}})
	topo, err := topology.Decode(js, reg)
	if err != nil {
		t.Fatal(err)
	}
	fw, cw := topo.Bolts[0].Settings.(*file.Config).Writer(), topo.Bolts[1].Settings.(*file.Config).Writer()
	ew, err := elasticsearch.NewWriter(topo.Bolts[2].Settings.(*elasticsearch.Config))
	if err != nil {
		t.Fatal(err)
	}
	defer ew.Close()
	es := ew.Client()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := es.Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{prefix + "*"},
			Params: opensearchapi.IndicesDeleteParams{AllowNoIndices: opensearchapi.ToPointer(true)}}); err != nil {
			t.Errorf("delete indices %s*: %v", prefix, err)
		}
	})

	st, err := ledger.NewFileStore(filepath.Join(dir, "ledger"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const batches, records = 15, 5 // per partition
	for part := range int32(2) {
		key := ledger.Key{Topology: topoName, Spout: "k", Topic: topic, Partition: part}
		w, _, err := st.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for seq := range uint64(batches) {
			start := int64(seq * records)
			if err := w.Plan(ctx, ledger.Plan{Key: key, Seq: seq, Start: start, End: start + records}); err != nil {
				t.Fatal(err)
			}
			b := &sinks.Batch{Topology: topoName, Meta: meta(part, seq, start, start+records)}
			for o := start; o < start+records; o++ {
				b.Records = append(b.Records, sinks.Record{ID: fmt.Sprintf("%s/%d/%d", topic, part, o), Line: []byte(docLine(part, o))})
			}
			for _, sw := range []sinks.Writer{fw, cw, ew} {
				if _, err := sw.WriteBatch(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Commit(ctx, seq); err != nil {
				t.Fatal(err)
			}
		}
	}

	index := func(idx, id, source string) {
		t.Helper()
		if _, err := es.Index(ctx, opensearchapi.IndexReq{Index: idx, DocumentID: id, Body: strings.NewReader(source)}); err != nil {
			t.Fatalf("index %s in %s: %v", id, idx, err)
		}
	}
	none := prefix + elasticsearch.NoTime // the index of records without a timestamp
	clean := func(comp, typ string) SinkReport {
		return SinkReport{Component: comp, Type: typ, Batches: 2 * batches, Records: 2 * batches * records}
	}
	files, copy, search := clean("files", file.TypeName), clean("copy", file.TypeName), clean("search", elasticsearch.TypeName)
	batch1 := meta(1, 1, 0, 0).ID
	for _, tc := range []struct {
		name   string
		change func()
		search func(s SinkReport) SinkReport
	}{{
		name:   "all present",
		change: func() {},
		search: func(s SinkReport) SinkReport { return s },
	}, {
		name: "a document missing",
		change: func() {
			if _, err := es.Document.Delete(ctx, opensearchapi.DocumentDeleteReq{Index: none, DocumentID: "events/1/7"}); err != nil {
				t.Fatal(err)
			}
		},
		search: func(s SinkReport) SinkReport {
			s.Records--
			s.Mismatched = []Mismatch{{batch1, "content differs from the other sinks'"}}
			return s
		},
	}, {
		name:   "a document changed",
		change: func() { index(none, "events/1/7", `{"p":1,"offset":7,"changed":true}`) },
		search: func(s SinkReport) SinkReport {
			s.Mismatched = []Mismatch{{batch1, "content differs from the other sinks'"}}
			return s
		},
	}, {
		name: "a document held twice",
		change: func() {
			index(none, "events/1/7", docLine(1, 7))
			index(prefix+"2026", "events/1/7", docLine(1, 7))
		},
		search: func(s SinkReport) SinkReport {
			s.Records++
			s.Mismatched = []Mismatch{{batch1, "content differs from the other sinks'"}}
			return s
		},
	}, {
		name: "a document never planned",
		change: func() {
			if _, err := es.Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{prefix + "2026"}}); err != nil {
				t.Fatal(err)
			}
			index(none, "events/0/75", docLine(0, 75))
		},
		search: func(s SinkReport) SinkReport {
			s.Extra = []string{"document events/0/75 (never planned)"}
			return s
		},
	}} {
		tc.change()
		rep, err := Run(ctx, topo, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i := range rep.Sinks {
			rep.Sinks[i].sums, rep.Sinks[i].families = nil, nil
		}
		want := &Report{Topology: topoName, Committed: 2 * batches, Sinks: []SinkReport{files, copy, tc.search(search)}}
		t.Run(tc.name, func(t *testing.T) { check(t, rep, want, tc.name == "all present") })
	}
}

// docLine is the record at offset off of partition part.
func docLine(part int32, off int64) string { return fmt.Sprintf(`{"p":%d,"offset":%d}`, part, off) }
