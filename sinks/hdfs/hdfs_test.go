package hdfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hdfsc "github.com/colinmarc/hdfs/v2"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/hdfs"
	"github.com/gale-stream/gale/tuple"
)

func hdfsUser() string {
	if u := os.Getenv("HADOOP_USER_NAME"); u != "" {
		return u
	}
	return hdfs.DefaultUser
}

// rawClient is a client of the test cluster for inspecting what the sink
// wrote (not the sink's code path).
func rawClient(t *testing.T) *hdfsc.Client {
	t.Helper()
	nn := testenv.HDFSNameNode(t)
	c, err := hdfsc.NewClient(hdfsc.ClientOptions{Addresses: []string{nn}, User: hdfsUser(),
		NamenodeDialFunc: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		DatanodeDialFunc: (&net.Dialer{Timeout: 10 * time.Second}).DialContext})
	if err != nil {
		t.Fatalf("connect to %s: %v", nn, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testDir returns a fresh HDFS directory for the test, removed at the end.
func testDir(t *testing.T, c *hdfsc.Client) string {
	t.Helper()
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	dir := fmt.Sprintf("/gale-test/hdfs-sink/%s-%d", name, time.Now().UnixNano())
	t.Cleanup(func() {
		if err := c.RemoveAll(dir); err != nil {
			t.Errorf("cleanup %s: %v", dir, err)
		}
	})
	return dir
}

// newWriter returns a writer on the test cluster under a fresh directory,
// with the config's defaults changed by mod.
func newWriter(t *testing.T, raw *hdfsc.Client, mod func(*hdfs.Config)) (*hdfs.Writer, *hdfs.Config) {
	t.Helper()
	c := hdfs.NewConfig()
	c.NameNode = testenv.HDFSNameNode(t)
	c.Dir = testDir(t, raw)
	if mod != nil {
		mod(c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	w := c.Writer()
	t.Cleanup(func() { w.Close() })
	return w, c
}

// testBatch is batch seq of source "ev", partition 3: n records one minute
// apart from 00:30, so that with hourly partitioning it has two parts
// once n > 30; each line is about pad bytes long.
func testBatch(topology string, seq, n, pad int) *sinks.Batch {
	start := seq * n
	b := &sinks.Batch{Topology: topology, Meta: &tuple.BatchMeta{ID: fmt.Sprintf("ev/00003/%012d", seq), Source: "ev",
		Partition: 3, Seq: uint64(seq), Start: int64(start), End: int64(start + n), Records: n}}
	t0 := time.Date(2026, 11, 27, 0, 30, 0, 0, time.UTC)
	for i := range n {
		off := start + i
		filler := strings.Repeat(string(rune('a'+off%26)), max(pad-30, 0))
		b.Records = append(b.Records, sinks.Record{ID: fmt.Sprintf("ev/3/%d", off), Time: t0.Add(time.Duration(i) * time.Minute),
			Line: fmt.Appendf(nil, `{"n":%d,"pad":"%s"}`, off, filler)})
	}
	sinks.SortRecords(b.Records)
	return b
}

// listAll reads every file under dir (temporaries included): name
// relative to dir -> bytes.
func listAll(t testing.TB, c *hdfsc.Client, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	var walk func(d string)
	walk = func(d string) {
		entries, err := c.ReadDir(d)
		if err != nil {
			t.Fatalf("list %s: %v", d, err)
		}
		for _, e := range entries {
			p := path.Join(d, e.Name())
			if e.IsDir() {
				walk(p)
				continue
			}
			data, err := c.ReadFile(p)
			if err != nil {
				t.Fatalf("read %s: %v", p, err)
			}
			out[strings.TrimPrefix(p, dir+"/")] = data
		}
	}
	walk(dir)
	return out
}

func temporaries(files map[string][]byte) []string {
	var out []string
	for name := range files {
		if strings.HasPrefix(path.Base(name), ".") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestReplayLeavesOneFilePerPart: a batch written twice leaves one file
// per part, with the codec's bytes both times (a stale file under a final
// name is replaced), no temporary file of the sink, and a stale temporary
// file of a crashed writer swept.
func TestReplayLeavesOneFilePerPart(t *testing.T) {
	raw := rawClient(t)
	w, c := newWriter(t, raw, func(c *hdfs.Config) { c.TimePartition = sinks.PartitionHour })
	ctx := context.Background()
	b := testBatch("replay", 7, 90, 60)
	parts := w.Naming.Parts(b)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2 (hours 00 and 01)", len(parts))
	}
	want := map[string][]byte{}
	var total int64
	for _, p := range parts {
		data, err := w.Codec.Encode(p.Name, p.Content())
		if err != nil {
			t.Fatal(err)
		}
		want[p.Name] = data
		total += int64(len(data))
	}
	// a stale version under the first final name: the write must replace it
	if err := w.Put(ctx, parts[0].Name, []byte("stale")); err != nil {
		t.Fatal(err)
	}
	// temporaries of a crashed writer in the second part's directory: an
	// old one (swept) and a young one (maybe a write in progress: kept)
	dir1 := path.Join(c.Dir, path.Dir(parts[1].Name))
	if err := raw.MkdirAll(dir1, 0o755); err != nil {
		t.Fatal(err)
	}
	oldTmp, youngTmp := path.Join(dir1, ".x.jsonl.lz4.tmp-old"), path.Join(dir1, ".x.jsonl.lz4.tmp-young")
	for _, p := range []string{oldTmp, youngTmp} {
		if err := raw.CreateEmptyFile(p); err != nil {
			t.Fatal(err)
		}
	}
	hourAgo := time.Now().Add(-time.Hour)
	if err := raw.Chtimes(oldTmp, hourAgo, hourAgo); err != nil {
		t.Fatal(err)
	}

	var snapshots []map[string][]byte
	for i := range 2 {
		n, err := w.WriteBatch(ctx, b)
		if err != nil {
			t.Fatalf("write %d: %v", i+1, err)
		}
		if n != total {
			t.Errorf("write %d: %d bytes, want %d", i+1, n, total)
		}
		snapshots = append(snapshots, listAll(t, raw, c.Dir))
	}
	for i, files := range snapshots {
		if tmps := temporaries(files); fmt.Sprint(tmps) != fmt.Sprint([]string{strings.TrimPrefix(youngTmp, c.Dir+"/")}) {
			t.Errorf("after write %d: temporary files %v, want only the planted young one", i+1, tmps)
		}
		var finals []string
		for _, name := range keys(files) {
			if !strings.HasPrefix(path.Base(name), ".") {
				finals = append(finals, name)
			}
		}
		if fmt.Sprint(finals) != fmt.Sprint(keys(want)) {
			t.Fatalf("after write %d: files %v, want %v", i+1, finals, keys(want))
		}
		for name, data := range want {
			if !bytes.Equal(files[name], data) {
				t.Errorf("after write %d: %s holds %d bytes, not the %d the codec makes", i+1, name, len(files[name]), len(data))
			}
		}
	}
	objects, err := w.Objects(ctx, "replay")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(objects) != fmt.Sprint(keys(want)) {
		t.Errorf("Objects: %v, want %v", objects, keys(want))
	}
	for _, p := range parts {
		got, err := w.Read(ctx, p.Name)
		if err != nil || !bytes.Equal(got, p.Content()) {
			t.Errorf("Read %s: %v, %d bytes, want %d", p.Name, err, len(got), len(p.Content()))
		}
	}
	if other, err := w.Objects(ctx, "no-such-topology"); err != nil || len(other) != 0 {
		t.Errorf("Objects of an unknown topology: %v, %v", other, err)
	}
	if _, err := w.Read(ctx, "../etc/passwd"); err == nil {
		t.Error("Read of a name outside dir succeeded")
	}
}

// TestFailedWriteLeavesNoTemporary: a write whose rename fails (the final
// name is a non-empty directory) returns an error naming the file and
// TestDirectoryRemovedUnderTheWriter: the writer makes a directory once
// and then writes into it without asking the NameNode; when someone
// removes the directory meanwhile, the next write makes it again.
func TestDirectoryRemovedUnderTheWriter(t *testing.T) {
	raw := rawClient(t)
	w, c := newWriter(t, raw, nil)
	ctx := context.Background()
	first, second := testBatch("gone", 1, 20, 40), testBatch("gone", 2, 20, 40)
	if _, err := w.WriteBatch(ctx, first); err != nil {
		t.Fatal(err)
	}
	name := w.Naming.Parts(second)[0].Name
	if err := raw.RemoveAll(path.Join(c.Dir, path.Dir(name))); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteBatch(ctx, second); err != nil {
		t.Fatalf("write after the directory was removed: %v", err)
	}
	files := listAll(t, raw, c.Dir)
	if _, ok := files[name]; !ok || len(files) != 1 {
		t.Errorf("files %v, want only %s", keys(files), name)
	}
}

// removes its temporary file.
func TestFailedWriteLeavesNoTemporary(t *testing.T) {
	raw := rawClient(t)
	w, c := newWriter(t, raw, nil)
	b := testBatch("fail", 1, 10, 40)
	name := w.Naming.Parts(b)[0].Name
	blocker := path.Join(c.Dir, name)
	if err := raw.MkdirAll(blocker, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := raw.CreateEmptyFile(path.Join(blocker, "keep")); err != nil {
		t.Fatal(err)
	}
	_, err := w.WriteBatch(context.Background(), b)
	if err == nil || !strings.Contains(err.Error(), blocker) || !strings.Contains(err.Error(), "rename") {
		t.Fatalf("write over a directory: %v, want a rename error naming %s", err, blocker)
	}
	files := listAll(t, raw, c.Dir)
	if tmps := temporaries(files); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	if fmt.Sprint(keys(files)) != fmt.Sprint([]string{name + "/keep"}) {
		t.Errorf("files: %v", keys(files))
	}
	// and the writer still works
	if _, err := w.WriteBatch(context.Background(), testBatch("fail", 2, 10, 40)); err != nil {
		t.Errorf("next write: %v", err)
	}
}

// TestWebHDFSReadsTheSinksBytes: WebHDFS (the NameNode's REST API,
// redirecting to the DataNode) returns exactly the bytes the sink wrote;
// they decode to the part's content, and the lz4 command decompresses the
// lz4 ones.
func TestWebHDFSReadsTheSinksBytes(t *testing.T) {
	web := testenv.HDFSWeb(t)
	raw := rawClient(t)
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("5a", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, compression string
		encrypt           bool
		ext               string
	}{
		{"lz4", sinks.CompressionLZ4, false, ".jsonl.lz4"},
		{"none", sinks.CompressionNone, false, ".jsonl"},
		{"lz4-encrypted", sinks.CompressionLZ4, true, ".jsonl.lz4.enc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, c := newWriter(t, raw, func(c *hdfs.Config) {
				c.Compression = tc.compression
				if tc.encrypt {
					c.Encryption = &sinks.EncryptionConfig{KeyFile: keyFile}
				}
			})
			// over one 64 KiB packet even compressed: lines with varied text
			b := testBatch("web", 2, 3000, 80)
			for i := range b.Records {
				b.Records[i].Line = fmt.Appendf(b.Records[i].Line[:len(b.Records[i].Line)-1], `,"h":"%x"}`, i*2654435761)
			}
			parts := w.Naming.Parts(b)
			if len(parts) != 1 || !strings.HasSuffix(parts[0].Name, tc.ext) {
				t.Fatalf("parts %v, want one ending in %s", parts, tc.ext)
			}
			p := parts[0]
			n, err := w.WriteBatch(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			wrote, err := w.Codec.Encode(p.Name, p.Content())
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(wrote)) || n < 64<<10 {
				t.Errorf("WriteBatch wrote %d bytes, the codec makes %d (want over 64 KiB)", n, len(wrote))
			}

			url := fmt.Sprintf("http://%s/webhdfs/v1%s?op=OPEN&user.name=%s", web, path.Join(c.Dir, p.Name), hdfsUser())
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
			if err != nil {
				t.Fatalf("webhdfs: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("webhdfs: status %d, %v: %.200s", resp.StatusCode, err, body)
			}
			if resp.Request.URL.Host == web {
				t.Errorf("webhdfs answered from %s itself; expected a redirect to the DataNode", web)
			}
			if !bytes.Equal(body, wrote) {
				t.Fatalf("webhdfs returned %d bytes, not the %d the sink wrote", len(body), len(wrote))
			}
			content, err := sinks.Decode(w.Codec.Key, body)
			if err != nil || !bytes.Equal(content, p.Content()) {
				t.Fatalf("decode: %v; %d bytes, want %d", err, len(content), len(p.Content()))
			}
			if tc.encrypt {
				if _, err := sinks.Decode(nil, body); err == nil {
					t.Error("the encrypted file decodes without the key")
				}
			}
			if tc.compression == sinks.CompressionLZ4 && !tc.encrypt {
				lz4, err := exec.LookPath("lz4")
				if err != nil {
					if testenv.InCI() {
						t.Fatal("the lz4 command is missing (Debian package lz4; testenv/testenv up installs it)")
					}
					t.Skip("SKIPPED LOUDLY: the lz4 command is missing (apt-get install lz4)")
				}
				f := filepath.Join(t.TempDir(), "x.lz4")
				if err := os.WriteFile(f, body, 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(lz4, "-d", "-c", f).Output()
				if err != nil || !bytes.Equal(out, p.Content()) {
					t.Fatalf("lz4 -d: %v; %d bytes, want %d", err, len(out), len(p.Content()))
				}
			}
		})
	}
}

// TestReplicationAndBlockSize: the configured replication and block size
// are the file's (a multi-block file reads back whole), and 0 means the
// cluster's defaults.
func TestReplicationAndBlockSize(t *testing.T) {
	raw := rawClient(t)
	defaults, err := raw.ServerDefaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                  string
		replication           int
		blockSize             int64
		wantRepl              int
		wantBlock             int64
		records, pad, wantMin int
	}{
		{"configured", 2, 1 << 20, 2, 1 << 20, 25000, 120, 2<<20 + 1},
		{"cluster-defaults", 0, 0, defaults.Replication, defaults.BlockSize, 100, 40, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantRepl == tc.replication && tc.replication != 0 && tc.wantRepl == defaults.Replication {
				t.Fatalf("replication %d is the cluster's default: the test would prove nothing", tc.replication)
			}
			w, c := newWriter(t, raw, func(c *hdfs.Config) {
				c.Compression = sinks.CompressionNone
				c.Replication, c.BlockSize = tc.replication, tc.blockSize
			})
			b := testBatch("blocks", 1, tc.records, tc.pad)
			p := w.Naming.Parts(b)[0]
			if _, err := w.WriteBatch(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			fi, err := raw.Stat(path.Join(c.Dir, p.Name))
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*hdfsc.FileStatus)
			if int(st.GetBlockReplication()) != tc.wantRepl || int64(st.GetBlocksize()) != tc.wantBlock {
				t.Errorf("replication %d, block size %d; want %d, %d", st.GetBlockReplication(), st.GetBlocksize(), tc.wantRepl, tc.wantBlock)
			}
			if fi.Size() < int64(tc.wantMin) || fi.Size() != int64(len(p.Content())) {
				t.Errorf("size %d, want %d (at least %d)", fi.Size(), len(p.Content()), tc.wantMin)
			}
			got, err := w.Read(context.Background(), p.Name)
			if err != nil || !bytes.Equal(got, p.Content()) {
				t.Errorf("read back: %v; %d bytes, want %d", err, len(got), len(p.Content()))
			}
		})
	}
}

// silentNameNode accepts connections and reads them but never answers.
func silentNameNode(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestNameNodeDownIsAnError: with no NameNode listening, or one that never
// answers, WriteBatch returns an error naming the address within a few
// seconds instead of hanging.
func TestNameNodeDownIsAnError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close() // nothing listens there now
	for _, tc := range []struct {
		name, addr string
		timeout    bool
	}{
		{"refused", closed, false},
		{"silent", silentNameNode(t), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := hdfs.NewConfig()
			c.NameNode, c.Dir, c.TimeoutMS = tc.addr, "/gale-test/down", 1000
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			w := c.Writer()
			defer w.Close()
			for i := range 2 { // and again: a retry fails the same way
				start := time.Now()
				_, err := w.WriteBatch(context.Background(), testBatch("down", 1, 5, 40))
				d := time.Since(start)
				if err == nil {
					t.Fatal("WriteBatch succeeded without a NameNode")
				}
				if d > 5*time.Second {
					t.Errorf("attempt %d: the error took %v", i+1, d)
				}
				if !strings.Contains(err.Error(), tc.addr) {
					t.Errorf("attempt %d: error %q does not name %s", i+1, err, tc.addr)
				}
				if tc.timeout && !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("attempt %d: error %q is not a timeout", i+1, err)
				}
				t.Logf("attempt %d after %v: %v", i+1, d.Round(time.Millisecond), err)
			}
			if _, err := w.Objects(context.Background(), "down"); err == nil || !strings.Contains(err.Error(), tc.addr) {
				t.Errorf("Objects: %v, want an error naming %s", err, tc.addr)
			}
		})
	}
}

// proxy forwards TCP connections to target; it can be stopped (every
// connection cut, the port closed) and started again on the same port.
type proxy struct {
	target, addr string
	mu           sync.Mutex
	l            net.Listener
	conns        []net.Conn
}

func (p *proxy) start(t *testing.T) {
	t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.l, p.addr = l, l.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.l.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestReconnectsAfterNameNodeOutage: when the NameNode goes away the write
// fails with an error naming it, and once it is back the same writer
// connects afresh and writes.
func TestReconnectsAfterNameNodeOutage(t *testing.T) {
	raw := rawClient(t)
	px := &proxy{target: testenv.HDFSNameNode(t)}
	px.start(t)
	defer px.stop()
	w, _ := newWriter(t, raw, func(c *hdfs.Config) { c.NameNode = px.addr; c.TimeoutMS = 2000 })
	ctx := context.Background()
	if _, err := w.WriteBatch(ctx, testBatch("outage", 1, 10, 40)); err != nil {
		t.Fatal(err)
	}
	px.stop()
	for i := range 2 {
		start := time.Now()
		_, err := w.WriteBatch(ctx, testBatch("outage", 2, 10, 40))
		if err == nil || !strings.Contains(err.Error(), px.addr) || time.Since(start) > 5*time.Second {
			t.Fatalf("write %d with the NameNode away: %v after %v, want an error naming %s", i+1, err, time.Since(start), px.addr)
		}
	}
	px.start(t)
	if _, err := w.WriteBatch(ctx, testBatch("outage", 2, 10, 40)); err != nil {
		t.Fatalf("write after the NameNode came back: %v", err)
	}
	objects, err := w.Objects(ctx, "outage")
	if err != nil || len(objects) != 2 {
		t.Fatalf("objects %v, %v; want the 2 batches", objects, err)
	}
	// and the new connection goes through the proxy again
	px.mu.Lock()
	n := len(px.conns)
	px.mu.Unlock()
	if n == 0 {
		t.Error("the writer did not reconnect through the proxy")
	}
}

// TestFilesOfManyBlocks: files of the configured block size, of many
// blocks, one, or part of one, written at once by several calls, read
// back whole.
func TestFilesOfManyBlocks(t *testing.T) {
	raw := rawClient(t)
	const block = 1 << 20
	w, c := newWriter(t, raw, func(c *hdfs.Config) { c.BlockSize = block })
	sizes := []int{24*block + 123, 17 * block, block + 1, block, 3}
	datas := make([][]byte, len(sizes))
	errs := make([]error, len(sizes))
	var wg sync.WaitGroup
	for i, n := range sizes {
		datas[i] = make([]byte, n)
		for j := range datas[i] {
			datas[i][j] = byte(j*7 + j/4099 + i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.Put(context.Background(), fmt.Sprintf("blocks/f%d", i), datas[i])
		}()
	}
	wg.Wait()
	for i, n := range sizes {
		if errs[i] != nil {
			t.Fatalf("file %d (%d bytes): %v", i, n, errs[i])
		}
		name := path.Join(c.Dir, fmt.Sprintf("blocks/f%d", i))
		fi, err := raw.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*hdfsc.FileStatus); fi.Size() != int64(n) || st.GetBlocksize() != block {
			t.Errorf("file %d: %d bytes in blocks of %d; want %d in blocks of %d", i, fi.Size(), st.GetBlocksize(), n, block)
		}
		got, err := raw.ReadFile(name)
		if err != nil || !bytes.Equal(got, datas[i]) {
			t.Errorf("file %d read back: %v; %d bytes, equal %v", i, err, len(got), bytes.Equal(got, datas[i]))
		}
	}
}

// TestDefaultBlockSize: with no block size configured, files of several
// of the cluster's default blocks, of exactly one, and of less have the
// default block size and read back whole.
func TestDefaultBlockSize(t *testing.T) {
	raw := rawClient(t)
	defaults, err := raw.ServerDefaults()
	if err != nil {
		t.Fatal(err)
	}
	w, c := newWriter(t, raw, nil)
	block := int(defaults.BlockSize)
	for _, size := range []int{2*block + 3<<20 + 5, block, 1000} {
		data := bytes.Repeat([]byte("0123456789abcde\n"), size/16+1)[:size]
		name := fmt.Sprintf("default/%d", size)
		if err := w.Put(context.Background(), name, data); err != nil {
			t.Fatal(err)
		}
		fi, err := raw.Stat(path.Join(c.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*hdfsc.FileStatus); fi.Size() != int64(size) || int64(st.GetBlocksize()) != defaults.BlockSize {
			t.Errorf("%d bytes written: %d bytes in blocks of %d; want blocks of %d", size, fi.Size(), st.GetBlocksize(), defaults.BlockSize)
		}
		got, err := raw.ReadFile(path.Join(c.Dir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes written: read back %d bytes, %v", size, len(got), err)
		}
	}
}
