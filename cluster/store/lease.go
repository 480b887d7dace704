package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// KindLease is the kind of Lease records.
const KindLease Kind = "lease"

// Lease is a record that one holder at a time owns, for a while: the
// cluster's leadership (LeaderLease). It is written with compare-and-set
// on Version, like a Topology.
//
// A lease carries no expiry time: two machines' wall clocks are never
// compared. A holder renews it (a Put, which increases Version) more often
// than TTL; another contender that sees the same Version unchanged for TTL,
// measured by its own monotonic clock from the moment it first saw that
// Version, may take it over (a Put expecting that Version). Elector
// implements the protocol.
type Lease struct {
	// Name is the record's key (the same rules as Topology.Name).
	Name string `json:"name"`
	// Holder names the holder; empty when the lease was released (anyone
	// may take it at once).
	Holder string `json:"holder"`
	// Version counts the writes of the record (1 when created, +1 at every
	// Put); set by the store.
	Version uint64 `json:"version"`
	// TTL is how long the lease stays the holder's after a renewal, as
	// measured by each contender from when it saw the renewal. ≥ 1 ms.
	TTL time.Duration `json:"ttl"`
	// UpdatedAt is when the record was written (the writer's wall clock;
	// informative only); set by the store.
	UpdatedAt time.Time `json:"updated_at"`
}

// LeaderLease is the name of the lease of the cluster's leader, the one
// worker that writes assignments.
const LeaderLease = "leader"

func checkLease(op string, l Lease) error {
	if err := checkName(op, KindLease, l.Name); err != nil {
		return err
	}
	if l.TTL < time.Millisecond {
		return &RecordError{Op: op, Kind: KindLease, Name: l.Name, Err: fmt.Errorf("%w: ttl %v < 1ms", ErrInvalid, l.TTL)}
	}
	return nil
}

// checkLeasePut returns the error of a Put expecting version expected when
// the stored lease is cur (nil: none), or nil.
func checkLeasePut(name string, cur *Lease, expected uint64) error {
	var have uint64
	if cur != nil {
		have = cur.Version
	}
	return checkVersion(KindLease, name, cur != nil, have, expected)
}

func nextLease(l Lease, cur *Lease, now time.Time) Lease {
	l.Version = 1
	if cur != nil {
		l.Version = cur.Version + 1
	}
	l.UpdatedAt = now
	return l
}

type leaseWire struct {
	Format    int       `json:"format"`
	Name      string    `json:"name"`
	Holder    string    `json:"holder"`
	Version   uint64    `json:"version"`
	TTLMillis int64     `json:"ttl_ms"`
	UpdatedAt time.Time `json:"updated_at"`
}

func encodeLease(l Lease) ([]byte, error) {
	return json.MarshalIndent(leaseWire{Format: wireFormat, Name: l.Name, Holder: l.Holder, Version: l.Version,
		TTLMillis: l.TTL.Milliseconds(), UpdatedAt: l.UpdatedAt}, "", "  ")
}

