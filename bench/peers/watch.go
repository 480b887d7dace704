package peers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The watcher's timing (see Watcher).
const (
	// DefaultPoll is the watcher's polling period.
	DefaultPoll = 50 * time.Millisecond
	// youngFor: a file is checked at every poll for this long after it
	// was first seen, and after it last grew.
	youngFor   = 2 * time.Second
	growingFor = 10 * time.Second
	// coldEvery: how often a file that is neither young nor growing is
	// checked (local: stat; HDFS: probed with OPEN when its listed length
	// may be stale).
	coldEvery = 500 * time.Millisecond
	// suspectEvery: how often an HDFS file whose listed length may lag its
	// content (a multiple of its block size, 0 included: a file being
	// written) is probed while young.
	suspectEvery = 100 * time.Millisecond
)

// Hidden reports whether a base name is one the watcher skips: a file (or
// directory) in progress, by the peers' contract, starts with "." or "_".
func Hidden(base string) bool { return strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") }

// Watcher finds the records' lines in an engine's output: every poll it
// lists the files under the output (recursively, skipping Hidden names),
// and reads from each file its new complete lines, from where it last
// stopped (a partial last line is read again at the next poll, once
// complete). The time a line is first seen is when the read that brought it
// returned. It is identical for every engine; only the store differs
// (local directory or HDFS through WebHDFS).
//
// To bound its own cost with thousands of files (Gale writes one per
// batch) it checks at every poll only the files that may change: new ones,
// young ones (first seen, or grown, less than 2 s ago), those ending in a
// partial line, and those that grew after they were first read in the
// last 10 s (files written in place, like Storm's HdfsBolt's); the others
// every 500 ms.
type Watcher struct {
	src  source
	poll time.Duration

	mu    sync.Mutex // held by a poll; guards seen and files
	seen  *Seen
	files map[string]*fileState

	distinct atomic.Int64
	lastNew  atomic.Int64 // Unix µs of the last first sighting
	stats    WatchStats
	errs     atomic.Int64
	lastErr  atomic.Pointer[string]
}

// WatchStats are the watcher's own figures, for the report.
type WatchStats struct {
	Polls       int64   `json:"polls"`
	SlowPolls   int64   `json:"polls_over_period"` // polls that took longer than the period
	MaxPollMs   float64 `json:"max_poll_ms"`
	TotalPollMs float64 `json:"total_poll_ms"` // time spent polling (the final check apart)
	Reads       int64   `json:"reads"`
	ReadMs      float64 `json:"read_ms"` // time spent reading (HDFS: the parallel reads of a poll)
	Bytes       int64   `json:"bytes"`
	Files       int     `json:"files"`
	Shrunk      int64   `json:"shrunk_files"` // a file seen shorter than what was read of it
	Errors      int64   `json:"errors"`
	LastError   string  `json:"last_error,omitempty"`
	ListCalls   int64   `json:"list_calls"`
	ListMs      float64 `json:"list_ms"` // time spent listing (HDFS: LISTSTATUS calls)
	ProbeCalls  int64   `json:"probe_calls"`
}

type fileState struct {
	offset     int64
	firstSeen  time.Time
	lastGrowth time.Time // last time new bytes were read
	lastCheck  time.Time
	grew       bool // grew after its first read: written in place
	partial    bool // the last read ended inside a line
}

// young reports whether f is checked at every poll.
func (f *fileState) young(now time.Time) bool {
	return f.offset == 0 || f.partial || now.Sub(f.firstSeen) < youngFor ||
		now.Sub(f.lastGrowth) < youngFor || (f.grew && now.Sub(f.lastGrowth) < growingFor)
}

// source is a store of files: a local directory or an HDFS directory.
type source interface {
	// poll visits the files to check now; for each, check(name, size)
	// where size is the file's length as the store reports it (-1: not
	// known without reading). It returns the number of list calls made.
	poll(ctx context.Context, w *Watcher, now time.Time, full bool) error
	// readFrom returns the file's bytes from offset to its current end
	// (nil when there are none).
	readFrom(ctx context.Context, name string, offset int64) ([]byte, error)
}

// NewLocalWatcher watches the directory dir.
func NewLocalWatcher(dir string, poll time.Duration) *Watcher {
	return newWatcher(&localSource{root: dir}, poll)
}

// NewHDFSWatcher watches the HDFS directory dir through WebHDFS at web
// ("host:port" of the NameNode's HTTP server) as user.
func NewHDFSWatcher(web, user, dir string, poll time.Duration) *Watcher {
	return newWatcher(newHDFSSource(NewWebHDFS(web, user), dir), poll)
}

func newWatcher(src source, poll time.Duration) *Watcher {
	if poll <= 0 {
		poll = DefaultPoll
	}
	return &Watcher{src: src, poll: poll, seen: &Seen{}, files: map[string]*fileState{}}
}

// Run polls until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.poll)
	defer t.Stop()
	for {
		w.Poll(ctx, false)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll runs one poll now; full checks every file and directory that may
// hold new lines, whatever their age (the final poll, once the engine
// stopped; left out of the poll statistics).
func (w *Watcher) Poll(ctx context.Context, full bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := time.Now()
	if err := w.src.poll(ctx, w, start, full); err != nil && ctx.Err() == nil {
		w.noteErr(err)
	}
	if full {
		return // the final check: not a poll of the measurement
	}
	d := time.Since(start)
	w.stats.Polls++
	w.stats.TotalPollMs += float64(d) / 1e6
	if d > w.poll {
		w.stats.SlowPolls++
	}
	if ms := float64(d) / 1e6; ms > w.stats.MaxPollMs {
		w.stats.MaxPollMs = ms
	}
}

func (w *Watcher) noteErr(err error) {
	w.errs.Add(1)
	s := err.Error()
	w.lastErr.Store(&s)
}

// state returns name's state, new when first seen.
func (w *Watcher) state(name string, now time.Time) *fileState {
	f := w.files[name]
	if f == nil {
		f = &fileState{firstSeen: now}
		w.files[name] = f
	}
	return f
}

// due reports whether f should be checked at this poll.
func (f *fileState) due(now time.Time, full bool) bool {
	return full || f.young(now) || now.Sub(f.lastCheck) >= coldEvery
}

// read reads name's new bytes from f.offset and counts its complete lines.
func (w *Watcher) read(ctx context.Context, name string, f *fileState) {
	start := time.Now()
	data, err := w.src.readFrom(ctx, name, f.offset)
	now := time.Now()
	w.stats.ReadMs += float64(now.Sub(start)) / 1e6
	w.apply(ctx, name, f, data, err, now)
}

// fileRead is a file to read (or a read done), for readAll.
type fileRead struct {
	name string
	f    *fileState
	data []byte
	err  error
	at   time.Time
}

// readAll reads the files concurrently (at most parallel at a time: a
// WebHDFS read is two HTTP round trips, NameNode then DataNode), each
// read's lines seen when that read returned, then counts them in order.
func (w *Watcher) readAll(ctx context.Context, reads []fileRead, parallel int) {
	start := time.Now()
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range reads {
		r := &reads[i]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			r.data, r.err = w.src.readFrom(ctx, r.name, r.f.offset)
			r.at = time.Now()
		}()
	}
	wg.Wait()
	w.stats.ReadMs += float64(time.Since(start)) / 1e6
	for i := range reads {
		r := &reads[i]
		w.apply(ctx, r.name, r.f, r.data, r.err, r.at)
	}
}

// apply counts the lines of a read of name from f.offset done at now.
func (w *Watcher) apply(ctx context.Context, name string, f *fileState, data []byte, err error, now time.Time) {
	f.lastCheck = now
	w.stats.Reads++
	if err != nil {
		if ctx.Err() == nil {
			w.noteErr(fmt.Errorf("%s: %w", name, err))
		}
		return
	}
	if len(data) == 0 {
		return
	}
	w.stats.Bytes += int64(len(data))
	if f.offset > 0 || f.partial {
		f.grew = true // new bytes after a first read: written in place
	}
	n := w.consume(data, now.UnixMicro())
	f.offset += int64(n)
	f.partial = n < len(data)
	if n > 0 {
		f.lastGrowth = now
	}
}

// consume counts the complete lines of data, seen at now (Unix µs), and
// returns how many bytes they take (up to and including the last '\n').
func (w *Watcher) consume(data []byte, now int64) int {
	n := bytes.LastIndexByte(data, '\n') + 1
	lines := data[:n]
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		line := lines[:i]
		lines = lines[i+1:]
		if len(line) == 0 {
			continue
		}
		p, seq, ts, err := ParseLine(line)
		if err != nil {
			w.seen.Bad(line)
			continue
		}
		if w.seen.Observe(p, seq, ts, now) {
			w.distinct.Add(1)
			w.lastNew.Store(now)
		}
	}
	return n
}

