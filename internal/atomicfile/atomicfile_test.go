package atomicfile

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestDir_PutGetList: a file written twice holds the last bytes, no
// temporary file is left, List skips hidden files and takes a missing root
// for an empty one.
func TestDir_PutGetList(t *testing.T) {
	d := &Dir{Root: filepath.Join(t.TempDir(), "root")}
	if names, err := d.List(".log"); err != nil || len(names) != 0 {
		t.Fatalf("List of a missing root: %v, %v", names, err)
	}
	for _, data := range [][]byte{[]byte("first\n"), []byte("second\n")} {
		if err := d.Put("a/b/x.log", data); err != nil {
			t.Fatal(err)
		}
		got, err := d.Get("a/b/x.log")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get = %q, %v; want %q", got, err, data)
		}
	}
	if err := d.Put("a/y.txt", nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d.Root, "a", ".hidden.log"), []byte("x"), 0o644)
	names, err := d.List(".log")
	if err != nil || !slices.Equal(names, []string{"a/b/x.log"}) {
		t.Fatalf("List = %v, %v; want [a/b/x.log]", names, err)
	}
	entries, _ := os.ReadDir(filepath.Join(d.Root, "a", "b"))
	if len(entries) != 1 {
		t.Fatalf("%d entries in a/b: a temporary file is left", len(entries))
	}
}

// TestDir_PutInTheWay: a file where a directory must go is a clear error.
func TestDir_PutInTheWay(t *testing.T) {
	d := &Dir{Root: t.TempDir()}
	os.WriteFile(filepath.Join(d.Root, "topo"), []byte("x"), 0o644)
	if err := d.Put("topo/x.log", []byte("y")); err == nil {
		t.Fatal("Put under a file succeeded")
	}
}

// TestDir_SweepsStaleTemporaries: the first write into a directory removes
// the temporary files of a dead process of this host and those older than
// ten minutes, and keeps a young one of another host (a write in progress
// on a shared filesystem) and its own.
func TestDir_SweepsStaleTemporaries(t *testing.T) {
	d := &Dir{Root: t.TempDir()}
	dir := filepath.Join(d.Root, "p")
	os.MkdirAll(dir, 0o755)
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host := tmpOwner[:len(tmpOwner)-len(fmt.Sprint(os.Getpid()))-1]
	dead := fmt.Sprintf(".x.log%s%s-%d-1", TmpMark, host, cmd.Process.Pid) // that process has exited
	other := ".x.log" + TmpMark + "otherhost-1-1"
	old := ".y.log" + TmpMark + "otherhost-2-1"
	for _, n := range []string{dead, other, old} {
		os.WriteFile(filepath.Join(dir, n), []byte("torn"), 0o644)
	}
	long := time.Now().Add(-11 * time.Minute)
	os.Chtimes(filepath.Join(dir, old), long, long)
	if err := d.Put("p/z.log", []byte("z")); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]bool{dead: false, other: true, old: false, "z.log": true} {
		if _, err := os.Stat(filepath.Join(dir, n)); (err == nil) != want {
			t.Errorf("%s: present %v, want %v", n, err == nil, want)
		}
	}
}

// TestDir_SweptIsBounded: the directories remembered as swept do not grow
// with the directories written (a new one every hour for a year).
func TestDir_SweptIsBounded(t *testing.T) {
	d := &Dir{Root: t.TempDir(), NoSync: true}
	for i := range maxSwept + 10 {
		if err := d.Put(fmt.Sprintf("h%05d/x", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(d.swept); n > maxSwept {
		t.Fatalf("%d directories remembered, bound %d", n, maxSwept)
	}
}
