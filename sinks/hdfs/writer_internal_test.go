package hdfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	hdfsc "github.com/colinmarc/hdfs/v2"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/tuple"
)

// fakeFile answers Close with "replication in progress" replicating
// times, then with final.
type fakeFile struct {
	replicating int
	final       error
	closes      int
	deadlines   []time.Time
}

func (f *fakeFile) SetDeadline(t time.Time) error {
	f.deadlines = append(f.deadlines, t)
	return nil
}

func (f *fakeFile) Close() error {
	f.closes++
	if f.closes <= f.replicating {
		return &os.PathError{Op: "create", Path: "/x", Err: hdfsc.ErrReplicating}
	}
	return f.final
}

// TestCloseRetriesReplicating: Close is retried while the NameNode answers
// "replication in progress", a bounded number of times, each under a
// deadline; other errors and cancellation end it at once.
func TestCloseRetriesReplicating(t *testing.T) {
	defer func(b, m time.Duration) { closeBackoff, closeMaxBackoff = b, m }(closeBackoff, closeMaxBackoff)
	closeBackoff, closeMaxBackoff = time.Millisecond, 2*time.Millisecond
	w := &Writer{Timeout: time.Minute}
	ctx := context.Background()

	f := &fakeFile{replicating: 3}
	if err := w.close(ctx, f); err != nil || f.closes != 4 {
		t.Errorf("3 times replicating: %v after %d closes, want success after 4", err, f.closes)
	}
	for _, d := range f.deadlines {
		if time.Until(d) < 50*time.Second {
			t.Errorf("deadline %v is not about a minute ahead", d)
		}
	}
	if len(f.deadlines) != 4 {
		t.Errorf("%d deadlines set, want one per Close", len(f.deadlines))
	}

	f = &fakeFile{replicating: 1000}
	err := w.close(ctx, f)
	if !errors.Is(err, hdfsc.ErrReplicating) || f.closes != closeAttempts || !strings.Contains(err.Error(), "gave up") {
		t.Errorf("always replicating: %v after %d closes, want to give up after %d", err, f.closes, closeAttempts)
	}

	boom := errors.New("datanode gone")
	f = &fakeFile{replicating: 1, final: boom}
	if err := w.close(ctx, f); !errors.Is(err, boom) || f.closes != 2 {
		t.Errorf("other error: %v after %d closes", err, f.closes)
	}

	closeBackoff = time.Hour
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(10*time.Millisecond, cancel)
	start := time.Now()
	f = &fakeFile{replicating: 1000}
	if err := w.close(cctx, f); !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
		t.Errorf("cancelled: %v after %v", err, time.Since(start))
	}
}

// remoteError is a remote Java exception as colinmarc/hdfs returns it: an
// hdfsc.Error naming the exception's class.
type remoteError struct{ class string }

var _ hdfsc.Error = remoteError{}

func (e remoteError) Method() string    { return "addBlock" }
func (e remoteError) Desc() string      { return "ERROR_APPLICATION" }
func (e remoteError) Exception() string { return e.class }
func (e remoteError) Message() string   { return e.class + ": not yet\n\tat org.apache.hadoop..." }
func (e remoteError) Error() string {
	return "addBlock call failed with ERROR_APPLICATION (" + e.class + ")"
}

