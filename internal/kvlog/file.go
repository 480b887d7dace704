package kvlog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// FileLog is a Log in a directory, for one machine (local mode, dev,
// tests):
//
//	DIR/LOCK          flock'ed by writers (between processes of one machine)
//	DIR/ID            the log's identity, written when it is created
//	DIR/log           the transactions, appended
//	DIR/log.compact   a compaction being written
//
// A transaction is one frame: "GKV1", its length (uvarint), the records
// (a count, then per record the key and the value, each with its length;
// a tombstone's length is written 0, a value's len+1), and a CRC-32C of
// the records. A frame is appended and fsynced under the lock; a torn
// frame at the end (a crash mid-write) is cut off by the next writer.
// Owners' epochs are records of the log itself (keys "\x00owner/OWNER"):
// taking a Writer appends the next epoch, and every Write checks, under the
// lock, that the owner's epoch is still the writer's.
//
// Compaction: once the log holds four times the bytes of its live records
// (and more than a megabyte), a writer rewrites the live records into
// log.compact and renames it over the log; readers notice the new file and
// read it afresh. Reads sync the view with the file first (they are always
// current); Watch polls the file.
//
// flock is advisory and local: every writer must go through a FileLog,
// and DIR must not be shared between machines.
type FileLog struct {
	dir  string
	id   string
	poll time.Duration
	// compactAt: a log larger than this (and four times its live
	// records) is compacted
	compactAt int64
	hub       *hub
	done      chan struct{}
	wg        sync.WaitGroup // the poller

	closed atomic.Bool

	wmu  sync.Mutex // serialises this instance's writers; guards lock
	lock *os.File   // DIR/LOCK

	mu      sync.Mutex // guards the fields below, and reading the file
	f       *os.File   // the log file read so far
	off     int64      // where the next frame starts
	view    map[string][]byte
	owners  map[string]uint64 // owner -> epoch
	liveLen int64             // bytes of the view's records
	polling bool
}

var _ Log = (*FileLog)(nil)

