package api_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/gale-stream/gale/cluster/api"
)

// TestClient_Unreachable: a call nothing answers is ErrUnreachable,
// wrapping the transport's error, so that callers can tell a refused
// connection from a canceled call.
func TestClient_Unreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c := &api.Client{Base: "http://" + addr}

	_, err = c.Members(context.Background())
	var ue *url.Error
	if !errors.Is(err, api.ErrUnreachable) || !errors.As(err, &ue) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("members from %s: %v, want ErrUnreachable wrapping a refused *url.Error", addr, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Members(ctx); !errors.Is(err, api.ErrUnreachable) || !errors.Is(err, context.Canceled) {
		t.Errorf("members with a canceled context: %v, want ErrUnreachable wrapping context.Canceled", err)
	}
}
