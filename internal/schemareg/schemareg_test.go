package schemareg

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

func TestConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // fields named by the errors; none: valid
	}{
		{"minimal", Config{URL: "http://127.0.0.1:8081"}, nil},
		{"basic auth from env", Config{URL: "https://r:8081", Username: "u", PasswordEnv: "PW"}, nil},
		{"basic auth from file, tls", Config{URL: "https://r", Username: "u", PasswordFile: "/pw",
			TLS: TLS{CAFile: "/ca", CertFile: "/c", KeyFile: "/k"}}, nil},
		{"no url", Config{}, []string{"url"}},
		{"not http", Config{URL: "ftp://r"}, []string{"url"}},
		{"no host", Config{URL: "http://"}, []string{"url"}},
		{"password in url", Config{URL: "http://u:secret@r"}, []string{"url"}},
		{"user without password", Config{URL: "http://r", Username: "u"}, []string{"password_env"}},
		{"password without user", Config{URL: "http://r", PasswordEnv: "PW"}, []string{"username"}},
		{"both passwords", Config{URL: "http://r", Username: "u", PasswordEnv: "PW", PasswordFile: "/f"}, []string{"password_env"}},
		{"password in password_env", Config{URL: "http://r", Username: "u", PasswordEnv: "hunter 2"}, []string{"password_env"}},
		{"cert without key", Config{URL: "https://r", TLS: TLS{CertFile: "/c"}}, []string{"tls.cert_file"}},
		{"key without cert", Config{URL: "https://r", TLS: TLS{KeyFile: "/k"}}, []string{"tls.key_file"}},
		{"tls on http", Config{URL: "http://r", TLS: TLS{CAFile: "/ca"}}, []string{"tls"}},
		{"negative timeout", Config{URL: "http://r", Timeout: -1}, []string{"timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.ValidateAt("schema_registry")
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("want ErrConfig, got %v", err)
			}
			for _, f := range tc.want {
				var fe *FieldError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), "schema_registry."+f+": ") {
					t.Errorf("error %q does not name schema_registry.%s", err, f)
				}
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "hunter") {
				t.Errorf("error %q shows a password", err)
			}
		})
	}
}

func TestConfig_String(t *testing.T) {
	c := Config{URL: "https://u:secret@r:8081/apis/ccompat/v7", Username: "gale", PasswordEnv: "REG_PW"}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "registry", c)
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c), logged.String()} {
		if strings.Contains(s, "secret") {
			t.Errorf("%q shows the password", s)
		}
		if !strings.Contains(s, "gale") || !strings.Contains(s, "REG_PW") {
			t.Errorf("%q does not say who logs in and from where", s)
		}
	}
}

func TestParseHeader(t *testing.T) {
	id, payload, err := ParseHeader([]byte{0, 0, 0, 1, 2, 0xaa})
	if err != nil || id != 258 || string(payload) != "\xaa" {
		t.Fatalf("got %d %x %v", id, payload, err)
	}
	for _, b := range [][]byte{nil, {1, 0, 0, 0, 1}, {0, 0, 0}, []byte(`{"json":1}`)} {
		if _, _, err := ParseHeader(b); !errors.Is(err, ErrWireFormat) {
			t.Errorf("%q: want ErrWireFormat, got %v", b, err)
		}
	}
}

func TestParseMessageIndexes(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want []int
	}{
		{[]byte{0, 0xff}, []int{0}},    // the [0] shortcut
		{[]byte{2, 2, 0xff}, []int{1}}, // count 1 (zigzag 2), index 1 (zigzag 2)
		{[]byte{4, 2, 4, 0xff}, []int{1, 2}},
	} {
		got, rest, err := ParseMessageIndexes(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) || string(rest) != "\xff" {
			t.Errorf("%x: got %v %x %v, want %v", tc.in, got, rest, err, tc.want)
		}
	}
	for _, b := range [][]byte{nil, {1}, {4, 2}, {0x80}, {0xfe, 0xff, 0xff, 0xff, 0x0f}} {
		if _, _, err := ParseMessageIndexes(b); !errors.Is(err, ErrWireFormat) {
			t.Errorf("%x: want ErrWireFormat, got %v", b, err)
		}
	}
}

