// Package api is Gale's cluster HTTP API: JSON over HTTP, served by every
// worker (and read by the CLI and the monitor UI). Mutating calls need the
// cluster's token when one is set (Authorization: Bearer TOKEN).
//
//	GET    /api/v1/members                         the workers
//	GET    /api/v1/topologies                      the topologies, with totals
//	POST   /api/v1/topologies                      submit (body: the topology JSON)
//	GET    /api/v1/topologies/{name}               describe: components, tasks, where each runs, metrics
//	POST   /api/v1/topologies/{name}/kill          kill (?drain=SECONDS, default 30)
//	POST   /api/v1/topologies/{name}/activate      resume the spouts
//	POST   /api/v1/topologies/{name}/deactivate    pause the spouts
//	POST   /api/v1/topologies/{name}/rebalance     body {"parallelism": {"comp": N}, "workers": N}
//	GET    /api/v1/topologies/{name}/series        live charts: ?window=10m (5 s steps, default) or 3h (1 min steps)
//	GET    /api/v1/info                            this server: mode (cluster, local), worker, version, whether a token is needed
//
// Errors are {"error": "...", "details": ["..."]} with an HTTP status that
// says what happened: 400 invalid topology (details: every error with its
// JSON path, also what does not fit a cluster: topology.CheckCluster), 401 missing or wrong token, 404 no such topology, 409 the
// name exists, 422 a component type some worker lacks, 503 the state store
// is unreachable.
package api

import (
	"time"

	"github.com/gale-stream/gale/local"
)

// Member is one worker.
type Member struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	// State is alive, leaving (a graceful leave: its tasks move away),
	// suspect, dead or left.
	State     string    `json:"state"`
	API       string    `json:"api"`
	Transport string    `json:"transport"`
	Started   time.Time `json:"started"`
	Slots     int       `json:"slots"`
	Tasks     int       `json:"tasks"`
	Version   string    `json:"version,omitempty"`
	// CPU and memory of the worker process, when it reports them.
	CPUPercent float64 `json:"cpu_percent,omitempty"`
	RSSBytes   int64   `json:"rss_bytes,omitempty"`
}

// Info describes the server that answers.
type Info struct {
	// Mode is "cluster" (a gale worker) or "local" (gale run --ui).
	Mode    string `json:"mode"`
	Worker  string `json:"worker"`
	Version string `json:"version"`
	// AuthRequired: mutating calls need the token.
	AuthRequired bool `json:"auth_required"`
	// ReadsNeedToken: every /api/ and /metrics call needs the token.
	ReadsNeedToken bool `json:"reads_need_token,omitempty"`
	// Insecure: the worker was started with --insecure (no token or no
	// cluster key off loopback).
	Insecure bool      `json:"insecure,omitempty"`
	Started  time.Time `json:"started"`
	// Rebalance: whether this server can rebalance (a local run cannot).
	Rebalance bool `json:"rebalance"`
}

// Rates are per-second rates over the last minute.
type Rates struct {
	Emitted float64 `json:"emitted"`
	Acked   float64 `json:"acked"`
	Failed  float64 `json:"failed"`
}

// TopologySummary is one line of the topology list.
type TopologySummary struct {
	Name      string    `json:"name"`
	Status    string    `json:"status"` // active, inactive, killed
	Version   int64     `json:"version"`
	Submitted time.Time `json:"submitted"`
	Workers   int       `json:"workers"`
	Tasks     int       `json:"tasks"`
	Emitted   uint64    `json:"emitted"`
	Acked     uint64    `json:"acked"`
	Failed    uint64    `json:"failed"`
	// Rates of the spouts over the last minute.
	Rates Rates `json:"rates"`
	// Uptime: seconds since the topology's runtimes started (the oldest).
	UptimeSeconds float64 `json:"uptime_seconds"`
	// Refused, when not empty, is why the workers do not run this
	// topology, each problem with its JSON path: it was stored before
	// they checked what a submit checks now (a Kafka spout's ledger on one
	// worker's disk, say). Kill it and submit it again once fixed.
	Refused []string `json:"refused,omitempty"`
}

