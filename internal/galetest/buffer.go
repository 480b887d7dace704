package galetest

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer that a test may read while others write to it:
// the stderr of a process it started, the target of a logger. It is safe
// for concurrent use.
type Buffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
