// Package verify answers the operator's question "are we missing any
// data?" (`gale verify`): it compares, for a topology, the batches its
// Kafka spouts committed in their ledgers with what each sink's backend
// holds — missing, extra and mismatched batches, per sink.
//
// Object stores (file, Ceph, HDFS) are listed and read back: every
// committed batch must have its object(s), named with the planned offsets;
// an object of a batch that was never planned is extra. Search indices
// (Elasticsearch) are read document by document; a document's id
// ("topic/partition/offset[/k]") places it in the planned batch covering
// its offset. Each batch's content is summed up with sinks.LinesChecksum,
// which must agree between the sinks that hold it.
package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
)

// Report is the result of Run.
type Report struct {
	Topology string `json:"topology"`
	// Committed and Pending count the ledgers' batches: committed, and
	// planned but not committed yet (in flight: not an error).
	Committed int          `json:"committed_batches"`
	Pending   int          `json:"pending_batches"`
	Sinks     []SinkReport `json:"sinks"`
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
	// Mismatched are batches whose content disagrees with the plan or
	// with the other sinks.
	Mismatched []Mismatch `json:"mismatched,omitempty"`
	// Error is set when the backend could not be read.
	Error string `json:"error,omitempty"`

	sums map[string]string // batch id -> checksum
}

// Mismatch is one batch whose content is wrong.
type Mismatch struct {
	Batch  string `json:"batch"`
	Reason string `json:"reason"`
}

// OK reports whether every sink holds exactly the committed batches.
func (r *Report) OK() bool {
	for _, s := range r.Sinks {
		if s.Error != "" || len(s.Missing)+len(s.Extra)+len(s.Mismatched) > 0 {
			return false
		}
	}
	return true
}

// batchPlan is one planned batch.
type batchPlan struct {
	ledger.Plan
	committed bool
}

// plans of one topic partition, by seq.
type partPlans []batchPlan

// Run verifies topo (decoded and validated with the registry holding its
// types). progress, when not nil, is told what is being read.
func Run(ctx context.Context, topo *topology.Topology, progress func(string)) (*Report, error) {
	if progress == nil {
		progress = func(string) {}
	}
	rep := &Report{Topology: topo.Name}
	byPart := map[string]partPlans{} // "topic/partition"
	byID := map[string]batchPlan{}
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
			h, err := r.History(ctx, k)
			if err != nil {
				closeFn()
				return nil, fmt.Errorf("spout %q: %w", s.ID, err)
			}
			pk := k.Topic + "/" + strconv.Itoa(int(k.Partition))
			for _, p := range h.Plans {
				bp := batchPlan{Plan: p, committed: h.Committed[p.Seq]}
				byPart[pk] = append(byPart[pk], bp)
				byID[p.BatchID()] = bp
				if bp.committed {
					rep.Committed++
				} else {
					rep.Pending++
				}
			}
		}
		closeFn()
	}
	if len(byID) == 0 {
		return nil, errors.New("no batch in any ledger: has the topology run (with the same ledger settings)?")
	}
	for _, b := range topo.Bolts {
		v, ok := b.Settings.(sinks.Verifiable)
		if !ok {
			continue
		}
		progress(fmt.Sprintf("reading sink %q (%s)", b.ID, b.Type))
		sr := SinkReport{Component: b.ID, Type: b.Type, sums: map[string]string{}}
		if err := checkSink(ctx, topo.Name, v, byID, byPart, &sr); err != nil {
			sr.Error = err.Error()
		}
		rep.Sinks = append(rep.Sinks, sr)
	}
	crossCheck(rep)
	return rep, nil
}

