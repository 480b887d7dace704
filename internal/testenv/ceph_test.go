//go:build ceph

// Integration test of the Ceph backend that testenv/backends/ceph.sh starts.
// go-ceph is cgo against librados (librados-dev), so it builds only with -tags ceph;
// against Debian 12's Ceph 16 (Pacific) go-ceph v0.37.0 also needs -tags pacific:
//
//	testenv/testenv up ceph && eval "$(testenv/testenv env)"
//	go test -race -count=1 -tags ceph,pacific ./internal/testenv/ -run Ceph -v

package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ceph/go-ceph/rados"
)

// cephConn connects to the test cluster with bounded timeouts (librados otherwise waits
// forever for a monitor or an OSD) and shuts the connection down when the test ends.
func cephConn(t *testing.T) *rados.Conn {
	t.Helper()
	conf := CephConf(t)
	conn, err := rados.NewConn()
	if err != nil {
		t.Fatalf("rados.NewConn: %v", err)
	}
	if err := conn.ReadConfigFile(conf); err != nil {
		t.Fatalf("read ceph config %s: %v", conf, err)
	}
	for opt, val := range map[string]string{
		"client_mount_timeout": "15",
		"rados_mon_op_timeout": "30",
		"rados_osd_op_timeout": "30",
	} {
		if err := conn.SetConfigOption(opt, val); err != nil {
			t.Fatalf("set %s: %v", opt, err)
		}
	}
	if err := conn.Connect(); err != nil {
		t.Fatalf("connect to the Ceph cluster of %s: %v", conf, err)
	}
	t.Cleanup(conn.Shutdown)
	return conn
}

func TestCeph_RadosRoundTrip(t *testing.T) {
	conn := cephConn(t)

	fsid, err := conn.GetFSID()
	if err != nil || fsid == "" {
		t.Fatalf("GetFSID = %q, %v", fsid, err)
	}

	pool := fmt.Sprintf("gale-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	pools, err := conn.ListPools()
	if err != nil {
		t.Fatalf("ListPools: %v", err)
	}
	if !slices.Contains(pools, pool) {
		if err := conn.MakePool(pool); err != nil {
			t.Fatalf("MakePool %s: %v", pool, err)
		}
	}
	t.Cleanup(func() {
		if err := conn.DeletePool(pool); err != nil {
			t.Errorf("DeletePool %s: %v", pool, err)
		}
	})
	if pools, err = conn.ListPools(); err != nil || !slices.Contains(pools, pool) {
		t.Fatalf("ListPools after MakePool = %v, %v; want %s in it", pools, err, pool)
	}

	ioctx, err := conn.OpenIOContext(pool)
	if err != nil {
		t.Fatalf("OpenIOContext %s: %v", pool, err)
	}
	defer ioctx.Destroy()

	// Write, overwrite (WriteFull replaces the whole object), read back.
	const oid = "tuple-batch-0001"
	if err := ioctx.WriteFull(oid, []byte("a first, longer version of the object")); err != nil {
		t.Fatalf("WriteFull: %v", err)
	}
	want := []byte("gale \x00 binary-safe \xff payload")
	if err := ioctx.WriteFull(oid, want); err != nil {
		t.Fatalf("WriteFull (overwrite): %v", err)
	}
	st, err := ioctx.Stat(oid)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if st.Size != uint64(len(want)) {
		t.Errorf("Stat size = %d, want %d (WriteFull must truncate)", st.Size, len(want))
	}
	buf := make([]byte, 4096)
	n, err := ioctx.Read(oid, buf, 0)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !bytes.Equal(buf[:n], want) {
		t.Fatalf("Read = %q, want %q", buf[:n], want)
	}

	// A second object, then list both.
	if err := ioctx.WriteFull("tuple-batch-0002", []byte("second")); err != nil {
		t.Fatalf("WriteFull second object: %v", err)
	}
	var listed []string
	if err := ioctx.ListObjects(func(o string) { listed = append(listed, o) }); err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, []string{oid, "tuple-batch-0002"}) {
		t.Fatalf("ListObjects = %v, want [%s tuple-batch-0002]", listed, oid)
	}

	// Extended attributes.
	xval := []byte("offset=42")
	if err := ioctx.SetXattr(oid, "gale.offset", xval); err != nil {
		t.Fatalf("SetXattr: %v", err)
	}
	xbuf := make([]byte, 64)
	n, err = ioctx.GetXattr(oid, "gale.offset", xbuf)
	if err != nil {
		t.Fatalf("GetXattr: %v", err)
	}
	if !bytes.Equal(xbuf[:n], xval) {
		t.Fatalf("GetXattr = %q, want %q", xbuf[:n], xval)
	}
	var coded interface{ ErrorCode() int }
	if _, err := ioctx.GetXattr(oid, "gale.missing", xbuf); !errors.As(err, &coded) || coded.ErrorCode() != -int(syscall.ENODATA) {
		t.Errorf("GetXattr of a missing attribute: err = %v, want ENODATA", err)
	}

	// Delete; the object is gone.
	for _, o := range []string{oid, "tuple-batch-0002"} {
		if err := ioctx.Delete(o); err != nil {
			t.Fatalf("Delete %s: %v", o, err)
		}
	}
	if _, err := ioctx.Read(oid, buf, 0); !errors.Is(err, rados.ErrNotFound) {
		t.Fatalf("Read after Delete: err = %v, want rados.ErrNotFound", err)
	}
	listed = listed[:0]
	if err := ioctx.ListObjects(func(o string) { listed = append(listed, o) }); err != nil {
		t.Fatalf("ListObjects after Delete: %v", err)
	}
	if len(listed) != 0 {
		t.Fatalf("ListObjects after Delete = %v, want none", listed)
	}
}
