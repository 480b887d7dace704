//go:build ceph

package cli

// The Ceph sink needs cgo and librados: it is compiled in only with the
// ceph build tag (make build / make test use -tags ceph,pacific).
import _ "github.com/gale-stream/gale/sinks/ceph"

const cephBuilt = true
