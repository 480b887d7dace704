package hdfs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gale-stream/gale/internal/atomicfile"

	hdfsc "github.com/colinmarc/hdfs/v2"

	"github.com/gale-stream/gale/sinks"
)

// Writer writes batches as HDFS files (see the package doc). Its fields
// are set before the first use; it connects lazily, and after an error on
// the connection it connects afresh at the next call. It is safe for
// concurrent use.
type Writer struct {
	// Addresses of the NameNode(s), "host:port".
	Addresses []string
	// User is the HDFS user.
	User string
	// Dir is the absolute HDFS path of the files' root.
	Dir string
	// Naming and Codec make the files' names and bytes.
	Naming sinks.Naming
	Codec  sinks.Codec
	// Replication and BlockSize of new files; 0 is the cluster's default.
	Replication int
	BlockSize   int64
	// Timeout bounds each network operation (default DefaultTimeout).
	Timeout time.Duration

	mu      sync.Mutex
	cur     *conn
	ready   map[string]bool // directories made and swept of stale temporary files
	orphans []string        // temporary files of failed writes, to remove
}

var (
	_ sinks.Writer    = (*Writer)(nil)
	_ sinks.Inventory = (*Writer)(nil)
)

// conn is one client (one NameNode connection), shared by the writer's
// concurrent calls and closed when it is broken and no call uses it.
type conn struct {
	c           *hdfsc.Client
	replication int   // resolved: the config's or the cluster's default
	blockSize   int64 // idem
	refs        int
	broken      bool
}

const (
	tmpMark = ".tmp-"
	// chunk is the unit of data read under one deadline.
	chunk = 1 << 20
	// writeChunk is the unit of data written under one deadline: the
	// client's packet (64 KiB), which it sends as soon as it holds one, so
	// that its buffer never grows past one packet (with 1 MiB writes it
	// grew to 1 MiB for each block written: 2 % of the process's
	// allocations at 100-byte records)
	writeChunk = 64 << 10
	// closeAttempts bounds the Close calls of a file while the NameNode
	// answers "replication in progress"; the backoff between them starts
	// at closeBackoff and doubles up to closeMaxBackoff (about 8 s in all).
	closeAttempts = 14
	// maxOrphans bounds the temporary files remembered for removal (past
	// it, the sweep of a later process removes them).
	maxOrphans = 10000
	// maxReady bounds the directories remembered as made and swept.
	maxReady = 10000
	// staleTemp is the age after which a temporary file is taken for one
	// left by a crash (a younger one may be a write in progress).
	staleTemp = 10 * time.Minute
)

// the backoff between Close attempts (variables for the tests). The first
// is short: the DataNode reports a finished block to the NameNode within a
// few milliseconds, and most files' first "complete" comes just before
// that report; a 25 ms first wait made the close the longest step of a
// file (16 ms of 21 on average with 500 KB files) and halved the files
// written per second. (The Java client waits 400 ms: it closes few, large
// files.)
var (
	closeBackoff    = 2 * time.Millisecond
	closeMaxBackoff = 2 * time.Second
)

func (w *Writer) timeout() time.Duration {
	if w.Timeout > 0 {
		return w.Timeout
	}
	return DefaultTimeout
}

// url names the cluster and a path in errors: hdfs://nn:9000/dir/name.
func (w *Writer) url(p string) string {
	return "hdfs://" + strings.Join(w.Addresses, ",") + p
}

// deadlineConn bounds every read and write on the NameNode connection:
// the client sets no deadline of its own, so a NameNode that stops
// answering would block an RPC forever.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// acquire returns the current connection, connecting if there is none.
func (w *Writer) acquire() (*conn, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cur != nil {
		w.cur.refs++
		return w.cur, nil
	}
	if len(w.Addresses) == 0 {
		return nil, fmt.Errorf("hdfs sink: no namenode address: %w", sinks.ErrConfig)
	}
	timeout := w.timeout()
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	client, err := hdfsc.NewClient(hdfsc.ClientOptions{
		Addresses: w.Addresses,
		User:      w.User,
		NamenodeDialFunc: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &deadlineConn{Conn: c, timeout: timeout}, nil
		},
		DatanodeDialFunc: dialer.DialContext,
	})
	if err != nil {
		return nil, fmt.Errorf("%s (user %s): connect to the namenode: %w", w.url(""), w.User, err)
	}
	// the first RPC: proves the NameNode answers, and fetches the defaults
	// once here, under the lock (the client caches them unsynchronized)
	defaults, err := client.ServerDefaults()
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("%s (user %s): get server defaults: %w", w.url(""), w.User, err)
	}
	cn := &conn{c: client, replication: w.Replication, blockSize: w.BlockSize, refs: 1}
	if cn.replication == 0 {
		cn.replication = defaults.Replication
	}
	if cn.blockSize == 0 {
		cn.blockSize = defaults.BlockSize
	}
	w.cur = cn
	return cn, nil
}

