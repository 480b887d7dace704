package local

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCgroupMemoryLimit: the smallest limit on the path from the
// process's cgroup up to the mount's root, for cgroup v2 and v1; none
// when every level says "max" or v1's huge number, or there is no memory
// controller.
func TestCgroupMemoryLimit(t *testing.T) {
	write := func(t *testing.T, file, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		cgroup string
		files  map[string]string // relative to the mount root
		want   int64
		found  bool
	}{
		{"v2 own", "0::/kube/pod1\n", map[string]string{"kube/pod1/memory.max": "2147483648\n", "kube/memory.max": "max\n"}, 2 << 30, true},
		{"v2 ancestor smaller", "0::/kube/pod1\n", map[string]string{"kube/pod1/memory.max": "max\n", "kube/memory.max": "1073741824\n"}, 1 << 30, true},
		{"v2 namespaced root", "0::/\n", map[string]string{"memory.max": "536870912\n"}, 512 << 20, true},
		{"v2 none", "0::/a/b\n", map[string]string{"a/b/memory.max": "max\n", "a/memory.max": "max\n"}, 0, false},
		{"v1", "12:cpu,cpuacct:/x\n4:memory:/process_api/abc\n", map[string]string{
			"memory/process_api/abc/memory.limit_in_bytes": "3221225472\n",
			"memory/memory.limit_in_bytes":                 "9223372036854771712\n"}, 3 << 30, true},
		{"v1 unlimited", "4:memory:/process_api/abc\n", map[string]string{
			"memory/process_api/abc/memory.limit_in_bytes": "9223372036854771712\n"}, 0, false},
		{"no memory controller", "3:cpuset:/\n", map[string]string{"memory/memory.limit_in_bytes": "1048576\n"}, 0, false},
		{"garbage", "0::/g\n", map[string]string{"g/memory.max": "lots\n"}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "sys")
			for f, s := range tc.files {
				write(t, filepath.Join(root, f), s)
			}
			cg := filepath.Join(dir, "cgroup")
			write(t, cg, tc.cgroup)
			got, found := cgroupMemoryLimit(cg, root)
			if got != tc.want && tc.found || found != tc.found {
				t.Errorf("limit %d, found %v; want %d, %v", got, found, tc.want, tc.found)
			}
		})
	}
	if _, found := cgroupMemoryLimit(filepath.Join(t.TempDir(), "none"), "/nonexistent"); found {
		t.Error("a limit found without a cgroup file")
	}
}
