package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Storm UI's REST API, at Storm's paths, for the dashboards and scripts
// written against it (Storm's docs/STORM-UI-REST-API.md):
//
//	GET  /api/v1/cluster/summary
//	GET  /api/v1/supervisor/summary
//	GET  /api/v1/topology/summary
//	GET  /api/v1/topology/{id}[?window=600|10800|:all-time]
//	GET  /api/v1/topology/{id}/component/{component}[?window=...]
//	GET  /api/v1/topology/{id}/lag
//	POST /api/v1/topology/{id}/activate
//	POST /api/v1/topology/{id}/deactivate
//	POST /api/v1/topology/{id}/rebalance/{wait-time}   body {"rebalanceOptions": {"numWorkers": N, "executors": {"c": N}}}
//	POST /api/v1/topology/{id}/kill/{wait-time}
//
// The fields are Storm's names and shapes for what Gale has; what it has
// not (memory and CPU resources, nimbus replication, profiling, log
// viewer links) is left out rather than made up. A topology's id is its
// name. A gale worker is what Storm calls a supervisor with one slot (one
// worker process); an executor is a task. The windows are Gale's: 10
// minutes (window=600), 3 hours (10800) and all time (:all-time); Storm's
// 1-day window is not kept. Latencies are milliseconds in strings with
// three decimals, as Storm writes them. The access rules are the rest of
// the API's: POSTs need the token (Authorization: Bearer).
func (s *Server) serveStorm() {
	s.mux.HandleFunc("GET /api/v1/cluster/summary", s.stormCluster)
	s.mux.HandleFunc("GET /api/v1/supervisor/summary", s.stormSupervisors)
	s.mux.HandleFunc("GET /api/v1/topology/summary", s.stormTopologies)
	s.mux.HandleFunc("GET /api/v1/topology/{id}", s.stormTopology)
	s.mux.HandleFunc("GET /api/v1/topology/{id}/component/{component}", s.stormComponent)
	s.mux.HandleFunc("GET /api/v1/topology/{id}/lag", s.stormLag)
	s.mux.HandleFunc("POST /api/v1/topology/{id}/activate", s.stormActive(true))
	s.mux.HandleFunc("POST /api/v1/topology/{id}/deactivate", s.stormActive(false))
	s.mux.HandleFunc("POST /api/v1/topology/{id}/rebalance/{wait}", s.stormRebalance)
	s.mux.HandleFunc("POST /api/v1/topology/{id}/kill/{wait}", s.stormKill)
}

// StormClusterSummary is GET /api/v1/cluster/summary.
type StormClusterSummary struct {
	StormVersion             string `json:"stormVersion"`
	Supervisors              int    `json:"supervisors"`
	Topologies               int    `json:"topologies"`
	SlotsTotal               int    `json:"slotsTotal"`
	SlotsUsed                int    `json:"slotsUsed"`
	SlotsFree                int    `json:"slotsFree"`
	ExecutorsTotal           int    `json:"executorsTotal"`
	TasksTotal               int    `json:"tasksTotal"`
	SchedulerDisplayResource bool   `json:"schedulerDisplayResource"`
}

// StormSupervisor is one worker in GET /api/v1/supervisor/summary.
type StormSupervisor struct {
	ID            string  `json:"id"`
	Host          string  `json:"host"`
	Uptime        string  `json:"uptime"`
	UptimeSeconds int64   `json:"uptimeSeconds"`
	SlotsTotal    int     `json:"slotsTotal"`
	SlotsUsed     int     `json:"slotsUsed"`
	UsedMem       float64 `json:"usedMem"` // MB: the process's resident memory
	UsedCPU       float64 `json:"usedCpu"` // %: the process's CPU
	Version       string  `json:"version"`
}

