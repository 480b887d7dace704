package testenv

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"sort"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"
)

// TestHDFS_RoundTrip writes, reads, renames over, lists and deletes files
// with the pure-Go client Gale's HDFS sink uses, and reads one back over
// WebHDFS (following the NameNode's redirect to the DataNode).
func TestHDFS_RoundTrip(t *testing.T) {
	nn := HDFSNameNode(t)
	web := HDFSWeb(t)
	user := os.Getenv("HADOOP_USER_NAME")
	if user == "" {
		user = "gale"
	}
	client, err := hdfs.NewClient(hdfs.ClientOptions{Addresses: []string{nn}, User: user})
	if err != nil {
		t.Fatalf("connect to %s: %v", nn, err)
	}
	defer client.Close()

	dir := fmt.Sprintf("/gale-test/roundtrip-%d", time.Now().UnixNano())
	if err := client.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	defer func() {
		if err := client.RemoveAll(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}()

	// a payload over one packet (64 KiB) so that streaming matters
	payload := bytes.Repeat([]byte("gale writes the same bytes under the same names\n"), 5000)
	tmp, final := path.Join(dir, "batch.tmp"), path.Join(dir, "batch.jsonl")
	w, err := client.Create(tmp)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := w.Write(payload); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := closeHDFS(w); err != nil {
		t.Fatalf("close: %v", err)
	}
	// rename over an existing final name, the way the sink replaces a batch
	old, err := client.Create(final)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Write([]byte("stale")); err != nil {
		t.Fatal(err)
	}
	if err := closeHDFS(old); err != nil {
		t.Fatal(err)
	}
	if err := client.Rename(tmp, final); err != nil {
		t.Fatalf("rename over: %v", err)
	}
	if _, err := client.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temp name still there after rename: %v", err)
	}
	info, err := client.Stat(final)
	if err != nil || info.Size() != int64(len(payload)) {
		t.Fatalf("stat: %v, size %d, want %d", err, info.Size(), len(payload))
	}
	got, err := client.ReadFile(final)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("read back: %v (%d bytes, equal=%v)", err, len(got), bytes.Equal(got, payload))
	}
	entries, err := client.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if fmt.Sprint(names) != "[batch.jsonl]" {
		t.Errorf("dir holds %v, want [batch.jsonl]", names)
	}

	// the same file over WebHDFS (REST), a reader that is not the Go client
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Get(fmt.Sprintf("http://%s/webhdfs/v1%s?op=OPEN&user.name=%s", web, final, user))
	if err != nil {
		t.Fatalf("webhdfs open: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, payload) {
		t.Fatalf("webhdfs: status %d, err %v, %d bytes, equal=%v", resp.StatusCode, err, len(body), bytes.Equal(body, payload))
	}

	if err := client.Remove(final); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := client.Stat(final); !os.IsNotExist(err) {
		t.Errorf("file still there after delete: %v", err)
	}
}

// closeHDFS closes a file written with the Go client. Close returns
// ErrReplicating while the NameNode has not yet heard from the DataNode
// about the last block; the client documents that retrying Close is safe
// (the Java client retries with backoff), so do that, for up to 10 s.
func closeHDFS(w *hdfs.FileWriter) error {
	wait := 10 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := w.Close()
		if !hdfs.IsErrReplicating(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}
