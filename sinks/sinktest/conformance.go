package sinktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
)

// Backend is a sink type under the conformance suite, with what the suite
// needs to point it at a backend of its own.
type Backend[C any] struct {
	// Type is the sink type, as registered.
	Type registry.Bolt[C]
	// Config returns the type's own config keys for a run writing to a
	// place of its own named place (unique within the test): a directory,
	// a pool namespace, an index pattern, a topic... The suite adds the
	// keys of sinks.Common it needs (field, time_partition, backoff,
	// dead_letter_dir).
	Config func(t testing.TB, place string) map[string]any
	// Source, if set, returns the name of the runs' source (the topic the
	// batches come from) for a run writing to place; default "ev". A sink
	// that records the source's offsets in the source's own Kafka topic
	// needs a real one.
	Source func(t testing.TB, place string) string
	// NoTimePartition: the backend has no time partitioning (a topic).
	NoTimePartition bool
	// NoPaths: the backend's names are not paths (a topic, an index), so
	// path containment does not apply.
	NoPaths bool
	// Wrap, if set, adapts each task's Writer (faster retries in tests).
	Wrap func(sinks.Writer) sinks.Writer
	// Check, if set, checks what a run left in place beyond the suite's
	// checks: leftovers (temporary files, parts), metadata (xattrs, user
	// metadata), an independent reader.
	Check func(t testing.TB, place string, got Stored)
}

// Stored is what a run left in its backend, read back through the sink's
// own store (sinks.Verifiable.OpenStore: what `gale verify` reads).
type Stored struct {
	// Objects: object name -> content, decoded (object stores).
	Objects map[string][]byte
	// Raw: object name -> bytes as stored (compressed, encrypted).
	Raw map[string][]byte
	// Docs: document id -> source (document stores).
	Docs map[string][]byte
}

func (s Stored) empty() bool { return len(s.Objects)+len(s.Docs) == 0 }

// Conformance runs the suite every sink passes, each part a subtest:
//
//   - ReplayIdentity: a run whose batches replay (failed tuples) and whose
//     writes fail and are retried leaves exactly what a clean run leaves:
//     the same names with the same stored bytes (the same documents, id by
//     id); every record once, in the object of its time bucket, in tuple-id
//     order within an object.
//   - IdempotentRewrite: the same batches written again into the same place
//     (a replay after a crash) change nothing: same names, same bytes.
//   - Outage: with the backend failing every write for a while, the sink
//     retries with backoff, holds at most the batches in flight (max spout
//     pending) and its writes at most max_inflight per task, while the
//     spout emits no new batch (backpressure); then everything is written,
//     once.
//   - DeadLetters: records the backend rejects for good go to dead-letter
//     files named like their batch, with the reason and the record; the
//     batch completes without them; a replay rewrites the same file.
//   - Inventory: the sink's store (what `gale verify` reads) lists exactly
//     the committed batches: names that parse back to the planned batch,
//     offsets that tile each partition, content whose checksum is the
//     batch's.
//   - PathContainment: a source named ".." and one holding "/" still write
//     under <prefix>/<topology>/, and read back (not run for NoPaths).
func Conformance[C any](t *testing.T, b Backend[C]) {
	s := &suite[C]{b: b}
	var clean Stored
	t.Run("ReplayIdentity", func(t *testing.T) { clean = s.replayIdentity(t) })
	t.Run("IdempotentRewrite", func(t *testing.T) { s.idempotentRewrite(t, clean) })
	t.Run("Outage", s.outage)
	t.Run("DeadLetters", s.deadLetters)
	t.Run("Inventory", func(t *testing.T) { s.inventory(t, clean) })
	if !b.NoPaths {
		t.Run("PathContainment", s.pathContainment)
	}
}

type suite[C any] struct {
	b Backend[C]

	mu    sync.Mutex // guards clean
	clean struct {
		place, source string
		config        string
	}
}

var places sync.Map // test name -> count, for unique places

// place returns a place name unique in the process for the test.
func place(t testing.TB, what string) string {
	n, _ := places.LoadOrStore(t.Name()+"/"+what, new(int))
	*(n.(*int))++
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	return fmt.Sprintf("%s-%s-%d-%d", name, what, os.Getpid()%100000, *(n.(*int)))
}

