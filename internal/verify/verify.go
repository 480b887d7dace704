// Package verify answers the operator's question "are we missing any
// data?" (`gale verify`): it compares, for a topology, what its Kafka
// spouts' ledgers say was committed with what each sink's backend holds —
// missing, extra and mismatched batches, per sink — and reports the
// offsets the ledgers recorded lost (deleted by Kafka's retention before
// they were read).
//
// A ledger keeps no history (it is bounded: a checkpoint per partition and
// the plans in flight), so the committed batches are known by their count
// and the offsets they cover: batches 0..Committed-1 of a partition tile
// [Base, CommittedEnd) without gap or overlap. Object stores (files, S3,
// Ceph, HDFS) name every object after its batch (seq, start, end): each
// sink must hold every committed seq, and the ranges its objects name must
// tile the partition's committed range — batch 0 starting at Base, each
// next one where the previous ended, the last ending at CommittedEnd.
// Document stores (a search index, a topic) hold one document per record
// under its tuple id ("topic/partition/offset[/k]"): a document is placed
// in its batch by the ranges the object stores name (where they disagree,
// the ones that tile) and the plans in flight. Each batch's content is
// summed up with sinks.LinesSum (its lines' SHA-256 digests, sorted, hashed
// again; the records of an Avro file or the rows of a Parquet file count as
// its lines, each as its record's Avro encoding), which must agree between
// the sinks that hold it.
//
// The sinks are read at once, each object store a few objects at a time
// (Options.Parallel), each document store as fast as it streams; memory
// holds the objects being read, a checksum per batch, and 32 bytes per
// document of a document store until it has been read whole.
package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
)

// Report is the result of Run.
type Report struct {
	Topology string `json:"topology"`
	// Committed counts the batches the ledgers committed contiguously;
	// Pending those planned after them (in flight: not an error).
	Committed int `json:"committed_batches"`
	Pending   int `json:"pending_batches"`
	// Lost are the ranges of offsets the ledgers recorded lost: Kafka had
	// deleted them (retention) before the spout read them. LostOffsets
	// counts every lost offset, also those of ranges a ledger no longer
	// lists (it keeps the last ledger.MaxLost).
	Lost        []LostRange  `json:"lost,omitempty"`
	LostOffsets int64        `json:"lost_offsets,omitempty"`
	Sinks       []SinkReport `json:"sinks"`
}

// LostRange is a range of offsets of one batch recorded lost.
type LostRange struct {
	Batch string `json:"batch"`
	Start int64  `json:"start"`
	End   int64  `json:"end"`
}

// SinkReport is what one sink component holds.
type SinkReport struct {
	Component string `json:"component"`
	Type      string `json:"type"`
	// Batches and Records are what the backend holds for committed batches.
	Batches int `json:"batches"`
	Records int `json:"records"`
	// Missing are committed batches the backend lacks.
	Missing []string `json:"missing,omitempty"`
	// Extra are objects or documents of batches that were never planned.
	Extra []string `json:"extra,omitempty"`
	// Mismatched are batches whose offsets disagree with the ledger (or
	// with the batches around them), or whose content disagrees with the
	// other sinks.
	Mismatched []Mismatch `json:"mismatched,omitempty"`
	// Unplaced counts the documents (of a document store) in committed
	// offsets that no object store names a batch for: a topology whose
	// only sinks are document stores is checked by offsets only.
	Unplaced int `json:"unplaced,omitempty"`
	// Error is set when the backend could not be read.
	Error string `json:"error,omitempty"`

	sums map[string]string // batch id -> checksum
	// families: batch id -> the family of its objects' checksums:
	// "records" for Avro and Parquet files (each record summed as its
	// Avro encoding), "" for lines and documents; checksums compare
	// within a family only (a JSON line and an Avro record of the same
	// event are different bytes)
	families map[string]string
}

