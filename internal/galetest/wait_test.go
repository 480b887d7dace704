package galetest_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
)

// fatalTB records what Fatalf says and ends the goroutine, as testing's
// Fatalf does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// eventually runs galetest.Eventually with a fatalTB in a goroutine of its
// own (Fatalf ends it): it returns the duration returned, if any, and the
// failure message, if any.
func eventually(t *testing.T, what string, limit time.Duration, cond func() bool) (took time.Duration, failure string) {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		took = galetest.Eventually(tb, what, limit, cond)
	}()
	<-done
	return took, tb.msg
}

func TestEventually(t *testing.T) {
	t.Run("holds at once", func(t *testing.T) {
		calls := 0
		took, failure := eventually(t, "x", time.Second, func() bool { calls++; return true })
		if failure != "" || calls != 1 || took > 100*time.Millisecond {
			t.Errorf("took %v, %d calls, failure %q; want one call, no failure", took, calls, failure)
		}
	})
	t.Run("holds later", func(t *testing.T) {
		start := time.Now()
		took, failure := eventually(t, "x", 10*time.Second, func() bool { return time.Since(start) > 200*time.Millisecond })
		if failure != "" || took < 150*time.Millisecond || took > time.Since(start) {
			t.Errorf("took %v, failure %q; want about 200ms (the time until the condition held), no failure", took, failure)
		}
	})
	t.Run("polls often, then less", func(t *testing.T) {
		calls := 0
		eventually(t, "x", time.Second, func() bool { calls++; return calls == 5 })
		if calls != 5 {
			t.Errorf("%d calls, want 5 (polling stops when the condition holds)", calls)
		}
		// the interval doubles from 1ms up to a thousandth of the limit
		for _, tc := range []struct {
			limit    time.Duration
			min, max int // calls in a second
		}{
			{100 * time.Second, 8, 20},  // 1+2+...+64 ms, then every 100 ms: about 16
			{10 * time.Second, 40, 110}, // 1+2+4+8 ms, then every 10 ms: about 100
		} {
			calls := 0
			start := time.Now()
			eventually(t, "x", tc.limit, func() bool { calls++; return time.Since(start) > time.Second })
			if calls < tc.min || calls > tc.max {
				t.Errorf("limit %v: %d calls in a second, want %d to %d", tc.limit, calls, tc.min, tc.max)
			}
		}
	})
	t.Run("times out", func(t *testing.T) {
		start := time.Now()
		calls := 0
		var last time.Time
		_, failure := eventually(t, "the moon to turn blue", 300*time.Millisecond, func() bool {
			calls++
			last = time.Now()
			return false
		})
		if want := "timed out after 300ms waiting for the moon to turn blue"; failure != want {
			t.Errorf("failure %q, want %q", failure, want)
		}
		if d := last.Sub(start); d < 300*time.Millisecond {
			t.Errorf("last call %v after the start, want one at the limit (300ms)", d)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("failed after %v, want about 300ms", elapsed)
		}
		if calls < 3 {
			t.Errorf("%d calls, want it polled", calls)
		}
	})
}
