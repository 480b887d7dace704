//go:build ceph

package ceph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ceph/go-ceph/rados"

	"github.com/gale-stream/gale/sinks"
)

// XattrPrefix prefixes the sinks.ObjectMeta keys in a head object's xattrs.
const XattrPrefix = "gale."

// The extended attributes of a head object (the object named by Naming).
const (
	// XattrBatch holds the batch id ("events/00002/000000000007").
	XattrBatch = XattrPrefix + sinks.MetaBatch
	// XattrRecords holds the number of records of the object (decimal).
	XattrRecords = XattrPrefix + sinks.MetaRecords
	// XattrSHA256 holds sinks.Checksum of the object's decoded content.
	XattrSHA256 = XattrPrefix + sinks.MetaSHA256
	// XattrStart and XattrEnd hold the batch's offsets (decimal).
	XattrStart = XattrPrefix + sinks.MetaStart
	XattrEnd   = XattrPrefix + sinks.MetaEnd
	// XattrBytes holds the size of the encoded object (decimal): of the
	// head's data, or of all its parts together.
	XattrBytes = XattrPrefix + sinks.MetaBytes
	// XattrParts is set on a manifest only: the number of parts (decimal).
	XattrParts = "gale.parts"
	// XattrPartOf is set on each part: the name of its head object.
	XattrPartOf = "gale.part-of"
)

// PartName returns the name of part i of the object name.
func PartName(name string, i int) string { return fmt.Sprintf("%s.part-%05d", name, i) }

var partRE = regexp.MustCompile(`\.part-[0-9]{5,}$`)

// IsPartName tells whether name is the name of a part (see PartName).
func IsPartName(name string) bool { return partRE.MatchString(name) }

// Writer writes batches into one pool (and namespace) over its own
// connection to the cluster; it also reads them back (sinks.Inventory).
// It is safe for concurrent use; Close ends it.
type Writer struct {
	naming    sinks.Naming
	codec     sinks.Codec
	maxObject int64
	pool      string
	namespace string
	where     string // "ceph sink (pool "p", namespace "n")", for errors

	mu    sync.RWMutex // write-held by Close only
	conn  *rados.Conn
	ioctx *rados.IOContext
}

var (
	_ sinks.Writer    = (*Writer)(nil)
	_ sinks.Inventory = (*Writer)(nil)
)

// Open connects to the cluster of c's conf_file and opens its pool (and
// namespace), creating the pool when it is missing and create_pool is set.
// Connecting gives up after timeout_seconds; ctx ends the wait earlier.
func (c *Config) Open(ctx context.Context) (*Writer, error) {
	w := &Writer{naming: c.Naming(), codec: c.codec(), maxObject: c.MaxObjectBytes, pool: c.Pool, namespace: c.Namespace}
	if c.MaxObjectBytes == 0 {
		w.maxObject = DefaultObjectBytes
	}
	w.where = fmt.Sprintf("ceph sink (pool %q)", c.Pool)
	if c.Namespace != "" {
		w.where = fmt.Sprintf("ceph sink (pool %q, namespace %q)", c.Pool, c.Namespace)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", w.where, err)
	}
	conf := c.confFile()
	user := c.User
	if user == "" {
		user = "admin"
	}
	timeout := c.TimeoutSeconds
	if timeout <= 0 {
		timeout = 30
	}
	conn, err := rados.NewConnWithUser(user)
	if err != nil {
		return nil, fmt.Errorf("%s: create connection for user %q: %w", w.where, user, err)
	}
	if err := conn.ReadConfigFile(conf); err != nil {
		return nil, fmt.Errorf("%s: read ceph config %s: %w", w.where, conf, err)
	}
	// librados otherwise waits for ever for a monitor or an OSD
	for _, opt := range []string{"client_mount_timeout", "rados_mon_op_timeout", "rados_osd_op_timeout"} {
		if err := conn.SetConfigOption(opt, strconv.Itoa(timeout)); err != nil {
			return nil, fmt.Errorf("%s: set %s: %w", w.where, opt, err)
		}
	}
	if err := connect(ctx, conn); err != nil {
		return nil, fmt.Errorf("%s: connect to the cluster of %s as client.%s: %w", w.where, conf, user, err)
	}
	w.conn = conn
	ioctx, err := w.openPool(c.CreatePool)
	if err != nil {
		conn.Shutdown()
		return nil, err
	}
	ioctx.SetNamespace(c.Namespace)
	w.ioctx = ioctx
	return w, nil
}

// connect connects conn, giving up when ctx ends (a connection that then
// comes up is shut down).
func connect(ctx context.Context, conn *rados.Conn) error {
	done := make(chan error, 1)
	go func() { done <- conn.Connect() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		go func() {
			if <-done == nil {
				conn.Shutdown()
			}
		}()
		return ctx.Err()
	}
}

