// Package membership tells a Gale worker who else is in the cluster: a
// thin layer over hashicorp/memberlist (SWIM gossip, failure detection)
// that carries each worker's addresses and slots as node metadata.
//
//	m, err := membership.Join(membership.Config{Name: "w1", Bind: "127.0.0.1:7946",
//		Join: []string{"127.0.0.1:7947"}, Meta: membership.Meta{API: "127.0.0.1:8080"}})
//	for _, w := range m.Members() { ... } // the live workers, by name
//	for ev := range m.Events() { ... }   // joins, leaves, failures, updates
//
// Failure detection is tuned for a LAN: a worker that stops answering is
// suspected within about a second and declared dead within a few (the
// scheduler then moves its tasks). With a Key the gossip is encrypted
// (AES-GCM); a worker started with another key cannot join and says so.
package membership

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Meta is what a worker tells the others about itself.
type Meta struct {
	// API is the worker's HTTP API and UI address.
	API string `json:"api,omitempty"`
	// Transport is the address other workers send tuples to.
	Transport string `json:"transport,omitempty"`
	// Slots is how many tasks the worker takes at most (0: no limit).
	Slots int `json:"slots,omitempty"`
	// Started is when the worker process started.
	Started time.Time `json:"started"`
	// Version is the gale version.
	Version string `json:"version,omitempty"`
	// Types lists the component types compiled into the worker, so a
	// topology needing a type some worker lacks can be refused. It is left
	// out when the metadata would not fit in gossip (512 bytes): then
	// TypesHash still tells whether the worker has the same types as
	// another.
	Types []string `json:"types,omitempty"`
	// TypesHash identifies the sorted type list (TypesHashOf).
	TypesHash string `json:"types_hash,omitempty"`
	// TLS: the API is served over HTTPS.
	TLS bool `json:"tls,omitempty"`
	// Leaving: the worker is shutting down gracefully (SIGTERM): the
	// leader moves its tasks away, after a drain, and gives it no new one.
	Leaving bool `json:"leaving,omitempty"`
	// Isolated: the worker cannot reach the cluster store (it stopped its
	// tasks): the leader gives them to the others at once, as for a dead
	// worker, until it reaches the store again.
	Isolated bool `json:"isolated,omitempty"`
}

// TypesHashOf is the TypesHash of a type list: the first 8 bytes of the
// SHA-256 of the sorted names, in hex.
func TypesHashOf(types []string) string {
	sorted := slices.Sorted(slices.Values(types))
	h := sha256.Sum256([]byte(strings.Join(sorted, "\x00")))
	return hex.EncodeToString(h[:8])
}

// Member is one worker as this one sees it.
type Member struct {
	Name string `json:"name"`
	// Addr is the gossip address.
	Addr  string `json:"addr"`
	Meta  Meta   `json:"meta"`
	State State  `json:"state"`
	// Since is when this worker last saw the member's state change.
	Since time.Time `json:"since"`
}

// State of a member.
type State string

// States.
const (
	Alive   State = "alive"
	Suspect State = "suspect"
	Dead    State = "dead"
	Left    State = "left"
)

// EventKind says what happened to a member.
type EventKind string

// Event kinds.
const (
	Joined  EventKind = "joined"
	Gone    EventKind = "gone" // left or declared dead
	Updated EventKind = "updated"
)

// Event is a change of membership.
type Event struct {
	Kind   EventKind
	Member Member
	At     time.Time
}