// StormTopologySummary is one topology in GET /api/v1/topology/summary.
type StormTopologySummary struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Status         string `json:"status"` // ACTIVE, INACTIVE, KILLED
	Uptime         string `json:"uptime"`
	UptimeSeconds  int64  `json:"uptimeSeconds"`
	TasksTotal     int    `json:"tasksTotal"`
	WorkersTotal   int    `json:"workersTotal"`
	ExecutorsTotal int    `json:"executorsTotal"`
}

// StormWindowStats is one window of topologyStats, spoutSummary or
// boltStats.
type StormWindowStats struct {
	WindowPretty    string `json:"windowPretty"`
	Window          string `json:"window"`
	Emitted         uint64 `json:"emitted"`
	Transferred     uint64 `json:"transferred"`
	CompleteLatency string `json:"completeLatency,omitempty"`
	ProcessLatency  string `json:"processLatency,omitempty"`
	ExecuteLatency  string `json:"executeLatency,omitempty"`
	Executed        uint64 `json:"executed,omitempty"`
	Acked           uint64 `json:"acked"`
	Failed          uint64 `json:"failed"`
}

// StormSpout is a spout in GET /api/v1/topology/{id}.
type StormSpout struct {
	SpoutID         string `json:"spoutId"`
	Executors       int    `json:"executors"`
	Tasks           int    `json:"tasks"`
	Emitted         uint64 `json:"emitted"`
	Transferred     uint64 `json:"transferred"`
	CompleteLatency string `json:"completeLatency"`
	Acked           uint64 `json:"acked"`
	Failed          uint64 `json:"failed"`
	stormLastError
}

// StormBolt is a bolt in GET /api/v1/topology/{id}.
type StormBolt struct {
	BoltID         string `json:"boltId"`
	Executors      int    `json:"executors"`
	Tasks          int    `json:"tasks"`
	Emitted        uint64 `json:"emitted"`
	Transferred    uint64 `json:"transferred"`
	Executed       uint64 `json:"executed"`
	Acked          uint64 `json:"acked"`
	Failed         uint64 `json:"failed"`
	Capacity       string `json:"capacity"`
	ExecuteLatency string `json:"executeLatency"`
	ProcessLatency string `json:"processLatency"`
	stormLastError
}

// stormLastError are Storm's fields of a component's last error (null
// when none, as Storm sends them).
type stormLastError struct {
	LastError       string `json:"lastError"`
	ErrorHost       string `json:"errorHost"`
	ErrorPort       *int   `json:"errorPort"`
	ErrorTime       *int64 `json:"errorTime"`
	ErrorLapsedSecs *int64 `json:"errorLapsedSecs"`
}

// StormWorker is one worker running a topology's tasks.
type StormWorker struct {
	TopologyID        string         `json:"topologyId"`
	TopologyName      string         `json:"topologyName"`
	SupervisorID      string         `json:"supervisorId"`
	Host              string         `json:"host"`
	Port              int            `json:"port"`
	ExecutorsTotal    int            `json:"executorsTotal"`
	ComponentNumTasks map[string]int `json:"componentNumTasks"`
}

// StormTopology is GET /api/v1/topology/{id}.
type StormTopology struct {
	StormTopologySummary
	MsgTimeout    int                `json:"msgTimeout"`
	Window        string             `json:"window"`
	WindowHint    string             `json:"windowHint"`
	TopologyStats []StormWindowStats `json:"topologyStats"`
	Spouts        []StormSpout       `json:"spouts"`
	Bolts         []StormBolt        `json:"bolts"`
	Workers       []StormWorker      `json:"workers"`
}

// StormComponentError is one of componentErrors.
type StormComponentError struct {
	Error           string `json:"error"`
	ErrorHost       string `json:"errorHost"`
	ErrorTime       int64  `json:"errorTime"` // milliseconds since the epoch, as Storm
	ErrorLapsedSecs int64  `json:"errorLapsedSecs"`
}

