package atomicfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gale-stream/gale/internal/atomicfile"
)

// TestCheckName: names built from a topology cannot leave their root.
func TestCheckName(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", "a/", "x\x00y"} {
		if err := atomicfile.CheckName(bad); !errors.Is(err, atomicfile.ErrOutside) {
			t.Errorf("CheckName(%q) = %v, want ErrOutside", bad, err)
		}
	}
	for _, good := range []string{"a", "a/b/c.jsonl.lz4", ".hidden", "a/..b", "..x/y"} {
		if err := atomicfile.CheckName(good); err != nil {
			t.Errorf("CheckName(%q) = %v", good, err)
		}
	}
	root := t.TempDir()
	for _, bad := range []string{filepath.Join(root, ".."), filepath.Join(root, "../x"), "/etc"} {
		if err := atomicfile.Within(root, bad); !errors.Is(err, atomicfile.ErrOutside) {
			t.Errorf("Within(%s, %s) = %v, want ErrOutside", root, bad, err)
		}
	}
	if err := atomicfile.Within(root, filepath.Join(root, "a/b")); err != nil {
		t.Errorf("Within: %v", err)
	}
}

// TestDir_RefusesNamesOutside: Put and Get refuse a name that leaves the
// root, and nothing is written outside it.
func TestDir_RefusesNamesOutside(t *testing.T) {
	parent := t.TempDir()
	d := &atomicfile.Dir{Root: filepath.Join(parent, "root"), NoSync: true}
	for _, name := range []string{"../escaped", "a/../../escaped", "/tmp/escaped-abs"} {
		if err := d.Put(name, []byte("x")); !errors.Is(err, atomicfile.ErrOutside) {
			t.Errorf("Put(%q) = %v, want ErrOutside", name, err)
		}
		if _, err := d.Get(name); !errors.Is(err, atomicfile.ErrOutside) {
			t.Errorf("Get(%q) = %v, want ErrOutside", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(parent, "escaped")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written outside the root: %v", err)
	}
}
