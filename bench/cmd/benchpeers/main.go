// Command benchpeers compares Gale with Apache Flink and Apache Storm on
// one pipeline, Kafka (4 partitions) -> durable files, each engine in a
// process of its own on the same machine, in the same run (`make
// bench-peers`):
//
//	go run ./bench/cmd/benchpeers [-engines gale,flink,storm] [-rows files,hdfs,replay]
//	        [-sizes 100,1024] [-records 100=20000000,1024=4000000]
//	        [-storm-records 100=2000000,1024=500000] [-latency 30s] [-warmup 5s]
//	        [-loads 50,90] [-load-base sustained|saturation] [-parallelism 4] [-checkpoint-ms 1000]
//	        [-flink-runner PATH] [-storm-runner PATH] [-json FILE] [-keep]
//
// It needs Kafka (and HDFS for the hdfs row) from testenv:
//
//	testenv/testenv up kafka hdfs && eval "$(testenv/testenv env)"
//
// # The runners
//
// Each engine is started through a runner with the same command line
// (bench/flink/run.sh, bench/storm/run.sh, and bench/cmd/galepeer for
// Gale, which this command builds):
//
//	RUNNER build
//	RUNNER kafka-files brokers=HOST:PORT topic=T group=G out=URI parallelism=N checkpoint_ms=MS [fail_partition=P]
//
// which reads topic T from its earliest offset, unbounded, and writes each
// record value unchanged as one '\n'-terminated line into files directly
// under out (Gale: in subdirectories, one file per batch; the watcher
// walks them), prints RUNNING on stdout once running, and exits on
// SIGTERM. A file whose base name starts with "." or "_" is in progress
// and not read (Gale's temporary files are ".<name>.tmp-..."); every
// other file is read as it grows, complete lines only. A runner that fails
// to build is reported as such.
//
// # Rows and records
//
// Rows: files (out=file:///DIR), hdfs (out=hdfs://NAMENODE/DIR, the
// testenv cluster, read back through WebHDFS), replay (files, with
// fail_partition=1: Gale and Storm fail each tuple of partition 1 on its
// first attempt; Flink's map throws once, 5 s into the run). Records are
// one line of JSON, {"id":"<partition>-<seq>","ts":<produce time, Unix
// µs>,"pad":"aaa..."}, padded to exactly 100 or 1024 bytes.
//
// # What is measured, per row, record size and engine
//
//   - saturation: N records are produced first (a fresh topic of 4
//     partitions), then the engine starts; records/s = N / (time from
//     RUNNING to the last record visible in a file). Also the rate from
//     the process's start. CPU: user+system time of the runner's process
//     tree (/proc/PID/stat, children included) from RUNNING to the last
//     record, per million records; peak RSS: the larger of VmHWM and the
//     largest sampled resident set of the tree.
//   - sustained rate (-load-base sustained, the default): a fresh topic
//     and engine, then this process produces live at the saturation rate
//     for -latency; sustained = records produced / (the start of
//     production -> the last record visible). On one machine the producer
//     and Kafka's produce path take CPU from the engine, which the
//     pre-filled saturation run does not show: the sustained rate is what
//     the engine keeps up with while records arrive (at 90 % of the
//     saturation rate itself, the queue grows for the whole run and the
//     latency measures that growth). With -load-base saturation the
//     latency runs take their rates from the saturation rate instead.
//   - latency: a fresh topic and engine, then a steady producer (token
//     bucket drained every 5 ms, in this process: its CPU is not the
//     engine's) at 50 % and 90 % of that engine's own sustained (or
//     saturation) rate for -latency (30 s); records produced in the first
//     -warmup (5 s) are left out. Latency = when the watcher first saw the
//     record's line in a visible file - the record's ts; p50, p99, max.
//   - the machine, per saturation run: the busy share of its CPUs
//     (/proc/stat), and per million records the CPU of this process (the
//     watcher) and of the rest (Kafka, the store's processes, the kernel:
//     the machine's busy time less the engine's and this process's). An
//     engine that makes the store work harder per record (more files)
//     shows it there.
//   - exactly once: after each run, every produced id must have been
//     seen exactly once. Missing and duplicate records are reported; for
//     Gale and Flink (exactly-once) any of either fails the row, for Storm
//     (at-least-once) duplicates are reported only, and missing records
//     fail it. The exit status is non-zero when a row failed, an engine
//     did not build or a run did not complete.
//
// The watcher (package bench/peers) polls every 50 ms, identically for
// every engine. Topics (gale-bench-peers-<run>-...), consumer groups and
// output directories are made afresh for every run and deleted at the end,
// also on failure or Ctrl-C (-keep keeps the outputs). Progress goes to
// stderr, the table to stdout, a JSON report (machine, versions, each
// engine's configuration, every figure) to $GALE_BENCH_CACHE/peers-TIME.json
// (default ~/.cache/gale-bench), and each runner's output to
// $GALE_BENCH_CACHE/peers-logs/RUN/.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gale-stream/gale/bench/rows"

	"github.com/gale-stream/gale/bench/peers"
)

