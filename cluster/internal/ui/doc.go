// Package ui is Gale's monitor web UI: a single-page app of plain HTML,
// CSS and JavaScript modules, embedded in the binary with go:embed and
// served by every worker (and by `gale run --ui`) beside the JSON API of
// package api, on the same origin. There is no build step and no
// external URL: the browser loads only what Handler serves, and reads its
// data only from /api/v1.
//
// Pages (hash routes):
//
//	#/                                   the cluster: workers, topologies
//	#/topology/NAME                      a topology: its DAG, components, autoscaling, charts, errors, Kafka partitions, sinks, actions
//	#/topology/NAME/component/ID         a component: its tasks, windows, charts, errors
//
// The app polls the API every 3 s. Mutating actions (activate, deactivate,
// rebalance, kill) ask for confirmation, and for the cluster's token when
// the API needs one (kept in the tab's sessionStorage).
//
// Mount it on the API server:
//
//	srv := api.NewServer(backend, api.Access{Token: token, Loopback: true})
//	srv.Handle("GET /", ui.Handler())
package ui