// release ends a call's use of cn; err is the call's error: one that
// comes from the connection rather than from HDFS (a file that does not
// exist, ...) breaks cn, so that the next call connects afresh.
func (w *Writer) release(cn *conn, err error) {
	w.mu.Lock()
	cn.refs--
	if err != nil && connError(err) {
		cn.broken = true
		if w.cur == cn {
			w.cur = nil
		}
	}
	closeIt := cn.broken && cn.refs == 0
	w.mu.Unlock()
	if closeIt {
		cn.c.Close()
	}
}

// connError reports whether err may have left the client unusable: any
// error but an answer of HDFS itself. (After a timed-out RPC, say, the
// client would read the late answer as the answer to its next request.)
func connError(err error) bool {
	var remote hdfsc.Error
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrPermission),
		errors.Is(err, fs.ErrInvalid), errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, hdfsc.ErrReplicating),
		errors.As(err, &remote), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return true
}

// WriteBatch writes b's files (see the package doc). On error some of the
// batch's files may have been written (each whole); writing the batch
// again completes it.
func (w *Writer) WriteBatch(ctx context.Context, b *sinks.Batch) (n int64, err error) {
	cn, err := w.acquire()
	if err != nil {
		return 0, fmt.Errorf("batch %s: %w", b.Meta.ID, err)
	}
	defer func() { w.release(cn, err) }()
	n, err = sinks.EachPart(ctx, b, w.Naming, w.Codec, w.url(w.Dir), func(p *sinks.Part, _, data []byte) error {
		return w.put(ctx, cn, p.Name, data)
	})
	if err == nil {
		w.removeOrphans(cn)
	}
	return n, err
}

// Put writes data as the file name (relative to Dir), atomically.
func (w *Writer) Put(ctx context.Context, name string, data []byte) (err error) {
	cn, err := w.acquire()
	if err != nil {
		return err
	}
	defer func() { w.release(cn, err) }()
	return w.put(ctx, cn, name, data)
}

func (w *Writer) put(ctx context.Context, cn *conn, name string, data []byte) error {
	return retryNotReplicated(ctx, func() error { return w.putOnce(ctx, cn, name, data) })
}

// notReplicatedYet is the Java class of the NameNode's answer to an
// addBlock call made before the DataNodes reported the file's last block.
const notReplicatedYet = "org.apache.hadoop.hdfs.server.namenode.NotReplicatedYetException"

// isNotReplicatedYet reports whether err is the NameNode's
// NotReplicatedYetException. colinmarc/hdfs returns a remote Java
// exception as an hdfs.Error, whose concrete type (rpc.NamenodeError) is
// in an internal package; its Exception method returns the Java class,
// which is the exception's type: comparing it is the typed check.
func isNotReplicatedYet(err error) bool {
	var remote hdfsc.Error
	return errors.As(err, &remote) && remote.Exception() == notReplicatedYet
}

// retryNotReplicated calls write until it returns anything but a
// NotReplicatedYetException, at most closeAttempts times.
func retryNotReplicated(ctx context.Context, write func() error) error {
	backoff := closeBackoff
	for attempt := 1; ; attempt++ {
		err := write()
		if err == nil || attempt == closeAttempts || !isNotReplicatedYet(err) {
			return err
		}
		// a new block asked for before the DataNodes reported the last one
		// (small blocks, a busy DataNode): the Java client retries the
		// addBlock call; the Go client cannot, so the whole (temporary)
		// file is written again
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, closeMaxBackoff)
	}
}

