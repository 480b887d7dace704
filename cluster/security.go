package cluster

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/gale-stream/gale/cluster/api"
)

// APISecurity is how a worker's (or `gale run --ui`'s) API is protected.
// A Gale API runs code on request, so a worker reachable off loopback
// refuses to start without a token unless Insecure says otherwise.
type APISecurity struct {
	// Token is the bearer token the API's changes (and, off loopback, its
	// reads) need.
	Token string
	// Reads: "auto" (or ""): reads need the token when the API listens off
	// loopback; "token": always; "open": never.
	Reads string
	// AllowHosts are more Host names a loopback API answers (DNS names of
	// this machine); AllowOrigins more origins that may make changes from
	// a browser.
	AllowHosts, AllowOrigins []string
	// Insecure allows an API off loopback without a token (and a cluster
	// off loopback without a key). Every start line and the UI say so.
	Insecure bool
}

// errInsecure is the start refused by APISecurity's rules.
var errInsecure = errors.New("refusing to start insecurely")

// access turns s into the API's rules for a listener on addr, and logs
// what is unsafe about them.
func (s APISecurity) access(addr net.Addr, log *slog.Logger) (api.Access, error) {
	loop := api.IsLoopbackAddr(addr.String())
	a := api.Access{Token: s.Token, Loopback: loop, Hosts: s.AllowHosts, Origins: s.AllowOrigins, Insecure: s.Insecure && !loop}
	switch s.Reads {
	case "", "auto":
		a.ReadsNeedToken = !loop && s.Token != ""
	case "token":
		if s.Token == "" {
			return a, fmt.Errorf("reads %q: there is no token to require (give --auth-token)", s.Reads)
		}
		a.ReadsNeedToken = true
	case "open":
	default:
		return a, fmt.Errorf("reads %q: want auto, token or open", s.Reads)
	}
	switch {
	case !loop && s.Token == "" && !s.Insecure:
		return a, fmt.Errorf("%w: the API on %s is reachable off loopback and has no token; whoever reaches it can run "+
			"commands on this machine (a `shell` bolt). Give --auth-token-file FILE (or $GALE_AUTH_TOKEN), listen on "+
			"127.0.0.1, or say --insecure", errInsecure, addr)
	case !loop && s.Token == "":
		log.Warn("INSECURE: the API is reachable off loopback without a token (--insecure): whoever reaches it can run commands on this machine",
			"api", addr.String())
	case s.Token == "":
		log.Warn("the API has no token: any process of this machine can run commands through it (give --auth-token-file FILE or $GALE_AUTH_TOKEN)",
			"api", addr.String())
	}
	return a, nil
}

// checkClusterKey refuses a cluster reachable off loopback without a
// cluster key: anyone could join it, be assigned tasks and receive their
// tuples.
func checkClusterKey(key []byte, insecure bool, log *slog.Logger, addrs ...string) error {
	if key != nil {
		return nil
	}
	for _, a := range addrs {
		if api.IsLoopbackAddr(a) {
			continue
		}
		if !insecure {
			return fmt.Errorf("%w: %s is reachable off loopback and there is no cluster key; anyone could join the cluster "+
				"and receive its tuples. Give --cluster-key-file FILE (or $GALE_CLUSTER_KEY), bind to 127.0.0.1, or say --insecure",
				errInsecure, a)
		}
		log.Warn("INSECURE: the cluster is reachable off loopback without a key (--insecure): anyone can join it", "addr", a)
		return nil
	}
	log.Warn("the cluster has no key: any process of this machine can join it (give --cluster-key-file FILE or $GALE_CLUSTER_KEY)")
	return nil
}

// Keys are what a worker derives from the cluster key: one secret, a
// separate key per use, so that no key serves two protocols.
type Keys struct {
	Gossip    []byte // memberlist's AES-GCM key (32 bytes)
	Transport []byte // the tuple transport's handshake and frame key
}

// DeriveKeys derives the gossip and transport keys from the cluster
// secret (HKDF-SHA256, a fixed salt and one label per use). A nil secret
// gives nil keys: no authentication.
func DeriveKeys(secret []byte) (Keys, error) {
	if secret == nil {
		return Keys{}, nil
	}
	if len(secret) < 16 {
		return Keys{}, fmt.Errorf("cluster key: %d bytes, want at least 16", len(secret))
	}
	salt := []byte("gale cluster key v1")
	g, err := hkdf.Key(sha256.New, secret, salt, "gale gossip", 32)
	if err != nil {
		return Keys{}, err
	}
	t, err := hkdf.Key(sha256.New, secret, salt, "gale transport", 32)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Gossip: g, Transport: t}, nil
}