// Config of a worker's membership.
type Config struct {
	// Name is the worker's unique name.
	Name string
	// Bind is the gossip address (host:port; port 0 picks one).
	Bind string
	// Advertise, when set, is the address others use (NAT, containers).
	Advertise string
	// Join lists addresses of workers already in the cluster (any one
	// that answers is enough); empty starts a new cluster.
	Join []string
	// Key encrypts the gossip (16, 24 or 32 bytes); all workers need the
	// same.
	Key  []byte
	Meta Meta
	// Logger gets memberlist's logs (warnings and up) and ours.
	Logger *slog.Logger
	// ReconnectInterval is how often this worker tries to reach again the
	// members it holds dead (default 1 s), for ReconnectFor after they
	// died (default 24 h; see reconnect).
	ReconnectInterval, ReconnectFor time.Duration

	// transport, when set, wraps the gossip's network transport (tests:
	// a link that can be cut).
	transport func(memberlist.Transport) memberlist.Transport
	// tune, when set, changes memberlist's configuration (tests)
	tune func(*memberlist.Config)
	// ProbeInterval and SuspicionMult tune failure detection (defaults
	// 500 ms and 3: a silent worker is dead after about 2-4 s).
	ProbeInterval time.Duration
	SuspicionMult int
	// JoinTimeout bounds the retries of a join nobody answers (default
	// 10 s: workers started at the same time find each other).
	JoinTimeout time.Duration
	// ResolveTimeout bounds the retries while the join names resolve to
	// no address at all, not even this worker's (default 60 s: time for
	// DNS to publish a new pod); then Join fails with ErrNoAddress, Rejoin
	// or not — a misspelt name is an error to see, not a worker to run
	// alone.
	ResolveTimeout time.Duration
	// Rejoin, when positive, keeps joining through Join while the worker
	// runs: Join then does not fail when nobody answers within
	// JoinTimeout (the worker runs alone and retries with a backoff of
	// 1-5 s), and once it has peers it resolves the names again every
	// Rejoin and joins the addresses that are not members yet (the pods
	// behind a headless Kubernetes service). 0: Join fails when nobody
	// answers within JoinTimeout, and never retries later. A gossip key
	// that differs fails Join either way.
	Rejoin time.Duration
	// Resolver looks up the host names of Join, every address of each
	// (default net.DefaultResolver). A name without a port gets
	// DefaultPort.
	Resolver Resolver
}

// Membership is a worker's live view of the cluster.
type Membership struct {
	ml     *memberlist.Memberlist
	log    *slog.Logger
	events chan Event

	joiner  *joiner // nil without Config.Join
	bindAll bool    // bound to every interface (0.0.0.0, ::)
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup // the joiner's and the reconnect loops

	mu      sync.Mutex
	meta    []byte
	members map[string]*Member // every member seen, by name
	leaving map[string]bool    // members that said goodbye

	started  time.Time  // Meta.Started: the older of two same-named workers stays
	conflict chan error // a worker of the same name, older: this one must stop
}

// ErrKey: the gossip key does not have a valid AES size.
var ErrKey = errors.New("gossip key must be 16, 24 or 32 bytes")

