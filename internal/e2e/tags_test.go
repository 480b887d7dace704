//go:build !ceph

package e2e

// buildTags are the tags the gale binary is built with (none: no Ceph).
const buildTags = ""