const (
	frameMagic   = "GKV1"
	ownerPrefix  = "\x00owner/"
	compactBytes = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// FileOption configures a FileLog.
type FileOption func(*FileLog)

// WithPoll sets how often Watch reads the file for changes (default
// 100 ms).
func WithPoll(d time.Duration) FileOption {
	return func(l *FileLog) {
		if d > 0 {
			l.poll = d
		}
	}
}

// WithCompactAt sets the size past which a log is compacted when its
// dead records outweigh the live ones four times (default 1 MiB).
func WithCompactAt(bytes int64) FileOption {
	return func(l *FileLog) {
		if bytes > 0 {
			l.compactAt = bytes
		}
	}
}

// OpenFile opens the log in dir, creating the directory and the log when
// missing, and reads it.
func OpenFile(dir string, opts ...FileOption) (*FileLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	l := &FileLog{dir: dir, poll: 100 * time.Millisecond, compactAt: compactBytes, hub: newHub(), done: make(chan struct{}), lock: lock,
		view: map[string][]byte{}, owners: map[string]uint64{}}
	for _, o := range opts {
		o(l)
	}
	err = l.locked(context.Background(), func() error {
		os.Remove(filepath.Join(dir, "log.compact")) // a compaction a crash interrupted
		b, err := os.ReadFile(filepath.Join(dir, "ID"))
		if errors.Is(err, fs.ErrNotExist) {
			raw := make([]byte, 16)
			rand.Read(raw)
			b = []byte(hex.EncodeToString(raw))
			if err := writeAtomic(dir, "ID", b); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		l.id = strings.TrimSpace(string(b))
		f, err := os.OpenFile(filepath.Join(dir, "log"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		f.Close()
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.sync()
	})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	return l, nil
}

// Dir returns the log's directory.
func (l *FileLog) Dir() string { return l.dir }

// locked runs fn under the exclusive flock of DIR/LOCK, taken within ctx.
func (l *FileLog) locked(ctx context.Context, fn func() error) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.lock == nil {
		return ErrClosed
	}
	fd := int(l.lock.Fd())
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("lock %s: %w", l.dir, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("lock %s: %w", l.dir, ctx.Err())
		}
	}
	defer syscall.Flock(fd, syscall.LOCK_UN)
	return fn()
}

// sync reads the frames appended since the last sync (the whole file when
// it was replaced by a compaction) into the view. l.mu must be held.
func (l *FileLog) sync() error {
	if l.id != "" {
		b, err := os.ReadFile(filepath.Join(l.dir, "ID"))
		if err != nil || strings.TrimSpace(string(b)) != l.id {
			return fmt.Errorf("log %s: %w", l.dir, ErrGone)
		}
	}
	path := filepath.Join(l.dir, "log")
	onDisk, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("log %s: %w: %w", l.dir, ErrGone, err)
	}
	if l.f != nil {
		if open, err := l.f.Stat(); err != nil || !os.SameFile(onDisk, open) {
			l.f.Close()
			l.f = nil // compacted: read the new file afresh
		}
	}
	fresh := l.f == nil
	if fresh {
		if l.f, err = os.Open(path); err != nil {
			return fmt.Errorf("log %s: %w", l.dir, err)
		}
		l.off = 0
	}
	st, err := l.f.Stat()
	if err != nil {
		return err
	}
	if st.Size() <= l.off && !fresh {
		return nil
	}
	data := make([]byte, st.Size()-l.off)
	if _, err := l.f.ReadAt(data, l.off); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read log %s: %w", l.dir, err)
	}
	old := l.view
	if fresh {
		l.view, l.owners, l.liveLen = map[string][]byte{}, map[string]uint64{}, 0
	}
	n, err := l.applyFrames(data, !fresh)
	l.off += int64(n)
	if fresh && old != nil {
		// publish what changed between the old view and the new file
		for k, v := range l.view {
			if ov, ok := old[k]; !ok || !bytes.Equal(ov, v) {
				l.hub.publish(Change{Key: k})
			}
		}
		for k := range old {
			if _, ok := l.view[k]; !ok {
				l.hub.publish(Change{Key: k, Deleted: true})
			}
		}
	}
	return err
}

// applyFrames applies the complete frames at the start of data and returns
// their length; an incomplete or damaged frame ends them (a frame being
// written, or a torn one a crash left: cut off by the next writer).
func (l *FileLog) applyFrames(data []byte, publish bool) (int, error) {
	n := 0
	for {
		recs, size, ok := decodeFrame(data[n:])
		if !ok {
			return n, nil
		}
		for _, r := range recs {
			l.apply(r, publish)
		}
		n += size
	}
}

func (l *FileLog) apply(r Record, publish bool) {
	if owner, ok := strings.CutPrefix(r.Key, ownerPrefix); ok {
		if e, err := strconv.ParseUint(string(r.Value), 10, 64); err == nil {
			l.owners[owner] = e
		}
		return
	}
	if old, ok := l.view[r.Key]; ok {
		l.liveLen -= int64(len(r.Key) + len(old))
	}
	if r.Value == nil {
		delete(l.view, r.Key)
	} else {
		l.view[r.Key] = r.Value
		l.liveLen += int64(len(r.Key) + len(r.Value))
	}
	if publish {
		l.hub.publish(Change{Key: r.Key, Deleted: r.Value == nil})
	}
}

// encodeFrame returns the frame of records.
func encodeFrame(records []Record) []byte {
	var p []byte
	p = binary.AppendUvarint(p, uint64(len(records)))
	for _, r := range records {
		p = binary.AppendUvarint(p, uint64(len(r.Key)))
		p = append(p, r.Key...)
		if r.Value == nil {
			p = binary.AppendUvarint(p, 0)
			continue
		}
		p = binary.AppendUvarint(p, uint64(len(r.Value))+1)
		p = append(p, r.Value...)
	}
	f := append([]byte(frameMagic), binary.AppendUvarint(nil, uint64(len(p)))...)
	f = append(f, p...)
	return binary.BigEndian.AppendUint32(f, crc32.Checksum(p, crcTable))
}

