package cluster

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/internal/membership"
	"github.com/gale-stream/gale/cluster/internal/monitor"
	"github.com/gale-stream/gale/cluster/internal/schedule"
	"github.com/gale-stream/gale/cluster/internal/transport"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/internal/wallclock"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
)

// Config of a worker.
type Config struct {
	// Name is the worker's unique name.
	Name string
	// Gossip is the membership address (host:port); Transport the tuple
	// transport's (default: the gossip port + 1); HTTP the API's.
	Gossip, Transport, HTTP string
	// Join lists workers already in the cluster.
	Join []string
	// ClusterKey is the cluster's one secret (at least 16 bytes): the
	// gossip's encryption key and the transport's authentication key are
	// derived from it (DeriveKeys). Nil: no authentication, allowed only
	// when every address is loopback, or with API.Insecure.
	ClusterKey []byte
	// API protects the API (token, reads, hosts, origins, --insecure).
	API APISecurity
	// TLSCert and TLSKey serve the API over HTTPS. Workers then fetch each
	// other's figures over HTTPS, trusting the system's roots, TLSCert's
	// certificates (a certificate shared by the workers) and TLSCA's.
	TLSCert, TLSKey, TLSCA string
	// Slots bounds the tasks of this worker (0: no limit).
	Slots int
	// Store holds the cluster's state (required).
	Store store.Store
	// Registry has the component types (default registry.Default).
	Registry *registry.Registry
	// AllowTypes, when not empty, are the only component types this worker
	// runs; DenyTypes are types it refuses (such as "shell", which runs
	// any command, or "lines", "print" and "file_sink", which read and
	// write any path). A topology using a refused type is refused at
	// submit (HTTP 422 naming the component) and never built here.
	AllowTypes, DenyTypes []string
	Logger                *slog.Logger
	// Version is reported to the others.
	Version string
	// Debounce is how long the live membership must stay unchanged before
	// the leader reassigns tasks (default 500 ms; memberlist's suspicion
	// already waits ~1.5 s before it declares a worker dead): a worker that leaves and
	// comes back within it (a flap) moves nothing. Changes wait at most
	// 5×Debounce for a member that keeps flapping.
	Debounce time.Duration
	// LeaderTTL is the leader lease's time to live (default 3 s): a leader
	// that stops renewing it is replaced after that long.
	LeaderTTL time.Duration
	// DrainTimeout bounds a graceful leave (default DefaultDrainTimeout):
	// when Run's context ends, the worker waits this long at most for its
	// tasks to move to the others with nothing in flight (handover.go).
	DrainTimeout time.Duration
	// Rejoin, Resolver: joining by DNS names (join.go).
	Rejoin   time.Duration
	Resolver Resolver
	// TransportCompress sends frames to the workers that read them as lz4
	// blocks (transport.Config.Compress).
	TransportCompress bool
}

// Worker is one `gale worker` process: it gossips, serves the API, and
// runs its share of every topology.
type Worker struct {
	cfg   Config
	log   *slog.Logger
	ms    *membership.Membership
	tr    *transport.Transport
	st    store.Store
	http  *http.Server
	ln    net.Listener
	start time.Time // wall clock, for people (wallclock.Now)
	// full is the registry before AllowTypes and DenyTypes (cfg.Registry
	// is after): submit decodes with it to tell a refused type from an
	// unknown one
	full *registry.Registry
	// typesHash identifies this worker's component types (membership.TypesHashOf)
	typesHash string
	// peerHTTP calls the other workers' APIs (HTTPS when they serve it)
	peerHTTP *http.Client
	// el elects the one worker that writes assignments; view debounces
	// the membership that the leader schedules over
	el    *store.Elector
	view  *memberView
	rec   *monitor.Recorder                 // this worker's tasks over time (monitor.go)
	early earlyBuffer                       // messages that came before their runtime (early.go)
	addrs atomic.Pointer[map[string]string] // live members' transport addresses (refreshAddrs)
	tops  decodedCache                      // stored topologies, decoded (decode.go)
	meta  membership.Meta                   // this worker's gossip metadata
	// leaving: a graceful leave started (Run's context ended)
	leaving atomic.Bool
	// handovers are the moves in their Draining step, by topology: the
	// leader's, touched by the reconcile loop only (handover.go)
	handovers map[string]handoverMark
	// handingOver: a stored assignment is Draining (the leader then
	// reconciles every handoverPoll)
	handingOver atomic.Bool
	// scaler is the leader's autoscaler memory (autoscale.go); used by
	// the reconcile loop only.
	scaler autoscaler
	// storeOK is when the store last answered a Sync (UnixNano; 0: never
	// checked, or a store that needs none); isolated: this worker stopped
	// its tasks for want of it (isolate.go)
	storeOK  atomic.Int64
	isolated bool // the reconcile loop's
	// drainCheck, when set (tests), replaces drained
	drainCheck func(name string, a store.Assignment) bool

	mu      sync.Mutex
	running map[string]*share // by topology
	byChan  map[uint32]*share
	wake    chan struct{}
	// killSeen is when (monotonic, local) this worker first saw each
	// topology's kill, by name: the drain is measured from there
	killSeen map[string]killSighting
	// refused are the stored topologies this worker refuses to run
	// (refuse), by name: the version of the record it last said so for
	refused map[string]uint64
}