func TestDecimalString(t *testing.T) {
	for _, tc := range []struct {
		u     int64
		scale int
		want  string
	}{{1234, 2, "12.34"}, {-1230, 2, "-12.30"}, {5, 3, "0.005"}, {-5, 1, "-0.5"}, {0, 2, "0.00"}, {7, 0, "7"}, {7, -2, "700"}} {
		if got := DecimalString(big.NewInt(tc.u), tc.scale); got != tc.want {
			t.Errorf("(%d, %d): got %q, want %q", tc.u, tc.scale, got, tc.want)
		}
	}
}

// fake is a registry (srfake) and a client of it.
func fake(t *testing.T) (*srfake.Registry, *Client) {
	t.Helper()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	c, err := New(Config{URL: reg.URL(), Timeout: 2_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	return reg, c
}

func wire(id int, index []byte, payload []byte) []byte {
	b := []byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
	return append(append(b, index...), payload...)
}

const avroAll = `{"type":"record","name":"All","namespace":"gale.test","fields":[
 {"name":"b","type":"boolean"},
 {"name":"i","type":"int"},
 {"name":"l","type":"long"},
 {"name":"f","type":"float"},
 {"name":"d","type":"double"},
 {"name":"s","type":"string"},
 {"name":"by","type":"bytes"},
 {"name":"fx","type":{"type":"fixed","name":"Four","size":4}},
 {"name":"e","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},
 {"name":"n","type":"null"},
 {"name":"u","type":["null","string"]},
 {"name":"a","type":{"type":"array","items":"int"}},
 {"name":"m","type":{"type":"map","values":"long"}},
 {"name":"r","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"int"}]}},
 {"name":"tsm","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"tsu","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"date","type":{"type":"int","logicalType":"date"}},
 {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
 {"name":"uuid","type":{"type":"string","logicalType":"uuid"}}
]}`

func TestDecoder_Avro(t *testing.T) {
	reg, c := fake(t)
	reg.SeedSchema("all-value", 1, 7, sr.Schema{Schema: avroAll})
	w := avro.MustParse(avroAll)
	ts := time.Date(2026, 12, 4, 18, 0, 0, 123_000_000, time.UTC)
	tsu := time.Date(2026, 12, 4, 18, 0, 0, 123_456_000, time.UTC)
	payload, err := w.Encode(map[string]any{"b": true, "i": int32(-7), "l": int64(1) << 40, "f": float32(1.5), "d": 2.25,
		"s": "héllo", "by": []byte{0, 1}, "fx": []byte("abcd"), "e": "GREEN", "n": nil, "u": "x",
		"a": []any{int32(1), int32(2)}, "m": map[string]any{"k": int64(3)}, "r": map[string]any{"x": int32(9)},
		"tsm": ts, "tsu": tsu, "date": ts, "dec": "-12.30", "uuid": "0b6b5a0c-6b8c-4e0e-9a4e-8a0f0b0c0d0e"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder(c, Avro, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Decode(context.Background(), wire(7, nil, payload))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"b": true, "i": int32(-7), "l": int64(1) << 40, "f": float32(1.5), "d": 2.25,
		"s": "héllo", "by": []byte{0, 1}, "fx": []byte("abcd"), "e": "GREEN", "n": nil, "u": "x",
		"a": []any{int32(1), int32(2)}, "m": map[string]any{"k": int64(3)}, "r": map[string]any{"x": int32(9)},
		"tsm": ts, "tsu": tsu, "date": int32(ts.Unix() / 86400), "dec": "-12.30", "uuid": "0b6b5a0c-6b8c-4e0e-9a4e-8a0f0b0c0d0e"}
	if !reflect.DeepEqual(got, want) {
		for k, v := range want {
			if g := got.(map[string]any)[k]; !reflect.DeepEqual(g, v) {
				t.Errorf("%s: got %T %v, want %T %v", k, g, g, v, v)
			}
		}
	}
	// a payload that does not match its schema, one with bytes after it
	if _, err := d.Decode(context.Background(), wire(7, nil, payload[:10])); !errors.Is(err, ErrMalformed) || IsTransient(err) {
		t.Errorf("truncated: want ErrMalformed, got %v", err)
	}
	if _, err := d.Decode(context.Background(), wire(7, nil, append(payload, 1))); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing bytes: want ErrMalformed, got %v", err)
	}
}

func TestDecoder_AvroReaderSchema(t *testing.T) {
	reg, c := fake(t)
	v1 := `{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"legacy","type":"int"}]}`
	v2 := `{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"email","type":"string","default":"none"}]}`
	reg.SeedSchema("user-value", 1, 1, sr.Schema{Schema: v1})
	reg.SeedSchema("user-value", 2, 2, sr.Schema{Schema: v2})
	d, err := NewDecoder(c, Avro, v2)
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := avro.MustParse(v1).Encode(map[string]any{"name": "ann", "legacy": int32(3)})
	p2, _ := avro.MustParse(v2).Encode(map[string]any{"name": "bob", "email": "b@x"})
	for _, tc := range []struct {
		in   []byte
		want map[string]any
	}{
		{wire(1, nil, p1), map[string]any{"name": "ann", "email": "none"}},
		{wire(2, nil, p2), map[string]any{"name": "bob", "email": "b@x"}},
	} {
		got, err := d.Decode(context.Background(), tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("got %v %v, want %v", got, err, tc.want)
		}
	}
	// a writer schema that cannot be read into the reader schema is poison
	reg.SeedSchema("other-value", 1, 3, sr.Schema{Schema: `{"type":"record","name":"User","fields":[{"name":"name","type":"int"}]}`})
	if _, err := d.Decode(context.Background(), wire(3, nil, []byte{2})); !errors.Is(err, ErrBadSchema) || IsTransient(err) {
		t.Errorf("incompatible writer: want ErrBadSchema, got %v", err)
	}
	if _, err := NewDecoder(c, Avro, `{"type":"nope"}`); !errors.Is(err, ErrConfig) {
		t.Errorf("bad reader schema: want ErrConfig, got %v", err)
	}
}

// protoDescriptor compiles testenv.OrderProto for the tests' producer.
func protoDescriptor(t testing.TB) protoreflect.FileDescriptor {
	t.Helper()
	comp := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{"order.proto": testenv.OrderProto})})}
	fs, err := comp.Compile(context.Background(), "order.proto")
	if err != nil {
		t.Fatal(err)
	}
	return fs[0]
}