// decodeFrame decodes the frame at the start of b; ok is false for an
// incomplete or damaged one.
func decodeFrame(b []byte) (records []Record, size int, ok bool) {
	if len(b) < len(frameMagic)+1 || string(b[:len(frameMagic)]) != frameMagic {
		return nil, 0, false
	}
	plen, k := binary.Uvarint(b[len(frameMagic):])
	if k <= 0 {
		return nil, 0, false
	}
	start := len(frameMagic) + k
	end := start + int(plen)
	if plen > uint64(len(b)) || end+4 > len(b) {
		return nil, 0, false
	}
	p := b[start:end]
	if binary.BigEndian.Uint32(b[end:]) != crc32.Checksum(p, crcTable) {
		return nil, 0, false
	}
	count, k := binary.Uvarint(p)
	if k <= 0 || count > uint64(len(p)) {
		return nil, 0, false
	}
	p = p[k:]
	for range count {
		klen, k := binary.Uvarint(p)
		if k <= 0 || klen > uint64(len(p)-k) {
			return nil, 0, false
		}
		key := string(p[k : k+int(klen)])
		p = p[k+int(klen):]
		vlen, k := binary.Uvarint(p)
		if k <= 0 || vlen > uint64(len(p)-k)+1 {
			return nil, 0, false
		}
		var value []byte
		if vlen > 0 {
			value = bytes.Clone(p[k : k+int(vlen)-1])
			p = p[k+int(vlen)-1:]
		} else {
			p = p[k:]
		}
		records = append(records, Record{Key: key, Value: value})
	}
	return records, end + 4, len(p) == 0
}

// appendFrame appends records as one frame, durably, cutting off a torn
// frame first; it compacts the log when due. The flock and l.mu must be
// held, and the view synced.
func (l *FileLog) appendFrame(records []Record) error {
	path := filepath.Join(l.dir, "log")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("log %s: %w", l.dir, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return err
	} else if st.Size() > l.off {
		if err := f.Truncate(l.off); err != nil { // a torn frame
			return fmt.Errorf("log %s: cut a torn frame: %w", l.dir, err)
		}
	}
	frame := encodeFrame(records)
	if _, err := f.WriteAt(frame, l.off); err != nil {
		return fmt.Errorf("log %s: write: %w", l.dir, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("log %s: fsync: %w", l.dir, err)
	}
	if err := l.sync(); err != nil {
		return err
	}
	if l.off > l.compactAt && l.off > 4*(l.liveLen+int64(64*len(l.owners))) {
		return l.compact()
	}
	return nil
}

// compact rewrites the live records (and the owners' epochs) into a new
// file and renames it over the log. The flock and l.mu must be held.
func (l *FileLog) compact() error {
	var recs []Record
	var frames []byte
	flush := func() {
		if len(recs) > 0 {
			frames = append(frames, encodeFrame(recs)...)
			recs = recs[:0]
		}
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range l.owners {
			if !yield(k) {
				return
			}
		}
	}) {
		recs = append(recs, Record{Key: ownerPrefix + k, Value: []byte(strconv.FormatUint(l.owners[k], 10))})
	}
	for _, k := range l.sortedKeys("") {
		recs = append(recs, Record{Key: k, Value: l.view[k]})
		if len(recs) == 1000 {
			flush()
		}
	}
	flush()
	if err := writeAtomic(l.dir, "log", frames); err != nil {
		return fmt.Errorf("compact log %s: %w", l.dir, err)
	}
	return l.sync()
}

