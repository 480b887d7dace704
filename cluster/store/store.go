package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/gale-stream/gale/internal/wallclock"
)

// Status is the lifecycle state of a submitted topology.
type Status string

// The statuses of a topology.
const (
	// StatusActive: the spouts emit.
	StatusActive Status = "active"
	// StatusInactive: deactivated; the tasks stay placed but the spouts do
	// not emit.
	StatusInactive Status = "inactive"
	// StatusKilled: being (or done being) killed; its tasks drain for
	// Topology.KillDrainSeconds and then stop.
	StatusKilled Status = "killed"
)

// Valid reports whether s is one of the three statuses.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusInactive || s == StatusKilled
}

// Topology is the record of one submitted topology.
//
// The caller sets Name, JSON, Status, Parallelism, Workers and
// KillDrainSeconds; the store sets Version, SubmittedAt and UpdatedAt on
// every Put (the values a caller puts there are ignored).
type Topology struct {
	// Name is the topology's name, the record's key: 1 to MaxNameLen
	// letters, digits, '_', '.' and '-' (the names topology validation
	// accepts).
	Name string `json:"name"`
	// JSON is the submitted topology file, kept byte for byte (it must be
	// valid JSON; an empty JSON is allowed and stays empty).
	JSON json.RawMessage `json:"json,omitempty"`
	// Version counts the changes of the record: 1 when created, +1 at
	// every Put. A record deleted and created again starts at 1 again.
	Version uint64 `json:"version"`
	// Status is active, inactive or killed; an empty Status is stored as
	// StatusActive.
	Status Status `json:"status"`
	// SubmittedAt is when the record was created (kept by updates).
	SubmittedAt time.Time `json:"submitted_at"`
	// UpdatedAt is when the record was last written.
	UpdatedAt time.Time `json:"updated_at"`
	// Parallelism overrides the parallelism of components (by component
	// id) set by a rebalance; components not named keep the parallelism of
	// the JSON. Values are ≥ 1.
	Parallelism map[string]int `json:"parallelism,omitempty"`
	// Workers is the number of workers the topology may use; 0 means the
	// default (the topology's own setting, or all).
	Workers int `json:"workers,omitempty"`
	// KillDrainSeconds is how long a killed topology's spouts stay
	// deactivated before its tasks stop (set with StatusKilled).
	KillDrainSeconds int `json:"kill_drain_seconds,omitempty"`
	// Rescale is a change of Parallelism or Workers waiting to be applied
	// (a rebalance): the leader first pauses the topology's spouts until
	// nothing is in flight, then applies it, so that no tree replays.
	Rescale *Rescale `json:"rescale,omitempty"`
	// Scaling is the autoscaler's state of the topology: whether an
	// operator paused it, when it last changed each component, and its
	// latest decisions with their reasons (so that a new leader goes on
	// from them).
	Scaling *Scaling `json:"scaling,omitempty"`
}

// MaxScalingDecisions bounds Scaling.Decisions.
const MaxScalingDecisions = 20

// Scaling is the autoscaler's state of one topology.
type Scaling struct {
	// Paused: gale autoscale off.
	Paused bool `json:"paused,omitempty"`
	// LastChange is when the autoscaler last changed each component.
	LastChange map[string]time.Time `json:"last_change,omitempty"`
	// Decisions are the latest changes and refusals, oldest first (at
	// most MaxScalingDecisions).
	Decisions []ScalingDecision `json:"decisions,omitempty"`
}

// ScalingDecision is one decision of the autoscaler about a component.
type ScalingDecision struct {
	At        time.Time `json:"at"`
	Component string    `json:"component"`
	From      int       `json:"from"`
	To        int       `json:"to"`
	// Direction is "up", "down" or "none" (a change it wanted and could
	// not make: Limited says why).
	Direction string `json:"direction"`
	Reason    string `json:"reason"`
	Limited   string `json:"limited,omitempty"`
}

// clone returns a deep copy of s (nil for nil).
func (s *Scaling) clone() *Scaling {
	if s == nil {
		return nil
	}
	c := *s
	c.LastChange = maps.Clone(s.LastChange)
	c.Decisions = append([]ScalingDecision(nil), s.Decisions...)
	return &c
}

