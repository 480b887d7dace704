package autoscale_test

import (
	"fmt"
	"time"

	"github.com/gale-stream/gale/cluster/internal/autoscale"
	"github.com/gale-stream/gale/topology"
)

func ExampleDecide() {
	policy := topology.Autoscale{Min: 2, Max: 8} // the rest: defaults
	busy := autoscale.Observation{Parallelism: 2, Capacity: 0.93}

	d := autoscale.Decide(policy, busy, 30*time.Second, 4)
	fmt.Println(d.Direction, "-", d.Reason)

	d = autoscale.Decide(policy, busy, 5*time.Minute, 4)
	fmt.Println(d.Direction, d.Parallelism, "-", d.Reason)

	idle := autoscale.Observation{Parallelism: 6, Capacity: 0.1}
	d = autoscale.Decide(policy, idle, 5*time.Minute, 0)
	fmt.Println(d.Direction, d.Parallelism, "-", d.Limited)
	// Output:
	// none - cooldown: 1m30s left (would scale up: capacity 0.93 > target 0.70: 2 -> 3 tasks)
	// up 3 - capacity 0.93 > target 0.70: 2 -> 3 tasks
	// down 3 - at most half
}
