package avro

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/golang/snappy"
)

// The codecs of an Object Container File's blocks.
const (
	CodecNull    = "null"
	CodecDeflate = "deflate"
	CodecSnappy  = "snappy"
)

// DeflateLevel is the fixed compression level of the deflate codec.
const DeflateLevel = 6

// Magic starts every Object Container File.
var Magic = []byte{'O', 'b', 'j', 1}

// FileOptions set how a file is written.
type FileOptions struct {
	// Codec compresses the blocks: CodecNull, CodecDeflate or CodecSnappy.
	Codec string
	// BlockRecords is the number of records per block (the last block
	// holds the rest); at least 1.
	BlockRecords int
	// Sync is the file's sync marker. Derive it from what the file holds
	// (the object's name) so that writing it again gives the same bytes.
	Sync [16]byte
}

// CheckCodec tells whether codec is one this package writes.
func CheckCodec(codec string) error {
	switch codec {
	case CodecNull, CodecDeflate, CodecSnappy:
		return nil
	}
	return fmt.Errorf("avro codec %q: want %q, %q or %q", codec, CodecNull, CodecDeflate, CodecSnappy)
}

// AppendFile appends an Object Container File holding values (canonical
// values of s, see Coerce): the header (magic, the metadata avro.codec
// and avro.schema, the sync marker), then blocks of opts.BlockRecords
// records, each ended by the sync marker. The same values and options
// give the same bytes.
func AppendFile(b []byte, s *Schema, values []any, opts FileOptions) ([]byte, error) {
	if err := CheckCodec(opts.Codec); err != nil {
		return nil, err
	}
	per := max(opts.BlockRecords, 1)
	b = append(b, Magic...)
	// the metadata map, keys in order: one block of two entries
	b = binary.AppendVarint(b, 2)
	b = appendString(b, "avro.codec")
	b = appendString(b, opts.Codec)
	b = appendString(b, "avro.schema")
	b = appendString(b, string(s.Text()))
	b = append(b, 0)
	b = append(b, opts.Sync[:]...)
	var block []byte
	for i := 0; i < len(values); i += per {
		chunk := values[i:min(i+per, len(values))]
		block = block[:0]
		var err error
		for _, v := range chunk {
			if block, err = AppendBinary(block, s, v); err != nil {
				return nil, err
			}
		}
		data, err := compress(opts.Codec, block)
		if err != nil {
			return nil, err
		}
		b = binary.AppendVarint(b, int64(len(chunk)))
		b = binary.AppendVarint(b, int64(len(data)))
		b = append(b, data...)
		b = append(b, opts.Sync[:]...)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendVarint(b, int64(len(s)))
	return append(b, s...)
}

func compress(codec string, block []byte) ([]byte, error) {
	switch codec {
	case CodecDeflate:
		var buf bytes.Buffer
		w, err := flate.NewWriter(&buf, DeflateLevel)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(block); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case CodecSnappy:
		out := snappy.Encode(nil, block)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(block)), nil
	}
	return block, nil
}

// FileInfo is what ReadFile found.
type FileInfo struct {
	Schema  *Schema
	Codec   string
	Records int64
}

