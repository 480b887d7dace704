// Command galepeer is Gale's runner in the Gale / Flink / Storm comparison
// (bench/cmd/benchpeers): the same command line as bench/flink/run.sh and
// bench/storm/run.sh, so the driver starts every engine the same way, as a
// process of its own whose CPU and memory it reads from /proc.
//
//	galepeer build                                   # nothing to build: exits 0
//	galepeer kafka-files brokers=HOST:PORT topic=T group=G out=URI parallelism=N
//	                     [checkpoint_ms=MS] [fail_partition=P] [KEY=VALUE ...]
//	galepeer topology    (the same arguments)         # print the topology JSON and exit
//
// It runs, in this process (package local, as `gale run` does), the topology
//
//		kafka (spout) --> [fail-once] --batch--> file_sink | hdfs_sink
//
//	  - kafka: parallelism N tasks (one per partition with the driver's 4
//	    partitions and N=4), deserializer "raw", start "earliest", unbounded,
//	    the consumer group G, the ledger in files (kind "file") in a temporary
//	    directory removed on exit, batches of 1000 records / 4 MiB / 100 ms
//	    growing up to 40000 records or 16 MiB under load (batch.max_records
//	    40000, batch.max_bytes 16 MiB: batches of 100-byte records stop at
//	    40000 records, 4 MB; of 1 KB records at 16 MiB, about 16,000
//	    records), max_pending_batches 2: fewer, larger batches in flight mean
//	    fewer files when the sinks are behind, which a store with a cost per
//	    file (HDFS's NameNode, a file system's creates) needs; with 10000
//	    and 8 (2026-12-06, 6M records of 100 B) the hdfs row ran at
//	    0.86-0.94M records/s writing 950 files, with 40000 and 2 at
//	    1.18-1.23M writing 220-250, the files row at 1.32-1.37M and 1.53M;
//	    with 1 KB records (2026-12-06, 4M records) 16 MiB instead of 4 ran
//	    the hdfs row at 335-343k records/s instead of 266-297k, 1.78-1.84
//	    CPU s per M instead of 1.92-2.05, for a peak RSS of 2.2-2.4 GiB
//	    instead of 0.9 (the 100 B rows' is 2.5-2.9).
//	  - fail-once (only with fail_partition=P; N tasks, shuffle): each tuple
//	    of partition P is failed the first time this process sees it (a set
//	    of tuple ids shared by the tasks), passed on and acked on its replay;
//	    the spout replays the whole batch, with the same plan.
//	  - file_sink (out=file:///DIR) or hdfs_sink (out=hdfs://HOST:PORT/DIR):
//	    N tasks, batch grouping, format "lines" with field "value" (each
//	    record value unchanged, one '\n'-terminated line), compression
//	    "none", fsync on, max_inflight 2. Each batch is one file, written to
//	    a hidden temporary name (".<name>.tmp-...") and renamed: finished
//	    files only are visible.
//	  - topology: 1 acker, max spout pending 1000, message timeout 30 s; on
//	    SIGTERM or SIGINT the spouts stop and the trees in flight drain (at
//	    most 10 s); GOGC 400 (local.TuneGC) unless GOGC is set.
//
// checkpoint_ms is accepted and ignored (Flink's). Gale-only keys override
// the settings above: batch_records, batch_bytes, batch_time (a Go
// duration), batch_max_records, batch_max_bytes (0: batches do not grow
// past batch_bytes), max_pending_batches, sink_parallelism,
// max_inflight, max_spout_pending, no_fsync (true: throwaway data only).
// workers=N (N > 0, not with fail_partition) runs the topology on N `gale
// worker` processes of one cluster on loopback, children of this one (the
// gale binary beside this one, or gale=PATH), with a shared file ledger
// and one acker per worker; compression=lz4 gives the workers
// --transport-compression lz4. On SIGTERM it writes the bytes the
// workers sent each other (frames, and on the wire) to stderr.
//
// It prints one "CONFIG <topology JSON>" line, then "RUNNING" once the
// bolts are prepared and the spouts open, on stdout; logs (warnings) go to
// stderr. With GALE_CPUPROFILE=FILE set it writes a CPU profile of the run
// there (go tool pprof), complete when it exits; with workers=N, each
// worker's to FILE.wI too.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

