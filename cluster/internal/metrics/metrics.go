package metrics

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/topology"
)

// Source gives this process's local stats: one local.Stats per running
// topology, with the tasks that run here only. Stats is called once per
// scrape, possibly by concurrent scrapes at once.
type Source interface {
	Stats() []local.Stats
}

// SourceFunc adapts a function to a Source.
type SourceFunc func() []local.Stats

// Stats calls f.
func (f SourceFunc) Stats() []local.Stats { return f() }

// Handler serves /metrics in the Prometheus text format (or OpenMetrics
// when the scraper asks for it) from a registry of its own: the Gale
// metrics of src (see the package doc), gale_worker_info, and the Go
// runtime's and the process's collectors (go_*, process_*: CPU, memory,
// file descriptors). worker names this process (the worker label of every
// series); version is the build's version; extra are more collectors (a
// worker's autoscaler).
func Handler(worker, version string, src Source, extra ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(extra...)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewCollector(worker, src),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "gale_worker_info",
			Help:        "Always 1: this worker's name and version.",
			ConstLabels: prometheus.Labels{"worker": worker, "version": version},
		}, func() float64 { return 1 }),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{},
		ErrorHandling: promhttp.ContinueOnError, // a bad series must not hide the others
		Registry:      reg,                      // promhttp_metric_handler_errors_total
	})
}

// errorLog sends promhttp's errors to the default logger.
type errorLog struct{}

func (errorLog) Println(v ...any) { slog.Warn("metrics: " + fmt.Sprint(v...)) }

