package bench

import (
	"log/slog"
	"os"
	"testing"

	"github.com/gale-stream/gale/local"
)

// TestMain runs the benchmarks with the GC setting the gale binary uses
// (local.TuneGC: GOGC=400 unless GOGC is set), so the figures are those of
// Gale as shipped, and logs only warnings so that info lines do not cut
// through the benchmark result lines. It deletes the Kafka benchmarks'
// topic at the end.
func TestMain(m *testing.M) {
	local.TuneGC()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	code := m.Run()
	deleteKafkaBenchTopic()
	os.Exit(code)
}
