package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	galerows "github.com/gale-stream/gale/bench/rows"

	"github.com/gale-stream/gale/bench/peers"
)

// Report is the JSON written after a run.
type Report struct {
	Time     any       `json:"time"`
	RunID    string    `json:"run_id"`
	Machine  Machine   `json:"machine"`
	Settings Settings  `json:"settings"`
	Engines  []*Engine `json:"engines"`
	Cells    []*Cell   `json:"results"`
}

// Machine says where the figures come from.
type Machine = galerows.Machine

// Settings are the driver's.
type Settings struct {
	Engines       []string         `json:"engines"`
	Rows          []string         `json:"rows"`
	Sizes         []int            `json:"sizes"`
	Records       map[string]int64 `json:"records"`
	Partitions    int              `json:"partitions"`
	Parallelism   int              `json:"parallelism"`
	CheckpointMS  int              `json:"checkpoint_ms"`
	LatencyS      float64          `json:"latency_s"`
	WarmupS       float64          `json:"latency_warmup_s"`
	Loads         []int            `json:"loads_pct"`
	LoadBase      string           `json:"loads_of"`
	PollMS        float64          `json:"watcher_poll_ms"`
	StallS        float64          `json:"stall_s"`
	Brokers       string           `json:"brokers"`
	HDFSNameNode  string           `json:"hdfs_namenode,omitempty"`
	HDFSWeb       string           `json:"hdfs_web,omitempty"`
	GaleExtraArgs []string         `json:"gale_extra_args,omitempty"`
}

func settingsOf(o *options) Settings {
	rec := map[string]int64{}
	for s, n := range o.records {
		rec[strconv.Itoa(s)] = n
	}
	return Settings{Engines: o.engines, Rows: o.rows, Sizes: o.sizes, Records: rec, Partitions: partitions,
		Parallelism: o.parallelism, CheckpointMS: o.checkpointMS, LatencyS: o.latency.Seconds(),
		WarmupS: o.warmup.Seconds(), Loads: o.loads, LoadBase: o.loadBase, PollMS: float64(o.poll) / 1e6, StallS: o.stall.Seconds(),
		Brokers: o.brokers, HDFSNameNode: o.hdfsNameNode, HDFSWeb: o.hdfsWeb, GaleExtraArgs: o.galeExtra}
}

// Cell is one engine's figures for one row and record size.
type Cell struct {
	Engine     string      `json:"engine"`
	Row        string      `json:"row"`
	Size       int         `json:"size"`
	Records    int64       `json:"records"`
	Saturation *Saturation `json:"saturation,omitempty"`
	// Sustained is the run that measures SustainedRate (-load-base
	// sustained): production live at the saturation rate.
	Sustained     *Latency   `json:"sustained,omitempty"`
	SustainedRate float64    `json:"sustained_records_per_s,omitempty"`
	Latency       []*Latency `json:"latency,omitempty"`
	RatioFlink    num        `json:"records_per_s_vs_flink"`
	Missing       int64      `json:"missing"`
	Duplicates    int64      `json:"duplicates"`
	Unexpected    int64      `json:"unexpected"`
	Status        string     `json:"status"`
	Failed        bool       `json:"failed"`
	errs          []string
}

// exactlyOnce: the engines that promise it (duplicates fail their rows).
func exactlyOnce(engine string) bool { return engine != "storm" }

func (c *Cell) add(ch peers.Check, err string) {
	c.Missing += ch.Missing
	c.Duplicates += ch.Duplicates
	c.Unexpected += ch.Unexpected
	if err != "" {
		c.errs = append(c.errs, err)
	}
}

