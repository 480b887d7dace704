// Package multilangtest has helpers for tests of the shell components that
// need real third-party multilang adapters.
package multilangtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// PystormVersion is the pystorm release the adapter tests install: the
// Storm multilang library streamparse uses.
const PystormVersion = "3.1.4"

// Python returns the path of the real python3 interpreter (not a version
// manager's shim, which is slow to start). It skips the test when there is
// none, or fails it under CI=true.
func Python(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		skipOrFail(t, "python3 not installed: %v", err)
	}
	if out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output(); err == nil {
		p = strings.TrimSpace(string(out))
	}
	return p
}

// PystormPython returns a python interpreter that can import pystorm. On
// first use it creates a virtualenv under the user's cache directory and
// installs pystorm (and its dependencies six and simplejson) from the
// package index with pip; later runs reuse it. When that is impossible
// (no network, no venv module) the test is skipped with a loud message,
// or failed under CI=true.
func PystormPython(t testing.TB) string {
	t.Helper()
	py := Python(t)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "gale", "multilang-venv-pystorm-"+PystormVersion)
	venvPy := filepath.Join(dir, "bin", "python")
	if exec.Command(venvPy, "-c", "import pystorm").Run() == nil {
		return venvPy
	}
	// Build in a directory of our own and rename it into place, so that
	// concurrent test processes never see a half-built venv.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		skipOrFail(t, "cache dir: %v", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "venv-building-")
	if err != nil {
		skipOrFail(t, "cache dir: %v", err)
	}
	defer os.RemoveAll(tmp)
	if out, err := exec.Command(py, "-m", "venv", tmp).CombinedOutput(); err != nil {
		skipOrFail(t, "python3 -m venv: %v\n%s", err, out)
	}
	pip := exec.Command(filepath.Join(tmp, "bin", "python"), "-m", "pip", "install", "--quiet",
		"--disable-pip-version-check", "pystorm=="+PystormVersion)
	if out, err := pip.CombinedOutput(); err != nil {
		skipOrFail(t, "pip install pystorm==%s failed (CI must be able to install it from the package index): %v\n%s",
			PystormVersion, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another process won the race (or a broken venv is in the way).
		if exec.Command(venvPy, "-c", "import pystorm").Run() != nil {
			_ = os.RemoveAll(dir)
			if err := os.Rename(tmp, dir); err != nil {
				skipOrFail(t, "install venv: %v", err)
			}
		}
	}
	if out, err := exec.Command(venvPy, "-c", "import pystorm").CombinedOutput(); err != nil {
		skipOrFail(t, "pystorm not importable after install: %v\n%s", err, out)
	}
	return venvPy
}

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIP (loud): " + msg)
}
