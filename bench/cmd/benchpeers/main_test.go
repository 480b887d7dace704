package main

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/gale-stream/gale/bench/peers"
	"github.com/gale-stream/gale/bench/rows"
)

func TestRecordCounts(t *testing.T) {
	for _, c := range []struct {
		spec  string
		sizes []int
		want  map[int]int64
	}{
		{"100=2000000,1024=500000", []int{100, 1024}, map[int]int64{100: 2000000, 1024: 500000}},
		{"200000", []int{100, 1024}, map[int]int64{100: 200000, 1024: 200000}},
		{"2e6", []int{100}, map[int]int64{100: 2000000}},
		{"100=1000", []int{100, 1024, 200}, map[int]int64{100: 1000, 1024: 1953125, 200: 10000000}},
	} {
		got, err := recordCounts(c.spec, c.sizes, defaultRecords)
		if err != nil {
			t.Fatalf("%q: %v", c.spec, err)
		}
		for s, n := range c.want {
			if got[s] != n {
				t.Errorf("%q: size %d: %d records, want %d", c.spec, s, got[s], n)
			}
		}
	}
	for _, bad := range []string{"", "x", "0", "1.5", "100=", "a=5", "100=-3"} {
		if _, err := recordCounts(bad, []int{100}, defaultRecords); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCellVerdicts(t *testing.T) {
	clean := peers.Check{Expected: 10}
	for _, c := range []struct {
		engine string
		checks []peers.Check
		errs   []string
		failed bool
		status string
	}{
		{"gale", []peers.Check{clean, clean}, nil, false, "ok"},
		{"flink", []peers.Check{clean, {Expected: 10, Duplicates: 2}}, nil, true, "FAIL: 2 duplicates (exactly-once promised)"},
		{"gale", []peers.Check{{Expected: 10, Missing: 1}}, nil, true, "FAIL: 1 records missing"},
		{"storm", []peers.Check{{Expected: 10, Duplicates: 5}, {Expected: 10, Duplicates: 1}}, nil, false, "ok (at-least-once: 6 duplicates)"},
		{"storm", []peers.Check{{Expected: 10, Missing: 3, Duplicates: 1}}, nil, true, "FAIL: 3 records missing"},
		{"gale", []peers.Check{{Expected: 10, Unexpected: 1}}, nil, true, "FAIL: 1 unexpected lines"},
		{"flink", []peers.Check{{}}, []string{"stalled: 5 of 10\nmore"}, true, "FAIL: error: stalled: 5 of 10"},
	} {
		cell := &Cell{Engine: c.engine}
		for i, ch := range c.checks {
			e := ""
			if i < len(c.errs) {
				e = c.errs[i]
			}
			cell.add(ch, e)
		}
		cell.finish()
		if cell.Failed != c.failed || cell.Status != c.status {
			t.Errorf("%s %+v: failed=%v %q, want %v %q", c.engine, c.checks, cell.Failed, cell.Status, c.failed, c.status)
		}
	}
}

func TestTableAndRatios(t *testing.T) {
	sat := func(rate float64) *Saturation { return &Saturation{RecordsPerS: rate, CPUSecPerM: 1, PeakRSSMiB: 10} }
	rep := &Report{Settings: Settings{Loads: []int{50, 90}, Partitions: 4, PollMS: 50}, Cells: []*Cell{
		{Engine: "gale", Row: "files", Size: 100, Saturation: sat(300000), Status: "ok",
			Latency: []*Latency{{LoadPct: 50, P50Ms: 12.34, P99Ms: 150}, {LoadPct: 90, Error: "x"}}},
		{Engine: "flink", Row: "files", Size: 100, Saturation: sat(100000), Status: "ok"},
		{Engine: "storm", Row: "files", Size: 100, Status: "not run: build failed", Failed: true},
	}}
	computeRatios(rep)
	if got := float64(rep.Cells[0].RatioFlink); got != 3 {
		t.Errorf("gale vs flink = %v, want 3", got)
	}
	if !math.IsNaN(float64(rep.Cells[2].RatioFlink)) {
		t.Error("an engine that did not run has a ratio")
	}
	var b bytes.Buffer
	printTable(&b, rep)
	out := b.String()
	for _, want := range []string{"300,000", "3.00x", "12.3", "150", "not run: build failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	if data, err := num(math.NaN()).MarshalJSON(); err != nil || string(data) != "null" {
		t.Errorf("NaN as JSON: %s %v", data, err)
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.6: "1,234,568", -12345: "-12,345", math.NaN(): "-"} {
		if got := rows.Thousands(v); got != want {
			t.Errorf("rows.Thousands(%v) = %q, want %q", v, got, want)
		}
	}
}