// finish sets the cell's status: errors and lost records fail every
// engine; duplicates fail the exactly-once ones.
func (c *Cell) finish() {
	var bad []string
	if len(c.errs) > 0 {
		bad = append(bad, "error: "+firstLine(c.errs[0]))
	}
	if c.Missing > 0 {
		bad = append(bad, fmt.Sprintf("%d records missing", c.Missing))
	}
	if c.Unexpected > 0 {
		bad = append(bad, fmt.Sprintf("%d unexpected lines", c.Unexpected))
	}
	if c.Duplicates > 0 && exactlyOnce(c.Engine) {
		bad = append(bad, fmt.Sprintf("%d duplicates (exactly-once promised)", c.Duplicates))
	}
	switch {
	case len(bad) > 0:
		c.Failed = true
		c.Status = "FAIL: " + strings.Join(bad, "; ")
	case c.Duplicates > 0:
		c.Status = fmt.Sprintf("ok (at-least-once: %d duplicates)", c.Duplicates)
	default:
		c.Status = "ok"
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Saturation is a saturation run's figures.
type Saturation struct {
	Records  int64   `json:"records"`
	PrefillS float64 `json:"prefill_s"`
	// SyncS: writing the machine's dirty pages back after the pre-fill,
	// before the engine starts (see runner.saturation)
	SyncS float64 `json:"sync_s"`
	// StartToRunningS: process start to its RUNNING line;
	// RunningToLastS: RUNNING to the last record first seen;
	// StartToLastS: process start to the last record.
	StartToRunningS      float64 `json:"start_to_running_s"`
	RunningToLastS       float64 `json:"running_to_last_s"`
	StartToLastS         float64 `json:"start_to_last_s"`
	RecordsPerS          float64 `json:"records_per_s"`
	RecordsPerSFromStart float64 `json:"records_per_s_from_start"`
	VisibleAtRunning     int64   `json:"visible_at_running"`
	CPUSeconds           float64 `json:"cpu_s"`       // RUNNING to the last record
	CPUSecondsTotal      float64 `json:"cpu_s_total"` // process start to the last record
	CPUSecPerM           float64 `json:"cpu_s_per_m"`
	// The whole machine over the same span: its CPUs' busy share
	// (/proc/stat), and per million records the CPU seconds of this
	// driver (the watcher) and of everything else but the engine and the
	// driver (Kafka, the store's processes, the kernel).
	MachineBusyPct   float64          `json:"machine_busy_pct"`
	DriverCPUSecPerM float64          `json:"driver_cpu_s_per_m"`
	OtherCPUSecPerM  float64          `json:"other_cpu_s_per_m"`
	PeakRSSMiB       float64          `json:"peak_rss_mb"`
	VmHWMMiB         float64          `json:"vmhwm_mb"`
	SampledRSSMiB    float64          `json:"sampled_tree_rss_max_mb"`
	StopS            float64          `json:"stop_s"`
	Check            peers.Check      `json:"check"`
	Watch            peers.WatchStats `json:"watcher"`
	Error            string           `json:"error,omitempty"`
	prefilled        *peers.Produced
}

// Latency is one latency run's figures.
type Latency struct {
	LoadPct      int                `json:"load_pct"`
	TargetRate   float64            `json:"target_records_per_s"`
	AchievedRate float64            `json:"produced_records_per_s"`
	Produced     int64              `json:"produced"`
	DurationS    float64            `json:"duration_s"`
	WarmupS      float64            `json:"warmup_s"`
	Samples      int                `json:"samples"`
	P50Ms        num                `json:"p50_ms"`
	P99Ms        num                `json:"p99_ms"`
	MaxMs        num                `json:"max_ms"`
	ByPartition  []PartitionLatency `json:"by_partition"`
	// DrainS: end of production to the last record seen;
	// ProduceToLastS: start of production to the last record seen.
	DrainS           float64          `json:"drain_s"`
	ProduceToLastS   float64          `json:"produce_to_last_s"`
	CPUSecPerM       float64          `json:"cpu_s_per_m"`
	PeakRSSMiB       float64          `json:"peak_rss_mb"`
	DriverCPUSeconds float64          `json:"driver_cpu_s"` // the producer and the watcher, while producing
	StopS            float64          `json:"stop_s"`
	Check            peers.Check      `json:"check"`
	Watch            peers.WatchStats `json:"watcher"`
	Error            string           `json:"error,omitempty"`
}

// PartitionLatency is a latency run's percentiles for one partition.
type PartitionLatency struct {
	Partition int `json:"partition"`
	Samples   int `json:"samples"`
	P50Ms     num `json:"p50_ms"`
	P99Ms     num `json:"p99_ms"`
	MaxMs     num `json:"max_ms"`
}

// num is a float that is null in JSON when NaN or infinite.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64), nil
}

// computeRatios sets each cell's records/s over Flink's for its row and size.
func computeRatios(rep *Report) {
	for _, c := range rep.Cells {
		c.RatioFlink = num(math.NaN())
		if c.Saturation == nil || c.Saturation.Error != "" {
			continue
		}
		for _, f := range rep.Cells {
			if f.Engine == "flink" && f.Row == c.Row && f.Size == c.Size && f.Saturation != nil &&
				f.Saturation.Error == "" && f.Saturation.RecordsPerS > 0 {
				c.RatioFlink = num(c.Saturation.RecordsPerS / f.Saturation.RecordsPerS)
			}
		}
	}
}

// jsonSafe replaces the NaN and infinite figures the report's plain
// floats may hold by 0 (num fields are null instead).
func jsonSafe(rep *Report) *Report {
	fix := func(vs ...*float64) {
		for _, v := range vs {
			if math.IsNaN(*v) || math.IsInf(*v, 0) {
				*v = 0
			}
		}
	}
	for _, c := range rep.Cells {
		if s := c.Saturation; s != nil {
			fix(&s.RecordsPerS, &s.RecordsPerSFromStart, &s.CPUSecPerM, &s.PrefillS)
		}
		for _, l := range append(c.Latency, c.Sustained) {
			if l != nil {
				fix(&l.AchievedRate, &l.CPUSecPerM)
			}
		}
		fix(&c.SustainedRate)
	}
	return rep
}

// printTable prints the comparison.
func printTable(w io.Writer, rep *Report) {
	m, s := rep.Machine, rep.Settings
	fmt.Fprintf(w, "Kafka (%d partitions) -> durable files: Gale vs Flink vs Storm, each in its own process; %d CPUs (%s), %s RAM\n",
		s.Partitions, m.CPUs, m.CPUModel, m.MemTotal)
	fmt.Fprintf(w, "parallelism %d, Flink checkpoints every %d ms; saturation over %s pre-filled records; latency: %.0f s at %v %% of each engine's own %s rate, first %.0f s left out\n\n",
		s.Parallelism, s.CheckpointMS, recordsText(s.Records), s.LatencyS, s.Loads, s.LoadBase, s.WarmupS)
	loads := s.Loads
	head := []string{"engine", "row", "size", "records/s", "vs Flink", "CPU s/M", "RSS MiB", "sustained/s"}
	for _, l := range loads {
		head = append(head, fmt.Sprintf("p50@%d%%", l), fmt.Sprintf("p99@%d%%", l))
	}
	head = append(head, "missing", "dup", "status")
	rows := [][]string{head}
	for _, c := range rep.Cells {
		row := []string{c.Engine, c.Row, strconv.Itoa(c.Size)}
		if sat := c.Saturation; sat != nil && sat.Error == "" {
			row = append(row, galerows.Thousands(sat.RecordsPerS), ratio(float64(c.RatioFlink)), fmt.Sprintf("%.2f", sat.CPUSecPerM), fmt.Sprintf("%.0f", sat.PeakRSSMiB))
		} else {
			row = append(row, "-", "-", "-", "-")
		}
		if c.SustainedRate > 0 {
			row = append(row, galerows.Thousands(c.SustainedRate))
		} else {
			row = append(row, "-")
		}
		for _, l := range loads {
			p50, p99 := "-", "-"
			for _, lat := range c.Latency {
				if lat.LoadPct == l && lat.Error == "" {
					p50, p99 = ms(float64(lat.P50Ms)), ms(float64(lat.P99Ms))
				}
			}
			row = append(row, p50, p99)
		}
		missing, dup := "-", "-"
		if c.Saturation != nil {
			missing, dup = strconv.FormatInt(c.Missing, 10), strconv.FormatInt(c.Duplicates, 10)
		}
		row = append(row, missing, dup, c.Status)
		rows = append(rows, row)
	}
	writeColumns(w, rows, 3)
	fmt.Fprintln(w, "\nrecords/s: N / (RUNNING -> last record visible); CPU s/M: CPU seconds of the engine's process tree per million records over the same span; RSS: peak resident set; sustained/s: records produced live at the saturation rate / (start of production -> last record visible), the rate the engine keeps up with while the producer shares the machine; p50/p99 in ms (record ts -> line first seen by the watcher).")

	// startup and the watcher, per saturation run
	fmt.Fprintln(w)
	rows = [][]string{{"engine", "row", "size", "start->RUNNING s", "RUNNING->last s", "rec/s from start", "CPU s total", "machine busy %", "driver CPU s/M", "others CPU s/M", "poll avg/max ms", "files"}}
	for _, c := range rep.Cells {
		sat := c.Saturation
		if sat == nil || sat.Error != "" {
			continue
		}
		rows = append(rows, []string{c.Engine, c.Row, strconv.Itoa(c.Size), fmt.Sprintf("%.1f", sat.StartToRunningS),
			fmt.Sprintf("%.1f", sat.RunningToLastS), galerows.Thousands(sat.RecordsPerSFromStart), fmt.Sprintf("%.1f", sat.CPUSecondsTotal),
			fmt.Sprintf("%.0f", sat.MachineBusyPct), fmt.Sprintf("%.2f", sat.DriverCPUSecPerM), fmt.Sprintf("%.2f", sat.OtherCPUSecPerM),
			fmt.Sprintf("%.0f/%.0f", sat.Watch.TotalPollMs/math.Max(1, float64(sat.Watch.Polls)), sat.Watch.MaxPollMs), strconv.Itoa(sat.Watch.Files)})
	}
	if len(rows) > 1 {
		writeColumns(w, rows, 3)
		fmt.Fprintf(w, "(saturation runs, RUNNING -> last record; machine busy: all CPUs' busy share; driver: this process (the watcher); others: the machine's busy CPU less the engine's and the driver's (Kafka, the store, the kernel); poll: the watcher's polls, every %.0f ms; a poll much longer than that delays what it sees)\n", s.PollMS)
	}
	for _, e := range rep.Engines {
		if e.BuildErr != "" {
			fmt.Fprintf(w, "\n%s: the runner did not build: %s\n", e.Name, e.BuildErr)
		}
	}
}

func recordsText(m map[string]int64) string {
	var parts []string
	for _, k := range []string{"100", "1024"} {
		if n, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s (%s B)", galerows.Thousands(float64(n)), k))
		}
	}
	for k, n := range m {
		if k != "100" && k != "1024" {
			parts = append(parts, fmt.Sprintf("%s (%s B)", galerows.Thousands(float64(n)), k))
		}
	}
	return strings.Join(parts, ", ")
}

// writeColumns prints rows as aligned columns: the first left columns
// left-aligned, the others right-aligned, the last one left-aligned.
func writeColumns(w io.Writer, rows [][]string, left int) {
	widths := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			switch {
			case i == len(r)-1:
				b.WriteString(c)
			case i < left:
				fmt.Fprintf(&b, "%-*s", widths[i], c)
			default:
				fmt.Fprintf(&b, "%*s", widths[i], c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func ratio(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}

func ms(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
