//go:build ceph

// Integration tests of the Ceph sink against the cluster testenv started:
//
//	testenv/testenv up ceph && eval "$(testenv/testenv env)"
//	go test -race -count=1 -tags ceph,pacific ./sinks/ceph/

package ceph

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ceph/go-ceph/rados"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
	"github.com/gale-stream/gale/topology"
)

// adminConn connects to the test cluster for the tests' own checks.
func adminConn(t *testing.T) *rados.Conn {
	t.Helper()
	conf := testenv.CephConf(t)
	conn, err := rados.NewConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.ReadConfigFile(conf); err != nil {
		t.Fatalf("read %s: %v", conf, err)
	}
	for _, opt := range []string{"client_mount_timeout", "rados_mon_op_timeout", "rados_osd_op_timeout"} {
		if err := conn.SetConfigOption(opt, "30"); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Connect(); err != nil {
		t.Fatalf("connect to the cluster of %s: %v", conf, err)
	}
	t.Cleanup(conn.Shutdown)
	return conn
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

// uniqueName returns a name for t unique across runs and processes.
func uniqueName(t *testing.T, what string) string {
	n := strings.ToLower(unsafeChars.ReplaceAllString(t.Name(), "-"))
	return fmt.Sprintf("gale-test-%s-%s-%d-%08x", what, n, os.Getpid(), rand.Uint32())
}

// tempPool creates a pool for t and deletes it when t ends (or, if the
// cluster forbids pool deletion, deletes its objects).
func tempPool(t *testing.T, conn *rados.Conn) string {
	t.Helper()
	pool := uniqueName(t, "pool")
	if err := conn.MakePool(pool); err != nil {
		t.Fatalf("MakePool %s: %v", pool, err)
	}
	dropPool(t, conn, pool)
	return pool
}

// dropPool deletes pool when t ends.
func dropPool(t *testing.T, conn *rados.Conn, pool string) {
	t.Cleanup(func() {
		// a pool another connection created may not be in conn's osdmap yet
		if err := conn.WaitForLatestOSDMap(); err != nil {
			t.Errorf("WaitForLatestOSDMap: %v", err)
		}
		err := conn.DeletePool(pool)
		if err == nil || errors.Is(err, rados.ErrNotFound) {
			return
		}
		t.Logf("DeletePool %s: %v (mon_allow_pool_delete off?): deleting its objects instead", pool, err)
		ioctx, err := conn.OpenIOContext(pool)
		if err != nil {
			t.Errorf("open pool %s: %v", pool, err)
			return
		}
		defer ioctx.Destroy()
		ioctx.SetNamespace(rados.RadosAllNamespaces)
		iter, err := ioctx.Iter()
		if err != nil {
			t.Errorf("list pool %s: %v", pool, err)
			return
		}
		defer iter.Close()
		for iter.Next() {
			ioctx.SetNamespace(iter.Namespace())
			if err := ioctx.Delete(iter.Value()); err != nil {
				t.Errorf("delete %s: %v", iter.Value(), err)
			}
		}
	})
}

// testConfig returns a validated config for pool and namespace.
func testConfig(t testing.TB, pool, ns string) *Config {
	t.Helper()
	c := NewConfig()
	c.ConfFile = testenv.CephConf(t)
	c.Pool, c.Namespace = pool, ns
	c.Field = "value"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func openWriter(t testing.TB, c *Config) *Writer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// listAll returns the sorted names of all objects in the writer's
// namespace (parts included).
func listAll(t testing.TB, w *Writer) []string {
	t.Helper()
	var names []string
	if err := w.ioctx.ListObjects(func(oid string) { names = append(names, oid) }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// rawObjects returns the stored bytes of every object of the namespace.
func rawObjects(t testing.TB, w *Writer) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, n := range listAll(t, w) {
		b, err := w.readAll(w.ioctx, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

func xattrs(t testing.TB, w *Writer, name string) map[string]string {
	t.Helper()
	m, err := w.ioctx.ListXattrs(name)
	if err != nil {
		t.Fatalf("xattrs of %s: %v", name, err)
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// TestCephReplayLeavesOneIdenticalObject: a batch written twice (a replay)
// leaves one object with the same bytes and the right xattrs; stale
// metadata of an older version is replaced in the same atomic op.
func TestCephReplayLeavesOneIdenticalObject(t *testing.T) {
	conn := adminConn(t)
	pool := tempPool(t, conn)
	c := testConfig(t, pool, "")
	c.Prefix = "gale"
	w := openWriter(t, c)
	ctx := context.Background()

	b := sinktest.Batch(7, sinktest.JSONLines(500))
	parts := c.Naming().Parts(b)
	if len(parts) != 1 {
		t.Fatalf("%d parts, want 1", len(parts))
	}
	name, content := parts[0].Name, parts[0].Content()
	if want := "gale/topo/events/00003/000000000007-0000000000000007000-0000000000000007500.jsonl.lz4"; name != want {
		t.Fatalf("name %q, want %q", name, want)
	}
	n1, err := w.WriteBatch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	first := rawObjects(t, w)
	// an older version's leftover metadata: the rewrite must drop it
	if err := w.ioctx.SetXattr(name, "gale.parts", []byte("3")); err != nil {
		t.Fatal(err)
	}
	n2, err := w.WriteBatch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	second := rawObjects(t, w)

	if len(second) != 1 || second[name] == nil {
		t.Fatalf("objects after two writes: %v, want only %s", slices.Sorted(maps.Keys(second)), name)
	}
	if !bytes.Equal(first[name], second[name]) || n1 != n2 || n1 != int64(len(second[name])) {
		t.Fatalf("replay changed the object: %d then %d bytes (reported %d, %d)", len(first[name]), len(second[name]), n1, n2)
	}
	want, err := c.codec().Encode(name, content)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(second[name], want) {
		t.Fatalf("stored bytes are not Codec.Encode of the content")
	}
	got := xattrs(t, w, name)
	wantAttrs := map[string]string{
		XattrBatch: "events/00003/000000000007", XattrRecords: "500", XattrSHA256: sinks.Checksum(content),
		XattrStart: "7000", XattrEnd: "7500", XattrBytes: strconv.Itoa(len(want)),
	}
	if !maps.Equal(got, wantAttrs) {
		t.Fatalf("xattrs:\n got %v\nwant %v", got, wantAttrs)
	}
	objs, err := w.Objects(ctx, "topo")
	if err != nil || !slices.Equal(objs, []string{name}) {
		t.Fatalf("Objects = %v, %v; want [%s]", objs, err, name)
	}
	if objs, err := w.Objects(ctx, "other"); err != nil || len(objs) != 0 {
		t.Fatalf("Objects(other) = %v, %v; want none", objs, err)
	}
	read, err := w.Read(ctx, name)
	if err != nil || !bytes.Equal(read, content) {
		t.Fatalf("Read = %d bytes, %v; want the %d bytes of content", len(read), err, len(content))
	}

	// an empty batch still leaves an (lz4-framed) object with its metadata
	if _, err := w.WriteBatch(ctx, sinktest.Batch(8, nil)); err != nil {
		t.Fatal(err)
	}
	empty := c.Naming().Parts(sinktest.Batch(8, nil))[0].Name
	if got := xattrs(t, w, empty); got[XattrRecords] != "0" || got[XattrSHA256] != sinks.Checksum(nil) {
		t.Fatalf("xattrs of the empty batch's object: %v", got)
	}
	if read, err := w.Read(ctx, empty); err != nil || len(read) != 0 {
		t.Fatalf("Read of the empty batch's object = %q, %v", read, err)
	}
}

// TestCephRadosCLIReadsObject: the rados command-line tool gets the object
// (and its checksum xattr), and lz4 -d of it gives exactly the content.
func TestCephRadosCLIReadsObject(t *testing.T) {
	radosCmd, lz4Cmd := testenv.Command(t, "rados", "ceph-common"), testenv.Command(t, "lz4", "lz4")
	conn := adminConn(t)
	pool := tempPool(t, conn)
	ns := "ns-" + strconv.FormatUint(uint64(rand.Uint32()), 16)
	c := testConfig(t, pool, ns)
	c.TimePartition = sinks.PartitionHour
	w := openWriter(t, c)

	b := sinktest.Batch(1, sinktest.JSONLines(240))
	t0 := time.Date(2026, 11, 27, 0, 50, 0, 0, time.UTC)
	for i := range b.Records {
		b.Records[i].Time = t0.Add(time.Duration(i) * time.Second * 30) // two hours
	}
	if _, err := w.WriteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	parts := c.Naming().Parts(b)
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3 hours", len(parts))
	}
	dir := t.TempDir()
	for i, p := range parts {
		f := filepath.Join(dir, fmt.Sprintf("obj%d", i))
		conf := testenv.CephConf(t)
		if out, err := exec.Command(radosCmd, "-c", conf, "-p", pool, "-N", ns, "get", p.Name, f).CombinedOutput(); err != nil {
			t.Fatalf("rados get %s: %v\n%s", p.Name, err, out)
		}
		out, err := exec.Command(lz4Cmd, "-d", "-c", f).Output()
		if err != nil {
			t.Fatalf("lz4 -d of %s: %v", p.Name, err)
		}
		if want := p.Content(); !bytes.Equal(out, want) {
			t.Fatalf("%s: lz4 -d gave %d bytes, want the %d of Part.Content()", p.Name, len(out), len(want))
		}
		sum, err := exec.Command(radosCmd, "-c", conf, "-p", pool, "-N", ns, "getxattr", p.Name, XattrSHA256).Output()
		if err != nil {
			t.Fatalf("rados getxattr %s: %v", p.Name, err)
		}
		if got := strings.TrimSpace(string(sum)); got != sinks.Checksum(p.Content()) {
			t.Fatalf("%s: rados getxattr %s = %q, want %s", p.Name, XattrSHA256, got, sinks.Checksum(p.Content()))
		}
	}
	// the default namespace holds nothing
	var other []string
	io, err := conn.OpenIOContext(pool)
	if err != nil {
		t.Fatal(err)
	}
	defer io.Destroy()
	if err := io.ListObjects(func(o string) { other = append(other, o) }); err != nil || len(other) != 0 {
		t.Fatalf("objects outside namespace %s: %v, %v", ns, other, err)
	}
}

// TestCephLargeObjectIsSplit: an object larger than max_object_bytes is
// written as parts and a manifest; Read reassembles it; a replay leaves the
// same objects; rewriting with another split removes stale parts.
func TestCephLargeObjectIsSplit(t *testing.T) {
	conn := adminConn(t)
	pool := tempPool(t, conn)
	c := testConfig(t, pool, "large")
	c.MaxObjectBytes = MinObjectBytes
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	w := openWriter(t, c)
	ctx := context.Background()

	// ~3.4 MiB of random base64, which lz4 barely compresses
	rng := rand.New(rand.NewPCG(1, 2))
	lines := make([]string, 30000)
	raw := make([]byte, 72)
	for i := range lines {
		for j := range raw {
			raw[j] = byte(rng.Uint32())
		}
		lines[i] = fmt.Sprintf(`{"n":%d,"b":"%s"}`, i, base64.StdEncoding.EncodeToString(raw))
	}
	b := sinktest.Batch(2, lines)
	p := c.Naming().Parts(b)[0]
	content := p.Content()
	encoded, err := c.codec().Encode(p.Name, content)
	if err != nil {
		t.Fatal(err)
	}
	wantParts := (len(encoded) + MinObjectBytes - 1) / MinObjectBytes
	if wantParts < 3 {
		t.Fatalf("the test content encodes to %d bytes: too compressible to need 3 parts", len(encoded))
	}
	t.Logf("%d bytes of content, %d encoded: %d parts", len(content), len(encoded), wantParts)
	n, err := w.WriteBatch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(encoded)) {
		t.Errorf("WriteBatch reported %d bytes, want %d", n, len(encoded))
	}
	first := rawObjects(t, w)
	want := []string{p.Name}
	for i := range wantParts {
		want = append(want, PartName(p.Name, i))
	}
	if got := slices.Sorted(maps.Keys(first)); !slices.Equal(got, want) {
		t.Fatalf("objects:\n got %v\nwant %v", got, want)
	}
	if len(first[p.Name]) != 0 {
		t.Errorf("the manifest holds %d bytes, want none", len(first[p.Name]))
	}
	var joined []byte
	for i := range wantParts {
		part := first[PartName(p.Name, i)]
		if i < wantParts-1 && len(part) != MinObjectBytes {
			t.Errorf("part %d holds %d bytes, want %d", i, len(part), MinObjectBytes)
		}
		joined = append(joined, part...)
		if got := xattrs(t, w, PartName(p.Name, i)); got[XattrPartOf] != p.Name {
			t.Errorf("part %d xattrs %v", i, got)
		}
	}
	if !bytes.Equal(joined, encoded) {
		t.Fatal("the parts joined are not the encoded object")
	}
	attrs := xattrs(t, w, p.Name)
	if attrs[XattrParts] != strconv.Itoa(wantParts) || attrs[XattrSHA256] != sinks.Checksum(content) ||
		attrs[XattrRecords] != "30000" || attrs[XattrBytes] != strconv.Itoa(len(encoded)) || attrs[XattrBatch] != b.Meta.ID {
		t.Fatalf("manifest xattrs %v", attrs)
	}
	if objs, err := w.Objects(ctx, "topo"); err != nil || !slices.Equal(objs, []string{p.Name}) {
		t.Fatalf("Objects = %v, %v; want only the manifest %s", objs, err, p.Name)
	}
	if read, err := w.Read(ctx, p.Name); err != nil || !bytes.Equal(read, content) {
		t.Fatalf("Read = %d bytes, %v; want the %d bytes of content", len(read), err, len(content))
	}

	// the replay leaves the same objects, byte for byte
	if _, err := w.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	second := rawObjects(t, w)
	if !maps.EqualFunc(first, second, bytes.Equal) {
		t.Fatalf("the replay changed the objects: %v then %v", slices.Sorted(maps.Keys(first)), slices.Sorted(maps.Keys(second)))
	}
	if got := xattrs(t, w, p.Name); !maps.Equal(got, attrs) {
		t.Fatalf("the replay changed the manifest's xattrs: %v then %v", attrs, got)
	}

	// the same batch under a larger max_object_bytes: one object, the
	// manifest's gale.parts and the parts gone
	big := testConfig(t, c.Pool, c.Namespace)
	wb := openWriter(t, big)
	if _, err := wb.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := listAll(t, wb); !slices.Equal(got, []string{p.Name}) {
		t.Fatalf("objects after rewriting unsplit: %v, want [%s]", got, p.Name)
	}
	if got := xattrs(t, wb, p.Name); got[XattrParts] != "" {
		t.Fatalf("the unsplit object kept %s=%s", XattrParts, got[XattrParts])
	}
	if read, err := wb.Read(ctx, p.Name); err != nil || !bytes.Equal(read, content) {
		t.Fatalf("Read of the unsplit object = %d bytes, %v", len(read), err)
	}
	// and split again: the same objects as the first time
	if _, err := w.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	if third := rawObjects(t, w); !maps.EqualFunc(first, third, bytes.Equal) {
		t.Fatalf("split again: %v, want %v", slices.Sorted(maps.Keys(third)), slices.Sorted(maps.Keys(first)))
	}
}

// TestCephMissingPool: without create_pool a missing pool is a clear
// configuration error; with it the sink creates the pool.
func TestCephMissingPool(t *testing.T) {
	conn := adminConn(t)
	pool := uniqueName(t, "missing")
	c := testConfig(t, pool, "")
	ctx := context.Background()
	w, err := c.Open(ctx)
	if err == nil {
		w.Close()
		t.Fatalf("Open of missing pool %s succeeded", pool)
	}
	if !errors.Is(err, sinks.ErrConfig) || !strings.Contains(err.Error(), strconv.Quote(pool)) || !strings.Contains(err.Error(), "create_pool") {
		t.Fatalf("Open of a missing pool: %v; want an ErrConfig naming the pool and create_pool", err)
	}
	if err := conn.WaitForLatestOSDMap(); err != nil {
		t.Fatal(err)
	}
	if pools, _ := conn.ListPools(); slices.Contains(pools, pool) {
		t.Fatalf("pool %s was created without create_pool", pool)
	}

	c.CreatePool = true
	dropPool(t, conn, pool)
	w = openWriter(t, c)
	if err := conn.WaitForLatestOSDMap(); err != nil {
		t.Fatal(err)
	}
	if pools, err := conn.ListPools(); err != nil || !slices.Contains(pools, pool) {
		t.Fatalf("ListPools = %v, %v; want %s created", pools, err, pool)
	}
	b := sinktest.Batch(1, sinktest.JSONLines(10))
	if _, err := w.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	p := c.Naming().Parts(b)[0]
	if read, err := w.Read(ctx, p.Name); err != nil || !bytes.Equal(read, p.Content()) {
		t.Fatalf("Read = %q, %v", read, err)
	}
	// a second task opening the now existing pool with create_pool
	w2 := openWriter(t, c)
	if objs, err := w2.Objects(ctx, "topo"); err != nil || !slices.Equal(objs, []string{p.Name}) {
		t.Fatalf("Objects from a second writer = %v, %v", objs, err)
	}
}

// TestCephDownClusterIsAnError: with no monitor answering, Open fails
// within the timeout instead of hanging.
func TestCephDownClusterIsAnError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	conf := filepath.Join(t.TempDir(), "ceph.conf")
	os.WriteFile(conf, fmt.Appendf(nil, "[global]\nmon host = 127.0.0.1:%d\nauth cluster required = none\nauth service required = none\nauth client required = none\nlog file = /dev/null\n", port), 0o644)
	c := NewConfig()
	c.ConfFile, c.Pool, c.TimeoutSeconds = conf, "gale-nowhere", 2
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w, err := c.Open(context.Background())
	if err == nil {
		w.Close()
		t.Fatal("Open succeeded with no cluster")
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("Open took %v to fail, want about the 2 s timeout", d)
	}
	if !strings.Contains(err.Error(), `pool "gale-nowhere"`) || !strings.Contains(err.Error(), conf) {
		t.Fatalf("error %q does not name the pool and the config", err)
	}
	t.Logf("Open failed after %v: %v", time.Since(start).Round(time.Millisecond), err)

	// the context ends the wait before the timeout
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	c.TimeoutSeconds = 30
	start = time.Now()
	if _, err := c.Open(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("Open with a 300 ms context: %v after %v", err, time.Since(start))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
		want string
	}{
		{"no pool", func(c *Config) { c.Pool = "" }, "pool is required"},
		{"small objects", func(c *Config) { c.MaxObjectBytes = MinObjectBytes - 1 }, "max_object_bytes"},
		{"huge objects", func(c *Config) { c.MaxObjectBytes = MaxObjectBytes + 1 }, "max_object_bytes"},
		{"compression", func(c *Config) { c.Compression = "zstd" }, "compression"},
		{"format", func(c *Config) { c.Format = "xml" }, "format"},
		{"timeout", func(c *Config) { c.TimeoutSeconds = 0 }, "timeout_seconds"},
		{"no key", func(c *Config) { c.Encryption = &sinks.EncryptionConfig{KeyEnv: "GALE_TEST_NO_SUCH_KEY_VAR"} }, "GALE_TEST_NO_SUCH_KEY_VAR"},
	} {
		c := NewConfig()
		c.Pool = "p"
		tc.set(c)
		err := c.Validate()
		if !errors.Is(err, sinks.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v; want an ErrConfig mentioning %q", tc.name, err, tc.want)
		}
	}
	c := NewConfig()
	c.Pool = "p"
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if c.User != "admin" || c.MaxObjectBytes != 64<<20 || c.Compression != "lz4" || c.CreatePool {
		t.Errorf("defaults: %+v", c)
	}
	r := registry.New()
	if err := r.Register(Type()); err != nil {
		t.Fatal(err)
	}
	if bt, ok := r.ComponentType(topology.KindBolt, TypeName); !ok || bt.NewConfig == nil {
		t.Error("Register did not add ceph_sink")
	}
	t.Setenv("CEPH_CONF", "/x/ceph.conf")
	if got := c.confFile(); got != "/x/ceph.conf" {
		t.Errorf("conf file with $CEPH_CONF: %s", got)
	}
	t.Setenv("CEPH_CONF", "")
	if got := c.confFile(); got != DefaultConfFile {
		t.Errorf("default conf file: %s", got)
	}
	if ext := c.Naming().Ext; ext != ".jsonl.lz4" {
		t.Errorf("ext %q", ext)
	}
}
