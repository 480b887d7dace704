package cli_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster"
	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/registry/all"
)

// A Kafka spout whose ledger would be files on one worker's disk; its
// brokers do not exist, so that it could not read anything should a
// worker run it after all.
const (
	fileLedgerTopology = `{"name": "events-count",
  "spouts": [{"id": "events", "type": "kafka", "config": {"brokers": ["127.0.0.1:1"], "topics": ["events"]%s}}],
  "bolts": [{"id": "sink", "type": "noop", "inputs": [{"component": "events"}]}]}`
	fileLedgerRefusal = `spouts[0].config.ledger.kind: a file ledger lives on one worker's disk; in a cluster use {"kind": "kafka"} ` +
		`(or a directory on a filesystem every worker shares, with "shared": true and an absolute "dir")`
	token = "s3cret"
)

// startWorker starts a one-worker cluster in this process on st, logging
// to log, and stops it at the end of the test.
func startWorker(t *testing.T, st store.Store, log io.Writer) (*cluster.Worker, *api.Client) {
	t.Helper()
	w, err := cluster.Start(cluster.Config{Name: "w1", Gossip: "127.0.0.1:0", HTTP: "127.0.0.1:0", API: cluster.APISecurity{Token: token},
		Store: st, Registry: all.Registry(), Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := w.Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return w, &api.Client{Base: "http://" + w.APIAddr(), Token: token}
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestCluster_SubmitRefusesFileLedger submits to a worker a topology whose
// Kafka spout keeps its ledger in local files (the default): the API
// answers 400 with the problem at its JSON path, `gale submit` prints it
// and exits 1, nothing is stored. The same ledger declared shared (an
// absolute directory every worker mounts) is accepted; gale validate (for
// gale run, one process) accepts the unshared one.
func TestCluster_SubmitRefusesFileLedger(t *testing.T) {
	_, c := startWorker(t, openStore(t), io.Discard)
	ctx := context.Background()
	for _, ledger := range []string{"", fmt.Sprintf(`, "ledger": {"kind": "file", "dir": %q}`, t.TempDir())} {
		js := fmt.Sprintf(fileLedgerTopology, ledger)
		_, err := c.Submit(ctx, []byte(js))
		var se *api.StatusError
		if !errors.As(err, &se) || se.Status != 400 || se.Message != "invalid topology" || !slices.Equal(se.Details, []string{fileLedgerRefusal}) {
			t.Fatalf("submit with ledger %q: %v; want HTTP 400, invalid topology: %s", ledger, err, fileLedgerRefusal)
		}

		file := write(t, "topology.json", js)
		code, out, errs := runAt(t, c.Base, "submit", "--token", token, file)
		if want := file + ": invalid topology (1 error):\n  " + fileLedgerRefusal + "\n"; code != 1 || out != "" || errs != want {
			t.Errorf("gale submit with ledger %q: exit %d, stdout %q, stderr\n%s\nwant exit 1 and\n%s", ledger, code, out, errs, want)
		}
		if code, out, errs := runAt(t, c.Base, "validate", file); code != 0 {
			t.Errorf("gale validate (as for gale run) with ledger %q: exit %d\n%s%s", ledger, code, out, errs)
		}
	}
	if tops, err := c.Topologies(ctx); err != nil || len(tops) != 0 {
		t.Fatalf("topologies after the refusals: %v, %v; want none", tops, err)
	}

	shared := write(t, "shared.json", fmt.Sprintf(fileLedgerTopology,
		fmt.Sprintf(`, "ledger": {"kind": "file", "dir": %q, "shared": true}`, filepath.Join(t.TempDir(), "ledger"))))
	if code, out, errs := runAt(t, c.Base, "submit", "--token", token, shared); code != 0 || out != "submitted events-count (version 1, active)\n" {
		t.Errorf("gale submit with a shared file ledger: exit %d, %q %q", code, out, errs)
	}
	if code, out, errs := runAt(t, c.Base, "kill", "--token", token, "--drain", "0s", "--wait", "events-count"); code != 0 {
		t.Errorf("gale kill: exit %d, %q %q", code, out, errs)
	}
}

// TestCluster_StoredFileLedgerIsNotRun: a topology with a file ledger
// stored before workers checked for it (put in the store directly) is
// neither assigned nor run, while a good one beside it is; the worker says
// why once, in its log, and the API and the CLI show it (gale list, gale
// describe); gale kill removes it.
func TestCluster_StoredFileLedgerIsNotRun(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	old := fmt.Sprintf(fileLedgerTopology, fmt.Sprintf(`, "ledger": {"kind": "file", "dir": %q}`, t.TempDir()))
	good := `{"name": "wc", "spouts": [{"id": "s", "type": "generator", "config": {"count": 10}}],
	  "bolts": [{"id": "b", "type": "noop", "inputs": [{"component": "s"}]}]}`
	for name, js := range map[string]string{"events-count": old, "wc": good} {
		if _, err := st.PutTopology(ctx, store.Topology{Name: name, JSON: []byte(js), Status: store.StatusActive}, 0); err != nil {
			t.Fatal(err)
		}
	}
	var log galetest.Buffer
	_, c := startWorker(t, st, &log)

	// the good one is assigned: every reconcile so far saw the old one too
	galetest.Eventually(t, "wc assigned", 30*time.Second, func() bool {
		d, err := c.Describe(ctx, "wc")
		return err == nil && d.Workers == 1
	})
	if _, err := st.GetAssignment(ctx, "events-count"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("assignment of the refused topology: %v, want none (store.ErrNotFound)", err)
	}
	d, err := c.Describe(ctx, "events-count")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Refused, []string{fileLedgerRefusal}) || d.Workers != 0 || len(d.Unassigned) != 0 || d.Status != "active" {
		t.Errorf("describe: refused %q, %d workers, unassigned %v, status %s; want the refusal, no worker, no unassigned task, active",
			d.Refused, d.Workers, d.Unassigned, d.Status)
	}
	if wc, err := c.Describe(ctx, "wc"); err != nil || len(wc.Refused) != 0 {
		t.Errorf("describe wc: %v, refused %q; want nothing refused", err, wc.Refused)
	}
	logs := log.String()
	if n := strings.Count(logs, "refusing to run a stored topology"); n != 1 || !strings.Contains(logs, "spouts[0].config.ledger.kind") {
		t.Errorf("the worker's log says %d times that it refuses the topology, want once, with the path:\n%s", n, logs)
	}

	code, out, errs := runAt(t, c.Base, "list")
	if code != 0 || !strings.Contains(out, "refused (gale describe events-count)") {
		t.Errorf("gale list: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runAt(t, c.Base, "describe", "events-count")
	want := "REFUSED: the workers do not run events-count, stored before they checked what a submit checks now:\n  " +
		fileLedgerRefusal + "\nkill it (gale kill events-count) and submit it again once fixed.\n"
	if code != 0 || !strings.Contains(out, want) || strings.Contains(out, "could not be placed") {
		t.Errorf("gale describe: exit %d\n%s%s\nwant it to say\n%s", code, out, errs, want)
	}
	if code, out, errs := runAt(t, c.Base, "kill", "--token", token, "--drain", "0s", "--wait", "events-count"); code != 0 {
		t.Errorf("gale kill: exit %d, %q %q", code, out, errs)
	}
}