// ReadFile reads an Object Container File and calls fn (when not nil)
// with each record's binary encoding, in order; fn must not keep it. It
// checks every block's sync marker and refuses a block that decompresses
// to more than limit bytes (limit <= 0: no limit). It reads files of any
// writer, whatever their block layout.
func ReadFile(data []byte, limit int64, fn func(datum []byte) error) (*FileInfo, error) {
	r := &reader{data: data}
	if !bytes.HasPrefix(data, Magic) {
		return nil, fmt.Errorf("%w: no magic", ErrFile)
	}
	r.pos = len(Magic)
	meta, err := r.metadata()
	if err != nil {
		return nil, err
	}
	info := &FileInfo{Codec: CodecNull}
	if c, ok := meta["avro.codec"]; ok {
		info.Codec = string(c)
	}
	if err := CheckCodec(info.Codec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	if info.Schema, err = Parse(meta["avro.schema"]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	sync, err := r.take(16)
	if err != nil {
		return nil, err
	}
	min := minSize(info.Schema)
	for r.pos < len(data) {
		count, err := r.long()
		if err != nil {
			return nil, err
		}
		size, err := r.long()
		if err != nil {
			return nil, err
		}
		if count < 0 || size < 0 || size > int64(len(data)-r.pos) {
			return nil, fmt.Errorf("%w: block of %d records, %d bytes, at %d", ErrFile, count, size, r.pos)
		}
		raw, _ := r.take(int(size))
		block, err := decompress(info.Codec, raw, limit)
		if err != nil {
			return nil, err
		}
		if min > 0 && count > int64(len(block))/int64(min) || min == 0 && count > 1<<20 {
			return nil, fmt.Errorf("%w: block of %d records in %d bytes", ErrFile, count, len(block))
		}
		br := &reader{data: block}
		for range count {
			start := br.pos
			if err := br.skip(info.Schema); err != nil {
				return nil, err
			}
			if fn != nil {
				if err := fn(block[start:br.pos]); err != nil {
					return nil, err
				}
			}
		}
		if br.pos != len(block) {
			return nil, fmt.Errorf("%w: %d bytes after the records of a block", ErrFile, len(block)-br.pos)
		}
		info.Records += count
		s, err := r.take(16)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(s, sync) {
			return nil, fmt.Errorf("%w: wrong sync marker after a block", ErrFile)
		}
	}
	return info, nil
}

func decompress(codec string, raw []byte, limit int64) ([]byte, error) {
	switch codec {
	case CodecDeflate:
		var rd io.Reader = flate.NewReader(bytes.NewReader(raw))
		if limit > 0 {
			rd = io.LimitReader(rd, limit+1)
		}
		out, err := io.ReadAll(rd)
		if err != nil {
			return nil, fmt.Errorf("%w: deflate: %w", ErrFile, err)
		}
		if limit > 0 && int64(len(out)) > limit {
			return nil, fmt.Errorf("%w: a block decompresses to more than %d bytes", ErrFile, limit)
		}
		return out, nil
	case CodecSnappy:
		if len(raw) < 4 {
			return nil, fmt.Errorf("%w: snappy block without its checksum", ErrFile)
		}
		body := raw[:len(raw)-4]
		n, err := snappy.DecodedLen(body)
		if err != nil {
			return nil, fmt.Errorf("%w: snappy: %w", ErrFile, err)
		}
		if limit > 0 && int64(n) > limit {
			return nil, fmt.Errorf("%w: a block decompresses to more than %d bytes", ErrFile, limit)
		}
		out, err := snappy.Decode(nil, body)
		if err != nil {
			return nil, fmt.Errorf("%w: snappy: %w", ErrFile, err)
		}
		if crc32.ChecksumIEEE(out) != binary.BigEndian.Uint32(raw[len(raw)-4:]) {
			return nil, fmt.Errorf("%w: snappy block checksum mismatch", ErrFile)
		}
		return out, nil
	}
	return raw, nil
}

type reader struct {
	data []byte
	pos  int
}

func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.data)-r.pos {
		return nil, fmt.Errorf("%w: truncated at %d", ErrFile, r.pos)
	}
	b := r.data[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

func (r *reader) long() (int64, error) {
	v, n := binary.Varint(r.data[r.pos:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint at %d", ErrFile, r.pos)
	}
	r.pos += n
	return v, nil
}

func (r *reader) bytes() ([]byte, error) {
	n, err := r.long()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > int64(len(r.data)-r.pos) {
		return nil, fmt.Errorf("%w: length %d at %d", ErrFile, n, r.pos)
	}
	return r.take(int(n))
}

// metadata reads the header's map of bytes.
func (r *reader) metadata() (map[string][]byte, error) {
	meta := map[string][]byte{}
	for {
		count, err := r.long()
		if err != nil {
			return nil, err
		}
		if count == 0 {
			return meta, nil
		}
		if count < 0 {
			count = -count
			if _, err := r.long(); err != nil { // block size
				return nil, err
			}
		}
		if count > int64(len(r.data)-r.pos)/2 {
			return nil, fmt.Errorf("%w: metadata of %d entries", ErrFile, count)
		}
		for range count {
			k, err := r.bytes()
			if err != nil {
				return nil, err
			}
			v, err := r.bytes()
			if err != nil {
				return nil, err
			}
			meta[string(k)] = v
		}
	}
}

// skip reads past one value of s.
func (r *reader) skip(s *Schema) error {
	switch s.Kind {
	case Null:
		return nil
	case Boolean:
		_, err := r.take(1)
		return err
	case Int, Long, Enum:
		_, err := r.long()
		return err
	case Float:
		_, err := r.take(4)
		return err
	case Double:
		_, err := r.take(8)
		return err
	case Bytes, String:
		_, err := r.bytes()
		return err
	case Fixed:
		_, err := r.take(s.Size)
		return err
	case Record:
		for _, f := range s.Fields {
			if err := r.skip(f.Type); err != nil {
				return err
			}
		}
		return nil
	case Union:
		i, err := r.long()
		if err != nil {
			return err
		}
		if i < 0 || i >= int64(len(s.Branches)) {
			return fmt.Errorf("%w: union branch %d of %d", ErrFile, i, len(s.Branches))
		}
		return r.skip(s.Branches[i])
	case Array, Map:
		item := s.Items
		if s.Kind == Map {
			item = s.Values
		}
		min := minSize(item)
		if s.Kind == Map {
			min++ // the key's length
		}
		for {
			count, err := r.long()
			if err != nil {
				return err
			}
			if count == 0 {
				return nil
			}
			if count < 0 {
				count = -count
				if _, err := r.long(); err != nil {
					return err
				}
			}
			if count < 0 || min > 0 && count > int64(len(r.data)-r.pos)/int64(min) || min == 0 && count > 1<<20 {
				return fmt.Errorf("%w: %d items at %d", ErrFile, count, r.pos)
			}
			for range count {
				if s.Kind == Map {
					if _, err := r.bytes(); err != nil {
						return err
					}
				}
				if err := r.skip(item); err != nil {
					return err
				}
			}
		}
	}
	return fmt.Errorf("%w: unknown type", ErrFile)
}

// minSize is the fewest bytes a value of s takes.
func minSize(s *Schema) int {
	switch s.Kind {
	case Null:
		return 0
	case Float:
		return 4
	case Double:
		return 8
	case Fixed:
		return s.Size
	case Record:
		n := 0
		for _, f := range s.Fields {
			n += minSize(f.Type)
		}
		return n
	}
	return 1
}
