package sinks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path"
	"slices"
	"strings"
)

// Inventory is implemented by the writers of object stores (file, Ceph,
// HDFS): what they hold, for `gale verify`.
type Inventory interface {
	// Objects lists the names (as Naming made them, prefix included) of
	// the objects of topology.
	Objects(ctx context.Context, topology string) ([]string, error)
	// Read returns an object's content, decoded (decrypted, decompressed).
	Read(ctx context.Context, name string) ([]byte, error)
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

// Objects lists the objects of topology under the writer's directory.
func (w *FileWriter) Objects(_ context.Context, topology string) ([]string, error) {
	names, err := w.List(w.Naming.Ext)
	if err != nil {
		return nil, err
	}
	want := path.Join(w.Naming.Prefix, topology) + "/"
	out := names[:0]
	for _, n := range names {
		if strings.HasPrefix(n, want) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Read returns an object's decoded content.
func (w *FileWriter) Read(_ context.Context, name string) ([]byte, error) {
	data, err := w.Get(name)
	if err != nil {
		return nil, err
	}
	return Decode(w.Codec.Key, data)
}

var _ Inventory = (*FileWriter)(nil)

// Verifiable is implemented by the config of every sink type: OpenStore
// opens the backend for reading, for `gale verify`. The value it returns
// implements Inventory (object stores) or DocumentStore (search indices).
type Verifiable interface {
	OpenStore(ctx context.Context) (io.Closer, error)
}

// OpenStore opens the file sink's directory for reading.
func (c *FileConfig) OpenStore(context.Context) (io.Closer, error) { return c.Writer(), nil }