// Mismatch is one batch whose content is wrong.
type Mismatch struct {
	Batch  string `json:"batch"`
	Reason string `json:"reason"`
}

// OK reports whether every sink holds exactly the committed batches and
// no offset was lost.
func (r *Report) OK() bool {
	return r.SinksOK() && len(r.Lost) == 0 && r.LostOffsets == 0
}

// SinksOK reports whether every sink holds exactly the committed batches
// (less the offsets lost, if any).
func (r *Report) SinksOK() bool {
	for _, s := range r.Sinks {
		if !s.OK() {
			return false
		}
	}
	return true
}

// OK reports whether the sink could be read and holds exactly the
// committed batches.
func (s *SinkReport) OK() bool {
	return s.Error == "" && len(s.Missing)+len(s.Extra)+len(s.Mismatched) == 0
}

// part is one topic partition's ledger, and the batch ranges known so far.
type part struct {
	key ledger.Key
	st  ledger.State
	// ranges are the batches' [start, end) by seq: the plans in flight
	// (from the ledger) and the committed ones the object stores name
	ranges map[uint64][2]int64
	// lost are the lost ranges by seq
	lost map[uint64][]ledger.Lost
}

func (p *part) id(seq uint64) string {
	return ledger.Plan{Key: p.key, Seq: seq}.BatchID()
}

// committed reports whether batch seq is committed: below the contiguous
// count (a batch committed out of order after it counts as in flight).
func (p *part) committed(seq uint64) bool { return seq < p.st.Committed }

// wholeLost reports whether every offset of batch seq was lost.
func (p *part) wholeLost(seq uint64, start, end int64) bool {
	var n int64
	for _, l := range p.lost[seq] {
		n += l.End - l.Start
	}
	return n > 0 && n >= end-start
}

// Options tunes Run. The zero value is fine.
type Options struct {
	// Status, when not nil, is told what is being read, phase by phase.
	Status func(string)
	// Progress, when not nil, counts what was read while Run runs.
	Progress *Progress
	// Parallel bounds the objects read at once from each object store
	// (default DefaultParallel).
	Parallel int
}

// DefaultParallel is Options.Parallel's default: enough to keep a remote
// object store busy, few enough that the objects in memory stay small.
const DefaultParallel = 8

// Progress counts what Run has read so far. Its fields may be read while
// Run updates them.
type Progress struct {
	// Objects counts the objects of the object stores read, of
	// ObjectsTotal (known once the stores are listed).
	Objects, ObjectsTotal atomic.Int64
	// Documents counts the documents of the document stores read, of
	// about DocumentsTotal (0 when the stores cannot count them).
	Documents, DocumentsTotal atomic.Int64
}

