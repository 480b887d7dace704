//go:build ceph

package e2e

// buildTags are the tags the gale binary is built with: the Ceph sink is
// tested, so it must be in the binary.
const buildTags = "ceph,pacific"
