package parquetfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/gale-stream/gale/internal/avro"
)

// Compressions of the columns.
const (
	CompressionSnappy = "snappy"
	CompressionZstd   = "zstd"
	CompressionNone   = "none"
)

// AvroSchemaKey is the footer key holding the Avro schema.
const AvroSchemaKey = "parquet.avro.schema"

// CheckCompression tells whether c is a compression Write takes.
func CheckCompression(c string) error {
	switch c {
	case CompressionSnappy, CompressionZstd, CompressionNone:
		return nil
	}
	return fmt.Errorf("parquet compression %q: want %q, %q or %q", c, CompressionSnappy, CompressionZstd, CompressionNone)
}

func codec(c string) compress.Codec {
	switch c {
	case CompressionZstd:
		// one goroutine, a fixed level: the same bytes every time
		return &zstd.Codec{Level: zstd.SpeedDefault, Concurrency: 1}
	case CompressionNone:
		return &parquet.Uncompressed
	}
	return &parquet.Snappy
}

type kind int

const (
	leafKind kind = iota
	groupKind
	listKind
	mapKind
)

// node mirrors one node of the Parquet schema.
type node struct {
	kind     kind
	optional bool
	avro     *avro.Schema // the (non-null) Avro type
	fieldIdx int          // of a record's field: its index in the record
	children []*node      // group: in Parquet's order; list: [element]; map: [key, value]
	col      int          // leaf: column index
	rep      int          // list, map: repetition level of its repeated group
	pq       parquet.Node
	// union: the Avro type is a union, of which branch is the non-null
	// branch and null the null one (-1: none)
	union        bool
	branch, null int
}

// Schema is the Parquet schema of an Avro record schema.
type Schema struct {
	avro *avro.Schema
	root *node
	pq   *parquet.Schema
	cols int
}

// NewSchema derives the Parquet schema of s, a record.
func NewSchema(s *avro.Schema) (*Schema, error) {
	if s.Kind != avro.Record {
		return nil, fmt.Errorf("%w: the root is %s, want a record", ErrSchema, s.Kind)
	}
	root, err := build(s, s.Name, 0)
	if err != nil {
		return nil, err
	}
	sc := &Schema{avro: s, root: root}
	sc.pq = parquet.NewSchema(shortName(s.Name), root.pq)
	sc.cols = number(root, 0)
	// the columns number as parquet-go numbers them
	if got := len(sc.pq.Columns()); got != sc.cols {
		return nil, fmt.Errorf("%w: %d columns, parquet-go counts %d", ErrSchema, sc.cols, got)
	}
	return sc, nil
}

func shortName(n string) string {
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		return n[i+1:]
	}
	return n
}

// number gives the leaves their column indexes, in order, from next.
func number(n *node, next int) int {
	if n.kind == leafKind {
		n.col = next
		return next + 1
	}
	for _, c := range n.children {
		next = number(c, next)
	}
	return next
}