// killSighting is when this worker saw version version of a killed
// topology first.
type killSighting struct {
	version uint64
	at      time.Time
}

// share is this worker's share of one topology.
type share struct {
	name    string
	version uint64
	spec    string // specOf the record it runs
	json    string // the record's JSON and Workers (reshape)
	workers int
	epoch   uint64
	// epochNow is epoch, for the senders and receivers of frames, which
	// tag them with it (remote.send, Worker.receive)
	epochNow atomic.Uint64
	mine     []string // task keys run here, sorted
	topo     *topology.Topology
	rt       *local.Runtime
	ctx      context.Context // the runtime's: ends when the share stops
	cancel   context.CancelFunc
	done     chan struct{}
	active   atomic.Bool // spouts on; set by the reconcile loop

	keys map[int]string // engine task id -> task key, for every id held (topology.TaskSlots)

	mu     sync.RWMutex
	owners map[string]string // task key -> worker
	// gone are the tasks of elastic spouts that the assignment no longer
	// has (their parallelism went down) or that moved, by key: the worker
	// that ran them may still be handing their partitions over, so their
	// trees' completions go there too, until the time given (follow)
	gone map[string]goneTask
}

// goneTask is where a spout task that left ran, and until when it counts.
type goneTask struct {
	worker string
	until  time.Time
}

// keysByID maps the engine's task ids to assignment keys.
func keysByID(topo *topology.Topology, ids map[string][]int) map[int]string {
	out := map[int]string{}
	for comp, list := range ids {
		for idx, id := range list {
			out[id] = taskKey(comp, idx)
		}
	}
	return out
}

func (l *share) owner(key string) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if wk, ok := l.owners[key]; ok {
		return wk
	}
	if g, ok := l.gone[key]; ok && time.Now().Before(g.until) {
		return g.worker
	}
	return ""
}