// Record appends d to the decisions, dropping the oldest past
// MaxScalingDecisions.
func (s *Scaling) Record(d ScalingDecision) {
	s.Decisions = append(s.Decisions, d)
	if n := len(s.Decisions) - MaxScalingDecisions; n > 0 {
		s.Decisions = append(s.Decisions[:0:0], s.Decisions[n:]...)
	}
}

// clone returns a deep copy of r (nil for nil).
func (r *Rescale) clone() *Rescale {
	if r == nil {
		return nil
	}
	c := *r
	c.Parallelism = cloneMap(r.Parallelism)
	return &c
}

// Rescale is a pending change of a topology's Parallelism and Workers.
type Rescale struct {
	// Parallelism are the components' new task counts (merged into
	// Topology.Parallelism).
	Parallelism map[string]int `json:"parallelism,omitempty"`
	// Workers, when positive, replaces Topology.Workers.
	Workers int `json:"workers,omitempty"`
	// Reason says who asked and why (shown by describe).
	Reason string `json:"reason,omitempty"`
	// RequestedAt is when it was asked for.
	RequestedAt time.Time `json:"requested_at"`
}

// Assignment is where the tasks of one topology run: the output of the
// scheduler, stored so that every worker acts on the same one.
type Assignment struct {
	// Topology names the topology; it is the record's key (the same
	// rules as Topology.Name).
	Topology string `json:"topology"`
	// Epoch increases at every reassignment; the store accepts only an
	// Epoch greater than the stored one, so an older scheduler run can
	// never overwrite a newer one. Epochs start at 1.
	Epoch uint64 `json:"epoch"`
	// Tasks maps a task ID to the name of the worker that runs it. The
	// store treats both as opaque non-empty strings; the task ID is the
	// scheduler's (for example "component/index").
	Tasks map[string]string `json:"tasks"`
	// Draining marks the first step of a move between live workers (a
	// worker leaving gracefully, one joining): the tasks stay where they
	// were, the spouts pause, and the trees in flight complete; the next
	// epoch moves the tasks with nothing in flight, so nothing replays.
	Draining bool `json:"draining,omitempty"`
	// UpdatedAt is when the record was written; set by the store.
	UpdatedAt time.Time `json:"updated_at"`
}

// Kind says which record an Event is about.
type Kind string

// The record kinds.
const (
	KindTopology   Kind = "topology"
	KindAssignment Kind = "assignment"
)

// Event tells a watcher that a record changed.
type Event struct {
	Kind Kind
	// Name is the topology's name (for both kinds).
	Name string
	// Version is the topology's new Version or the assignment's new Epoch;
	// 0 when Deleted (and when the new value could not be decoded: Get
	// then returns ErrCorrupt).
	Version uint64
	// Deleted: the record was deleted.
	Deleted bool
}

func (e Event) String() string {
	if e.Deleted {
		return fmt.Sprintf("%s/%s deleted", e.Kind, e.Name)
	}
	return fmt.Sprintf("%s/%s@%d", e.Kind, e.Name, e.Version)
}

