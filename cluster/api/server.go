package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backend is what a worker answers the API with.
type Backend interface {
	Members(ctx context.Context) ([]Member, error)
	Topologies(ctx context.Context) ([]TopologySummary, error)
	// Submit validates and stores a topology (the JSON file's content).
	Submit(ctx context.Context, topology []byte) (TopologySummary, error)
	Describe(ctx context.Context, name string) (*Topology, error)
	Kill(ctx context.Context, name string, drain time.Duration) error
	SetActive(ctx context.Context, name string, active bool) error
	Rebalance(ctx context.Context, name string, r Rebalance) error
	// SetAutoscale resumes (true) or pauses (false) the autoscaling of a
	// topology's components that have a policy.
	SetAutoscale(ctx context.Context, name string, on bool) error
	// Series returns the live charts' points over window ("10m", "3h").
	Series(ctx context.Context, name, window string) (*Series, error)
	// Info describes this server (the token requirement is filled in by
	// the Server).
	Info(ctx context.Context) Info
}

// Errors a Backend returns, mapped to HTTP statuses.
var (
	ErrNotFound    = errors.New("no such topology")                       // 404
	ErrExists      = errors.New("a topology with this name exists")       // 409
	ErrUnknownType = errors.New("a component type some worker lacks")     // 422
	ErrUnavailable = errors.New("the cluster state store is unreachable") // 503
	ErrUnsupported = errors.New("not possible here")                      // 501
	ErrBadRequest  = errors.New("bad request")                            // 400
)

// InvalidError is a topology that does not validate: every error, each
// with its JSON path.
type InvalidError struct{ Details []string }

func (e *InvalidError) Error() string {
	return fmt.Sprintf("invalid topology (%d errors): %s", len(e.Details), strings.Join(e.Details, "; "))
}

// Server serves the API of a Backend.
type Server struct {
	b      Backend
	access Access
	mux    *http.ServeMux
	// public are the paths a GET or HEAD reaches without the access
	// rules (HandlePublic): written before serving, read-only after
	public map[string]bool
}

// NewServer returns the API handler, guarded by the access rules.
func NewServer(b Backend, access Access) *Server {
	s := &Server{b: b, access: access, mux: http.NewServeMux(), public: map[string]bool{}}
	s.mux.HandleFunc("GET /api/v1/members", s.members)
	s.mux.HandleFunc("GET /api/v1/topologies", s.topologies)
	s.mux.HandleFunc("POST /api/v1/topologies", s.submit)
	s.mux.HandleFunc("GET /api/v1/topologies/{name}", s.describe)
	s.mux.HandleFunc("POST /api/v1/topologies/{name}/kill", s.kill)
	s.mux.HandleFunc("POST /api/v1/topologies/{name}/activate", s.active(true))
	s.mux.HandleFunc("POST /api/v1/topologies/{name}/deactivate", s.active(false))
	s.mux.HandleFunc("POST /api/v1/topologies/{name}/rebalance", s.rebalance)
	s.mux.HandleFunc("POST /api/v1/topologies/{name}/autoscale/on", s.autoscale(true))
	s.mux.HandleFunc("POST /api/v1/topologies/{name}/autoscale/off", s.autoscale(false))
	s.mux.HandleFunc("GET /api/v1/topologies/{name}/series", s.series)
	s.mux.HandleFunc("GET /api/v1/info", s.info)
	s.serveStorm() // Storm UI's REST API (stormui.go)
	return s
}

