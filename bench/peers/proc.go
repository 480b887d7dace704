package peers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go runs on (sysconf(_SC_CLK_TCK) would need cgo).
const clockTicks = 100

// ProcStat is what the driver reads from /proc/PID/stat.
type ProcStat struct {
	PPID int
	// CPU is utime + stime; ChildCPU cutime + cstime (children waited for).
	CPU, ChildCPU time.Duration
	RSSPages      int64
}

// ParseStat parses the content of /proc/PID/stat. The command name (field
// 2) may hold spaces and parentheses: the fields are read after its last ')'.
func ParseStat(data []byte) (ProcStat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return ProcStat{}, errors.New("stat: no ')'")
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state): field k is f[k-3]
	if len(f) < 22 {
		return ProcStat{}, fmt.Errorf("stat: %d fields after the name, want at least 22", len(f))
	}
	num := func(k int) int64 {
		v, _ := strconv.ParseInt(f[k-3], 10, 64)
		return v
	}
	tick := func(k int) time.Duration { return time.Duration(num(k)) * time.Second / clockTicks }
	return ProcStat{PPID: int(num(4)), CPU: tick(14) + tick(15), ChildCPU: tick(16) + tick(17), RSSPages: num(24)}, nil
}

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (ProcStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcStat{}, err
	}
	return ParseStat(data)
}

// StatusKB returns a "kB" field of /proc/PID/status, e.g. "VmHWM".
func StatusKB(pid int, key string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(data, key)
}

func parseStatusKB(data []byte, key string) (int64, error) {
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("status: no %s", key)
}

// TreeUsage is the CPU time and resident set of a process and its live
// descendants at one moment.
type TreeUsage struct {
	PIDs int
	// CPU: user+system time of every live process of the tree, plus that
	// of the children they waited for.
	CPU      time.Duration
	RSSBytes int64
}

// ReadTree reads the usage of root and its descendants from /proc.
func ReadTree(root int) (TreeUsage, error) {
	rs, err := ReadStat(root)
	if err != nil {
		return TreeUsage{}, err
	}
	stats := map[int]ProcStat{root: rs}
	children := map[int][]int{}
	if ents, err := os.ReadDir("/proc"); err == nil {
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == root {
				continue
			}
			st, err := ReadStat(pid)
			if err != nil {
				continue
			}
			stats[pid] = st
			children[st.PPID] = append(children[st.PPID], pid)
		}
	}
	page := int64(os.Getpagesize())
	var u TreeUsage
	var visit func(pid int)
	visit = func(pid int) {
		st := stats[pid]
		u.PIDs++
		u.CPU += st.CPU + st.ChildCPU
		u.RSSBytes += st.RSSPages * page
		for _, c := range children[pid] {
			visit(c)
		}
	}
	visit(root)
	return u, nil
}

// MachineCPU is the CPU time of the whole machine, from /proc/stat's
// "cpu" line, summed over its CPUs.
type MachineCPU struct {
	// Busy: user, nice, system, irq, softirq and steal; Total adds idle
	// and iowait.
	Busy, Total time.Duration
}

// ReadMachineCPU reads /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}, err
	}
	return parseMachineCPU(data)
}

func parseMachineCPU(data []byte) (MachineCPU, error) {
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return MachineCPU{}, fmt.Errorf("/proc/stat: first line %q: want \"cpu\" and at least 8 times", line)
	}
	var m MachineCPU
	for k, v := range f[1:9] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return MachineCPU{}, fmt.Errorf("/proc/stat: time %q: %w", v, err)
		}
		d := time.Duration(n) * time.Second / clockTicks
		m.Total += d
		if k != 3 && k != 4 { // idle, iowait
			m.Busy += d
		}
	}
	return m, nil
}
