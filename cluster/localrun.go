package cluster

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/internal/monitor"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/topology"
)

// LocalConfig configures ServeLocal.
type LocalConfig struct {
	// Addr is where to listen (HOST:PORT; port 0 picks one).
	Addr string
	// API protects the API (the token the actions need; off loopback the
	// reads too, and a token is required unless Insecure).
	API APISecurity
	// Topology and Runtime are the run to show.
	Topology *topology.Topology
	Runtime  *local.Runtime
	// Name is the process's name in the UI (default: the host name).
	Name string
	// Version is the gale version shown.
	Version string
	// Stop ends the run, draining its in-flight tuples (the UI's kill).
	Stop func()
	// Logger gets the warnings of an unprotected API (default slog.Default).
	Logger *slog.Logger
}

func (c LocalConfig) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// LocalMonitor serves the monitor UI (at /), the JSON API (/api/v1/...)
// and the Prometheus metrics (/metrics) of one topology running in this
// process, as a worker serves those of a cluster: `gale run --ui`. The
// API answers 501 to what a local run cannot do (submit, rebalance).
type LocalMonitor struct {
	mon  *monitor.Local
	hs   *http.Server
	addr string
	wg   sync.WaitGroup
	stop context.CancelFunc
}

// ServeLocal starts serving cfg's run on cfg.Addr until Close.
func ServeLocal(cfg LocalConfig) (*LocalMonitor, error) {
	if cfg.Topology == nil || cfg.Runtime == nil {
		return nil, errors.New("serve a local run: a topology and its runtime are required")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
		if cfg.Name == "" {
			cfg.Name = "local"
		}
	}
	stop := cfg.Stop
	if stop == nil {
		stop = func() {}
	}
	rt := cfg.Runtime
	stats := func() []local.Stats { return []local.Stats{rt.Stats()} }
	m := &LocalMonitor{addr: ln.Addr().String(),
		mon: &monitor.Local{Topo: cfg.Topology, RT: rt, Rec: monitor.NewRecorder(), Worker: cfg.Name, Addr: ln.Addr().String(),
			Version: cfg.Version, Started: time.Now(), Stop: func(time.Duration) { stop() }}}
	access, err := cfg.API.access(ln.Addr(), cfg.logger())
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := api.NewServer(m.mon, access)
	serveMonitor(srv, cfg.Name, cfg.Version, stats)
	m.hs = api.NewHTTPServer(srv)
	ctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		m.hs.Serve(ln)
	}()
	go func() {
		defer m.wg.Done()
		m.mon.Rec.Run(ctx.Done(), stats)
	}()
	return m, nil
}

// Addr is the address served.
func (m *LocalMonitor) Addr() string { return m.addr }

// Finished marks the run as over: the topology stays visible, as killed.
func (m *LocalMonitor) Finished() { m.mon.Finished() }

// Close stops serving and waits for the server's goroutines. It is safe
// to call twice.
func (m *LocalMonitor) Close() error {
	m.stop()
	err := m.hs.Close()
	m.wg.Wait()
	return err
}
