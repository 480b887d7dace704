package multilangtest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/testenv"
)

// Python returns the real python3 interpreter, not a version manager's
// shim (slow to start). When there is none the test is skipped loudly, or
// failed under CI=true.
func Python(t testing.TB) string {
	t.Helper()
	p := testenv.Command(t, "python3", "python3")
	if out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output(); err == nil {
		p = strings.TrimSpace(string(out))
	}
	return p
}