// build makes the node of s at path; rep is the repetition level above.
func build(s *avro.Schema, path string, rep int) (*node, error) {
	optional, union, branch, null := false, false, 0, -1
	if s.Kind == avro.Union {
		union = true
		var other []*avro.Schema
		for i, b := range s.Branches {
			if b.Kind == avro.Null {
				optional, null = true, i
			} else {
				other, branch = append(other, b), i
			}
		}
		if len(other) != 1 {
			return nil, fmt.Errorf("%w: at %s: a union of %d non-null types (Parquet holds [\"null\", T] only)", ErrSchema, path, len(other))
		}
		s = other[0]
	}
	n := &node{avro: s, optional: optional, union: union, branch: branch, null: null}
	switch s.Kind {
	case avro.Null:
		return nil, fmt.Errorf("%w: at %s: a field of type null", ErrSchema, path)
	case avro.Record:
		n.kind = groupKind
		g := parquet.Group{}
		byName := map[string]*node{}
		for i, f := range s.Fields {
			c, err := build(f.Type, path+"."+f.Name, rep)
			if err != nil {
				return nil, err
			}
			c.fieldIdx = i
			byName[f.Name] = c
			g[f.Name] = c.pq
		}
		if len(s.Fields) == 0 {
			return nil, fmt.Errorf("%w: at %s: a record without fields", ErrSchema, path)
		}
		names := make([]string, 0, len(byName))
		for k := range byName {
			names = append(names, k)
		}
		slices.Sort(names) // parquet-go's order of a group's fields
		for _, k := range names {
			n.children = append(n.children, byName[k])
		}
		n.pq = g
	case avro.Array:
		n.kind = listKind
		n.rep = rep + 1
		e, err := build(s.Items, path+"[]", rep+1)
		if err != nil {
			return nil, err
		}
		n.children = []*node{e}
		n.pq = parquet.List(e.pq)
	case avro.Map:
		n.kind = mapKind
		n.rep = rep + 1
		k := &node{kind: leafKind, avro: &avro.Schema{Kind: avro.String}, pq: parquet.String()}
		v, err := build(s.Values, path+"{}", rep+1)
		if err != nil {
			return nil, err
		}
		n.children = []*node{k, v}
		n.pq = parquet.Map(k.pq, v.pq)
	default:
		n.kind = leafKind
		n.pq = leaf(s)
	}
	if optional {
		n.pq = parquet.Optional(n.pq)
	}
	return n, nil
}

func leaf(s *avro.Schema) parquet.Node {
	switch s.Kind {
	case avro.Boolean:
		return parquet.Leaf(parquet.BooleanType)
	case avro.Int:
		if s.Logical == avro.Date {
			return parquet.Date()
		}
		return parquet.Leaf(parquet.Int32Type)
	case avro.Long:
		switch s.Logical {
		case avro.TimestampMillis:
			return parquet.Timestamp(parquet.Millisecond)
		case avro.TimestampMicros:
			return parquet.Timestamp(parquet.Microsecond)
		}
		return parquet.Leaf(parquet.Int64Type)
	case avro.Float:
		return parquet.Leaf(parquet.FloatType)
	case avro.Double:
		return parquet.Leaf(parquet.DoubleType)
	case avro.String, avro.Enum:
		return parquet.String()
	}
	if s.Logical == avro.Decimal {
		switch p := s.Precision; {
		case p <= 9:
			return parquet.Decimal(s.Scale, p, parquet.Int32Type)
		case p <= 18:
			return parquet.Decimal(s.Scale, p, parquet.Int64Type)
		default:
			return parquet.Decimal(s.Scale, p, parquet.FixedLenByteArrayType(decimalBytes(p)))
		}
	}
	if s.Kind == avro.Fixed {
		return parquet.Leaf(parquet.FixedLenByteArrayType(s.Size))
	}
	return parquet.Leaf(parquet.ByteArrayType) // bytes
}

// Options set how a file is written.
type Options struct {
	// Compression of the columns (default snappy).
	Compression string
	// RowGroupRows is the number of rows per row group (the last holds
	// the rest); at least 1.
	RowGroupRows int
	// CreatedBy names the writer in the footer (fixed text: no version
	// that changes between runs of one build).
	CreatedBy string
}