// Start joins the cluster and starts serving; Run then works until its
// context ends.
func Start(cfg Config) (*Worker, error) {
	if cfg.Store == nil {
		return nil, errors.New("worker: a store is required")
	}
	if cfg.Registry == nil {
		cfg.Registry = registry.Default
	}
	full := cfg.Registry
	if len(cfg.AllowTypes) > 0 || len(cfg.DenyTypes) > 0 {
		for _, n := range append(slices.Clone(cfg.AllowTypes), cfg.DenyTypes...) {
			if !slices.Contains(full.TypeNames(topology.KindSpout), n) && !slices.Contains(full.TypeNames(topology.KindBolt), n) {
				return nil, fmt.Errorf("worker %s: allowed or denied type %q: no such component type", cfg.Name, n)
			}
		}
		cfg.Registry = full.Filter(func(_ topology.Kind, name string) bool { return typeAllowed(cfg, name) })
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Debounce == 0 {
		cfg.Debounce = 500 * time.Millisecond
	}
	if cfg.LeaderTTL == 0 {
		cfg.LeaderTTL = 3 * time.Second
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	w := &Worker{cfg: cfg, full: full, log: cfg.Logger.With("worker", cfg.Name), st: cfg.Store, start: wallclock.Now(),
		running: map[string]*share{}, byChan: map[uint32]*share{}, wake: make(chan struct{}, 1),
		killSeen: map[string]killSighting{}, refused: map[string]uint64{}, handovers: map[string]handoverMark{}}
	var err error
	if w.el, err = store.NewElector(store.ElectorConfig{Store: cfg.Store, Holder: cfg.Name, TTL: cfg.LeaderTTL}); err != nil {
		return nil, fmt.Errorf("worker %s: %w", cfg.Name, err)
	}
	if w.view, err = newMemberView(cfg.Debounce, nil); err != nil {
		return nil, fmt.Errorf("worker %s: %w", cfg.Name, err)
	}
	keys, err := DeriveKeys(cfg.ClusterKey)
	if err != nil {
		return nil, fmt.Errorf("worker %s: %w", cfg.Name, err)
	}
	trAddr := cfg.Transport
	if trAddr == "" {
		trAddr, err = nextPort(cfg.Gossip)
		if err != nil {
			return nil, err
		}
	}
	if err := checkClusterKey(cfg.ClusterKey, cfg.API.Insecure, w.log, cfg.Gossip, trAddr); err != nil {
		return nil, fmt.Errorf("worker %s: %w", cfg.Name, err)
	}
	secret := string(keys.Transport)
	w.tr, err = transport.New(transport.Config{Name: cfg.Name, Addr: trAddr, Handler: w.receive, Secret: secret, Logger: w.log,
		Compress: cfg.TransportCompress,
		// a connection must claim a live member's name and transport address
		Member: func(name, addr string) bool { a := w.transportAddr(name); return a != "" && a == addr }})
	if err != nil {
		return nil, fmt.Errorf("worker %s: transport on %s: %w", cfg.Name, trAddr, err)
	}
	w.ln, err = net.Listen("tcp", cfg.HTTP)
	if err != nil {
		w.tr.Close()
		return nil, fmt.Errorf("worker %s: API on %s: %w", cfg.Name, cfg.HTTP, err)
	}
	access, err := cfg.API.access(w.ln.Addr(), w.log)
	if err != nil {
		w.ln.Close()
		w.tr.Close()
		return nil, fmt.Errorf("worker %s: %w", cfg.Name, err)
	}
	var types []string
	for _, k := range []topology.Kind{topology.KindSpout, topology.KindBolt} {
		types = append(types, cfg.Registry.TypeNames(k)...)
	}
	w.typesHash = membership.TypesHashOf(types)
	// 3 s per call to another worker; for HTTPS the system's roots plus
	// this worker's own certificate (a cluster often shares one) and TLSCA
	if w.peerHTTP, err = api.NewHTTPClient(3*time.Second, cfg.TLSCert, cfg.TLSCA); err != nil {
		w.ln.Close()
		w.tr.Close()
		return nil, fmt.Errorf("worker %s: %w", cfg.Name, err)
	}
	w.meta = membership.Meta{API: w.ln.Addr().String(), Transport: w.tr.Addr(), Slots: cfg.Slots,
		Started: w.start, Version: cfg.Version, Types: types, TypesHash: w.typesHash, TLS: cfg.TLSCert != ""}
	w.ms, err = membership.Join(membership.Config{Name: cfg.Name, Bind: cfg.Gossip, Join: cfg.Join, Key: keys.Gossip,
		Rejoin: cfg.Rejoin, Resolver: cfg.Resolver, Logger: w.log, Meta: w.meta})
	if err != nil {
		w.ln.Close()
		w.tr.Close()
		return nil, err
	}
	srv := api.NewServer(w, access)
	w.serveMonitor(srv)
	w.serveDrained(srv)
	w.serveHealth(srv)
	w.http = api.NewHTTPServer(srv)
	go func() {
		var err error
		if cfg.TLSCert != "" {
			w.http.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			err = w.http.ServeTLS(w.ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			err = w.http.Serve(w.ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.log.Error("API server stopped", "err", err)
		}
	}()
	w.log.Info("worker up", "gossip", w.ms.Addr(), "transport", w.tr.Addr(), "api", w.ln.Addr().String())
	return w, nil
}

// typeAllowed: cfg's allow and deny lists let this worker run type name.
func typeAllowed(cfg Config, name string) bool {
	if len(cfg.AllowTypes) > 0 && !slices.Contains(cfg.AllowTypes, name) {
		return false
	}
	return !slices.Contains(cfg.DenyTypes, name)
}

func nextPort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("worker: gossip address %q: %w", addr, err)
	}
	var p int
	fmt.Sscan(port, &p)
	if p == 0 {
		return net.JoinHostPort(host, "0"), nil
	}
	return net.JoinHostPort(host, fmt.Sprint(p+1)), nil
}

// APIAddr is the API's address.
func (w *Worker) APIAddr() string { return w.ln.Addr().String() }

// GossipAddr is the membership address.
func (w *Worker) GossipAddr() string { return w.ms.Addr() }

// Run reconciles this worker's share with the store and the membership
// until ctx ends; then it leaves gracefully: the others take its tasks
// with nothing in flight (handover.go), within cfg.DrainTimeout, and it
// leaves the cluster and stops.
func (w *Worker) Run(runCtx context.Context) error {
	// the loop goes on while the worker leaves, after runCtx ended
	ctx, stopLoop := context.WithCancel(context.WithoutCancel(runCtx))
	defer stopLoop()
	watch, err := w.st.Watch(ctx)
	if err != nil {
		return fmt.Errorf("worker %s: watch the store: %w", w.cfg.Name, err)
	}
	// the leader lease, renewed (or waited for) in the background
	var elected sync.WaitGroup
	ectx, stopElector := context.WithCancel(context.Background())
	elected.Add(1)
	go func() {
		defer elected.Done()
		w.el.Run(ectx, func(leading bool) {
			w.log.Info("leadership", "leading", leading)
			w.poke()
		})
	}()
	defer func() {
		stopElector() // releases the lease: another worker takes it at once
		elected.Wait()
	}()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	fast := time.NewTicker(handoverPoll)
	defer fast.Stop()
	leave := runCtx.Done()
	var leaveBy time.Time
	// membership changes are debounced: the leader schedules over the
	// member set once it has been stable for cfg.Debounce
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	arm := func() {
		settle.Stop()
		if next, ok := w.view.next(); ok {
			settle.Reset(max(time.Until(next), time.Millisecond))
		}
	}
	// membership events: a dead worker's transport peer is forgotten at
	// once (senders blocked on it give up), even while a reconcile is busy
	events := make(chan membership.Event, 256)
	var forwarding sync.WaitGroup
	forwarding.Add(1)
	go func() {
		defer forwarding.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-w.ms.Events():
				w.refreshAddrs()
				if ev.Kind == membership.Updated {
					w.poke() // a worker leaving (Meta.Leaving): its tasks move
				}
				if ev.Kind == membership.Gone {
					// frames queued for it are lost anyway (their trees
					// replay); senders blocked on its full queue must not
					// wait for it
					w.tr.Forget(ev.Member.Name)
				}
				select {
				case events <- ev:
				default: // the loop is far behind: its snapshots catch up
				}
			}
		}
	}()
	defer func() {
		stopLoop()
		forwarding.Wait()
	}()
	w.refreshAddrs()
	w.view.snapshot(w.ms.Members())
	arm()
	go w.rec.Run(ctx.Done(), w.localAll)
	go w.watchStore(ctx)
	w.reconcile(ctx)
	for {
		select {
		case err := <-w.ms.Conflicts():
			// a worker of this name ran first: this one goes, at once
			stopElector()
			elected.Wait()
			w.stop()
			return fmt.Errorf("worker %s: %w", w.cfg.Name, err)
		case <-leave:
			leave = nil
			leaveBy = time.Now().Add(w.cfg.DrainTimeout)
			w.beginLeave(func() {
				stopElector()
				elected.Wait()
			})
			w.reconcile(ctx)
		case <-fast.C:
			if w.leaving.Load() {
				w.reconcile(ctx)
				if w.mayGo(leaveBy) {
					return w.stop()
				}
			} else if w.handingOver.Load() {
				w.reconcile(ctx)
			}
		case _, ok := <-watch:
			if !ok {
				watch = nil
			}
			w.reconcile(ctx)
		case ev := <-events:
			w.view.observe(ev)
			arm()
		case <-settle.C:
			if w.view.poll() {
				w.log.Info("membership settled", "members", w.view.stableNames())
				w.reconcile(ctx)
			}
			arm()
		case <-w.wake:
			w.reconcile(ctx)
		case <-tick.C:
			w.checkIsolation()
			w.refreshAddrs()
			w.view.snapshot(w.ms.Members()) // in case an event was lost
			arm()
			w.reconcile(ctx)
		}
	}
}

