package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
)

const crashEvents = 300000

// TestCrashIdentity runs examples/kafka-to-all.json as a subprocess over a
// topic of 300,000 records twice: once undisturbed, once SIGKILLed at random
// moments at least five times (restarted after each kill). Afterwards every
// sink holds exactly what the undisturbed run wrote: the same names, the
// same bytes; every record is in it once.
func TestCrashIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: the crash-identity test is long (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	root := t.TempDir()
	topic := fmt.Sprintf("gale-e2e-crash-%d", time.Now().UnixNano())
	produceEvents(t, brokers, topic, 4, crashEvents)

	// the reference: no kills
	clean := filepath.Join(root, "clean")
	topologyFor(t, clean, brokers, topic, nil)
	start := time.Now()
	waitExit(t, startGale(t, clean), clean, 4*time.Minute)
	took := time.Since(start)
	t.Logf("undisturbed run: %v", took.Round(time.Millisecond))

	// the same with SIGKILLs at random moments
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 42))
	t.Logf("kill timings from seed %d", seed)
	killed := filepath.Join(root, "killed")
	topologyFor(t, killed, brokers, topic, nil)
	kills := 0
	for kills < 5 {
		cmd := startGale(t, killed)
		// from the process start-up to an eighth of a whole run: five kills
		// cannot finish the work, and they land in every phase (start-up,
		// planning, writing, committing)
		delay := 150*time.Millisecond + time.Duration(rng.Int64N(int64(took/8)+1))
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			t.Fatalf("gale run ended (%v) before kill %d at %v: the kills are too late for this machine\n%s",
				err, kills+1, delay, tail(killed, 30))
		case <-time.After(delay):
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-exited
		kills++
		t.Logf("kill %d after %v (%d files written so far)", kills, delay.Round(time.Millisecond),
			len(files(t, filepath.Join(killed, ".gale", "out"))))
	}
	// and a last run to the end
	waitExit(t, startGale(t, killed), killed, 4*time.Minute)

	want := files(t, filepath.Join(clean, ".gale", "out"))
	got := files(t, filepath.Join(killed, ".gale", "out"))
	sameFiles(t, "file sink", want, got)

	// every record that is neither poison nor debug, once
	seen := map[string]int{}
	for name, data := range want {
		content, err := sinks.Decode(nil, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, line := range sinks.SplitLines(content) {
			seen[string(line)]++
		}
	}
	n := 0
	for i := range crashEvents {
		if i%5000 == 4999 || strings.Contains(string(event(i)), `"debug"`) {
			continue
		}
		n++
	}
	total := 0
	for line, c := range seen {
		if c != 1 {
			t.Errorf("line written %d times: %s", c, line)
		}
		total += c
	}
	if total != n {
		t.Errorf("%d records in the files, want %d (%d events, less poison and debug)", total, n, crashEvents)
	}
	if _, err := os.Stat(filepath.Join(killed, ".gale", "out", "files", "kafka-to-all", topic)); err != nil {
		t.Errorf("the files are not under <dir>/<topology>/<topic>: %v", err)
	}
}