// Join starts the worker's gossip and joins the cluster through cfg.Join.
// An error names the addresses tried; with a wrong Key, the others'
// messages cannot be decrypted and joining fails.
func Join(cfg Config) (*Membership, error) {
	if cfg.Name == "" {
		return nil, errors.New("membership: a worker needs a name")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Membership{log: cfg.Logger, events: make(chan Event, 256), stop: make(chan struct{}),
		members: map[string]*Member{}, leaving: map[string]bool{}}
	meta, err := json.Marshal(cfg.Meta)
	if err != nil {
		return nil, err
	}
	m.meta = meta
	m.started, m.conflict = cfg.Meta.Started, make(chan error, 1)

	c := memberlist.DefaultLocalConfig()
	c.Name = cfg.Name
	host, port, err := splitHostPort(cfg.Bind, 7946)
	if err != nil {
		return nil, fmt.Errorf("membership: bind %q: %w", cfg.Bind, err)
	}
	c.BindAddr, c.BindPort = host, port
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		m.bindAll = true
	}
	c.AdvertisePort = port
	if cfg.Advertise != "" {
		ah, ap, err := splitHostPort(cfg.Advertise, port)
		if err != nil {
			return nil, fmt.Errorf("membership: advertise %q: %w", cfg.Advertise, err)
		}
		c.AdvertiseAddr, c.AdvertisePort = ah, ap
	}
	c.ProbeInterval = cmpOr(cfg.ProbeInterval, 500*time.Millisecond)
	c.ProbeTimeout = c.ProbeInterval / 2
	c.SuspicionMult = cmpOr(cfg.SuspicionMult, 3)
	// a suspect is declared dead after SuspicionMult probe intervals,
	// at most twice that without confirmations (few workers)
	c.SuspicionMaxTimeoutMult = 2
	c.GossipInterval = 100 * time.Millisecond
	c.PushPullInterval = 10 * time.Second
	c.Delegate = (*delegate)(m)
	c.Events = (*eventDelegate)(m)
	c.Conflict = (*conflictDelegate)(m)
	c.Logger = log.New(&slogWriter{m.log}, "", 0)
	if cfg.Key != nil {
		switch len(cfg.Key) {
		case 16, 24, 32:
		default:
			return nil, fmt.Errorf("membership: %w (got %d)", ErrKey, len(cfg.Key))
		}
		c.SecretKey = cfg.Key
		c.GossipVerifyIncoming, c.GossipVerifyOutgoing = true, true
	}
	if cfg.tune != nil {
		cfg.tune(c)
	}
	if cfg.transport != nil {
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{host}, BindPort: port, Logger: c.Logger})
		if err != nil {
			return nil, fmt.Errorf("membership: start gossip on %s: %w", cfg.Bind, err)
		}
		c.Transport = cfg.transport(nt)
	}
	ml, err := memberlist.Create(c)
	if err != nil {
		return nil, fmt.Errorf("membership: start gossip on %s: %w", cfg.Bind, err)
	}
	m.ml = ml
	if len(cfg.Join) > 0 {
		// workers started together: retry a while until one answers
		// (joiner.start). Names are resolved here, every address record
		// of each, rather than by memberlist (which asks the first
		// nameserver of resolv.conf for ANY records over TCP, and takes
		// the bind port as the default).
		m.joiner = &joiner{m: m, names: cfg.Join, resolver: cfg.Resolver, timeout: 5 * time.Second}
		if m.joiner.resolver == nil {
			m.joiner.resolver = net.DefaultResolver
		}
		var said string
		if err := m.joiner.start(cmpOr(cfg.JoinTimeout, 10*time.Second), cmpOr(cfg.ResolveTimeout, 60*time.Second)); err != nil {
			// a wrong key, or names that resolve to nothing: exit, clearly
			// (a crash loop an operator sees), rather than run alone
			if cfg.Rejoin <= 0 || keyError(err) || errors.Is(err, ErrNoAddress) {
				ml.Shutdown()
				hint := ""
				if keyError(err) || cfg.Key != nil {
					hint = " (do all workers use the same gossip key?)"
				}
				return nil, fmt.Errorf("membership: join %v: %w%s", cfg.Join, err, hint)
			}
			m.log.Warn("join: no other worker found or answering; running alone and retrying", "join", cfg.Join, "err", err)
			said = err.Error()
		}
		if cfg.Rejoin > 0 {
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				m.joiner.run(m.stop, cfg.Rejoin, said)
			}()
		}
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.reconnect(cmpOr(cfg.ReconnectInterval, time.Second), cmpOr(cfg.ReconnectFor, 24*time.Hour))
	}()
	return m, nil
}

