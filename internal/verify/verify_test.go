package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/file"
	"github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// docStore is an in-memory document store: documents by tuple id, and
// ids it holds twice (as a search over several indices may find them).
type docStore struct {
	docs  map[string]string
	twice []string
}

var _ sinks.DocumentStore = (*docStore)(nil)

func (d *docStore) Documents(_ context.Context, _ string, fn func(id string, source []byte) error) error {
	ids := slices.Sorted(maps.Keys(d.docs))
	for _, id := range append(ids, d.twice...) {
		if err := fn(id, []byte(d.docs[id])); err != nil {
			return err
		}
	}
	return nil
}

func (d *docStore) Close() error { return nil }

// docConfig is the config of the test's "doc_sink" type: it opens the
// fixture's docStore for gale verify.
type docConfig struct{ store *docStore }

var _ sinks.Verifiable = (*docConfig)(nil)

func (c *docConfig) OpenStore(context.Context) (io.Closer, error) { return c.store, nil }

const (
	topoName = "t"
	topic    = "events"
)

// fixture is a topology with a kafka spout "k" reading topic "events"
// (its file ledger in a temporary directory) and the sinks its bolts
// declare: file sinks (named by their component id) and one document
// store ("index").
type fixture struct {
	t      *testing.T
	ctx    context.Context
	topo   *topology.Topology
	files  map[string]*file.Writer // by component id
	docs   *docStore
	ledger ledger.Writer
	// lost are ranges (seq, start, end) the standard run records lost
	// before it commits
	lost [][3]int64
}