func main() {
	code, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchpeers:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// The rows.
var allRows = []string{"files", "hdfs", "replay"}

// Partitions of every topic.
const partitions = 4

// hdfsRoot holds the hdfs row's outputs, a directory per run.
const hdfsRoot = "/gale-bench-peers"

// options are the flags.
type options struct {
	engines, rows       []string
	sizes               []int
	records             map[int]int64
	stormRecords        map[int]int64 // records, for Storm
	latency, warmup     time.Duration
	loads               []int
	loadBase            string // "sustained" or "saturation"
	parallelism         int
	checkpointMS        int
	poll                time.Duration
	startTimeout, stall time.Duration
	stopTimeout         time.Duration
	keep, noLatency     bool
	brokers             string
	hdfsNameNode        string
	hdfsWeb, hdfsUser   string
	workDir, logDir     string
	runID               string
	galeExtra           []string // -gale-opts, split
}

func run() (int, error) {
	var (
		enginesF  = flag.String("engines", "gale,flink,storm", "engines to compare, comma-separated")
		rowsF     = flag.String("rows", strings.Join(allRows, ","), "rows to run, comma-separated: files, hdfs, replay")
		sizesF    = flag.String("sizes", "100,1024", "record sizes in bytes, comma-separated")
		recordsF  = flag.String("records", "100=20000000,1024=4000000", "records pre-filled for the saturation runs: one number for every size, or SIZE=N,...")
		stormRecF = flag.String("storm-records", "100=2000000,1024=500000", "the same for Storm's saturation runs (it reads about 17k records/s)")
		latency   = flag.Duration("latency", 30*time.Second, "length of each latency run's steady production")
		warmup    = flag.Duration("warmup", 5*time.Second, "start of each latency run left out of the percentiles")
		loadsF    = flag.String("loads", "50,90", "latency runs' rates, in % of the engine's own sustained (or saturation) rate")
		loadBaseF = flag.String("load-base", "sustained", `what -loads are percentages of: "sustained" (the rate kept up with while this process produces live on the same machine) or "saturation" (the pre-filled rate)`)
		par       = flag.Int("parallelism", 4, "parallelism of every engine's source (and sink) tasks")
		ckpt      = flag.Int("checkpoint-ms", 1000, "Flink's checkpoint interval (exactly-once)")
		poll      = flag.Duration("poll", peers.DefaultPoll, "the watcher's polling period")
		startTO   = flag.Duration("start-timeout", 5*time.Minute, "longest wait for a runner's RUNNING line")
		stall     = flag.Duration("stall", 60*time.Second, "give a run up when no new record showed for this long")
		stopTO    = flag.Duration("stop-timeout", 30*time.Second, "longest wait for a runner to exit after SIGTERM")
		flinkR    = flag.String("flink-runner", "", "Flink's runner (default bench/flink/run.sh)")
		stormR    = flag.String("storm-runner", "", "Storm's runner (default bench/storm/run.sh)")
		galeR     = flag.String("gale-runner", "", "Gale's runner (default: build bench/cmd/galepeer into the cache)")
		galeOpts  = flag.String("gale-opts", "", "extra KEY=VALUE arguments for galepeer, space-separated (e.g. batch_records=2000)")
		jsonOut   = flag.String("json", "", "write the report here (default $GALE_BENCH_CACHE/peers-TIME.json)")
		keep      = flag.Bool("keep", false, "keep the output directories (topics are deleted anyway)")
		noLatency = flag.Bool("no-latency", false, "saturation runs only")
		workDir   = flag.String("workdir", "", "where the local output directories go (default $GALE_BENCH_CACHE/peers-work)")
	)
	flag.Parse()

	o := options{latency: *latency, warmup: *warmup, parallelism: *par, checkpointMS: *ckpt, poll: *poll,
		startTimeout: *startTO, stall: *stall, stopTimeout: *stopTO, keep: *keep, noLatency: *noLatency,
		galeExtra: strings.Fields(*galeOpts)}
	var err error
	if o.engines, err = names(*enginesF, []string{"gale", "gale2", "flink", "storm"}); err != nil {
		return 2, fmt.Errorf("-engines: %w", err)
	}
	if o.rows, err = names(*rowsF, allRows); err != nil {
		return 2, fmt.Errorf("-rows: %w", err)
	}
	if o.sizes, err = ints(*sizesF); err != nil {
		return 2, fmt.Errorf("-sizes: %w", err)
	}
	for _, s := range o.sizes {
		if s < peers.MinRecordSize {
			return 2, fmt.Errorf("-sizes: %d bytes is below the smallest record (%d)", s, peers.MinRecordSize)
		}
	}
	if o.records, err = recordCounts(*recordsF, o.sizes, defaultRecords); err != nil {
		return 2, fmt.Errorf("-records: %w", err)
	}
	if o.stormRecords, err = recordCounts(*stormRecF, o.sizes, defaultStormRecords); err != nil {
		return 2, fmt.Errorf("-storm-records: %w", err)
	}
	if o.loads, err = ints(*loadsF); err != nil {
		return 2, fmt.Errorf("-loads: %w", err)
	}
	if o.loadBase = *loadBaseF; o.loadBase != "sustained" && o.loadBase != "saturation" {
		return 2, fmt.Errorf("-load-base %q: want sustained or saturation", o.loadBase)
	}
	if o.warmup >= o.latency && !o.noLatency {
		return 2, fmt.Errorf("-warmup %v leaves nothing of -latency %v", o.warmup, o.latency)
	}
	o.brokers = os.Getenv("GALE_KAFKA_BROKERS") // testenv's variables
	o.hdfsNameNode, o.hdfsWeb = os.Getenv("GALE_HDFS_NAMENODE"), os.Getenv("GALE_HDFS_WEB")
	o.hdfsUser = os.Getenv("HADOOP_USER_NAME")
	if o.hdfsUser == "" {
		o.hdfsUser = "gale"
	}
	if o.brokers == "" {
		return 2, errors.New("GALE_KAFKA_BROKERS is not set: testenv/testenv up kafka hdfs && eval \"$(testenv/testenv env)\"")
	}
	if slices.Contains(o.rows, "hdfs") && (o.hdfsNameNode == "" || o.hdfsWeb == "") {
		return 2, errors.New("the hdfs row needs GALE_HDFS_NAMENODE and GALE_HDFS_WEB: testenv/testenv up kafka hdfs && eval \"$(testenv/testenv env)\"")
	}

	root, err := rows.ModuleRoot()
	if err != nil {
		return 2, err
	}
	cache := os.Getenv("GALE_BENCH_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "gale-bench")
	}
	stamp := time.Now().UTC().Format("20060102-150405")
	o.runID = stamp + "-" + randomHex(2)
	if *jsonOut == "" {
		*jsonOut = filepath.Join(cache, "peers-"+stamp+".json")
	}
	if *workDir == "" {
		*workDir = filepath.Join(cache, "peers-work")
	}
	o.workDir = filepath.Join(*workDir, o.runID)
	o.logDir = filepath.Join(cache, "peers-logs", o.runID)
	for _, d := range []string{o.workDir, o.logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 1, err
		}
	}
	if !o.keep {
		defer os.RemoveAll(o.workDir)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	k := &peers.Kafka{Brokers: strings.Split(o.brokers, ",")}
	topicPrefix := "gale-bench-peers-" + o.runID
	defer func() {
		if deleted, err := k.DeleteTopicsWithPrefix(topicPrefix); err != nil {
			progress("cleanup: %v", err)
		} else if len(deleted) > 0 {
			progress("cleanup: deleted %d topic(s) %s-*", len(deleted), topicPrefix)
		}
	}()

	rep := &Report{Time: time.Now().UTC().Format(time.RFC3339), RunID: o.runID, Machine: rows.ReadMachine(), Settings: settingsOf(&o)}
	progress("benchpeers: run %s: engines %s; rows %s; sizes %v B; saturation %s records; latency %v (first %v left out) at %v %% of each engine's %s rate; logs in %s",
		o.runID, strings.Join(o.engines, ","), strings.Join(o.rows, ","), o.sizes, *recordsF, o.latency, o.warmup, o.loads, o.loadBase, o.logDir)

	// Build every runner first: one that does not build is reported, and
	// its rows are marked, not dropped.
	engines := map[string]*Engine{}
	for _, name := range o.engines {
		e := newEngine(name, root, cache, &o, *flinkR, *stormR, *galeR, *galeOpts)
		progress("building %s (%s)", name, e.Runner)
		if err := e.Build(ctx, filepath.Join(o.logDir, "build-"+name+".log")); err != nil {
			if ctx.Err() != nil {
				return 1, ctx.Err()
			}
			e.BuildErr = err.Error()
			progress("  %s: BUILD FAILED: %v", name, err)
		} else {
			progress("  %s: built in %.1f s", name, e.BuildS)
		}
		if isGale(e.Name) && *galeR == "" {
			e.RunnerCommit = gitCommit(root) // galepeer is built from this checkout
		} else {
			e.RunnerCommit = gitCommit(filepath.Dir(e.Runner))
		}
		engines[name] = e
		rep.Engines = append(rep.Engines, e)
	}

	perCell := 1 // saturation
	if !o.noLatency {
		perCell += len(o.loads)
		if o.loadBase == "sustained" {
			perCell++
		}
	}
	steps := len(o.rows) * len(o.sizes) * len(o.engines) * perCell
	r := &runner{o: &o, k: k, topicPrefix: topicPrefix, steps: steps}
	if slices.Contains(o.rows, "hdfs") {
		r.hdfs = peers.NewWebHDFS(o.hdfsWeb, o.hdfsUser)
		if !o.keep {
			defer func() {
				dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := r.hdfs.Delete(dctx, path.Join(hdfsRoot, o.runID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					progress("cleanup: %v", err)
				}
			}()
		}
	}
	for _, row := range o.rows {
		for _, size := range o.sizes {
			for _, name := range o.engines {
				if ctx.Err() != nil {
					break
				}
				e := engines[name]
				c := &Cell{Engine: name, Row: row, Size: size, Records: o.records[size]}
				if name == "storm" {
					c.Records = o.stormRecords[size]
				}
				rep.Cells = append(rep.Cells, c)
				switch {
				case e.BuildErr != "":
					c.Status, c.Failed = "not run: build failed", true
				case name == "gale2" && row == "replay":
					// the fail-once bolt is galepeer's own: gale workers lack it
					c.Status = "not run: replay row in one process only"
				}
				if c.Status != "" {
					r.step += perCell
					continue
				}
				r.cell(ctx, e, c)
				if ctx.Err() != nil {
					// records not seen then are not lost: say so
					c.Status, c.Failed = "interrupted", true
				}
			}
		}
	}
	interrupted := ctx.Err() != nil

	computeRatios(rep)
	fmt.Println()
	printTable(os.Stdout, rep)
	if err := os.MkdirAll(filepath.Dir(*jsonOut), 0o755); err != nil {
		return 1, err
	}
	data, _ := json.MarshalIndent(jsonSafe(rep), "", "  ")
	if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
		return 1, err
	}
	fmt.Println("\nreport written to", *jsonOut)
	fmt.Println("runner logs in", o.logDir)

	var failures []string
	for _, e := range rep.Engines {
		if e.BuildErr != "" {
			failures = append(failures, fmt.Sprintf("%s: the runner did not build: %s", e.Name, e.BuildErr))
		}
	}
	for _, c := range rep.Cells {
		if c.Failed && !strings.HasPrefix(c.Status, "not run: build") {
			failures = append(failures, fmt.Sprintf("%s %s %d B: %s", c.Engine, c.Row, c.Size, c.Status))
		}
	}
	if interrupted {
		failures = append(failures, "interrupted")
	}
	if len(failures) > 0 {
		fmt.Println()
		for _, f := range failures {
			fmt.Println("FAIL:", f)
			fmt.Fprintln(os.Stderr, "FAIL:", f)
		}
		return 1, nil
	}
	return 0, nil
}

// isGale reports whether engine name is Gale: "gale" (one process) or
// "gale2" (two `gale worker` processes of one cluster, galepeer workers=2).
func isGale(name string) bool { return name == "gale" || name == "gale2" }

// newEngine describes engine name and how to build its runner.
func newEngine(name, root, cache string, o *options, flinkR, stormR, galeR, galeOpts string) *Engine {
	e := &Engine{Name: name, Config: map[string]any{"parallelism": o.parallelism}}
	javaOpts := os.Getenv("JAVA_OPTS")
	if javaOpts == "" {
		javaOpts = "(unset: the runner's default, -Xmx1g)"
	}
	switch name {
	case "gale", "gale2":
		e.Runner = galeR
		if e.Runner == "" {
			e.Runner = filepath.Join(cache, "peers", "galepeer")
			e.build = func(ctx context.Context, log io.Writer) error {
				// galepeer, and gale beside it (gale2's workers)
				for _, b := range [][2]string{{e.Runner, "./bench/cmd/galepeer"}, {filepath.Join(cache, "peers", "gale"), "./cmd/gale"}} {
					cmd := exec.CommandContext(ctx, "go", "build", "-o", b[0], b[1])
					cmd.Dir, cmd.Stdout, cmd.Stderr = root, log, log
					if err := cmd.Run(); err != nil {
						return fmt.Errorf("go build %s: %w", b[1], err)
					}
				}
				return nil
			}
		} else {
			e.build = func(context.Context, io.Writer) error { _, err := os.Stat(e.Runner); return err }
		}
		gogc := os.Getenv("GOGC")
		if gogc == "" {
			gogc = "400 (local.TuneGC)"
		}
		e.Config["gogc"] = gogc
		e.Config["extra_args"] = galeOpts
		// the settings themselves are in config_reported: the topology
		// the runner printed (a summary written here once went stale)
		e.Config["pipeline"] = "kafka spout (raw, earliest, file ledger) -> [fail-once] -> file_sink/hdfs_sink (lines, field value, compression none, fsync), batch grouping; every setting in config_reported"
		if name == "gale2" {
			e.Config["pipeline"] = e.Config["pipeline"].(string) + "; on two `gale worker` processes, one cluster on loopback, tasks spread over both, one acker per worker"
		}
	case "flink":
		e.Runner = flinkR
		if e.Runner == "" {
			e.Runner = filepath.Join(root, "bench", "flink", "run.sh")
		}
		e.Config["checkpoint_ms"] = o.checkpointMS
		e.Config["java_opts"] = javaOpts
	case "storm":
		e.Runner = stormR
		if e.Runner == "" {
			e.Runner = filepath.Join(root, "bench", "storm", "run.sh")
		}
		e.Config["java_opts"] = javaOpts
	}
	if abs, err := filepath.Abs(e.Runner); err == nil {
		e.Runner = abs
	}
	return e
}

// runner runs the steps.
type runner struct {
	o           *options
	k           *peers.Kafka
	hdfs        *peers.WebHDFS
	topicPrefix string
	step, steps int
}

// cell runs one engine's saturation and latency runs for a row and size.
func (r *runner) cell(ctx context.Context, e *Engine, c *Cell) {
	r.step++
	label := fmt.Sprintf("%-5s %-6s %4d B", c.Engine, c.Row, c.Size)
	progress("[%d/%d] %s saturation: %s records pre-filled, then the engine starts", r.step, r.steps, label, rows.Thousands(float64(c.Records)))
	sat := r.saturation(ctx, e, c)
	c.Saturation = sat
	c.add(sat.Check, sat.Error)
	if sat.Error != "" {
		progress("        ERROR: %s", sat.Error)
	} else {
		progress("        %s rec/s (from the process's start: %s rec/s; RUNNING after %.1f s, last record %.1f s later), CPU %.2f s per M records, peak RSS %.0f MiB, %s",
			rows.Thousands(sat.RecordsPerS), rows.Thousands(sat.RecordsPerSFromStart), sat.StartToRunningS, sat.RunningToLastS,
			sat.CPUSecPerM, sat.PeakRSSMiB, checkText(sat.Check))
		progress("        machine %.0f %% busy; per M records, CPU s of the driver %.2f, of the others (Kafka, the store, the kernel) %.2f", sat.MachineBusyPct, sat.DriverCPUSecPerM, sat.OtherCPUSecPerM)
		progress("        watcher polls %s, %d files", pollText(sat.Watch), sat.Watch.Files)
	}
	if r.o.noLatency {
		c.finish()
		return
	}
	base, baseName := sat.RecordsPerS, "saturation"
	if r.o.loadBase == "sustained" {
		r.step++
		base, baseName = r.sustained(ctx, e, c, label), "sustained"
	}
	for _, load := range r.o.loads {
		r.step++
		if ctx.Err() != nil {
			break
		}
		if base <= 0 {
			progress("[%d/%d] %s latency at %d %%: skipped (no %s rate)", r.step, r.steps, label, load, baseName)
			continue
		}
		rate := base * float64(load) / 100
		progress("[%d/%d] %s latency at %d %% = %s rec/s for %v", r.step, r.steps, label, load, rows.Thousands(rate), r.o.latency)
		lat := r.latencyRun(ctx, e, c, load, rate)
		c.Latency = append(c.Latency, lat)
		c.add(lat.Check, lat.Error)
		if lat.Error != "" {
			progress("        ERROR: %s", lat.Error)
		} else {
			progress("        produced %s rec/s; latency p50 %s ms, p99 %s ms, max %s ms (%d samples), %s; watcher polls %s",
				rows.Thousands(lat.AchievedRate), ms(float64(lat.P50Ms)), ms(float64(lat.P99Ms)), ms(float64(lat.MaxMs)), lat.Samples,
				checkText(lat.Check), pollText(lat.Watch))
		}
	}
	c.finish()
}

// sustained measures the rate an engine keeps up with while this process
// produces live on the same machine (its producer and Kafka's produce path
// then share the CPUs with the engine, as in the latency runs): a latency
// run at the pre-filled saturation rate; the sustained rate is the records
// produced / (the start of production -> the last record visible). It
// returns 0 when the run failed.
func (r *runner) sustained(ctx context.Context, e *Engine, c *Cell, label string) float64 {
	sat := c.Saturation
	if sat.Error != "" || sat.RecordsPerS <= 0 || ctx.Err() != nil {
		progress("[%d/%d] %s sustained rate: skipped (no saturation rate)", r.step, r.steps, label)
		return 0
	}
	progress("[%d/%d] %s sustained rate: producing live at the saturation rate (%s rec/s) for %v", r.step, r.steps, label,
		rows.Thousands(sat.RecordsPerS), r.o.latency)
	lat := r.latencyRun(ctx, e, c, 100, sat.RecordsPerS)
	c.Sustained = lat
	c.add(lat.Check, lat.Error)
	if lat.Error != "" {
		progress("        ERROR: %s", lat.Error)
		return 0
	}
	if lat.ProduceToLastS > 0 {
		c.SustainedRate = float64(lat.Produced) / lat.ProduceToLastS
	}
	progress("        sustained %s rec/s (%.0f %% of saturation): produced %s rec/s, the last record visible %.1f s after production ended; latency p50 %s ms, p99 %s ms, %s",
		rows.Thousands(c.SustainedRate), 100*c.SustainedRate/sat.RecordsPerS, rows.Thousands(lat.AchievedRate), lat.DrainS,
		ms(float64(lat.P50Ms)), ms(float64(lat.P99Ms)), checkText(lat.Check))
	return c.SustainedRate
}

// outputs makes a run's output location: the URI for the runner and a
// watcher of it, plus its cleanup.
func (r *runner) outputs(ctx context.Context, row, name string) (uri string, w *peers.Watcher, cleanup func(), err error) {
	if row == "hdfs" {
		dir := path.Join(hdfsRoot, r.o.runID, name)
		if err := r.hdfs.Mkdirs(ctx, dir); err != nil {
			return "", nil, nil, err
		}
		cleanup = func() {
			if r.o.keep {
				return
			}
			dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := r.hdfs.Delete(dctx, dir); err != nil {
				progress("        cleanup: %v", err)
			}
		}
		return "hdfs://" + r.o.hdfsNameNode + dir, peers.NewHDFSWatcher(r.o.hdfsWeb, r.o.hdfsUser, dir, r.o.poll), cleanup, nil
	}
	dir := filepath.Join(r.o.workDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, nil, err
	}
	cleanup = func() {
		if !r.o.keep {
			os.RemoveAll(dir)
		}
	}
	return (&url.URL{Scheme: "file", Path: dir}).String(), peers.NewLocalWatcher(dir, r.o.poll), cleanup, nil
}

// args are the runner's arguments for a run.
func (r *runner) args(e *Engine, row, topic, out string) []string {
	a := []string{"brokers=" + r.o.brokers, "topic=" + topic, "group=" + topic, "out=" + out,
		fmt.Sprintf("parallelism=%d", r.o.parallelism), fmt.Sprintf("checkpoint_ms=%d", r.o.checkpointMS)}
	if row == "replay" {
		a = append(a, "fail_partition=1")
	}
	if isGale(e.Name) {
		a = append(a, r.o.galeExtra...)
	}
	if e.Name == "gale2" {
		a = append(a, "workers=2")
	}
	return a
}

// session is one engine run's shared machinery: topic, output, watcher,
// process, and their cleanup.
type session struct {
	r        *runner
	topic    string
	out      string
	w        *peers.Watcher
	wcancel  context.CancelFunc
	wdone    chan struct{}
	proc     *Proc
	cleanups []func()
}

func (r *runner) newSession(ctx context.Context, e *Engine, c *Cell, phase string) (*session, error) {
	name := fmt.Sprintf("%s-%s-%d-%s", c.Engine, c.Row, c.Size, phase)
	s := &session{r: r, topic: r.topicPrefix + "-" + name}
	if err := r.k.CreateTopic(ctx, s.topic, partitions); err != nil {
		return s, err
	}
	s.cleanups = append(s.cleanups, func() {
		if _, err := r.k.DeleteTopicsWithPrefix(s.topic); err != nil {
			progress("        cleanup: %v", err)
		}
		if err := r.k.DeleteGroups(s.topic); err != nil {
			progress("        cleanup: %v", err)
		}
	})
	out, w, cleanup, err := r.outputs(ctx, c.Row, name)
	if err != nil {
		return s, err
	}
	s.out, s.w = out, w
	s.cleanups = append(s.cleanups, cleanup)
	return s, nil
}

// start starts the watcher and the engine, and waits for RUNNING.
func (s *session) start(ctx context.Context, e *Engine, c *Cell, phase string) error {
	wctx, cancel := context.WithCancel(context.Background())
	s.wcancel, s.wdone = cancel, make(chan struct{})
	go func() {
		defer close(s.wdone)
		s.w.Run(wctx)
	}()
	p, err := StartEngine(e, s.r.args(e, c.Row, s.topic, s.out), logPath(s.r.o.logDir, c.Engine, c.Row, strconv.Itoa(c.Size), phase))
	if err != nil {
		return err
	}
	s.proc = p
	if err := p.WaitRunning(ctx, s.r.o.startTimeout); err != nil {
		return err
	}
	if cfg := p.Config(); cfg != "" && e.Reported == nil {
		var v any
		if json.Unmarshal([]byte(cfg), &v) == nil {
			e.Reported = v
		} else {
			e.Reported = cfg
		}
	}
	return nil
}

// waitFor waits until the watcher has seen want distinct records, the
// engine exits, ctx ends, or nothing new shows for the stall period.
func (s *session) waitFor(ctx context.Context, want int64) error {
	t := time.NewTicker(s.r.o.poll)
	defer t.Stop()
	last, lastAt := s.w.Distinct(), time.Now()
	for {
		n := s.w.Distinct()
		if n >= want {
			return nil
		}
		if n != last {
			last, lastAt = n, time.Now()
		}
		if time.Since(lastAt) > s.r.o.stall {
			return fmt.Errorf("%w: %s of %s records visible, none new for %v (runner log: %s)",
				errStalled, rows.Thousands(float64(n)), rows.Thousands(float64(want)), s.r.o.stall, s.proc.log.Name())
		}
		if done, err := s.proc.Exited(); done {
			return fmt.Errorf("the engine exited (%v) with %s of %s records visible; see %s",
				err, rows.Thousands(float64(n)), rows.Thousands(float64(want)), s.proc.log.Name())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// finish stops the engine and the watcher, polls one last time over every
// file, and cleans up. It returns the watcher's accounting.
func (s *session) finish() (seen *peers.Seen, stats peers.WatchStats, stopS float64) {
	if s.proc != nil {
		took, err := s.proc.Stop(s.r.o.stopTimeout)
		stopS = took.Seconds()
		if err != nil {
			progress("        %v", err)
		}
	}
	if s.wcancel != nil {
		s.wcancel()
		<-s.wdone
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		s.w.Poll(fctx, true)
		cancel()
		seen, stats = s.w.Seen(), s.w.Stats()
	}
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	return seen, stats, stopS
}

// saturation: pre-fill, start, time until every record is visible.
func (r *runner) saturation(ctx context.Context, e *Engine, c *Cell) *Saturation {
	res := &Saturation{Records: c.Records}
	s, err := r.newSession(ctx, e, c, "sat")
	defer func() {
		seen, stats, stopS := s.finish()
		res.Watch, res.StopS = stats, stopS
		if seen != nil && res.prefilled != nil {
			res.Check = seen.Check(res.prefilled.PerPartition)
		}
	}()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	pre, err := r.k.Prefill(ctx, s.topic, partitions, c.Records, c.Size)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.prefilled = pre
	res.PrefillS = pre.Acked.Sub(pre.Start).Seconds()
	// The pre-fill writes gigabytes of Kafka log; what the kernel has not
	// written back yet it would write back during the engine's run,
	// competing with the engine's own writes and fsyncs. Every engine
	// starts with the machine's writes done (here 0.8-0.9 s after a 4 GB
	// pre-fill: little was left).
	t := time.Now()
	syscall.Sync()
	res.SyncS = time.Since(t).Seconds()
	progress("        pre-filled in %.1f s (%s rec/s), written back in %.1f s; starting %s", res.PrefillS,
		rows.Thousands(float64(c.Records)/res.PrefillS), res.SyncS, e.Name)
	if err := s.start(ctx, e, c, "sat"); err != nil {
		res.Error = err.Error()
		return res
	}
	p := s.proc
	res.StartToRunningS = p.runAt.Sub(p.Start).Seconds()
	u0 := p.Usage()
	m0, merr := peers.ReadMachineCPU()
	driver0 := selfCPU()
	res.VisibleAtRunning = s.w.Distinct()
	if err := s.waitFor(ctx, c.Records); err != nil {
		res.Error = err.Error()
		return res
	}
	u1 := p.Usage()
	m1, merr1 := peers.ReadMachineCPU()
	driver := selfCPU() - driver0
	res.PeakRSSMiB, res.VmHWMMiB, res.SampledRSSMiB = p.PeakRSSMiB()
	last := s.w.LastNew()
	res.RunningToLastS = last.Sub(p.runAt).Seconds()
	res.StartToLastS = last.Sub(p.Start).Seconds()
	res.RecordsPerS = float64(c.Records) / res.RunningToLastS
	res.RecordsPerSFromStart = float64(c.Records) / res.StartToLastS
	res.CPUSeconds = (u1.CPU - u0.CPU).Seconds()
	res.CPUSecondsTotal = u1.CPU.Seconds()
	res.CPUSecPerM = res.CPUSeconds / float64(c.Records) * 1e6
	res.DriverCPUSecPerM = driver / float64(c.Records) * 1e6
	if merr == nil && merr1 == nil && m1.Total > m0.Total {
		busy := (m1.Busy - m0.Busy).Seconds()
		res.MachineBusyPct = 100 * busy / (m1.Total - m0.Total).Seconds()
		res.OtherCPUSecPerM = max(0, busy-res.CPUSeconds-driver) / float64(c.Records) * 1e6
	}
	return res
}

// latencyRun: start on an empty topic, produce steadily, measure.
func (r *runner) latencyRun(ctx context.Context, e *Engine, c *Cell, load int, rate float64) *Latency {
	res := &Latency{LoadPct: load, TargetRate: rate, DurationS: r.o.latency.Seconds(), WarmupS: r.o.warmup.Seconds(),
		P50Ms: num(math.NaN()), P99Ms: num(math.NaN()), MaxMs: num(math.NaN())}
	phase := fmt.Sprintf("lat%d", load)
	s, err := r.newSession(ctx, e, c, phase)
	var produced *peers.Produced
	defer func() {
		seen, stats, stopS := s.finish()
		res.Watch, res.StopS = stats, stopS
		if seen == nil || produced == nil {
			return
		}
		res.Check = seen.Check(produced.PerPartition)
		from := produced.Start.Add(r.o.warmup).UnixMicro()
		lat := peers.Summarize(seen.Latencies(from))
		res.Samples, res.P50Ms, res.P99Ms, res.MaxMs = lat.N, num(lat.P50/1e3), num(lat.P99/1e3), num(lat.Max/1e3)
		for p := range seen.Partitions() {
			pl := peers.Summarize(seen.PartitionLatencies(p, from))
			res.ByPartition = append(res.ByPartition, PartitionLatency{Partition: p, Samples: pl.N,
				P50Ms: num(pl.P50 / 1e3), P99Ms: num(pl.P99 / 1e3), MaxMs: num(pl.Max / 1e3)})
		}
	}()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	if err := s.start(ctx, e, c, phase); err != nil {
		res.Error = err.Error()
		return res
	}
	p := s.proc
	u0 := p.Usage()
	driver0 := selfCPU()
	produced, err = r.k.Steady(ctx, s.topic, partitions, rate, r.o.latency, c.Size)
	res.DriverCPUSeconds = selfCPU() - driver0
	if produced != nil {
		res.Produced = produced.Total()
		res.AchievedRate = produced.Rate()
	}
	if err != nil {
		res.Error = err.Error()
		return res
	}
	if res.AchievedRate < 0.97*rate {
		progress("        warning: the producer reached %s rec/s of %s (this machine's CPUs are shared with the engine)", rows.Thousands(res.AchievedRate), rows.Thousands(rate))
	}
	end := time.Now()
	if err := s.waitFor(ctx, produced.Total()); err != nil {
		res.Error = err.Error()
		return res
	}
	res.DrainS = s.w.LastNew().Sub(end).Seconds()
	res.ProduceToLastS = s.w.LastNew().Sub(produced.Start).Seconds()
	u1 := p.Usage()
	res.PeakRSSMiB, _, _ = p.PeakRSSMiB()
	if res.Produced > 0 {
		res.CPUSecPerM = (u1.CPU - u0.CPU).Seconds() / float64(res.Produced) * 1e6
	}
	return res
}

// selfCPU is this process's user+system CPU time so far, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// pollText sums up the watcher's polls: a poll much longer than its
// period delays what it sees (a loaded machine, or many files to read).
func pollText(w peers.WatchStats) string {
	avg := 0.0
	if w.Polls > 0 {
		avg = w.TotalPollMs / float64(w.Polls)
	}
	return fmt.Sprintf("%.0f ms on average, %.0f ms at most (%d of %d over the period)", avg, w.MaxPollMs, w.SlowPolls, w.Polls)
}

func checkText(c peers.Check) string {
	if c.ExactlyOnce() {
		return fmt.Sprintf("all %s records exactly once", rows.Thousands(float64(c.Expected)))
	}
	s := fmt.Sprintf("%d missing, %d duplicates, %d unexpected of %s", c.Missing, c.Duplicates, c.Unexpected, rows.Thousands(float64(c.Expected)))
	if len(c.FirstMissing) > 0 {
		s += " (missing e.g. " + strings.Join(c.FirstMissing, ", ") + ")"
	}
	return s
}

func names(list string, known []string) ([]string, error) {
	var out []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("unknown %q (known: %s)", n, strings.Join(known, ", "))
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func ints(list string) ([]int, error) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// The saturation runs' records for a size not named in -records (or
// -storm-records): these bytes, in records of that size. The runs must
// be long enough for start-up to be a small part of them: Flink's JIT
// compiling, Gale's heap growing. At 2M records of 100 B the fastest runs
// lasted 2 s; at 6M (2026-12-06) Flink's HDFS row ran at 0.94M records/s
// and 1.29 CPU s per M, at 20M at 1.25M and 0.88 (Gale's 1.16-1.45M and
// 0.72 against 1.44-1.49M and 0.60-0.64). Storm, at about 17k records/s,
// takes two minutes for 2M.
const (
	defaultRecords      = 2000e6 // 20M of 100 B
	defaultStormRecords = 200e6  // 2M of 100 B
)

// recordCounts reads -records: "N" for every size, or "SIZE=N,...";
// sizes not named get defBytes of records (at least 1000): 100 B and 1 KB
// get the flag's defaults.
func recordCounts(spec string, sizes []int, defBytes float64) (map[int]int64, error) {
	out := map[int]int64{}
	parseN := func(s string) (int64, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || f < 1 || f != math.Trunc(f) {
			return 0, fmt.Errorf("%q: want a positive number of records", s)
		}
		return int64(f), nil
	}
	if !strings.Contains(spec, "=") {
		n, err := parseN(spec)
		if err != nil {
			return nil, err
		}
		for _, s := range sizes {
			out[s] = n
		}
		return out, nil
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(kv, "=")
		size, err := strconv.Atoi(strings.TrimSpace(k))
		if !ok || err != nil {
			return nil, fmt.Errorf("%q: want SIZE=N", kv)
		}
		n, err := parseN(v)
		if err != nil {
			return nil, err
		}
		out[size] = n
	}
	for _, s := range sizes {
		if out[s] == 0 {
			out[s] = max(1000, int64(defBytes/float64(s)))
		}
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// gitCommit is the commit checked out at dir ("" outside git).
func gitCommit(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--", ".").Output(); err == nil && len(st) > 0 {
		s += "+changes"
	}
	return s
}

func progress(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
