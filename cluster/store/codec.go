package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The stored form of the records, shared by both stores: one JSON object
// per record, {"format":1, ...}. The topology file is kept as a string
// ("json") when it is valid UTF-8, which keeps it readable and byte-exact,
// and base64 ("json_b64") otherwise; encoding/json would re-indent a
// json.RawMessage.

const wireFormat = 1

type topologyWire struct {
	Format           int            `json:"format"`
	Name             string         `json:"name"`
	Version          uint64         `json:"version"`
	Status           Status         `json:"status"`
	SubmittedAt      time.Time      `json:"submitted_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
	Parallelism      map[string]int `json:"parallelism,omitempty"`
	Workers          int            `json:"workers,omitempty"`
	KillDrainSeconds int            `json:"kill_drain_seconds,omitempty"`
	// Rescale is left out when none is pending (a worker of the version
	// before it reads every other record)
	Rescale *Rescale `json:"rescale,omitempty"`
	// Scaling is left out when the topology has no autoscaler state
	Scaling    *Scaling `json:"scaling,omitempty"`
	JSON       *string  `json:"json,omitempty"`
	JSONBase64 []byte   `json:"json_b64,omitempty"`
}

type assignmentWire struct {
	Format    int               `json:"format"`
	Topology  string            `json:"topology"`
	Epoch     uint64            `json:"epoch"`
	UpdatedAt time.Time         `json:"updated_at"`
	Tasks     map[string]string `json:"tasks"`
	// Draining is left out when false, so that a worker of the version
	// before it still reads every other record (a rolling upgrade)
	Draining bool `json:"draining,omitempty"`
}

func encodeTopology(t Topology) ([]byte, error) {
	w := topologyWire{Format: wireFormat, Name: t.Name, Version: t.Version, Status: t.Status,
		SubmittedAt: t.SubmittedAt, UpdatedAt: t.UpdatedAt, Parallelism: t.Parallelism,
		Workers: t.Workers, KillDrainSeconds: t.KillDrainSeconds, Rescale: t.Rescale.clone(), Scaling: t.Scaling.clone()}
	if len(t.JSON) > 0 {
		if utf8.Valid(t.JSON) {
			s := string(t.JSON)
			w.JSON = &s
		} else {
			w.JSONBase64 = t.JSON
		}
	}
	return json.MarshalIndent(w, "", "  ")
}

// decodeTopology decodes a stored topology and checks it is one a Put can
// have written; errors match ErrCorrupt.
func decodeTopology(b []byte) (Topology, error) {
	var w topologyWire
	if err := strictUnmarshal(b, &w); err != nil {
		return Topology{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	t := Topology{Name: w.Name, Version: w.Version, Status: w.Status, SubmittedAt: w.SubmittedAt,
		UpdatedAt: w.UpdatedAt, Parallelism: cloneMap(w.Parallelism), Workers: w.Workers,
		KillDrainSeconds: w.KillDrainSeconds, Rescale: w.Rescale.clone(), Scaling: w.Scaling.clone()}
	switch {
	case w.JSON != nil && w.JSONBase64 != nil:
		return Topology{}, fmt.Errorf("%w: both json and json_b64", ErrCorrupt)
	case w.JSON != nil:
		t.JSON = json.RawMessage(*w.JSON)
	case len(w.JSONBase64) > 0:
		t.JSON = json.RawMessage(w.JSONBase64)
	}
	if w.Format != wireFormat {
		return Topology{}, fmt.Errorf("%w: format %d, want %d", ErrCorrupt, w.Format, wireFormat)
	}
	if err := checkTopology("decode", t); err != nil {
		return Topology{}, corruptRecord(err)
	}
	if t.Version == 0 || !t.Status.Valid() {
		return Topology{}, fmt.Errorf("%w: version %d, status %q", ErrCorrupt, t.Version, t.Status)
	}
	return t, nil
}

func encodeAssignment(a Assignment) ([]byte, error) {
	tasks := a.Tasks
	if tasks == nil {
		tasks = map[string]string{}
	}
	return json.MarshalIndent(assignmentWire{Format: wireFormat, Topology: a.Topology, Epoch: a.Epoch,
		UpdatedAt: a.UpdatedAt, Tasks: tasks, Draining: a.Draining}, "", "  ")
}

// decodeAssignment decodes a stored assignment; errors match ErrCorrupt.
func decodeAssignment(b []byte) (Assignment, error) {
	var w assignmentWire
	if err := strictUnmarshal(b, &w); err != nil {
		return Assignment{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if w.Format != wireFormat {
		return Assignment{}, fmt.Errorf("%w: format %d, want %d", ErrCorrupt, w.Format, wireFormat)
	}
	a := Assignment{Topology: w.Topology, Epoch: w.Epoch, UpdatedAt: w.UpdatedAt, Tasks: w.Tasks, Draining: w.Draining}
	if a.Tasks == nil {
		a.Tasks = map[string]string{}
	}
	if err := checkAssignment("decode", a); err != nil {
		return Assignment{}, corruptRecord(err)
	}
	return a, nil
}

// corruptRecord is the error of a stored record that fails the checks of
// a Put. It matches ErrCorrupt only: the check's error is kept as text,
// not wrapped, because it matches ErrInvalid, which says that the record
// handed to the store is invalid and nothing was written — not true of a
// read.
func corruptRecord(check error) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, check)
}

// strictUnmarshal decodes exactly one JSON value into v (a struct
// pointer); unknown fields are allowed (a newer writer may add some).
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("data after the record")
	}
	return nil
}

// The keys of the records in the stores' log.
const (
	topologyPrefix   = "topology/"
	assignmentPrefix = "assignment/"
	leasePrefix      = "lease/"
)

func recordKey(kind Kind, name string) string { return string(kind) + "/" + name }

// parseKey splits a record key; ok is false for other keys (the read
// barriers of the store's first Kafka format, or anything another writer
// left).
func parseKey(key string) (kind Kind, name string, ok bool) {
	if name, ok = strings.CutPrefix(key, topologyPrefix); ok {
		return KindTopology, name, checkName("decode", KindTopology, name) == nil
	}
	if name, ok = strings.CutPrefix(key, assignmentPrefix); ok {
		return KindAssignment, name, checkName("decode", KindAssignment, name) == nil
	}
	if name, ok = strings.CutPrefix(key, leasePrefix); ok {
		return KindLease, name, checkName("decode", KindLease, name) == nil
	}
	return "", "", false
}

// decodeVersion decodes a record of kind and returns its name and version
// (the Epoch of an assignment).
func decodeVersion(kind Kind, b []byte) (string, uint64, error) {
	switch kind {
	case KindTopology:
		t, err := decodeTopology(b)
		return t.Name, t.Version, err
	case KindLease:
		l, err := decodeLease(b)
		return l.Name, l.Version, err
	}
	a, err := decodeAssignment(b)
	return a.Topology, a.Epoch, err
}
