// Package multilangtest has helpers for tests of the shell components that
// need real third-party multilang adapters.
package multilangtest

import (
	"testing"

	"github.com/gale-stream/gale/internal/testenv"
)

// PystormVersion is the pystorm release the adapter tests install: the
// Storm multilang library streamparse uses.
const PystormVersion = "3.1.4"

// PystormRequirements pins pystorm and its dependencies.
var PystormRequirements = []string{"pystorm==" + PystormVersion, "six==1.17.0", "simplejson==4.3.0"}

// PystormPython returns a python interpreter that can import pystorm: that
// of a cached virtualenv (testenv.PythonVenv) with PystormRequirements.
// When it cannot be built the test is skipped with a loud message, or
// failed under CI=true.
func PystormPython(t testing.TB) string {
	t.Helper()
	return testenv.PythonVenv(t, "pystorm", PystormRequirements...)
}