// StormStreamStats is one of a component's outputStats or inputStats.
type StormStreamStats struct {
	Stream      string `json:"stream"`
	Component   string `json:"component,omitempty"` // inputStats: the source
	Emitted     uint64 `json:"emitted,omitempty"`
	Transferred uint64 `json:"transferred,omitempty"`
	Executed    uint64 `json:"executed,omitempty"`
	Acked       uint64 `json:"acked,omitempty"`
	Failed      uint64 `json:"failed,omitempty"`
}

// StormComponent is GET /api/v1/topology/{id}/component/{component}.
type StormComponent struct {
	ID               string                `json:"id"`
	EncodedID        string                `json:"encodedId"`
	Name             string                `json:"name"`
	TopologyID       string                `json:"topologyId"`
	EncodedTopoID    string                `json:"encodedTopologyId"`
	TopologyStatus   string                `json:"topologyStatus"`
	ComponentType    string                `json:"componentType"` // spout or bolt
	Executors        int                   `json:"executors"`
	Tasks            int                   `json:"tasks"`
	Window           string                `json:"window"`
	WindowHint       string                `json:"windowHint"`
	ComponentErrors  []StormComponentError `json:"componentErrors"`
	SpoutSummary     []StormWindowStats    `json:"spoutSummary,omitempty"`
	BoltStats        []StormWindowStats    `json:"boltStats,omitempty"`
	InputStats       []StormStreamStats    `json:"inputStats,omitempty"`
	OutputStats      []StormStreamStats    `json:"outputStats"`
	ExecutorStats    []StormExecutor       `json:"executorStats"`
	DebugEnabled     bool                  `json:"debug"`
	ProfilingCapable bool                  `json:"profilingAndDebuggingCapable"`
}

// StormExecutor is one task of a component.
type StormExecutor struct {
	ID          string `json:"id"` // "[task-task]", as Storm's executor ids
	EncodedID   string `json:"encodedId"`
	Host        string `json:"host"`
	SupervisorI string `json:"supervisorId"`
	Emitted     uint64 `json:"emitted"`
	Transferred uint64 `json:"transferred"`
	Acked       uint64 `json:"acked"`
	Failed      uint64 `json:"failed"`
	Executed    uint64 `json:"executed,omitempty"`
	Capacity    string `json:"capacity,omitempty"`
}

// StormPartitionLag is one partition of GET /api/v1/topology/{id}/lag
// (storm-kafka-monitor's shape).
type StormPartitionLag struct {
	ConsumerCommittedOffset int64 `json:"consumerCommittedOffset"`
	LogHeadOffset           int64 `json:"logHeadOffset"`
	Lag                     int64 `json:"lag"`
}

// StormSpoutLag is one spout of GET /api/v1/topology/{id}/lag.
type StormSpoutLag struct {
	SpoutID   string `json:"spoutId"`
	SpoutType string `json:"spoutType"` // KAFKA
	// SpoutLagResult: topic -> partition -> lag.
	SpoutLagResult map[string]map[string]StormPartitionLag `json:"spoutLagResult"`
}

// StormOperation is the answer of the POST actions.
type StormOperation struct {
	TopologyOperation string `json:"topologyOperation"`
	TopologyID        string `json:"topologyId"`
	Status            string `json:"status"`
}

