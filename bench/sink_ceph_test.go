//go:build ceph

package bench

// The Ceph sub-benchmark of BenchmarkSinkWrite (cgo, librados):
//
//	eval "$(testenv/testenv env)"
//	go test -tags ceph,pacific -run '^$' -bench SinkWrite -benchtime 2x ./bench/

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ceph/go-ceph/rados"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks/ceph"
)

func init() {
	sinkWriteBackends = append(sinkWriteBackends, sinkWriteBackend{"ceph-lz4", benchCephWrite})
}

// benchCephWrite writes into a pool of its own (created and deleted here,
// as the ceph sink's tests do), in a namespace.
func benchCephWrite(b *testing.B) {
	conf := os.Getenv(testenv.CephConfVar)
	if conf == "" {
		b.Skip(testenv.CephConfVar + " is not set: start Ceph with testenv/testenv up ceph && eval \"$(testenv/testenv env)\"")
	}
	admin, err := rados.NewConn()
	if err != nil {
		b.Fatal(err)
	}
	if err := admin.ReadConfigFile(conf); err != nil {
		b.Fatalf("read %s: %v", conf, err)
	}
	for _, opt := range []string{"client_mount_timeout", "rados_mon_op_timeout", "rados_osd_op_timeout"} {
		if err := admin.SetConfigOption(opt, "30"); err != nil {
			b.Fatal(err)
		}
	}
	if err := admin.Connect(); err != nil {
		b.Fatalf("connect to the cluster of %s: %v", conf, err)
	}
	defer admin.Shutdown()
	pool := fmt.Sprintf("gale-bench-sink-write-%d-%s", os.Getpid(), uniqueSuffix())
	if err := admin.MakePool(pool); err != nil {
		b.Fatalf("create pool %s: %v", pool, err)
	}
	defer func() {
		if err := admin.WaitForLatestOSDMap(); err != nil {
			b.Errorf("WaitForLatestOSDMap: %v", err)
		}
		if err := admin.DeletePool(pool); err != nil && !errors.Is(err, rados.ErrNotFound) {
			b.Errorf("delete pool %s: %v (mon_allow_pool_delete off? delete it by hand)", pool, err)
		}
	}()

	c := ceph.NewConfig()
	c.ConfFile, c.Pool, c.Namespace = conf, pool, "bench"
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := c.Open(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	benchWrites(b, w, objectCount(w))
}
