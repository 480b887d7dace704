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
//
// Errors are {"error": "...", "details": ["..."]} with an HTTP status that
// says what happened: 400 invalid topology (details: every error with its
// JSON path), 401 missing or wrong token, 404 no such topology, 409 the
// name exists, 422 a component type some worker lacks, 503 the state store
// is unreachable.
package api

import "time"

// Member is one worker.
type Member struct {
	Name      string    `json:"name"`
	Addr      string    `json:"addr"`
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
}

// Topology is the description of one topology.
type Topology struct {
	TopologySummary
	Components []Component `json:"components"`
	// Unassigned are tasks no worker could take (not enough slots).
	Unassigned []int `json:"unassigned,omitempty"`
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
}

// Task is one task and where it runs.
type Task struct {
	ID      int    `json:"id"`
	Worker  string `json:"worker"`
	Emitted uint64 `json:"emitted"`
	Acked   uint64 `json:"acked"`
	Failed  uint64 `json:"failed"`
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
