package kvlog_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/kvlog"
	"github.com/gale-stream/gale/internal/kvlog/kvlogtest"
)

func fileBackend(t *testing.T) kvlogtest.Backend {
	return fileBackendWith(t)
}

func fileBackendWith(t *testing.T, opts ...kvlog.FileOption) kvlogtest.Backend {
	dir := filepath.Join(t.TempDir(), "log")
	opts = append([]kvlog.FileOption{kvlog.WithPoll(10 * time.Millisecond)}, opts...)
	return kvlogtest.Backend{
		Open: func(t *testing.T) kvlog.Log {
			l, err := kvlog.OpenFile(dir, opts...)
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
		Destroy: func(t *testing.T) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func TestFileLog_Conformance(t *testing.T) {
	kvlogtest.Run(t, fileBackend)
}

// TestFileLog_Compaction: a log whose keys are written and deleted over
// and over stays in the order of its live records on disk, and reopening
// it reads them.
func TestFileLog_Compaction(t *testing.T) {
	const compactAt = 64 << 10
	b := fileBackendWith(t, kvlog.WithCompactAt(compactAt))
	l := b.Open(t)
	defer l.Close()
	ctx := context.Background()
	w, err := l.Writer(ctx, "ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dir := l.(*kvlog.FileLog).Dir()
	var maxSize int64
	const batches = 3_000 // about 200 kB of records
	for seq := range batches {
		// the ledger's shape: a plan, then its commit tombstones it and
		// moves the checkpoint
		plan := fmt.Sprintf("p/plan/%012d", seq)
		if err := w.Write(ctx, kvlog.Record{Key: plan, Value: []byte(`{"start":0,"end":500}`)}); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ctx, kvlog.Record{Key: plan}, kvlog.Record{Key: "p/cp", Value: []byte(`{"committed":` + strconv.Itoa(seq+1) + `}`)}); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, "log"))
		if err != nil {
			t.Fatal(err)
		}
		maxSize = max(maxSize, st.Size())
	}
	// the log was compacted: it never grew past twice the threshold
	if maxSize > 2*compactAt {
		t.Errorf("the log grew to %d bytes for one live key", maxSize)
	}
	l2 := b.Open(t)
	defer l2.Close()
	kvlogtest.Equal(t, l2, "p/cp", fmt.Sprintf(`{"committed":%d}`, batches))
	if got := kvlogtest.Keys(t, l2, "p/plan/"); len(got) != 0 {
		t.Errorf("live plans after reopening: %v", got)
	}
}

// TestFileLog_TornTail: a frame cut short by a crash is ignored by readers
// and cut off by the next writer.
func TestFileLog_TornTail(t *testing.T) {
	b := fileBackend(t)
	l := b.Open(t)
	ctx := context.Background()
	w, err := l.Writer(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, kvlog.Record{Key: "k", Value: []byte("kept")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, kvlog.Record{Key: "k", Value: []byte("torn")}, kvlog.Record{Key: "j", Value: []byte("torn")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	dir := l.(*kvlog.FileLog).Dir()
	l.Close()
	path := filepath.Join(dir, "log")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()-3); err != nil { // the last frame, torn
		t.Fatal(err)
	}
	l2 := b.Open(t)
	defer l2.Close()
	kvlogtest.Equal(t, l2, "k", "kept")
	kvlogtest.Equal(t, l2, "j", "")
	w2, err := l2.Writer(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if err := w2.Write(ctx, kvlog.Record{Key: "j", Value: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	l3 := b.Open(t)
	defer l3.Close()
	kvlogtest.Equal(t, l3, "k", "kept")
	kvlogtest.Equal(t, l3, "j", "after")
}

// TestFileLog_Replaced: a directory replaced by another log (deleted and
// created again) is not taken for the same log.
func TestFileLog_Replaced(t *testing.T) {
	b := fileBackend(t)
	l := b.Open(t)
	defer l.Close()
	ctx := context.Background()
	w, err := l.Writer(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b.Destroy(t)
	other := b.Open(t) // a new, empty log in the same place
	defer other.Close()
	if err := w.Write(ctx, kvlog.Record{Key: "k", Value: []byte("1")}); !errors.Is(err, kvlog.ErrGone) {
		t.Errorf("write to a replaced log: %v, want ErrGone", err)
	}
	kvlogtest.Equal(t, other, "k", "")
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte("GKV1\x05\x01\x01k\x02v\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kvlog.DecodeFrameForTest(b) // must not panic or allocate past its input
	})
}
