package peers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WebHDFS is a minimal WebHDFS client: the few calls the watcher and the
// driver need (list, status, read from an offset, mkdir, delete).
type WebHDFS struct {
	base string // http://host:port/webhdfs/v1
	user string
	hc   *http.Client
}

// NewWebHDFS returns a client of the NameNode HTTP server at web
// ("host:port"), acting as user.
func NewWebHDFS(web, user string) *WebHDFS {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	return &WebHDFS{base: "http://" + web + "/webhdfs/v1", user: user,
		hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// FileStatus is one entry of a listing.
type FileStatus struct {
	PathSuffix       string `json:"pathSuffix"`
	Type             string `json:"type"` // FILE or DIRECTORY
	Length           int64  `json:"length"`
	BlockSize        int64  `json:"blockSize"`
	ModificationTime int64  `json:"modificationTime"` // Unix ms
}

// errOutOfRange is WebHDFS's answer to a read at or past the end.
var errOutOfRange = errors.New("offset out of range")

func (c *WebHDFS) url(p, op string, extra url.Values) string {
	q := url.Values{"op": {op}, "user.name": {c.user}}
	for k, v := range extra {
		q[k] = v
	}
	return c.base + (&url.URL{Path: path.Clean("/" + p)}).EscapedPath() + "?" + q.Encode()
}

func (c *WebHDFS) do(ctx context.Context, method, p, op string, extra url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(p, op, extra), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var re struct {
			RemoteException struct {
				Exception string `json:"exception"`
				Message   string `json:"message"`
			} `json:"RemoteException"`
		}
		_ = json.Unmarshal(body, &re)
		msg := re.RemoteException.Message
		switch {
		case resp.StatusCode == http.StatusNotFound || re.RemoteException.Exception == "FileNotFoundException":
			return nil, fmt.Errorf("webhdfs %s %s: %w", op, p, fs.ErrNotExist)
		case strings.Contains(msg, "out of the range"):
			return nil, errOutOfRange
		}
		if msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		return nil, fmt.Errorf("webhdfs %s %s: %s: %s", op, p, resp.Status, msg)
	}
	return body, nil
}

// List returns the entries of directory p.
func (c *WebHDFS) List(ctx context.Context, p string) ([]FileStatus, error) {
	body, err := c.do(ctx, http.MethodGet, p, "LISTSTATUS", nil)
	if err != nil {
		return nil, err
	}
	var r struct {
		FileStatuses struct {
			FileStatus []FileStatus `json:"FileStatus"`
		} `json:"FileStatuses"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("webhdfs LISTSTATUS %s: %w", p, err)
	}
	return r.FileStatuses.FileStatus, nil
}

// ReadFrom returns p's bytes from offset to the end the DataNode makes
// visible (a file being written included); nil when there are none.
func (c *WebHDFS) ReadFrom(ctx context.Context, p string, offset int64) ([]byte, error) {
	data, err := c.do(ctx, http.MethodGet, p, "OPEN", url.Values{"offset": {strconv.FormatInt(offset, 10)}})
	if errors.Is(err, errOutOfRange) {
		return nil, nil
	}
	return data, err
}

// Mkdirs creates directory p and its parents.
func (c *WebHDFS) Mkdirs(ctx context.Context, p string) error {
	_, err := c.do(ctx, http.MethodPut, p, "MKDIRS", nil)
	return err
}

// Delete removes p, recursively.
func (c *WebHDFS) Delete(ctx context.Context, p string) error {
	_, err := c.do(ctx, http.MethodDelete, p, "DELETE", url.Values{"recursive": {"true"}})
	return err
}

// hdfsSource is an HDFS directory read through WebHDFS, level by level
// (the directories of a level listed concurrently, then the files to read,
// 16 at a time). A LISTSTATUS per
// directory per poll would cost the NameNode (and this process) a lot with
// thousands of files, so a directory is listed again only when its
// modification time (from its parent's listing; HDFS updates it when an
// entry is created, renamed in or out, or deleted) changed, when it changed
// close to the last listing (a change in the same millisecond would not
// show), or a second after the last listing; the root at every poll.
// A file's listed length lags its content while it is written in place,
// so files that grew after their first read, and files whose length is a
// multiple of their block size (0 included), are read (probed) directly.
type hdfsSource struct {
	c    *WebHDFS
	root string
	dirs map[string]*dirState
}

type dirState struct {
	mtime    int64     // as listed by the parent (ms)
	listedAt time.Time // when last listed
	entries  []FileStatus
}

func newHDFSSource(c *WebHDFS, root string) *hdfsSource {
	return &hdfsSource{c: c, root: path.Clean(root), dirs: map[string]*dirState{}}
}

// hdfsReaders bounds the WebHDFS reads of a poll in flight at once.
const hdfsReaders = 16

func (s *hdfsSource) poll(ctx context.Context, w *Watcher, now time.Time, full bool) error {
	var firstErr error
	var reads []fileRead
	read := func(name string, f *fileState) { reads = append(reads, fileRead{name: name, f: f}) }
	// the tree level by level, the directories of a level listed at once
	type dirRef struct {
		path  string
		mtime int64
		force bool
	}
	level := []dirRef{{s.root, 0, true}}
	for len(level) > 0 && ctx.Err() == nil {
		type listing struct {
			d       *dirState
			mtime   int64
			entries []FileStatus
			err     error
		}
		lists := make([]listing, len(level))
		var wg sync.WaitGroup
		sem := make(chan struct{}, hdfsReaders)
		t0 := time.Now()
		for i, ref := range level {
			d := s.dirs[ref.path]
			if d == nil {
				d = &dirState{}
				s.dirs[ref.path] = d
			}
			lists[i] = listing{d: d, mtime: ref.mtime, entries: d.entries}
			relist := ref.force || d.listedAt.IsZero() || ref.mtime != d.mtime ||
				d.mtime >= d.listedAt.UnixMilli()-1000 || now.Sub(d.listedAt) >= time.Second
			if !relist {
				continue
			}
			w.stats.ListCalls++
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				l := &lists[i]
				l.entries, l.err = s.c.List(ctx, ref.path)
				switch {
				case errors.Is(l.err, fs.ErrNotExist):
					l.entries, l.err = nil, nil
				case l.err != nil:
					l.entries = l.d.entries // keep the last listing
					return
				}
				l.d.entries, l.d.mtime, l.d.listedAt = l.entries, l.mtime, now
			}()
		}
		wg.Wait()
		w.stats.ListMs += float64(time.Since(t0)) / 1e6
		var next []dirRef
		for i, l := range lists {
			if l.err != nil && firstErr == nil {
				firstErr = l.err
			}
			dir := level[i].path
			for _, e := range l.entries {
				if Hidden(e.PathSuffix) {
					continue
				}
				p := path.Join(dir, e.PathSuffix)
				if e.Type == "DIRECTORY" {
					next = append(next, dirRef{p, e.ModificationTime, full})
					continue
				}
				f := w.state(p, now)
				suspect := e.BlockSize > 0 && e.Length%e.BlockSize == 0
				switch {
				case e.Length > f.offset:
					read(p, f)
				case f.grew && f.due(now, full):
					w.stats.ProbeCalls++
					read(p, f)
				case suspect:
					every := suspectEvery
					if !f.young(now) {
						every = coldEvery
					}
					if full || now.Sub(f.lastCheck) >= every {
						w.stats.ProbeCalls++
						read(p, f)
					}
				}
			}
		}
		level = next
	}
	w.readAll(ctx, reads, hdfsReaders)
	return firstErr
}

func (s *hdfsSource) readFrom(ctx context.Context, name string, offset int64) ([]byte, error) {
	return s.c.ReadFrom(ctx, name, offset)
}
