package sinks

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gale-stream/gale/tuple"
)

// Batch is one batch as a backend writes it: the batch's identity, and its
// records in a deterministic order (by tuple id), each already formatted.
// The same batch replayed gives an equal Batch.
type Batch struct {
	// Topology is the topology's name (the second part of object names).
	Topology string
	// Meta is the batch's plan (source, partition, seq, offsets).
	Meta *tuple.BatchMeta
	// Records are ordered by ID (see CompareIDs).
	Records []Record
}

// Record is one tuple of a batch, formatted.
type Record struct {
	// ID is the tuple id, e.g. "events/3/1042" (unique within the batch).
	ID string
	// Time is the record's timestamp (from the tuple, never from the
	// clock); zero when the tuple has none.
	Time time.Time
	// Line is the record formatted by the sink's Format, without newline
	// (formats json and lines).
	Line []byte
	// Value is the record's value in the canonical form of the format's
	// Avro schema (formats avro and parquet; Line is then nil).
	Value any
}

// Part is the records of a batch that go into one object: all of them, or
// with time partitioning those of one time bucket.
type Part struct {
	// Name is the object's name (see Naming.Name).
	Name string
	// Bucket is the time bucket ("dt=2026-11-27/hh=01"), "" without time
	// partitioning.
	Bucket string
	// Records are the part's records, in batch order.
	Records []Record

	enc Encoder // the naming's: nil for lines
}

// Encode returns the part's content: what the format's Encoder makes of
// the records (an Avro or Parquet file), or for line formats Content.
func (p *Part) Encode() ([]byte, error) {
	if p.enc == nil {
		return p.Content(), nil
	}
	return p.enc.Encode(p.Name, p.Records)
}

// Content returns the part's uncompressed bytes: each record's line and a
// newline.
func (p *Part) Content() []byte { return p.AppendContent(nil) }

// AppendContent appends the part's Content to b and returns the result.
func (p *Part) AppendContent(b []byte) []byte {
	n := 0
	for _, r := range p.Records {
		n += len(r.Line) + 1
	}
	b = slices.Grow(b, n)
	for _, r := range p.Records {
		b = append(b, r.Line...)
		b = append(b, '\n')
	}
	return b
}

// Checksum returns the hex SHA-256 of content: what `gale verify` compares
// across backends.
func Checksum(content []byte) string {
	s := sha256.Sum256(content)
	return hex.EncodeToString(s[:])
}

// CompareIDs orders tuple ids; it is tuple.CompareIDs.
func CompareIDs(a, b string) int { return tuple.CompareIDs(a, b) }

// SortRecords orders records by CompareIDs (ties, which a correct pipeline
// never has, by content, so that the order is still deterministic).
// Records in order already, as a batch of one spout partition arrives,
// are found so in one pass (inOrder), not compared pair by pair; ids that
// differ only in a few decimal segments, as those of tuples that passed
// through bolts (shuffled: "topic/3/9/0"), are parsed once and sorted by
// their numbers (sortByNumbers).
func SortRecords(rs []Record) {
	if inOrder(rs) || sortByNumbers(rs) {
		return
	}
	slices.SortFunc(rs, compareRecords)
}

func compareRecords(x, y Record) int {
	if c := CompareIDs(x.ID, y.ID); c != 0 {
		return c
	}
	return strings.Compare(string(x.Line), string(y.Line))
}

// maxNumbers is how many decimal segments sortByNumbers keeps of an id.
const maxNumbers = 4

// numbered is an id's decimal segments after the prefix the batch's ids
// share, and its record's index.
type numbered struct {
	num [maxNumbers]uint64
	n   int
	i   int
}

