package sinks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
)

// Inventory is implemented by the writers of object stores (file, Ceph,
// HDFS): what they hold, for `gale verify`.
type Inventory interface {
	// Objects lists the names (as Naming made them, prefix included) of
	// the objects of topology.
	Objects(ctx context.Context, topology string) ([]string, error)
	// Read returns an object's content, decoded (decrypted, decompressed).
	Read(ctx context.Context, name string) ([]byte, error)
	// Get returns an object's bytes as stored (compressed, encrypted;
	// reassembled when the backend splits big objects).
	Get(ctx context.Context, name string) ([]byte, error)
}

// DocumentStore is implemented by sinks that store one document per record
// under the tuple id (Elasticsearch): for `gale verify`.
type DocumentStore interface {
	// Documents calls fn for every document of topology's index(es), in
	// no particular order, from one goroutine at a time. source is only
	// valid during the call.
	Documents(ctx context.Context, topology string, fn func(id string, source []byte) error) error
}

// DocumentCounter is implemented by document stores that can tell at once
// about how many documents Documents will visit: `gale verify` shows it in
// its progress line (an estimate, never a check).
type DocumentCounter interface {
	CountDocuments(ctx context.Context, topology string) (int64, error)
}

// LinesChecksum is the checksum `gale verify` compares between backends
// for one batch (see LinesSum): the checksum of lines.
func LinesChecksum(lines [][]byte) string {
	var s LinesSum
	for _, l := range lines {
		s.Add(l)
	}
	return s.Sum()
}

// LinesSum sums up the lines (records) of one batch, added in any order,
// into the checksum `gale verify` compares between backends: the hex
// SHA-256 of the lines' SHA-256 digests, sorted bytewise. Sorting makes it
// independent of how the batch was split into objects and of the order a
// search index returns documents in; it keeps 32 bytes per line, not the
// line. Two batches have the same checksum only when they hold the same
// lines, each as many times (short of a SHA-256 collision). The zero
// value is an empty batch.
type LinesSum struct {
	digests [][sha256.Size]byte
}

// Grow makes room for n more lines.
func (s *LinesSum) Grow(n int) { s.digests = slices.Grow(s.digests, n) }

// Add adds one line (without its newline).
func (s *LinesSum) Add(line []byte) { s.digests = append(s.digests, sha256.Sum256(line)) }

// AddContent adds the lines of content, each ended by a newline (the last
// one may lack it), as SplitLines splits them.
func (s *LinesSum) AddContent(content []byte) {
	if len(content) > 0 {
		s.Grow(bytes.Count(content, []byte{'\n'}) + 1)
	}
	for len(content) > 0 {
		i := bytes.IndexByte(content, '\n')
		if i < 0 {
			s.Add(content)
			return
		}
		s.Add(content[:i])
		content = content[i+1:]
	}
}

// Len returns the number of lines added.
func (s *LinesSum) Len() int { return len(s.digests) }

// Sum returns the checksum of the lines added.
func (s *LinesSum) Sum() string {
	slices.SortFunc(s.digests, func(a, b [sha256.Size]byte) int { return bytes.Compare(a[:], b[:]) })
	h := sha256.New()
	for i := range s.digests {
		h.Write(s.digests[i][:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SplitLines returns the lines of content (without their newlines).
func SplitLines(content []byte) [][]byte {
	if len(content) == 0 {
		return nil
	}
	return bytes.Split(bytes.TrimSuffix(content, []byte{'\n'}), []byte{'\n'})
}

// Verifiable is implemented by the config of every sink type: OpenStore
// opens the backend for reading, for `gale verify`. The value it returns
// implements Inventory (object stores) or DocumentStore (search indices).
type Verifiable interface {
	OpenStore(ctx context.Context) (io.Closer, error)
}
