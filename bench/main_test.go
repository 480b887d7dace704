package bench

import (
	"os"
	"testing"

	"github.com/gale-stream/gale/internal/engine"
)

// TestMain runs the benchmarks with the GC setting the gale binary uses
// (engine.TuneGC: GOGC=400 unless GOGC is set), so the figures are those of
// Gale as shipped.
func TestMain(m *testing.M) {
	engine.TuneGC()
	os.Exit(m.Run())
}
