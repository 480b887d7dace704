package e2e

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
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
	tag := fmt.Sprint(time.Now().UnixNano())
	cleanB, killedB := newRunBackends(tag+"-clean"), newRunBackends(tag+"-killed")
	cleanB.cleanup(t)
	killedB.cleanup(t)
	clean := filepath.Join(root, "clean")
	topologyFor(t, clean, brokers, topic, cleanB.patch(t))
	start := time.Now()
	waitExit(t, startGale(t, clean), clean, 4*time.Minute)
	took := time.Since(start)
	t.Logf("undisturbed run: %v", took.Round(time.Millisecond))

	// the same with SIGKILLs at random moments
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 42))
	t.Logf("kill timings from seed %d", seed)
	killed := filepath.Join(root, "killed")
	topologyFor(t, killed, brokers, topic, killedB.patch(t))
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
	// and no temporary file of a killed writer is left behind
	filepath.WalkDir(filepath.Join(killed, ".gale", "out"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("a temporary file is left: %s", p)
		}
		return nil
	})
	sameFiles(t, "hdfs sink", hdfsFiles(t, cleanB), hdfsFiles(t, killedB))
	sameFiles(t, "s3 sink", s3Objects(t, cleanB), s3Objects(t, killedB))
	if buildTags != "" {
		sameFiles(t, "ceph sink", cephObjects(t, cleanB), cephObjects(t, killedB))
	}
	cleanDocs := esDocs(t, cleanB)
	sameDocs(t, cleanDocs, esDocs(t, killedB))

	// every record that is neither poison nor debug, once, in every sink
	n := 0
	for i := range crashEvents {
		if i%5000 == 4999 || strings.Contains(string(event(i)), `"debug"`) {
			continue
		}
		n++
	}
	lines := lineSet(t, want)
	total := 0
	for line, c := range lines {
		if c != 1 {
			t.Errorf("line written %d times: %s", c, line)
		}
		total += c
	}
	if total != n {
		t.Errorf("%d records in the files, want %d (%d events, less poison and debug)", total, n, crashEvents)
	}
	sameLines(t, "elasticsearch vs files", lines, docLines(cleanDocs))
	if _, err := os.Stat(filepath.Join(killed, ".gale", "out", "files", "kafka-to-all", topic)); err != nil {
		t.Errorf("the files are not under <dir>/<topology>/<topic>: %v", err)
	}

	// gale verify: nothing missing or extra after the kills
	code, out := runVerify(t, killed)
	t.Logf("gale verify after the kills:\n%s", out)
	if code != 0 || !strings.Contains(out, "OK: every sink holds exactly the committed batches") {
		t.Fatalf("gale verify after the kills: exit %d", code)
	}
	// and it notices damage: a file removed, one altered, one added
	var names []string
	for name := range want {
		if strings.HasPrefix(name, "files/") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	base := filepath.Join(clean, ".gale", "out")
	os.Remove(filepath.Join(base, names[0]))
	altered, _ := sinks.Codec{Compression: sinks.CompressionLZ4}.Encode("x", []byte("{\"forged\":true}\n"))
	os.WriteFile(filepath.Join(base, names[1]), altered, 0o644)
	extra := filepath.Join(filepath.Dir(filepath.Join(base, names[2])), "000000999999-0000000009999999000-0000000009999999001.jsonl.lz4")
	os.WriteFile(filepath.Join(extra), altered, 0o644)
	code, out = runVerify(t, clean)
	t.Logf("gale verify after damaging the files:\n%s", out)
	m0, _ := sinks.ParseName(names[0], "")
	m1, _ := sinks.ParseName(names[1], "")
	if code != 1 || !strings.Contains(out, m0.ID) || !strings.Contains(out, m1.ID) || !strings.Contains(out, "000000999999-") {
		t.Errorf("gale verify should report %s missing, %s mismatched and the extra file (exit %d)", m0.ID, m1.ID, code)
	}
}
