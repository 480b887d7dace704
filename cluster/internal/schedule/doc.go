// Package schedule computes which worker runs each task of a Gale cluster.
// There is no master: every worker calls Compute with the same input (the
// live members, the submitted topologies and the assignment in force) and
// gets the same Assignment; a Debouncer holds back membership changes
// until the member set has been stable for a quiet period, so that a
// flapping worker does not make the cluster reschedule on every flap.
//
// Compute is a pure, deterministic function: no clock, no randomness, no
// dependence on map iteration order, no floating point; the input slices
// are sorted by name first, so their order does not matter. Only the
// input decides the output, and every version must compute the same
// (the hash below is fixed for that reason).
//
//	a, err := schedule.Compute(schedule.DefaultConfig(), schedule.Input{
//		Workers:    []schedule.Worker{{Name: "w1"}, {Name: "w2"}, {Name: "w3"}},
//		Topologies: []schedule.Topology{schedule.FromTopology(topo)},
//		Previous:   current, // nil the first time
//	})
//	mine := a.WorkerTasks("w2")
//	moves := schedule.Diff(current, a)
//
// # Tasks
//
// A task is identified by its TaskKey (topology, component, index within
// the component), which survives parallelism changes of other
// components; previous placements are matched by key. Each Task also
// carries the engine's task id: tasks are numbered 1..N component by
// component, components sorted by id byte-wise (the engine's numbering),
// then the acker's tasks (component AckerID) as N+1..N+A. Acker tasks are
// scheduled like any other task.
//
// # Rules
//
// Compute states its goals as a minimum-cost maximum flow whose cost is a
// vector compared lexicographically, so each goal is met as well as
// possible without giving up anything on an earlier one:
//
//  1. Slots: a worker never runs more tasks than its slot limit. If the
//     slots are short, as many tasks as possible are placed and the rest
//     are reported unassigned (Worker ""), deterministically: tasks
//     running on live workers stay placed first (a new topology does not
//     evict a running one), then topologies are served in name order;
//     within a topology the shortage is shared evenly by its components.
//  2. "topology.workers": a topology's tasks use at most that many
//     workers. Such a topology is confined to a set of workers, which the
//     Assignment records (Restricted) and the next computation keeps: the
//     live workers it ran on first, then workers with free slots, least
//     loaded first, then by rendezvous score.
//  3. Balance per topology: a topology's task counts on its workers
//     differ by at most 1 (when the slots allow; otherwise the sum of
//     squares of the counts is minimal).
//  4. Balance overall: the workers' total task counts differ by at most 1
//     when the slots and the topologies' worker limits allow (otherwise,
//     again, the sum of squares is minimal).
//  5. Minimal moves: among the assignments that satisfy 1-4 as well as
//     possible, the one that keeps the most tasks on the worker they ran
//     on in Previous. When a worker leaves, its tasks move; when one
//     joins, it takes its fair share (about 1/(n+1) of the tasks) from the
//     others; recomputing with an unchanged input moves nothing.
//  6. Component spread: within the per-worker counts of 3-5, each
//     component's tasks are spread over the topology's workers as evenly
//     as possible (within 1 on a first assignment when slots do not bind),
//     so a worker runs a slice of every component rather than whole
//     components. Keeping tasks in place comes first: a membership change
//     does not move tasks just to even out components, but the tasks that
//     do move go where they even them out.
//  7. Elastic tasks move first: when a worker must give up a task and an
//     elastic one (Component.Elastic, which moves without a pause) can go
//     instead of another with the same counts on every worker, it does.
//
// Rules 3-4 rank before rule 5, and they can require a move between two
// workers that both stay. Say 12 workers remain after a leave with 119
// tasks: 11 run 10 and one runs 9. A topology of 48 tasks must now run 4
// on each; a worker that ran 3 of it and 7 of other topologies must take
// a fourth, and then give one of its other tasks away to stay at 10. In
// random tests such extra moves are about 0.1% of the tasks moved on a
// join or a leave without worker limits, about 1% with them (see
// TestCompute_PropertyMinimalMoves); everything else moves only to the
// newcomer, or only from the leaver.
//
// Ties are broken by rendezvous (highest-random-weight) hashing: a
// topology tries workers in the order of a fixed 64-bit hash of (topology,
// worker), a component in the order of (topology, component, worker), and
// a task goes to the free worker with the highest hash of (task, worker).
// Rendezvous hashing alone gives minimal moves only on average and
// balance only roughly; the flow, anchored on the previous assignment,
// gives both exactly.
//
// # Cost
//
// Compute solves one flow over topologies and workers, then one per
// topology over its components and workers. For 100 workers and 50
// topologies of 20 components x 8 tasks (8000 tasks) it takes some 40 to
// 80 ms of one core and about 10 MB; see BenchmarkCompute. Workers call it
// on membership or topology changes only. Inputs whose flow problems
// exceed MaxCells are refused (ErrTooLarge).
package schedule
