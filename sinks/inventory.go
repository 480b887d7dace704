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
	// Documents calls fn for every document of topology's index(es).
	Documents(ctx context.Context, topology string, fn func(id string, source []byte) error) error
}

// LinesChecksum is the checksum `gale verify` compares between backends
// for one batch: the hex SHA-256 of the batch's lines sorted bytewise,
// each followed by a newline. Sorting makes it independent of how the
// batch was split into objects and of the order a search index returns
// documents in.
func LinesChecksum(lines [][]byte) string {
	sorted := slices.Clone(lines)
	slices.SortFunc(sorted, bytes.Compare)
	h := sha256.New()
	for _, l := range sorted {
		h.Write(l)
		h.Write([]byte{'\n'})
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
