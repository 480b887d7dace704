package registry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

func boltType(name string) registry.BoltType {
	return registry.BoltType{
		ComponentType: topology.ComponentType{Name: name, Outputs: registry.PassThrough()},
		New: func(any) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(context.Context, *tuple.Tuple, bolt.BasicCollector) error { return nil })), nil
		},
	}
}

func TestRegistry_Register(t *testing.T) {
	r := registry.New()
	if err := r.RegisterBolt(boltType("upper")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		typ  registry.BoltType
		want error
	}{
		{"duplicate", boltType("upper"), registry.ErrDuplicate},
		{"empty name", boltType(""), registry.ErrBadName},
		{"upper case", boltType("Upper"), registry.ErrBadName},
		{"space", boltType("up per"), registry.ErrBadName},
		{"no factory", registry.BoltType{ComponentType: topology.ComponentType{Name: "nofactory"}}, registry.ErrNoFactory},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := r.RegisterBolt(c.typ); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	// a spout may share a bolt's name: kinds are separate namespaces
	err := r.RegisterSpout(registry.SpoutType{ComponentType: topology.ComponentType{Name: "upper"},
		New: func(any) (spout.Spout, error) { return nil, nil }})
	if err != nil {
		t.Errorf("spout named like a bolt: %v", err)
	}
	if got := fmt.Sprint(r.TypeNames(topology.KindBolt), r.TypeNames(topology.KindSpout)); got != "[upper] [upper]" {
		t.Errorf("type names %s", got)
	}
	if ct, ok := r.ComponentType(topology.KindBolt, "upper"); !ok || ct.Kind != topology.KindBolt {
		t.Errorf("ComponentType = %+v, %v", ct, ok)
	}
	if _, ok := r.ComponentType(topology.KindSpout, "nosuch"); ok {
		t.Error("unknown type found")
	}
}

func TestRegistry_MustRegisterPanicsOnDuplicate(t *testing.T) {
	r := registry.New()
	r.MustRegisterBolt(boltType("x"))
	defer func() {
		if p := recover(); p == nil {
			t.Error("no panic on a duplicate")
		}
	}()
	r.MustRegisterBolt(boltType("x"))
}

func TestRegistry_CloneIsIndependent(t *testing.T) {
	r := registry.New()
	r.MustRegisterBolt(boltType("a"))
	c := r.Clone()
	c.MustRegisterBolt(boltType("b"))
	if _, ok := r.Bolt("b"); ok {
		t.Error("a type registered in the clone leaked into the original")
	}
	if _, ok := c.Bolt("a"); !ok {
		t.Error("the clone lost a type")
	}
}

func TestRegistry_NewBoltErrors(t *testing.T) {
	r := registry.New()
	boom := errors.New("boom")
	r.MustRegisterBolt(registry.BoltType{ComponentType: topology.ComponentType{Name: "broken"},
		New: func(any) (bolt.Bolt, error) { return nil, boom }})
	if _, err := r.NewBolt(&topology.Component{ID: "c", Type: "nosuch"}); !errors.Is(err, registry.ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	_, err := r.NewBolt(&topology.Component{ID: "c", Type: "broken"})
	if !errors.Is(err, boom) || err.Error() != `component "c": new broken bolt: boom` {
		t.Errorf("factory error: %v", err)
	}
}

func TestPassThrough(t *testing.T) {
	out, err := registry.PassThrough()(nil, []tuple.Fields{{"a", "b"}})
	if err != nil || fmt.Sprint(out) != "map[default:[a b]]" {
		t.Errorf("PassThrough = %v, %v", out, err)
	}
}