func TestDecoder_Protobuf(t *testing.T) {
	fd := protoDescriptor(t)
	order := fd.Messages().ByName("Order")
	m := dynamicpb.NewMessage(order)
	f := order.Fields()
	m.Set(f.ByName("id"), protoreflect.ValueOfInt64(42))
	m.Set(f.ByName("status"), protoreflect.ValueOfEnum(1))
	line := order.Messages().ByName("Line")
	lines := m.Mutable(f.ByName("lines")).List()
	for i, sku := range []string{"a", "b"} {
		l := dynamicpb.NewMessage(line)
		l.Set(line.Fields().ByName("sku"), protoreflect.ValueOfString(sku))
		l.Set(line.Fields().ByName("qty"), protoreflect.ValueOfUint32(uint32(i+1)))
		lines.Append(protoreflect.ValueOfMessage(l))
	}
	m.Mutable(f.ByName("tags")).Map().Set(protoreflect.ValueOfString("k").MapKey(), protoreflect.ValueOfInt32(5))
	m.Mutable(f.ByName("names")).Map().Set(protoreflect.ValueOfInt32(-3).MapKey(), protoreflect.ValueOfString("minus"))
	ts := m.Mutable(f.ByName("at")).Message()
	ts.Set(ts.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(1_800_000_000))
	ts.Set(ts.Descriptor().Fields().ByName("nanos"), protoreflect.ValueOfInt32(5000))
	m.Set(f.ByName("delta"), protoreflect.ValueOfInt32(-9))
	payload, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": int64(42), "status": "PAID",
		"lines": []any{map[string]any{"sku": "a", "qty": uint32(1)}, map[string]any{"sku": "b", "qty": uint32(2)}},
		"tags":  map[string]any{"k": int32(5)}, "names": map[string]any{"-3": "minus"},
		"at": time.Unix(1_800_000_000, 5000).UTC(), "blob": []byte{}, "delta": int32(-9), "big": uint64(0),
		"ratio": float32(0), "main": nil, "note": nil}

	reg, c := fake(t)
	// as .proto text (what Confluent's Java serializer registers) and as a
	// base64 FileDescriptorProto (what its Python serializer registers)
	reg.SeedSchema("order-value", 1, 1, sr.Schema{Schema: testenv.OrderProto, Type: sr.TypeProtobuf})
	fdp, _ := proto.Marshal(protodesc.ToFileDescriptorProto(fd))
	reg.SeedSchema("order2-value", 1, 2, sr.Schema{Schema: base64.StdEncoding.EncodeToString(fdp), Type: sr.TypeProtobuf})
	d, err := NewDecoder(c, Protobuf, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int{1, 2} {
		got, err := d.Decode(context.Background(), wire(id, []byte{0}, payload))
		if err != nil {
			t.Fatalf("schema %d: %v", id, err)
		}
		if !reflect.DeepEqual(got, want) {
			for k, v := range want {
				if g := got.(map[string]any)[k]; !reflect.DeepEqual(g, v) {
					t.Errorf("schema %d: %s: got %T %v, want %T %v", id, k, g, g, v, v)
				}
			}
		}
	}
	// a nested message type: index [1, 0] is Other.Deep
	deep := fd.Messages().ByName("Other").Messages().ByName("Deep")
	dm := dynamicpb.NewMessage(deep)
	dm.Set(deep.Fields().ByName("ok"), protoreflect.ValueOfBool(true))
	dp, _ := proto.Marshal(dm)
	if got, err := d.Decode(context.Background(), wire(1, []byte{4, 2, 0}, dp)); err != nil || !reflect.DeepEqual(got, map[string]any{"ok": true}) {
		t.Errorf("nested message: got %v %v", got, err)
	}
	// an index the schema does not have, a corrupt payload: poison
	if _, err := d.Decode(context.Background(), wire(1, []byte{2, 10}, dp)); !errors.Is(err, ErrMalformed) || IsTransient(err) {
		t.Errorf("bad index: want ErrMalformed, got %v", err)
	}
	if _, err := d.Decode(context.Background(), wire(1, []byte{0}, []byte{0xff, 0xff, 0xff})); !errors.Is(err, ErrMalformed) {
		t.Errorf("corrupt payload: want ErrMalformed, got %v", err)
	}
	// an Avro schema id given to the protobuf decoder is poison
	reg.SeedSchema("avro-value", 1, 3, sr.Schema{Schema: `"string"`})
	if _, err := d.Decode(context.Background(), wire(3, []byte{0}, nil)); !errors.Is(err, ErrBadSchema) {
		t.Errorf("avro schema: want ErrBadSchema, got %v", err)
	}
}

