package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Python returns the path of the real python3 interpreter on PATH (not a
// version manager's shim, which is slow to start). When there is none the
// test fails if CI=true, and is otherwise skipped loudly.
func Python(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		skipOrFail(tb, "no python", "python3 is not installed (%v): tests that run Python witnesses need it", err)
	}
	if out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output(); err == nil {
		if exe := strings.TrimSpace(string(out)); exe != "" {
			p = exe
		}
	}
	return p
}

// pinned is a requirement pinned to one version: name==version.
var pinned = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9][A-Za-z0-9.+!_-]*$`)

// venvReady marks a venv whose packages are all installed; it holds the
// requirements.
const venvReady = ".gale-venv-ready"

// PythonVenv returns the interpreter of a Python virtual environment with
// the given packages installed from the package index with pip, each
// pinned ("boto3==1.44.8"; list the dependencies pinned too, so that a
// venv built later holds the same code). The venv is cached under the
// user's cache directory (gale/venvs/NAME-HASH, HASH covering the
// interpreter and the requirements), so only the first test of a machine
// pays for it; later runs and concurrent test processes share it.
//
// Building is atomic: the venv is made in a temporary directory of its
// own, and published when complete by a symlink to it, created in one step
// (two processes building at once: the first to publish wins, the other
// removes its copy), so that no test ever sees a half-built venv, and the
// venv never moves (its scripts keep their paths). When it cannot be built (no python3, no venv
// module, no package index) the test fails if CI=true and is otherwise
// skipped loudly. Run modules with the interpreter (`python -m pip`,
// `python script.py`).
func PythonVenv(tb testing.TB, name string, requirements ...string) string {
	tb.Helper()
	if name == "" || strings.ContainsAny(name, `/\`) {
		tb.Fatalf("PythonVenv: bad name %q", name)
	}
	for _, r := range requirements {
		if !pinned.MatchString(r) {
			tb.Fatalf("PythonVenv %s: requirement %q is not pinned (want name==version)", name, r)
		}
	}
	py := Python(tb)
	version, err := exec.Command(py, "-c", "import sys; print(sys.version)").Output()
	if err != nil {
		skipOrFail(tb, "no python", "%s does not run: %v", py, err)
	}
	reqs := slices.Sorted(slices.Values(requirements))
	sum := sha256.Sum256([]byte(py + "\n" + string(version) + "\n" + strings.Join(reqs, "\n")))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return venvIn(tb, filepath.Join(cache, "gale", "venvs"), name+"-"+hex.EncodeToString(sum[:6]), py, reqs)
}

// venvIn returns the interpreter of the venv root/base with reqs, built
// with py when it is not there yet.
func venvIn(tb testing.TB, root, base, py string, reqs []string) string {
	tb.Helper()
	link := filepath.Join(root, base)
	if p, ok := readyVenv(link); ok {
		return p
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		skipOrFail(tb, "no venv", "venv cache %s: %v", root, err)
	}
	dir, err := os.MkdirTemp(root, base+".venv-")
	if err != nil {
		skipOrFail(tb, "no venv", "venv cache %s: %v", root, err)
	}
	published := false
	defer func() {
		if !published {
			os.RemoveAll(dir)
		}
	}()
	if out, err := exec.Command(py, "-m", "venv", dir).CombinedOutput(); err != nil {
		skipOrFail(tb, "no venv", "%s -m venv failed (the venv module is missing? Debian: apt-get install python3-venv): %v\n%s", py, err, out)
	}
	pip := exec.Command(filepath.Join(dir, "bin", "python"), append([]string{"-m", "pip", "install",
		"--quiet", "--disable-pip-version-check", "--no-input"}, reqs...)...)
	if out, err := pip.CombinedOutput(); err != nil {
		skipOrFail(tb, "no venv", "pip install %s failed (CI must reach the package index): %v\n%s",
			strings.Join(reqs, " "), err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, venvReady), []byte(strings.Join(reqs, "\n")+"\n"), 0o644); err != nil {
		skipOrFail(tb, "no venv", "mark the venv ready: %v", err)
	}
	// Publish. Creating the symlink fails when another process published
	// the venv meanwhile: then theirs is used and ours goes away. A link to
	// a venv that no longer runs is replaced (rename over it).
	target := filepath.Base(dir)
	if err := os.Symlink(target, link); err != nil {
		if p, ok := readyVenv(link); ok {
			return p
		}
		tmpLink := dir + ".link"
		if err := os.Symlink(target, tmpLink); err != nil {
			skipOrFail(tb, "no venv", "publish the venv: %v", err)
		}
		if err := os.Rename(tmpLink, link); err != nil {
			os.Remove(tmpLink)
			skipOrFail(tb, "no venv", "publish the venv at %s: %v (a directory in the way? remove it)", link, err)
		}
	}
	published = true
	p, ok := readyVenv(link)
	if !ok {
		skipOrFail(tb, "no venv", "the venv published at %s does not run", link)
	}
	return p
}

// readyVenv returns the interpreter of the complete venv at link (resolved,
// so that it stays the same while a test runs).
func readyVenv(link string) (string, bool) {
	dir, err := filepath.EvalSymlinks(link)
	if err != nil {
		return "", false
	}
	if _, err := os.Stat(filepath.Join(dir, venvReady)); err != nil {
		return "", false
	}
	py := filepath.Join(dir, "bin", "python")
	if exec.Command(py, "-c", "pass").Run() != nil {
		return "", false // its base interpreter is gone: build again
	}
	return py, true
}

// skipOrFail fails the test if CI=true, and otherwise skips it with a loud
// message (what says what is missing).
func skipOrFail(tb testing.TB, what, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		tb.Fatalf("CI=true and %s", msg)
	}
	tb.Skipf("\n*** SKIPPED (%s) ***\n    %s", what, msg)
}
