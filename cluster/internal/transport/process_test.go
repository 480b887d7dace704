package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/galetest"
)

// The helper process: a transport named by GALE_TRANSPORT_HELPER that
// echoes every frame back to its sender on the next channel, until its
// stdin closes (or it is killed).
func TestHelperProcess(t *testing.T) {
	name := os.Getenv("GALE_TRANSPORT_HELPER")
	if name == "" {
		t.Skip("run by TestTransport_OtherProcess")
	}
	var tr *Transport
	tr, err := New(Config{
		Name:   name,
		Addr:   os.Getenv("GALE_TRANSPORT_ADDR"),
		Secret: "process-secret",
		Handler: func(from string, ch uint32, payload []byte) {
			echo := append([]byte(name+":"), payload...)
			if err := tr.Send(context.Background(), from, "", ch+1, echo); err != nil {
				fmt.Fprintln(os.Stderr, "echo:", err)
			}
		},
	})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("ADDR", tr.Addr())
	io.Copy(io.Discard, os.Stdin)
	tr.Close()
	os.Exit(0)
}

// helper starts the helper process listening on addr and returns it with
// its address.
func helper(t *testing.T, name, addr string) (*exec.Cmd, io.WriteCloser, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "GALE_TRANSPORT_HELPER="+name, "GALE_TRANSPORT_ADDR="+addr)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		t.Fatalf("helper said %q, %v", line, err)
	}
	return cmd, stdin, strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))
}

// TestTransport_OtherProcess talks to a peer in another process: frames
// go there and come back in order; after the peer is killed (SIGKILL) and
// restarted on the same address, the transport reconnects and frames
// sent afterwards make the round trip too.
func TestTransport_OtherProcess(t *testing.T) {
	if os.Getenv("GALE_TRANSPORT_HELPER") != "" {
		t.Skip("in the helper")
	}
	a := start(t, "a", func(c *Config) { c.Secret = "process-secret" })
	cmd, _, addr := helper(t, "z", "127.0.0.1:0")
	const n = 500
	roundTrip := func(prefix string) {
		t.Helper()
		before := len(a.sink.got())
		for i := range n {
			if err := a.Send(context.Background(), "z", addr, 10, []byte(fmt.Sprint(prefix, i))); err != nil {
				t.Fatal(err)
			}
		}
		got := a.sink.wait(t, before+n)[before:]
		for i, r := range got {
			if r.from != "z" || r.channel != 11 || r.payload != fmt.Sprint("z:", prefix, i) {
				t.Fatalf("echo %d: %+v", i, r)
			}
		}
	}
	roundTrip("first")

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	galetest.Eventually(t, "a to see the connection break", waitFor, func() bool { return !a.peer(t, "z").Connected })
	_, stdin, addr2 := helper(t, "z", addr)
	if addr2 != addr {
		t.Fatalf("restarted helper on %s, want %s", addr2, addr)
	}
	galetest.Eventually(t, "a to reconnect", waitFor, func() bool {
		p := a.peer(t, "z")
		return p.Connected && p.Connects == 2
	})
	roundTrip("second")
	stdin.Close() // the helper closes its transport and exits
	galetest.Eventually(t, "the helper to go", waitFor, func() bool { return !a.peer(t, "z").Connected })
}
