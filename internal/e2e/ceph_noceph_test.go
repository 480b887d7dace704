//go:build !ceph

package e2e

import "testing"

// cephObjects: no Ceph in this build.
func cephObjects(t *testing.T, _ runBackends) map[string][]byte {
	t.Helper()
	return nil
}