func main() {
	stopProfile := cli.StartCPUProfile(os.Getenv("GALE_CPUPROFILE"))
	err := run(os.Args[1:])
	stopProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "galepeer:", err)
		os.Exit(1)
	}
}

// settings are the runner's arguments with their defaults.
type settings struct {
	brokers, topic, group, out string
	parallelism                int
	failPartition              int // -1: none
	batchRecords, batchBytes   int
	batchTime                  time.Duration
	batchMaxRecords            int
	batchMaxBytes              int
	maxPendingBatches          int
	sinkParallelism            int
	maxInflight                int
	maxSpoutPending            int
	noFsync                    bool
	// workers > 0 runs the topology on that many `gale worker` processes
	// (cluster.go) found at galeBin, instead of in this process
	workers     int
	galeBin     string
	compression string // the workers' --transport-compression
}

func parse(args []string) (*settings, error) {
	s := &settings{parallelism: 4, failPartition: -1, compression: "none", batchRecords: 1000, batchBytes: 4 << 20,
		batchTime: 100 * time.Millisecond, batchMaxRecords: 40000, batchMaxBytes: 16 << 20, maxPendingBatches: 2, maxInflight: 2, maxSpoutPending: 1000}
	ints := map[string]*int{"parallelism": &s.parallelism, "fail_partition": &s.failPartition,
		"batch_records": &s.batchRecords, "batch_bytes": &s.batchBytes, "batch_max_records": &s.batchMaxRecords, "batch_max_bytes": &s.batchMaxBytes,
		"max_pending_batches": &s.maxPendingBatches, "sink_parallelism": &s.sinkParallelism,
		"max_inflight": &s.maxInflight, "max_spout_pending": &s.maxSpoutPending, "workers": &s.workers}
	strs := map[string]*string{"brokers": &s.brokers, "topic": &s.topic, "group": &s.group, "out": &s.out}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("argument %q: want KEY=VALUE", a)
		}
		switch {
		case ints[k] != nil:
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("%s=%q: want an integer", k, v)
			}
			*ints[k] = n
		case strs[k] != nil:
			*strs[k] = v
		case k == "batch_time":
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("batch_time=%q: %w", v, err)
			}
			s.batchTime = d
		case k == "no_fsync":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("no_fsync=%q: %w", v, err)
			}
			s.noFsync = b
		case k == "gale":
			s.galeBin = v
		case k == "compression":
			if v != "none" && v != "lz4" {
				return nil, fmt.Errorf("compression=%q: want none or lz4", v)
			}
			s.compression = v
		case k == "checkpoint_ms": // Flink's; nothing to checkpoint here
		default:
			return nil, fmt.Errorf("unknown key %q", k)
		}
	}
	for k, p := range strs {
		if *p == "" {
			return nil, fmt.Errorf("%s= is required", k)
		}
	}
	if s.parallelism < 1 {
		return nil, fmt.Errorf("parallelism=%d: want at least 1", s.parallelism)
	}
	if s.sinkParallelism == 0 {
		s.sinkParallelism = s.parallelism
	}
	if s.workers > 0 && s.failPartition >= 0 {
		return nil, fmt.Errorf("workers=%d with fail_partition: the fail-once bolt is this binary's own, not gale's", s.workers)
	}
	return s, nil
}

