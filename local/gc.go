package local

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// DefaultGCPercent is the GOGC Gale runs with unless the user sets GOGC.
// A stream processor allocates many short-lived tuples while its live heap
// stays small (queues are bounded), so collecting less often buys
// throughput (about +40 % on the word-count benchmark) for a heap a few
// times the live size.
const DefaultGCPercent = 400

// MemoryLimitShare is the share of a container's memory limit (its
// cgroup's) that TuneGC gives the Go runtime as its soft memory limit.
const MemoryLimitShare = 0.9

// TuneGC applies DefaultGCPercent unless the GOGC environment variable is
// set, and returns the GOGC in force. With GOGC at 400 the heap may grow
// to five times the live data; in a container, the kernel would kill the
// process for that long before the collector runs. So unless GOMEMLIMIT
// is set, a process whose cgroup (v1 or v2, its own or an ancestor's)
// limits its memory gets a soft memory limit of MemoryLimitShare of it:
// near it the collector runs more often instead (debug.SetMemoryLimit).
func TuneGC() string {
	gogc := "400"
	if v := os.Getenv("GOGC"); v != "" {
		gogc = v
	} else {
		debug.SetGCPercent(DefaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if limit, ok := cgroupMemoryLimit("/proc/self/cgroup", "/sys/fs/cgroup"); ok {
			debug.SetMemoryLimit(int64(float64(limit) * MemoryLimitShare))
		}
	}
	return gogc
}

// cgroupMemoryLimit returns the smallest memory limit of the process's
// cgroup and its ancestors (cgroupFile: /proc/self/cgroup; root: where
// the cgroup file systems are mounted). cgroup v2 keeps it in memory.max
// ("max": none), v1 in the memory controller's memory.limit_in_bytes (a
// huge number: none). Inside a container the process's cgroup is often
// the mount's root itself, so the root's files count too.
func cgroupMemoryLimit(cgroupFile, root string) (int64, bool) {
	f, err := os.Open(cgroupFile)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	best, found := int64(math.MaxInt64), false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		var dir, file string
		switch {
		case parts[0] == "0" && parts[1] == "":
			dir, file = root, "memory.max"
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			dir, file = filepath.Join(root, "memory"), "memory.limit_in_bytes"
		default:
			continue
		}
		// the path and each of its ancestors, down to the mount's root
		for p := filepath.Join(dir, filepath.FromSlash(parts[2])); ; p = filepath.Dir(p) {
			if v, ok := readLimit(filepath.Join(p, file)); ok && v < best {
				best, found = v, true
			}
			if len(p) <= len(dir) {
				break
			}
		}
	}
	return best, found
}

// readLimit reads a cgroup memory limit file; "max", an unreadable file
// or a value of 2^60 bytes or more (v1's "no limit") is none.
func readLimit(file string) (int64, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v <= 0 || v >= 1<<60 {
		return 0, false
	}
	return v, true
}
