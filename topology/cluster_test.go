package topology_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/gale-stream/gale/topology"
)

// checker is a config whose CheckCluster returns err.
type checker struct{ err error }

func (c *checker) CheckCluster() error { return c.err }

var errDisk = errors.New("on one disk")

// TestTopology_CheckCluster: each config's problems are reported at their
// paths below the component's config, all of them, wrapping ErrLocalOnly
// and the config's error; configs that pass or do not implement the
// interface are not reported.
func TestTopology_CheckCluster(t *testing.T) {
	topo := &topology.Topology{
		Name: "t",
		Spouts: []*topology.Component{
			{ID: "plain", Settings: &GeneratorConfig{}},
			{ID: "fine", Settings: &checker{}},
			{ID: "field", Settings: &checker{&topology.FieldError{Path: "ledger.kind", Msg: "a file ledger", Err: errDisk}}},
		},
		Bolts: []*topology.Component{
			{ID: "none"},
			{ID: "whole", Settings: &checker{errDisk}},
			{ID: "joined", Settings: &checker{errors.Join(
				&topology.FieldError{Path: "dirs[1]", Msg: "relative"},
				&topology.FieldError{Path: "[0]", Msg: "first"},
				errors.New("and this"))}},
		},
	}
	err := topo.CheckCluster()
	var errs *topology.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("CheckCluster() = %v, want *topology.Errors", err)
	}
	var got []string
	for _, fe := range errs.List {
		got = append(got, fe.Error())
		if !errors.Is(fe, topology.ErrLocalOnly) {
			t.Errorf("%s: does not wrap ErrLocalOnly", fe)
		}
	}
	want := []string{
		"spouts[2].config.ledger.kind: a file ledger",
		"bolts[1].config: on one disk",
		"bolts[2].config.dirs[1]: relative",
		"bolts[2].config[0]: first",
		"bolts[2].config: and this",
	}
	if !slices.Equal(got, want) {
		t.Errorf("CheckCluster() reports\n%q\nwant\n%q", got, want)
	}
	for _, i := range []int{0, 1} {
		if !errors.Is(errs.List[i], errDisk) {
			t.Errorf("%s: does not wrap the config's error", errs.List[i])
		}
	}

	topo.Spouts, topo.Bolts = topo.Spouts[:2], topo.Bolts[:1]
	if err := topo.CheckCluster(); err != nil {
		t.Errorf("CheckCluster() of configs that pass = %v, want nil", err)
	}
}
