package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/gale-stream/gale/cluster/api"
)

// runCluster runs topology data on s.workers `gale worker` processes of
// one cluster on loopback, children of this process (so that the CPU and
// memory of the run are this process tree's, as for the other engines):
// it submits the topology, prints RUNNING once every worker runs tasks of
// it, and at ctx's end stops the workers.
func runCluster(ctx context.Context, s *settings, data []byte, tmp string) error {
	bin := s.galeBin
	if bin == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		bin = filepath.Join(filepath.Dir(self), "gale")
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("workers=%d: the gale binary (gale=PATH): %w", s.workers, err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	token := hex.EncodeToString(secret)
	// the workers read it from a file of this run's, not from their
	// environment (which their children would inherit)
	tokenFile := filepath.Join(tmp, "api-token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return err
	}
	var procs []*exec.Cmd
	defer func() { stopWorkers(procs) }()
	var first, api0 string
	var apis []string
	for i := 1; i <= s.workers; i++ {
		gossip, api, err := workerPorts()
		if err != nil {
			return err
		}
		args := []string{"worker", "--name", "w" + strconv.Itoa(i), "--bind", gossip, "--http", api,
			"--data-dir", filepath.Join(tmp, "cluster"), "--transport-compression", s.compression, "--auth-token-file", tokenFile}
		apis = append(apis, api)
		if first != "" {
			args = append(args, "--join", first)
		} else {
			first, api0 = gossip, api
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if prof := os.Getenv("GALE_CPUPROFILE"); prof != "" {
			// a profile of each worker beside this process's
			cmd.Env = append(os.Environ(), "GALE_CPUPROFILE="+prof+".w"+strconv.Itoa(i))
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start worker %d: %w", i, err)
		}
		procs = append(procs, cmd)
	}
	c := &api.Client{Base: "http://" + api0, Token: token}
	if err := await(ctx, "the workers to form a cluster", func() bool {
		ms, err := c.Members(ctx)
		alive := 0
		for _, m := range ms {
			if m.State == "alive" {
				alive++
			}
		}
		return err == nil && alive == s.workers
	}); err != nil {
		return err
	}
	if _, err := c.Submit(ctx, data); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if err := await(ctx, "the topology to run on every worker", func() bool {
		d, err := c.Describe(ctx, "bench-peers")
		return err == nil && d.Workers == s.workers
	}); err != nil {
		return err
	}
	fmt.Println("RUNNING")
	os.Stdout.Sync()
	<-ctx.Done()
	reportTransport(apis, token)
	return nil
}

// reportTransport writes what the workers sent each other (their
// gale_transport_bytes_total metrics) to stderr, the runner's log.
func reportTransport(apis []string, token string) {
	sums := map[string]float64{}
	re := regexp.MustCompile(`(?m)^gale_transport_bytes_total\{direction="out",kind="(\w+)",peer="[^"]*"\} (\S+)$`)
	for _, a := range apis {
		req, _ := http.NewRequest(http.MethodGet, "http://"+a+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Fprintf(os.Stderr, "galepeer: metrics of %s: %v\n", a, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, m := range re.FindAllSubmatch(body, -1) {
			v, _ := strconv.ParseFloat(string(m[2]), 64)
			sums[string(m[1])] += v
		}
	}
	fmt.Fprintf(os.Stderr, "TRANSPORT between the workers: %.1f MB of frames, %.1f MB on the wire\n", sums["frames"]/1e6, sums["wire"]/1e6)
}

// await polls cond until it holds, ctx ends or a minute passed.
func await(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited a minute for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// workerPorts returns a loopback gossip address whose next port (the
// tuple transport's) is free too, and an API address.
func workerPorts() (gossip, api string, err error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", err
		}
		port := l.Addr().(*net.TCPAddr).Port
		next, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1))
		if err != nil {
			l.Close()
			continue
		}
		h, err := net.Listen("tcp", "127.0.0.1:0")
		l.Close()
		next.Close()
		if err != nil {
			return "", "", err
		}
		api = h.Addr().String()
		h.Close()
		return "127.0.0.1:" + strconv.Itoa(port), api, nil
	}
	return "", "", errors.New("no two free consecutive ports on 127.0.0.1")
}

// stopWorkers asks the workers to stop (SIGTERM), and kills those still
// running 10 s later (a graceful leave with nobody left to take the tasks
// drains them first).
func stopWorkers(procs []*exec.Cmd) {
	done := make(chan struct{})
	for _, p := range procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	go func() {
		for _, p := range procs {
			p.Wait()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		for _, p := range procs {
			p.Process.Kill()
		}
		<-done
	}
}
