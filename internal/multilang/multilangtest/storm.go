package multilangtest

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/testenv"
)

// StormVersion is the Apache Storm release whose own multilang adapters
// the tests run: storm.py and storm.js, as Storm ships them in the jars
// org.apache.storm:multilang-python and org.apache.storm:multilang-javascript
// (resources/storm.py, resources/storm.js). 2.8.3: the last 2.8 release
// whose parent POM the package index serves.
const StormVersion = "2.8.3"

// StormAdapters returns a directory holding Storm's storm.py and storm.js.
// They are fetched from the package index with Maven (the dependency
// plugin's copy goal, into a throwaway local repository) and unpacked
// from the jars, once per machine: they are cached under the user's cache
// directory (gale/storm-multilang-VERSION). Apache's files are never part
// of Gale's tree. When Maven is missing or cannot fetch them the test is
// skipped with a loud message, or fails under CI=true.
func StormAdapters(tb testing.TB) string {
	tb.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	root := filepath.Join(cache, "gale")
	dir := filepath.Join(root, "storm-multilang-"+StormVersion)
	if haveAdapters(dir) {
		return dir
	}
	mvn := testenv.Command(tb, "mvn", "maven")
	if err := os.MkdirAll(root, 0o755); err != nil {
		skipOrFail(tb, "cache %s: %v", root, err)
	}
	tmp, err := os.MkdirTemp(root, "storm-multilang-*.tmp")
	if err != nil {
		skipOrFail(tb, "cache %s: %v", root, err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		skipOrFail(tb, "%v", err)
	}
	for _, a := range []struct{ artifact, file string }{
		{"multilang-python", "storm.py"},
		{"multilang-javascript", "storm.js"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, mvn, "-B", "-q", "-Dmaven.repo.local="+filepath.Join(tmp, "m2"),
			"org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
			"-Dartifact=org.apache.storm:"+a.artifact+":"+StormVersion,
			"-DoutputDirectory="+filepath.Join(tmp, "jars"))
		b, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			skipOrFail(tb, "mvn could not fetch org.apache.storm:%s:%s (CI must reach the package index): %v\n%s",
				a.artifact, StormVersion, err, b)
		}
		jar := filepath.Join(tmp, "jars", a.artifact+"-"+StormVersion+".jar")
		if err := extract(jar, "resources/"+a.file, filepath.Join(out, a.file)); err != nil {
			skipOrFail(tb, "%s: %v", jar, err)
		}
	}
	// Publish in one step; a concurrent test process may have won.
	if err := os.Rename(out, dir); err != nil && !haveAdapters(dir) {
		skipOrFail(tb, "publish %s: %v", dir, err)
	}
	tb.Logf("Storm %s's storm.py and storm.js fetched into %s", StormVersion, dir)
	return dir
}

func haveAdapters(dir string) bool {
	for _, f := range []string{"storm.py", "storm.js"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			return false
		}
	}
	return true
}

// extract copies the file name of the zip archive jar to dst.
func extract(jar, name, dst string) error {
	zr, err := zip.OpenReader(jar)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return err
		}
		defer r.Close()
		w, err := os.Create(dst)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, io.LimitReader(r, 1<<20)); err != nil {
			w.Close()
			return err
		}
		return w.Close()
	}
	return fmt.Errorf("no %s in the jar", name)
}

func skipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if testenv.InCI() {
		tb.Fatalf("CI=true and %s", msg)
	}
	tb.Skipf("\n*** SKIPPED (no Storm multilang adapters) ***\n    %s", msg)
}
