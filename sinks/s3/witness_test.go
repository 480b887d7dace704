package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// boto3Requirements pin boto3 and its dependencies for the witness.
var boto3Requirements = []string{"boto3==1.44.8", "botocore==1.44.8", "s3transfer==0.19.3", "jmespath==1.1.0",
	"python-dateutil==2.9.0.post0", "six==1.17.0", "urllib3==2.8.0"}

// witnessObject is one object as testdata/witness.py saw it.
type witnessObject struct {
	Key         string            `json:"key"`
	Size        int64             `json:"size"`
	ETag        string            `json:"etag"`
	ContentType string            `json:"content_type"`
	Metadata    map[string]string `json:"metadata"`
	File        string            `json:"file"`
}

// TestS3WitnessBoto3: boto3, a client Gale did not write, lists the bucket
// (two objects a page) and downloads what the sink wrote: four objects of
// a batch spanning three hours and one multipart object. It finds exactly
// the keys of the sink's Inventory, the bytes Gale encoded, the metadata;
// the lz4 command decompresses each download to the batch's content.
func TestS3WitnessBoto3(t *testing.T) {
	env := testenv.S3(t)
	lz4 := testenv.Command(t, "lz4", "lz4")
	py := testenv.PythonVenv(t, "boto3", boto3Requirements...)
	raw := rawClient(t)
	bucket := tempBucket(t, raw)
	c := multipartConfig(t, bucket)
	c.Prefix, c.TimePartition = "witness", sinks.PartitionHour
	w := openWriter(t, c)
	ctx := context.Background()

	small := sinktest.Batch(1, sinktest.JSONLines(240))
	t0 := time.Date(2026, 11, 27, 0, 50, 0, 0, time.UTC)
	for i := range small.Records {
		small.Records[i].Time = t0.Add(time.Duration(i) * 30 * time.Second) // three hours
	}
	big := sinktest.Batch(2, bigLines())
	for i := range big.Records {
		big.Records[i].Time = t0.Add(3 * time.Hour)
	}
	want := map[string]sinks.Part{}
	for _, b := range []*sinks.Batch{small, big} {
		if _, err := w.WriteBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
		for _, p := range c.Naming().Parts(b) {
			want[p.Name] = p
		}
	}
	if len(want) != 4 {
		t.Fatalf("%d objects written, want 4", len(want))
	}
	galeKeys, err := w.Objects(ctx, "topo")
	if err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	cmd := exec.Command(py, "testdata/witness.py", env.Endpoint, bucket, out, "2")
	// the keys go in the environment, never on the command line
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+env.AccessKey, "AWS_SECRET_ACCESS_KEY="+env.SecretKey,
		"AWS_REGION="+env.Region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("witness.py: %v\n%s", err, stderr.String())
	}
	var manifest struct {
		Boto3   string          `json:"boto3"`
		Pages   int             `json:"pages"`
		Objects []witnessObject `json:"objects"`
	}
	if err := json.Unmarshal(stdout, &manifest); err != nil {
		t.Fatalf("witness.py's manifest: %v\n%s", err, stdout)
	}
	t.Logf("boto3 %s listed %d objects in %d pages", manifest.Boto3, len(manifest.Objects), manifest.Pages)
	if manifest.Boto3 != "1.44.8" || manifest.Pages < 2 {
		t.Errorf("boto3 %s, %d pages: want 1.44.8 and at least 2 pages of 2 objects", manifest.Boto3, manifest.Pages)
	}
	var keys []string
	for _, o := range manifest.Objects {
		keys = append(keys, o.Key)
	}
	if !slices.Equal(keys, galeKeys) || len(keys) != len(want) {
		t.Fatalf("boto3 lists %v\nthe Inventory %v", keys, galeKeys)
	}
	multipart := 0
	for _, o := range manifest.Objects {
		p := want[o.Key]
		content := p.Content()
		encoded, err := c.codec().Encode(p.Name, content)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(o.File)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, encoded) || o.Size != int64(len(encoded)) {
			t.Errorf("%s: boto3 downloaded %d bytes (listed %d), not the %d Gale encoded", o.Key, len(got), o.Size, len(encoded))
		}
		plain, err := exec.Command(lz4, "-d", "-c", o.File).Output()
		if err != nil || !bytes.Equal(plain, content) {
			t.Errorf("%s: lz4 -d of boto3's download: %v; %d bytes, want the %d of the batch's content", o.Key, err, len(plain), len(content))
		}
		if o.Metadata[MetaPrefix+sinks.MetaSHA256] != sinks.Checksum(content) || o.Metadata[MetaPrefix+sinks.MetaBatch] == "" ||
			o.Metadata[MetaPrefix+sinks.MetaRecords] != strconv.Itoa(len(p.Records)) {
			t.Errorf("%s: metadata %v", o.Key, o.Metadata)
		}
		if o.ContentType != "application/x-lz4" {
			t.Errorf("%s: content type %q", o.Key, o.ContentType)
		}
		if strings.Contains(o.ETag, "-") {
			multipart++
		}
	}
	if multipart != 1 {
		t.Errorf("%d multipart objects (ETag -N), want 1 (the big batch)", multipart)
	}
}
