package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/internal/galetest"
)

func runEnv(t *testing.T, ctx context.Context, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	code = cli.Run(ctx, &cli.Env{Stdout: &out, Stderr: &errs, Getenv: func(k string) string { return env[k] }}, args)
	return code, out.String(), errs.String()
}

// TestWorker_RefusesToStartInsecurely: a worker whose API or cluster is
// reachable off loopback needs a token and a cluster key, or --insecure,
// which every start line then reports.
func TestWorker_RefusesToStartInsecurely(t *testing.T) {
	dir := t.TempDir()
	base := []string{"worker", "--name", "w1", "--data-dir", dir, "--bind", "127.0.0.1:0"}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	code, _, errs := runEnv(t, context.Background(), nil, append(base, "--http", "0.0.0.0:0")...)
	if code != 1 || !strings.Contains(errs, "refusing to start insecurely") || !strings.Contains(errs, "--auth-token-file") {
		t.Errorf("API on 0.0.0.0 without a token: code %d, stderr %q; want 1 and a refusal naming --auth-token-file", code, errs)
	}
	code, _, errs = runEnv(t, context.Background(), nil, "worker", "--name", "w1", "--data-dir", dir, "--bind", "0.0.0.0:0",
		"--http", "127.0.0.1:0", "--auth-token-file", tokenFile)
	if code != 1 || !strings.Contains(errs, "no cluster key") || !strings.Contains(errs, "--cluster-key-file") {
		t.Errorf("gossip on 0.0.0.0 without a key: code %d, stderr %q; want 1 and a refusal naming --cluster-key-file", code, errs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var out, errb galetest.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, &cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }},
			append(base, "--http", "0.0.0.0:0", "--insecure"))
	}()
	galetest.Eventually(t, "the start line", 20*time.Second, func() bool { return strings.Contains(out.String(), "API http://") })
	cancel()
	<-done
	if !strings.Contains(out.String(), "INSECURE") || !strings.Contains(errb.String(), "INSECURE") {
		t.Errorf("--insecure: start line %q, log %q; want INSECURE in both", out.String(), errb.String())
	}
}

// TestRun_UIRefusesToServeInsecurely: `gale run --ui` off loopback needs a
// token too.
func TestRun_UIRefusesToServeInsecurely(t *testing.T) {
	code, _, errs := runEnv(t, context.Background(), nil, "run", "--quiet", "--duration", "1s", "--ui", "0.0.0.0:0", "../examples/wordcount.json")
	if code != 1 || !strings.Contains(errs, "refusing to start insecurely") {
		t.Errorf("--ui 0.0.0.0:0 without a token: code %d, stderr %q; want 1 and a refusal", code, errs)
	}
}

// TestSecrets_NotInHelpOrErrors: a token or key in the environment never
// appears as a flag default (--help and usage errors print those).
func TestSecrets_NotInHelpOrErrors(t *testing.T) {
	env := map[string]string{"GALE_AUTH_TOKEN": "tok-AAAA1111", "GALE_CLUSTER_KEY": "key-BBBB2222-0123456789", "GALE_GOSSIP_KEY": "key-CCCC3333"}
	for _, args := range [][]string{
		{"worker", "--help"}, {"worker", "--no-such-flag"}, {"run", "--help"}, {"submit", "--help"},
		{"kill", "--help"}, {"list", "--no-such-flag"}, {"describe", "--help"},
	} {
		_, out, errs := runEnv(t, context.Background(), env, args...)
		for _, v := range env {
			if strings.Contains(out+errs, v) {
				t.Errorf("gale %s printed the secret %q:\n%s%s", strings.Join(args, " "), v, out, errs)
			}
		}
	}
}

// TestSecrets_FileReadableByOthers: a token file others can read still
// works, with a warning.
func TestSecrets_FileReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("tok"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tokenFile, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, errs := runEnv(t, context.Background(), nil, "list", "--api", "127.0.0.1:1", "--token-file", tokenFile)
	if !strings.Contains(errs, "readable by other users") || !strings.Contains(errs, "chmod 600") {
		t.Errorf("token file mode 0644: stderr %q, want a warning", errs)
	}
}
