package store

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/topology"
)

func TestCodec_TopologyRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 30, 0, 123456789, time.UTC)
	for _, raw := range []string{"", "{\n\t\"a\": [1, 2]\n}\n", "{\"x\": \"\xff\"}"} {
		in := Topology{Name: "wc.v2_x-1", JSON: json.RawMessage(raw), Version: 7, Status: StatusKilled,
			SubmittedAt: at, UpdatedAt: at.Add(time.Hour), Parallelism: map[string]int{"split": 4},
			Workers: 3, KillDrainSeconds: 30,
			Rescale: &Rescale{Parallelism: map[string]int{"split": 6}, Workers: 2, Reason: "rebalance", RequestedAt: at},
			Scaling: &Scaling{Paused: true, LastChange: map[string]time.Time{"split": at},
				Decisions: []ScalingDecision{{At: at, Component: "split", From: 4, To: 6, Direction: "up", Reason: "capacity 0.9 > 0.7"}}}}
		b, err := encodeTopology(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := decodeTopology(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if !topologyEqual(in, out) {
			t.Errorf("round trip of %q:\n in  %+v\n out %+v", raw, in, out)
		}
		if strings.Contains(string(b), "json_b64") != strings.Contains(raw, "\xff") {
			t.Errorf("%q stored as %s: base64 only for non-UTF-8 files", raw, b)
		}
	}
}

func TestCodec_DecodeRejects(t *testing.T) {
	good := `{"format":1,"name":"x","version":1,"status":"active","submitted_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}`
	if _, err := decodeTopology([]byte(good)); err != nil {
		t.Fatalf("the good record: %v", err)
	}
	for what, b := range map[string]string{
		"not json":       `{"format":1,`,
		"trailing data":  good + ` {}`,
		"trailing brace": good + `}`,
		"format":         strings.Replace(good, `"format":1`, `"format":2`, 1),
		"version 0":      strings.Replace(good, `"version":1`, `"version":0`, 1),
		"status":         strings.Replace(good, `"active"`, `"paused"`, 1),
		"no status":      strings.Replace(good, `"status":"active",`, ``, 1),
		"name":           strings.Replace(good, `"name":"x"`, `"name":"a/b"`, 1),
		"json":           strings.Replace(good, `"format":1`, `"format":1,"json":"{"`, 1),
		"both jsons":     strings.Replace(good, `"format":1`, `"format":1,"json":"{}","json_b64":"e30="`, 1),
		"parallelism":    strings.Replace(good, `"format":1`, `"format":1,"parallelism":{"a":0}`, 1),
		"array":          `[1]`,
	} {
		_, err := decodeTopology([]byte(b))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", what, err)
		}
		// ErrInvalid says the record handed to a Put is invalid: never
		// true of a stored record that cannot be read
		if errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v matches ErrInvalid", what, err)
		}
	}
	// the decoder's error is wrapped: its cause can be inspected
	_, err := decodeTopology([]byte(`{"format":1,`))
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated record: %v, want ErrCorrupt wrapping io.ErrUnexpectedEOF", err)
	}
	var se *json.SyntaxError
	if _, err := decodeAssignment([]byte(`{"format":1,,}`)); !errors.Is(err, ErrCorrupt) || !errors.As(err, &se) {
		t.Errorf("malformed assignment: %v, want ErrCorrupt wrapping a *json.SyntaxError", err)
	}
	var ute *json.UnmarshalTypeError
	if _, err := decodeLease([]byte(`{"format":"one"}`)); !errors.Is(err, ErrCorrupt) || !errors.As(err, &ute) {
		t.Errorf("lease with a string format: %v, want ErrCorrupt wrapping a *json.UnmarshalTypeError", err)
	}
	if _, err := decodeLease([]byte(`{"format":1,"name":"l","holder":"w","version":1,"ttl_ms":0}`)); !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrInvalid) {
		t.Errorf("lease without a ttl: %v, want ErrCorrupt and not ErrInvalid", err)
	}
	for what, b := range map[string]string{
		"epoch 0":    `{"format":1,"topology":"x","epoch":0,"tasks":{}}`,
		"empty task": `{"format":1,"topology":"x","epoch":1,"tasks":{"":"w"}}`,
		"no worker":  `{"format":1,"topology":"x","epoch":1,"tasks":{"t":""}}`,
		"format":     `{"format":0,"topology":"x","epoch":1,"tasks":{}}`,
		"name":       `{"format":1,"topology":"","epoch":1,"tasks":{}}`,
	} {
		if _, err := decodeAssignment([]byte(b)); !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrInvalid) {
			t.Errorf("assignment %s: %v, want ErrCorrupt (and not ErrInvalid)", what, err)
		}
	}
}

func TestCodec_ParseKey(t *testing.T) {
	for key, want := range map[string]string{
		"topology/wc":   "topology wc true",
		"assignment/wc": "assignment wc true",
		"lease/leader":  "lease leader true",
		"topology/a/b":  "topology a/b false",
		"topology/":     "topology  false",
		"barrier":       "  false",
		"other/wc":      "  false",
	} {
		kind, name, ok := parseKey(key)
		if got := strings.Join([]string{string(kind), name, map[bool]string{true: "true", false: "false"}[ok]}, " "); got != want {
			t.Errorf("parseKey(%q) = %q, want %q", key, got, want)
		}
	}
	if recordKey(KindAssignment, "wc") != "assignment/wc" {
		t.Error(recordKey(KindAssignment, "wc"))
	}
}

