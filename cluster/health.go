package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/store"
)

// The probe paths of a worker's API. They answer without the API token
// and whatever the Host (a kubelet sends neither), so they tell nothing
// but whether the worker is alive and ready, and which check failed.
//
//	GET /healthz  200 "ok" while the process serves
//	GET /readyz   200 "ok" when the worker has joined, the store answers and
//	              every share the assignments give it runs; else 503 and
//	              {"status": "not ready"|"draining", "failed": {check: reason}}
const (
	HealthzPath = "/healthz"
	ReadyzPath  = "/readyz"
)

// The checks of /readyz, by the names its 503 body gives them.
const (
	checkDraining = "draining" // the worker is leaving (SIGTERM)
	checkJoined   = "joined"   // the membership runs and has found the cluster
	checkStore    = "store"    // the cluster store answers a read
	checkShares   = "shares"   // every share assigned here runs
)

// Readiness settings: a probe reads the store at most every healthTTL,
// and waits for it at most healthTimeout.
const (
	healthTTL     = 1500 * time.Millisecond
	healthTimeout = time.Second
)

// health answers the probes of one worker.
type health struct {
	w *Worker

	mu sync.Mutex // guards the fields below; held while the store is read, so probes share one read
	at time.Time  // when expected and storeErr were read (monotonic)
	// expected are the topologies whose assignment gives this worker tasks
	expected []string
	storeErr error
	said     string // the failures last logged ("" when ready)
}

// serveHealth adds the probes to the API server, outside its access
// rules (api.Server.HandlePublic).
func (w *Worker) serveHealth(srv *api.Server) {
	h := &health{w: w}
	srv.HandlePublic(HealthzPath, http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Header().Set("Cache-Control", "no-store")
		rw.Write([]byte("ok\n"))
	}))
	srv.HandlePublic(ReadyzPath, http.HandlerFunc(h.readyz))
}

// readiness is /readyz's 503 body.
type readiness struct {
	Status string            `json:"status"` // "not ready" or "draining"
	Failed map[string]string `json:"failed"` // check -> reason
}

func (h *health) readyz(rw http.ResponseWriter, r *http.Request) {
	failed := h.check(r.Context())
	rw.Header().Set("Cache-Control", "no-store")
	if len(failed) == 0 {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Write([]byte("ok\n"))
		return
	}
	body := readiness{Status: "not ready", Failed: failed}
	if _, ok := failed[checkDraining]; ok {
		body.Status = "draining"
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusServiceUnavailable)
	json.NewEncoder(rw).Encode(body)
}

// check runs the readiness checks and returns the failed ones with a
// reason meant for strangers: no address, name or error text (those go
// to the worker's log, once per change).
func (h *health) check(ctx context.Context) map[string]string {
	w := h.w
	failed := map[string]string{}
	detail := map[string]string{}
	if w.leaving.Load() {
		failed[checkDraining] = "the worker is leaving the cluster"
	}
	if reason, why := h.joined(); reason != "" {
		failed[checkJoined], detail[checkJoined] = reason, why
	}
	expected, err := h.read(ctx)
	if err != nil {
		failed[checkStore], detail[checkStore] = "the cluster store does not answer", err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			failed[checkStore] = fmt.Sprintf("the cluster store does not answer within %v", healthTimeout)
		}
	} else if missing := w.notRunning(expected); len(missing) > 0 {
		failed[checkShares] = fmt.Sprintf("%d of the %d shares assigned to this worker are not running", len(missing), len(expected))
		detail[checkShares] = strings.Join(missing, ",")
	}
	h.log(failed, detail)
	return failed
}

// joined says why the worker has not joined the cluster ("" when it has):
// its membership runs and, if it was given --join, it sees another
// worker, or the join names resolve to itself only (it is the first: the
// first pod of a StatefulSet, whose headless service publishes not-ready
// pods, finds itself alone in DNS).
func (h *health) joined() (reason, detail string) {
	ms := h.w.ms
	if ms == nil {
		return "the membership is not running", ""
	}
	st := ms.JoinState()
	switch {
	case len(st.Names) == 0, len(ms.Members()) > 1, st.First():
		return "", ""
	case st.Tried.IsZero():
		return "alone: joining has not been tried yet", ""
	case st.Others == 0:
		return "alone: the join names resolve to no other worker", fmt.Sprint(st.Err)
	default:
		return "alone: no worker of the join names answers", fmt.Sprint(st.Err)
	}
}

// read returns the topologies whose assignment gives this worker tasks,
// read from the store at most every healthTTL.
func (h *health) read(ctx context.Context) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && time.Since(h.at) < healthTTL {
		return h.expected, h.storeErr
	}
	// not the probe's own context: a probe that hangs up must not leave
	// a cancelled read in the cache for the next one
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healthTimeout)
	defer cancel()
	h.expected, h.storeErr = h.w.assignedHere(ctx)
	h.at = time.Now()
	return h.expected, h.storeErr
}

// assignedHere reads the topologies whose assignment gives this worker
// tasks (killed topologies and those it refuses to run left out).
func (w *Worker) assignedHere(ctx context.Context) ([]string, error) {
	tops, err := w.st.ListTopologies(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range tops {
		if t.Status == store.StatusKilled {
			continue
		}
		a, err := w.st.GetAssignment(ctx, t.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, wk := range a.Tasks {
			if wk == w.cfg.Name {
				out = append(out, t.Name)
				break
			}
		}
	}
	return out, nil
}

// notRunning are the topologies of expected whose share does not run
// here (not started, or its runtime stopped), but for those this worker
// refuses to run (refuse).
func (w *Worker) notRunning(expected []string) []string {
	var out []string
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, name := range expected {
		if _, ok := w.refused[name]; ok {
			continue
		}
		l := w.running[name]
		if l == nil {
			out = append(out, name)
			continue
		}
		select {
		case <-l.done:
			out = append(out, name) // its runtime stopped
		default:
		}
	}
	return out
}

// log writes the failed checks to the worker's log when they change.
func (h *health) log(failed, detail map[string]string) {
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(failed)) {
		p := c + ": " + failed[c]
		if d := detail[c]; d != "" && d != "<nil>" {
			p += " (" + d + ")"
		}
		parts = append(parts, p)
	}
	now := strings.Join(parts, "; ")
	h.mu.Lock()
	changed := now != h.said
	h.said = now
	h.mu.Unlock()
	switch {
	case !changed:
	case now == "":
		h.w.log.Info("ready")
	default:
		h.w.log.Warn("not ready", "failed", now)
	}
}