// Distinct is the number of ids seen so far (safe at any time).
func (w *Watcher) Distinct() int64 { return w.distinct.Load() }

// LastNew is when the last new id was first seen (zero time: none yet).
func (w *Watcher) LastNew() time.Time {
	if us := w.lastNew.Load(); us > 0 {
		return time.UnixMicro(us)
	}
	return time.Time{}
}

// Seen returns the accounting; call it only once Run has returned.
func (w *Watcher) Seen() *Seen { return w.seen }

// Stats returns the watcher's figures.
func (w *Watcher) Stats() WatchStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats
	s.Files = len(w.files)
	s.Errors = w.errs.Load()
	if p := w.lastErr.Load(); p != nil {
		s.LastError = *p
	}
	return s
}

// localSource is a local directory.
type localSource struct{ root string }

func (s *localSource) poll(ctx context.Context, w *Watcher, now time.Time, full bool) error {
	var firstErr error
	var walk func(dir string)
	walk = func(dir string) {
		w.stats.ListCalls++
		t0 := time.Now()
		entries, err := os.ReadDir(dir)
		w.stats.ListMs += float64(time.Since(t0)) / 1e6
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && firstErr == nil {
				firstErr = err
			}
			return
		}
		for _, e := range entries {
			if ctx.Err() != nil {
				return
			}
			if Hidden(e.Name()) {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if e.IsDir() {
				walk(p)
				continue
			}
			if !e.Type().IsRegular() {
				continue
			}
			f := w.state(p, now)
			if !f.due(now, full) {
				continue
			}
			fi, err := os.Stat(p)
			f.lastCheck = now
			if err != nil {
				continue // renamed or removed meanwhile
			}
			switch {
			case fi.Size() > f.offset:
				w.read(ctx, p, f)
			case fi.Size() < f.offset:
				w.stats.Shrunk++
				f.offset = fi.Size()
			}
		}
	}
	walk(s.root)
	return firstErr
}

func (s *localSource) readFrom(_ context.Context, name string, offset int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}