func TestRecordError_Matching(t *testing.T) {
	exists := &RecordError{Op: "put", Kind: KindTopology, Name: "wc", Want: 0, Have: 3, Err: ErrExists}
	if !errors.Is(exists, ErrExists) || !errors.Is(exists, ErrConflict) || errors.Is(exists, ErrNotFound) {
		t.Errorf("ErrExists matching: %v", exists)
	}
	if got := exists.Error(); got != `put topology "wc": expected version 0, stored version 3: store: record already exists` {
		t.Errorf("message %q", got)
	}
	stale := &RecordError{Op: "put", Kind: KindAssignment, Name: "wc", Want: 2, Have: 5, Err: ErrStale}
	if errors.Is(stale, ErrConflict) || stale.Error() != `put assignment "wc": epoch 2, stored epoch 5: store: stale assignment epoch` {
		t.Errorf("stale: %q", stale.Error())
	}
	get := &RecordError{Op: "get", Kind: KindTopology, Name: "wc", Err: ErrNotFound}
	if errors.Is(get, ErrConflict) || get.Error() != `get topology "wc": store: record not found` {
		t.Errorf("get: %q", get.Error())
	}
}

func topologyEqual(a, b Topology) bool {
	return a.Name == b.Name && string(a.JSON) == string(b.JSON) && a.Version == b.Version && a.Status == b.Status &&
		a.SubmittedAt.Equal(b.SubmittedAt) && a.UpdatedAt.Equal(b.UpdatedAt) && maps.Equal(a.Parallelism, b.Parallelism) &&
		a.Workers == b.Workers && a.KillDrainSeconds == b.KillDrainSeconds &&
		reflect.DeepEqual(a.Rescale, b.Rescale) && reflect.DeepEqual(a.Scaling, b.Scaling)
}

// FuzzDecodeTopology: decoding never panics, and what decodes encodes and
// decodes back to the same record.
func FuzzDecodeTopology(f *testing.F) {
	at := time.Date(2025, 3, 1, 12, 30, 0, 5, time.FixedZone("x", 3600))
	for _, tp := range []Topology{
		{Name: "wc", Version: 1, Status: StatusActive, SubmittedAt: at, UpdatedAt: at},
		{Name: "k", JSON: json.RawMessage("{\"a\":\"\xff\"}"), Version: 9, Status: StatusInactive, Parallelism: map[string]int{"a": 2}, Workers: 1, KillDrainSeconds: 5},
	} {
		b, err := encodeTopology(tp)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format":1,"name":"x","version":1,"status":"active","json":"[1,\"\\ud800\"]"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, err := decodeTopology(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		again, err := encodeTopology(tp)
		if err != nil {
			t.Fatalf("a decoded record does not encode: %+v: %v", tp, err)
		}
		back, err := decodeTopology(again)
		if err != nil {
			t.Fatalf("a re-encoded record does not decode: %s: %v", again, err)
		}
		if !topologyEqual(tp, back) {
			t.Fatalf("round trip changed the record:\n %+v\n %+v", tp, back)
		}
	})
}

// FuzzDecodeAssignment: the same for assignments.
func FuzzDecodeAssignment(f *testing.F) {
	b, _ := encodeAssignment(Assignment{Topology: "wc", Epoch: 3, Tasks: map[string]string{"split/0": "w1"}, UpdatedAt: time.Unix(5, 6).UTC()})
	f.Add(b)
	f.Add([]byte(`{"format":1,"topology":"x","epoch":1,"tasks":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeAssignment(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		again, err := encodeAssignment(a)
		if err != nil {
			t.Fatalf("a decoded record does not encode: %+v: %v", a, err)
		}
		back, err := decodeAssignment(again)
		if err != nil {
			t.Fatalf("a re-encoded record does not decode: %s: %v", again, err)
		}
		if back.Topology != a.Topology || back.Epoch != a.Epoch || !back.UpdatedAt.Equal(a.UpdatedAt) || !maps.Equal(back.Tasks, a.Tasks) {
			t.Fatalf("round trip changed the record:\n %+v\n %+v", a, back)
		}
	})
}

// TestMaxNameLen_AgreesWithValidation: a topology name that passes
// validation is one the store accepts (a longer one would be refused by
// the store after validation passed).
func TestMaxNameLen_AgreesWithValidation(t *testing.T) {
	if MaxNameLen != topology.MaxNameLen {
		t.Fatalf("store.MaxNameLen %d, topology.MaxNameLen %d: want them equal", MaxNameLen, topology.MaxNameLen)
	}
	name := strings.Repeat("n", MaxNameLen)
	if err := checkName("put", KindTopology, name); err != nil {
		t.Errorf("a %d-byte name: %v", len(name), err)
	}
}