// reconnect tries, every interval, to reach again each member this worker
// holds dead (not one that left) for up to dur after it died: a push/pull
// of the member lists with it, as a join does. memberlist itself never
// looks for a member it declared dead, so after a network partition heals
// each side would go on without the other for good (both alive, each
// dead to the other). The first push/pull makes each side refute the
// other's verdict (a higher incarnation); the next one carries it.
func (m *Membership) reconnect(interval, dur time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	// a member that does not answer is tried less and less often (up to
	// every 8 intervals: memberlist logs each failed try)
	type try struct {
		since time.Time // the member's death this backoff is about
		next  time.Time
		wait  time.Duration
	}
	tries := map[string]*try{}
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		for _, x := range m.All() {
			if x.State != Dead || x.Name == m.Name() || time.Since(x.Since) > dur {
				delete(tries, x.Name)
				continue
			}
			tr := tries[x.Name]
			if tr == nil || !tr.since.Equal(x.Since) {
				tr = &try{since: x.Since, wait: interval}
				tries[x.Name] = tr
			}
			if time.Now().Before(tr.next) {
				continue
			}
			select {
			case <-m.stop:
				return
			default:
			}
			if _, err := m.ml.Join([]string{x.Addr}); err == nil {
				m.log.Info("reached a member held dead: member lists exchanged", "member", x.Name, "addr", x.Addr)
				tr.wait = interval
			} else {
				tr.wait = min(2*tr.wait, 8*interval)
			}
			tr.next = time.Now().Add(tr.wait)
		}
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func splitHostPort(addr string, defPort int) (string, int, error) {
	if addr == "" {
		return "127.0.0.1", defPort, nil
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// Addr returns the gossip address others join through.
func (m *Membership) Addr() string {
	n := m.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// Name returns this worker's name.
func (m *Membership) Name() string { return m.ml.LocalNode().Name }

// Members returns the live members (this worker included), by name.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.members))
	for _, x := range m.members {
		if x.State == Alive || x.State == Suspect {
			out = append(out, *x)
		}
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// All returns every member this worker has seen, alive or not, by name.
func (m *Membership) All() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.members))
	for _, x := range m.members {
		out = append(out, *x)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func state(s memberlist.NodeStateType) State {
	switch s {
	case memberlist.StateAlive:
		return Alive
	case memberlist.StateSuspect:
		return Suspect
	case memberlist.StateLeft:
		return Left
	}
	return Dead
}

// Events delivers membership changes. The channel is buffered; a consumer
// that falls far behind loses events (it can always read Members).
func (m *Membership) Events() <-chan Event { return m.events }

// UpdateMeta changes this worker's metadata and gossips it.
func (m *Membership) UpdateMeta(meta Meta, timeout time.Duration) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.meta = b
	m.mu.Unlock()
	return m.ml.UpdateNode(timeout)
}

// Leave tells the others this worker is going (they see it as left, not
// failed), waiting up to timeout for the message to spread, then stops.
func (m *Membership) Leave(timeout time.Duration) error {
	// memberlist's leave does not say "left" to the others' event
	// handlers: say goodbye first so that they can tell it from a failure
	msg := []byte(leaveMsg + m.Name())
	for _, x := range m.Members() {
		if x.Name == m.Name() {
			continue
		}
		host, port, err := splitHostPort(x.Addr, 0)
		if ip := net.ParseIP(host); err == nil && ip != nil {
			if err := m.ml.SendReliable(&memberlist.Node{Name: x.Name, Addr: ip, Port: uint16(port)}, msg); err != nil {
				m.log.Warn("leave: goodbye not delivered", "member", x.Name, "err", err)
			}
		}
	}
	m.stopJoining()
	err := m.ml.Leave(timeout)
	return errors.Join(err, m.ml.Shutdown())
}

// stopJoining ends the joiner's loop and waits for it.
func (m *Membership) stopJoining() {
	m.stopped.Do(func() { close(m.stop) })
	m.wg.Wait()
}

const leaveMsg = "gale-leave:"

// ErrNameTaken: another worker of the same name runs (and started
// first).
var ErrNameTaken = errors.New("another worker has this name")

// Conflicts delivers ErrNameTaken (once) when a worker of the same name,
// started before this one, is found at another address: names are
// unique, and the newer worker must stop.
func (m *Membership) Conflicts() <-chan error { return m.conflict }

type conflictDelegate Membership

// NotifyConflict: memberlist saw two nodes of one name; the newer one
// (by Meta.Started) is told to stop, the older goes on.
func (d *conflictDelegate) NotifyConflict(existing, other *memberlist.Node) {
	// called with memberlist's node lock held: no call into it here
	// (LocalNode would deadlock); this worker's node carries its meta
	m := (*Membership)(d)
	m.mu.Lock()
	mine := m.meta
	m.mu.Unlock()
	peer := other
	if !bytes.Equal(existing.Meta, mine) {
		peer = existing
	}
	var meta Meta
	_ = json.Unmarshal(peer.Meta, &meta)
	if meta.Started.IsZero() || !meta.Started.Before(m.started) {
		m.log.Error("another worker claims this worker's name; it started later and is told to stop", "name", peer.Name,
			"other", peer.Address())
		return
	}
	select {
	case m.conflict <- fmt.Errorf("%w: %q runs at %s since %s; give this worker another --name", ErrNameTaken, peer.Name,
		peer.Address(), meta.Started.Format(time.RFC3339)):
	default:
	}
}

// Shutdown stops gossiping without a goodbye (the others detect a failure).
func (m *Membership) Shutdown() error {
	m.stopJoining()
	return m.ml.Shutdown()
}

// note records a notification. memberlist calls it with its node lock
// held: it is the only safe moment to read a *memberlist.Node, so the
// member list is kept here rather than read from memberlist.Members.
func (m *Membership) note(kind EventKind, n *memberlist.Node) {
	x := Member{Name: n.Name, Addr: net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port))), State: state(n.State)}
	_ = json.Unmarshal(n.Meta, &x.Meta)
	now := time.Now()
	m.mu.Lock()
	switch {
	case kind == Gone && m.leaving[n.Name]:
		x.State = Left
	case kind == Gone:
		x.State = Dead // memberlist's node still reads alive here
	default:
		delete(m.leaving, n.Name) // back again
	}
	prev := m.members[n.Name]
	x.Since = now
	if prev != nil && prev.State == x.State {
		x.Since = prev.Since
	}
	m.members[n.Name] = &x
	m.mu.Unlock()
	if kind == Gone {
		m.log.Warn("worker gone", "member", n.Name, "state", x.State)
	} else if kind == Joined {
		m.log.Info("worker joined", "member", n.Name, "addr", x.Addr)
	}
	select {
	case m.events <- Event{Kind: kind, Member: x, At: now}:
	default:
	}
}

