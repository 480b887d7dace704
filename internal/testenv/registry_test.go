package testenv

// Integration test against the real schema registry that `testenv/testenv up registry`
// starts (GALE_SCHEMA_REGISTRY_URL): the Confluent-compatible calls Gale relies on
// (register a schema under a subject, read it by id and by version, an unknown id's error).

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSchemaRegistryRoundTrip(t *testing.T) {
	base := SchemaRegistry(t)
	client := &http.Client{Timeout: 10 * time.Second}
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: %d %s: not a JSON object: %v", method, path, resp.StatusCode, b, err)
		}
		return resp.StatusCode, m
	}
	subject := fmt.Sprintf("gale-testenv-%d-value", time.Now().UnixNano())
	schema := `{"type":"record","name":"Probe","fields":[{"name":"n","type":"long"}]}`
	body, _ := json.Marshal(map[string]string{"schema": schema})
	code, reg := call("POST", "/subjects/"+subject+"/versions", string(body))
	if code != 200 {
		t.Fatalf("register: %d %v", code, reg)
	}
	id := int(reg["id"].(float64))
	// registering the same schema again is idempotent: the same id
	if code, again := call("POST", "/subjects/"+subject+"/versions", string(body)); code != 200 || int(again["id"].(float64)) != id {
		t.Fatalf("register again: %d %v, want id %d", code, again, id)
	}
	code, got := call("GET", fmt.Sprintf("/schemas/ids/%d", id), "")
	if code != 200 || !strings.Contains(got["schema"].(string), `"Probe"`) {
		t.Fatalf("schema %d: %d %v", id, code, got)
	}
	code, ver := call("GET", "/subjects/"+subject+"/versions/latest", "")
	if code != 200 || int(ver["id"].(float64)) != id || int(ver["version"].(float64)) != 1 {
		t.Fatalf("latest version: %d %v", code, ver)
	}
	code, missing := call("GET", "/schemas/ids/2147483000", "")
	if code != 404 || int(missing["error_code"].(float64)) != 40403 {
		t.Fatalf("unknown id: %d %v, want 404 with error_code 40403", code, missing)
	}
}
