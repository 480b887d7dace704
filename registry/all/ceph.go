//go:build ceph

package all

import (
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks/ceph"
)

// HasCeph tells whether this binary has the Ceph sink (built with the
// ceph build tag: make build, make test use -tags ceph,pacific).
const HasCeph = true

// optional returns the types that need a build tag.
func optional() []registry.Type { return []registry.Type{ceph.Type()} }

// Missing names the built-in types this binary was built without, with
// the reason.
func Missing() map[string]string { return nil }