// Store is Gale's durable cluster state: the submitted topologies and
// their assignments. Implementations: FileStore (local and dev mode) and
// KafkaStore (production); both pass the conformance suite of
// cluster/store/storetest.
//
// All methods may be called concurrently. Writes are compare-and-set:
// whatever the number of Store instances (processes) sharing one backing
// store, of several writers expecting the same version (or putting the
// same epoch) exactly one succeeds.
type Store interface {
	// PutTopology creates or replaces t.Name's record if its current
	// version is expected (0: the record must not exist) and returns the
	// record as stored. A record that exists when expected is 0 gives
	// ErrExists, a missing one when expected > 0 ErrNotFound, another
	// version ErrConflict (all three match ErrConflict).
	PutTopology(ctx context.Context, t Topology, expected uint64) (Topology, error)
	// GetTopology returns name's record, or ErrNotFound.
	GetTopology(ctx context.Context, name string) (Topology, error)
	// ListTopologies returns every topology, sorted by name.
	ListTopologies(ctx context.Context) ([]Topology, error)
	// DeleteTopology deletes name's record if its version is expected
	// (ErrNotFound, ErrConflict otherwise). It leaves the assignment.
	DeleteTopology(ctx context.Context, name string, expected uint64) error

	// PutAssignment stores a if its Epoch is greater than the stored
	// one's (ErrStale otherwise; any epoch ≥ 1 when there is none) and
	// returns it as stored.
	PutAssignment(ctx context.Context, a Assignment) (Assignment, error)
	// GetAssignment returns the assignment of topology name, or
	// ErrNotFound.
	GetAssignment(ctx context.Context, name string) (Assignment, error)
	// DeleteAssignment deletes topology name's assignment if its epoch is
	// at most epoch (ErrStale otherwise, ErrNotFound when there is none).
	DeleteAssignment(ctx context.Context, name string, epoch uint64) error

	// PutLease creates or replaces l.Name's lease if its current version
	// is expected (0: it must not exist), like PutTopology, and returns it
	// as stored. Elector builds the leadership on it.
	PutLease(ctx context.Context, l Lease, expected uint64) (Lease, error)
	// GetLease returns name's lease, or ErrNotFound.
	GetLease(ctx context.Context, name string) (Lease, error)

	// Watch reports the changes of every topology and assignment record (not
	// of leases, whose renewals would wake every watcher), made through any
	// instance, from the time Watch returns until ctx ends or the store
	// closes; then the channel is closed. Events of one record come in
	// order but may be coalesced: a slow reader sees the record's latest
	// version, not necessarily each one. After an event, Get on the same
	// store returns that version or a newer one. To start from the current
	// state, call Watch and then List.
	Watch(ctx context.Context) (<-chan Event, error)

	// Close releases the store; later calls return ErrClosed. Close may be
	// called more than once.
	Close() error
}

// Syncer is implemented by stores whose reads may lag the writes of other
// instances (KafkaStore serves reads from a local view of the topic).
type Syncer interface {
	// Sync returns once every write completed, through any instance,
	// before Sync was called is visible to this store's reads.
	Sync(ctx context.Context) error
}

// MaxNameLen is the longest topology name the store accepts, in bytes.
const MaxNameLen = 200

// checkName returns an error unless name is a valid record name.
func checkName(op string, kind Kind, name string) error {
	bad := name == "" || len(name) > MaxNameLen
	for i := 0; i < len(name) && !bad; i++ {
		c := name[i]
		bad = !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-')
	}
	if bad {
		return &RecordError{Op: op, Kind: kind, Name: name,
			Err: fmt.Errorf("%w: name must be 1 to %d letters, digits, '_', '.' or '-'", ErrInvalid, MaxNameLen)}
	}
	return nil
}

// checkTopology validates the caller's part of t.
func checkTopology(op string, t Topology) error {
	if err := checkName(op, KindTopology, t.Name); err != nil {
		return err
	}
	invalid := func(format string, args ...any) error {
		return &RecordError{Op: op, Kind: KindTopology, Name: t.Name, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)}
	}
	if t.Status != "" && !t.Status.Valid() {
		return invalid("status %q, want active, inactive or killed", t.Status)
	}
	if len(t.JSON) > 0 && !json.Valid(t.JSON) {
		return invalid("the topology JSON is not valid JSON")
	}
	for c, n := range t.Parallelism {
		if c == "" || n < 1 {
			return invalid("parallelism %q=%d, want a component id and a parallelism ≥ 1", c, n)
		}
	}
	if t.Workers < 0 {
		return invalid("workers %d < 0", t.Workers)
	}
	if t.KillDrainSeconds < 0 {
		return invalid("kill drain %d s < 0", t.KillDrainSeconds)
	}
	if r := t.Rescale; r != nil {
		for c, n := range r.Parallelism {
			if c == "" || n < 1 {
				return invalid("rescale parallelism %q=%d, want a component id and a parallelism ≥ 1", c, n)
			}
		}
		if r.Workers < 0 {
			return invalid("rescale workers %d < 0", r.Workers)
		}
	}
	return nil
}

