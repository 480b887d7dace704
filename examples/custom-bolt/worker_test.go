package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/galetest"
)

// TestShout_AsClusterWorker builds this program and runs it as a cluster
// worker (`custom-bolt worker`, the gale command line with the shout type
// compiled in), submits topology.json through the API and checks that the
// shout bolt runs there.
func TestShout_AsClusterWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: builds and starts a worker process (-short)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "custom-bolt")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", port())
	cmd := exec.Command(bin, "worker", "--name", "solo", "--bind", "127.0.0.1:0", "--transport", "127.0.0.1:0",
		"--http", httpAddr, "--data-dir", filepath.Join(dir, "data"))
	log, _ := os.Create(filepath.Join(dir, "worker.log"))
	defer log.Close()
	cmd.Stdout, cmd.Stderr, cmd.Dir = log, log, dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	c := &api.Client{Base: "http://" + httpAddr}
	ctx := context.Background()
	data, err := os.ReadFile("topology.json")
	if err != nil {
		t.Fatal(err)
	}
	// on a failure, what the worker said and the last answer of its API
	var last string
	defer func() {
		if t.Failed() {
			out, _ := os.ReadFile(filepath.Join(dir, "worker.log"))
			t.Logf("last answer: %s\nworker.log:\n%s", last, out)
		}
	}()
	const limit = 30 * time.Second
	took := galetest.Eventually(t, "the worker to accept the topology", limit, func() bool {
		_, err := c.Submit(ctx, data)
		last = fmt.Sprintf("submit: %v", err)
		return err == nil
	})
	galetest.Eventually(t, "the shout bolt to run on the worker", limit-took, func() bool {
		d, err := c.Describe(ctx, "shouting")
		last = fmt.Sprintf("describe: %+v %v", d, err)
		if err != nil {
			return false
		}
		for _, comp := range d.Components {
			if comp.ID == "shout" && comp.Type == "shout" && comp.Executed > 0 && comp.Tasks[0].Worker == "solo" {
				return true
			}
		}
		return false
	})
}