// newFixture decodes a topology with the file sinks fileSinks and, when
// withDocs, the document store "index", and opens partition 0's ledger.
func newFixture(t *testing.T, withDocs bool, fileSinks ...string) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, ctx: context.Background(), files: map[string]*file.Writer{}, docs: &docStore{docs: map[string]string{}}}
	reg := registry.New()
	reg.MustRegister(kafka.Type())
	reg.MustRegister(file.Type())
	reg.MustRegister(registry.Bolt[docConfig]{Name: "doc_sink", Config: func() *docConfig { return &docConfig{store: f.docs} },
		New: func(*docConfig) (bolt.Bolt, error) { return nil, errors.New("not run in these tests") }})
	type comp struct {
		ID     string           `json:"id"`
		Type   string           `json:"type"`
		Config map[string]any   `json:"config,omitempty"`
		Inputs []topology.Input `json:"inputs"`
	}
	in := []topology.Input{{Component: "k", Grouping: topology.BatchGrouping}}
	var bolts []comp
	for _, id := range fileSinks {
		bolts = append(bolts, comp{ID: id, Type: file.TypeName, Inputs: in,
			Config: map[string]any{"dir": filepath.Join(dir, id), "no_fsync": true}})
	}
	if withDocs {
		bolts = append(bolts, comp{ID: "index", Type: "doc_sink", Inputs: in})
	}
	ledgerDir := filepath.Join(dir, "ledger")
	js, err := json.Marshal(map[string]any{"name": topoName,
		"spouts": []map[string]any{{"id": "k", "type": kafka.TypeName, "config": map[string]any{
			"brokers": []string{"127.0.0.1:1"}, "topics": []string{topic}, "ledger": map[string]any{"kind": "file", "dir": ledgerDir}}}},
		"bolts": bolts})
	if err != nil {
		t.Fatal(err)
	}
	if f.topo, err = topology.Decode(js, reg); err != nil {
		t.Fatal(err)
	}
	for _, b := range f.topo.Bolts {
		if c, ok := b.Settings.(*file.Config); ok {
			f.files[b.ID] = c.Writer()
		}
	}
	st, err := ledger.NewFileStore(ledgerDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, _, err := st.Open(f.ctx, ledger.Key{Topology: topoName, Spout: "k", Topic: topic, Partition: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	f.ledger = w
	return f
}

func (f *fixture) plan(seq uint64, start, end int64) {
	f.t.Helper()
	if err := f.ledger.Plan(f.ctx, ledger.Plan{Key: ledger.Key{Topology: topoName, Spout: "k", Topic: topic}, Seq: seq, Start: start, End: end}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) commit(seq uint64) {
	f.t.Helper()
	if err := f.ledger.Commit(f.ctx, seq); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) lose(seq uint64, start, end int64) {
	f.t.Helper()
	if err := f.ledger.Lose(f.ctx, seq, start, end); err != nil {
		f.t.Fatal(err)
	}
}

// line is the record at offset off, as every sink writes it.
func line(off int64) string { return fmt.Sprintf(`{"offset":%d}`, off) }

// meta is batch seq of partition part, named [start, end).
func meta(part int32, seq uint64, start, end int64) *tuple.BatchMeta {
	return &tuple.BatchMeta{ID: ledger.Plan{Key: ledger.Key{Topic: topic, Partition: part}, Seq: seq}.BatchID(),
		Source: topic, Partition: part, Seq: seq, Start: start, End: end}
}

// object writes, in file sink sink, batch seq of partition 0 named
// [start, end) with the records of offsets offs (nil: [start, end)).
func (f *fixture) object(sink string, seq uint64, start, end int64, offs ...int64) {
	f.t.Helper()
	f.objectOf(sink, meta(0, seq, start, end), offs...)
}

func (f *fixture) objectOf(sink string, m *tuple.BatchMeta, offs ...int64) {
	f.t.Helper()
	if offs == nil {
		for o := m.Start; o < m.End; o++ {
			offs = append(offs, o)
		}
	}
	b := &sinks.Batch{Topology: topoName, Meta: m}
	for _, o := range offs {
		b.Records = append(b.Records, sinks.Record{ID: fmt.Sprintf("%s/%d/%d", m.Source, m.Partition, o), Line: []byte(line(o))})
	}
	if _, err := f.files[sink].WriteBatch(f.ctx, b); err != nil {
		f.t.Fatal(err)
	}
}

// name is the name of batch seq's object in file sink sink.
func (f *fixture) name(sink string, seq uint64, start, end int64) string {
	return f.files[sink].Naming.Name(topoName, meta(0, seq, start, end), "")
}

// remove deletes batch seq's object from file sink sink.
func (f *fixture) remove(sink string, seq uint64, start, end int64) {
	f.t.Helper()
	if err := os.Remove(filepath.Join(f.files[sink].Dir(), filepath.FromSlash(f.name(sink, seq, start, end)))); err != nil {
		f.t.Fatal(err)
	}
}

// rename replaces, in file sink sink, the standard object of batch seq
// with one named [start, end) holding the records of those offsets.
func (f *fixture) rename(sink string, seq uint64, start, end int64) {
	f.t.Helper()
	b := batches[seq]
	f.remove(sink, seq, b[0], b[1])
	f.object(sink, seq, start, end)
}

// misnamed is r, of a sink whose object of batch seq is named [start,
// end) and mismatched for reason: the sink holds one standard batch less.
func misnamed(r SinkReport, seq uint64, start, end int64, reason string) SinkReport {
	r.Batches, r.Records = r.Batches-1, r.Records-3
	r.Mismatched = []Mismatch{{batchID(seq), objName(seq, start, end) + ": " + reason}}
	return r
}

// objName is the name of partition 0's batch seq named [start, end).
func objName(seq uint64, start, end int64) string {
	return fmt.Sprintf("t/events/00000/%012d-%019d-%019d.jsonl.lz4", seq, start, end)
}

// doc stores the document of offset off of partition 0.
func (f *fixture) doc(off int64) { f.docs.docs[fmt.Sprintf("%s/0/%d", topic, off)] = line(off) }

// The batches of the standard run: 0, 1 and 2 committed, 3 in flight.
var batches = [][2]int64{{100, 103}, {103, 106}, {106, 109}, {109, 112}}

// standard plans batches 0-3 and commits 0-2; every file sink holds the
// committed ones (and "files" also batch 3, in flight), and the document
// store every record of batches 0-3.
func (f *fixture) standard() {
	f.t.Helper()
	for seq, b := range batches {
		f.plan(uint64(seq), b[0], b[1])
	}
	for _, l := range f.lost {
		f.lose(uint64(l[0]), l[1], l[2])
	}
	for seq := range 3 {
		f.commit(uint64(seq))
	}
	for sink := range f.files {
		for seq, b := range batches[:3] {
			f.object(sink, uint64(seq), b[0], b[1])
		}
	}
	if f.files["files"] != nil {
		f.object("files", 3, 109, 112)
	}
	for o := int64(100); o < 112; o++ {
		f.doc(o)
	}
}

func batchID(seq uint64) string { return meta(0, seq, 0, 0).ID }

// clean is the report of a sink that holds the committed batches 0-2.
func clean(comp, typ string) SinkReport {
	return SinkReport{Component: comp, Type: typ, Batches: 3, Records: 9}
}

func run(t *testing.T, f *fixture) *Report {
	t.Helper()
	rep, err := Run(context.Background(), f.topo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep.Sinks {
		rep.Sinks[i].sums, rep.Sinks[i].families = nil, nil
	}
	return rep
}

func check(t *testing.T, got, want *Report, ok bool) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("report:\n%s\nwant:\n%s", g, w)
	}
	if got.OK() != ok {
		t.Errorf("OK() = %v, want %v", got.OK(), ok)
	}
}

// TestRun checks the report of gale verify for a ledger and sinks set up
// by each case: the standard run (batches 0-2 committed, 3 in flight, two
// file sinks and a document store holding them), changed by the case.
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		// lose are the ranges (seq, start, end) recorded lost
		lose [][3]int64
		// change alters the standard run
		change func(f *fixture)
		// sinks returns the sinks' reports, from the clean ones
		sinks func(files, copy, index SinkReport) []SinkReport
		lost  []LostRange
		// lostOffsets counts the lost offsets
		lostOffsets int64
		ok          bool
	}{{
		// batch 3, in flight, is held by files and not by copy: neither
		// is reported
		name:   "all present",
		change: func(*fixture) {},
		ok:     true,
	}, {
		name:   "a committed batch missing from one sink",
		change: func(f *fixture) { f.remove("copy", 1, 103, 106) },
		sinks: func(files, copy, index SinkReport) []SinkReport {
			copy.Batches, copy.Records, copy.Missing = 2, 6, []string{batchID(1)}
			return []SinkReport{files, copy, index}
		},
	}, {
		name:   "a gap",
		change: func(f *fixture) { f.rename("files", 1, 104, 106) },
		sinks: func(files, copy, index SinkReport) []SinkReport {
			files = misnamed(files, 1, 104, 106, "offsets [104, 106) do not follow batch 0, which ends at 103 (a gap or an overlap)")
			return []SinkReport{files, copy, index}
		},
	}, {
		name:   "an overlap",
		change: func(f *fixture) { f.rename("copy", 2, 105, 109) },
		sinks: func(files, copy, index SinkReport) []SinkReport {
			copy = misnamed(copy, 2, 105, 109, "offsets [105, 109) do not follow batch 1, which ends at 106 (a gap or an overlap)")
			return []SinkReport{files, copy, index}
		},
	}, {
		name:   "batch 0 not starting at the ledger's base",
		change: func(f *fixture) { f.rename("files", 0, 101, 103) },
		sinks: func(files, copy, index SinkReport) []SinkReport {
			files = misnamed(files, 0, 101, 103, "batch 0 starts at 101, the ledger's first offset is 100")
			return []SinkReport{files, copy, index}
		},
	}, {
		name:   "the last committed batch not ending at the checkpoint",
		change: func(f *fixture) { f.rename("files", 2, 106, 110) },
		sinks: func(files, copy, index SinkReport) []SinkReport {
			files = misnamed(files, 2, 106, 110, "the last committed batch ends at 110, the ledger's checkpoint at 109")
			return []SinkReport{files, copy, index}
		},
	}, {
		name: "objects never planned and a file that is no batch",
		change: func(f *fixture) {
			f.object("copy", 4, 112, 115)                                                   // the next seq, never planned
			f.objectOf("copy", meta(7, 0, 0, 3))                                            // a partition with no ledger
			f.objectOf("copy", &tuple.BatchMeta{Source: "other", Seq: 0, Start: 0, End: 1}) // a topic with no ledger
			notes := filepath.Join(f.files["copy"].Dir(), "t", "events", "00000", "notes.jsonl.lz4")
			if err := os.WriteFile(notes, []byte("hello\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			copy.Extra = []string{
				objName(4, 112, 115) + " (never planned)",
				"t/events/00000/notes.jsonl.lz4 (not a batch object name)",
				"t/events/00007/000000000000-0000000000000000000-0000000000000000003.jsonl.lz4 (never planned)",
				"t/other/00000/000000000000-0000000000000000000-0000000000000000001.jsonl.lz4 (never planned)",
			}
			return []SinkReport{files, copy, index}
		},
	}, {
		name:   "a batch in flight named with other offsets than planned",
		change: func(f *fixture) { f.object("copy", 3, 109, 111) },
		sinks: func(files, copy, index SinkReport) []SinkReport {
			copy.Mismatched = []Mismatch{{batchID(3), objName(3, 109, 111) + ": offsets [109, 111), the ledger plans [109, 112)"}}
			return []SinkReport{files, copy, index}
		},
	}, {
		name: "content that differs from the other sinks'",
		change: func(f *fixture) {
			f.object("copy", 1, 103, 106, 103, 105) // 104 left out
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			copy.Records = 8
			copy.Mismatched = []Mismatch{{batchID(1), "content differs from the other sinks'"}}
			return []SinkReport{files, copy, index}
		},
	}, {
		name: "documents that differ from the objects",
		change: func(f *fixture) {
			f.docs.docs["events/0/104"] = `{"offset":"other"}`
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			index.Mismatched = []Mismatch{{batchID(1), "content differs from the other sinks'"}}
			return []SinkReport{files, copy, index}
		},
	}, {
		name: "a document missing",
		change: func(f *fixture) {
			delete(f.docs.docs, "events/0/107")
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			index.Records = 8
			index.Mismatched = []Mismatch{{batchID(2), "content differs from the other sinks'"}}
			return []SinkReport{files, copy, index}
		},
	}, {
		name: "a document held twice",
		change: func(f *fixture) {
			f.docs.twice = []string{"events/0/100"}
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			index.Records = 10
			index.Mismatched = []Mismatch{{batchID(0), "content differs from the other sinks'"}}
			return []SinkReport{files, copy, index}
		},
	}, {
		name: "a line held twice by an object, once by the other sinks",
		change: func(f *fixture) {
			f.object("copy", 1, 103, 106, 103, 104, 104, 105)
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			copy.Records = 10
			copy.Mismatched = []Mismatch{{batchID(1), "content differs from the other sinks'"}}
			return []SinkReport{files, copy, index}
		},
	}, {
		name: "an unreadable object",
		change: func(f *fixture) {
			p := filepath.Join(f.files["copy"].Dir(), filepath.FromSlash(f.name("copy", 2, 106, 109)))
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data[:len(data)/2], 0o644); err != nil { // a torn lz4 frame
				t.Fatal(err)
			}
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			copy.Batches, copy.Records = 2, 6
			copy.Mismatched = []Mismatch{{batchID(2), objName(2, 106, 109) + ": unreadable: lz4: unexpected EOF"}}
			return []SinkReport{files, copy, index}
		},
	}, {
		name: "a batch with no document",
		change: func(f *fixture) {
			for o := 103; o < 106; o++ {
				delete(f.docs.docs, fmt.Sprintf("events/0/%d", o))
			}
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			index.Batches, index.Records, index.Missing = 2, 6, []string{batchID(1)}
			return []SinkReport{files, copy, index}
		},
	}, {
		name: "documents beyond the planned offsets, before them, and not of a tuple",
		change: func(f *fixture) {
			f.doc(112)
			f.doc(99)
			f.docs.docs["events/1/100"] = line(100)
			f.docs.docs["x"] = "{}"
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			index.Extra = []string{"document events/0/112 (never planned)", "document events/0/99 (never planned)",
				"document events/1/100 (never planned)", "document x (not a tuple id)"}
			return []SinkReport{files, copy, index}
		},
	}, {
		name: "a lost range",
		lose: [][3]int64{{1, 104, 106}},
		change: func(f *fixture) {
			// the sinks hold what was left: 103
			for _, sink := range []string{"files", "copy"} {
				f.object(sink, 1, 103, 106, 103)
			}
			delete(f.docs.docs, "events/0/104")
			delete(f.docs.docs, "events/0/105")
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			files.Records, copy.Records, index.Records = 7, 7, 7
			return []SinkReport{files, copy, index}
		},
		lost:        []LostRange{{Batch: batchID(1), Start: 104, End: 106}},
		lostOffsets: 2,
	}, {
		name: "a batch wholly lost, absent from one sink",
		lose: [][3]int64{{1, 103, 106}},
		change: func(f *fixture) {
			f.object("files", 1, 103, 106, []int64{}...) // an empty object
			f.remove("copy", 1, 103, 106)
			for o := 103; o < 106; o++ {
				delete(f.docs.docs, fmt.Sprintf("events/0/%d", o))
			}
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			files.Records = 6
			copy.Batches, copy.Records = 2, 6
			index.Batches, index.Records = 2, 6
			return []SinkReport{files, copy, index}
		},
		lost:        []LostRange{{Batch: batchID(1), Start: 103, End: 106}},
		lostOffsets: 3,
	}, {
		name: "a batch wholly lost, absent from every sink",
		lose: [][3]int64{{1, 103, 106}},
		change: func(f *fixture) {
			f.remove("files", 1, 103, 106)
			f.remove("copy", 1, 103, 106)
			for o := 103; o < 106; o++ {
				delete(f.docs.docs, fmt.Sprintf("events/0/%d", o))
			}
		},
		sinks: func(files, copy, index SinkReport) []SinkReport {
			files.Batches, files.Records = 2, 6
			copy.Batches, copy.Records = 2, 6
			index.Batches, index.Records = 2, 6
			return []SinkReport{files, copy, index}
		},
		lost:        []LostRange{{Batch: batchID(1), Start: 103, End: 106}},
		lostOffsets: 3,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, true, "files", "copy")
			f.lost = tc.lose
			f.standard()
			tc.change(f)
			files, copy, index := clean("files", file.TypeName), clean("copy", file.TypeName), clean("index", "doc_sink")
			want := &Report{Topology: topoName, Committed: 3, Pending: 1, Sinks: []SinkReport{files, copy, index},
				Lost: tc.lost, LostOffsets: tc.lostOffsets}
			if tc.sinks != nil {
				want.Sinks = tc.sinks(files, copy, index)
			}
			check(t, run(t, f), want, tc.ok)
		})
	}
}

