//go:build !ceph

package all

import "github.com/gale-stream/gale/registry"

// HasCeph tells whether this binary has the Ceph sink (built with the
// ceph build tag: make build, make test use -tags ceph,pacific).
const HasCeph = false

func optional() []registry.Type { return nil }

// Missing names the built-in types this binary was built without, with
// the reason: the gale command line prints it beside an "unknown type"
// error.
func Missing() map[string]string {
	return map[string]string{"ceph_sink": "this gale binary was built without Ceph: build it with -tags ceph,pacific, e.g. make build -> bin/gale-full"}
}