// Topology is the description of one topology.
type Topology struct {
	TopologySummary
	Components []Component `json:"components"`
	// Streams are the DAG's edges.
	Streams []Stream `json:"streams"`
	// Unassigned are tasks no worker could take (not enough slots).
	Unassigned []int `json:"unassigned,omitempty"`
	// MessageTimeoutSeconds is topology.message.timeout.secs.
	MessageTimeoutSeconds float64 `json:"message_timeout_seconds,omitempty"`
	// Rescale, when set, is a change of parallelism waiting to be applied:
	// the spouts pause until the trees in flight complete, then the tasks
	// change (no tree replays).
	Rescale *Rescale `json:"rescale,omitempty"`
	// Autoscale is the autoscaler's state, when a component has a policy.
	Autoscale *Autoscale `json:"autoscale,omitempty"`
}

// Autoscale is the autoscaler's state of a topology.
type Autoscale struct {
	// Paused: gale autoscale off.
	Paused bool `json:"paused"`
	// Policies are the components' policies, by component id.
	Policies map[string]AutoscalePolicy `json:"policies"`
	// Decisions are the latest changes (and the changes it could not
	// make, with what limited them), oldest first.
	Decisions []AutoscaleDecision `json:"decisions,omitempty"`
}

// AutoscalePolicy is a component's policy and its current parallelism.
type AutoscalePolicy struct {
	Min               int     `json:"min"`
	Max               int     `json:"max"`
	TargetCapacity    float64 `json:"target_capacity"`
	ScaleUpLagSeconds float64 `json:"scale_up_lag_seconds,omitempty"`
	CooldownSeconds   float64 `json:"cooldown_seconds"`
	Parallelism       int     `json:"parallelism"`
}

// AutoscaleDecision is one decision of the autoscaler.
type AutoscaleDecision struct {
	At        time.Time `json:"at"`
	Component string    `json:"component"`
	From      int       `json:"from"`
	To        int       `json:"to"`
	Direction string    `json:"direction"` // up, down, none (limited)
	Reason    string    `json:"reason"`
	Limited   string    `json:"limited,omitempty"`
}

// Rescale is a pending change of parallelism (a rebalance).
type Rescale struct {
	Parallelism map[string]int `json:"parallelism,omitempty"`
	Workers     int            `json:"workers,omitempty"`
	Reason      string         `json:"reason,omitempty"`
	RequestedAt time.Time      `json:"requested_at"`
}

// Stream is an edge of the DAG: component To subscribes to stream
// Stream of component From.
type Stream struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Stream   string   `json:"stream"`   // "default" unless named
	Grouping string   `json:"grouping"` // shuffle, fields, all, global, direct, local_or_shuffle, batch, ...
	Fields   []string `json:"fields,omitempty"`
}

// Window is a component's or a task's metrics over one time window.
type Window struct {
	// Window is "10m", "3h" or "all".
	Window string `json:"window"`
	// Seconds is the time the window covers so far (less than its length
	// while the topology is younger).
	Seconds     float64 `json:"seconds"`
	Emitted     uint64  `json:"emitted"`
	Transferred uint64  `json:"transferred"`
	Acked       uint64  `json:"acked"`
	Failed      uint64  `json:"failed"`
	Executed    uint64  `json:"executed"`
	Errors      uint64  `json:"errors"`
	// Means over the window.
	ExecuteLatencyMs  float64 `json:"execute_latency_ms"`
	ProcessLatencyMs  float64 `json:"process_latency_ms"`
	CompleteLatencyMs float64 `json:"complete_latency_ms"`
	Capacity          float64 `json:"capacity"`
}

// Component is one spout or bolt of a topology, with its metrics summed
// over its tasks (from every worker).
type Component struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Type        string `json:"type"`
	Parallelism int    `json:"parallelism"`
	Tasks       []Task `json:"tasks"`
	Emitted     uint64 `json:"emitted"`
	Transferred uint64 `json:"transferred"`
	Acked       uint64 `json:"acked"`
	Failed      uint64 `json:"failed"`
	Executed    uint64 `json:"executed"`
	Errors      uint64 `json:"errors"`
	// CompleteP50Ms and CompleteP99Ms: spouts' tree completion latency,
	// the highest over their tasks (percentiles do not add up).
	CompleteP50Ms float64       `json:"complete_p50_ms,omitempty"`
	CompleteP99Ms float64       `json:"complete_p99_ms,omitempty"`
	LastErrors    []ErrorRecord `json:"last_errors,omitempty"`
	// All-time means and the capacity over the last 10 minutes.
	ExecuteLatencyMs  float64 `json:"execute_latency_ms"`
	ProcessLatencyMs  float64 `json:"process_latency_ms"`
	CompleteLatencyMs float64 `json:"complete_latency_ms"`
	Capacity          float64 `json:"capacity"`
	// Rates over the last minute.
	Rates Rates `json:"rates"`
	// Windows: "10m", "3h", "all", in that order.
	Windows []Window `json:"windows"`
	// Partitions: a Kafka spout's partitions, their batches and lag.
	Partitions []Partition `json:"partitions,omitempty"`
	// Sink: a sink bolt's writes, summed over its tasks.
	Sink *Sink `json:"sink,omitempty"`
	// Custom metrics of the tasks, summed.
	Custom map[string]float64 `json:"custom,omitempty"`
}

