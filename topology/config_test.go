package topology_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/topology"
)

type Base struct {
	Host string `json:"host"`
	Port uint16 `json:"port"`
}

type Extra struct {
	Tags []string `json:"tags"`
}

type Level int

func (l *Level) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"low"`:
		*l = 1
	case `"high"`:
		*l = 2
	default:
		return fmt.Errorf("unknown level %s", b)
	}
	return nil
}

type Inner struct {
	Name  string  `json:"name"`
	Ratio float64 `json:"ratio"`
}

type AllKinds struct {
	Base               // promoted: host, port
	*Extra             // promoted through a pointer: tags
	Hidden   string    `json:"-"`
	internal string    //nolint:unused // unexported: not a JSON field
	Str      string    `json:"str"`
	Bool     bool      `json:"bool"`
	Int      int       `json:"int"`
	Int8     int8      `json:"int8"`
	Int64    int64     `json:"int64"`
	Uint     uint      `json:"uint"`
	Uint8    uint8     `json:"uint8"`
	F32      float32   `json:"f32"`
	F64      float64   `json:"f64"`
	Slice    []int     `json:"slice"`
	Bytes    []byte    `json:"bytes"`
	Array    [2]string `json:"array"`
	Map      map[string]int
	Ptr      *int               `json:"ptr"`
	Nested   Inner              `json:"nested"`
	Nesteds  []Inner            `json:"nesteds"`
	NestMap  map[string]*Inner  `json:"nest_map"`
	Any      any                `json:"any"`
	Raw      json.RawMessage    `json:"raw"`
	Num      json.Number        `json:"num"`
	Dur      time.Duration      `json:"dur"`
	TDur     topology.Duration  `json:"tdur"`
	DurPtr   *time.Duration     `json:"dur_ptr"`
	Level    Level              `json:"level"`
	Addr     netip.Addr         `json:"addr"`
	Time     time.Time          `json:"time"`
	Named    map[string]string  `json:"named"`
	Matrix   [][]int            `json:"matrix"`
	Iface    fmt.Stringer       `json:"-"`
	Strs     map[string][]Level `json:"strs"`
}

func TestDecodeConfig_Kinds(t *testing.T) {
	raw := `{
		"host": "h", "port": 8080, "tags": ["a"],
		"str": "s", "bool": true, "int": -3, "int8": 127, "int64": 9007199254740993,
		"uint": 7, "uint8": 255, "f32": 1.5, "f64": 1e300,
		"slice": [1, 2], "bytes": "aGk=", "array": ["x", "y"], "Map": {"k": 1},
		"ptr": 4, "nested": {"name": "n", "ratio": 0.5}, "nesteds": [{"name": "m"}],
		"nest_map": {"a": {"ratio": 2}}, "any": {"x": [1, true, null, "s"]},
		"raw": {"keep": [1, 2]}, "num": 12.50, "dur": "1.5s", "tdur": 2, "dur_ptr": 0.25,
		"level": "high", "addr": "10.0.0.1", "time": "2024-01-02T03:04:05Z",
		"named": {"a": "b"}, "matrix": [[1], [2, 3]], "strs": {"x": ["low"]}
	}`
	var got AllKinds
	dup := strings.TrimSuffix(strings.TrimSpace(raw), "}") + `, "int64": 1}`
	err := topology.DecodeConfig(json.RawMessage(dup), &got, "cfg")
	// "int64" appears twice.
	var errs *topology.Errors
	if !errors.As(err, &errs) || len(errs.List) != 1 || errs.List[0].Path != "cfg.int64" || !errors.Is(err, topology.ErrDuplicateKey) {
		t.Fatalf("want one duplicate key error at cfg.int64, got %v", err)
	}
	got = AllKinds{}
	if err := topology.DecodeConfig(json.RawMessage(raw), &got, "cfg"); err != nil {
		t.Fatal(err)
	}
	four := 4
	quarter := 250 * time.Millisecond
	want := AllKinds{
		Base: Base{Host: "h", Port: 8080}, Extra: &Extra{Tags: []string{"a"}},
		Str: "s", Bool: true, Int: -3, Int8: 127, Int64: 9007199254740993,
		Uint: 7, Uint8: 255, F32: 1.5, F64: 1e300,
		Slice: []int{1, 2}, Bytes: []byte("hi"), Array: [2]string{"x", "y"}, Map: map[string]int{"k": 1},
		Ptr: &four, Nested: Inner{Name: "n", Ratio: 0.5}, Nesteds: []Inner{{Name: "m"}},
		NestMap: map[string]*Inner{"a": {Ratio: 2}}, Any: map[string]any{"x": []any{1.0, true, nil, "s"}},
		Raw: json.RawMessage(`{"keep": [1, 2]}`), Num: "12.50", Dur: 1500 * time.Millisecond,
		TDur: topology.Duration(2 * time.Second), DurPtr: &quarter, Level: 2,
		Addr: netip.MustParseAddr("10.0.0.1"), Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Named: map[string]string{"a": "b"}, Matrix: [][]int{{1}, {2, 3}}, Strs: map[string][]Level{"x": {1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestDecodeConfig_Errors(t *testing.T) {
	tests := []struct {
		name, raw, path string
		contains        string
		is              error
	}{
		{"string", `{"str": 3}`, "c.str", "want a string, got number 3", topology.ErrType},
		{"bool", `{"bool": "true"}`, "c.bool", `want a boolean, got string "true"`, topology.ErrType},
		{"int fraction", `{"int": 2.5}`, "c.int", "want an integer, got number 2.5", topology.ErrType},
		{"int overflow", `{"int8": 128}`, "c.int8", "number 128 is out of range for int8 (-128..127)", topology.ErrType},
		{"int64 overflow", `{"int64": 9223372036854775808}`, "c.int64", "out of range for int64", topology.ErrType},
		{"int huge exponent", `{"int": 1e400}`, "c.int", "out of range", topology.ErrType},
		{"int string", `{"int": "1"}`, "c.int", `want an integer, got string "1"`, topology.ErrType},
		{"uint negative", `{"uint": -1}`, "c.uint", "want a non-negative integer, got number -1", topology.ErrType},
		{"uint overflow", `{"uint8": 256}`, "c.uint8", "number 256 is out of range for uint8 (0..255)", topology.ErrType},
		{"port overflow promoted", `{"port": 70000}`, "c.port", "out of range for uint16", topology.ErrType},
		{"float overflow", `{"f32": 1e39}`, "c.f32", "number 1e39 is out of range for float32", topology.ErrType},
		{"float type", `{"f64": null}`, "c.f64", "want a number, got null", topology.ErrType},
		{"slice type", `{"slice": {}}`, "c.slice", "want an array, got object", topology.ErrType},
		{"slice element", `{"slice": [1, "2"]}`, "c.slice[1]", `want an integer, got string "2"`, topology.ErrType},
		{"bytes", `{"bytes": "!!"}`, "c.bytes", "want a base64 string", topology.ErrType},
		{"array length", `{"array": ["a"]}`, "c.array", "want an array of 2 elements, got 1 elements", topology.ErrType},
		{"map type", `{"Map": []}`, "c.Map", "want an object, got array", topology.ErrType},
		{"map value", `{"Map": {"a b": "x"}}`, `c.Map["a b"]`, `want an integer, got string "x"`, topology.ErrType},
		{"nested", `{"nested": {"ratio": "x"}}`, "c.nested.ratio", `want a number, got string "x"`, topology.ErrType},
		{"nested in slice", `{"nesteds": [{}, {"nme": "x"}]}`, "c.nesteds[1].nme", `unknown field; known fields: name, ratio (did you mean "name"?)`, topology.ErrUnknownField},
		{"nested in map", `{"nest_map": {"k": {"name": 1}}}`, `c.nest_map["k"].name`, "want a string, got number 1", topology.ErrType},
		{"unknown field lists known", `{"hots": "x"}`, "c.hots", "unknown field; known fields: host, port, tags, str,", topology.ErrUnknownField},
		{"case differs", `{"Str": "x"}`, "c.Str", `did you mean "str"?`, topology.ErrUnknownField},
		{"hidden field", `{"Hidden": "x"}`, "c.Hidden", "unknown field", topology.ErrUnknownField},
		{"unexported field", `{"internal": "x"}`, "c.internal", "unknown field", topology.ErrUnknownField},
		{"number", `{"num": "1"}`, "c.num", `want a number, got string "1"`, topology.ErrType},
		{"duration string", `{"dur": "soon"}`, "c.dur", `want a duration such as "1.5s" or "200ms", got string "soon"`, topology.ErrType},
		{"duration type", `{"tdur": true}`, "c.tdur", `want a duration ("1.5s") or a number of seconds, got boolean true`, topology.ErrType},
		{"duration overflow", `{"dur": 1e300}`, "c.dur", "out of range", topology.ErrType},
		{"unmarshaler", `{"level": "medium"}`, "c.level", `unknown level "medium"`, nil},
		{"text unmarshaler", `{"addr": "10.0.0"}`, "c.addr", "ParseAddr", nil},
		{"deep", `{"strs": {"x": ["low", "bad"]}}`, `c.strs["x"][1]`, `unknown level "bad"`, nil},
		{"not an object", `[]`, "c", "want an object, got array", topology.ErrType},
		{"malformed", `{"str": }`, "c", "malformed JSON at line 1, column 9", topology.ErrSyntax},
		{"duplicate in any", `{"any": {"a": 1, "a": 2}}`, `c.any["a"]`, "duplicate key", topology.ErrDuplicateKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v AllKinds
			err := topology.DecodeConfig(json.RawMessage(tt.raw), &v, "c")
			var errs *topology.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want *Errors", err)
			}
			if len(errs.List) != 1 {
				t.Errorf("got %d errors, want 1:\n%v", len(errs.List), err)
			}
			fe := errs.List[0]
			if fe.Path != tt.path || !strings.Contains(fe.Msg, tt.contains) {
				t.Errorf("got %q, want path %q and a message containing %q", fe, tt.path, tt.contains)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
		})
	}
}

func TestDecodeConfig_AllErrors(t *testing.T) {
	var v AllKinds
	err := topology.DecodeConfig(json.RawMessage(`{"str": 1, "bool": 2, "nope": 3, "slice": ["a", "b"]}`), &v, "")
	want := "str: want a string, got number 1\n" +
		"bool: want a boolean, got number 2\n" +
		"nope: unknown field; known fields: " + strings.Join(knownAllKinds, ", ") + "\n" +
		`slice[0]: want an integer, got string "a"` + "\n" +
		`slice[1]: want an integer, got string "b"`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

var knownAllKinds = []string{"host", "port", "tags", "str", "bool", "int", "int8", "int64", "uint", "uint8",
	"f32", "f64", "slice", "bytes", "array", "Map", "ptr", "nested", "nesteds", "nest_map", "any", "raw",
	"num", "dur", "tdur", "dur_ptr", "level", "addr", "time", "named", "matrix", "strs"}

func TestDecodeConfig_DefaultsKept(t *testing.T) {
	five := 5
	v := AllKinds{Str: "default", Int: 9, Ptr: &five, Map: map[string]int{"keep": 1},
		Nested: Inner{Name: "inner", Ratio: 0.1}}
	err := topology.DecodeConfig(json.RawMessage(`{"int": 1, "ptr": 6, "Map": {"new": 2}, "nested": {"ratio": 0.2}}`), &v, "")
	if err != nil {
		t.Fatal(err)
	}
	if v.Str != "default" || v.Int != 1 || *v.Ptr != 6 || &five != v.Ptr || v.Nested != (Inner{Name: "inner", Ratio: 0.2}) ||
		!reflect.DeepEqual(v.Map, map[string]int{"keep": 1, "new": 2}) {
		t.Errorf("got %+v", v)
	}
	for _, empty := range []string{"", " ", "null", "{}"} {
		v := AllKinds{Str: "default"}
		if err := topology.DecodeConfig(json.RawMessage(empty), &v, ""); err != nil || v.Str != "default" {
			t.Errorf("DecodeConfig(%q) = %v, %+v", empty, err, v)
		}
	}
}

type validated struct {
	Min, Max int
	checked  int
}

func (v *validated) Validate() error {
	v.checked++
	if v.Min > v.Max {
		return fmt.Errorf("min %d > max %d", v.Min, v.Max)
	}
	return nil
}

func TestDecodeConfig_Validate(t *testing.T) {
	v := &validated{}
	err := topology.DecodeConfig(json.RawMessage(`{"Min": 3, "Max": 1}`), v, "bolts[0].config")
	if err == nil || err.Error() != "bolts[0].config: min 3 > max 1" {
		t.Errorf("err = %v", err)
	}
	// Validate is not called when decoding failed.
	v = &validated{}
	_ = topology.DecodeConfig(json.RawMessage(`{"Min": "x"}`), v, "")
	if v.checked != 0 {
		t.Errorf("Validate called after a decoding error")
	}
	// ...and is called for an empty config.
	v = &validated{Min: 1}
	if err := topology.DecodeConfig(nil, v, "c"); err == nil || v.checked != 1 {
		t.Errorf("err = %v, checked = %d", err, v.checked)
	}
}

func TestDecodeConfig_BadTarget(t *testing.T) {
	for _, into := range []any{nil, AllKinds{}, (*AllKinds)(nil)} {
		if err := topology.DecodeConfig(json.RawMessage(`{}`), into, ""); !errors.Is(err, topology.ErrBadTarget) {
			t.Errorf("DecodeConfig(%T) = %v", into, err)
		}
	}
	var ch struct{ C chan int }
	if err := topology.DecodeConfig(json.RawMessage(`{"C": 1}`), &ch, ""); !errors.Is(err, topology.ErrBadTarget) {
		t.Errorf("chan field: %v", err)
	}
	var m map[int]string
	if err := topology.DecodeConfig(json.RawMessage(`{"1": "a"}`), &m, ""); !errors.Is(err, topology.ErrBadTarget) {
		t.Errorf("int keys: %v", err)
	}
}

// Embedded structs follow encoding/json's rules: the shallower field wins,
// equal depths cancel out unless one is tagged.
type conflictA struct{ Name, Only string }
type conflictB struct {
	Name string
	X    int `json:"x"`
}
type conflicts struct {
	conflictA
	conflictB
	Top string `json:"Only"`
}

func TestDecodeConfig_Embedded(t *testing.T) {
	var c conflicts
	err := topology.DecodeConfig(json.RawMessage(`{"Only": "top", "x": 1}`), &c, "")
	if err != nil || c.Top != "top" || c.conflictA.Only != "" || c.X != 1 {
		t.Errorf("err = %v, c = %+v", err, c)
	}
	err = topology.DecodeConfig(json.RawMessage(`{"Name": "n"}`), &c, "")
	if !errors.Is(err, topology.ErrUnknownField) {
		t.Errorf("ambiguous Name: err = %v", err)
	}
}

func TestComponentType_DecodeSettings(t *testing.T) {
	cat := newCatalog()
	count, _ := cat.ComponentType(topology.KindBolt, "count")
	s, err := count.DecodeSettings(json.RawMessage(`{"limit": 5}`), "x")
	if err != nil || *s.(*CountConfig) != (CountConfig{Field: "word", Limit: 5}) {
		t.Errorf("DecodeSettings = %+v, %v", s, err)
	}
	split, _ := cat.ComponentType(topology.KindBolt, "split")
	for _, raw := range []string{"", "null", "{}", " { } "} {
		if s, err := split.DecodeSettings(json.RawMessage(raw), "x"); s != nil || err != nil {
			t.Errorf("no-config type with %q: %v, %v", raw, s, err)
		}
	}
	if _, err := split.DecodeSettings(json.RawMessage(`[]`), "x"); err == nil || err.Error() != `x: bolt type "split" takes no config` {
		t.Errorf("err = %v", err)
	}
	bad := &topology.ComponentType{Kind: topology.KindBolt, Name: "bad", NewConfig: func() any { return CountConfig{} }}
	if _, err := bad.DecodeSettings(nil, "x"); !errors.Is(err, topology.ErrBadTarget) {
		t.Errorf("non-pointer config: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{`"1.5s"`, 1500 * time.Millisecond, false},
		{`"200ms"`, 200 * time.Millisecond, false},
		{`"-1m"`, -time.Minute, false},
		{`2`, 2 * time.Second, false},
		{`0.001`, time.Millisecond, false},
		{` 1.1 `, 1100 * time.Millisecond, false},
		{`1e-9`, time.Nanosecond, false},
		{`"1 s"`, 0, true},
		{`"5"`, 0, true},
		{`true`, 0, true},
		{`null`, 0, true},
		{``, 0, true},
		{`1e300`, 0, true},
		{`-1e300`, 0, true},
		{`"unterminated`, 0, true},
		{`1.2.3`, 0, true},
		{fmt.Sprint(math.MaxInt64), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := topology.ParseDuration([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseDuration(%s) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestDuration_UnmarshalJSON(t *testing.T) {
	var v struct{ D topology.Duration }
	if err := json.Unmarshal([]byte(`{"D": "2m"}`), &v); err != nil || time.Duration(v.D) != 2*time.Minute {
		t.Errorf("got %v, %v", v.D, err)
	}
	if err := json.Unmarshal([]byte(`{"D": 0.5}`), &v); err != nil || time.Duration(v.D) != 500*time.Millisecond {
		t.Errorf("got %v, %v", v.D, err)
	}
	if err := json.Unmarshal([]byte(`{"D": [1]}`), &v); err == nil {
		t.Error("array accepted")
	}
	b, _ := json.Marshal(topology.Duration(1500 * time.Millisecond))
	if string(b) != `"1.5s"` {
		t.Errorf("MarshalJSON = %s", b)
	}
}
