package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Client calls a worker's API.
type Client struct {
	// Base is the API's URL, e.g. "http://127.0.0.1:8080".
	Base  string
	Token string
	HTTP  *http.Client
}

// StatusError is an error answer of the API.
type StatusError struct {
	Status  int
	Message string
	Details []string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
	for _, d := range e.Details {
		s += "\n  " + d
	}
	return s
}

// ErrUnreachable: the API did not answer.
var ErrUnreachable = errors.New("the API is unreachable")

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	base := strings.TrimRight(c.Base, "/")
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return fmt.Errorf("API %s: %w", base, err)
	}
	if body != nil || method != http.MethodGet {
		// a change must say it is JSON (Access): bodiless ones too
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: tried %s %s: %w", ErrUnreachable, method, base+path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("API %s: reading the answer: %w", base, err)
	}
	if resp.StatusCode >= 300 {
		var e Error
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &StatusError{Status: resp.StatusCode, Message: e.Error, Details: e.Details}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("API %s: answer of %s %s: %w", base, method, path, err)
		}
	}
	return nil
}

// Get reads path into out (JSON).
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

// Members lists the workers.
func (c *Client) Members(ctx context.Context) ([]Member, error) {
	var ms []Member
	return ms, c.do(ctx, http.MethodGet, "/api/v1/members", nil, &ms)
}

// Topologies lists the topologies.
func (c *Client) Topologies(ctx context.Context) ([]TopologySummary, error) {
	var ts []TopologySummary
	return ts, c.do(ctx, http.MethodGet, "/api/v1/topologies", nil, &ts)
}

// Submit sends a topology file's content.
func (c *Client) Submit(ctx context.Context, topology []byte) (TopologySummary, error) {
	var s TopologySummary
	return s, c.do(ctx, http.MethodPost, "/api/v1/topologies", topology, &s)
}

// Describe describes one topology.
func (c *Client) Describe(ctx context.Context, name string) (*Topology, error) {
	var t Topology
	if err := c.do(ctx, http.MethodGet, "/api/v1/topologies/"+url.PathEscape(name), nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Kill kills a topology after draining it for at most drain.
func (c *Client) Kill(ctx context.Context, name string, drain time.Duration) error {
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/topologies/%s/kill?drain=%d", url.PathEscape(name), int(drain.Seconds())), nil, nil)
}

// SetActive activates or deactivates a topology's spouts.
func (c *Client) SetActive(ctx context.Context, name string, active bool) error {
	op := "deactivate"
	if active {
		op = "activate"
	}
	return c.do(ctx, http.MethodPost, "/api/v1/topologies/"+url.PathEscape(name)+"/"+op, nil, nil)
}

// Rebalance changes parallelism or the number of workers of a topology.
func (c *Client) Rebalance(ctx context.Context, name string, r Rebalance) error {
	body, _ := json.Marshal(r)
	return c.do(ctx, http.MethodPost, "/api/v1/topologies/"+url.PathEscape(name)+"/rebalance", body, nil)
}

// SetAutoscale resumes (on) or pauses the autoscaling of a topology.
func (c *Client) SetAutoscale(ctx context.Context, name string, on bool) error {
	state := "off"
	if on {
		state = "on"
	}
	return c.do(ctx, http.MethodPost, "/api/v1/topologies/"+url.PathEscape(name)+"/autoscale/"+state, nil, nil)
}

// Series reads the live charts' points of a topology over window ("10m", "3h").
func (c *Client) Series(ctx context.Context, name, window string) (*Series, error) {
	var s Series
	if err := c.do(ctx, http.MethodGet, "/api/v1/topologies/"+url.PathEscape(name)+"/series?window="+url.QueryEscape(window), nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Info describes the server.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var in Info
	return in, c.do(ctx, http.MethodGet, "/api/v1/info", nil, &in)
}

// NewHTTPClient is an HTTP client with timeout per call that trusts, for
// HTTPS, the system's roots and the PEM certificates in caFiles (empty
// names are skipped).
func NewHTTPClient(timeout time.Duration, caFiles ...string) (*http.Client, error) {
	c := &http.Client{Timeout: timeout}
	var pool *x509.CertPool
	for _, f := range caFiles {
		if f == "" {
			continue
		}
		if pool == nil {
			if pool, _ = x509.SystemCertPool(); pool == nil {
				pool = x509.NewCertPool()
			}
		}
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("TLS: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS: no PEM certificate in %s", f)
		}
	}
	if pool != nil {
		c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	return c, nil
}