// Handle adds another handler (the UI, /metrics) to the server's mux.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandlePublic adds a handler for GET (and HEAD) of exactly path that
// answers without the access rules: no token, any Host. It is for the
// probes of a process supervisor (Kubernetes' kubelet sends no token),
// and h must reveal nothing a stranger may not know. Call it before the
// server serves.
func (s *Server) HandlePublic(path string, h http.Handler) {
	s.public[path] = true
	s.mux.Handle("GET "+path, h)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && s.public[r.URL.Path] {
		s.mux.ServeHTTP(w, r)
		return
	}
	if s.access.refuse(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	var inv *InvalidError
	switch {
	case errors.As(err, &inv):
		writeJSON(w, http.StatusBadRequest, Error{Error: "invalid topology", Details: inv.Details})
	case errors.Is(err, ErrBadRequest):
		writeJSON(w, http.StatusBadRequest, Error{Error: err.Error()})
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, Error{Error: err.Error()})
	case errors.Is(err, ErrExists):
		writeJSON(w, http.StatusConflict, Error{Error: err.Error()})
	case errors.Is(err, ErrUnknownType):
		writeJSON(w, http.StatusUnprocessableEntity, Error{Error: err.Error()})
	case errors.Is(err, ErrUnsupported):
		writeJSON(w, http.StatusNotImplemented, Error{Error: err.Error()})
	case errors.Is(err, ErrUnavailable):
		writeJSON(w, http.StatusServiceUnavailable, Error{Error: err.Error()})
	default:
		writeJSON(w, http.StatusInternalServerError, Error{Error: err.Error()})
	}
}

func (s *Server) members(w http.ResponseWriter, r *http.Request) {
	ms, err := s.b.Members(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ms)
}

func (s *Server) topologies(w http.ResponseWriter, r *http.Request) {
	ts, err := s.b.Topologies(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	if ts == nil {
		ts = []TopologySummary{}
	}
	writeJSON(w, http.StatusOK, ts)
}

// maxTopology bounds a submitted topology file.
const maxTopology = 4 << 20

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTopology+1))
	if err != nil {
		writeErr(w, fmt.Errorf("%w: reading the body: %w", ErrBadRequest, err))
		return
	}
	if len(body) > maxTopology {
		writeErr(w, fmt.Errorf("%w: a topology file of more than %d bytes", ErrBadRequest, maxTopology))
		return
	}
	sum, err := s.b.Submit(r.Context(), body)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, sum)
}

func (s *Server) describe(w http.ResponseWriter, r *http.Request) {
	t, err := s.b.Describe(r.Context(), r.PathValue("name"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) kill(w http.ResponseWriter, r *http.Request) {
	drain := 30 * time.Second
	if v := r.URL.Query().Get("drain"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, fmt.Errorf("%w: drain=%q: want seconds", ErrBadRequest, v))
			return
		}
		drain = time.Duration(n) * time.Second
	}
	if err := s.b.Kill(r.Context(), r.PathValue("name"), drain); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "killing"})
}

func (s *Server) active(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.b.SetActive(r.Context(), r.PathValue("name"), on); err != nil {
			writeErr(w, err)
			return
		}
		st := "inactive"
		if on {
			st = "active"
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": st})
	}
}

func (s *Server) rebalance(w http.ResponseWriter, r *http.Request) {
	var rb Rebalance
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rb); err != nil {
		writeErr(w, fmt.Errorf("%w: rebalance body: %w", ErrBadRequest, err))
		return
	}
	for c, n := range rb.Parallelism {
		if n < 1 {
			writeErr(w, fmt.Errorf("%w: parallelism of %q must be at least 1, got %d", ErrBadRequest, c, n))
			return
		}
	}
	if rb.Workers < 0 {
		writeErr(w, fmt.Errorf("%w: workers must not be negative", ErrBadRequest))
		return
	}
	if err := s.b.Rebalance(r.Context(), r.PathValue("name"), rb); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "rebalancing"})
}

func (s *Server) autoscale(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.b.SetAutoscale(r.Context(), r.PathValue("name"), on); err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"autoscale": on})
	}
}

func (s *Server) series(w http.ResponseWriter, r *http.Request) {
	win := r.URL.Query().Get("window")
	if win == "" {
		win = "10m"
	}
	if win != "10m" && win != "3h" {
		writeErr(w, fmt.Errorf("%w: window=%q: want 10m or 3h", ErrBadRequest, win))
		return
	}
	sr, err := s.b.Series(r.Context(), r.PathValue("name"), win)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sr)
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	in := s.b.Info(r.Context())
	in.AuthRequired = s.access.Token != ""
	in.ReadsNeedToken = s.access.ReadsNeedToken
	in.Insecure = s.access.Insecure
	writeJSON(w, http.StatusOK, in)
}