// putOnce writes data to a temporary file and renames it to name.
func (w *Writer) putOnce(ctx context.Context, cn *conn, name string, data []byte) (err error) {
	if err := atomicfile.CheckName(name); err != nil {
		return fmt.Errorf("%s: object name: %w", w.url(w.Dir), err)
	}
	final := path.Join(w.Dir, name)
	dir := path.Dir(final)
	if err := w.prepare(cn, dir); err != nil {
		return fmt.Errorf("%s: create directory: %w", w.url(final), err)
	}
	tmp := path.Join(dir, "."+path.Base(final)+tmpMark+randomSuffix())
	f, err := cn.c.CreateFile(tmp, cn.replication, cn.blockSize, 0o644)
	if errors.Is(err, fs.ErrNotExist) && w.forget(dir) {
		// the directory was removed since this writer made it
		if err := w.prepare(cn, dir); err != nil {
			return fmt.Errorf("%s: create directory: %w", w.url(final), err)
		}
		f, err = cn.c.CreateFile(tmp, cn.replication, cn.blockSize, 0o644)
	}
	if err != nil {
		return fmt.Errorf("%s: create temporary file %s: %w", w.url(final), tmp, err)
	}
	created := true // the temporary file exists until renamed
	defer func() {
		if err == nil || !created {
			return
		}
		// best effort; with a suspect connection (a NameNode down or hung)
		// the next successful write removes it instead
		if connError(err) {
			w.addOrphan(tmp)
		} else if rerr := cn.c.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			w.addOrphan(tmp)
		}
	}()
	// One block per write session: a file of several blocks is written
	// block by block, each after the first appended to the file closed
	// with the one before (see sessionBytes).
	for off := 0; ; {
		end := off + min(len(data)-off, sessionBytes(cn.blockSize))
		if err := w.write(ctx, f, data[off:end]); err != nil {
			f.SetDeadline(time.Now().Add(w.timeout()))
			f.Close() // releases the DataNode connection
			return fmt.Errorf("%s: write temporary file %s: %w", w.url(final), tmp, err)
		}
		if err := w.close(ctx, f); err != nil {
			return fmt.Errorf("%s: close temporary file %s: %w", w.url(final), tmp, err)
		}
		if off = end; off == len(data) {
			break
		}
		if f, err = cn.c.Append(tmp); err != nil {
			return fmt.Errorf("%s: append to temporary file %s: %w", w.url(final), tmp, err)
		}
	}
	// rename2 with OVERWRITE: one atomic NameNode operation replaces final
	if err := cn.c.Rename(tmp, final); err != nil {
		return fmt.Errorf("%s: rename %s over it: %w", w.url(final), tmp, err)
	}
	created = false
	return nil
}

// sessionBytes is how much of a file one write session (a create or an
// append, then a close) writes: one block. The Go client cannot finish a
// file of several blocks written in one session reliably. Its Close sends
// the NameNode the file's last block only on its first call; when that
// call comes before the DataNode has reported the block before it (the
// client does not wait for that report), the NameNode answers "not yet"
// without committing the last block, and every later Close names no last
// block: the file is never complete (seen under load on the test cluster,
// 2 of 40 files of 16 MiB in 8 MiB blocks; the NameNode's log shows every
// block's replica reported, and the file's completeFile calls refused for
// a minute). A session of one block has no block before its last one
// still unreported: the file's earlier blocks were complete when the
// previous session closed.
func sessionBytes(blockSize int64) int {
	return int(min(blockSize, math.MaxInt))
}

// write writes data to f, chunk by chunk, each under a deadline.
func (w *Writer) write(ctx context.Context, f *hdfsc.FileWriter, data []byte) error {
	for off := 0; off < len(data); {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := f.SetDeadline(time.Now().Add(w.timeout())); err != nil {
			return err
		}
		end := min(off+writeChunk, len(data))
		n, err := f.Write(data[off:end])
		off += n
		if err != nil {
			return err
		}
	}
	return nil
}

// closer is what close needs of a file being written (*hdfsc.FileWriter).
type closer interface {
	SetDeadline(time.Time) error
	Close() error
}

// close closes f, retrying while the NameNode answers "replication in
// progress" (the DataNodes have the data but have not yet reported the
// last block): retrying Close is safe (the client's documentation), and the
// Java client does the same. It gives up after closeAttempts attempts.
func (w *Writer) close(ctx context.Context, f closer) error {
	backoff := closeBackoff
	for attempt := 1; ; attempt++ {
		if err := f.SetDeadline(time.Now().Add(w.timeout())); err != nil {
			return err
		}
		err := f.Close()
		if !hdfsc.IsErrReplicating(err) {
			return err
		}
		if attempt == closeAttempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %w", err, ctx.Err())
		}
		backoff = min(2*backoff, closeMaxBackoff)
	}
}

func randomSuffix() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// addOrphan remembers a temporary file that a failed write could not
// remove.
func (w *Writer) addOrphan(tmp string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.orphans) < maxOrphans {
		w.orphans = append(w.orphans, tmp)
	}
}

// removeOrphans removes the temporary files of failed writes (best
// effort: those it cannot remove are kept for the next time).
func (w *Writer) removeOrphans(cn *conn) {
	w.mu.Lock()
	orphans := w.orphans
	w.orphans = nil
	w.mu.Unlock()
	for i, tmp := range orphans {
		if err := cn.c.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.mu.Lock()
			w.orphans = append(w.orphans, orphans[i:]...)
			w.mu.Unlock()
			return
		}
	}
}

