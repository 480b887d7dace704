package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestPinned(t *testing.T) {
	for _, tc := range []struct {
		req string
		ok  bool
	}{
		{"boto3==1.44.8", true},
		{"python-dateutil==2.9.0.post0", true},
		{"zope.interface==7.2", true},
		{"boto3", false},
		{"boto3>=1.44", false},
		{"boto3==", false},
		{"boto3==1.44.8; python_version>'3'", false},
		{"-e git+https://example.com/x", false},
		{"boto3==1.*", false},
	} {
		if got := pinned.MatchString(tc.req); got != tc.ok {
			t.Errorf("pinned(%q) = %v, want %v", tc.req, got, tc.ok)
		}
	}
}

// TestPythonVenv builds a venv with one small pinned package in a fresh
// cache directory from two tests at once; both get a working interpreter
// with exactly that version, the venv is published as a symlink to a
// complete directory, and a later call reuses it without building.
func TestPythonVenv(t *testing.T) {
	py := Python(t)
	root := t.TempDir()
	reqs := []string{"six==1.17.0"}
	var mu sync.Mutex
	got := map[string]bool{}
	t.Run("build", func(t *testing.T) {
		for _, n := range []string{"a", "b"} {
			t.Run(n, func(t *testing.T) {
				t.Parallel()
				p := venvIn(t, root, "six-test", py, reqs)
				mu.Lock()
				got[p] = true
				mu.Unlock()
				out, err := exec.Command(p, "-c", "import six, sys; print(six.__version__, sys.prefix != sys.base_prefix)").CombinedOutput()
				if err != nil || strings.TrimSpace(string(out)) != "1.17.0 True" {
					t.Fatalf("%s: six %q, %v; want version 1.17.0 in a venv", p, out, err)
				}
			})
		}
	})
	if t.Failed() || t.Skipped() {
		return
	}
	link := filepath.Join(root, "six-test")
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s: %v, %v; want a symlink", link, fi, err)
	}
	dir, err := filepath.EvalSymlinks(link)
	if err != nil {
		t.Fatal(err)
	}
	if marker, err := os.ReadFile(filepath.Join(dir, venvReady)); err != nil || string(marker) != "six==1.17.0\n" {
		t.Fatalf("ready marker: %q, %v", marker, err)
	}
	for p := range got {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("interpreter returned earlier is gone: %v", err)
		}
	}
	// a build directory left by the loser of the race is removed; what
	// remains is the published venv and its link
	entries, _ := os.ReadDir(root)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 {
		t.Errorf("cache holds %v, want the link and one venv", names)
	}
	// cached: no build (a build would need the base interpreter; give none)
	if p := venvIn(t, root, "six-test", "/nonexistent/python3", reqs); p != filepath.Join(dir, "bin", "python") {
		t.Fatalf("second call: %s, want the cached %s", p, filepath.Join(dir, "bin", "python"))
	}
}
