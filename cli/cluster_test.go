package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
)

// memBackend is an in-memory cluster for the CLI's tests.
type memBackend struct {
	mu        sync.Mutex
	topos     map[string]*api.Topology
	autoscale map[string]bool
}

func (m *memBackend) Members(context.Context) ([]api.Member, error) {
	return []api.Member{{Name: "w1", State: "alive", API: "127.0.0.1:8081", Tasks: 3, Slots: 8, Started: time.Now().Add(-time.Minute)},
		{Name: "w2", State: "alive", API: "127.0.0.1:8082", Tasks: 2, Slots: 8}}, nil
}

func (m *memBackend) Topologies(context.Context) ([]api.TopologySummary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []api.TopologySummary
	for _, t := range m.topos {
		out = append(out, t.TopologySummary)
	}
	return out, nil
}

func (m *memBackend) Submit(_ context.Context, data []byte) (api.TopologySummary, error) {
	topo, err := topology.Decode(data, all.Registry())
	var errs *topology.Errors
	if errors.As(err, &errs) {
		var d []string
		for _, e := range errs.List {
			d = append(d, e.Error())
		}
		return api.TopologySummary{}, &api.InvalidError{Details: d}
	}
	if err != nil {
		return api.TopologySummary{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.topos[topo.Name]; ok {
		return api.TopologySummary{}, api.ErrExists
	}
	t := &api.Topology{TopologySummary: api.TopologySummary{Name: topo.Name, Status: "active", Version: 1, Submitted: time.Now(), Workers: 2}}
	for _, c := range append(append([]*topology.Component(nil), topo.Spouts...), topo.Bolts...) {
		comp := api.Component{ID: c.ID, Kind: c.Kind.String(), Type: c.Type, Parallelism: c.Parallelism, Emitted: 10, Acked: 7}
		for i := range c.Parallelism {
			comp.Tasks = append(comp.Tasks, api.Task{ID: len(comp.Tasks) + 1, Worker: []string{"w1", "w2"}[i%2]})
		}
		t.Tasks += c.Parallelism
		t.Components = append(t.Components, comp)
	}
	m.topos[topo.Name] = t
	return t.TopologySummary, nil
}

func (m *memBackend) Describe(_ context.Context, name string) (*api.Topology, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.topos[name]
	if !ok {
		return nil, api.ErrNotFound
	}
	return t, nil
}

func (m *memBackend) Kill(_ context.Context, name string, _ time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.topos[name]; !ok {
		return api.ErrNotFound
	}
	delete(m.topos, name)
	return nil
}

func (m *memBackend) SetActive(_ context.Context, name string, on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.topos[name]
	if !ok {
		return api.ErrNotFound
	}
	t.Status = map[bool]string{true: "active", false: "inactive"}[on]
	return nil
}

func (m *memBackend) SetAutoscale(_ context.Context, name string, on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.topos[name]; !ok {
		return api.ErrNotFound
	}
	m.autoscale = map[string]bool{name: on}
	return nil
}

func (m *memBackend) Rebalance(_ context.Context, name string, r api.Rebalance) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.topos[name]
	if !ok {
		return api.ErrNotFound
	}
	for i := range t.Components {
		if n, ok := r.Parallelism[t.Components[i].ID]; ok {
			t.Components[i].Parallelism = n
		}
	}
	return nil
}

func runAt(t *testing.T, url string, args ...string) (int, string, string) {
	t.Helper()
	var out, errs strings.Builder
	env := &cli.Env{Stdout: &out, Stderr: &errs, Getenv: func(k string) string {
		if k == "GALE_API" {
			return url
		}
		return ""
	}}
	code := cli.Run(context.Background(), env, args)
	return code, out.String(), errs.String()
}

// TestClusterCommands drives every cluster command against an API server
// (an in-memory backend): tables, JSON, the token, and the errors a user
// must be able to act on.
func TestClusterCommands(t *testing.T) {
	b := &memBackend{topos: map[string]*api.Topology{}}
	srv := httptest.NewServer(api.NewServer(b, api.Access{Token: "s3cret", Loopback: true}))
	defer srv.Close()
	wc := "../examples/wordcount.json"

	// changes need the token
	if code, _, errs := runAt(t, srv.URL, "submit", wc); code != 1 || !strings.Contains(errs, "token") {
		t.Errorf("submit without a token: %d %q", code, errs)
	}
	if code, out, errs := runAt(t, srv.URL, "submit", "--token", "s3cret", wc); code != 0 || !strings.Contains(out, "submitted wordcount") {
		t.Fatalf("submit: %d %q %q", code, out, errs)
	}
	if code, _, errs := runAt(t, srv.URL, "submit", "--token", "s3cret", wc); code != 1 || !strings.Contains(errs, "exists") || !strings.Contains(errs, "409") {
		t.Errorf("submit twice: %d %q", code, errs)
	}
	bad := write(t, "bad.json", `{"name": "x", "spouts": [{"id": "s", "type": "nope"}], "bolts": [{"id": "b", "type": "split", "inputs": [{"component": "zz"}]}]}`)
	if code, _, errs := runAt(t, srv.URL, "submit", "--token", "s3cret", bad); code != 1 || !strings.Contains(errs, "spouts[0].type") || !strings.Contains(errs, "bolts[0].inputs[0]") {
		t.Errorf("invalid topology: %d %q", code, errs)
	}
	// reading needs no token
	if code, out, _ := runAt(t, srv.URL, "list"); code != 0 || !strings.Contains(out, "wordcount") || !strings.Contains(out, "active") {
		t.Errorf("list: %d %q", code, out)
	}
	code, out, _ := runAt(t, srv.URL, "describe", "wordcount")
	if code != 0 || !strings.Contains(out, "sentences") || !strings.Contains(out, "w1×") {
		t.Errorf("describe: %d %q", code, out)
	}
	code, out, _ = runAt(t, srv.URL, "describe", "wordcount", "--json")
	var desc api.Topology
	if code != 0 || json.Unmarshal([]byte(out), &desc) != nil || len(desc.Components) == 0 || desc.Components[0].Emitted != 10 {
		t.Errorf("describe --json: %d %q", code, out)
	}
	if code, _, errs := runAt(t, srv.URL, "describe", "nope"); code != 1 || !strings.Contains(errs, "404") {
		t.Errorf("describe a missing topology: %d %q", code, errs)
	}
	if code, out, _ := runAt(t, srv.URL, "deactivate", "--token", "s3cret", "wordcount"); code != 0 || !strings.Contains(out, "deactivated") {
		t.Errorf("deactivate: %d %q", code, out)
	}
	if code, _, errs := runAt(t, srv.URL, "rebalance", "--token", "s3cret", "wordcount", "--parallelism", "split=0"); code != 2 || !strings.Contains(errs, "N >= 1") {
		t.Errorf("rebalance split=0: %d %q", code, errs)
	}
	if code, out, errs := runAt(t, srv.URL, "rebalance", "--token", "s3cret", "wordcount", "--parallelism", "split=5"); code != 0 || !strings.Contains(out, "rebalancing") {
		t.Errorf("rebalance: %d %q %q", code, out, errs)
	}
	if code, out, errs := runAt(t, srv.URL, "autoscale", "--token", "s3cret", "off", "wordcount"); code != 0 || !strings.Contains(out, "autoscale off") {
		t.Errorf("autoscale off: %d %q %q", code, out, errs)
	}
	b.mu.Lock()
	paused := b.autoscale
	b.mu.Unlock()
	if on, ok := paused["wordcount"]; !ok || on {
		t.Errorf("autoscale off reached the backend as %v", paused)
	}
	if code, _, errs := runAt(t, srv.URL, "autoscale", "--token", "s3cret", "off", "nosuch"); code != 1 || !strings.Contains(errs, "no such topology") {
		t.Errorf("autoscale off nosuch: %d %q", code, errs)
	}
	if code, out, _ := runAt(t, srv.URL, "members"); code != 0 || !strings.Contains(out, "w1") || !strings.Contains(out, "w2") {
		t.Errorf("members: %d %q", code, out)
	}
	if code, out, errs := runAt(t, srv.URL, "kill", "--token", "s3cret", "--wait", "wordcount"); code != 0 || !strings.Contains(out, "is gone") {
		t.Errorf("kill --wait: %d %q %q", code, out, errs)
	}
	// the API is down: say where we tried
	srv.Close()
	if code, _, errs := runAt(t, srv.URL, "list"); code != 1 || !strings.Contains(errs, srv.URL) || !strings.Contains(errs, "gale worker") {
		t.Errorf("API down: %d %q", code, errs)
	}
}

func (b *memBackend) Info(context.Context) api.Info { return api.Info{Mode: "cluster", Worker: "mem"} }

func (b *memBackend) Series(context.Context, string, string) (*api.Series, error) {
	return nil, api.ErrUnsupported
}

// TestDescribe_KafkaPartitions: describe shows each partition's lost
// records and commit retries in the table, and below it the lost ranges,
// a stopped partition's reason and the last error.
func TestDescribe_KafkaPartitions(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	topo := &api.Topology{TopologySummary: api.TopologySummary{Name: "logs", Status: "active", Version: 1, Submitted: at}}
	topo.Components = []api.Component{{ID: "events", Kind: "spout", Type: "kafka", Partitions: []api.Partition{
		{Task: 1, Worker: "w1", Lag: 10, PartitionStatus: local.PartitionStatus{Topic: "logs", Partition: 0, Planned: 12, Committed: 11,
			CommittedOffset: 1100, HighWatermark: 1110, LostOffsets: 250, CommitRetries: 4,
			LastLost:  &local.LostRange{Batch: "logs/00000/000000000007", Start: 700, End: 750},
			LastError: "commit batch logs/00000/000000000011: ledger: broker timed out", LastErrorAt: at}},
		{Task: 1, Worker: "w1", PartitionStatus: local.PartitionStatus{Topic: "logs", Partition: 1, Planned: 3, Committed: 3,
			CommittedOffset: 300, HighWatermark: 900, Stopped: "logs/1: offsets [300, 500) of batch logs/00001/000000000003: records deleted by Kafka before they were read (the log now starts at 500)"}},
	}}}
	srv := httptest.NewServer(api.NewServer(&memBackend{topos: map[string]*api.Topology{"logs": topo}}, api.Access{Loopback: true}))
	defer srv.Close()
	code, out, errs := runAt(t, srv.URL, "describe", "logs")
	if code != 0 {
		t.Fatalf("describe: %d %q", code, errs)
	}
	for _, want := range []string{
		"LOST", "COMMIT RETRIES",
		"logs/0: LOST 250 offsets that Kafka deleted (retention) before the spout read them; the last: batch logs/00000/000000000007, offsets [700, 750)",
		"logs/0: last error at 2026-12-03T10:00:00Z: commit batch logs/00000/000000000011: ledger: broker timed out",
		"logs/1: STOPPED: logs/1: offsets [300, 500) of batch logs/00001/000000000003",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "logs/1: LOST") || strings.Contains(out, "logs/1: last error") {
		t.Errorf("describe notes partition 1's loss or error twice:\n%s", out)
	}
	// the table's row of partition 0: its lost records and retries
	row := ""
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 12 && f[0] == "logs" && f[1] == "0" {
			row = line
			if f[10] != "250" || f[11] != "4" {
				t.Errorf("partition 0's row %q: want 250 lost, 4 retries", line)
			}
		}
	}
	if row == "" {
		t.Errorf("no row of partition 0 in:\n%s", out)
	}
}
