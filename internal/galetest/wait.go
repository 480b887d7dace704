package galetest

import (
	"testing"
	"time"
)

// Eventually calls cond until it returns true and returns how long that
// took. If cond still returns false after limit, Eventually fails the test
// with a message naming what it waited for and the limit; cond is called
// once more at the limit before that.
//
// The interval between calls starts at a millisecond, so that a condition
// about to hold is seen at once, and doubles up to a thousandth of limit:
// a slow condition (an API call, a directory walk), given a long limit, is
// not polled more than about a thousand times.
//
// cond runs in the calling goroutine, between sleeps: it may call
// tb.Fatal, and it may drive what it checks (call NextTuple, say).
// Eventually must be called from the test's goroutine, like tb.Fatal.
func Eventually(tb testing.TB, what string, limit time.Duration, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	deadline := start.Add(limit)
	maxWait := max(limit/1000, time.Millisecond)
	for wait := time.Millisecond; ; wait = min(2*wait, maxWait) {
		if cond() {
			return time.Since(start)
		}
		left := time.Until(deadline)
		if left <= 0 {
			tb.Fatalf("timed out after %v waiting for %s", limit, what)
			return time.Since(start) // only with a tb whose Fatalf returns
		}
		time.Sleep(min(wait, left))
	}
}
