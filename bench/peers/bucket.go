package peers

import (
	"math"
	"time"
)

// TokenBucket paces a steady producer: Rate tokens per second accrue, at
// most Burst of them are kept (so a producer that stalled does not catch
// up with a flood afterwards: it falls behind, which its achieved rate
// shows), and Take hands out the whole tokens accrued.
type TokenBucket struct {
	Rate   float64 // tokens per second
	Burst  float64 // tokens kept at most
	tokens float64
	last   time.Time
}

// NewTokenBucket returns a bucket of rate tokens/s that keeps at most
// burst, starting empty at now.
func NewTokenBucket(rate, burst float64, now time.Time) *TokenBucket {
	return &TokenBucket{Rate: rate, Burst: burst, last: now}
}

// Take returns the whole tokens accrued by now and removes them.
func (b *TokenBucket) Take(now time.Time) int {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(b.tokens+b.Rate*d.Seconds(), b.Burst)
		b.last = now
	}
	n := math.Floor(b.tokens)
	b.tokens -= n
	return int(n)
}
