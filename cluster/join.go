package cluster

import (
	"context"
	"net"
)

// Joining by DNS names. Config.Join takes host names as well as
// addresses ("gale-gossip.ns.svc.cluster.local", "gale-0.gale-gossip:7946";
// without a port the default gossip port, 7946): every address record of
// each name is joined, so the name of a headless Kubernetes service, which
// has one record per pod, finds every worker. With Config.Rejoin > 0 a
// worker that finds nobody at its start runs alone and retries (backoff
// 1-5 s), and while it runs it resolves the names again every Rejoin and
// joins the addresses that are not members yet. Names that resolve to the
// worker itself only make it the first worker of the cluster: /readyz
// counts it as joined (health.go).

// Resolver looks up the addresses of a host name (*net.Resolver is one;
// default net.DefaultResolver).
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

var _ Resolver = (*net.Resolver)(nil)