func TestDecoder_JSONSchema(t *testing.T) {
	reg, c := fake(t)
	reg.SeedSchema("j-value", 1, 1, sr.Schema{Type: sr.TypeJSON, Schema: `{"$schema":"http://json-schema.org/draft-07/schema#",
		"type":"object","properties":{"n":{"type":"integer"},"s":{"type":"string"}},"required":["n"]}`})
	d, err := NewDecoder(c, JSONSchema, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Decode(context.Background(), wire(1, nil, []byte(`{"n": 12345678901234567890, "s": "x"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if n := got.(map[string]any)["n"]; fmt.Sprintf("%T %v", n, n) != "json.Number 12345678901234567890" {
		t.Errorf("n: got %T %v", n, n)
	}
	for _, bad := range []string{`{"s": "no n"}`, `{"n": "text"}`, `{"n": 1} x`, `not json`} {
		if _, err := d.Decode(context.Background(), wire(1, nil, []byte(bad))); !errors.Is(err, ErrMalformed) || IsTransient(err) {
			t.Errorf("%s: want ErrMalformed, got %v", bad, err)
		}
	}
	// $ref to anything but a registry reference is not loaded
	reg.SeedSchema("k-value", 1, 2, sr.Schema{Type: sr.TypeJSON, Schema: `{"$ref":"file:///etc/passwd"}`})
	if _, err := d.Decode(context.Background(), wire(2, nil, []byte(`{}`))); !errors.Is(err, ErrBadSchema) {
		t.Errorf("$ref to a file: want ErrBadSchema, got %v", err)
	}
}

func TestDecoder_Unavailable(t *testing.T) {
	reg, c := fake(t)
	reg.SeedSchema("s-value", 1, 1, sr.Schema{Schema: `"string"`})
	d, _ := NewDecoder(c, Avro, "")
	now := time.Unix(1000, 0)
	d.now = func() time.Time { return now }
	ctx := context.Background()
	down := true
	reg.Intercept(func(w http.ResponseWriter, _ *http.Request) bool {
		if down {
			http.Error(w, `{"error_code":50001,"message":"storage down"}`, http.StatusInternalServerError)
		}
		return down
	})
	val := wire(1, nil, []byte{2, 'x'})
	if _, err := d.Decode(ctx, val); !IsTransient(err) || !errors.Is(err, ErrRegistryUnavailable) {
		t.Fatalf("5xx: want transient ErrRegistryUnavailable, got %v", err)
	}
	down = false
	// within DefaultQuiet of the failure the registry is not asked again
	if _, err := d.Decode(ctx, val); !errors.Is(err, ErrRegistryUnavailable) || !strings.Contains(err.Error(), "not asked again") {
		t.Fatalf("within %v of the failure: want ErrRegistryUnavailable without asking, got %v", DefaultQuiet, err)
	}
	now = now.Add(DefaultQuiet)
	if v, err := d.Decode(ctx, val); err != nil || v != "x" {
		t.Fatalf("after the outage: got %v %v", v, err)
	}
	// once known, the schema is cached: a registry gone for good does not matter
	reg.Close()
	if v, err := d.Decode(ctx, val); err != nil || v != "x" {
		t.Fatalf("cached: got %v %v", v, err)
	}
	// an unknown id asked of a registry that is gone: transient
	if _, err := d.Decode(ctx, wire(2, nil, nil)); !IsTransient(err) {
		t.Fatalf("network error: want transient, got %v", err)
	}
}

func TestDecoder_UnknownID(t *testing.T) {
	_, c := fake(t)
	d, _ := NewDecoder(c, Avro, "")
	now := time.Unix(1000, 0)
	d.now = func() time.Time { return now }
	ctx := context.Background()
	val := wire(99, nil, []byte{2, 'x'})
	for i := 1; i < DefaultAttempts; i++ {
		_, err := d.Decode(ctx, val)
		var p *PendingError
		if !errors.As(err, &p) || !IsTransient(err) || !errors.Is(err, ErrUnknownSchema) || p.Attempt != i {
			t.Fatalf("attempt %d: want a transient *PendingError, got %v", i, err)
		}
	}
	for range 2 { // poison now, and without asking again for a while
		if _, err := d.Decode(ctx, val); !errors.Is(err, ErrUnknownSchema) || IsTransient(err) {
			t.Fatalf("want poison ErrUnknownSchema, got %v", err)
		}
	}
	now = now.Add(DefaultUnknownFor + time.Second)
	if _, err := d.Decode(ctx, val); !IsTransient(err) {
		t.Fatalf("after %v: want asking again (transient), got %v", DefaultUnknownFor, err)
	}
}

func TestClient_NotARegistry(t *testing.T) {
	// a url without the registry's path: 404s without a registry error
	// code are not "unknown schema" (that would dead-letter every record)
	srv := srfake.New()
	defer srv.Close()
	c, err := New(Config{URL: srv.URL() + "/no/such/path"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SchemaByID(context.Background(), 1)
	if !errors.Is(err, ErrRegistryUnavailable) || errors.Is(err, ErrUnknownSchema) {
		t.Fatalf("want ErrRegistryUnavailable, got %v", err)
	}
}

func TestLRU(t *testing.T) {
	c := newLRU[int, int](2)
	c.put(1, 1)
	c.put(2, 2)
	c.get(1)
	c.put(3, 3) // evicts 2, the least recently used
	if _, ok := c.get(2); ok || c.len() != 2 {
		t.Fatal("2 not evicted")
	}
	if v, ok := c.get(1); !ok || v != 1 {
		t.Fatal("1 evicted")
	}
}

func TestClient_AvroSchemaAndProtoFile(t *testing.T) {
	reg, c := fake(t)
	// a schema referencing a named type of another subject
	reg.SeedSchema("inner", 1, 1, sr.Schema{Schema: `{"type":"record","name":"Inner","namespace":"x","fields":[{"name":"a","type":"int"}]}`})
	reg.SeedSchema("outer-value", 1, 2, sr.Schema{
		Schema:     `{"type":"record","name":"Outer","namespace":"x","fields":[{"name":"in","type":"x.Inner"}]}`,
		References: []sr.SchemaReference{{Name: "x.Inner", Subject: "inner", Version: 1}}})
	ctx := context.Background()
	s, id, err := c.AvroSchema(ctx, "outer-value", -1)
	if err != nil || id != 2 {
		t.Fatalf("AvroSchema: %v, id %d", err, id)
	}
	b, err := s.Encode(map[string]any{"in": map[string]any{"a": int32(5)}})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := NewDecoder(c, Avro, "")
	if v, err := d.Decode(ctx, wire(2, nil, b)); err != nil || !reflect.DeepEqual(v, map[string]any{"in": map[string]any{"a": int32(5)}}) {
		t.Errorf("a record with a referenced type: %v %v", v, err)
	}
	if _, _, err := c.AvroSchema(ctx, "nope", -1); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("unknown subject: want ErrUnknownSchema, got %v", err)
	}
	reg.SeedSchema("order-value", 1, 3, sr.Schema{Schema: testenv.OrderProto, Type: sr.TypeProtobuf})
	fd, id, err := c.ProtoFile(ctx, "order-value", 1)
	if err != nil || id != 3 || fd.Messages().ByName("Order") == nil {
		t.Fatalf("ProtoFile: %v, id %d", err, id)
	}
}

func BenchmarkDecoder(b *testing.B) {
	reg := srfake.New()
	defer reg.Close()
	c, err := New(Config{URL: reg.URL()})
	if err != nil {
		b.Fatal(err)
	}
	reg.SeedSchema("all-value", 1, 1, sr.Schema{Schema: avroAll})
	ts := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	payload, err := avro.MustParse(avroAll).Encode(map[string]any{"b": true, "i": int32(-7), "l": int64(1) << 40, "f": float32(1.5), "d": 2.25,
		"s": "héllo", "by": []byte{0, 1}, "fx": []byte("abcd"), "e": "GREEN", "n": nil, "u": "x",
		"a": []any{int32(1), int32(2)}, "m": map[string]any{"k": int64(3)}, "r": map[string]any{"x": int32(9)},
		"tsm": ts, "tsu": ts, "date": ts, "dec": "-12.30", "uuid": "0b6b5a0c-6b8c-4e0e-9a4e-8a0f0b0c0d0e"})
	if err != nil {
		b.Fatal(err)
	}
	fd := protoDescriptor(b)
	order := fd.Messages().ByName("Order")
	m := dynamicpb.NewMessage(order)
	m.Set(order.Fields().ByName("id"), protoreflect.ValueOfInt64(42))
	m.Mutable(order.Fields().ByName("tags")).Map().Set(protoreflect.ValueOfString("k").MapKey(), protoreflect.ValueOfInt32(5))
	pb, _ := proto.Marshal(m)
	reg.SeedSchema("order-value", 1, 2, sr.Schema{Schema: testenv.OrderProto, Type: sr.TypeProtobuf})
	for _, bc := range []struct {
		format string
		value  []byte
	}{{Avro, wire(1, nil, payload)}, {Protobuf, wire(2, []byte{0}, pb)}} {
		b.Run(bc.format, func(b *testing.B) {
			d, _ := NewDecoder(c, bc.format, "")
			if _, err := d.Decode(context.Background(), bc.value); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.value)))
			for b.Loop() {
				if _, err := d.Decode(context.Background(), bc.value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