func checkSink(ctx context.Context, topo string, v sinks.Verifiable, byID map[string]batchPlan, byPart map[string]partPlans, sr *SinkReport) error {
	store, err := v.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	lines := map[string][][]byte{} // batch id -> lines
	switch st := store.(type) {
	case sinks.Inventory:
		names, err := st.Objects(ctx, topo)
		if err != nil {
			return err
		}
		for _, name := range names {
			m, ok := sinks.ParseName(name, "")
			if !ok {
				sr.Extra = append(sr.Extra, name+" (not a batch object name)")
				continue
			}
			p, planned := byID[m.ID]
			if !planned {
				sr.Extra = append(sr.Extra, name)
				continue
			}
			if p.Start != m.Start || p.End != m.End {
				sr.Mismatched = append(sr.Mismatched, Mismatch{m.ID, fmt.Sprintf("%s: offsets [%d, %d), the plan says [%d, %d)", name, m.Start, m.End, p.Start, p.End)})
				continue
			}
			content, err := st.Read(ctx, name)
			if err != nil {
				sr.Mismatched = append(sr.Mismatched, Mismatch{m.ID, fmt.Sprintf("%s: unreadable: %v", name, err)})
				continue
			}
			if lines[m.ID] == nil {
				lines[m.ID] = [][]byte{}
			}
			lines[m.ID] = append(lines[m.ID], sinks.SplitLines(content)...)
		}
	case sinks.DocumentStore:
		err := st.Documents(ctx, topo, func(id string, source []byte) error {
			bid, ok := locate(id, byPart)
			if !ok {
				sr.Extra = append(sr.Extra, "document "+id)
				return nil
			}
			lines[bid] = append(lines[bid], slices.Clone(source))
			return nil
		})
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("%T can be neither listed nor searched", store)
	}
	_, isDocs := store.(sinks.DocumentStore)
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := byID[id]
		ls, held := lines[id]
		if !p.committed {
			continue // in flight: present or not
		}
		if !held {
			if isDocs {
				// a batch without documents may be empty: the cross-check
				// against the object stores decides
				sr.sums[id] = sinks.LinesChecksum(nil)
				continue
			}
			sr.Missing = append(sr.Missing, id)
			continue
		}
		sr.Batches++
		sr.Records += len(ls)
		sr.sums[id] = sinks.LinesChecksum(ls)
	}
	return nil
}

// locate finds the planned batch of a document id "topic/partition/offset[/...]".
func locate(id string, byPart map[string]partPlans) (string, bool) {
	f := strings.SplitN(id, "/", 4)
	if len(f) < 3 {
		return "", false
	}
	off, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return "", false
	}
	ps := byPart[f[0]+"/"+f[1]]
	i := sort.Search(len(ps), func(i int) bool { return ps[i].End > off })
	if i < len(ps) && ps[i].Start <= off {
		return ps[i].BatchID(), true
	}
	return "", false
}

// crossCheck flags, for each batch, the sinks whose checksum differs from
// the one most sinks agree on.
func crossCheck(rep *Report) {
	ids := map[string]bool{}
	for _, s := range rep.Sinks {
		for id := range s.sums {
			ids[id] = true
		}
	}
	for id := range ids {
		votes := map[string]int{}
		for _, s := range rep.Sinks {
			if sum, ok := s.sums[id]; ok {
				votes[sum]++
			}
		}
		if len(votes) < 2 {
			continue
		}
		best, n := "", 0
		for sum, v := range votes {
			if v > n || (v == n && sum < best) {
				best, n = sum, v
			}
		}
		for i := range rep.Sinks {
			s := &rep.Sinks[i]
			if sum, ok := s.sums[id]; ok && sum != best {
				reason := "content differs from the other sinks'"
				if sum == sinks.LinesChecksum(nil) {
					reason = "no records, where the other sinks hold some"
					s.Missing = append(s.Missing, id)
					continue
				}
				s.Mismatched = append(s.Mismatched, Mismatch{id, reason})
			}
		}
	}
	for i := range rep.Sinks {
		s := &rep.Sinks[i]
		sort.Strings(s.Missing)
		sort.Strings(s.Extra)
		sort.Slice(s.Mismatched, func(a, b int) bool { return s.Mismatched[a].Batch < s.Mismatched[b].Batch })
	}
}
