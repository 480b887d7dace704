package monitor

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"
)

// procSampler measures this process's CPU time and resident memory from
// /proc (Linux; elsewhere both stay zero).
type procSampler struct {
	mu      sync.Mutex
	lastAt  time.Time
	lastCPU time.Duration
	cpu     float64
	rss     int64
	samples int
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

func (p *procSampler) sample(now time.Time) {
	cpu, ok := readCPU()
	rss := readRSS()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rss = rss
	if !ok {
		return
	}
	if !p.lastAt.IsZero() {
		if dt := now.Sub(p.lastAt); dt > 0 {
			p.cpu = 100 * float64(cpu-p.lastCPU) / float64(dt)
		}
	}
	p.lastAt, p.lastCPU = now, cpu
	p.samples++
}

// get returns the CPU use over the last step and the resident memory;
// before the recorder's second sample, both are measured now (the CPU use
// since the first sample).
func (p *procSampler) get() (float64, int64) {
	p.mu.Lock()
	cpu, rss, first, firstCPU, fresh := p.cpu, p.rss, p.lastAt, p.lastCPU, p.samples < 2
	p.mu.Unlock()
	if !fresh {
		return cpu, rss
	}
	rss = readRSS()
	if now, ok := readCPU(); ok && !first.IsZero() {
		if dt := time.Since(first); dt > 0 {
			cpu = 100 * float64(now-firstCPU) / float64(dt)
		}
	}
	return cpu, rss
}

// readCPU returns utime+stime of /proc/self/stat.
func readCPU() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// the command name may hold spaces: fields start after the last ')'
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	s, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+s) * time.Second / clockTicks, true
}

// readRSS returns the resident set size from /proc/self/statm.
func readRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