// Run verifies topo (decoded and validated with the registry holding its
// types).
//
// It lists every object store, then reads all the sinks at once: each
// object store's objects, opts.Parallel at a time, and each document
// store's documents as they come. It keeps, per batch, the checksum of
// each object store's content and, for a document store, 32 bytes per
// document until the last one is read (sinks.LinesSum): about 32 MB for
// a million documents; objects are held only while they are summed up.
func Run(ctx context.Context, topo *topology.Topology, opts Options) (*Report, error) {
	progress := opts.Status
	if progress == nil {
		progress = func(string) {}
	}
	prog := opts.Progress
	if prog == nil {
		prog = &Progress{}
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	rep := &Report{Topology: topo.Name}
	parts := map[string]*part{} // "topic/partition"
	for _, s := range topo.Spouts {
		cfg, ok := s.Settings.(*kafka.Config)
		if !ok {
			continue
		}
		progress(fmt.Sprintf("reading the ledger of spout %q (%s)", s.ID, cfg.Ledger.Kind))
		r, closeFn, err := cfg.LedgerReader()
		if err != nil {
			return nil, fmt.Errorf("spout %q: open the ledger: %w", s.ID, err)
		}
		keys, err := r.Keys(ctx, topo.Name, s.ID)
		if err != nil {
			closeFn()
			return nil, fmt.Errorf("spout %q: list the ledger: %w", s.ID, err)
		}
		for _, k := range keys {
			st, err := r.Read(ctx, k)
			if err != nil {
				closeFn()
				return nil, fmt.Errorf("spout %q: %w", s.ID, err)
			}
			p := &part{key: k, st: st, ranges: map[uint64][2]int64{}, lost: map[uint64][]ledger.Lost{}}
			for _, pl := range st.Pending {
				p.ranges[pl.Seq] = [2]int64{pl.Start, pl.End}
			}
			for _, l := range st.Lost {
				p.lost[l.Seq] = append(p.lost[l.Seq], l)
				rep.Lost = append(rep.Lost, LostRange{Batch: p.id(l.Seq), Start: l.Start, End: l.End})
			}
			rep.LostOffsets += st.LostOffsets
			rep.Committed += int(st.Committed)
			rep.Pending += int(st.NextSeq - st.Committed)
			parts[k.Topic+"/"+strconv.Itoa(int(k.Partition))] = p
		}
		closeFn()
	}
	if len(parts) == 0 {
		return nil, errors.New("no batch in any ledger: has the topology run (with the same ledger settings)?")
	}
	// the object stores first: they name the committed batches' ranges,
	// which place the documents of the document stores
	type sinkStore struct {
		comp  *topology.Component
		store any
		close func() error
		err   error
	}
	var stores []sinkStore
	for _, b := range topo.Bolts {
		v, ok := b.Settings.(sinks.Verifiable)
		if !ok {
			continue
		}
		st, err := v.OpenStore(ctx)
		ss := sinkStore{comp: b, store: st, err: err, close: func() error { return nil }}
		if err == nil {
			ss.close = st.Close
		}
		stores = append(stores, ss)
	}
	defer func() {
		for _, s := range stores {
			s.close()
		}
	}()
	slices.SortStableFunc(stores, func(a, b sinkStore) int {
		_, ia := a.store.(sinks.Inventory)
		_, ib := b.store.(sinks.Inventory)
		switch {
		case ia && !ib:
			return -1
		case ib && !ia:
			return 1
		}
		return 0
	})
	reports := make([]SinkReport, len(stores))
	objects := make([]map[*part]map[uint64][]object, len(stores))
	for i, s := range stores {
		reports[i] = SinkReport{Component: s.comp.ID, Type: s.comp.Type, sums: map[string]string{}, families: map[string]string{}}
		if s.err != nil {
			reports[i].Error = s.err.Error()
		}
	}
	// list the object stores, all at once
	var wg sync.WaitGroup
	for i, s := range stores {
		inv, ok := s.store.(sinks.Inventory)
		if !ok || s.err != nil {
			continue
		}
		progress(fmt.Sprintf("listing sink %q (%s)", s.comp.ID, s.comp.Type))
		wg.Add(1)
		go func() {
			defer wg.Done()
			objs, err := listObjects(ctx, topo.Name, inv, parts, &reports[i])
			if err != nil {
				reports[i].Error = err.Error()
				return
			}
			objects[i] = objs
		}()
	}
	wg.Wait()
	for _, p := range parts {
		learnRanges(p, objects)
	}
	// read every sink, all at once
	for i, s := range stores {
		if reports[i].Error != "" {
			continue
		}
		switch st := s.store.(type) {
		case sinks.Inventory:
			work := planObjects(parts, objects[i], &reports[i])
			n := 0
			for _, w := range work {
				n += len(w.objs)
			}
			prog.ObjectsTotal.Add(int64(n))
			progress(fmt.Sprintf("reading sink %q (%s): %d objects", s.comp.ID, s.comp.Type, n))
			wg.Add(1)
			go func() {
				defer wg.Done()
				readObjects(ctx, st, work, parallel, prog, &reports[i])
			}()
		case sinks.DocumentStore:
			if c, ok := st.(sinks.DocumentCounter); ok {
				if n, err := c.CountDocuments(ctx, topo.Name); err == nil {
					prog.DocumentsTotal.Add(n)
				}
			}
			progress(fmt.Sprintf("reading sink %q (%s)", s.comp.ID, s.comp.Type))
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := checkDocuments(ctx, topo.Name, st, parts, prog, &reports[i]); err != nil {
					reports[i].Error = err.Error()
				}
			}()
		default:
			reports[i].Error = fmt.Sprintf("%T can be neither listed nor searched", s.store)
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// the report lists the sinks in the topology's order
	order := map[string]int{}
	for i, b := range topo.Bolts {
		order[b.ID] = i
	}
	sort.SliceStable(reports, func(a, b int) bool { return order[reports[a].Component] < order[reports[b].Component] })
	rep.Sinks = reports
	sort.Slice(rep.Lost, func(a, b int) bool { return rep.Lost[a].Batch < rep.Lost[b].Batch })
	crossCheck(rep)
	return rep, nil
}

// object is one stored object of a batch.
type object struct {
	name       string
	start, end int64
}

// listObjects lists inv's objects of topology by partition and seq; the
// objects of no partition or of a seq never planned are extra.
func listObjects(ctx context.Context, topology string, inv sinks.Inventory, parts map[string]*part, sr *SinkReport) (map[*part]map[uint64][]object, error) {
	names, err := inv.Objects(ctx, topology)
	if err != nil {
		return nil, err
	}
	out := map[*part]map[uint64][]object{}
	for _, name := range names {
		m, ok := sinks.ParseName(name, "")
		if !ok {
			sr.Extra = append(sr.Extra, name+" (not a batch object name)")
			continue
		}
		p := parts[m.Source+"/"+strconv.Itoa(int(m.Partition))]
		if p == nil || m.Seq >= p.st.NextSeq {
			sr.Extra = append(sr.Extra, name+" (never planned)")
			continue
		}
		if out[p] == nil {
			out[p] = map[uint64][]object{}
		}
		out[p][m.Seq] = append(out[p][m.Seq], object{name: name, start: m.Start, end: m.End})
	}
	return out, nil
}

// learnRanges sets the ranges of p's committed batches (those in flight
// are the ledger's plans) from what the object stores name. Where they
// disagree, the range that tiles wins — it starts where the batch before
// ends (at Base for batch 0) and ends where the next one starts (at
// CommittedEnd for the last) — then the one most stores name, then the
// first store's: a store's bad object must not place the documents of a
// document store wrongly, which would blame the stores that are right.
// A batch no store names (wholly lost, its records never written; or
// missing everywhere) lies between its neighbours, plans being contiguous.
func learnRanges(p *part, stores []map[*part]map[uint64][]object) {
	named := map[uint64][][2]int64{} // by seq, one range per store that names it
	for _, objs := range stores {
		for seq, os := range objs[p] {
			if len(os) > 0 {
				named[seq] = append(named[seq], [2]int64{os[0].start, os[0].end})
			}
		}
	}
	// nextStarts are where batch seq may start
	nextStarts := func(seq uint64) map[int64]bool {
		if rg, ok := p.ranges[seq]; ok {
			return map[int64]bool{rg[0]: true}
		}
		if seq == p.st.Committed {
			return map[int64]bool{p.st.CommittedEnd: true}
		}
		out := map[int64]bool{}
		for _, rg := range named[seq] {
			out[rg[0]] = true
		}
		return out
	}
	prevEnd := p.st.Base
	for seq := range p.st.Committed {
		cands := named[seq]
		if len(cands) == 0 {
			prevEnd = -1
			continue
		}
		next := nextStarts(seq + 1)
		score := func(rg [2]int64) [2]int {
			fit := 0
			if prevEnd >= 0 && rg[0] == prevEnd {
				fit++
			}
			if next[rg[1]] {
				fit++
			}
			votes := 0
			for _, c := range cands {
				if c == rg {
					votes++
				}
			}
			return [2]int{fit, votes}
		}
		best := cands[0]
		for _, c := range cands[1:] {
			if sc, sb := score(c), score(best); sc[0] > sb[0] || sc[0] == sb[0] && sc[1] > sb[1] {
				best = c
			}
		}
		p.ranges[seq] = best
		prevEnd = best[1]
	}
	for seq := range p.st.Committed {
		if _, known := p.ranges[seq]; known {
			continue
		}
		start, end := p.st.Base, p.st.CommittedEnd
		if seq > 0 {
			prev, ok := p.ranges[seq-1]
			if !ok {
				continue
			}
			start = prev[1]
		}
		if seq+1 < p.st.Committed {
			next, ok := p.ranges[seq+1]
			if !ok {
				continue
			}
			end = next[0]
		}
		if start < end {
			p.ranges[seq] = [2]int64{start, end}
		}
	}
}

// batchObjects are the objects of one batch to read and sum up.
type batchObjects struct {
	id        string
	committed bool
	objs      []object
}

// planObjects checks one object store against the ledgers: every
// committed batch present, the ranges tiling [Base, CommittedEnd), the
// plans in flight matching. It returns the batches whose objects are to be
// read, in partition and seq order.
func planObjects(parts map[string]*part, objs map[*part]map[uint64][]object, sr *SinkReport) []batchObjects {
	var work []batchObjects
	for _, p := range sortedParts(parts) {
		bySeq := objs[p]
		prevEnd := p.st.Base
		for seq := range p.st.NextSeq {
			os := bySeq[seq]
			id := p.id(seq)
			if len(os) == 0 {
				if p.committed(seq) {
					rg, known := p.ranges[seq]
					switch {
					case known && p.wholeLost(seq, rg[0], rg[1]):
						// lost, and reported so: not missing
					default:
						sr.Missing = append(sr.Missing, id)
					}
					if known {
						prevEnd = rg[1]
					} else {
						prevEnd = -1 // unknown: the next batch's start is not checked
					}
				}
				continue
			}
			start, end := os[0].start, os[0].end
			bad := ""
			for _, o := range os[1:] {
				if o.start != start || o.end != end {
					bad = fmt.Sprintf("%s names offsets [%d, %d), %s [%d, %d)", os[0].name, start, end, o.name, o.start, o.end)
				}
			}
			if bad == "" {
				if pl, inFlight := p.ranges[seq]; !p.committed(seq) && inFlight && (pl[0] != start || pl[1] != end) {
					bad = fmt.Sprintf("%s: offsets [%d, %d), the ledger plans [%d, %d)", os[0].name, start, end, pl[0], pl[1])
				} else if p.committed(seq) && prevEnd >= 0 && start != prevEnd {
					if seq == 0 {
						bad = fmt.Sprintf("%s: batch 0 starts at %d, the ledger's first offset is %d", os[0].name, start, prevEnd)
					} else {
						bad = fmt.Sprintf("%s: offsets [%d, %d) do not follow batch %d, which ends at %d (a gap or an overlap)", os[0].name, start, end, seq-1, prevEnd)
					}
				} else if seq+1 == p.st.Committed && end != p.st.CommittedEnd {
					bad = fmt.Sprintf("%s: the last committed batch ends at %d, the ledger's checkpoint at %d", os[0].name, end, p.st.CommittedEnd)
				}
			}
			if p.committed(seq) {
				prevEnd = end
			}
			if bad != "" {
				sr.Mismatched = append(sr.Mismatched, Mismatch{id, bad})
				continue
			}
			work = append(work, batchObjects{id: id, committed: p.committed(seq), objs: os})
		}
	}
	return work
}

// readObjects reads and sums up the objects of work, parallel at a time:
// an object that cannot be read makes its batch mismatched; the
// committed batches' checksums go to sr.sums. A worker holds one object
// at a time.
func readObjects(ctx context.Context, inv sinks.Inventory, work []batchObjects, parallel int, prog *Progress, sr *SinkReport) {
	type result struct {
		sum        string
		records    int
		unreadable *Mismatch
	}
	results := make([]result, len(work))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(parallel, len(work)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(work) || ctx.Err() != nil {
					return
				}
				b := &work[k]
				var sum sinks.LinesSum
				for _, o := range b.objs {
					data, err := inv.Read(ctx, o.name)
					prog.Objects.Add(1)
					if err != nil {
						results[k].unreadable = &Mismatch{b.id, fmt.Sprintf("%s: unreadable: %v", o.name, err)}
						break
					}
					if err := sum.AddObject(o.name, data); err != nil {
						results[k].unreadable = &Mismatch{b.id, fmt.Sprintf("%s: unreadable: %v", o.name, err)}
						break
					}
				}
				if results[k].unreadable == nil {
					results[k].records = sum.Len()
					results[k].sum = sum.Sum()
				}
			}
		}()
	}
	wg.Wait()
	for k, r := range results {
		switch {
		case r.unreadable != nil:
			sr.Mismatched = append(sr.Mismatched, *r.unreadable)
		case work[k].committed:
			sr.Batches++
			sr.Records += r.records
			sr.sums[work[k].id] = r.sum
			if sinks.ContainerFormat(work[k].objs[0].name) != "" {
				sr.families[work[k].id] = "records" // Avro and Parquet: each record's Avro encoding
			}
		}
	}
}

