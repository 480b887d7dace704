package multilangtest

import (
	"bytes"
	"os/exec"
	"strings"
	"sync"
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

// LogBuffer collects what a logger writes (the target of a
// slog.TextHandler, say). It is safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns what was written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