// Write returns a Parquet file holding values (canonical values of the
// schema's record, see avro.Coerce), in order. The same values and
// options give the same bytes.
func (s *Schema) Write(values []any, opts Options) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // parquet-go panics on a row it does not expect
			out, err = nil, fmt.Errorf("parquet: %v", r)
		}
	}()
	if opts.Compression == "" {
		opts.Compression = CompressionSnappy
	}
	if err := CheckCompression(opts.Compression); err != nil {
		return nil, err
	}
	createdBy := opts.CreatedBy
	if createdBy == "" {
		createdBy = "gale"
	}
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, s.pq,
		parquet.Compression(codec(opts.Compression)),
		parquet.MaxRowsPerRowGroup(int64(max(opts.RowGroupRows, 1))),
		parquet.CreatedBy(createdBy, "", ""),
		parquet.KeyValueMetadata(AvroSchemaKey, string(s.avro.Text())))
	cols := make([][]parquet.Value, s.cols)
	rows := make([]parquet.Row, 0, 256)
	flush := func() error {
		if _, err := w.WriteRows(rows); err != nil {
			return err
		}
		rows = rows[:0]
		return nil
	}
	for _, v := range values {
		for i := range cols {
			cols[i] = cols[i][:0]
		}
		if err := shred(s.root, v, 0, 0, cols); err != nil {
			return nil, err
		}
		var row parquet.Row
		for _, c := range cols {
			row = append(row, c...)
		}
		rows = append(rows, row)
		if len(rows) == cap(rows) {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// shred appends the values of v's leaves to cols, with their repetition
// and definition levels (Dremel's record shredding).
func shred(n *node, v any, rep, def int, cols [][]parquet.Value) error {
	if u, ok := v.(avro.UnionValue); ok {
		v = u.Value
	}
	if n.optional {
		if v == nil {
			nulls(n, rep, def, cols)
			return nil
		}
		def++
	}
	switch n.kind {
	case leafKind:
		pv, err := leafValue(n.avro, v)
		if err != nil {
			return err
		}
		cols[n.col] = append(cols[n.col], pv.Level(rep, def, n.col))
	case groupKind:
		xs, ok := v.([]any)
		if !ok || len(xs) != len(n.avro.Fields) {
			return fmt.Errorf("parquet: %T is not a canonical record %s", v, n.avro.Name)
		}
		for _, c := range n.children {
			if err := shred(c, xs[c.fieldIdx], rep, def, cols); err != nil {
				return err
			}
		}
	case listKind:
		xs, ok := v.([]any)
		if !ok {
			return fmt.Errorf("parquet: %T is not a canonical array", v)
		}
		if len(xs) == 0 {
			nulls(n, rep, def, cols)
			return nil
		}
		for i, x := range xs {
			r := rep
			if i > 0 {
				r = n.rep
			}
			if err := shred(n.children[0], x, r, def+1, cols); err != nil {
				return err
			}
		}
	case mapKind:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("parquet: %T is not a canonical map", v)
		}
		if len(m) == 0 {
			nulls(n, rep, def, cols)
			return nil
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			r := rep
			if i > 0 {
				r = n.rep
			}
			kn := n.children[0]
			cols[kn.col] = append(cols[kn.col], parquet.ByteArrayValue([]byte(k)).Level(r, def+1, kn.col))
			if err := shred(n.children[1], m[k], r, def+1, cols); err != nil {
				return err
			}
		}
	}
	return nil
}

// nulls appends a null with the given levels to every column under n.
func nulls(n *node, rep, def int, cols [][]parquet.Value) {
	if n.kind == leafKind {
		cols[n.col] = append(cols[n.col], parquet.NullValue().Level(rep, def, n.col))
		return
	}
	for _, c := range n.children {
		nulls(c, rep, def, cols)
	}
}

func leafValue(s *avro.Schema, v any) (parquet.Value, error) {
	switch x := v.(type) {
	case bool:
		return parquet.BooleanValue(x), nil
	case int32:
		return parquet.Int32Value(x), nil
	case int64:
		return parquet.Int64Value(x), nil
	case float32:
		return parquet.FloatValue(x), nil
	case float64:
		return parquet.DoubleValue(x), nil
	case string:
		return parquet.ByteArrayValue([]byte(x)), nil
	case int: // enum
		if s.Kind == avro.Enum && x >= 0 && x < len(s.Symbols) {
			return parquet.ByteArrayValue([]byte(s.Symbols[x])), nil
		}
	case *big.Int: // decimal, its unscaled value (Coerce checked its digits)
		switch p := s.Precision; {
		case p <= 9:
			return parquet.Int32Value(int32(x.Int64())), nil
		case p <= 18:
			return parquet.Int64Value(x.Int64()), nil
		default:
			return parquet.FixedLenByteArrayValue(avro.TwosComplement(x, decimalBytes(p))), nil
		}
	case []byte:
		if s.Kind == avro.Fixed {
			return parquet.FixedLenByteArrayValue(x), nil
		}
		return parquet.ByteArrayValue(x), nil
	}
	return parquet.Value{}, fmt.Errorf("parquet: %T is not a canonical %s value", v, s.Kind)
}

// decimalBytes is the fewest bytes whose two's complement holds
// precision digits.
func decimalBytes(precision int) int {
	n := 1
	for avro.MaxPrecision(n) < precision {
		n++
	}
	return n
}

// ReadRecords reads a Parquet file Gale wrote: it returns its row count
// (the footer's) and calls fn (when not nil) with each row as the Avro
// binary encoding of its record (under the Avro schema in the footer), in
// order — the same bytes as the record's in an Avro file, so that `gale
// verify` compares Avro and Parquet sinks; fn must not keep it. It refuses
// files whose columns the footer says decompress to more than limit bytes
// (limit <= 0: no limit), codecs Gale does not write, pages that claim
// more than their chunk holds, and files without an Avro schema.
func ReadRecords(data []byte, limit int64, fn func(datum []byte) error) (rows int64, err error) {
	defer func() {
		if r := recover(); r != nil { // hostile input must not crash verify
			rows, err = 0, fmt.Errorf("%w: %v", ErrFile, r)
		}
	}()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrFile, err)
	}
	// refuse what Gale never writes before parquet-go decodes a page:
	// its LZ4 decoder grows its buffer without bound on a corrupt block
	var total int64
	for _, rg := range f.Metadata().RowGroups {
		for _, c := range rg.Columns {
			switch c.MetaData.Codec {
			case format.Uncompressed, format.Snappy, format.Zstd:
			default:
				return 0, fmt.Errorf("%w: compression codec %v (Gale writes snappy, zstd or none)", ErrFile, c.MetaData.Codec)
			}
			if c.MetaData.TotalUncompressedSize < 0 {
				return 0, fmt.Errorf("%w: negative column chunk size", ErrFile)
			}
			total += c.MetaData.TotalUncompressedSize
		}
	}
	if limit > 0 && total > limit {
		return 0, fmt.Errorf("%w: the columns decompress to %d bytes, more than %d", ErrFile, total, limit)
	}
	if err := checkPages(data, f.Metadata(), limit); err != nil {
		return 0, err
	}
	if fn == nil {
		return f.NumRows(), nil
	}
	text, ok := f.Lookup(AvroSchemaKey)
	if !ok {
		return 0, fmt.Errorf("%w: no Avro schema (%s) in the footer", ErrFile, AvroSchemaKey)
	}
	as, err := avro.Parse([]byte(text))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrFile, err)
	}
	s, err := NewSchema(as)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrFile, err)
	}
	if got := len(f.Schema().Columns()); got != s.cols {
		return 0, fmt.Errorf("%w: %d columns, the Avro schema makes %d", ErrFile, got, s.cols)
	}
	buf := make([]parquet.Row, 64)
	var datum []byte
	var n int64
	a := &assembler{cols: make([][]parquet.Value, s.cols), pos: make([]int, s.cols)}
	for _, rg := range f.RowGroups() {
		rs := rg.Rows()
		for {
			k, err := rs.ReadRows(buf)
			for _, row := range buf[:k] {
				v, aerr := a.record(s.root, row)
				if aerr == nil {
					datum, aerr = avro.AppendBinary(datum[:0], as, v)
				}
				if aerr != nil {
					rs.Close()
					return n, fmt.Errorf("%w: row %d: %w", ErrFile, n, aerr)
				}
				if err := fn(datum); err != nil {
					rs.Close()
					return n, err
				}
				n++
			}
			if err != nil {
				rs.Close()
				if errors.Is(err, io.EOF) {
					break
				}
				return n, fmt.Errorf("%w: %w", ErrFile, err)
			}
		}
	}
	if n != f.NumRows() {
		return n, fmt.Errorf("%w: %d rows read, the footer says %d", ErrFile, n, f.NumRows())
	}
	return n, nil
}

