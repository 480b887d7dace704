package sinks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FileWriter writes each object of a batch as a file under Dir, atomically
// and durably: a temporary file in the same directory, fsync, rename over
// the final name, fsync of the directory. A crash leaves the old file or
// the new one, plus at worst a hidden temporary file
// (".NAME.tmp-HOST-PID-RANDOM") that the next write into that directory
// removes: at once when its process is gone from this host, after ten
// minutes when it comes from another host (a shared filesystem).
type FileWriter struct {
	Dir    string
	Naming Naming
	Codec  Codec
	// NoSync skips the fsyncs (tests on tmpfs; never in production).
	NoSync bool

	mu      sync.Mutex
	cleaned map[string]bool // directories swept of stale temporary files
}

var _ Writer = (*FileWriter)(nil)

// WriteBatch writes b's objects.
func (w *FileWriter) WriteBatch(ctx context.Context, b *Batch) (int64, error) {
	var n int64
	for _, p := range w.Naming.Parts(b) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		data, err := w.Codec.Encode(p.Name, p.Content())
		if err != nil {
			return n, err
		}
		if err := w.Put(p.Name, data); err != nil {
			return n, err
		}
		n += int64(len(data))
	}
	return n, nil
}

const tmpMark = ".tmp-"

// Put writes data as the object name (slash-separated, relative to Dir).
func (w *FileWriter) Put(name string, data []byte) (err error) {
	path := filepath.Join(w.Dir, filepath.FromSlash(name))
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	w.sweep(dir)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tmpMark+tmpOwner+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if !w.NoSync {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if !w.NoSync {
		return syncDir(dir)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// tmpOwner marks this process's temporary files: "HOST-PID".
var tmpOwner = func() string {
	h, _ := os.Hostname()
	h = strings.NewReplacer("-", "_", "/", "_", ".", "_").Replace(h)
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}()

// sweep removes, once per directory and process, the temporary files of
// dead processes of this host, and those older than ten minutes (left by
// a crash elsewhere; a younger one may belong to a write in progress).
func (w *FileWriter) sweep(dir string) {
	w.mu.Lock()
	if w.cleaned == nil {
		w.cleaned = map[string]bool{}
	}
	done := w.cleaned[dir]
	w.cleaned[dir] = true
	w.mu.Unlock()
	if done {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	host, _, _ := strings.Cut(tmpOwner, "-")
	for _, e := range entries {
		_, owner, ok := strings.Cut(e.Name(), tmpMark)
		if !strings.HasPrefix(e.Name(), ".") || !ok {
			continue
		}
		stale := false
		if h, rest, ok := strings.Cut(owner, "-"); ok && h == host {
			pidText, _, _ := strings.Cut(rest, "-")
			if pid, err := strconv.Atoi(pidText); err == nil && pid != os.Getpid() && !alive(pid) {
				stale = true
			}
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 10*time.Minute {
			stale = true
		}
		if stale {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// alive reports whether a process with this pid exists on this host.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// List returns the names (relative to Dir, slash-separated) of the objects
// under Dir whose names end with ext, skipping temporary files.
func (w *FileWriter) List(ext string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(w.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == w.Dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || !strings.HasSuffix(d.Name(), ext) {
			return nil
		}
		rel, err := filepath.Rel(w.Dir, p)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	return names, err
}

// Get reads an object's stored bytes.
func (w *FileWriter) Get(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(w.Dir, filepath.FromSlash(name)))
}

// Close does nothing: every write is complete when WriteBatch returns.
func (w *FileWriter) Close() error { return nil }
