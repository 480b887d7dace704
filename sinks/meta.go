package sinks

import (
	"context"
	"fmt"
	"strconv"
	"sync"

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
// errors of StoreParts itself), and returns the bytes stored. Unlike
// EachPart's, its buffers are never reused: an object store's client may
// still read data after store returned (an HTTP transport sending a body
// the server already refused, a multipart upload's other parts).
func StoreParts(ctx context.Context, b *Batch, naming Naming, codec Codec, metaPrefix, where string,
	store func(name string, data []byte, meta map[string]string) error) (int64, error) {
	return eachPart(ctx, b, naming, codec, where, false, func(p *Part, content, data []byte) error {
		if err := atomicfile.CheckName(p.Name); err != nil {
			return fmt.Errorf("%s: object name: %w", where, err)
		}
		return store(p.Name, data, ObjectMeta(metaPrefix, b, len(p.Records), content, len(data)))
	})
}

// EachPart calls store with each part of batch b (naming.Parts), its
// content (Part.Encode) and that content encoded by codec (data), and
// returns the bytes stored (data's, summed over the parts store
// accepted). It stops at ctx's end or at store's first error (returned as
// it is; where prefixes the errors of EachPart itself). Neither content
// nor data may be used once store returned, by store or anything it
// started: the buffers of line formats' contents are reused for the next
// parts and batches (a batch's content is as large as the batch,
// megabytes, and was allocated anew for each: 8 % of the bytes the kafka
// → hdfs pipeline allocated, 100-byte records).
func EachPart(ctx context.Context, b *Batch, naming Naming, codec Codec, where string,
	store func(p *Part, content, data []byte) error) (int64, error) {
	return eachPart(ctx, b, naming, codec, where, true, store)
}

// eachPart is EachPart, reusing content buffers if reuse.
func eachPart(ctx context.Context, b *Batch, naming Naming, codec Codec, where string, reuse bool,
	store func(p *Part, content, data []byte) error) (int64, error) {
	var n int64
	for _, p := range naming.Parts(b) {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("%s: %w", where, err)
		}
		m, err := storePart(&p, codec, where, reuse, store)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// storePart is one part of eachPart: with reuse, the content's buffer goes
// back to contentBufs once store returned.
func storePart(p *Part, codec Codec, where string, reuse bool, store func(p *Part, content, data []byte) error) (int64, error) {
	var content []byte
	switch {
	case p.enc == nil && !reuse:
		content = p.Content()
	case p.enc == nil:
		buf := contentBufs.Get().(*[]byte)
		defer func() {
			if cap(*buf) <= maxPooledContent {
				contentBufs.Put(buf)
			}
		}()
		*buf = p.AppendContent((*buf)[:0])
		content = *buf
	default:
		var err error
		if content, err = p.enc.Encode(p.Name, p.Records); err != nil {
			return 0, fmt.Errorf("%s: encode %s: %w", where, p.Name, err)
		}
	}
	data, err := codec.Encode(p.Name, content)
	if err != nil {
		return 0, fmt.Errorf("%s: encode %s: %w", where, p.Name, err)
	}
	if err := store(p, content, data); err != nil {
		return 0, err
	}
	return int64(len(data)), nil
}

// contentBufs holds *[]byte: line formats' content buffers between parts.
var contentBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledContent bounds the buffers contentBufs keeps: a batch far
// larger than usual does not pin its buffer.
const maxPooledContent = 64 << 20