// config returns the sink's JSON config for a run writing to place.
func (s *suite[C]) config(t testing.TB, place string) string {
	t.Helper()
	cfg := s.b.Config(t, place)
	for k, v := range map[string]any{"field": "value", "min_backoff_ms": 5, "max_backoff_ms": 20,
		"dead_letter_dir": filepath.Join(t.TempDir(), "dlq")} {
		if _, set := cfg[k]; !set {
			cfg[k] = v
		}
	}
	if !s.b.NoTimePartition {
		if _, set := cfg["time_partition"]; !set {
			cfg["time_partition"] = sinks.PartitionHour
		}
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

func (s *suite[C]) source(t testing.TB, place string) string {
	if s.b.Source != nil {
		return s.b.Source(t, place)
	}
	return "ev"
}

// run runs r writing with config (for topology "conformance").
func (s *suite[C]) run(t testing.TB, r *run, config string) {
	t.Helper()
	wrap := r.wrap
	r.wrap = func(w sinks.Writer) sinks.Writer {
		if s.b.Wrap != nil {
			w = s.b.Wrap(w)
		}
		if wrap != nil {
			w = wrap(w)
		}
		return w
	}
	start(t, r, topologyName, s.b.Type, config)
}

// topologyName is the runs' topology.
const topologyName = "conformance"

// read reads back what the runs with config left, through the sink's own
// store.
func (s *suite[C]) read(t testing.TB, config string) Stored {
	t.Helper()
	ct, err := registry.Describe(s.b.Type)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := ct.DecodeSettings([]byte(config), "config")
	if err != nil {
		t.Fatal(err)
	}
	v, ok := settings.(sinks.Verifiable)
	if !ok {
		t.Fatalf("%s's config %T is not a sinks.Verifiable: gale verify cannot read what it writes", s.b.Type.Name, settings)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := v.OpenStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var got Stored
	switch st := store.(type) {
	case sinks.Inventory:
		names, err := st.Objects(ctx, topologyName)
		if err != nil {
			t.Fatal(err)
		}
		got.Objects, got.Raw = map[string][]byte{}, map[string][]byte{}
		for _, n := range names {
			if got.Objects[n], err = st.Read(ctx, n); err != nil {
				t.Fatalf("read %s: %v", n, err)
			}
			if got.Raw[n], err = st.Get(ctx, n); err != nil {
				t.Fatalf("get %s: %v", n, err)
			}
		}
	case sinks.DocumentStore:
		got.Docs = map[string][]byte{}
		err := st.Documents(ctx, topologyName, func(id string, source []byte) error {
			if _, dup := got.Docs[id]; dup {
				return fmt.Errorf("document %s read twice", id)
			}
			got.Docs[id] = bytes.Clone(source)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("%s's store %T is neither a sinks.Inventory nor a sinks.DocumentStore", s.b.Type.Name, store)
	}
	return got
}

// checkAll checks that got holds every record of source once: in the
// object of its time bucket, in tuple-id order within an object (object
// stores), or as the document of its id (document stores). except are
// records that must be absent (dead-lettered).
func (s *suite[C]) checkAll(t testing.TB, got Stored, source string, except func(g int) bool) {
	t.Helper()
	if except == nil {
		except = func(int) bool { return false }
	}
	seen := map[int]int{}
	for name, content := range got.Objects {
		m, ok := sinks.ParseName(name, "")
		if !ok || m.Source != source {
			t.Errorf("object %s does not name a batch of source %q", name, source)
			continue
		}
		last := -1
		for _, line := range sinks.SplitLines(content) {
			var n int
			if _, err := fmt.Sscanf(string(line), `{"n":%d,`, &n); err != nil {
				t.Fatalf("%s: line %q", name, line)
			}
			if !s.b.NoTimePartition {
				if hour := Time(n).Format("dt=2006-01-02/hh=15"); !strings.Contains(name, "/"+hour+"/") {
					t.Errorf("record %d in %s, want hour %s", n, name, hour)
				}
			}
			if n <= last {
				t.Errorf("%s: record %d after %d: not in tuple-id order", name, n, last)
			}
			last = n
			seen[n]++
		}
	}
	for id, doc := range got.Docs {
		var n int
		if _, err := fmt.Sscanf(string(doc), `{"n":%d,`, &n); err != nil {
			t.Errorf("document %s: %q", id, doc)
			continue
		}
		if want := ID(source, n) + "/0"; id != want || string(doc) != Line(n) {
			t.Errorf("document %s is %s, want %s as %s", id, doc, Line(n), want)
		}
		seen[n]++
	}
	for g := range Batches * Records {
		want := 1
		if except(g) {
			want = 0
		}
		if seen[g] != want {
			t.Errorf("record %d written %d times, want %d", g, seen[g], want)
		}
	}
}

// same fails unless a and b hold the same names with the same bytes (the
// same documents).
func same(t testing.TB, what string, a, b Stored) {
	t.Helper()
	if a.empty() {
		t.Fatalf("%s: the first run left nothing", what)
	}
	for _, c := range []struct {
		kind string
		a, b map[string][]byte
	}{{"object", a.Raw, b.Raw}, {"object (decoded)", a.Objects, b.Objects}, {"document", a.Docs, b.Docs}} {
		for _, n := range slices.Sorted(maps.Keys(c.a)) {
			if bv, ok := c.b[n]; !ok {
				t.Errorf("%s: %s %s: only in the first run", what, c.kind, n)
			} else if !bytes.Equal(c.a[n], bv) {
				t.Errorf("%s: %s %s differs (%d vs %d bytes)", what, c.kind, n, len(c.a[n]), len(bv))
			}
		}
		for n := range c.b {
			if _, ok := c.a[n]; !ok {
				t.Errorf("%s: %s %s: only in the second run", what, c.kind, n)
			}
		}
	}
}

func (s *suite[C]) replayIdentity(t *testing.T) Stored {
	cleanPlace, chaosPlace := place(t, "clean"), place(t, "chaos")
	cleanCfg, chaosCfg := s.config(t, cleanPlace), s.config(t, chaosPlace)
	clean := &run{source: s.source(t, cleanPlace)}
	s.run(t, clean, cleanCfg)
	chaosRun := &run{source: s.source(t, chaosPlace), failOnce: chaos, writeFails: 5}
	s.run(t, chaosRun, chaosCfg)
	if clean.spoutFails.Load() != 0 || clean.sinkRetries != 0 {
		t.Fatalf("the clean run had %d failed batches and %d write retries", clean.spoutFails.Load(), clean.sinkRetries)
	}
	if chaosRun.spoutFails.Load() < int64(len(chaos)) || chaosRun.sinkRetries < chaosRun.writeFails {
		t.Fatalf("the chaos run had %d failed batches and %d retries; it injects %d and %d",
			chaosRun.spoutFails.Load(), chaosRun.sinkRetries, len(chaos), chaosRun.writeFails)
	}
	a, b := s.read(t, cleanCfg), s.read(t, chaosCfg)
	t.Logf("%d objects, %d documents; chaos run: %d failed batches, %d write retries",
		len(a.Objects), len(a.Docs), chaosRun.spoutFails.Load(), chaosRun.sinkRetries)
	if s.b.Check != nil {
		s.b.Check(t, cleanPlace, a)
		s.b.Check(t, chaosPlace, b)
	}
	if clean.source != chaosRun.source {
		// the names hold the source: compare under the clean run's name
		b = rename(b, chaosRun.source, clean.source)
	}
	same(t, "clean vs chaos", a, b)
	s.checkAll(t, a, clean.source, nil)
	s.mu.Lock()
	s.clean.place, s.clean.source, s.clean.config = cleanPlace, clean.source, cleanCfg
	s.mu.Unlock()
	return a
}

// rename maps the names and ids of source from to source to.
func rename(s Stored, from, to string) Stored {
	m := func(in map[string][]byte, old, new string) map[string][]byte {
		if in == nil {
			return nil
		}
		out := make(map[string][]byte, len(in))
		for k, v := range in {
			out[strings.Replace(k, old, new, 1)] = v
		}
		return out
	}
	return Stored{Objects: m(s.Objects, "/"+sinks.Segment(from)+"/", "/"+sinks.Segment(to)+"/"),
		Raw:  m(s.Raw, "/"+sinks.Segment(from)+"/", "/"+sinks.Segment(to)+"/"),
		Docs: m(s.Docs, from+"/", to+"/")}
}

func (s *suite[C]) idempotentRewrite(t *testing.T, clean Stored) {
	s.mu.Lock()
	c := s.clean
	s.mu.Unlock()
	if c.config == "" || clean.empty() {
		t.Skip("SKIPPED LOUDLY: ReplayIdentity failed; nothing to rewrite")
	}
	again := &run{source: c.source, failOnce: chaos}
	s.run(t, again, c.config)
	same(t, "written again", clean, s.read(t, c.config))
}

func (s *suite[C]) outage(t *testing.T) {
	p := place(t, "outage")
	cfg := s.config(t, p)
	var down atomic.Bool // the backend is "down": every write fails
	var failed atomic.Int64
	down.Store(true)
	r := &run{source: s.source(t, p)}
	r.wrap = func(w sinks.Writer) sinks.Writer {
		return intercept(w, func() error {
			if down.Load() {
				failed.Add(1)
				return ErrInjected
			}
			return nil
		})
	}
	var maxHeld, maxWriting, sentDuring int64
	r.during = func(r *run) {
		// the outage lasts until the sink has retried a dozen times and
		// the spout has had time to run ahead, were it not held back
		start := time.Now()
		for time.Since(start) < time.Minute && (failed.Load() < 12 || time.Since(start) < 500*time.Millisecond) {
			held, writing := r.held()
			maxHeld, maxWriting = max(maxHeld, held), max(maxWriting, writing)
			time.Sleep(2 * time.Millisecond)
		}
		sentDuring = r.sent.Load()
		down.Store(false)
	}
	s.run(t, r, cfg)
	t.Logf("outage: %d writes failed and were retried; the source sent %d batches during it; the sink held at most %d tuples and wrote at most %d batches at once",
		failed.Load(), sentDuring, maxHeld, maxWriting)
	if failed.Load() < 12 {
		t.Fatalf("only %d writes failed: the outage tested nothing", failed.Load())
	}
	if sentDuring > MaxPending {
		t.Errorf("the source sent %d batches while every write failed: backpressure did not hold it at max spout pending (%d)", sentDuring, MaxPending)
	}
	if maxHeld > MaxPending*Records {
		t.Errorf("the sink held %d tuples: more than the batches in flight (%d)", maxHeld, MaxPending*Records)
	}
	if maxWriting > 2*2 {
		t.Errorf("the sink wrote %d batches at once: more than max_inflight (2) per task (2)", maxWriting)
	}
	s.checkAll(t, s.read(t, cfg), r.source, nil)
}

func (s *suite[C]) deadLetters(t *testing.T) {
	p := place(t, "dlq")
	var cfg map[string]any
	if err := json.Unmarshal([]byte(s.config(t, p)), &cfg); err != nil {
		t.Fatal(err)
	}
	dlq := filepath.Join(t.TempDir(), "dlq")
	cfg["dead_letter_dir"] = dlq
	js, _ := json.Marshal(cfg)
	r := &run{source: s.source(t, p), failOnce: chaos, wrap: func(w sinks.Writer) sinks.Writer { return rejecting{w} }}
	s.run(t, r, string(js))
	if r.spoutFails.Load() < int64(len(chaos)) {
		t.Fatalf("%d replays, want at least %d", r.spoutFails.Load(), len(chaos))
	}
	dead := map[string]string{}
	files := 0
	err := filepath.WalkDir(dlq, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		rel, _ := filepath.Rel(dlq, path)
		if !strings.HasPrefix(filepath.ToSlash(rel), "sink/"+topologyName+"/"+sinks.Segment(r.source)+"/") {
			t.Errorf("dead-letter file %s: want it under <dir>/<component>/<topology>/<source>/", rel)
		}
		m, ok := sinks.ParseName(filepath.ToSlash(rel), ".jsonl")
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, line := range sinks.SplitLines(data) {
			var d struct{ ID, Batch, Sink, Error, Record string }
			if err := json.Unmarshal(line, &d); err != nil {
				return fmt.Errorf("%s: %q: %w", rel, line, err)
			}
			if d.Sink != "sink" || !strings.Contains(d.Error, "mapper_parsing_exception") || !strings.Contains(d.Record, `"value":"{\"n\":`) {
				t.Errorf("dead letter %+v", d)
			}
			if !ok || d.Batch != m.ID {
				t.Errorf("%s holds a dead letter of batch %s", rel, d.Batch)
			}
			if _, dup := dead[d.ID]; dup {
				t.Errorf("%s dead-lettered twice", d.ID)
			}
			dead[d.ID] = d.Batch
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for g := range Batches * Records {
		if rejected(ID(r.source, g) + "/0") {
			want++
			if _, ok := dead[ID(r.source, g)+"/0"]; !ok {
				t.Errorf("record %d was rejected but is in no dead-letter file", g)
			}
		}
	}
	if len(dead) != want || files == 0 {
		t.Errorf("%d dead letters in %d files, want %d", len(dead), files, want)
	}
	s.checkAll(t, s.read(t, string(js)), r.source, func(g int) bool { return rejected(ID(r.source, g) + "/0") })
}

func (s *suite[C]) inventory(t *testing.T, got Stored) {
	s.mu.Lock()
	c := s.clean
	s.mu.Unlock()
	if got.empty() {
		t.Skip("SKIPPED LOUDLY: ReplayIdentity failed; no store to check")
	}
	// what gale verify does: place every object or document in its
	// planned batch and sum the batch's lines up
	lines := map[string][][]byte{}
	for name, content := range got.Objects {
		m, ok := sinks.ParseName(name, "")
		if !ok {
			t.Errorf("%s does not parse back to a batch", name)
			continue
		}
		b := -1
		for k := range Batches {
			if plan := batchOf(c.source, k); plan.ID == m.ID {
				b = k
				if m.Start != plan.Start || m.End != plan.End || m.Partition != plan.Partition || m.Seq != plan.Seq {
					t.Errorf("%s: batch %s [%d, %d), the plan says [%d, %d)", name, m.ID, m.Start, m.End, plan.Start, plan.End)
				}
			}
		}
		if b < 0 {
			t.Errorf("%s: batch %s was never planned", name, m.ID)
			continue
		}
		lines[m.ID] = append(lines[m.ID], sinks.SplitLines(content)...)
	}
	for id, doc := range got.Docs {
		var n int
		fmt.Sscanf(string(doc), `{"n":%d,`, &n)
		plan := batchOf(c.source, n/Records)
		if !strings.HasPrefix(id, fmt.Sprintf("%s/%d/", c.source, plan.Partition)) {
			t.Errorf("document %s: not of partition %d", id, plan.Partition)
		}
		lines[plan.ID] = append(lines[plan.ID], doc)
	}
	for k := range Batches {
		plan := batchOf(c.source, k)
		var want [][]byte
		for i := range Records {
			want = append(want, []byte(Line(k*Records+i)))
		}
		if got, want := sinks.LinesChecksum(lines[plan.ID]), sinks.LinesChecksum(want); got != want {
			t.Errorf("batch %s: checksum %s, want %s (%d lines)", plan.ID, got, want, len(lines[plan.ID]))
		}
	}
}

func (s *suite[C]) pathContainment(t *testing.T) {
	for _, src := range []string{"..", "a/b"} {
		p := place(t, "path")
		cfg := s.config(t, p)
		r := &run{source: src}
		s.run(t, r, cfg)
		got := s.read(t, cfg)
		for name := range got.Objects {
			if !strings.Contains(name, topologyName+"/"+sinks.Segment(src)+"/") || strings.Contains(name, "/../") {
				t.Errorf("source %q: object %s is not under <topology>/<source>/", src, name)
			}
		}
		s.checkAll(t, got, src, nil)
		if s.b.Check != nil {
			s.b.Check(t, p, got)
		}
	}
}