// decodeLease decodes a stored lease; errors match ErrCorrupt.
func decodeLease(b []byte) (Lease, error) {
	var w leaseWire
	if err := strictUnmarshal(b, &w); err != nil {
		return Lease{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if w.Format != wireFormat {
		return Lease{}, fmt.Errorf("%w: format %d, want %d", ErrCorrupt, w.Format, wireFormat)
	}
	l := Lease{Name: w.Name, Holder: w.Holder, Version: w.Version, TTL: time.Duration(w.TTLMillis) * time.Millisecond, UpdatedAt: w.UpdatedAt}
	if err := checkLease("decode", l); err != nil {
		return Lease{}, corruptRecord(err)
	}
	if l.Version == 0 {
		return Lease{}, fmt.Errorf("%w: lease version 0", ErrCorrupt)
	}
	return l, nil
}

// ElectorConfig configures an Elector.
type ElectorConfig struct {
	// Store holds the lease. Required.
	Store Store
	// Lease names the lease (default LeaderLease).
	Lease string
	// Holder is this contender's name, unique among the contenders.
	// Required.
	Holder string
	// TTL is how long a lease stays its holder's without a renewal
	// (default 3 s); the holder renews it every TTL/3 (Run).
	TTL time.Duration
	// Now is the clock; nil means time.Now, whose monotonic reading makes
	// the durations immune to jumps of the wall clock. Tests inject a
	// fake one.
	Now func() time.Time
}

// Elector takes, holds and renews a Lease for one contender, so that at
// most one contender at a time believes it leads:
//
//   - the holder leads until the time it started its last successful
//     write plus TTL (by its own clock), and renews every TTL/3;
//   - another contender takes the lease over only after it saw the same
//     Version for TTL by its own clock, starting when it first read it —
//     which is after the holder started writing it — so the holder's
//     time is up before a taker can write;
//   - a released lease (no Holder), or none, is taken at once.
//
// The durations are local: wall clocks of different machines are never
// compared, so a worker whose wall clock is off or jumps neither keeps nor
// loses the lease for it. (It assumes clocks that tick at about the same
// rate, which the TTL's margin absorbs.) The store's compare-and-set makes
// one of concurrent takers win.
//
// Its methods are safe for concurrent use.
type Elector struct {
	cfg ElectorConfig

	step sync.Mutex // serialises Tick and Release (held over store calls)

	mu sync.Mutex // guards the fields below (never held over a store call)
	// mine is the version this contender last wrote (0: none);
	// validUntil when its leadership ends (zero: not leading).
	mine       uint64
	validUntil time.Time
	// seen is the latest lease read (holder and version), seenAt when this
	// contender first read that version.
	seen   Lease
	seenAt time.Time
}

// NewElector validates cfg and returns an Elector that does not lead yet.
func NewElector(cfg ElectorConfig) (*Elector, error) {
	if cfg.Store == nil || cfg.Holder == "" {
		return nil, errors.New("elector: a store and a holder name are required")
	}
	if cfg.Lease == "" {
		cfg.Lease = LeaderLease
	}
	if cfg.TTL == 0 {
		cfg.TTL = 3 * time.Second
	}
	if cfg.TTL < 3*time.Millisecond {
		return nil, fmt.Errorf("elector: ttl %v too short", cfg.TTL)
	}
	if err := checkName("elect", KindLease, cfg.Lease); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Elector{cfg: cfg}, nil
}

// Leading reports whether this contender holds the lease now.
func (e *Elector) Leading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leadingLocked(e.cfg.Now())
}

func (e *Elector) leadingLocked(now time.Time) bool {
	return !e.validUntil.IsZero() && now.Before(e.validUntil)
}

// Tick does one step of the protocol: renews the lease when this
// contender holds it, takes it when it is free or expired, and otherwise
// notes what it saw. It returns whether this contender leads afterwards.
// An error of the store leaves the leadership to expire on its own.
func (e *Elector) Tick(ctx context.Context) (bool, error) {
	e.step.Lock()
	defer e.step.Unlock()
	start := e.cfg.Now()
	cur, err := e.cfg.Store.GetLease(ctx, e.cfg.Lease)
	// whatever version was read, its writer started writing it before now
	read := e.cfg.Now()
	e.mu.Lock()
	mine := e.mine
	var expected uint64
	switch {
	case errors.Is(err, ErrNotFound):
		// none yet: create it
	case err != nil:
		e.mu.Unlock()
		return e.Leading(), err
	case cur.Holder == e.cfg.Holder && cur.Version == mine:
		expected = cur.Version // ours: renew
	case cur.Holder == e.cfg.Holder && mine == 0, cur.Holder == "":
		// a lease of this holder's previous incarnation, or released
		expected = cur.Version
	default:
		if cur.Version != e.seen.Version || cur.Holder != e.seen.Holder || e.seenAt.IsZero() {
			e.seen, e.seenAt = cur, read
		}
		e.mine, e.validUntil = 0, time.Time{}
		if read.Sub(e.seenAt) < cur.TTL {
			e.mu.Unlock()
			return false, nil
		}
		expected = cur.Version // expired by our clock: take it over
	}
	e.mu.Unlock()
	l, err := e.cfg.Store.PutLease(ctx, Lease{Name: e.cfg.Lease, Holder: e.cfg.Holder, TTL: e.cfg.TTL}, expected)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		// a write that failed otherwise may have happened: not leading
		// either way; a later Tick sees whose the lease is
		e.validUntil = time.Time{}
		if errors.Is(err, ErrConflict) {
			return false, nil // someone else was faster
		}
		return false, err
	}
	e.mine, e.seen, e.seenAt = l.Version, l, start
	e.validUntil = start.Add(e.cfg.TTL)
	return e.leadingLocked(e.cfg.Now()), nil
}

// Release gives the lease up if this contender holds it, so that another
// takes it at once.
func (e *Elector) Release(ctx context.Context) error {
	e.step.Lock()
	defer e.step.Unlock()
	e.mu.Lock()
	mine := e.mine
	e.mine, e.validUntil = 0, time.Time{}
	e.mu.Unlock()
	if mine == 0 {
		return nil
	}
	_, err := e.cfg.Store.PutLease(ctx, Lease{Name: e.cfg.Lease, TTL: e.cfg.TTL}, mine)
	if errors.Is(err, ErrConflict) {
		return nil // not ours any more
	}
	return err
}

// Run renews or tries to take the lease every TTL/3 until ctx ends, then
// releases it (if held). changed, if not nil, is called when the
// leadership changes (taken, lost or expired).
func (e *Elector) Run(ctx context.Context, changed func(leading bool)) {
	t := time.NewTicker(e.cfg.TTL / 3)
	defer t.Stop()
	was := false
	for {
		leading, _ := e.Tick(ctx)
		if leading != was && changed != nil {
			changed(leading)
		}
		was = leading
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.Background(), e.cfg.TTL)
			_ = e.Release(rctx)
			cancel()
			return
		case <-t.C:
		}
	}
}
