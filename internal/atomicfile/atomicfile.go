// Package atomicfile writes files so that a reader, or a process started
// after a crash, sees the old content or the new one, never a part: a
// temporary file in the same directory, fsync, rename over the final name,
// fsync of the directory. The file sink writes its batches with it, and
// every sink its dead-letter files.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Dir writes and reads files below Root. Its methods are safe for
// concurrent use.
//
// A crash leaves at worst a hidden temporary file (".NAME.tmp-HOST-PID-RANDOM")
// beside the final one; the first write of this process into that directory
// removes it: at once when its process is gone from this host, after ten
// minutes when it comes from another host (a shared filesystem).
type Dir struct {
	// Root is the directory the names are relative to.
	Root string
	// NoSync skips the fsyncs (tests on tmpfs; never in production: a
	// crash may then leave empty or partial files).
	NoSync bool

	mu    sync.Mutex      // guards swept
	swept map[string]bool // directories swept of stale temporary files
}

// maxSwept bounds the directories remembered as swept; beyond it the
// memory starts again (sweeping a directory twice is harmless), so that a
// sink writing a new directory every hour for a year stays small.
const maxSwept = 4096

// TmpMark is in the name of every temporary file, which starts with a dot.
const TmpMark = ".tmp-"

// ErrOutside: a name that would leave its root directory (absolute, with
// a ".." element, not clean, empty or with a NUL byte).
var ErrOutside = errors.New("the name leaves its root directory")

// CheckName reports whether name, slash-separated, stays below the
// directory it is relative to: every writer of files, objects or ledger
// entries checks its final name with it, so that no name built from a
// topology (a component called "..", a prefix) reaches outside the root
// the user gave.
func CheckName(name string) error {
	if name == "" || strings.ContainsRune(name, 0) || strings.HasPrefix(name, "/") || path.Clean(name) != name ||
		name == ".." || strings.HasPrefix(name, "../") || name == "." {
		return fmt.Errorf("%q: %w", name, ErrOutside)
	}
	return nil
}

// Within reports whether file (an OS path) is below root, after cleaning
// both: the last check of a path built by joining pieces.
func Within(root, file string) error {
	rel, err := filepath.Rel(filepath.Clean(root), filepath.Clean(file))
	if err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("%s is not below %s: %w", file, root, ErrOutside)
	}
	return nil
}

// ReadableByOthers reports whether file (one holding a secret: a key, a
// token, a password) can be read by users other than its owner, and its
// permission bits, for a warning. A file it cannot stat is reported not.
func ReadableByOthers(file string) (fs.FileMode, bool) {
	st, err := os.Stat(file)
	if err != nil {
		return 0, false
	}
	return st.Mode().Perm(), st.Mode().Perm()&0o077 != 0
}

// Put writes data as the file name (slash-separated, relative to Root),
// creating its directories.
func (d *Dir) Put(name string, data []byte) (err error) {
	if err := CheckName(name); err != nil {
		return err
	}
	path := filepath.Join(d.Root, filepath.FromSlash(name))
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d.sweep(dir)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+TmpMark+tmpOwner+"-*")
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
	if !d.NoSync {
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
	if !d.NoSync {
		return syncDir(dir)
	}
	return nil
}

// Get reads the file name.
func (d *Dir) Get(name string) ([]byte, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(d.Root, filepath.FromSlash(name)))
}

// List returns the names (relative to Root, slash-separated) of the files
// below Root whose names end with ext, skipping hidden (temporary) files.
// A missing Root holds no file.
func (d *Dir) List(ext string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(d.Root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == d.Root {
				return fs.SkipAll
			}
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ext) {
			return nil
		}
		rel, err := filepath.Rel(d.Root, p)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	return names, err
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
func (d *Dir) sweep(dir string) {
	d.mu.Lock()
	if d.swept == nil || len(d.swept) >= maxSwept {
		d.swept = map[string]bool{}
	}
	done := d.swept[dir]
	d.swept[dir] = true
	d.mu.Unlock()
	if done {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	host, _, _ := strings.Cut(tmpOwner, "-")
	for _, e := range entries {
		_, owner, ok := strings.Cut(e.Name(), TmpMark)
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
