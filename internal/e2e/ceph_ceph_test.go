//go:build ceph

package e2e

import (
	"testing"

	"github.com/ceph/go-ceph/rados"

	"github.com/gale-stream/gale/internal/testenv"
)

// cephObjects reads every object of the run's pool, raw, by name.
func cephObjects(t *testing.T, rb runBackends) map[string][]byte {
	t.Helper()
	conn, err := rados.NewConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.ReadConfigFile(testenv.CephConf(t)); err != nil {
		t.Fatal(err)
	}
	if err := conn.Connect(); err != nil {
		t.Fatal(err)
	}
	defer conn.Shutdown()
	io, err := conn.OpenIOContext(rb.pool)
	if err != nil {
		t.Fatalf("pool %s: %v", rb.pool, err)
	}
	defer io.Destroy()
	out := map[string][]byte{}
	var names []string
	if err := io.ListObjects(func(oid string) { names = append(names, oid) }); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		st, err := io.Stat(n)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, st.Size)
		got, err := io.Read(n, buf, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = buf[:got]
	}
	return out
}
