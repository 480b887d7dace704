package membership

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultPort is the gossip port of a join address given without one
// ("gale-gossip.ns.svc" means "gale-gossip.ns.svc:7946").
const DefaultPort = 7946

// Resolver looks up the addresses of a host name. *net.Resolver is one;
// tests give their own.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// JoinState is how joining through Config.Join went at the last attempt.
type JoinState struct {
	// Names are Config.Join (empty: this worker started a cluster).
	Names []string
	// Tried is when the last attempt ended (zero: none yet).
	Tried time.Time
	// Others is how many addresses of other workers the names resolved
	// to; Self says that one of them was this worker's own.
	Others int
	Self   bool
	// Answered is how many of the addresses tried answered.
	Answered int
	// Err is what went wrong (names that did not resolve, addresses that
	// did not answer), nil when nothing did.
	Err error
}

// First says that the join names resolve to this worker only: no other
// worker is known to DNS, so this one starts the cluster (the first pod
// of a StatefulSet, whose headless service publishes not-ready pods).
func (s JoinState) First() bool { return !s.Tried.IsZero() && s.Err == nil && s.Self && s.Others == 0 }

// ErrNoAddress: the join names resolved to no address at all.
var ErrNoAddress = errors.New("the join names resolve to no address")

// joiner joins the cluster through names that it resolves again at every
// attempt: a Kubernetes headless service gives one address per pod, and
// pods come and go.
type joiner struct {
	m        *Membership
	names    []string
	resolver Resolver
	timeout  time.Duration // per attempt

	mu    sync.Mutex // guards state
	state JoinState
}

// resolve turns the join names into gossip addresses (ip:port), every
// address record of each name, and says which is this worker's own.
func (j *joiner) resolve(ctx context.Context) (others []string, self bool, err error) {
	var errs []error
	seen := map[string]bool{}
	for _, name := range j.names {
		host, port, perr := joinHostPort(name)
		if perr != nil {
			errs = append(errs, perr)
			continue
		}
		var ips []net.IP
		if ip := net.ParseIP(host); ip != nil {
			ips = []net.IP{ip}
		} else {
			addrs, lerr := j.resolver.LookupIPAddr(ctx, host)
			if lerr == nil && len(addrs) == 0 {
				lerr = errors.New("no address")
			}
			if lerr != nil {
				errs = append(errs, fmt.Errorf("resolve %s: %w", host, lerr))
				continue
			}
			for _, a := range addrs {
				ips = append(ips, a.IP)
			}
		}
		for _, ip := range ips {
			a := net.JoinHostPort(ip.String(), strconv.Itoa(port))
			switch {
			case seen[a]:
			case j.m.isSelf(ip, port):
				self = true
			default:
				others = append(others, a)
			}
			seen[a] = true
		}
	}
	return others, self, errors.Join(errs...)
}

// joinHostPort splits a join address, giving DefaultPort to a name
// without one.
func joinHostPort(s string) (string, int, error) {
	s = strings.TrimSpace(s)
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		// no port: a name, an IPv4 address or a bare IPv6 address
		host, p = strings.Trim(s, "[]"), strconv.Itoa(DefaultPort)
	}
	port, perr := strconv.Atoi(p)
	if host == "" || perr != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("join address %q: want HOST[:PORT]", s)
	}
	return host, port, nil
}

// attempt resolves the names and joins the addresses that are not yet
// members. It returns the new state.
func (j *joiner) attempt() JoinState {
	ctx, cancel := context.WithTimeout(context.Background(), j.timeout)
	defer cancel()
	others, self, err := j.resolve(ctx)
	st := JoinState{Names: j.names, Others: len(others), Self: self}
	members := map[string]bool{}
	for _, x := range j.m.Members() {
		members[x.Addr] = true
	}
	var todo []string
	for _, a := range others {
		if !members[a] {
			todo = append(todo, a)
		}
	}
	if len(todo) > 0 {
		n, jerr := j.m.ml.Join(todo)
		st.Answered = n
		if jerr != nil && n < len(todo) {
			err = errors.Join(err, fmt.Errorf("join %s: %w", strings.Join(todo, ","), jerr))
		}
	}
	st.Err, st.Tried = err, time.Now()
	j.mu.Lock()
	j.state = st
	j.mu.Unlock()
	return st
}