// isTemp reports whether a file name is one of the writer's temporaries.
func isTemp(base string) bool {
	return strings.HasPrefix(base, ".") && strings.Contains(base, tmpMark)
}

// prepare makes dir (with its parents) and removes the temporary files in
// it older than staleTemp (left by a crash or by a write whose connection
// broke), once per directory and writer: a file's write then costs no
// NameNode call for its directory (one in five of them before).
func (w *Writer) prepare(cn *conn, dir string) error {
	w.mu.Lock()
	done := w.ready[dir]
	w.mu.Unlock()
	if done {
		return nil
	}
	if err := cn.c.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if entries, err := cn.c.ReadDir(dir); err == nil {
		for _, e := range entries {
			if !e.IsDir() && isTemp(e.Name()) && time.Since(e.ModTime()) > staleTemp {
				cn.c.Remove(path.Join(dir, e.Name()))
			}
		}
	}
	w.mu.Lock()
	if w.ready == nil || len(w.ready) >= maxReady {
		w.ready = map[string]bool{} // bounded memory; preparing again is harmless
	}
	w.ready[dir] = true
	w.mu.Unlock()
	return nil
}

// forget drops dir from the directories prepared, reporting whether it
// was there.
func (w *Writer) forget(dir string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	done := w.ready[dir]
	delete(w.ready, dir)
	return done
}

// Objects lists the files of topology (names relative to Dir, as Naming
// made them, sorted), skipping temporary files.
func (w *Writer) Objects(ctx context.Context, topology string) (names []string, err error) {
	cn, err := w.acquire()
	if err != nil {
		return nil, err
	}
	defer func() { w.release(cn, err) }()
	root := path.Join(w.Dir, w.Naming.Prefix, topology)
	var walk func(dir string) error
	walk = func(dir string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		entries, err := cn.c.ReadDir(dir)
		if err != nil {
			if dir == root && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("%s: list: %w", w.url(dir), err)
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			switch {
			case e.IsDir():
				if err := walk(p); err != nil {
					return err
				}
			case strings.HasPrefix(e.Name(), "."), !strings.HasSuffix(e.Name(), w.Naming.Ext):
			default:
				names = append(names, strings.TrimPrefix(strings.TrimPrefix(p, w.Dir), "/"))
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// Get returns a file's stored bytes (name relative to Dir).
func (w *Writer) Get(ctx context.Context, name string) (data []byte, err error) {
	if err := atomicfile.CheckName(name); err != nil {
		return nil, fmt.Errorf("%s: object name: %w", w.url(w.Dir), err)
	}
	p := path.Join(w.Dir, name)
	cn, err := w.acquire()
	if err != nil {
		return nil, err
	}
	defer func() { w.release(cn, err) }()
	f, err := cn.c.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", w.url(p), err)
	}
	defer f.Close()
	if f.Stat().IsDir() {
		return nil, fmt.Errorf("%s: is a directory: %w", w.url(p), fs.ErrInvalid)
	}
	data = make([]byte, f.Stat().Size())
	for off := 0; off < len(data); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := f.SetDeadline(time.Now().Add(w.timeout())); err != nil {
			return nil, fmt.Errorf("%s: read: %w", w.url(p), err)
		}
		n, err := f.Read(data[off:min(off+chunk, len(data))])
		off += n
		if err == io.EOF && off < len(data) {
			return nil, fmt.Errorf("%s: read: %d of %d bytes: %w", w.url(p), off, len(data), io.ErrUnexpectedEOF)
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: read: %w", w.url(p), err)
		}
	}
	return data, nil
}

// Read returns a file's decoded content (decrypted, decompressed).
func (w *Writer) Read(ctx context.Context, name string) ([]byte, error) {
	data, err := w.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	out, err := sinks.DecodeObject(w.Codec.Key, name, data)
	if err != nil {
		return nil, fmt.Errorf("%s: decode: %w", w.url(path.Join(w.Dir, name)), err)
	}
	return out, nil
}

// Close closes the writer's connection (a later call connects again).
func (w *Writer) Close() error {
	w.mu.Lock()
	cn := w.cur
	w.cur = nil
	closeIt := false
	if cn != nil {
		cn.broken = true
		closeIt = cn.refs == 0
	}
	w.mu.Unlock()
	if closeIt {
		return cn.c.Close()
	}
	return nil
}
