package sinks

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gale-stream/gale/internal/atomicfile"
)

// The metadata object stores keep beside each object (Ceph's xattrs, S3's
// user metadata), each under its backend's prefix ("gale." for Ceph,
// "gale-" for S3), so that an object says which batch it holds without
// being read.
const (
	// MetaBatch holds the batch id ("events/00002/000000000007").
	MetaBatch = "batch"
	// MetaRecords holds the number of records of the object (decimal).
	MetaRecords = "records"
	// MetaSHA256 holds Checksum of the object's decoded content.
	MetaSHA256 = "sha256"
	// MetaStart and MetaEnd hold the batch's offsets (decimal).
	MetaStart = "start"
	MetaEnd   = "end"
	// MetaBytes holds the size of the stored (encoded) object (decimal).
	MetaBytes = "bytes"
)

// ObjectMeta returns the metadata of an object of batch b holding records
// records whose decoded content is content and whose stored form is stored
// bytes long, each key prefixed with prefix. The same batch gives the same
// metadata, so a replay rewrites it unchanged.
func ObjectMeta(prefix string, b *Batch, records int, content []byte, stored int) map[string]string {
	return map[string]string{
		prefix + MetaBatch:   b.Meta.ID,
		prefix + MetaRecords: strconv.Itoa(records),
		prefix + MetaSHA256:  Checksum(content),
		prefix + MetaStart:   strconv.FormatInt(b.Meta.Start, 10),
		prefix + MetaEnd:     strconv.FormatInt(b.Meta.End, 10),
		prefix + MetaBytes:   strconv.Itoa(stored),
	}
}

// StoreParts writes batch b as the object stores do: one object per part
// of naming.Parts, its content encoded by codec, handed to store with its
// metadata (ObjectMeta, keys prefixed with metaPrefix). It stops at ctx's
// end or at store's first error (returned as it is; where prefixes the
// errors of StoreParts itself), and returns the bytes stored.
func StoreParts(ctx context.Context, b *Batch, naming Naming, codec Codec, metaPrefix, where string,
	store func(name string, data []byte, meta map[string]string) error) (int64, error) {
	var n int64
	for _, p := range naming.Parts(b) {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("%s: %w", where, err)
		}
		if err := atomicfile.CheckName(p.Name); err != nil {
			return n, fmt.Errorf("%s: object name: %w", where, err)
		}
		content, err := p.Encode()
		if err != nil {
			return n, fmt.Errorf("%s: encode %s: %w", where, p.Name, err)
		}
		data, err := codec.Encode(p.Name, content)
		if err != nil {
			return n, fmt.Errorf("%s: encode %s: %w", where, p.Name, err)
		}
		if err := store(p.Name, data, ObjectMeta(metaPrefix, b, len(p.Records), content, len(data))); err != nil {
			return n, err
		}
		n += int64(len(data))
	}
	return n, nil
}
