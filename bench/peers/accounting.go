package peers

import (
	"fmt"
	"math"
	"slices"
)

// Seen records, for every record id, when the watcher first saw its line
// and how many times it saw one. Ids are "<partition>-<seq>" with seqs
// counted from 0 in each partition (what the producers make), so the
// entries are dense arrays. Not safe for concurrent use: the watcher owns it.
type Seen struct {
	parts    [][]entry
	distinct int64
	lines    int64
	dups     int64
	bad      int64
	badLine  string // the first line that was not a record
}

type entry struct {
	ts    int64 // the record's produce time, Unix µs
	first int64 // when its line was first seen, Unix µs
	n     uint32
}

// Observe counts one line of record partition-seq (produced at ts) seen at
// now (Unix µs), and reports whether it is the first line of that id.
func (s *Seen) Observe(partition int32, seq, ts, now int64) bool {
	s.lines++
	if partition < 0 || partition > 1<<16 || seq < 0 || seq > 1<<40 {
		s.bad++
		return false
	}
	for int(partition) >= len(s.parts) {
		s.parts = append(s.parts, nil)
	}
	p := s.parts[partition]
	if seq >= int64(len(p)) {
		p = slices.Grow(p, int(seq)+1-len(p))[:seq+1]
		s.parts[partition] = p
	}
	e := &p[seq]
	e.n++
	if e.n > 1 {
		s.dups++
		return false
	}
	e.ts, e.first = ts, now
	s.distinct++
	return true
}

// Bad counts a line that is not a record.
func (s *Seen) Bad(line []byte) {
	s.lines++
	s.bad++
	if s.badLine == "" {
		s.badLine = fmt.Sprintf("%.80q", line)
	}
}

// Distinct is the number of ids seen at least once.
func (s *Seen) Distinct() int64 { return s.distinct }

// Lines is the number of lines read.
func (s *Seen) Lines() int64 { return s.lines }

// Check is the exactly-once verdict of a run.
type Check struct {
	Expected int64 `json:"expected"`
	// Missing: produced ids never seen.
	Missing int64 `json:"missing"`
	// Duplicates: lines beyond the first of an id (produced or not).
	Duplicates int64 `json:"duplicates"`
	// Unexpected: distinct ids seen that were not produced, plus lines
	// that are not records.
	Unexpected int64 `json:"unexpected"`
	// FirstMissing names up to 5 missing ids, FirstBad the first line
	// that was not a record.
	FirstMissing []string `json:"first_missing,omitempty"`
	FirstBad     string   `json:"first_bad_line,omitempty"`
}

// ExactlyOnce reports whether every produced id was seen once and nothing else.
func (c Check) ExactlyOnce() bool { return c.Missing == 0 && c.Duplicates == 0 && c.Unexpected == 0 }

// Check compares what was seen with what was produced: produced[p] records
// (seqs 0 .. produced[p]-1) in partition p.
func (s *Seen) Check(produced []int64) Check {
	c := Check{Duplicates: s.dups, Unexpected: s.bad, FirstBad: s.badLine}
	for p := range max(len(produced), len(s.parts)) {
		var want int64
		if p < len(produced) {
			want = produced[p]
		}
		c.Expected += want
		var have []entry
		if p < len(s.parts) {
			have = s.parts[p]
		}
		for seq := int64(0); seq < max(want, int64(len(have))); seq++ {
			var n uint32
			if seq < int64(len(have)) {
				n = have[seq].n
			}
			switch {
			case seq >= want && n > 0:
				c.Unexpected++
			case seq < want && n == 0:
				c.Missing++
				if len(c.FirstMissing) < 5 {
					c.FirstMissing = append(c.FirstMissing, fmt.Sprintf("%d-%d", p, seq))
				}
			}
		}
	}
	return c
}

// Latencies returns, in µs, first-seen minus produce time of every id
// produced at or after fromTS (Unix µs), in no particular order.
func (s *Seen) Latencies(fromTS int64) []int64 {
	var out []int64
	for _, p := range s.parts {
		for i := range p {
			if e := &p[i]; e.n > 0 && e.ts >= fromTS {
				out = append(out, e.first-e.ts)
			}
		}
	}
	return out
}

// PartitionLatencies is Latencies for partition p only.
func (s *Seen) PartitionLatencies(p int, fromTS int64) []int64 {
	if p >= len(s.parts) {
		return nil
	}
	var out []int64
	for i := range s.parts[p] {
		if e := &s.parts[p][i]; e.n > 0 && e.ts >= fromTS {
			out = append(out, e.first-e.ts)
		}
	}
	return out
}

// Partitions is the number of partitions seen.
func (s *Seen) Partitions() int { return len(s.parts) }

// LastFirstSeen is the latest first-seen time of any id (Unix µs; 0 when
// nothing was seen): when the last record became visible.
func (s *Seen) LastFirstSeen() int64 {
	var last int64
	for _, p := range s.parts {
		for i := range p {
			if p[i].n > 0 && p[i].first > last {
				last = p[i].first
			}
		}
	}
	return last
}

// Percentiles of a sample: nearest rank (the smallest value with at least
// q of the sample at or below it), in the sample's unit.
type Percentiles struct {
	N   int     `json:"samples"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Quantile returns the nearest-rank q-quantile (0 < q <= 1) of sorted, or
// NaN for an empty sample.
func Quantile(sorted []int64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return float64(sorted[rank-1])
}

// Summarize sorts sample in place and returns its percentiles.
func Summarize(sample []int64) Percentiles {
	slices.Sort(sample)
	p := Percentiles{N: len(sample), P50: Quantile(sample, 0.50), P99: Quantile(sample, 0.99), Max: math.NaN()}
	if len(sample) > 0 {
		p.Max = float64(sample[len(sample)-1])
	}
	return p
}
