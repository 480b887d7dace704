package store_test

import (
	"testing"
	"time"
)

func TestZZTiming(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		s := openKafka(t, brokers, topic)
		t1 := time.Now()
		s.Close()
		t.Logf("open %v close %v", t1.Sub(t0), time.Since(t1))
	}
}