// TestPutRetriesNotReplicatedYet: a write refused with the NameNode's
// NotReplicatedYetException (however wrapped) is written again, a bounded
// number of times; any other error, even one whose text names that
// exception, ends it at once, and so does cancellation.
func TestPutRetriesNotReplicatedYet(t *testing.T) {
	defer func(b time.Duration) { closeBackoff = b }(closeBackoff)
	closeBackoff = time.Millisecond
	ctx := context.Background()
	// as putOnce returns it: the client's *os.PathError, wrapped with %w
	notYet := fmt.Errorf("hdfs://nn/d/f: write temporary file /d/.f.tmp-1: %w",
		&os.PathError{Op: "create", Path: "/d/.f.tmp-1", Err: remoteError{notReplicatedYet}})
	failing := func(times int, err error) (func() error, *int) {
		calls := 0
		return func() error {
			calls++
			if calls <= times {
				return err
			}
			return nil
		}, &calls
	}

	write, calls := failing(2, notYet)
	if err := retryNotReplicated(ctx, write); err != nil || *calls != 3 {
		t.Errorf("refused twice: %v after %d writes, want success after 3", err, *calls)
	}
	write, calls = failing(1000, notYet)
	if err := retryNotReplicated(ctx, write); !errors.Is(err, notYet) || *calls != closeAttempts {
		t.Errorf("always refused: %v after %d writes, want it after %d", err, *calls, closeAttempts)
	}
	for _, other := range []error{
		&os.PathError{Op: "create", Path: "/d/f", Err: remoteError{"org.apache.hadoop.ipc.StandbyException"}},
		errors.New("datanode gone: org.apache.hadoop.hdfs.server.namenode.NotReplicatedYetException"),
	} {
		write, calls = failing(1000, other)
		if err := retryNotReplicated(ctx, write); !errors.Is(err, other) || *calls != 1 {
			t.Errorf("%v: %v after %d writes, want it after 1", other, err, *calls)
		}
	}

	closeBackoff = time.Hour
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(10*time.Millisecond, cancel)
	start := time.Now()
	write, calls = failing(1000, notYet)
	if err := retryNotReplicated(cctx, write); !errors.Is(err, notYet) || *calls != 1 || time.Since(start) > 10*time.Second {
		t.Errorf("cancelled: %v after %d writes and %v", err, *calls, time.Since(start))
	}
}

// TestConnError: answers of HDFS keep the connection; anything else
// (network errors, a stream out of step) drops it.
func TestConnError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&os.PathError{Op: "stat", Path: "/x", Err: os.ErrNotExist}, false},
		{fmt.Errorf("wrapped: %w", &os.PathError{Op: "mkdir", Path: "/x", Err: os.ErrExist}), false},
		{&os.PathError{Op: "create", Path: "/x", Err: hdfsc.ErrReplicating}, false},
		{&os.PathError{Op: "create", Path: "/x", Err: remoteError{notReplicatedYet}}, false},
		{context.Canceled, false},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{errors.New("unexpected sequence number"), true},
	} {
		if got := connError(tc.err); got != tc.want {
			t.Errorf("connError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestOrphansAreRemoved: a temporary file that a failed write could not
// remove (its connection was suspect) is removed by the next successful
// write.
func TestOrphansAreRemoved(t *testing.T) {
	nn := testenv.HDFSNameNode(t)
	c := NewConfig()
	c.NameNode = nn
	c.Dir = fmt.Sprintf("/gale-test/hdfs-sink/orphans-%d", time.Now().UnixNano())
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	w := c.Writer()
	defer w.Close()
	cn, err := w.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cn.c.RemoveAll(c.Dir) }()
	orphan := path.Join(c.Dir, "t/ev/00000/.x.jsonl.lz4"+tmpMark+"0123")
	if err := cn.c.MkdirAll(path.Dir(orphan), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := cn.c.CreateEmptyFile(orphan); err != nil {
		t.Fatal(err)
	}
	w.release(cn, nil)
	w.addOrphan(orphan)
	b := &sinks.Batch{Topology: "t", Meta: &tuple.BatchMeta{ID: "ev/00000/000000000001", Source: "ev", Seq: 1}}
	if _, err := w.WriteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	cn, err = w.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer w.release(cn, nil)
	if _, err := cn.c.Stat(orphan); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("orphan %s still there: %v", orphan, err)
	}
	if len(w.orphans) != 0 {
		t.Errorf("orphans still remembered: %v", w.orphans)
	}
}
