package kafka

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestConfig_Deserialize: a rejected value is ErrPoison, wrapping the
// decoder's error when there is one.
func TestConfig_Deserialize(t *testing.T) {
	c := &Config{Deserializer: "json", Fields: []string{"user.name"}}
	v, extra, err := c.deserialize([]byte(`{"user":{"name":"ann"}}`))
	if err != nil || v == nil || len(extra) != 1 || extra[0] != "ann" {
		t.Errorf("good JSON: %v, %v, %v", v, extra, err)
	}
	var se *json.SyntaxError
	if _, _, err := c.deserialize([]byte(`{"user":}`)); !errors.Is(err, ErrPoison) || !errors.As(err, &se) || se.Offset != 9 {
		t.Errorf("bad JSON: %v, want ErrPoison wrapping a *json.SyntaxError at offset 9", err)
	}
	if _, _, err := c.deserialize([]byte(`{} {}`)); !errors.Is(err, ErrPoison) {
		t.Errorf("two documents: %v, want ErrPoison", err)
	}
	c.Deserializer = "string"
	if _, _, err := c.deserialize([]byte{0xff}); !errors.Is(err, ErrPoison) {
		t.Errorf("invalid UTF-8: %v, want ErrPoison", err)
	}
}

// TestConfig_ValidateRegistry: the schema registry's keys are checked
// with the deserializers that use them, and refused with the others.
func TestConfig_ValidateRegistry(t *testing.T) {
	base := func(js string) *Config {
		t.Helper()
		c := NewConfig()
		if err := json.Unmarshal([]byte(`{"brokers":["127.0.0.1:9092"],"topics":["t"],`+js+`}`), c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	reader := `{"type":"record","name":"U","fields":[{"name":"a","type":"int"}]}`
	readerText, _ := json.Marshal(reader)
	for _, tc := range []struct {
		name, js string
		want     string // "" valid
	}{
		{"avro", `"deserializer":"avro","schema_registry":{"url":"http://r:8081"},"fields":["a.b"]`, ""},
		{"avro with inline reader schema", `"deserializer":"avro","schema_registry":{"url":"http://r"},"reader_schema":` + reader, ""},
		{"avro with reader schema text", `"deserializer":"avro","schema_registry":{"url":"http://r"},"reader_schema":` + string(readerText), ""},
		{"protobuf", `"deserializer":"protobuf","schema_registry":{"url":"https://r","username":"u","password_env":"PW"}`, ""},
		{"json_schema", `"deserializer":"json_schema","schema_registry":{"url":"http://r"}`, ""},
		{"no registry", `"deserializer":"avro"`, "schema_registry: required with the avro deserializer"},
		{"bad registry", `"deserializer":"avro","schema_registry":{"url":"http://u:pw@r"}`, "schema_registry.url: must not hold a user or password"},
		{"registry without its deserializer", `"deserializer":"json","schema_registry":{"url":"http://r"}`, "schema_registry: only with"},
		{"reader schema for protobuf", `"deserializer":"protobuf","schema_registry":{"url":"http://r"},"reader_schema":` + reader, "reader_schema: only with the avro deserializer"},
		{"bad reader schema", `"deserializer":"avro","schema_registry":{"url":"http://r"},"reader_schema":{"type":"nope"}`, "reader_schema: not an Avro schema"},
		{"fields with raw", `"deserializer":"raw","fields":["a"]`, "fields: only with the json, avro, protobuf and json_schema deserializers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := base(tc.js).Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if rs, err := base(`"reader_schema":` + string(readerText)).readerSchema(); err != nil || rs != reader {
		t.Errorf("reader schema as a JSON string: %q %v", rs, err)
	}
}
