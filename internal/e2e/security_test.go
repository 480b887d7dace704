package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/sinks"
	"github.com/pierrec/lz4/v4"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/galetest"
)

// shellTopology runs `sh -c 'env > MARKER'` as a bolt: the payload of the
// attacks below. Its marker file says whether (and with what environment)
// it ran.
func shellTopology(name, marker string) []byte {
	return fmt.Appendf(nil, `{"name": %q,
  "spouts": [{"id": "s", "type": "generator", "config": {"count": 1, "seed": 1}}],
  "bolts": [{"id": "pwn", "type": "shell", "config": {"command": ["sh", "-c", "env > %s; sleep 30"]},
             "inputs": [{"component": "s"}], "outputs": {"default": ["x"]}}]}`, name, marker)
}

type rawCall struct {
	method, url, host string
	header            map[string]string
	body              []byte
}

func (c rawCall) do(t *testing.T) (int, string) {
	t.Helper()
	req, err := http.NewRequest(c.method, c.url, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.host != "" {
		req.Host = c.host
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHostile_API replays issue 16's first finding against a real worker
// with no token on loopback — the setup where any web page could submit a
// topology that runs a command — and asserts each door is shut: the
// cross-site "simple" POST (text/plain, with an evil Origin), the JSON
// POST from another origin, a DNS-rebinding read (a Host that is not this
// machine's). A same-origin JSON POST then works, as the positive
// control, and its command's environment holds none of Gale's secrets.
func TestHostile_API(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: worker process test (-short)")
	}
	dir := t.TempDir()
	// no token; secrets in the worker's environment that must not reach the child
	w := clustertest.StartWorkerEnv(t, gale(t), dir, "w1", "",
		[]string{"GALE_AUTH_TOKEN=", "GALE_CLUSTER_KEY=00112233445566778899aabbccddeeff", "GALE_ES_PASSWORD=hunter2"})
	base := "http://" + w.HTTP
	marker := filepath.Join(dir, "pwned")

	calls := []struct {
		what string
		call rawCall
		want int
	}{
		{"cross-site simple POST (text/plain, Origin evil)", rawCall{method: "POST", url: base + "/api/v1/topologies",
			header: map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain"}, body: shellTopology("pwn1", marker)}, 415},
		{"form POST without Origin", rawCall{method: "POST", url: base + "/api/v1/topologies",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: shellTopology("pwn2", marker)}, 415},
		{"JSON POST from another origin", rawCall{method: "POST", url: base + "/api/v1/topologies",
			header: map[string]string{"Origin": "http://evil.example", "Content-Type": "application/json"}, body: shellTopology("pwn3", marker)}, 403},
		{"DNS rebinding: a read with the attacker's Host", rawCall{method: "GET", url: base + "/api/v1/topologies", host: "evil.example:" + portOf(w.HTTP)}, 421},
		{"DNS rebinding: a kill with the attacker's Host", rawCall{method: "POST", url: base + "/api/v1/topologies/x/kill", host: "evil.example",
			header: map[string]string{"Content-Type": "application/json"}}, 421},
	}
	for _, c := range calls {
		if got, body := c.call.do(t); got != c.want {
			t.Errorf("%s: %d %s, want %d", c.what, got, body, c.want)
		}
	}
	time.Sleep(2 * time.Second) // time for a submitted topology to start its bolt
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("the attack's command ran: %s exists", marker)
	}
	if ts, err := w.Client().Topologies(context.Background()); err != nil || len(ts) != 0 {
		t.Fatalf("topologies after the refused attacks: %v, %v; want none", ts, err)
	}
	if log, _ := os.ReadFile(w.Log); !strings.Contains(string(log), "the API has no token") {
		t.Errorf("the worker did not warn that its API has no token:\n%s", log)
	}

	// the control: the same payload from the same origin, as the CLI or the UI send it
	ok := rawCall{method: "POST", url: base + "/api/v1/topologies",
		header: map[string]string{"Origin": base, "Content-Type": "application/json"}, body: shellTopology("control", marker)}
	if got, body := ok.do(t); got != http.StatusCreated {
		t.Fatalf("same-origin JSON submit: %d %s, want 201", got, body)
	}
	var env []byte
	galetest.Eventually(t, "the control's command to run", 30*time.Second, func() bool {
		env, _ = os.ReadFile(marker)
		return bytes.Contains(env, []byte("PATH="))
	})
	for _, secret := range []string{"GALE_CLUSTER_KEY", "00112233445566778899aabbccddeeff", "GALE_ES_PASSWORD", "hunter2", "GALE_AUTH_TOKEN"} {
		if bytes.Contains(env, []byte(secret)) {
			t.Errorf("the shell bolt's environment holds %q:\n%s", secret, env)
		}
	}
}

// TestHostile_OffLoopback: a worker whose API listens on every interface
// refuses to start without a token; with one, its reads need the token
// too (they show the cluster's layout, command lines and errors), from
// another address of this machine.
func TestHostile_OffLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: worker process test (-short)")
	}
	dir := t.TempDir()
	port := clustertest.FreePort(t)
	err := clustertest.StartFailingWorkerEnv(t, gale(t), dir, "w0", "", []string{"GALE_AUTH_TOKEN="}, "--http", fmt.Sprintf("0.0.0.0:%d", port))
	if err == nil || !strings.Contains(err.Error(), "refusing to start insecurely") {
		t.Fatalf("a worker on 0.0.0.0 without a token: %v; want it to refuse to start", err)
	}

	ip := nonLoopbackIP(t)
	w := clustertest.StartWorker(t, gale(t), dir, "w1", "", "--http", fmt.Sprintf("0.0.0.0:%d", clustertest.FreePort(t)))
	remote := "http://" + net.JoinHostPort(ip, portOf(w.HTTP))
	for _, path := range []string{"/api/v1/members", "/api/v1/topologies", "/api/v1/info", "/metrics"} {
		if got, body := (rawCall{method: "GET", url: remote + path}).do(t); got != http.StatusUnauthorized {
			t.Errorf("GET %s from %s without the token: %d %s, want 401", path, ip, got, body)
		}
	}
	if got, _ := (rawCall{method: "GET", url: remote + "/api/v1/members",
		header: map[string]string{"Authorization": "Bearer " + clustertest.Token}}).do(t); got != http.StatusOK {
		t.Errorf("GET /api/v1/members with the token: %d, want 200", got)
	}
	if got, _ := (rawCall{method: "GET", url: remote + "/"}).do(t); got != http.StatusOK {
		t.Errorf("the UI's page: %d, want 200 (it holds no data)", got)
	}
	c := &api.Client{Base: remote, Token: clustertest.Token}
	if _, err := c.Members(context.Background()); err != nil {
		t.Errorf("the CLI's client with the token: %v", err)
	}
}

// runMaxRSS runs the gale binary with args and returns its peak resident
// memory in bytes, its exit code and its output. Linux counts into a
// child's peak the memory of the process it was started from (Go starts
// children with vfork), so compare it with another run's, not a constant.
func runMaxRSS(t *testing.T, args ...string) (int64, int, string) {
	t.Helper()
	cmd := exec.Command(gale(t), args...)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10, cmd.ProcessState.ExitCode(), string(out)
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// nonLoopbackIP is an address of this machine that is not loopback.
func nonLoopbackIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Fatalf("this machine has no IPv4 address but loopback: %v", addrs)
	return ""
}

// TestHostile_TopologyLimits: issue 16's findings 4 and 5 against the real
// binary. A 630 KB file nested 9,000 levels deep is refused at once, in
// bounded memory (it took 107 MB before the depth limit, and the issue's
// shape 1 GB); a topology of 3M tasks is refused at submit and at
// rebalance with the field named, and a normal topology is still assigned.
func TestHostile_TopologyLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: worker process test (-short)")
	}
	dir := t.TempDir()
	inner := strings.Repeat("[", 9000) + strings.Repeat("]", 9000)
	deep := `{"name": "deep", "spouts": [{"id": "s", "type": "generator", "config": {"x": [` +
		strings.TrimSuffix(strings.Repeat(inner+",", 35), ",") + `]}}]}`
	p := filepath.Join(dir, "deep.json")
	if err := os.WriteFile(p, []byte(deep), 0o644); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small.json")
	os.WriteFile(small, []byte(`{"name": "small", "spouts": [{"id": "s", "type": "generator"}]}`), 0o644)
	base, _, _ := runMaxRSS(t, "validate", small)
	rss, code, out := runMaxRSS(t, "validate", p)
	if code != 1 || !strings.Contains(out, "nested more than 64 levels deep") {
		t.Errorf("gale validate of a %d-byte file nested 9,000 deep: exit %d, %s; want 1 and the depth named", len(deep), code, out)
	}
	t.Logf("gale validate of %d bytes nested 9,000 deep: max RSS %d MiB (of a small file: %d MiB)", len(deep), rss>>20, base>>20)
	if rss > base+64<<20 {
		t.Errorf("max RSS %d MiB validating a %d-byte file, %d MiB for a small one: want under 64 MiB more", rss>>20, len(deep), base>>20)
	}

	w := clustertest.StartWorker(t, gale(t), dir, "w1", "")
	c := w.Client()
	ctx := context.Background()
	var se *api.StatusError
	huge := `{"name": "huge", "spouts": [{"id": "s", "type": "generator", "parallelism": 3000000}]}`
	if _, err := c.Submit(ctx, []byte(huge)); !errors.As(err, &se) || se.Status != 400 ||
		!strings.Contains(strings.Join(se.Details, " "), "spouts[0].parallelism") {
		t.Errorf("a topology of 3M tasks: %v; want 400 naming spouts[0].parallelism", err)
	}
	if _, err := c.Submit(ctx, []byte(`{"name": "small", "spouts": [{"id": "s", "type": "generator", "config": {"rate": 10}}]}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.Rebalance(ctx, "small", api.Rebalance{Parallelism: map[string]int{"s": 3000000}}); !errors.As(err, &se) ||
		se.Status != 400 || !strings.Contains(se.Message, "at most 10000") {
		t.Errorf("a rebalance to 3M tasks: %v; want 400 naming the limit", err)
	}
	galetest.Eventually(t, "the small topology's task to be assigned", 30*time.Second, func() bool {
		d, err := c.Describe(ctx, "small")
		return err == nil && len(d.Components) == 1 && len(d.Components[0].Tasks) == 1 && d.Components[0].Tasks[0].Worker == "w1"
	})
}

// TestHostile_Encryption: issue 16's findings 7 and 8 and the key-file
// items, with the gale binary. Two encrypted files swapped on disk are
// refused by `gale decrypt` (each names the object it was sealed as); a
// 2 MB lz4 file of 512 MiB decrypts as a stream in bounded memory (it took
// 1.28 GB); -o writes the plaintext 0600; a key file others can read is
// warned about.
func TestHostile_Encryption(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("ab", 32)), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(keyFile, 0o644)
	key, err := sinks.LoadKey(keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	c := sinks.Codec{Compression: sinks.CompressionLZ4, Key: key}
	names := []string{"a.jsonl.lz4.enc", "b.jsonl.lz4.enc"}
	for _, n := range names {
		data, err := c.Encode("topo/s/0/"+n, []byte("records of "+n+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		// swapped: a's file holds b's object and the other way round
		other := names[0]
		if n == names[0] {
			other = names[1]
		}
		if err := os.WriteFile(filepath.Join(dir, other), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (int, string, int64) {
		cmd := exec.Command(gale(t), args...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	}
	code, out, _ := run("decrypt", "-key-file", keyFile, filepath.Join(dir, "a.jsonl.lz4.enc"))
	if code != 1 || !strings.Contains(out, "sealed as topo/s/0/b.jsonl.lz4.enc") {
		t.Errorf("decrypt of a swapped file: exit %d, %s; want 1 naming the object it was sealed as", code, out)
	}
	if !strings.Contains(out, "readable by other users") {
		t.Errorf("decrypt with a key file of mode 0644: no warning in %s", out)
	}
	plain := filepath.Join(dir, "plain.jsonl")
	if code, out, _ = run("decrypt", "-any-name", "-key-file", keyFile, "-o", plain, filepath.Join(dir, "a.jsonl.lz4.enc")); code != 0 {
		t.Errorf("decrypt -any-name: exit %d, %s", code, out)
	}
	if st, err := os.Stat(plain); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("decrypt -o: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	if b, _ := os.ReadFile(plain); string(b) != "records of b.jsonl.lz4.enc\n" {
		t.Errorf("decrypt -any-name wrote %q", b)
	}

	// the bomb: 512 MiB of zeros in a 2 MB lz4 frame
	var bomb bytes.Buffer
	zw := lz4.NewWriter(&bomb)
	zeros := make([]byte, 1<<20)
	for range 512 {
		zw.Write(zeros)
	}
	zw.Close()
	bombFile := filepath.Join(dir, "bomb.jsonl.lz4")
	if err := os.WriteFile(bombFile, bomb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	smallFile := filepath.Join(dir, "small.jsonl")
	os.WriteFile(smallFile, []byte("one record\n"), 0o644)
	base, _, _ := runMaxRSS(t, "decrypt", "-o", os.DevNull, smallFile)
	rss, code, out := runMaxRSS(t, "decrypt", "-o", os.DevNull, bombFile)
	t.Logf("gale decrypt of a %d KB frame of 512 MiB: exit %d, max RSS %d MiB (of a small file: %d MiB)", bomb.Len()>>10, code, rss>>20, base>>20)
	if code != 0 || rss > base+64<<20 {
		t.Errorf("gale decrypt of the bomb: exit %d (%s), max RSS %d MiB, %d MiB for a small file; want 0 and under 64 MiB more",
			code, out, rss>>20, base>>20)
	}
}

// TestHostile_Paths: issue 16's finding 6 and the path items, with the
// gale binary: names that would take a sink's objects, its dead letters
// or a ledger out of their directories are refused with the field named,
// and nothing lands outside.
func TestHostile_Paths(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	topo := fmt.Sprintf(`{"name": "..",
  "spouts": [{"id": "s", "type": "generator", "config": {"count": 10}}],
  "bolts": [{"id": "..", "type": "file_sink", "config": {"dir": %q, "prefix": "../../escaped", "field": "sentence"},
             "inputs": [{"component": "s"}]}]}`, out)
	p := filepath.Join(dir, "t.json")
	if err := os.WriteFile(p, []byte(topo), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"validate", "run"} {
		c := exec.Command(gale(t), cmd, p)
		c.Dir = dir
		b, _ := c.CombinedOutput()
		for _, want := range []string{"name: name \"..\" starts with '.'", "bolts[0].id", "bolts[0].config.prefix"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("gale %s: no %q in\n%s", cmd, want, b)
			}
		}
		if c.ProcessState.ExitCode() == 0 {
			t.Errorf("gale %s exited 0", cmd)
		}
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(path, "escaped") {
			t.Errorf("%s was written", path)
		}
		return nil
	})
}

// TestHostile_DenyTypes: a worker started with --deny-types shell refuses
// a topology with a shell bolt at submit (422 naming the component's
// type), whatever token the caller has, and runs nothing; an unknown name
// in the list stops the worker at its start.
func TestHostile_DenyTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: worker process test (-short)")
	}
	dir := t.TempDir()
	if err := clustertest.StartFailingWorker(t, gale(t), dir, "w0", "", "--deny-types", "shel"); err == nil ||
		!strings.Contains(err.Error(), `denied type "shel": no such component type`) {
		t.Errorf("--deny-types shel: %v; want the worker to refuse the unknown type at its start", err)
	}
	w := clustertest.StartWorker(t, gale(t), dir, "w1", "", "--deny-types", "shell,lines")
	marker := filepath.Join(dir, "pwned")
	_, err := w.Client().Submit(context.Background(), shellTopology("pwn", marker))
	var se *api.StatusError
	if !errors.As(err, &se) || se.Status != 422 || !strings.Contains(se.Message, `bolts[0].type: worker w1 refuses type "shell"`) {
		t.Fatalf("a shell topology on a worker that denies shell: %v; want 422 naming bolts[0].type", err)
	}
	time.Sleep(time.Second)
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the shell command ran")
	}
	if _, err := w.Client().Submit(context.Background(), []byte(`{"name": "ok", "spouts": [{"id": "s", "type": "generator", "config": {"rate": 5}}]}`)); err != nil {
		t.Errorf("a topology of allowed types: %v", err)
	}
}