// openPool opens the pool, creating it if allowed.
func (w *Writer) openPool(create bool) (*rados.IOContext, error) {
	ioctx, err := w.conn.OpenIOContext(w.pool)
	if err == nil {
		return ioctx, nil
	}
	if !errors.Is(err, rados.ErrNotFound) {
		return nil, fmt.Errorf("%s: open pool: %w", w.where, err)
	}
	if !create {
		return nil, fmt.Errorf("%s: pool %q does not exist: create it (ceph osd pool create %s), or set \"create_pool\": true to have the sink create it: %w",
			w.where, w.pool, w.pool, sinks.ErrConfig)
	}
	// another task may create it at the same time: EEXIST is fine
	if err := w.conn.MakePool(w.pool); err != nil && !errors.Is(err, rados.ErrObjectExists) {
		return nil, fmt.Errorf("%s: create pool %q: %w", w.where, w.pool, err)
	}
	// tag the pool as used by librados directly (else HEALTH_WARN
	// POOL_APP_NOT_ENABLED); idempotent
	cmd, _ := json.Marshal(map[string]string{"prefix": "osd pool application enable", "pool": w.pool, "app": "rados"})
	if _, info, err := w.conn.MonCommand(cmd); err != nil {
		return nil, fmt.Errorf("%s: enable application \"rados\" on pool %q: %w (%s)", w.where, w.pool, err, info)
	}
	if err := w.conn.WaitForLatestOSDMap(); err != nil {
		return nil, fmt.Errorf("%s: wait for the osdmap with pool %q: %w", w.where, w.pool, err)
	}
	ioctx, err = w.conn.OpenIOContext(w.pool)
	if err != nil {
		return nil, fmt.Errorf("%s: open pool %q after creating it: %w", w.where, w.pool, err)
	}
	return ioctx, nil
}

// errClosed: the writer was used after Close.
var errClosed = errors.New("writer is closed")

// acquire read-locks the writer for one call; release with w.mu.RUnlock.
func (w *Writer) acquire() (*rados.IOContext, error) {
	w.mu.RLock()
	if w.ioctx == nil {
		w.mu.RUnlock()
		return nil, fmt.Errorf("%s: %w", w.where, errClosed)
	}
	return w.ioctx, nil
}

// WriteBatch writes b's objects (one per part of sinks.Naming.Parts), each
// with one atomic write op; see the package doc. It returns the bytes
// stored.
func (w *Writer) WriteBatch(ctx context.Context, b *sinks.Batch) (int64, error) {
	ioctx, err := w.acquire()
	if err != nil {
		return 0, err
	}
	defer w.mu.RUnlock()
	return sinks.StoreParts(ctx, b, w.naming, w.codec, XattrPrefix, w.where, func(name string, data []byte, attrs map[string]string) error {
		return w.put(ctx, ioctx, name, data, attrs)
	})
}

// put stores data as the object name with attrs: as one object, or as
// parts and a manifest. Then it removes parts of an earlier, differently
// split version of the object.
func (w *Writer) put(ctx context.Context, ioctx *rados.IOContext, name string, data []byte, attrs map[string]string) error {
	parts := 0
	if int64(len(data)) > w.maxObject {
		for off := int64(0); off < int64(len(data)); off += w.maxObject {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%s: write %s: %w", w.where, name, err)
			}
			chunk := data[off:min(off+w.maxObject, int64(len(data)))]
			pn := PartName(name, parts)
			if err := operate(ioctx, pn, func(op *rados.WriteOp) {
				op.WriteFull(chunk)
				op.SetXattr(XattrPartOf, []byte(name))
			}); err != nil {
				return fmt.Errorf("%s: write part %s: %w", w.where, pn, err)
			}
			parts++
		}
		attrs[XattrParts] = strconv.Itoa(parts)
		data = nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: write %s: %w", w.where, name, err)
	}
	// One compound op, applied atomically by the OSD: create (so that the
	// remove cannot fail with ENOENT), remove (drops old data, xattrs and
	// omap), write the new data (or create an empty manifest), set the
	// xattrs. Readers see the old object or the new one, never a mix.
	if err := operate(ioctx, name, func(op *rados.WriteOp) {
		op.Create(rados.CreateIdempotent)
		op.Remove()
		if len(data) > 0 {
			op.WriteFull(data) // go-ceph's WriteFull cannot take an empty slice
		} else {
			op.Create(rados.CreateIdempotent)
		}
		keys := make([]string, 0, len(attrs))
		for k := range attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if v := attrs[k]; v != "" { // go-ceph's SetXattr cannot take an empty value
				op.SetXattr(k, []byte(v))
			}
		}
	}); err != nil {
		return fmt.Errorf("%s: write %s: %w", w.where, name, err)
	}
	// parts left by an earlier version split in more parts (another
	// max_object_bytes, another key): nothing refers to them any more
	for i := parts; ; i++ {
		pn := PartName(name, i)
		if _, err := ioctx.Stat(pn); errors.Is(err, rados.ErrNotFound) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: look for stale part %s: %w", w.where, pn, err)
		}
		if err := ioctx.Delete(pn); err != nil && !errors.Is(err, rados.ErrNotFound) {
			return fmt.Errorf("%s: delete stale part %s: %w", w.where, pn, err)
		}
	}
}