func (s *Server) stormCluster(w http.ResponseWriter, r *http.Request) {
	ms, err := s.b.Members(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	ts, err := s.b.Topologies(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := StormClusterSummary{StormVersion: s.b.Info(r.Context()).Version, Topologies: len(ts)}
	for _, m := range ms {
		if !liveState(m.State) {
			continue
		}
		out.Supervisors++
		out.SlotsTotal++
		if m.Tasks > 0 {
			out.SlotsUsed++
		}
	}
	out.SlotsFree = out.SlotsTotal - out.SlotsUsed
	for _, t := range ts {
		out.TasksTotal += t.Tasks
	}
	out.ExecutorsTotal = out.TasksTotal
	writeJSON(w, http.StatusOK, out)
}

func liveState(s string) bool { return s == "alive" || s == "leaving" || s == "suspect" }

func (s *Server) stormSupervisors(w http.ResponseWriter, r *http.Request) {
	ms, err := s.b.Members(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := struct {
		Supervisors              []StormSupervisor `json:"supervisors"`
		SchedulerDisplayResource bool              `json:"schedulerDisplayResource"`
	}{Supervisors: []StormSupervisor{}}
	for _, m := range ms {
		if !liveState(m.State) {
			continue
		}
		up := time.Duration(0)
		if !m.Started.IsZero() {
			up = time.Since(m.Started)
		}
		used := 0
		if m.Tasks > 0 {
			used = 1
		}
		out.Supervisors = append(out.Supervisors, StormSupervisor{ID: m.Name, Host: hostOf(m.Addr),
			Uptime: stormDuration(up), UptimeSeconds: int64(up.Seconds()), SlotsTotal: 1, SlotsUsed: used,
			UsedMem: float64(m.RSSBytes) / (1 << 20), UsedCPU: m.CPUPercent, Version: m.Version})
	}
	writeJSON(w, http.StatusOK, out)
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

func portOf(addr string) int {
	if _, p, err := net.SplitHostPort(addr); err == nil {
		n, _ := strconv.Atoi(p)
		return n
	}
	return 0
}

func stormSummary(t TopologySummary) StormTopologySummary {
	return StormTopologySummary{ID: t.Name, Name: t.Name, Status: strings.ToUpper(t.Status),
		Uptime: stormDuration(time.Duration(t.UptimeSeconds * float64(time.Second))), UptimeSeconds: int64(t.UptimeSeconds),
		TasksTotal: t.Tasks, WorkersTotal: t.Workers, ExecutorsTotal: t.Tasks}
}

func (s *Server) stormTopologies(w http.ResponseWriter, r *http.Request) {
	ts, err := s.b.Topologies(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := struct {
		Topologies               []StormTopologySummary `json:"topologies"`
		SchedulerDisplayResource bool                   `json:"schedulerDisplayResource"`
	}{Topologies: []StormTopologySummary{}}
	for _, t := range ts {
		out.Topologies = append(out.Topologies, stormSummary(t))
	}
	writeJSON(w, http.StatusOK, out)
}

// stormWindows maps Storm's window parameter (seconds, or :all-time) to
// Gale's windows.
var stormWindows = []struct{ storm, gale, pretty string }{
	{"600", "10m", "10m 0s"}, {"10800", "3h", "3h 0m 0s"}, {":all-time", "all", "All time"},
}

// stormWindow returns Gale's window for the request's window parameter
// (default all time, as Storm), or an error naming the ones there are.
func stormWindow(r *http.Request) (storm, gale, pretty string, err error) {
	v := r.URL.Query().Get("window")
	if v == "" {
		v = ":all-time"
	}
	for _, sw := range stormWindows {
		if sw.storm == v {
			return sw.storm, sw.gale, sw.pretty, nil
		}
	}
	return "", "", "", fmt.Errorf("%w: window=%q: Gale keeps 600 (10 minutes), 10800 (3 hours) and :all-time", ErrBadRequest, v)
}

func windowOf(ws []Window, gale string) Window {
	for _, w := range ws {
		if w.Window == gale {
			return w
		}
	}
	return Window{}
}

func stormMs(ms float64) string { return strconv.FormatFloat(ms, 'f', 3, 64) }

func stormWindowStats(ws []Window, kind string) []StormWindowStats {
	out := []StormWindowStats{}
	for _, sw := range stormWindows {
		wi := windowOf(ws, sw.gale)
		st := StormWindowStats{WindowPretty: sw.pretty, Window: sw.storm, Emitted: wi.Emitted, Transferred: wi.Transferred,
			Acked: wi.Acked, Failed: wi.Failed}
		switch kind {
		case "spout", "topology":
			st.CompleteLatency = stormMs(wi.CompleteLatencyMs)
		case "bolt":
			st.ProcessLatency, st.ExecuteLatency, st.Executed = stormMs(wi.ProcessLatencyMs), stormMs(wi.ExecuteLatencyMs), wi.Executed
		}
		out = append(out, st)
	}
	return out
}

// topologyWindows sums a topology's windows as Storm's topologyStats
// does: emitted and transferred by every component, acked, failed and
// the complete latency (weighted by acked trees) by the spouts.
func topologyWindows(t *Topology) []Window {
	var out []Window
	for _, sw := range stormWindows {
		sum := Window{Window: sw.gale}
		var latSum float64
		for _, c := range t.Components {
			wi := windowOf(c.Windows, sw.gale)
			sum.Emitted += wi.Emitted
			sum.Transferred += wi.Transferred
			if c.Kind == "spout" {
				sum.Acked += wi.Acked
				sum.Failed += wi.Failed
				latSum += wi.CompleteLatencyMs * float64(wi.Acked)
			}
		}
		if sum.Acked > 0 {
			sum.CompleteLatencyMs = latSum / float64(sum.Acked)
		}
		out = append(out, sum)
	}
	return out
}

func lastError(errs []ErrorRecord) stormLastError {
	if len(errs) == 0 {
		return stormLastError{}
	}
	e := errs[len(errs)-1]
	at, lapsed := e.Time.Unix(), int64(time.Since(e.Time).Seconds())
	return stormLastError{LastError: e.Message, ErrorHost: e.Worker, ErrorTime: &at, ErrorLapsedSecs: &lapsed}
}

func (s *Server) stormTopology(w http.ResponseWriter, r *http.Request) {
	win, gwin, pretty, err := stormWindow(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	t, err := s.b.Describe(r.Context(), r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return
	}
	out := StormTopology{StormTopologySummary: stormSummary(t.TopologySummary), MsgTimeout: int(t.MessageTimeoutSeconds),
		Window: win, WindowHint: pretty, TopologyStats: stormWindowStats(topologyWindows(t), "topology"),
		Spouts: []StormSpout{}, Bolts: []StormBolt{}, Workers: []StormWorker{}}
	workers := map[string]*StormWorker{}
	for _, c := range t.Components {
		wi := windowOf(c.Windows, gwin)
		if c.Kind == "spout" {
			out.Spouts = append(out.Spouts, StormSpout{SpoutID: c.ID, Executors: len(c.Tasks), Tasks: len(c.Tasks),
				Emitted: wi.Emitted, Transferred: wi.Transferred, CompleteLatency: stormMs(wi.CompleteLatencyMs),
				Acked: wi.Acked, Failed: wi.Failed, stormLastError: lastError(c.LastErrors)})
		} else {
			out.Bolts = append(out.Bolts, StormBolt{BoltID: c.ID, Executors: len(c.Tasks), Tasks: len(c.Tasks),
				Emitted: wi.Emitted, Transferred: wi.Transferred, Executed: wi.Executed, Acked: wi.Acked, Failed: wi.Failed,
				Capacity: stormMs(c.Capacity), ExecuteLatency: stormMs(wi.ExecuteLatencyMs), ProcessLatency: stormMs(wi.ProcessLatencyMs),
				stormLastError: lastError(c.LastErrors)})
		}
		for _, tk := range c.Tasks {
			if tk.Worker == "" {
				continue
			}
			sw := workers[tk.Worker]
			if sw == nil {
				sw = &StormWorker{TopologyID: t.Name, TopologyName: t.Name, SupervisorID: tk.Worker, Host: tk.Worker,
					ComponentNumTasks: map[string]int{}}
				workers[tk.Worker] = sw
			}
			sw.ExecutorsTotal++
			sw.ComponentNumTasks[c.ID]++
		}
	}
	if ms, err := s.b.Members(r.Context()); err == nil {
		for _, m := range ms {
			if sw := workers[m.Name]; sw != nil {
				sw.Host, sw.Port = hostOf(m.Transport), portOf(m.Transport)
			}
		}
	}
	for _, c := range t.Components {
		for _, tk := range c.Tasks {
			if sw := workers[tk.Worker]; sw != nil {
				out.Workers = append(out.Workers, *sw)
				delete(workers, tk.Worker)
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) stormComponent(w http.ResponseWriter, r *http.Request) {
	win, gwin, pretty, err := stormWindow(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	t, err := s.b.Describe(r.Context(), r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return
	}
	id := r.PathValue("component")
	var c *Component
	for i := range t.Components {
		if t.Components[i].ID == id {
			c = &t.Components[i]
		}
	}
	if c == nil {
		writeErr(w, fmt.Errorf("%w: topology %s has no component %q", ErrNotFound, t.Name, id))
		return
	}
	out := StormComponent{ID: c.ID, EncodedID: urlEscape(c.ID), Name: t.Name, TopologyID: t.Name, EncodedTopoID: urlEscape(t.Name),
		TopologyStatus: strings.ToUpper(t.Status), ComponentType: c.Kind, Executors: len(c.Tasks), Tasks: len(c.Tasks),
		Window: win, WindowHint: pretty, ComponentErrors: []StormComponentError{}, OutputStats: []StormStreamStats{},
		ExecutorStats: []StormExecutor{}}
	for _, e := range c.LastErrors {
		out.ComponentErrors = append(out.ComponentErrors, StormComponentError{Error: e.Message, ErrorHost: e.Worker,
			ErrorTime: e.Time.UnixMilli(), ErrorLapsedSecs: int64(time.Since(e.Time).Seconds())})
	}
	wi := windowOf(c.Windows, gwin)
	if c.Kind == "spout" {
		out.SpoutSummary = stormWindowStats(c.Windows, "spout")
	} else {
		out.BoltStats = stormWindowStats(c.Windows, "bolt")
		// Gale counts a bolt's inputs together: one line per input stream
		// with the bolt's totals would double them, so one line per source
		// only when there is one
		var ins []Stream
		for _, st := range t.Streams {
			if st.To == c.ID {
				ins = append(ins, st)
			}
		}
		if len(ins) == 1 {
			out.InputStats = []StormStreamStats{{Stream: ins[0].Stream, Component: ins[0].From, Executed: wi.Executed,
				Acked: wi.Acked, Failed: wi.Failed}}
		}
	}
	out.OutputStats = append(out.OutputStats, StormStreamStats{Stream: "default", Emitted: wi.Emitted, Transferred: wi.Transferred})
	for _, tk := range c.Tasks {
		eid := fmt.Sprintf("[%d-%d]", tk.ID, tk.ID)
		out.ExecutorStats = append(out.ExecutorStats, StormExecutor{ID: eid, EncodedID: urlEscape(eid), Host: tk.Worker,
			SupervisorI: tk.Worker, Emitted: tk.Emitted, Transferred: tk.Transferred, Acked: tk.Acked, Failed: tk.Failed,
			Executed: tk.Executed, Capacity: stormMs(tk.Capacity)})
	}
	writeJSON(w, http.StatusOK, out)
}

func urlEscape(s string) string { return url.PathEscape(s) }

func (s *Server) stormLag(w http.ResponseWriter, r *http.Request) {
	t, err := s.b.Describe(r.Context(), r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return
	}
	out := map[string]StormSpoutLag{}
	for _, c := range t.Components {
		if c.Kind != "spout" || len(c.Partitions) == 0 {
			continue
		}
		sl := StormSpoutLag{SpoutID: c.ID, SpoutType: "KAFKA", SpoutLagResult: map[string]map[string]StormPartitionLag{}}
		for _, p := range c.Partitions {
			tp := sl.SpoutLagResult[p.Topic]
			if tp == nil {
				tp = map[string]StormPartitionLag{}
				sl.SpoutLagResult[p.Topic] = tp
			}
			tp[strconv.Itoa(int(p.Partition))] = StormPartitionLag{ConsumerCommittedOffset: p.CommittedOffset,
				LogHeadOffset: p.HighWatermark, Lag: p.Lag}
		}
		out[c.ID] = sl
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) stormActive(on bool) http.HandlerFunc {
	op := map[bool]string{true: "activate", false: "deactivate"}[on]
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := s.b.SetActive(r.Context(), id, on); err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, StormOperation{TopologyOperation: op, TopologyID: id, Status: "success"})
	}
}

// stormWait parses a {wait-time} path element: seconds.
func stormWait(r *http.Request) (time.Duration, error) {
	v := r.PathValue("wait")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 24*3600 {
		return 0, fmt.Errorf("%w: wait-time %q: want seconds (0 to 86400)", ErrBadRequest, v)
	}
	return time.Duration(n) * time.Second, nil
}

func (s *Server) stormKill(w http.ResponseWriter, r *http.Request) {
	wait, err := stormWait(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	id := r.PathValue("id")
	if err := s.b.Kill(r.Context(), id, wait); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, StormOperation{TopologyOperation: "kill", TopologyID: id, Status: "success"})
}

// stormRebalanceBody is Storm's rebalance body. Executor counts may be
// numbers or strings (Storm's own example sends both).
type stormRebalanceBody struct {
	RebalanceOptions struct {
		NumWorkers int                        `json:"numWorkers"`
		Executors  map[string]json.RawMessage `json:"executors"`
	} `json:"rebalanceOptions"`
	Callback string `json:"callback"`
}

func (s *Server) stormRebalance(w http.ResponseWriter, r *http.Request) {
	if _, err := stormWait(r); err != nil {
		writeErr(w, err)
		return
	}
	var body stormRebalanceBody
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, fmt.Errorf("%w: rebalance body: %w", ErrBadRequest, err))
		return
	}
	if len(strings.TrimSpace(string(data))) > 0 {
		if err := json.Unmarshal(data, &body); err != nil {
			writeErr(w, fmt.Errorf("%w: rebalance body: %w", ErrBadRequest, err))
			return
		}
	}
	rb := Rebalance{Workers: body.RebalanceOptions.NumWorkers}
	if rb.Workers < 0 {
		writeErr(w, fmt.Errorf("%w: rebalanceOptions.numWorkers must not be negative", ErrBadRequest))
		return
	}
	for c, raw := range body.RebalanceOptions.Executors {
		var n int
		if err := json.Unmarshal(raw, &n); err != nil {
			var str string
			if json.Unmarshal(raw, &str) != nil {
				writeErr(w, fmt.Errorf("%w: rebalanceOptions.executors.%s: want a number", ErrBadRequest, c))
				return
			}
			if n, err = strconv.Atoi(str); err != nil {
				writeErr(w, fmt.Errorf("%w: rebalanceOptions.executors.%s: %q is not a number", ErrBadRequest, c, str))
				return
			}
		}
		if n < 1 {
			writeErr(w, fmt.Errorf("%w: rebalanceOptions.executors.%s must be at least 1, got %d", ErrBadRequest, c, n))
			return
		}
		if rb.Parallelism == nil {
			rb.Parallelism = map[string]int{}
		}
		rb.Parallelism[c] = n
	}
	id := r.PathValue("id")
	if err := s.b.Rebalance(r.Context(), id, rb); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, StormOperation{TopologyOperation: "rebalance", TopologyID: id, Status: "success"})
}

// stormDuration formats d as Storm's UI does: "6m 5s", "3h 0m 0s",
// "1d 0h 0m 0s".
func stormDuration(d time.Duration) string {
	s := int64(d.Seconds())
	days, s := s/86400, s%86400
	h, s := s/3600, s%3600
	m, s := s/60, s%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm %ds", days, h, m, s)
	case h > 0:
		return fmt.Sprintf("%dh %dm %ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
