package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

func TestTopologies(t *testing.T) {
	base := []string{"brokers=127.0.0.1:9092", "topic=t", "group=g", "parallelism=4", "checkpoint_ms=1000"}
	for _, c := range []struct {
		args  []string
		sink  string
		bolts int
	}{
		{[]string{"out=file:///tmp/x"}, "file_sink", 1},
		{[]string{"out=hdfs://127.0.0.1:9000/a/b"}, "hdfs_sink", 1},
		{[]string{"out=file:///tmp/x", "fail_partition=1", "batch_time=50ms", "batch_records=200", "no_fsync=true"}, "file_sink", 2},
	} {
		s, err := parse(append(append([]string{}, base...), c.args...))
		if err != nil {
			t.Fatal(err)
		}
		data, err := s.topologyJSON("/tmp/ledger", "/tmp/dl")
		if err != nil {
			t.Fatal(err)
		}
		reg := all.Registry()
		reg.MustRegister(failOnce())
		topo, err := topology.Decode(data, reg)
		if err != nil {
			t.Fatalf("%v: %v\n%s", c.args, err, data)
		}
		if len(topo.Bolts) != c.bolts || topo.Bolts[len(topo.Bolts)-1].Type != c.sink {
			t.Errorf("%v: bolts %d, last %s", c.args, len(topo.Bolts), topo.Bolts[len(topo.Bolts)-1].Type)
		}
		if !strings.Contains(string(data), `"compression":"none"`) || !strings.Contains(string(data), `"format":"lines"`) {
			t.Errorf("%v: not lines without compression: %s", c.args, data)
		}
	}
	// batches grow to 40000 records or 16 MiB unless told otherwise
	for _, c := range []struct {
		extra []string
		want  string
		grows bool
	}{
		{nil, `"max_bytes":16777216`, true},
		{[]string{"batch_max_bytes=0"}, `"max_bytes"`, false},
	} {
		s, err := parse(append(append([]string{}, base...), append([]string{"out=file:///tmp/x"}, c.extra...)...))
		if err != nil {
			t.Fatal(err)
		}
		data, err := s.topologyJSON("/l", "/d")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), c.want) != c.grows || !strings.Contains(string(data), `"max_records":40000`) {
			t.Errorf("%v: batch growth not as documented: %s", c.extra, data)
		}
	}
	for _, bad := range [][]string{
		{"out=file:///tmp/x"}, // no brokers etc.
		append(append([]string{}, base...), "out=s3://b/x"),
		append(append([]string{}, base...), "out=file://relative/x"),
		append(append([]string{}, base...), "out=file:///x", "nope=1"),
		append(append([]string{}, base...), "out=file:///x", "parallelism=0"),
		append(append([]string{}, base...), "out=file:///x", "workers=2", "fail_partition=1"),
	} {
		s, err := parse(bad)
		if err == nil {
			_, err = s.topologyJSON("/l", "/d")
		}
		if err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// workers=2 submits the same topology to a cluster: it must pass the
// cluster's check (a file ledger there must say it is shared), which the
// one-process topology does not.
func TestTopologies_Cluster(t *testing.T) {
	args := []string{"brokers=127.0.0.1:9092", "topic=t", "group=g", "out=file:///tmp/x"}
	for _, c := range []struct {
		workers string
		fits    bool
	}{{"workers=0", false}, {"workers=2", true}} {
		s, err := parse(append(args, c.workers))
		if err != nil {
			t.Fatal(err)
		}
		data, err := s.topologyJSON("/tmp/ledger", "/tmp/dl")
		if err != nil {
			t.Fatal(err)
		}
		topo, err := topology.Decode(data, all.Registry())
		if err != nil {
			t.Fatal(err)
		}
		if err := topo.CheckCluster(); (err == nil) != c.fits {
			t.Errorf("%s: CheckCluster = %v, want fits=%v", c.workers, err, c.fits)
		}
	}
}

// recorder is a bolt.Collector that counts.
type recorder struct {
	emitted, acked, failed int
}

func (c *recorder) Emit(*tuple.Tuple, tuple.Values)                      { c.emitted++ }
func (c *recorder) EmitTo(string, []*tuple.Tuple, tuple.Values)          { c.emitted++ }
func (c *recorder) EmitDirect(int, string, []*tuple.Tuple, tuple.Values) { c.emitted++ }
func (c *recorder) Send(bolt.Message) []int                              { c.emitted++; return nil }
func (c *recorder) Ack(*tuple.Tuple)                                     { c.acked++ }
func (c *recorder) Fail(*tuple.Tuple)                                    { c.failed++ }
func (c *recorder) ResetTimeout(*tuple.Tuple)                            {}
func (c *recorder) ReportError(error)                                    {}

func TestFailOnce(t *testing.T) {
	b := &failOnceBolt{partition: 1}
	out := &recorder{}
	if err := b.Prepare(context.Background(), nil, out); err != nil {
		t.Fatal(err)
	}
	fields := tuple.Fields{"topic", "partition", "offset", "key", "value", "timestamp", "headers"}
	tup := func(p int32, off int64) *tuple.Tuple {
		return &tuple.Tuple{ID: fmt.Sprintf("t/%d/%d", p, off), Fields: fields,
			Values: tuple.Values{"t", p, off, nil, []byte("v"), int64(0), nil}}
	}
	for _, step := range []struct {
		t                      *tuple.Tuple
		emitted, acked, failed int
	}{
		{tup(0, 1), 1, 1, 0}, // another partition: passes
		{tup(1, 1), 1, 1, 1}, // first attempt: fails
		{tup(1, 2), 1, 1, 2},
		{tup(1, 1), 2, 2, 2}, // the replay passes
		{tup(1, 2), 3, 3, 2},
		{tup(1, 1000), 3, 3, 3}, // the set grows
		{tup(1, 64), 3, 3, 4},
		{tup(1, 0), 3, 3, 5},
		{tup(1, 1000), 4, 4, 5},
		{tup(1, 0), 5, 5, 5},
		{tup(1, 63), 5, 5, 6},
	} {
		b.Execute(context.Background(), step.t)
		if out.emitted != step.emitted || out.acked != step.acked || out.failed != step.failed {
			t.Fatalf("after %s: emitted %d acked %d failed %d, want %d %d %d", step.t.ID,
				out.emitted, out.acked, out.failed, step.emitted, step.acked, step.failed)
		}
	}
}