// writeAtomic writes dir/name through a temporary file, fsync, rename and
// an fsync of the directory.
func writeAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".compact")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (l *FileLog) sortedKeys(prefix string) []string {
	keys := make([]string, 0, len(l.view))
	for k := range l.view {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func (l *FileLog) check(ctx context.Context) error {
	if l.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// Get implements Log; it reads the file first, so it is always current.
func (l *FileLog) Get(ctx context.Context, key string) ([]byte, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.sync(); err != nil {
		return nil, err
	}
	return bytes.Clone(l.view[key]), nil
}

// Scan implements Log; it reads the file first.
func (l *FileLog) Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	l.mu.Lock()
	if err := l.sync(); err != nil {
		l.mu.Unlock()
		return err
	}
	keys := l.sortedKeys(prefix)
	values := make([][]byte, len(keys))
	for i, k := range keys {
		values[i] = l.view[k]
	}
	l.mu.Unlock()
	for i, k := range keys {
		if err := fn(k, bytes.Clone(values[i])); err != nil {
			return err
		}
	}
	return nil
}

// Sync implements Log.
func (l *FileLog) Sync(ctx context.Context) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sync()
}

// Watch implements Log: a goroutine of the log reads the file every poll
// interval.
func (l *FileLog) Watch(ctx context.Context) (<-chan Change, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	ch, err := l.hub.watch(ctx)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if !l.polling {
		l.polling = true
		l.wg.Add(1)
		go l.pollLoop()
	}
	l.mu.Unlock()
	return ch, nil
}

func (l *FileLog) pollLoop() {
	defer l.wg.Done()
	t := time.NewTicker(l.poll)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
			l.mu.Lock()
			_ = l.sync() // an error shows in the next call
			l.mu.Unlock()
		}
	}
}

// Writer implements Log.
func (l *FileLog) Writer(ctx context.Context, owner string) (Writer, error) {
	if err := checkOwner(owner); err != nil {
		return nil, err
	}
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	w := &fileWriter{l: l, owner: owner}
	err := l.locked(ctx, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if err := l.sync(); err != nil {
			return err
		}
		w.epoch = l.owners[owner] + 1
		return l.appendFrame([]Record{{Key: ownerPrefix + owner, Value: []byte(strconv.FormatUint(w.epoch, 10))}})
	})
	if err != nil {
		return nil, fmt.Errorf("writer %q: %w", owner, err)
	}
	return w, nil
}

// Close implements Log. It may be called more than once.
func (l *FileLog) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	close(l.done)
	l.hub.close()
	l.wg.Wait()
	l.wmu.Lock()
	err := l.lock.Close()
	l.lock = nil
	l.wmu.Unlock()
	l.mu.Lock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	l.mu.Unlock()
	return err
}

type fileWriter struct {
	l      *FileLog
	owner  string
	epoch  uint64
	broken error // fenced or gone: every later write fails with it
	closed bool
}

func (w *fileWriter) Write(ctx context.Context, records ...Record) error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := checkRecords(records); err != nil {
		return err
	}
	if err := w.l.check(ctx); err != nil {
		return err
	}
	l := w.l
	err := l.locked(ctx, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if err := l.sync(); err != nil {
			return err
		}
		if cur := l.owners[w.owner]; cur != w.epoch {
			return fmt.Errorf("writer %q: epoch %d, now %d: %w", w.owner, w.epoch, cur, ErrFenced)
		}
		return l.appendFrame(records)
	})
	if errors.Is(err, ErrFenced) || errors.Is(err, ErrGone) {
		w.broken = err
	}
	return err
}

// Settle implements Writer: a file Write is over when it returns.
func (w *fileWriter) Settle(ctx context.Context) error {
	if err := w.usable(); err != nil {
		return err
	}
	return ctx.Err()
}

// usable returns why the writer may not write any more, or nil.
func (w *fileWriter) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.broken
}

func (w *fileWriter) Close() error {
	w.closed = true
	return nil
}