func (w *Worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// shares returns the shares running here (a copy: the caller may stop
// them, which changes w.running).
func (w *Worker) shares() []*share {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Collect(maps.Values(w.running))
}

func (w *Worker) stop() error {
	ls := w.shares()
	err := w.ms.Leave(3 * time.Second)
	for _, l := range ls {
		w.stopShare(l)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	w.http.Shutdown(sctx)
	w.tr.Close()
	return err
}

// aliveNames are the live workers, sorted.
func (w *Worker) aliveNames() []string {
	var out []string
	for _, m := range w.ms.Members() {
		out = append(out, m.Name)
	}
	return out
}

// reconcile brings this worker's share in line with the store: the leader
// (the live worker with the smallest name) writes new assignments when
// membership or topologies change; every worker runs what its assignment
// gives it.
func (w *Worker) reconcile(ctx context.Context) {
	tops, err := w.st.ListTopologies(ctx)
	if err != nil {
		w.log.Warn("cannot read the cluster state; keeping what runs", "err", err)
		return
	}
	members := w.view.stable(w.ms.All())
	// one worker writes assignments: the holder of the leader lease, once
	// it has a settled view of the membership
	leader := w.el.Leading() && len(members) > 0
	seen, refused := map[string]bool{}, map[string]bool{}
	decoded := map[string]*topology.Topology{}
	stored := map[string]store.Assignment{}
	var live []store.Topology
	for _, t := range tops {
		seen[t.Name] = true
		if t.Status == store.StatusKilled {
			w.kill(ctx, t, leader)
			continue
		}
		topo, err := w.decode(t)
		if err != nil {
			w.log.Error("stored topology does not decode", "topology", t.Name, "err", err)
			continue
		}
		if err := topo.CheckCluster(); err != nil {
			// stored before the check existed: it is neither assigned
			// nor run (it would run wrongly), and says why
			w.refuse(t, err)
			refused[t.Name] = true
			continue
		}
		a, err := w.st.GetAssignment(ctx, t.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			w.log.Warn("cannot read the assignment", "topology", t.Name, "err", err)
			continue
		}
		decoded[t.Name], stored[t.Name] = topo, a
		live = append(live, t)
	}
	if leader {
		w.lead(ctx, live, decoded, stored, members)
		w.autoscale(ctx, live, decoded, stored, members)
	} else {
		w.handingOver.Store(false)
		w.stopAutoscaling()
	}
	for _, t := range live {
		if a := stored[t.Name]; a.Epoch > 0 && !w.isolated {
			// (an isolated worker's view of the store is stale: it runs
			// nothing until the store answers again; isolate.go)
			w.run(ctx, t, decoded[t.Name], a)
		}
	}
	// topologies gone from the store
	w.tops.keep(seen)
	chans := make(map[uint32]bool, len(seen))
	for name := range seen {
		chans[channelOf(name)] = true
	}
	w.early.setKnown(chans)
	w.early.sweep()
	w.mu.Lock()
	for name := range w.killSeen {
		if !seen[name] {
			delete(w.killSeen, name)
		}
	}
	for name := range w.refused {
		if !refused[name] {
			delete(w.refused, name)
		}
	}
	var gone []*share
	for name, l := range w.running {
		if !seen[name] || refused[name] {
			gone = append(gone, l)
		}
	}
	w.mu.Unlock()
	for _, l := range gone {
		w.stopShare(l)
	}
}

// refuse reports a stored topology that does not fit a cluster
// (topology.CheckCluster) — once per version of its record, not at every
// reconcile. The API shows the same problems (api.TopologySummary.Refused).
func (w *Worker) refuse(t store.Topology, err error) {
	w.mu.Lock()
	v, ok := w.refused[t.Name]
	said := ok && v == t.Version
	w.refused[t.Name] = t.Version
	w.mu.Unlock()
	if !said {
		w.log.Error("refusing to run a stored topology that does not fit a cluster: kill it and submit it again once fixed",
			"topology", t.Name, "version", t.Version, "problems", details(err))
	}
}

// lead computes the assignment of every live topology over the live
// workers with the scheduler (balanced over topologies and workers, slots
// respected, running tasks kept in place where balance allows) and stores
// the ones that changed, each with a greater epoch. stored is updated.
func (w *Worker) lead(ctx context.Context, tops []store.Topology, decoded map[string]*topology.Topology,
	stored map[string]store.Assignment, members []membership.Member) {
	in := schedule.Input{Previous: &schedule.Assignment{}}
	alive := map[string]bool{}
	for _, m := range members {
		if m.Meta.Isolated {
			continue // cut from the store: its tasks move at once (isolate.go)
		}
		alive[m.Name] = true
		if m.Meta.Leaving {
			continue // its tasks move (handover.go)
		}
		in.Workers = append(in.Workers, schedule.Worker{Name: m.Name, Slots: m.Meta.Slots})
		in.Previous.Workers = append(in.Previous.Workers, m.Name)
	}
	if len(in.Workers) == 0 {
		return // every worker is leaving: each drains what it runs
	}
	draining := false
	defer func() { w.handingOver.Store(draining) }()
	for _, t := range tops {
		in.Topologies = append(in.Topologies, scheduleInput(decoded[t.Name], t.Workers))
		for key, wk := range stored[t.Name].Tasks {
			if comp, idx, ok := parseKey(key); ok {
				in.Previous.Tasks = append(in.Previous.Tasks, schedule.Task{
					TaskKey: schedule.TaskKey{Topology: t.Name, Component: comp, Index: idx}, Worker: wk})
			}
		}
	}
	res, skipped, err := computeSkipping(schedule.DefaultConfig(), in)
	if err != nil {
		w.log.Error("cannot compute the assignment", "err", err)
		return
	}
	for _, name := range skipped {
		w.log.Error("cannot place a topology: it is too large for the scheduler; the others are assigned without it "+
			"(kill it, or rebalance it smaller)", "topology", name)
	}
	for _, t := range tops {
		if slices.Contains(skipped, t.Name) {
			continue
		}
		tasks := map[string]string{}
		var unassigned []string
		for _, tk := range res.TopologyTasks(t.Name) {
			if tk.Worker == "" {
				unassigned = append(unassigned, taskKey(tk.Component, tk.Index))
				continue
			}
			tasks[taskKey(tk.Component, tk.Index)] = tk.Worker
		}
		if len(unassigned) > 0 {
			w.log.Warn("not enough slots: tasks left unassigned", "topology", t.Name, "tasks", unassigned)
		}
		prev := stored[t.Name]
		drained := func() bool { return w.drained(ctx, t.Name, prev) }
		if w.drainCheck != nil {
			drained = func() bool { return w.drainCheck(t.Name, prev) }
		}
		if t.Rescale != nil && workersAlive(prev.Tasks, alive) {
			// a change of parallelism: paused, drained, then applied
			// (rescale.go); the tasks are scheduled once it is applied
			if a, ok := w.rescaleStep(ctx, t, prev, drained, elasticChange(decoded[t.Name], t.Workers, t.Rescale)); ok {
				stored[t.Name] = a
			}
			draining = true
			continue
		}
		inPlace := elasticMoves(decoded[t.Name], prev.Tasks, tasks)
		next, write := w.nextAssignment(t.Name, prev, tasks, alive, drained, inPlace)
		if !write {
			draining = draining || prev.Draining
			continue
		}
		if !w.el.Leading() {
			return // the lease expired meanwhile: the next leader assigns
		}
		a, err := w.st.PutAssignment(ctx, next)
		if err != nil {
			w.log.Warn("cannot store the assignment", "topology", t.Name, "err", err)
			continue
		}
		stored[t.Name] = a
		draining = draining || a.Draining
		if a.Draining {
			w.log.Info("moving tasks: spouts paused until the trees in flight complete", "topology", t.Name, "epoch", a.Epoch)
			continue
		}
		w.log.Info("assigned", "topology", t.Name, "epoch", a.Epoch, "workers", len(res.TopologyWorkers(t.Name)), "tasks", len(tasks))
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// specOf is what of a topology's record its runtime is built from: a
// change of anything else (its status: deactivate, activate) must not
// restart the runtime, which would fail the trees in flight and reset the
// counters.
func specOf(t store.Topology) string {
	return string(t.JSON) + fmt.Sprint(t.Parallelism, t.Workers)
}

// shareStopWait bounds the wait for a stopping share's tasks: past it the
// worker goes on (a move after a partition was held up 10 s by a task
// stuck on an unreachable peer or backend: TestPartitions_Soak).
const shareStopWait = 3 * time.Second

// shareDrain bounds the drain of a share that stops.
const shareDrain = 250 * time.Millisecond

// lost reports whether assignment a drops a worker that the share's
// current assignment uses (one that left or died). l.mu must be held.
func (l *share) lost(a store.Assignment) bool {
	if a.Epoch == l.epoch {
		return false
	}
	now := map[string]bool{}
	for _, wk := range a.Tasks {
		now[wk] = true
	}
	for _, wk := range l.owners {
		if !now[wk] {
			return true
		}
	}
	return false
}

// previous returns the worker an elastic spout task that moved (to
// owner(key)) ran on before, while its trees may still complete there, or
// "".
func (l *share) previous(key string) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	g, ok := l.gone[key]
	if !ok || !time.Now().Before(g.until) {
		return ""
	}
	if wk, ok := l.owners[key]; !ok || wk == g.worker {
		return "" // removed (owner says where) or back where it was
	}
	return g.worker
}

// keepGone remembers, before a replaces l.owners, where the elastic spout
// tasks that a removes or moves ran: they hand their partitions over
// there, and their trees complete there (local.Runtime.Reshape), for up to
// twice the message timeout. l.mu is held.
func (l *share) keepGone(a store.Assignment) {
	now := time.Now()
	for key, g := range l.gone {
		if wk, back := a.Tasks[key]; wk == g.worker && back || now.After(g.until) {
			delete(l.gone, key)
		}
	}
	if l.topo == nil {
		return
	}
	for key, wk := range l.owners {
		if to, ok := a.Tasks[key]; ok && to == wk {
			continue // stays where it ran
		}
		if comp, _, ok := parseKey(key); ok && l.topo.Elastic(comp) && isSpout(l.topo, comp) {
			if l.gone == nil {
				l.gone = map[string]goneTask{}
			}
			l.gone[key] = goneTask{worker: wk, until: now.Add(2 * l.topo.Settings.MessageTimeout)}
		}
	}
}

// run makes this worker run its share of t per assignment a.
func (w *Worker) run(ctx context.Context, t store.Topology, topo *topology.Topology, a store.Assignment) {
	var mine []string
	for k, wk := range a.Tasks {
		if wk == w.cfg.Name {
			mine = append(mine, k)
		}
	}
	slices.Sort(mine)
	w.mu.Lock()
	l := w.running[t.Name]
	w.mu.Unlock()
	// a share runs tasks here while it has some, or some still retire
	if l != nil && (len(mine) > 0 || l.rt.Local() > 0) {
		if w.reshape(l, t, topo, a, mine) {
			return // elastic components' tasks changed in place, or nothing (reshape.go)
		}
		if l.spec == specOf(t) && slices.Equal(l.mine, mine) {
			// same share: update the routing, the epoch and the activation
			w.follow(l, a)
			w.resume(l, t, a)
			return
		}
	}
	if l != nil && len(mine) == 0 && l.spec == specOf(t) && len(l.mine) == 0 {
		w.stopShare(l) // its last tasks retired (reshape)
		return
	}
	if l != nil {
		l.mu.Lock()
		lost := l.lost(a)
		l.mu.Unlock()
		if lost {
			// the share changes because a worker left or died: its trees
			// replay at once rather than hold the drain for nothing
			l.rt.FailPending()
		}
		w.stopShare(l)
	}
	if len(mine) == 0 {
		return
	}
	w.startShare(t, topo, a, mine)
}

// follow points running share l at assignment a: the workers of its
// tasks and the epoch. The trees of a worker that left or died fail at
// once: with tuples there, they cannot complete.
func (w *Worker) follow(l *share, a store.Assignment) {
	l.mu.Lock()
	lost := l.lost(a)
	l.keepGone(a)
	l.owners, l.epoch = a.Tasks, a.Epoch
	l.epochNow.Store(a.Epoch)
	l.mu.Unlock()
	if lost {
		l.rt.FailPending()
	}
}

// resume hands share l the frames of its new epoch that came before this
// worker learned it, and turns its spouts on or off per t and a.
func (w *Worker) resume(l *share, t store.Topology, a store.Assignment) {
	go w.deliverEarly(channelOf(t.Name), l)
	w.setActive(l, t.Status == store.StatusActive && !a.Draining)
}

func (w *Worker) setActive(l *share, on bool) {
	if l.active.Load() == on {
		return
	}
	l.active.Store(on)
	if on {
		l.rt.Activate()
	} else {
		l.rt.Deactivate()
	}
}

func (w *Worker) startShare(t store.Topology, topo *topology.Topology, a store.Assignment, mine []string) {
	l := &share{name: t.Name, version: t.Version, spec: specOf(t), json: string(t.JSON), workers: t.Workers, epoch: a.Epoch,
		mine: mine, topo: topo, owners: a.Tasks, done: make(chan struct{})}
	l.active.Store(true)
	l.epochNow.Store(a.Epoch)
	// set before the runtime exists: its remote sends use it
	l.ctx, l.cancel = context.WithCancel(context.Background())
	place := &local.Placement{Worker: w.cfg.Name, LocalTasks: map[int]bool{}, LocalAckers: map[int]bool{},
		Remote: &remote{w: w, l: l}}
	ids := taskIDs(topo)
	for _, k := range mine {
		comp, idx, ok := parseKey(k)
		switch {
		case !ok:
		case comp == schedule.AckerID:
			place.LocalAckers[idx] = true
		case idx < len(ids[comp]):
			place.LocalTasks[ids[comp][idx]] = true
		}
	}
	slots, _ := topology.TaskSlots(topo)
	l.keys = keysByID(topo, slots)
	// a share stops when its assignment changes, on every worker at once:
	// trees crossing workers can seldom finish then, and they replay
	// identically, so the drain is short (a kill drains its own time with
	// the spouts off, before this)
	rt, err := local.New(topo, local.Options{Logger: w.log, Placement: place, DrainTimeout: shareDrain})
	if err != nil {
		w.log.Error("cannot build the topology's tasks", "topology", t.Name, "err", err)
		l.cancel()
		return
	}
	l.rt = rt
	ctx := l.ctx
	w.mu.Lock()
	w.running[t.Name] = l
	w.byChan[channelOf(t.Name)] = l
	w.mu.Unlock()
	go w.deliverEarly(channelOf(t.Name), l)
	go func() {
		defer close(l.done)
		if err := rt.Run(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("topology stopped", "topology", t.Name, "err", err)
		}
	}()
	if t.Status != store.StatusActive || a.Draining {
		w.setActive(l, false)
	}
	w.log.Info("running", "topology", t.Name, "version", t.Version, "epoch", a.Epoch, "tasks", len(mine))
}

// stopShare stops this worker's share of a topology (draining briefly).
func (w *Worker) stopShare(l *share) {
	w.mu.Lock()
	if w.running[l.name] == l {
		delete(w.running, l.name)
		delete(w.byChan, channelOf(l.name))
	}
	w.mu.Unlock()
	if l.cancel != nil {
		l.cancel()
		select {
		case <-l.done:
		case <-time.After(shareStopWait):
			// a task stuck in a call (a backend, a send): let it finish
			// alone rather than stop reconciling (the share's next
			// assignment waits for this); its output is fenced
			w.log.Warn("topology tasks slow to stop; going on", "topology", l.name, "waited", shareStopWait)
		}
	}
	if l.rt != nil {
		// what its spouts did, for operators (and the tests counting
		// replays: a failed tree is emitted again)
		var emitted, acked, failed uint64
		for _, c := range l.rt.Stats().Components {
			if c.Kind == topology.KindSpout.String() {
				emitted, acked, failed = emitted+c.Emitted, acked+c.Acked, failed+c.Failed
			}
		}
		w.log.Info("stopped", "topology", l.name, "epoch", l.epochNow.Load(), "spout_emitted", emitted, "spout_acked", acked, "spout_failed", failed)
	}
}

// kill handles a killed topology: spouts off at once; after the drain
// time this worker stops its share, and the leader deletes the records.
// The drain is measured by this worker's monotonic clock from when it first
// saw the kill (never from the record's UpdatedAt, another worker's wall
// clock).
func (w *Worker) kill(ctx context.Context, t store.Topology, leader bool) {
	w.mu.Lock()
	l := w.running[t.Name]
	ks, ok := w.killSeen[t.Name]
	if !ok || ks.version != t.Version {
		ks = killSighting{version: t.Version, at: time.Now()}
		w.killSeen[t.Name] = ks
	}
	w.mu.Unlock()
	deadline := ks.at.Add(time.Duration(t.KillDrainSeconds) * time.Second)
	if l != nil {
		w.setActive(l, false)
		if time.Now().After(deadline) {
			w.stopShare(l)
		}
	}
	if leader && time.Now().After(deadline.Add(2*time.Second)) {
		if a, err := w.st.GetAssignment(ctx, t.Name); err == nil {
			w.st.DeleteAssignment(ctx, t.Name, a.Epoch)
		}
		if err := w.st.DeleteTopology(ctx, t.Name, t.Version); err == nil {
			w.log.Info("killed", "topology", t.Name)
		}
	}
}

// receive takes a frame from another worker.
//
// A frame is [u64 epoch][runtime message]: the epoch of the sender's
// assignment. One of an epoch this worker has not learned yet waits (the
// early buffer): its share may be about to restart with other tasks, and
// the runtime running now would take tuples meant for the next one, which
// then lose them — their trees stalled until the message timeout.
func (w *Worker) receive(from string, channel uint32, payload []byte) {
	epoch, msg, ok := splitFrame(payload)
	if !ok {
		w.log.Warn("bad message from a worker: shorter than its epoch", "from", from, "bytes", len(payload))
		return
	}
	w.mu.Lock()
	l := w.byChan[channel]
	w.mu.Unlock()
	if l == nil || epoch > l.epochNow.Load() {
		// not running here yet (or any more), or for an assignment this
		// worker has yet to read: kept a few seconds for a runtime about
		// to start or move on (early.go), else its tree times out
		w.early.hold(channel, from, payload)
		return
	}
	err := l.rt.Receive(msg)
	switch {
	case errors.Is(err, local.ErrNotLocal):
		// for a task this worker is about to run (a new assignment); but
		// a completion is for a tree a spout task here emitted, which no
		// runtime started later knows
		if kind, _, _ := codec.PeekMessage(msg); kind != codec.MessageEvent {
			w.early.hold(channel, from, payload)
		}
	case err != nil:
		w.log.Warn("bad message from a worker", "from", from, "topology", l.name, "err", err)
	}
}

// deliverEarly hands a runtime that just started the messages that came
// before it.
func (w *Worker) deliverEarly(channel uint32, l *share) {
	for _, m := range w.early.take(channel, l.epochNow.Load()) {
		_, msg, _ := splitFrame(m.payload)
		if err := l.rt.Receive(msg); err != nil && !errors.Is(err, local.ErrNotLocal) {
			w.log.Warn("bad message from a worker", "from", m.from, "topology", l.name, "err", err)
		}
	}
}

// frameEpoch is the size of a frame's epoch (Worker.receive).
const frameEpoch = 8

// splitFrame splits a frame from another worker into its epoch and the
// runtime's message.
func splitFrame(b []byte) (epoch uint64, msg []byte, ok bool) {
	if len(b) < frameEpoch {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(b), b[frameEpoch:], true
}

// channelOf is the transport channel of a topology: the runtimes of one
// topology on two workers exchange their messages (local.Remote,
// Runtime.Receive) on it, opaque to the transport.
func channelOf(topology string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(topology))
	ch := h.Sum32()
	if transport.Reserved(ch) {
		ch &^= 0xF // the transport's own channels (compressed frames)
	}
	return ch
}

// refreshAddrs caches the live members' transport addresses, which every
// message sent to another worker looks up (memberlist's member list is
// behind a lock and copied on every call: too dear per frame). It runs at
// each membership event and on the periodic reconcile.
func (w *Worker) refreshAddrs() {
	addrs := map[string]string{}
	for _, m := range w.ms.Members() {
		addrs[m.Name] = m.Meta.Transport
	}
	w.addrs.Store(&addrs)
}

// transportAddr is the transport address of live worker name, or "".
func (w *Worker) transportAddr(name string) string {
	if m := w.addrs.Load(); m != nil {
		return (*m)[name]
	}
	return ""
}

// remote sends a local runtime's messages to the other workers.
type remote struct {
	w *Worker
	l *share
}

func (r *remote) send(key string, payload []byte) { r.sendTo(r.l.owner(key), payload) }

// sendTo sends payload to worker.
func (r *remote) sendTo(worker string, payload []byte) {
	if worker == "" || worker == r.w.cfg.Name {
		return // unassigned, or moved here since: the tree times out
	}
	addr := r.w.transportAddr(worker)
	if addr == "" {
		return // the worker is gone: the tree times out and replays
	}
	// a send blocked on a full queue (backpressure) ends when the share
	// stops: stopping must not wait for a worker that died (and a dead
	// worker's queue is forgotten when it is declared dead)
	head := binary.BigEndian.AppendUint64(make([]byte, 0, frameEpoch), r.l.epochNow.Load())
	if err := r.w.tr.SendHead(r.l.ctx, worker, addr, channelOf(r.l.name), head, payload); err != nil {
		r.w.log.Warn("send to a worker", "to", worker, "err", err)
	}
}

// SendTask implements local.Remote. A completion for an elastic spout's
// task that just moved goes to both its workers: the tree may have been
// emitted by either (a spout task that moved hands its partitions over
// from one to the other; each ignores the trees it does not know).
func (r *remote) SendTask(task int, msg []byte) {
	key := r.l.keys[task]
	r.send(key, msg)
	if prev := r.l.previous(key); prev != "" {
		r.sendTo(prev, msg)
	}
}

// SendAcker implements local.Remote.
func (r *remote) SendAcker(i int, msg []byte) { r.send(taskKey(schedule.AckerID, i), msg) }