// TestRun_TwoSinks: when two sinks hold different content for a batch,
// no majority says which is right: both are reported, unless one of them
// holds nothing of a batch the other has records of (it misses them).
func TestRun_TwoSinks(t *testing.T) {
	t.Run("two object stores", func(t *testing.T) {
		f := newFixture(t, false, "files", "copy")
		f.standard()
		f.object("copy", 1, 103, 106, 103, 105) // 104 left out
		files, copy := clean("files", file.TypeName), clean("copy", file.TypeName)
		copy.Records = 8
		files.Mismatched = []Mismatch{{batchID(1), `content differs from sink "copy"'s, and no majority says which is right`}}
		copy.Mismatched = []Mismatch{{batchID(1), `content differs from sink "files"'s, and no majority says which is right`}}
		check(t, run(t, f), &Report{Topology: topoName, Committed: 3, Pending: 1, Sinks: []SinkReport{files, copy}}, false)
	})
	t.Run("an object store and a document store without documents of a batch", func(t *testing.T) {
		f := newFixture(t, true, "files")
		f.standard()
		for o := 106; o < 109; o++ {
			delete(f.docs.docs, fmt.Sprintf("events/0/%d", o))
		}
		files, index := clean("files", file.TypeName), clean("index", "doc_sink")
		index.Batches, index.Records, index.Missing = 2, 6, []string{batchID(2)}
		check(t, run(t, f), &Report{Topology: topoName, Committed: 3, Pending: 1, Sinks: []SinkReport{files, index}}, false)
	})
}

// TestRun_DocumentStoreOnly: with no object store to name the committed
// batches' ranges, the documents in committed offsets are counted as
// unplaced, which is no failure; those beyond the plans are still extra.
func TestRun_DocumentStoreOnly(t *testing.T) {
	f := newFixture(t, true)
	f.standard()
	index := SinkReport{Component: "index", Type: "doc_sink", Unplaced: 9}
	check(t, run(t, f), &Report{Topology: topoName, Committed: 3, Pending: 1, Sinks: []SinkReport{index}}, true)

	f.doc(112)
	index.Extra = []string{"document events/0/112 (never planned)"}
	check(t, run(t, f), &Report{Topology: topoName, Committed: 3, Pending: 1, Sinks: []SinkReport{index}}, false)
}
