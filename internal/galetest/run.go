package galetest

import (
	"context"
	"testing"
	"time"

	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/topology"
)

// RunToEnd runs topo in the engine until its spouts finish and it drains,
// failing the test on an error or when that takes more than limit. It
// returns the runtime, whose Stats are final.
func RunToEnd(tb testing.TB, topo *topology.Topology, opts local.Options, limit time.Duration) *local.Runtime {
	tb.Helper()
	rt, err := local.New(topo, opts)
	if err != nil {
		tb.Fatalf("local.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := rt.Run(ctx); err != nil {
		tb.Fatalf("run: %v", err)
	}
	if ctx.Err() != nil {
		tb.Fatalf("the run did not finish by itself within %v", limit)
	}
	return rt
}