// checkAssignment validates the caller's part of a.
func checkAssignment(op string, a Assignment) error {
	if err := checkName(op, KindAssignment, a.Topology); err != nil {
		return err
	}
	if a.Epoch == 0 {
		return &RecordError{Op: op, Kind: KindAssignment, Name: a.Topology,
			Err: fmt.Errorf("%w: epoch 0 (epochs start at 1)", ErrInvalid)}
	}
	for task, worker := range a.Tasks {
		if task == "" || worker == "" {
			return &RecordError{Op: op, Kind: KindAssignment, Name: a.Topology,
				Err: fmt.Errorf("%w: task %q -> worker %q: both must be non-empty", ErrInvalid, task, worker)}
		}
	}
	return nil
}

// nextTopology is the record a Put of t over cur (nil: none) stores.
func nextTopology(t Topology, cur *Topology, now time.Time) Topology {
	t.JSON = append(json.RawMessage(nil), t.JSON...)
	if t.Status == "" {
		t.Status = StatusActive
	}
	t.Parallelism = cloneMap(t.Parallelism)
	t.Rescale = t.Rescale.clone()
	t.Scaling = t.Scaling.clone()
	t.UpdatedAt = now
	if cur == nil {
		t.Version = 1
		t.SubmittedAt = now
	} else {
		t.Version = cur.Version + 1
		t.SubmittedAt = cur.SubmittedAt
	}
	return t
}

// checkPut returns the error of a Put expecting version expected when the
// stored record is cur (nil: none), or nil.
func checkPut(name string, cur *Topology, expected uint64) error {
	var have uint64
	if cur != nil {
		have = cur.Version
	}
	return checkVersion(KindTopology, name, cur != nil, have, expected)
}

// checkVersion returns the error of a Put of record kind/name expecting
// version expected when the stored one has version have (exists: there is
// one), or nil.
func checkVersion(kind Kind, name string, exists bool, have, expected uint64) error {
	switch {
	case expected == have:
		return nil
	case expected == 0:
		return &RecordError{Op: "put", Kind: kind, Name: name, Want: expected, Have: have, Err: ErrExists}
	case !exists:
		return &RecordError{Op: "put", Kind: kind, Name: name, Want: expected, Err: ErrNotFound}
	}
	return &RecordError{Op: "put", Kind: kind, Name: name, Want: expected, Have: have, Err: ErrConflict}
}

// checkDelete is checkPut for DeleteTopology.
func checkDelete(name string, cur *Topology, expected uint64) error {
	switch {
	case cur == nil:
		return &RecordError{Op: "delete", Kind: KindTopology, Name: name, Want: expected, Err: ErrNotFound}
	case cur.Version != expected:
		return &RecordError{Op: "delete", Kind: KindTopology, Name: name, Want: expected, Have: cur.Version, Err: ErrConflict}
	}
	return nil
}

// checkEpoch returns ErrStale unless a may replace cur (nil: none).
func checkEpoch(a Assignment, cur *Assignment) error {
	if cur != nil && a.Epoch <= cur.Epoch {
		return &RecordError{Op: "put", Kind: KindAssignment, Name: a.Topology, Want: a.Epoch, Have: cur.Epoch, Err: ErrStale}
	}
	return nil
}

// checkDeleteAssignment returns the error of deleting cur with epoch.
func checkDeleteAssignment(name string, cur *Assignment, epoch uint64) error {
	switch {
	case cur == nil:
		return &RecordError{Op: "delete", Kind: KindAssignment, Name: name, Want: epoch, Err: ErrNotFound}
	case epoch < cur.Epoch:
		return &RecordError{Op: "delete", Kind: KindAssignment, Name: name, Want: epoch, Have: cur.Epoch, Err: ErrStale}
	}
	return nil
}

// nextAssignment is the record a Put of a stores.
func nextAssignment(a Assignment, now time.Time) Assignment {
	a.Tasks = cloneMap(a.Tasks)
	if a.Tasks == nil {
		a.Tasks = map[string]string{}
	}
	a.UpdatedAt = now
	return a
}

func cloneMap[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// now is the store's clock: UTC, without the monotonic reading, so that a
// record reads back equal to what Put returned. It is the writer's wall
// clock (with internal/wallclock's test skew): the times of records are
// for people; no worker compares them with its own clock.
func now() time.Time { return wallclock.Now().UTC().Round(0) }
