package sinktest

import (
	"fmt"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/tuple"
)

// Batch returns batch seq of partition 3 of the topic "events", of the
// topology "topo", with one record per line (tuple ids
// "events/3/<offset>", offsets from seq*1000): the batches of the sinks'
// writer tests.
func Batch(seq uint64, lines []string) *sinks.Batch {
	m := &tuple.BatchMeta{ID: fmt.Sprintf("events/00003/%012d", seq), Source: "events", Partition: 3, Seq: seq,
		Start: int64(seq) * 1000, End: int64(seq)*1000 + int64(len(lines)), Records: len(lines)}
	b := &sinks.Batch{Topology: "topo", Meta: m}
	for i, l := range lines {
		b.Records = append(b.Records, sinks.Record{ID: fmt.Sprintf("events/3/%d", m.Start+int64(i)), Line: []byte(l)})
	}
	return b
}

// JSONLines returns n small JSON documents, {"n":i,"user":"u<i%7>"}.
func JSONLines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"n":%d,"user":"u%d"}`, i, i%7)
	}
	return out
}
