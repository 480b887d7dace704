package kafka

import (
	"encoding/json"
	"errors"
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
