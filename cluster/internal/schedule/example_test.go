package schedule_test

import (
	"fmt"
	"time"

	"github.com/gale-stream/gale/cluster/internal/schedule"
)

func ExampleCompute() {
	cfg := schedule.DefaultConfig()
	wordcount := schedule.Topology{
		Name: "wordcount",
		Components: []schedule.Component{
			{ID: "sentences", Kind: schedule.KindSpout, Parallelism: 2},
			{ID: "split", Kind: schedule.KindBolt, Parallelism: 4},
			{ID: "count", Kind: schedule.KindBolt, Parallelism: 4},
			{ID: schedule.AckerID, Kind: schedule.KindAcker, Parallelism: 2},
		},
	}
	in := schedule.Input{
		Workers:    []schedule.Worker{{Name: "w1"}, {Name: "w2"}, {Name: "w3"}},
		Topologies: []schedule.Topology{wordcount},
	}
	a, err := schedule.Compute(cfg, in)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range a.Workers {
		fmt.Println(w, "runs", len(a.WorkerTasks(w)), "tasks")
	}

	// w4 joins: it takes its share, and nothing else moves.
	in.Workers = append(in.Workers, schedule.Worker{Name: "w4"})
	in.Previous = a
	b, _ := schedule.Compute(cfg, in)
	moves := schedule.Diff(a, b)
	toW4 := 0
	for _, m := range moves {
		if m.To == "w4" {
			toW4++
		}
	}
	fmt.Println(len(moves), "tasks move,", toW4, "of them to w4")

	// w2 leaves: only its tasks move.
	in.Workers = []schedule.Worker{{Name: "w1"}, {Name: "w3"}, {Name: "w4"}}
	in.Previous = b
	c, _ := schedule.Compute(cfg, in)
	fromW2 := 0
	for _, m := range schedule.Diff(b, c) {
		if m.From == "w2" {
			fromW2++
		}
	}
	fmt.Println(len(schedule.Diff(b, c)), "tasks move,", fromW2, "of them from w2")
	// Output:
	// w1 runs 4 tasks
	// w2 runs 4 tasks
	// w3 runs 4 tasks
	// 3 tasks move, 3 of them to w4
	// 3 tasks move, 3 of them from w2
}

func ExampleDebouncer() {
	// A fake clock; a worker passes time.Now (the default).
	now := time.Unix(0, 0)
	d, _ := schedule.NewDebouncer(schedule.DebouncerConfig{
		Quiet: 2 * time.Second,
		Now:   func() time.Time { return now },
	})
	d.Observe(schedule.MemberEvent{Member: "w1", Alive: true}, schedule.MemberEvent{Member: "w2", Alive: true})
	now = now.Add(2 * time.Second)
	fmt.Println(d.Poll())

	// w2 flaps: down and back within the quiet period.
	d.Observe(schedule.MemberEvent{Member: "w2", Alive: false})
	now = now.Add(time.Second)
	d.Observe(schedule.MemberEvent{Member: "w2", Alive: true})
	now = now.Add(time.Hour)
	fmt.Println(d.Poll())

	// w2 dies for good: published once the set has been quiet for 2 s.
	d.Observe(schedule.MemberEvent{Member: "w2", Alive: false})
	next, _ := d.Next()
	fmt.Println("publish at +", next.Sub(now))
	now = next
	fmt.Println(d.Poll())
	// Output:
	// [w1 w2] true
	// [w1 w2] false
	// publish at + 2s
	// [w1] true
}
