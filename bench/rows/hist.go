package rows

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// hist records durations in log-linear buckets: 64 per power of two, so a
// percentile read from it is within about 1.1 % of the truth (the Storm
// side uses an HdrHistogram with 3 significant digits). Record is safe to
// call concurrently with snapshot; windows are differences of snapshots.
type hist struct {
	buckets [histOctaves * histSub]atomic.Uint64
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histOctaves = 44 // up to 2^44 ns, about 4.9 hours
)

func histBucket(ns uint64) int {
	if ns < histSub {
		return int(ns)
	}
	n := bits.Len64(ns) - 1 // ns in [2^n, 2^(n+1)), n >= histSubBits
	sub := int(ns>>(n-histSubBits)) & (histSub - 1)
	i := (n-histSubBits+1)*histSub + sub
	if i >= len(hist{}.buckets) {
		i = len(hist{}.buckets) - 1
	}
	return i
}

// histLow is the smallest value that falls into bucket i.
func histLow(i int) float64 {
	if i < histSub {
		return float64(i)
	}
	n := i/histSub - 1 + histSubBits
	sub := i % histSub
	return math.Ldexp(1+float64(sub)/histSub, n)
}

func (h *hist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.buckets[histBucket(uint64(d))].Add(1)
}

// histSnap is a copy of a hist's buckets at one moment.
type histSnap []uint64

func (h *hist) snapshot() histSnap {
	s := make(histSnap, len(h.buckets))
	for i := range h.buckets {
		s[i] = h.buckets[i].Load()
	}
	return s
}

// since returns the counts recorded between prev and s.
func (s histSnap) since(prev histSnap) histSnap {
	d := make(histSnap, len(s))
	for i := range s {
		d[i] = s[i] - prev[i]
	}
	return d
}

func (s histSnap) count() uint64 {
	var n uint64
	for _, c := range s {
		n += c
	}
	return n
}

// quantile returns the q-quantile (0 < q <= 1) in milliseconds, or NaN when
// nothing was recorded. It reports the middle of the bucket holding it.
func (s histSnap) quantile(q float64) float64 {
	total := s.count()
	if total == 0 {
		return math.NaN()
	}
	rank := uint64(math.Ceil(q * float64(total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range s {
		seen += c
		if seen >= rank {
			return (histLow(i) + histLow(i+1)) / 2 / 1e6
		}
	}
	return math.NaN()
}

// max returns the upper bound of the highest non-empty bucket in ms.
func (s histSnap) max() float64 {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] > 0 {
			return histLow(i+1) / 1e6
		}
	}
	return math.NaN()
}
