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
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err = c.Submit(ctx, data); err == nil {
			break
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(dir, "worker.log"))
			t.Fatalf("submit: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for {
		d, err := c.Describe(ctx, "shouting")
		if err == nil {
			for _, comp := range d.Components {
				if comp.ID == "shout" && comp.Type == "shout" && comp.Executed > 0 && comp.Tasks[0].Worker == "solo" {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shout bolt never ran on the worker: %+v %v", d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