// assembler rebuilds a record's canonical value from a row's leaf values
// (Dremel's record assembly, the reverse of shred).
type assembler struct {
	cols [][]parquet.Value // the row's values, by column
	pos  []int             // the next value of each column
}

var errShort = errors.New("a column has fewer values than the record needs")

func (a *assembler) record(root *node, row parquet.Row) (any, error) {
	for i := range a.cols {
		a.cols[i], a.pos[i] = a.cols[i][:0], 0
	}
	for _, v := range row {
		c := v.Column()
		if c < 0 || c >= len(a.cols) {
			return nil, fmt.Errorf("value of column %d", c)
		}
		a.cols[c] = append(a.cols[c], v)
	}
	v, err := a.read(root, 0)
	if err != nil {
		return nil, err
	}
	for i := range a.cols {
		if a.pos[i] != len(a.cols[i]) {
			return nil, fmt.Errorf("column %d has %d values, the record takes %d", i, len(a.cols[i]), a.pos[i])
		}
	}
	return v, nil
}

// first returns the column of n's first leaf.
func first(n *node) int {
	for n.kind != leafKind {
		n = n.children[0]
	}
	return n.col
}

func (a *assembler) peek(n *node) (parquet.Value, bool) {
	c := first(n)
	if a.pos[c] >= len(a.cols[c]) {
		return parquet.Value{}, false
	}
	return a.cols[c][a.pos[c]], true
}