// Task is one task and where it runs.
type Task struct {
	ID                int           `json:"id"`
	Worker            string        `json:"worker"`
	Emitted           uint64        `json:"emitted"`
	Transferred       uint64        `json:"transferred"`
	Acked             uint64        `json:"acked"`
	Failed            uint64        `json:"failed"`
	Executed          uint64        `json:"executed"`
	Errors            uint64        `json:"errors"`
	Pending           int64         `json:"pending,omitempty"`   // spouts: trees in flight
	QueueLen          int           `json:"queue_len,omitempty"` // bolts: tuples waiting
	ExecuteLatencyMs  float64       `json:"execute_latency_ms"`
	ProcessLatencyMs  float64       `json:"process_latency_ms"`
	CompleteLatencyMs float64       `json:"complete_latency_ms"`
	Capacity          float64       `json:"capacity"` // last 10 minutes
	Rates             Rates         `json:"rates"`
	LastErrors        []ErrorRecord `json:"last_errors,omitempty"`
}

// Partition is one Kafka partition a spout task reads: its batches
// (planned in the ledger, in flight, committed) and its offsets, as the
// task reports them (local.PartitionStatus), with its lag:
// HighWatermark - CommittedOffset, or -1 while the end is unknown.
type Partition struct {
	Task   int    `json:"task"`
	Worker string `json:"worker"`
	local.PartitionStatus
	Lag int64 `json:"lag"`
}

// Sink is a sink bolt's writes.
type Sink struct {
	Backend  string `json:"backend"` // the component type: file_sink, ceph_sink, ...
	Batches  int64  `json:"batches"`
	Records  int64  `json:"records"`
	Bytes    int64  `json:"bytes"`
	Retries  int64  `json:"retries"`
	Rejected int64  `json:"rejected"` // records sent to the dead-letter files
	InFlight int64  `json:"in_flight"`
	// WriteLatencyMs: mean of successful writes; LastWriteMs: the last one.
	WriteLatencyMs float64   `json:"write_latency_ms"`
	LastWriteMs    float64   `json:"last_write_ms"`
	LastError      string    `json:"last_error,omitempty"`
	LastErrorAt    time.Time `json:"last_error_at,omitempty"`
}

// Series are per-component time series for the live charts.
type Series struct {
	Topology    string            `json:"topology"`
	Window      string            `json:"window"`
	StepSeconds float64           `json:"step_seconds"`
	Components  []ComponentSeries `json:"components"`
}

// ComponentSeries is one component's points, oldest first.
type ComponentSeries struct {
	ID     string  `json:"id"`
	Kind   string  `json:"kind"`
	Points []Point `json:"points"`
}

// Point is one step: rates per second and mean latencies over the step.
type Point struct {
	Time              time.Time `json:"time"`
	Emitted           float64   `json:"emitted"`
	Acked             float64   `json:"acked"`
	Failed            float64   `json:"failed"`
	Executed          float64   `json:"executed"`
	ExecuteLatencyMs  float64   `json:"execute_latency_ms"`
	CompleteLatencyMs float64   `json:"complete_latency_ms"`
	// Busy is the component's busy time per second, summed over its tasks
	// (divided by the tasks: its mean capacity); for a spout, the time its
	// loop was not waiting. Throttled is, for a spout, the time per second
	// its tasks waited with max spout pending full.
	Busy      float64 `json:"busy"`
	Throttled float64 `json:"throttled,omitempty"`
}

// ErrorRecord is an error a task reported.
type ErrorRecord struct {
	Time    time.Time `json:"time"`
	Worker  string    `json:"worker,omitempty"`
	Task    int       `json:"task,omitempty"`
	Message string    `json:"message"`
}

// Rebalance is the body of a rebalance call.
type Rebalance struct {
	Parallelism map[string]int `json:"parallelism,omitempty"`
	Workers     int            `json:"workers,omitempty"`
}

// Error is the body of every error answer.
type Error struct {
	Error   string   `json:"error"`
	Details []string `json:"details,omitempty"`
}
