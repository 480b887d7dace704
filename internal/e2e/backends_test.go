package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/elasticsearch"
	"github.com/gale-stream/gale/sinks/hdfs"
	"github.com/gale-stream/gale/sinks/s3/s3test"
)

// runBackends names the backend locations of one run, unique per run so
// that runs never share an object, file or document.
type runBackends struct {
	pool, hdfsDir, index, bucket string
}

func newRunBackends(tag string) runBackends {
	return runBackends{pool: "gale-e2e-" + tag, hdfsDir: "/gale-e2e/" + tag, index: "gale-e2e-" + tag + "-{2006.01.02}",
		bucket: "gale-e2e-" + tag}
}

// patch points the example's sinks at this run's locations and the test's
// servers; without Ceph in the binary the Ceph sink is dropped (loudly).
func (rb runBackends) patch(t *testing.T) func(map[string]any) {
	hdfsNN, esURL, s3env := testenv.HDFSNameNode(t), testenv.ESURL(t), testenv.S3(t)
	return func(b map[string]any) {
		cfg, _ := b["config"].(map[string]any)
		switch b["type"] {
		case "ceph_sink":
			cfg["pool"] = rb.pool
			cfg["conf_file"] = testenv.CephConf(t)
		case "hdfs_sink":
			cfg["namenode"] = hdfsNN
			cfg["dir"] = rb.hdfsDir
		case "es_sink":
			cfg["urls"] = []string{esURL}
			cfg["index"] = rb.index
		case "s3_sink":
			cfg["endpoint"] = s3env.Endpoint
			cfg["bucket"] = rb.bucket
			cfg["access_key_env"], cfg["secret_key_env"] = testenv.S3AccessKeyVar, testenv.S3SecretKeyVar
		}
	}
}

// cleanup removes the run's pool, HDFS directory, indices and bucket.
func (rb runBackends) cleanup(t *testing.T) {
	s3test.DropBucket(t, s3test.Client(t), rb.bucket)
	removeHDFSDirs(t, rb.hdfsDir)
	t.Cleanup(func() {
		if buildTags != "" {
			exec.Command("ceph", "-c", os.Getenv(testenv.CephConfVar), "osd", "pool", "delete", rb.pool, rb.pool,
				"--yes-i-really-really-mean-it").Run()
		}
		if es := os.Getenv(testenv.ESURLVar); es != "" {
			req, _ := http.NewRequest(http.MethodDelete, es+"/"+strings.ReplaceAll(rb.index, "{2006.01.02}", "*"), nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	})
}

// hdfsFiles reads every file the run's HDFS sink wrote, by name.
func hdfsFiles(t *testing.T, rb runBackends) map[string][]byte {
	t.Helper()
	c := hdfs.NewConfig()
	c.NameNode, c.Dir = testenv.HDFSNameNode(t), rb.hdfsDir
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	w := c.Writer()
	defer w.Close()
	ctx := context.Background()
	names, err := w.Objects(ctx, "kafka-to-all")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		b, err := w.Get(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

// s3Objects reads every object the run's S3 sink wrote, by key, with a
// client of the test's own.
func s3Objects(t *testing.T, rb runBackends) map[string][]byte {
	t.Helper()
	return s3test.Objects(t, s3test.Client(t), rb.bucket)
}

// esDocs reads every document of the run's indices: id -> source.
func esDocs(t *testing.T, rb runBackends) map[string][]byte {
	t.Helper()
	c := elasticsearch.NewConfig()
	c.URLs, c.Index = []string{testenv.ESURL(t)}, rb.index
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	w, err := elasticsearch.NewWriter(c)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// make every write searchable
	req, _ := http.NewRequest(http.MethodPost, testenv.ESURL(t)+"/"+strings.ReplaceAll(rb.index, "{2006.01.02}", "*")+"/_refresh", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	out := map[string][]byte{}
	err = w.Documents(context.Background(), "kafka-to-all", func(id string, src []byte) error {
		out[id] = append([]byte(nil), src...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// lineSet is the multiset of lines in files written by an object sink.
func lineSet(t *testing.T, fs map[string][]byte) map[string]int {
	t.Helper()
	set := map[string]int{}
	for name, data := range fs {
		content, err := sinks.Decode(nil, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, l := range sinks.SplitLines(content) {
			set[string(l)]++
		}
	}
	return set
}

func docLines(docs map[string][]byte) map[string]int {
	set := map[string]int{}
	for _, src := range docs {
		set[string(src)]++
	}
	return set
}

func sameLines(t *testing.T, what string, want, got map[string]int) {
	t.Helper()
	for l, n := range want {
		if got[l] != n {
			t.Errorf("%s: line held %d times, want %d: %.80s", what, got[l], n, l)
			return
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d distinct lines, want %d", what, len(got), len(want))
	}
}

func sameDocs(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	if len(want) == 0 {
		t.Error("elasticsearch: the reference run indexed nothing")
	}
	diff := 0
	for id, src := range want {
		if g, ok := got[id]; !ok || string(g) != string(src) {
			diff++
			if diff <= 5 {
				t.Errorf("elasticsearch: document %s differs or is missing after the kills", id)
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("elasticsearch: %d documents after the kills, %d in the reference", len(got), len(want))
	}
	if diff > 5 {
		t.Errorf("elasticsearch: %d documents differ in all", diff)
	}
}

// runVerify runs `gale verify` in dir and returns its exit code and output.
func runVerify(t *testing.T, dir string) (int, string) {
	t.Helper()
	cmd := exec.Command(gale(t), "verify", "topology.json")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}