// skip consumes the one value each column under n holds for an absent
// (null or empty) n.
func (a *assembler) skip(n *node) error {
	if n.kind == leafKind {
		if a.pos[n.col] >= len(a.cols[n.col]) {
			return errShort
		}
		a.pos[n.col]++
		return nil
	}
	for _, c := range n.children {
		if err := a.skip(c); err != nil {
			return err
		}
	}
	return nil
}

func (n *node) wrap(v any) any {
	if !n.union {
		return v
	}
	if v == nil {
		return avro.UnionValue{Index: n.null}
	}
	return avro.UnionValue{Index: n.branch, Value: v}
}

// read reads the value of n, defined at level def above it.
func (a *assembler) read(n *node, def int) (any, error) {
	if n.optional {
		v, ok := a.peek(n)
		if !ok {
			return nil, errShort
		}
		if v.DefinitionLevel() <= def {
			return n.wrap(nil), a.skip(n)
		}
		def++
	}
	switch n.kind {
	case leafKind:
		if a.pos[n.col] >= len(a.cols[n.col]) {
			return nil, errShort
		}
		v := a.cols[n.col][a.pos[n.col]]
		a.pos[n.col]++
		if v.IsNull() {
			return nil, fmt.Errorf("column %d: null where a value is required", n.col)
		}
		x, err := canonical(n.avro, v)
		return n.wrap(x), err
	case groupKind:
		out := make([]any, len(n.avro.Fields))
		for _, c := range n.children {
			x, err := a.read(c, def)
			if err != nil {
				return nil, err
			}
			out[c.fieldIdx] = x
		}
		return n.wrap(out), nil
	case listKind:
		items := []any{}
		v, ok := a.peek(n)
		if !ok {
			return nil, errShort
		}
		if v.DefinitionLevel() <= def { // empty
			return n.wrap(items), a.skip(n)
		}
		for {
			x, err := a.read(n.children[0], def+1)
			if err != nil {
				return nil, err
			}
			items = append(items, x)
			if v, ok := a.peek(n); !ok || v.RepetitionLevel() != n.rep {
				return n.wrap(items), nil
			}
		}
	case mapKind:
		m := map[string]any{}
		v, ok := a.peek(n)
		if !ok {
			return nil, errShort
		}
		if v.DefinitionLevel() <= def { // empty
			return n.wrap(m), a.skip(n)
		}
		kn := n.children[0]
		for {
			if a.pos[kn.col] >= len(a.cols[kn.col]) {
				return nil, errShort
			}
			k := a.cols[kn.col][a.pos[kn.col]]
			a.pos[kn.col]++
			x, err := a.read(n.children[1], def+1)
			if err != nil {
				return nil, err
			}
			m[string(k.ByteArray())] = x
			if v, ok := a.peek(n); !ok || v.RepetitionLevel() != n.rep {
				return n.wrap(m), nil
			}
		}
	}
	return nil, fmt.Errorf("unknown node")
}

