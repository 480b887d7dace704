// Package local runs a topology inside the calling process, like Storm's
// LocalCluster: for tests of your own components, for embedding Gale in a
// program, and behind `gale run`.
//
//	topo, err := topology.Decode(jsonBytes, registry.Default)
//	...
//	stats, err := local.Run(ctx, topo, local.Options{})
//
// Run returns when the context is cancelled (after draining the tuples in
// flight) or when every spout has stopped by itself (spout.ErrStop) and
// every tuple tree is complete.
package local

import (
	"context"

	"github.com/gale-stream/gale/internal/engine"
	"github.com/gale-stream/gale/topology"
)

// Options configure a run: the registry that builds the components (nil:
// registry.Default), a logger, and the drain timeout.
type Options = engine.Options

// Runtime is a topology running in this process; see New.
type Runtime = engine.Runtime

// Stats are the metrics of a run, per component and per task.
type Stats = engine.Stats

// ComponentStats and TaskStats are the parts of Stats.
type (
	ComponentStats = engine.ComponentStats
	TaskStats      = engine.TaskStats
)

// New builds a runtime for a validated topology without starting it, for
// callers that want to read its Stats, or Activate and Deactivate its
// spouts, while it runs.
func New(topo *topology.Topology, opts Options) (*Runtime, error) {
	return engine.New(topo, opts)
}

// Run runs a validated topology until ctx is cancelled or its spouts
// finish, and returns its final stats.
func Run(ctx context.Context, topo *topology.Topology, opts Options) (Stats, error) {
	rt, err := engine.New(topo, opts)
	if err != nil {
		return Stats{}, err
	}
	err = rt.Run(ctx)
	return rt.Stats(), err
}