// operate runs one write op built by build on oid.
func operate(ioctx *rados.IOContext, oid string, build func(*rados.WriteOp)) error {
	op := rados.CreateWriteOp()
	defer op.Release()
	build(op)
	err := op.Operate(ioctx, oid, rados.OperationNoFlag)
	var oe rados.OperationError
	if errors.As(err, &oe) && oe.OpError != nil && len(oe.StepErrors) == 0 {
		return oe.OpError // the errno, for errors.Is (OperationError has no Unwrap)
	}
	return err
}

// Objects lists the head objects of topology in the pool and namespace:
// names under <prefix>/<topology>/ with the naming's extension, sorted;
// parts are left out.
func (w *Writer) Objects(ctx context.Context, topology string) ([]string, error) {
	ioctx, err := w.acquire()
	if err != nil {
		return nil, err
	}
	defer w.mu.RUnlock()
	want := path.Join(w.naming.Prefix, topology) + "/"
	var names []string
	err = ioctx.ListObjects(func(oid string) {
		if strings.HasPrefix(oid, want) && strings.HasSuffix(oid, w.naming.Ext) && !IsPartName(oid) {
			names = append(names, oid)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s: list objects of topology %q: %w", w.where, topology, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// Read returns the decoded content of the object name (reassembled from
// its parts for a manifest), checked against its gale.bytes and
// gale.sha256 xattrs.
func (w *Writer) Read(ctx context.Context, name string) ([]byte, error) {
	ioctx, err := w.acquire()
	if err != nil {
		return nil, err
	}
	defer w.mu.RUnlock()
	data, attrs, err := w.stored(ctx, ioctx, name)
	if err != nil {
		return nil, err
	}
	content, err := sinks.DecodeObject(w.codec.Key, name, data)
	if err != nil {
		return nil, fmt.Errorf("%s: decode %s: %w", w.where, name, err)
	}
	if sum, ok := attrs[XattrSHA256]; ok && string(sum) != sinks.Checksum(content) {
		return nil, fmt.Errorf("%s: %s: content does not match its %s xattr (changed while read?)", w.where, name, XattrSHA256)
	}
	return content, nil
}

// Get returns the stored (encoded) bytes of the object name, reassembled
// from its parts for a manifest.
func (w *Writer) Get(ctx context.Context, name string) ([]byte, error) {
	ioctx, err := w.acquire()
	if err != nil {
		return nil, err
	}
	defer w.mu.RUnlock()
	data, _, err := w.stored(ctx, ioctx, name)
	return data, err
}

// stored returns the stored (encoded) bytes of name, reassembled, and its
// xattrs.
func (w *Writer) stored(ctx context.Context, ioctx *rados.IOContext, name string) ([]byte, map[string][]byte, error) {
	attrs, err := ioctx.ListXattrs(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read xattrs of %s: %w", w.where, name, err)
	}
	var data []byte
	if v, ok := attrs[XattrParts]; ok {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 {
			return nil, nil, fmt.Errorf("%s: %s: bad %s xattr %q", w.where, name, XattrParts, v)
		}
		for i := range n {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			if data, err = w.readAll(ioctx, PartName(name, i), data); err != nil {
				return nil, nil, err
			}
		}
	} else if data, err = w.readAll(ioctx, name, nil); err != nil {
		return nil, nil, err
	}
	if v, ok := attrs[XattrBytes]; ok && string(v) != strconv.Itoa(len(data)) {
		return nil, nil, fmt.Errorf("%s: %s: %d bytes stored, its %s xattr says %s (changed while read?)", w.where, name, len(data), XattrBytes, v)
	}
	return data, attrs, nil
}

// readChunk bounds one read call.
const readChunk = 16 << 20

// readAll appends the data of object oid to buf.
func (w *Writer) readAll(ioctx *rados.IOContext, oid string, buf []byte) ([]byte, error) {
	st, err := ioctx.Stat(oid)
	if err != nil {
		return buf, fmt.Errorf("%s: stat %s: %w", w.where, oid, err)
	}
	start := len(buf)
	buf = slices.Grow(buf, int(st.Size))
	for off := uint64(0); off < st.Size; {
		chunk := buf[len(buf):min(cap(buf), len(buf)+readChunk)]
		n, err := ioctx.Read(oid, chunk, off)
		if err != nil {
			return buf, fmt.Errorf("%s: read %s at %d: %w", w.where, oid, off, err)
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
		off += uint64(n)
	}
	if got := uint64(len(buf) - start); got != st.Size {
		return buf, fmt.Errorf("%s: read %s: %d bytes, stat said %d (changed while read?)", w.where, oid, got, st.Size)
	}
	return buf, nil
}

// Close closes the pool and the connection, after the calls in progress.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ioctx != nil {
		w.ioctx.Destroy()
		w.ioctx = nil
	}
	if w.conn != nil {
		w.conn.Shutdown()
		w.conn = nil
	}
	return nil
}