// canonical converts a leaf value to the canonical value of s.
func canonical(s *avro.Schema, v parquet.Value) (any, error) {
	if s.Logical == avro.Decimal {
		switch p := s.Precision; {
		case p <= 9:
			return big.NewInt(int64(v.Int32())), nil
		case p <= 18:
			return big.NewInt(v.Int64()), nil
		default:
			return avro.FromTwosComplement(v.ByteArray()), nil
		}
	}
	switch s.Kind {
	case avro.Boolean:
		return v.Boolean(), nil
	case avro.Int:
		return v.Int32(), nil
	case avro.Long:
		return v.Int64(), nil
	case avro.Float:
		return v.Float(), nil
	case avro.Double:
		return v.Double(), nil
	case avro.String:
		return string(v.ByteArray()), nil
	case avro.Enum:
		sym := string(v.ByteArray())
		for i, x := range s.Symbols {
			if x == sym {
				return i, nil
			}
		}
		return nil, fmt.Errorf("%q is not a symbol of enum %s", sym, s.Name)
	case avro.Bytes:
		return bytes.Clone(v.ByteArray()), nil
	case avro.Fixed:
		b := v.ByteArray()
		if len(b) != s.Size {
			return nil, fmt.Errorf("fixed %s of %d bytes, want %d", s.Name, len(b), s.Size)
		}
		return bytes.Clone(b), nil
	}
	return nil, fmt.Errorf("a leaf of type %s", s.Kind)
}

// checkPages walks the page headers of every column chunk and refuses a
// page that claims more bytes than its chunk holds or decompresses to more
// than limit: parquet-go allocates what a header claims before reading.
func checkPages(data []byte, md *format.FileMetaData, limit int64) error {
	var compact thrift.CompactProtocol
	for _, rg := range md.RowGroups {
		for _, c := range rg.Columns {
			m := &c.MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
				start = m.DictionaryPageOffset
			}
			end := start + m.TotalCompressedSize
			if start < 4 || m.TotalCompressedSize < 0 || end < start || end > int64(len(data)) {
				return fmt.Errorf("%w: a column chunk at [%d, %d) outside the file", ErrFile, start, end)
			}
			for pos := start; pos < end; {
				// the reader of bytes checks each length against the bytes
				// left (the stream reader allocates what a length claims);
				// the stream reader then tells the header's size
				var h format.PageHeader
				if err := thrift.NewDecoder(compact.NewReaderFromBytes(data[pos:end])).Decode(&h); err != nil {
					return fmt.Errorf("%w: page header at %d: %w", ErrFile, pos, err)
				}
				r := bytes.NewReader(data[pos:end])
				if err := thrift.NewDecoder(compact.NewReader(r)).Decode(&format.PageHeader{}); err != nil {
					return fmt.Errorf("%w: page header at %d: %w", ErrFile, pos, err)
				}
				pos = end - int64(r.Len())
				if h.CompressedPageSize < 0 || int64(h.CompressedPageSize) > end-pos || h.UncompressedPageSize < 0 ||
					limit > 0 && int64(h.UncompressedPageSize) > limit {
					return fmt.Errorf("%w: a page of %d bytes (%d uncompressed) at %d, in a chunk ending at %d", ErrFile,
						h.CompressedPageSize, h.UncompressedPageSize, pos, end)
				}
				pos += int64(h.CompressedPageSize)
			}
		}
	}
	return nil
}