// topologyJSON is the topology the runner runs, as `gale run` reads it
// (apart from the fail-once bolt, which only this binary registers).
func (s *settings) topologyJSON(ledgerDir, deadLetterDir string) ([]byte, error) {
	u, err := url.Parse(s.out)
	if err != nil {
		return nil, fmt.Errorf("out=%q: %w", s.out, err)
	}
	batch := map[string]any{"records": s.batchRecords, "bytes": s.batchBytes, "time": s.batchTime.String()}
	if s.batchMaxRecords > 0 {
		batch["max_records"] = s.batchMaxRecords
	}
	if s.batchMaxBytes > 0 {
		batch["max_bytes"] = s.batchMaxBytes
	}
	spout := map[string]any{
		"id": "kafka", "type": "kafka", "parallelism": s.parallelism,
		"config": map[string]any{
			"brokers": strings.Split(s.brokers, ","), "topics": []string{s.topic}, "group": s.group,
			"start": "earliest", "deserializer": "raw", "batch": batch,
			"max_pending_batches": s.maxPendingBatches,
			"ledger":              map[string]any{"kind": "file", "dir": ledgerDir},
		},
	}
	if s.workers > 0 {
		// the workers share this machine's disk
		spout["config"].(map[string]any)["ledger"].(map[string]any)["shared"] = true
	}
	sinkCfg := map[string]any{"format": "lines", "field": "value", "compression": "none",
		"max_inflight": s.maxInflight, "dead_letter_dir": deadLetterDir}
	var sinkType string
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" || !path.IsAbs(u.Path) {
			return nil, fmt.Errorf("out=%q: want file:///ABSOLUTE/DIR", s.out)
		}
		sinkType, sinkCfg["dir"] = "file_sink", u.Path
		if s.noFsync {
			sinkCfg["no_fsync"] = true
		}
	case "hdfs":
		if u.Host == "" || !path.IsAbs(u.Path) {
			return nil, fmt.Errorf("out=%q: want hdfs://HOST:PORT/ABSOLUTE/DIR", s.out)
		}
		sinkType, sinkCfg["namenode"], sinkCfg["dir"] = "hdfs_sink", u.Host, u.Path
	default:
		return nil, fmt.Errorf("out=%q: want a file:// or hdfs:// URI", s.out)
	}
	from := "kafka"
	var bolts []any
	if s.failPartition >= 0 {
		bolts = append(bolts, map[string]any{
			"id": "fail-once", "type": failOnceType, "parallelism": s.parallelism,
			"config": map[string]any{"partition": s.failPartition},
			"inputs": []any{map[string]any{"component": "kafka", "grouping": "shuffle"}},
		})
		from = "fail-once"
	}
	bolts = append(bolts, map[string]any{
		"id": "out", "type": sinkType, "parallelism": s.sinkParallelism, "config": sinkCfg,
		"inputs": []any{map[string]any{"component": from, "grouping": "batch"}},
	})
	return json.Marshal(map[string]any{
		"name": "bench-peers",
		"config": map[string]any{
			"topology.acker.executors":      max(1, s.workers), // one per worker, as Storm
			"topology.max.spout.pending":    s.maxSpoutPending,
			"topology.message.timeout.secs": 30,
		},
		"spouts": []any{spout},
		"bolts":  bolts,
	})
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: galepeer build | kafka-files KEY=VALUE ... | topology KEY=VALUE ...")
	}
	switch args[0] {
	case "build":
		return nil
	case "kafka-files", "topology":
	default:
		return fmt.Errorf("unknown mode %q (want build, kafka-files or topology)", args[0])
	}
	s, err := parse(args[1:])
	if err != nil {
		return err
	}
	if args[0] == "topology" {
		data, err := s.topologyJSON("LEDGER_DIR", "DEAD_LETTER_DIR")
		if err != nil {
			return err
		}
		fmt.Println(string(data))
		return nil
	}

	local.TuneGC()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	slog.SetDefault(logger)
	tmp, err := os.MkdirTemp("", "galepeer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	data, err := s.topologyJSON(path.Join(tmp, "ledger"), path.Join(tmp, "dead-letter"))
	if err != nil {
		return err
	}
	reg := all.Registry()
	reg.MustRegister(failOnce())
	topo, err := topology.Decode(data, reg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if s.workers > 0 {
		fmt.Printf("CONFIG %s\n", data)
		return runCluster(ctx, s, data, tmp)
	}
	rt, err := local.New(topo, local.Options{Logger: logger, DrainTimeout: 10 * time.Second})
	if err != nil {
		return err
	}
	fmt.Printf("CONFIG %s\n", data)
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for rt.Stats().Started.IsZero() {
		select {
		case err := <-done:
			return fmt.Errorf("the topology stopped before it ran: %w", err)
		case <-tick.C:
		}
	}
	fmt.Println("RUNNING")
	os.Stdout.Sync()
	err = <-done
	if ctx.Err() != nil {
		// asked to stop: trees not drained in time are replayed by a
		// next run; that is no failure of the run
		if err != nil {
			logger.Warn("stopped", "err", err)
		}
		return nil
	}
	if err == nil {
		err = fmt.Errorf("the topology stopped by itself")
	}
	return err
}

const failOnceType = "fail_once_partition"

// failOnceConfig configures the fail-once bolt.
type failOnceConfig struct {
	// Partition whose tuples fail on their first attempt.
	Partition int `json:"partition"`
}

// failed are the offsets (of the one partition) failed once, shared by
// the bolt's tasks (one process), so that a replay passes whichever task
// it reaches: a bit per offset (a set of 5M id strings, at 20M records,
// took GBs and the collector's time: the benchmark's cost, not Gale's).
var failed struct {
	sync.Mutex
	bits []uint64 // bit o%64 of bits[o/64]: offset o
}

// failOnceAt marks offset o failed and reports whether it was already.
func failOnceAt(o int64) (again bool) {
	failed.Lock()
	defer failed.Unlock()
	i, bit := int(o/64), uint64(1)<<(o%64)
	if i >= len(failed.bits) {
		failed.bits = append(failed.bits, make([]uint64, i+1-len(failed.bits))...)
	}
	again = failed.bits[i]&bit != 0
	failed.bits[i] |= bit
	return again
}

// failOnce is the bolt type: tuples of the partition are failed the first
// time (their batch is replayed by the kafka spout), passed on, anchored,
// and acked when seen again; other tuples are passed on and acked.
func failOnce() registry.Bolt[failOnceConfig] {
	return registry.Bolt[failOnceConfig]{
		Name:   failOnceType,
		Doc:    "fails each tuple of one Kafka partition on its first attempt (benchmark replays)",
		Config: func() *failOnceConfig { return &failOnceConfig{Partition: -1} },
		Outputs: registry.Declare(func(_ *failOnceConfig, inputs []tuple.Fields) (topology.Streams, error) {
			if len(inputs) != 1 {
				return nil, fmt.Errorf("%s: want one input, got %d", failOnceType, len(inputs))
			}
			return topology.Streams{tuple.DefaultStream: inputs[0]}, nil
		}),
		New: func(c *failOnceConfig) (bolt.Bolt, error) { return &failOnceBolt{partition: c.Partition}, nil },
	}
}

type failOnceBolt struct {
	partition int
	out       bolt.Collector
}

func (b *failOnceBolt) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	b.out = out
	return nil
}

func (b *failOnceBolt) Execute(_ context.Context, t *tuple.Tuple) error {
	if t.IsTick() {
		b.out.Ack(t)
		return nil
	}
	if partitionOf(t.ValueByField("partition")) == b.partition {
		o, ok := t.ValueByField("offset").(int64)
		if !ok || o < 0 {
			return fmt.Errorf("%s: tuple %s has no offset", failOnceType, t.ID)
		}
		if !failOnceAt(o) {
			b.out.Fail(t)
			return nil
		}
	}
	b.out.Emit(t, t.Values)
	b.out.Ack(t)
	return nil
}

func (b *failOnceBolt) Cleanup() error { return nil }

func partitionOf(v any) int {
	switch x := v.(type) {
	case int32:
		return int(x)
	case int:
		return x
	case int64:
		return int(x)
	}
	return -1
}
