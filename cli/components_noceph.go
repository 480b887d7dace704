//go:build !ceph

package cli

// cephBuilt: this binary has no Ceph sink (build with -tags ceph,pacific).
const cephBuilt = false
