package deploy

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The gale binary the artefacts run, built once per test run with the
// Dockerfile's own go build command, and what its `gale worker -h` says.

var (
	buildOnce sync.Once
	galeBin   string
	buildErr  error
	buildDir  string
)

// testVersion is the VERSION build argument of the test build.
const testVersion = "deploytest"

// gale returns the path of the gale binary built by the Dockerfile's
// command (run from the repository's root).
func gale(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "gale-deploy-test")
		if buildErr != nil {
			return
		}
		var cmd string
		cmd, buildErr = dockerBuildCommand("docker/Dockerfile")
		if buildErr != nil {
			return
		}
		galeBin = filepath.Join(buildDir, "gale")
		cmd = strings.ReplaceAll(cmd, "${VERSION}", testVersion)
		cmd = strings.ReplaceAll(cmd, "/out/gale", galeBin)
		c := exec.Command("sh", "-c", cmd)
		c.Dir = ".."
		if out, err := c.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("the Dockerfile's build command %q: %w\n%s", cmd, err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return galeBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// dockerBuildCommand is the go build command of a Dockerfile's build
// stage (its RUN instruction running go build, up to the next &&).
func dockerBuildCommand(file string) (string, error) {
	df, err := parseDockerfile(file)
	if err != nil {
		return "", err
	}
	for _, st := range df.stages {
		for _, in := range st.instructions {
			if in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
				continue
			}
			for _, part := range strings.Split(in.args, "&&") {
				if strings.Contains(part, "go build") {
					return strings.TrimSpace(part), nil
				}
			}
		}
	}
	return "", fmt.Errorf("%s: no RUN with go build", file)
}

// workerFlag is one flag of `gale worker`.
type workerFlag struct {
	name, def string
}

var (
	flagsOnce sync.Once
	flags     map[string]workerFlag
)

// workerFlags parses `gale worker -h`: every flag, with its default.
func workerFlags(t *testing.T) map[string]workerFlag {
	t.Helper()
	bin := gale(t)
	flagsOnce.Do(func() {
		out, _ := exec.Command(bin, "worker", "-h").CombinedOutput() // -h exits 2 after the usage
		flags = map[string]workerFlag{}
		line := regexp.MustCompile(`^  -([a-z0-9-]+)`)
		def := regexp.MustCompile(`\(default "?([^")]*)"?\)\s*$`)
		var last string
		for _, l := range strings.Split(string(out), "\n") {
			if m := line.FindStringSubmatch(l); m != nil {
				last = m[1]
				flags[last] = workerFlag{name: last}
			}
			if m := def.FindStringSubmatch(l); m != nil && last != "" {
				f := flags[last]
				f.def = m[1]
				flags[last] = f
			}
		}
	})
	if len(flags) < 10 || flags["bind"].def == "" || flags["http"].def == "" {
		t.Fatalf("gale worker -h: could not read its flags (%d: %v)", len(flags), flags)
	}
	return flags
}

// checkArgs checks command-line arguments of `gale worker` (--name=value
// or --name value): every flag exists. It returns the values by name.
func checkArgs(t *testing.T, where string, args []string) map[string]string {
	t.Helper()
	fl := workerFlags(t)
	vals := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && name != "insecure" && name != "store-tls" {
			val = args[i+1]
			i++
		}
		vals[name] = val
		if _, ok := fl[name]; !ok {
			t.Errorf("%s: --%s is not a flag of gale worker", where, name)
		}
	}
	return vals
}

// value is a flag's value in args, or its default.
func value(t *testing.T, vals map[string]string, name string) string {
	t.Helper()
	if v, ok := vals[name]; ok {
		return v
	}
	return workerFlags(t)[name].def
}

// port is the port of a HOST:PORT argument (HOST may be $(VAR)).
func port(t *testing.T, what, hostport string) int {
	t.Helper()
	i := strings.LastIndex(hostport, ":")
	p, err := strconv.Atoi(hostport[i+1:])
	if i < 0 || err != nil {
		t.Fatalf("%s %q: no port", what, hostport)
	}
	return p
}

// ports are the ports a worker listens on, from its flags' values.
type ports struct{ gossip, transport, http int }

func workerPorts(t *testing.T, vals map[string]string) ports {
	t.Helper()
	p := ports{gossip: port(t, "--bind", value(t, vals, "bind")), http: port(t, "--http", value(t, vals, "http"))}
	p.transport = p.gossip + 1 // the transport's default: gossip port + 1
	if tr := value(t, vals, "transport"); tr != "" {
		p.transport = port(t, "--transport", tr)
	}
	return p
}

// duration is a flag's duration value (or its default, or def when the
// flag does not exist yet).
func duration(t *testing.T, vals map[string]string, name string, def time.Duration) time.Duration {
	t.Helper()
	v := value(t, vals, name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("--%s %q: %v", name, v, err)
	}
	return d
}

// TestGale_StaticAndVersioned: the Dockerfile's build command gives a
// static binary (no ELF interpreter: it runs on a distroless base) that
// reports the VERSION build argument.
func TestGale_StaticAndVersioned(t *testing.T) {
	bin := gale(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("gale is dynamically linked (it has an ELF interpreter): the Dockerfile must build it with CGO_ENABLED=0")
		}
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), testVersion) {
		t.Errorf("gale version: %q, %v; want %s (the -ldflags -X of the Dockerfile)", out, err, testVersion)
	}
}

// startWorker starts the built gale as a worker on loopback (file store)
// and returns its API address.
func startWorker(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, gale(t), "worker", "--name", "probe", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--data-dir", dir)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		re := regexp.MustCompile(`API https?://(\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return a
	case <-time.After(60 * time.Second):
		t.Fatal("the worker did not say its API address within 60 s")
	}
	return ""
}

// probeOK waits until GET path answers 200 on the worker's API, sent as a
// kubelet does: no token, the pod's IP as Host.
func probeOK(t *testing.T, api, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", "http://"+api+path, nil)
		req.Host = net.JoinHostPort("10.1.2.3", "8080")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(b))
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("GET %s on a real worker: %s; want 200", path, last)
}
