package store_test

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
)

func TestZZLeak(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	s := openKafka(t, brokers, topic)
	s.PutTopology(context.Background(), store.Topology{Name: "x"}, 0)
	s.Close()
	time.Sleep(time.Second)
	base := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		s := openKafka(t, brokers, topic)
		t1 := time.Now()
		ev, _ := s.Watch(context.Background())
		_ = ev
		_, err := s.PutTopology(context.Background(), store.Topology{Name: "x"}, uint64(i+1))
		t2 := time.Now()
		s.Close()
		t.Logf("open %v put %v (%v) close %v", t1.Sub(t0), t2.Sub(t1), err, time.Since(t2))
	}
	time.Sleep(2 * time.Second)
	t.Logf("goroutines: base %d, after 3 open/close %d", base, runtime.NumGoroutine())
	if runtime.NumGoroutine() > base+2 {
		pprof.Lookup("goroutine").WriteTo(os.Stdout, 1)
	}
}