// checkDocuments places every document of a document store in its batch,
// by its id's offset and the batch ranges known, and sums the batches up.
// A committed batch with no document may be empty (every record filtered
// out): the cross-check against the object stores decides.
func checkDocuments(ctx context.Context, topology string, st sinks.DocumentStore, parts map[string]*part, prog *Progress, sr *SinkReport) error {
	type span struct {
		seq        uint64
		start, end int64
		id         string // the batch's
	}
	spans := map[*part][]span{}
	for _, p := range parts {
		for seq, rg := range p.ranges {
			spans[p] = append(spans[p], span{seq, rg[0], rg[1], p.id(seq)})
		}
		slices.SortFunc(spans[p], func(a, b span) int { return int(a.start - b.start) })
	}
	sums := map[string]*sinks.LinesSum{}
	unplaced := 0
	err := st.Documents(ctx, topology, func(id string, source []byte) error {
		prog.Documents.Add(1)
		// topic/partition/offset[/k]
		topic, rest, ok1 := strings.Cut(id, "/")
		partition, rest, ok2 := strings.Cut(rest, "/")
		offset, _, _ := strings.Cut(rest, "/")
		if !ok1 || !ok2 {
			sr.Extra = append(sr.Extra, "document "+id+" (not a tuple id)")
			return nil
		}
		p := parts[id[:len(topic)+1+len(partition)]]
		off, err := strconv.ParseInt(offset, 10, 64)
		if p == nil || err != nil || (p.st.NextStart >= 0 && off >= p.st.NextStart) || (p.st.Base >= 0 && off < p.st.Base) {
			sr.Extra = append(sr.Extra, "document "+id+" (never planned)")
			return nil
		}
		ss := spans[p]
		i := sort.Search(len(ss), func(i int) bool { return ss[i].end > off })
		if i == len(ss) || ss[i].start > off {
			unplaced++ // a batch whose range no object store names
			return nil
		}
		if p.committed(ss[i].seq) {
			bid := ss[i].id
			sum := sums[bid]
			if sum == nil {
				sum = &sinks.LinesSum{}
				sum.Grow(int(min(ss[i].end-ss[i].start, 1<<12)))
				sums[bid] = sum
			}
			sum.Add(source)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sr.Unplaced = unplaced
	for _, p := range parts {
		for seq := range p.st.Committed {
			if _, known := p.ranges[seq]; !known {
				continue
			}
			id := p.id(seq)
			sum := sums[id]
			if sum == nil {
				sr.sums[id] = sinks.LinesChecksum(nil)
				continue
			}
			sr.Batches++
			sr.Records += sum.Len()
			sr.sums[id] = sum.Sum()
			delete(sums, id)
		}
	}
	return nil
}

func sortedParts(parts map[string]*part) []*part {
	out := make([]*part, 0, len(parts))
	for _, p := range parts {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *part) int {
		if c := strings.Compare(a.key.Topic, b.key.Topic); c != 0 {
			return c
		}
		return int(a.key.Partition - b.key.Partition)
	})
	return out
}

// crossCheck flags, for each batch, the sinks whose checksum differs from
// the one most sinks agree on: a sink that holds no records of it misses
// them, another one's content differs. When no checksum has more votes
// than every other (two sinks that disagree), nothing says which sink is
// right: each is flagged, naming the others — except that a sink with
// records is not blamed for disagreeing with sinks that hold none. Sinks
// compare within their family only: Avro and Parquet files with each
// other (both summed record by record as Avro encodings), lines and
// documents with each other.
func crossCheck(rep *Report) {
	empty := sinks.LinesChecksum(nil)
	ids := map[string]bool{}
	for _, s := range rep.Sinks {
		for id := range s.sums {
			ids[id] = true
		}
	}
	for id := range ids {
		families := map[string]bool{}
		for _, s := range rep.Sinks {
			if _, ok := s.sums[id]; ok {
				families[s.families[id]] = true
			}
		}
		for fam := range families {
			crossCheckBatch(rep, id, empty, func(s *SinkReport) (string, bool) {
				sum, ok := s.sums[id]
				return sum, ok && s.families[id] == fam
			})
		}
	}
	for i := range rep.Sinks {
		s := &rep.Sinks[i]
		sort.Strings(s.Missing)
		sort.Strings(s.Extra)
		sort.Slice(s.Mismatched, func(a, b int) bool { return s.Mismatched[a].Batch < s.Mismatched[b].Batch })
	}
}

// crossCheckBatch is crossCheck of batch id among the sinks whose
// checksum get returns.
func crossCheckBatch(rep *Report, id, empty string, get func(*SinkReport) (string, bool)) {
	votes := map[string]int{}
	for i := range rep.Sinks {
		if sum, ok := get(&rep.Sinks[i]); ok {
			votes[sum]++
		}
	}
	if len(votes) < 2 {
		return
	}
	// the checksums with the most votes, sorted
	var top []string
	n := 0
	for sum, v := range votes {
		switch {
		case v > n:
			top, n = []string{sum}, v
		case v == n:
			top = append(top, sum)
		}
	}
	slices.Sort(top)
	if len(top) == 2 && slices.Contains(top, empty) {
		top = slices.DeleteFunc(top, func(s string) bool { return s == empty })
	}
	for i := range rep.Sinks {
		s := &rep.Sinks[i]
		sum, ok := get(s)
		switch {
		case !ok || len(top) == 1 && sum == top[0]:
		case sum == empty:
			s.Missing = append(s.Missing, id) // no records, where other sinks hold some
		case len(top) == 1:
			s.Mismatched = append(s.Mismatched, Mismatch{id, "content differs from the other sinks'"})
		default:
			var others []string
			for _, o := range rep.Sinks {
				if osum, ok := get(&o); ok && osum != sum && osum != empty {
					others = append(others, strconv.Quote(o.Component)+"'s")
				}
			}
			s.Mismatched = append(s.Mismatched, Mismatch{id, fmt.Sprintf("content differs from sink %s, and no majority says which is right",
				strings.Join(others, ", sink "))})
		}
	}
}
