package cli_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/testenv"
)

// TestWorker_StoreKafkaSASL: `gale worker --store kafka` opens its store
// through the testenv Kafka's SASL_SSL listener with the --store-tls-* and
// --store-sasl-* flags (the mechanism and user from the environment, the
// password from a file) and starts; with a wrong password it exits 1
// naming the listener and the mechanism, not the password.
func TestWorker_StoreKafkaSASL(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	dir := t.TempDir()
	topic := fmt.Sprintf("gale-cli-store-sasl-%d", time.Now().UnixNano())
	args := []string{"worker", "--name", "w1", "--data-dir", dir, "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--store", "kafka", "--store-brokers", sasl.Brokers, "--store-topic", topic, "--store-tls-ca", sasl.CAFile}
	env := map[string]string{"GALE_STORE_SASL_MECHANISM": "SCRAM-SHA-512", "GALE_STORE_SASL_USERNAME": sasl.User}

	ctx, cancel := context.WithCancel(context.Background())
	var out, errb galetest.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, &cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }},
			append(args, "--store-sasl-password-file", sasl.PasswordFile))
	}()
	galetest.Eventually(t, "the start line", 60*time.Second, func() bool {
		select {
		case code := <-done:
			t.Fatalf("gale worker exited %d: %s", code, errb.String())
		default:
		}
		return strings.Contains(out.String(), "API http://")
	})
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("gale worker exited %d after its context ended: %s", code, errb.String())
	}

	wrong := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrong, []byte("wrong-password-of-the-store\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runEnv(t, context.Background(), env, append(args, "--store-sasl-password-file", wrong)...)
	if code != 1 || !strings.Contains(errs, "SASL login refused: SCRAM-SHA-512") || !strings.Contains(errs, sasl.Brokers) {
		t.Errorf("wrong password: exit %d, stderr %q; want 1, naming SCRAM-SHA-512 and %s", code, errs, sasl.Brokers)
	}
	if strings.Contains(errs, "wrong-password-of-the-store") {
		t.Errorf("stderr shows the password: %s", errs)
	}
}

// TestWorker_StoreKafkaFlags: the security flags are checked before the
// store is opened, and their errors name the flag.
func TestWorker_StoreKafkaFlags(t *testing.T) {
	dir := t.TempDir()
	base := []string{"worker", "--name", "w1", "--data-dir", dir, "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--store", "kafka", "--store-brokers", "127.0.0.1:1"}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--store-sasl-mechanism", "SCRAM-SHA-512"}, nil, "--store-sasl-username"},
		{[]string{"--store-sasl-mechanism", "SCRAM-SHA-512", "--store-sasl-username", "gale"}, nil, "--store-sasl-password-file"},
		{[]string{"--store-sasl-username", "gale"}, map[string]string{"GALE_STORE_SASL_PASSWORD": "pw-in-env"}, "--store-sasl-mechanism"},
		{[]string{"--store-sasl-mechanism", "SCRAM-SHA-1", "--store-sasl-username", "gale"}, map[string]string{"GALE_STORE_SASL_PASSWORD": "pw-in-env"},
			`sasl.mechanism: "SCRAM-SHA-1" is not one of`},
		{[]string{"--store-sasl-mechanism", "PLAIN", "--store-sasl-username", "gale"}, map[string]string{"GALE_STORE_SASL_PASSWORD": "pw-in-env"},
			"PLAIN sends the password as it is"},
		{[]string{"--store-tls-cert", "c.pem"}, nil, "tls.cert_file: is set without tls.key_file"},
		{[]string{"--store-sasl-mechanism", "PLAIN", "--store-sasl-username", "gale", "--store-sasl-password-file", filepath.Join(dir, "none")}, nil,
			"the store's SASL password"},
	} {
		code, _, errs := runEnv(t, context.Background(), c.env, append(base, c.args...)...)
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", c.args, code, errs, c.want)
		}
		if strings.Contains(errs, "pw-in-env") {
			t.Errorf("%v: stderr shows the password: %s", c.args, errs)
		}
	}
}

// TestWorker_StoreSASLPasswordNotShown: the store's password in the
// environment is no flag default: --help and usage errors never print it.
func TestWorker_StoreSASLPasswordNotShown(t *testing.T) {
	env := map[string]string{"GALE_STORE_SASL_PASSWORD": "store-pw-DDDD4444", "GALE_STORE_SASL_USERNAME": "gale"}
	for _, args := range [][]string{{"worker", "--help"}, {"worker", "--no-such-flag"}} {
		_, out, errs := runEnv(t, context.Background(), env, args...)
		if !strings.Contains(out+errs, "--store-sasl-password-file") && !strings.Contains(out+errs, "-store-sasl-password-file") {
			t.Errorf("gale %s does not list the store's SASL flags", strings.Join(args, " "))
		}
		if strings.Contains(out+errs, "store-pw-DDDD4444") {
			t.Errorf("gale %s printed the password:\n%s%s", strings.Join(args, " "), out, errs)
		}
	}
}