// sortByNumbers sorts rs in CompareIDs order when every id is a prefix
// they all share (up to a "/") and 1 to maxNumbers decimal segments; it
// reports false, rs untouched, when they are not. Each id is parsed once
// (CompareIDs parses both of its ids at every comparison): segment by
// segment, numbers compare as numbers and an id that ends first, a
// parent, comes before its children, as CompareIDs has them.
func sortByNumbers(rs []Record) bool {
	prefix := rs[0].ID
	for _, r := range rs[1:] {
		n := 0
		for n < len(prefix) && n < len(r.ID) && prefix[n] == r.ID[n] {
			n++
		}
		prefix = prefix[:n]
	}
	prefix = prefix[:strings.LastIndexByte(prefix, '/')+1]
	keys := make([]numbered, len(rs))
	for i, r := range rs {
		k := &keys[i]
		k.i = i
		for tail, more := r.ID[len(prefix):], true; more; {
			var seg string
			seg, tail, more = strings.Cut(tail, "/")
			if k.n == maxNumbers {
				return false
			}
			v, err := strconv.ParseUint(seg, 10, 64)
			if err != nil {
				return false
			}
			k.num[k.n] = v
			k.n++
		}
	}
	slices.SortFunc(keys, func(a, b numbered) int {
		for s := range min(a.n, b.n) {
			if c := cmp.Compare(a.num[s], b.num[s]); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(a.n, b.n); c != 0 {
			return c
		}
		return strings.Compare(string(rs[a.i].Line), string(rs[b.i].Line))
	})
	sorted := make([]Record, len(rs))
	for i, k := range keys {
		sorted[i] = rs[k.i]
	}
	copy(rs, sorted)
	return true
}

// inOrder reports whether the ids of rs share all before their last "/"
// and end in decimal numbers that strictly increase: then rs is in
// CompareIDs order. False says nothing: the full sort decides.
func inOrder(rs []Record) bool {
	if len(rs) == 0 {
		return true
	}
	j := strings.LastIndexByte(rs[0].ID, '/')
	if j < 0 {
		return false
	}
	prefix := rs[0].ID[:j+1]
	var last uint64
	for i, r := range rs {
		if !strings.HasPrefix(r.ID, prefix) {
			return false
		}
		n, err := strconv.ParseUint(r.ID[len(prefix):], 10, 64)
		if err != nil || (i > 0 && n <= last) {
			return false
		}
		last = n
	}
	return true
}

// Naming builds object names:
//
//	<prefix>/<topology>/<topic>[/dt=YYYY-MM-DD[/hh=HH]]/<partition>/<seq>-<start>-<end><ext>
//
// with the partition (5 digits), seq (12) and offsets (19) zero-padded so
// that names sort in batch order. Time buckets come from the records'
// timestamps (UTC).
type Naming struct {
	Prefix string
	// TimePartition is "" (none), "day" or "hour".
	TimePartition string
	// Ext is the file extension with its dot, e.g. ".jsonl.lz4".
	Ext string
	// Encoder makes an object's content from its records (nil: lines,
	// Part.Content).
	Encoder Encoder
}

// Time partitionings.
const (
	PartitionNone = ""
	PartitionDay  = "day"
	PartitionHour = "hour"
)

// Bucket returns the time bucket of t ("" without time partitioning).
// Records without a timestamp go to "dt=none".
func (n Naming) Bucket(t time.Time) string {
	if n.TimePartition == PartitionNone {
		return ""
	}
	if t.IsZero() {
		return "dt=none"
	}
	t = t.UTC()
	if n.TimePartition == PartitionHour {
		return t.Format("dt=2006-01-02/hh=15")
	}
	return t.Format("dt=2006-01-02")
}

// Dir returns the directory of a batch's objects for bucket.
func (n Naming) Dir(topology string, m *tuple.BatchMeta, bucket string) string {
	parts := []string{n.Prefix, Segment(topology), Segment(m.Source)}
	if bucket != "" {
		parts = append(parts, bucket)
	}
	parts = append(parts, fmt.Sprintf("%05d", m.Partition))
	return path.Join(parts...)
}

// Base returns the file name of a batch's object: <seq>-<start>-<end><ext>.
func (n Naming) Base(m *tuple.BatchMeta) string {
	return fmt.Sprintf("%012d-%019d-%019d%s", m.Seq, m.Start, m.End, n.Ext)
}

// Name returns the full object name of batch m in bucket.
func (n Naming) Name(topology string, m *tuple.BatchMeta, bucket string) string {
	return path.Join(n.Dir(topology, m, bucket), n.Base(m))
}

// Parts splits b into its objects: one without time partitioning (also
// for an empty batch, so that every batch leaves a trace), else one per
// time bucket of its records, in bucket order.
func (n Naming) Parts(b *Batch) []Part {
	if n.TimePartition == PartitionNone || len(b.Records) == 0 {
		bucket := ""
		if n.TimePartition != PartitionNone {
			bucket = "dt=none"
		}
		return []Part{{Name: n.Name(b.Topology, b.Meta, bucket), Bucket: bucket, Records: b.Records, enc: n.Encoder}}
	}
	byBucket := map[string][]Record{}
	for _, r := range b.Records {
		k := n.Bucket(r.Time)
		byBucket[k] = append(byBucket[k], r)
	}
	keys := make([]string, 0, len(byBucket))
	for k := range byBucket {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]Part, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, Part{Name: n.Name(b.Topology, b.Meta, k), Bucket: k, Records: byBucket[k], enc: n.Encoder})
	}
	return parts
}

// ParseName reads the batch identity back from an object name made by
// Naming (for `gale verify`): source, partition, seq, start, end. An empty
// ext accepts any extension.
func ParseName(name, ext string) (m tuple.BatchMeta, ok bool) {
	base := path.Base(name)
	if !strings.HasSuffix(base, ext) {
		return m, false
	}
	base = strings.TrimSuffix(base, ext)
	if ext == "" {
		base, _, _ = strings.Cut(base, ".") // any extension
	}
	f := strings.Split(base, "-")
	if len(f) != 3 {
		return m, false
	}
	seq, err1 := strconv.ParseUint(f[0], 10, 64)
	start, err2 := strconv.ParseInt(f[1], 10, 64)
	end, err3 := strconv.ParseInt(f[2], 10, 64)
	dir := path.Dir(name)
	part, err4 := strconv.ParseInt(path.Base(dir), 10, 32)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return m, false
	}
	m.Seq, m.Start, m.End, m.Partition = seq, start, end, int32(part)
	// the source is above the partition and the optional time buckets
	dir = path.Dir(dir)
	for strings.HasPrefix(path.Base(dir), "hh=") || strings.HasPrefix(path.Base(dir), "dt=") {
		dir = path.Dir(dir)
	}
	src, err := url.PathUnescape(path.Base(dir))
	if err != nil {
		return m, false
	}
	if src == "\x00" {
		src = "" // Segment's mark of an empty source
	}
	m.Source = src
	m.ID = fmt.Sprintf("%s/%05d/%012d", m.Source, m.Partition, m.Seq)
	return m, true
}

// Segment makes s one path segment that stays where it is put, whatever
// s holds: the bytes other than letters, digits, '.', '_', '-' and '=' are
// escaped as %XX (so "/" cannot make a directory and no byte can trouble
// a backend's naming rules), and so are "", "." and "..", which would name
// no directory, this one or the parent. Kafka topic names come through
// unchanged. ParseName reverses it for the source.
func Segment(s string) string {
	switch s {
	case "":
		return "%00" // an empty source still needs a directory of its own
	case ".", "..":
		return strings.Repeat("%2E", len(s))
	}
	safe := true
	for i := 0; i < len(s); i++ {
		if !segmentByte(s[i]) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; segmentByte(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func segmentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '='
}
