package schedule

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
)

// TaskKey identifies a task independently of the numbering of task ids:
// it survives a change of another component's parallelism (which shifts
// ids), so previous placements are matched by key.
type TaskKey struct {
	Topology  string `json:"topology"`
	Component string `json:"component"`
	// Index is the task's index within its component, 0..Parallelism-1
	// (the engine's TaskContext.TaskIndex).
	Index int `json:"index"`
}

// Task is one task and where it runs.
type Task struct {
	TaskKey
	// ID numbers the topology's tasks 1..N component by component,
	// components in id order (byte-wise, as the engine sorts them), tasks
	// in index order; acker tasks follow as N+1..N+A (the acker is
	// numbered last whatever its id sorts as). It is the engine's task id
	// for a topology without autoscale policies; the engine numbers those
	// holding ids up to their max (topology.TaskSlots), and the cluster
	// maps tasks by their keys, not by this id.
	ID int `json:"id"`
	// Kind is the kind of the task's component.
	Kind Kind `json:"kind"`
	// Worker is the worker that runs the task, or "" when no worker could
	// take it (not enough slots).
	Worker string `json:"worker,omitempty"`
}

// Assignment maps every task of every topology to a worker. Tasks are
// sorted by topology name then task id. An Assignment is a value: Compute
// returns a new one, and nothing modifies it afterwards, so it may be read
// from any number of goroutines. It marshals to JSON as is.
type Assignment struct {
	// Workers are the live workers the assignment was computed for,
	// sorted by name (some may have no task).
	Workers []string `json:"workers"`
	// Tasks lists every task, assigned or not.
	Tasks []Task `json:"tasks"`
	// Restricted lists, for each topology whose "topology.workers" limit
	// binds, the workers it may use (it may leave some unused when slots
	// are short), sorted by topology. The next Compute keeps these sets.
	Restricted []WorkerSet `json:"restricted,omitempty"`
}

// WorkerSet is the set of workers a topology is confined to.
type WorkerSet struct {
	Topology string   `json:"topology"`
	Workers  []string `json:"workers"`
}

// topologyRange returns the tasks of topology name (Tasks is sorted).
func (a *Assignment) topologyRange(name string) []Task {
	if a == nil {
		return nil
	}
	lo, _ := slices.BinarySearchFunc(a.Tasks, name, func(t Task, n string) int { return cmp.Compare(t.Topology, n) })
	hi := lo
	for hi < len(a.Tasks) && a.Tasks[hi].Topology == name {
		hi++
	}
	return a.Tasks[lo:hi:hi]
}

// Lookup returns the task with the given key.
func (a *Assignment) Lookup(k TaskKey) (Task, bool) {
	for _, t := range a.topologyRange(k.Topology) {
		if t.Component == k.Component && t.Index == k.Index {
			return t, true
		}
	}
	return Task{}, false
}

// ByID returns the task of topology with the given engine task id.
func (a *Assignment) ByID(topology string, id int) (Task, bool) {
	ts := a.topologyRange(topology)
	i, ok := slices.BinarySearchFunc(ts, id, func(t Task, id int) int { return cmp.Compare(t.ID, id) })
	if !ok {
		return Task{}, false
	}
	return ts[i], true
}

// TopologyTasks returns the tasks of a topology in id order.
func (a *Assignment) TopologyTasks(topology string) []Task {
	return slices.Clone(a.topologyRange(topology))
}

// WorkerTasks returns the tasks a worker runs, sorted by topology then id.
func (a *Assignment) WorkerTasks(worker string) []Task {
	var out []Task
	if a == nil || worker == "" {
		return nil
	}
	for _, t := range a.Tasks {
		if t.Worker == worker {
			out = append(out, t)
		}
	}
	return out
}

// TopologyWorkers returns the workers that run at least one task of the
// topology, sorted.
func (a *Assignment) TopologyWorkers(topology string) []string {
	var out []string
	for _, t := range a.topologyRange(topology) {
		if t.Worker != "" {
			out = append(out, t.Worker)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Topologies returns the names of the topologies, sorted.
func (a *Assignment) Topologies() []string {
	var out []string
	if a == nil {
		return nil
	}
	for i, t := range a.Tasks {
		if i == 0 || a.Tasks[i-1].Topology != t.Topology {
			out = append(out, t.Topology)
		}
	}
	return out
}

// Unassigned returns the tasks no worker could take.
func (a *Assignment) Unassigned() []Task {
	var out []Task
	if a == nil {
		return nil
	}
	for _, t := range a.Tasks {
		if t.Worker == "" {
			out = append(out, t)
		}
	}
	return out
}

// Load returns the number of tasks of each live worker (zero included).
func (a *Assignment) Load() map[string]int {
	out := map[string]int{}
	if a == nil {
		return out
	}
	for _, w := range a.Workers {
		out[w] = 0
	}
	for _, t := range a.Tasks {
		if t.Worker != "" {
			out[t.Worker]++
		}
	}
	return out
}

// Digest returns a short hex digest of the assignment (its workers, every
// task's key, id and worker, and the restricted sets). Workers that computed the same
// assignment get the same digest, which they can gossip to check that
// they agree.
func (a *Assignment) Digest() string {
	h := sha256.New()
	var buf [8]byte
	str := func(s string) {
		binary.BigEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	num := func(n int) {
		binary.BigEndian.PutUint64(buf[:], uint64(n))
		h.Write(buf[:])
	}
	if a != nil {
		num(len(a.Workers))
		for _, w := range a.Workers {
			str(w)
		}
		num(len(a.Tasks))
		for _, t := range a.Tasks {
			str(t.Topology)
			str(t.Component)
			num(t.Index)
			num(t.ID)
			str(t.Worker)
		}
		num(len(a.Restricted))
		for _, rs := range a.Restricted {
			str(rs.Topology)
			num(len(rs.Workers))
			for _, w := range rs.Workers {
				str(w)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Move is a task whose worker differs between two assignments. From is
// "" for a task that was not assigned before (new, or unassigned); To is
// "" for a task that is no longer assigned (removed, or unassigned).
type Move struct {
	TaskKey
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Diff lists the tasks whose worker differs from old to new, sorted by
// key. Either assignment may be nil (no task).
func Diff(old, new *Assignment) []Move {
	before := map[TaskKey]string{}
	if old != nil {
		for _, t := range old.Tasks {
			before[t.TaskKey] = t.Worker
		}
	}
	var out []Move
	seen := map[TaskKey]bool{}
	if new != nil {
		for _, t := range new.Tasks {
			seen[t.TaskKey] = true
			if from := before[t.TaskKey]; from != t.Worker {
				out = append(out, Move{TaskKey: t.TaskKey, From: from, To: t.Worker})
			}
		}
	}
	for k, from := range before {
		if !seen[k] && from != "" {
			out = append(out, Move{TaskKey: k, From: from})
		}
	}
	slices.SortFunc(out, func(x, y Move) int { return compareKeys(x.TaskKey, y.TaskKey) })
	return out
}

func compareKeys(x, y TaskKey) int {
	if c := cmp.Compare(x.Topology, y.Topology); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Component, y.Component); c != 0 {
		return c
	}
	return cmp.Compare(x.Index, y.Index)
}