// Collector is a prometheus.Collector of the Gale metrics of a Source (the
// package doc lists them). It reads the source once per scrape, so that
// the series of one scrape are one snapshot. It is safe for concurrent
// use.
type Collector struct {
	worker string
	src    Source
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector of src's stats; worker is the value of
// every series' worker label.
func NewCollector(worker string, src Source) *Collector {
	return &Collector{worker: worker, src: src}
}

// Label names.
var (
	topoLabels      = []string{"topology", "worker"}
	taskLabels      = []string{"topology", "component", "kind", "task", "worker"}
	customLabels    = append(append([]string(nil), taskLabels...), "name")
	partitionLabels = append(append([]string(nil), taskLabels...), "topic", "partition")
)

func newDesc(name, help string, labels []string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// The descriptions (immutable).
var (
	descUptime = newDesc("gale_topology_uptime_seconds",
		"Time since the topology's runtime started on this worker.", topoLabels)
	descStart = newDesc("gale_topology_start_time_seconds",
		"When the topology's runtime started on this worker (Unix time): a new value means its tasks' counters restarted from zero.", topoLabels)

	descEmitted = newDesc("gale_task_emitted_total",
		"Tuples emitted by the task (one per emit call).", taskLabels)
	descTransferred = newDesc("gale_task_transferred_total",
		"Tuples delivered to other tasks (fan-out counted).", taskLabels)
	descAcked = newDesc("gale_task_acked_total",
		"Spouts: tuple trees completed; bolts: input tuples acked.", taskLabels)
	descFailed = newDesc("gale_task_failed_total",
		"Spouts: tuple trees failed or timed out; bolts: input tuples failed.", taskLabels)
	descTimedOut = newDesc("gale_task_timed_out_total",
		"Spouts: tuple trees that timed out (also counted as failed).", taskLabels)
	descExecuted = newDesc("gale_task_executed_total",
		"Bolts: tuples executed.", taskLabels)
	descErrors = newDesc("gale_task_errors_total",
		"Errors the task reported (panics included).", taskLabels)
	descPanics = newDesc("gale_task_panics_total",
		"Panics recovered in the task's NextTuple or Execute.", taskLabels)
	descPending = newDesc("gale_task_pending",
		"Spouts: tuple trees in flight (emitted, not yet complete).", taskLabels)
	descQueue = newDesc("gale_task_queue_length",
		"Bolts: tuples waiting in the task's input queue.", taskLabels)
	descBusy = newDesc("gale_task_busy_seconds_total",
		"Bolts: time spent in Execute (estimated from the sampled tuples); its rate is the task's capacity.", taskLabels)
	descExecute = newDesc("gale_task_execute_latency_seconds",
		"Bolts: Execute duration, over sampled tuples (1 in 16).", taskLabels)
	descProcess = newDesc("gale_task_process_latency_seconds",
		"Bolts: time from a tuple's receipt to its ack, over sampled tuples (1 in 16).", taskLabels)
	descComplete = newDesc("gale_task_complete_latency_seconds",
		"Spouts: time from emit to tuple tree completion, over sampled trees (1 in 16).", taskLabels)
	descCustom = newDesc("gale_task_custom_total",
		"The task's own metric name (TaskContext.RecordMetric), summed since the task started.", customLabels)

	descPlanned = newDesc("gale_kafka_partition_batches_planned_total",
		"Batches of the partition planned in the batch ledger (the next batch's sequence number).", partitionLabels)
	descCommitted = newDesc("gale_kafka_partition_batches_committed_total",
		"Batches of the partition committed contiguously.", partitionLabels)
	descPartInFlight = newDesc("gale_kafka_partition_batches_in_flight",
		"Batches of the partition emitted and not yet complete.", partitionLabels)
	descReplaying = newDesc("gale_kafka_partition_batches_replaying",
		"Batches of the partition waiting to be emitted again.", partitionLabels)
	descNextOffset = newDesc("gale_kafka_partition_next_offset",
		"Offset where the partition's next batch starts.", partitionLabels)
	descCommittedOffset = newDesc("gale_kafka_partition_committed_offset",
		"Offset committed to the consumer group (the next record to read); absent while unknown.", partitionLabels)
	descHighWatermark = newDesc("gale_kafka_partition_high_watermark",
		"The partition's high watermark as last seen; absent while unknown.", partitionLabels)
	descLag = newDesc("gale_kafka_partition_lag",
		"Records between the committed offset and the high watermark; absent while either is unknown.", partitionLabels)
	descCommitting = newDesc("gale_kafka_partition_batches_committing",
		"Batches of the partition whose tuples all completed, waiting for their commit in the ledger.", partitionLabels)
	descCommitRetries = newDesc("gale_kafka_partition_commit_retries_total",
		"Failed ledger writes of completed batches (commits, lost ranges) that were retried.", partitionLabels)
	descPartLastError = newDesc("gale_kafka_partition_last_error_timestamp_seconds",
		"When the partition's last error happened (Unix time); absent if none.", partitionLabels)
	descLost = newDesc("gale_kafka_partition_lost_records_total",
		"Offsets of the partition the ledger recorded lost, ever: Kafka's retention deleted them before the spout read them.", partitionLabels)
	descStopped = newDesc("gale_kafka_partition_stopped",
		"1 when the spout stopped emitting for the partition (fenced by a newer owner, ledger deleted, data lost with on_data_loss fail), else 0.", partitionLabels)

	descSinkBatches = newDesc("gale_sink_batches_total",
		"Batches the sink task wrote.", taskLabels)
	descSinkRecords = newDesc("gale_sink_records_total",
		"Records the sink task wrote.", taskLabels)
	descSinkBytes = newDesc("gale_sink_bytes_total",
		"Bytes the sink task wrote, as stored (compressed, encrypted).", taskLabels)
	descSinkRetries = newDesc("gale_sink_retries_total",
		"Failed writes the sink task retried.", taskLabels)
	descSinkRejected = newDesc("gale_sink_rejected_total",
		"Records the backend rejected (written to the dead-letter files).", taskLabels)
	descSinkWrite = newDesc("gale_sink_write_seconds_total",
		"Time spent in successful writes; divided by the batches, the mean write latency.", taskLabels)
	descSinkLastWrite = newDesc("gale_sink_last_write_seconds",
		"Duration of the last successful write.", taskLabels)
	descSinkInFlight = newDesc("gale_sink_batches_in_flight",
		"Batches being written.", taskLabels)
	descSinkLastError = newDesc("gale_sink_last_error_timestamp_seconds",
		"When the last write failed (Unix time); absent if none failed.", taskLabels)
)

var allDescs = []*prometheus.Desc{
	descUptime, descStart,
	descEmitted, descTransferred, descAcked, descFailed, descTimedOut, descExecuted, descErrors, descPanics,
	descPending, descQueue, descBusy, descExecute, descProcess, descComplete, descCustom,
	descPlanned, descCommitted, descPartInFlight, descReplaying, descNextOffset, descCommittedOffset,
	descHighWatermark, descLag, descCommitting, descCommitRetries, descPartLastError, descLost, descStopped,
	descSinkBatches, descSinkRecords, descSinkBytes, descSinkRetries, descSinkRejected, descSinkWrite,
	descSinkLastWrite, descSinkInFlight, descSinkLastError,
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect reads the source once and sends its metrics. A task that two
// stats report (a topology restarting on this worker) is sent once, from
// the first.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	topos := map[string]bool{}
	tasks := map[string]bool{} // topology/task
	for _, st := range c.src.Stats() {
		if !topos[st.Topology] {
			topos[st.Topology] = true
			send(ch, descUptime, prometheus.GaugeValue, st.Uptime.Seconds(), st.Topology, c.worker)
			if !st.Started.IsZero() {
				send(ch, descStart, prometheus.GaugeValue, float64(st.Started.UnixNano())/1e9, st.Topology, c.worker)
			}
		}
		for i := range st.Tasks {
			ts := &st.Tasks[i]
			key := st.Topology + "/" + strconv.Itoa(ts.Task)
			if tasks[key] {
				continue
			}
			tasks[key] = true
			c.collectTask(ch, st.Topology, ts)
		}
	}
}

func (c *Collector) collectTask(ch chan<- prometheus.Metric, topo string, ts *local.TaskStats) {
	lv := []string{topo, ts.Component, ts.Kind, strconv.Itoa(ts.Task), c.worker}
	counter := func(d *prometheus.Desc, v uint64) { send(ch, d, prometheus.CounterValue, float64(v), lv...) }
	counter(descEmitted, ts.Emitted)
	counter(descTransferred, ts.Transferred)
	counter(descAcked, ts.Acked)
	counter(descFailed, ts.Failed)
	counter(descErrors, ts.Errors)
	counter(descPanics, ts.Panics)
	if ts.Kind == topology.KindSpout.String() {
		counter(descTimedOut, ts.TimedOut)
		send(ch, descPending, prometheus.GaugeValue, float64(ts.Pending), lv...)
		q := map[float64]float64{0.5: math.NaN(), 0.99: math.NaN()}
		if ts.CompleteSamples > 0 {
			q[0.5], q[0.99] = ts.CompleteP50.Seconds(), ts.CompleteP99.Seconds()
		}
		summary(ch, descComplete, ts.CompleteSamples, ts.CompleteSum, q, lv)
	} else {
		counter(descExecuted, ts.Executed)
		send(ch, descQueue, prometheus.GaugeValue, float64(ts.QueueLen), lv...)
		send(ch, descBusy, prometheus.CounterValue, time.Duration(ts.BusyNanos).Seconds(), lv...)
		summary(ch, descExecute, ts.ExecuteSamples, ts.ExecuteSum, nil, lv)
		summary(ch, descProcess, ts.ProcessSamples, ts.ProcessSum, nil, lv)
	}
	for name, v := range ts.Custom {
		send(ch, descCustom, prometheus.CounterValue, v, append(lv, name)...)
	}
	if ts.Status == nil {
		return
	}
	seen := map[string]bool{}
	for _, p := range ts.Status.Partitions {
		part := strconv.Itoa(int(p.Partition))
		if seen[p.Topic+"/"+part] {
			continue
		}
		seen[p.Topic+"/"+part] = true
		c.collectPartition(ch, &p, append(lv, p.Topic, part))
	}
	if s := ts.Status.Sink; s != nil {
		send(ch, descSinkBatches, prometheus.CounterValue, float64(s.Batches), lv...)
		send(ch, descSinkRecords, prometheus.CounterValue, float64(s.Records), lv...)
		send(ch, descSinkBytes, prometheus.CounterValue, float64(s.Bytes), lv...)
		send(ch, descSinkRetries, prometheus.CounterValue, float64(s.Retries), lv...)
		send(ch, descSinkRejected, prometheus.CounterValue, float64(s.Rejected), lv...)
		send(ch, descSinkWrite, prometheus.CounterValue, time.Duration(s.WriteNanos).Seconds(), lv...)
		send(ch, descSinkLastWrite, prometheus.GaugeValue, s.LastWrite.Seconds(), lv...)
		send(ch, descSinkInFlight, prometheus.GaugeValue, float64(s.InFlight), lv...)
		if !s.LastErrorAt.IsZero() {
			send(ch, descSinkLastError, prometheus.GaugeValue, float64(s.LastErrorAt.UnixNano())/1e9, lv...)
		}
	}
}

func (c *Collector) collectPartition(ch chan<- prometheus.Metric, p *local.PartitionStatus, lv []string) {
	send(ch, descPlanned, prometheus.CounterValue, float64(p.Planned), lv...)
	send(ch, descCommitted, prometheus.CounterValue, float64(p.Committed), lv...)
	send(ch, descPartInFlight, prometheus.GaugeValue, float64(p.InFlight), lv...)
	send(ch, descReplaying, prometheus.GaugeValue, float64(p.Replaying), lv...)
	send(ch, descNextOffset, prometheus.GaugeValue, float64(p.NextOffset), lv...)
	if p.CommittedOffset >= 0 {
		send(ch, descCommittedOffset, prometheus.GaugeValue, float64(p.CommittedOffset), lv...)
	}
	if p.HighWatermark >= 0 {
		send(ch, descHighWatermark, prometheus.GaugeValue, float64(p.HighWatermark), lv...)
	}
	if lag := p.Lag(); lag >= 0 {
		send(ch, descLag, prometheus.GaugeValue, float64(lag), lv...)
	}
	send(ch, descCommitting, prometheus.GaugeValue, float64(p.Committing), lv...)
	send(ch, descCommitRetries, prometheus.CounterValue, float64(p.CommitRetries), lv...)
	if !p.LastErrorAt.IsZero() {
		send(ch, descPartLastError, prometheus.GaugeValue, float64(p.LastErrorAt.UnixNano())/1e9, lv...)
	}
	send(ch, descLost, prometheus.CounterValue, float64(p.LostOffsets), lv...)
	stopped := 0.0
	if p.Stopped != "" {
		stopped = 1
	}
	send(ch, descStopped, prometheus.GaugeValue, stopped, lv...)
}

// send sends one metric, or an invalid metric (the scrape reports it and
// goes on) when the label values are not valid UTF-8.
func send(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType, v float64, lv ...string) {
	m, err := prometheus.NewConstMetric(d, t, v, lv...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}

// summary sends a summary of count sampled durations summing sum.
func summary(ch chan<- prometheus.Metric, d *prometheus.Desc, count uint64, sum time.Duration, q map[float64]float64, lv []string) {
	m, err := prometheus.NewConstSummary(d, count, sum.Seconds(), q, lv...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}
