package topology

import (
	"errors"
	"fmt"
	"strings"
)

// ClusterChecker is implemented by a component config (the value Decode
// puts in Component.Settings) that can be right in one process and wrong
// in a cluster, where a component's tasks run on several machines and
// move between them: a path on one machine's disk, say. CheckCluster says
// what is wrong, or returns nil.
//
// A cluster worker calls it, through Topology.CheckCluster, for every
// component of a topology submitted to it (the topology is refused, as an
// invalid one is) and again before it runs a stored topology (one stored
// before the check existed is then not run, and says why); `gale run`,
// one process, does not call it. It must only look at the config.
//
// Its error is reported at the component's config path
// ("spouts[0].config"); a *FieldError (or several, joined with
// errors.Join or as *Errors) whose Path is relative to the config, such as
// "ledger.kind", is reported at that path below it
// ("spouts[0].config.ledger.kind").
type ClusterChecker interface {
	CheckCluster() error
}

// CheckCluster calls the CheckCluster method of every component config
// that implements ClusterChecker, and reports every problem at once as
// *Errors: each a *FieldError at its JSON path that wraps ErrLocalOnly and
// the config's own error. t must be validated (its Settings decoded).
func (t *Topology) CheckCluster() error {
	var errs errList
	for _, list := range []struct {
		name  string
		comps []*Component
	}{{"spouts", t.Spouts}, {"bolts", t.Bolts}} {
		for i, c := range list.comps {
			cc, ok := c.Settings.(ClusterChecker)
			if !ok {
				continue
			}
			if err := cc.CheckCluster(); err != nil {
				addClusterErr(&errs, indexPath(list.name, i)+".config", err)
			}
		}
	}
	return errs.err()
}

// addClusterErr adds err, from the config at path, to errs: a
// *FieldError at its path relative to the config, joined errors one by
// one, any other error at the config's path.
func addClusterErr(errs *errList, path string, err error) {
	switch e := err.(type) {
	case *FieldError:
		cause := e.Err
		if cause == nil {
			cause = errors.New(e.Msg)
		}
		errs.addErr(&FieldError{Path: joinPath(path, e.Path), Msg: e.Msg, Err: fmt.Errorf("%w: %w", ErrLocalOnly, cause)})
	case interface{ Unwrap() []error }: // errors.Join, *Errors
		for _, inner := range e.Unwrap() {
			addClusterErr(errs, path, inner)
		}
	default:
		errs.addErr(&FieldError{Path: path, Msg: err.Error(), Err: fmt.Errorf("%w: %w", ErrLocalOnly, err)})
	}
}

// joinPath appends rel, a path relative to a value ("ledger.kind",
// "[2].dir"), to that value's path.
func joinPath(path, rel string) string {
	switch {
	case rel == "":
		return path
	case strings.HasPrefix(rel, "["):
		return path + rel
	}
	return path + "." + rel
}