type eventDelegate Membership

func (e *eventDelegate) NotifyJoin(n *memberlist.Node)   { (*Membership)(e).note(Joined, n) }
func (e *eventDelegate) NotifyLeave(n *memberlist.Node)  { (*Membership)(e).note(Gone, n) }
func (e *eventDelegate) NotifyUpdate(n *memberlist.Node) { (*Membership)(e).note(Updated, n) }

type delegate Membership

func (d *delegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.meta) > limit {
		(*Membership)(d).log.Warn("worker metadata too large for gossip: sent with the hash of its component types only",
			"bytes", len(d.meta), "limit", limit)
		var meta Meta
		_ = json.Unmarshal(d.meta, &meta)
		meta.Types = nil
		b, _ := json.Marshal(meta)
		return b
	}
	return d.meta
}
func (d *delegate) NotifyMsg(b []byte) {
	if name, ok := strings.CutPrefix(string(b), leaveMsg); ok {
		d.mu.Lock()
		d.leaving[name] = true
		d.mu.Unlock()
	}
}
func (d *delegate) GetBroadcasts(int, int) [][]byte { return nil }
func (d *delegate) LocalState(bool) []byte          { return nil }
func (d *delegate) MergeRemoteState([]byte, bool)   {}

// slogWriter turns memberlist's log lines ("[WARN] memberlist: ...") into
// slog records, dropping debug chatter.
type slogWriter struct{ log *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	switch {
	case strings.Contains(line, "[DEBUG]"):
	case strings.Contains(line, "[ERR]"):
		w.log.Error(strings.TrimSpace(strings.SplitN(line, "[ERR]", 2)[1]))
	case strings.Contains(line, "[WARN]"):
		w.log.Warn(strings.TrimSpace(strings.SplitN(line, "[WARN]", 2)[1]))
	default:
		w.log.Info(line)
	}
	return len(p), nil
}

var _ io.Writer = (*slogWriter)(nil)