func (j *joiner) get() JoinState {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state
}

// keyError: err says the gossip key differs (memberlist reports it only
// in text, through go-multierror: "No installed keys could decrypt the
// message", "remote state is encrypted and encryption is not configured").
func keyError(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "decrypt") || strings.Contains(err.Error(), "encrypt"))
}

// start tries to join until another worker answers, the names resolve to
// this worker only (it is the first), the key is refused, or timeout
// passes — resolveTimeout while the names resolve to no address at all;
// it returns the last error in the last two cases (ErrNoAddress in the
// last).
func (j *joiner) start(timeout, resolveTimeout time.Duration) error {
	began := time.Now()
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		st := j.attempt()
		if st.Answered > 0 || st.First() || len(j.m.Members()) > 1 {
			if st.First() {
				j.m.log.Info("join: the names resolve to this worker only: it starts the cluster", "join", j.names)
			}
			return nil
		}
		nothing := st.Err != nil && st.Others == 0 && !st.Self
		limit := timeout
		if nothing {
			limit = max(timeout, resolveTimeout)
			if time.Since(began) < limit {
				j.m.log.Warn("join: the names resolve to no address yet; retrying", "join", j.names, "err", st.Err,
					"gives up in", (limit - time.Since(began)).Round(time.Second))
			}
		}
		if keyError(st.Err) || time.Since(began)+wait > limit {
			if nothing {
				return fmt.Errorf("%w (after %v of retries): %w", ErrNoAddress, time.Since(began).Round(time.Second), st.Err)
			}
			return st.Err
		}
		time.Sleep(wait)
	}
}

// run resolves and joins again until stop is closed: every interval while
// this worker has peers, with a backoff (1 s up to 5 s, at most
// interval) while it is alone. Failures are logged when they change, and
// at least every 30 s while they last.
func (j *joiner) run(stop <-chan struct{}, interval time.Duration, said string) {
	alone := min(interval, 5*time.Second)
	wait := min(time.Second, alone)
	saidAt := time.Now() // said: what the start logged ("" nothing)
	for {
		if len(j.m.Members()) > 1 {
			wait = interval
		}
		t := time.NewTimer(wait)
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
		st := j.attempt()
		switch {
		case st.Err != nil && (st.Err.Error() != said || time.Since(saidAt) > 30*time.Second):
			msg := "join: retrying"
			if len(j.m.Members()) <= 1 {
				msg = "join: no other worker found or answering; running alone and retrying"
			}
			j.m.log.Warn(msg, "join", j.names, "err", st.Err, "next", wait)
			said, saidAt = st.Err.Error(), time.Now()
		case st.Err == nil && said != "":
			j.m.log.Info("join: resolved and joined again", "join", j.names, "members", len(j.m.Members()))
			said = ""
		}
		if len(j.m.Members()) > 1 {
			wait = interval
		} else {
			wait = min(2*wait, alone)
		}
	}
}

// isSelf: ip:port is this worker's gossip address (its advertised one,
// or, bound to all interfaces, one of this host's addresses).
func (m *Membership) isSelf(ip net.IP, port int) bool {
	n := m.ml.LocalNode()
	if int(n.Port) != port {
		return false
	}
	if n.Addr.Equal(ip) {
		return true
	}
	if !m.bindAll {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	return slices.ContainsFunc(addrs, func(a net.Addr) bool {
		in, ok := a.(*net.IPNet)
		return ok && in.IP.Equal(ip)
	})
}

// JoinState returns how joining through Config.Join went at the last
// attempt (the zero JoinState without Config.Join).
func (m *Membership) JoinState() JoinState {
	if m.joiner == nil {
		return JoinState{}
	}
	return m.joiner.get()
}
