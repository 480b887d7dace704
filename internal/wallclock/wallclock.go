// Package wallclock is the wall clock of the cluster's records: the times a
// worker writes for others to read (a topology's submitted and updated
// times, an assignment's, a worker's start time in its gossip metadata).
//
// Gale never compares such a time with another worker's clock: durations
// that matter (a kill's drain, a lease's expiry, the membership debounce)
// are measured locally with the monotonic clock, from when this worker saw
// the change. These times are for people to read.
//
// Test hook: the environment variable GALE_TEST_CLOCK_SKEW (a Go duration,
// e.g. "1h" or "-1h30m"), read once when the process starts, shifts Now
// by that much, so that a multi-process test can run one worker as if its
// wall clock were off. It is not a setting: leave it unset in production.
package wallclock

import (
	"fmt"
	"os"
	"time"
)

// SkewEnv names the environment variable of the test hook.
const SkewEnv = "GALE_TEST_CLOCK_SKEW"

var skew, skewErr = parseSkew(os.Getenv(SkewEnv))

func parseSkew(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", SkewEnv, v, err)
	}
	return d, nil
}

// Now returns the current time shifted by the test hook's skew. The result
// keeps the monotonic reading, so a duration between two of its values
// is still measured by the monotonic clock.
func Now() time.Time { return time.Now().Add(skew) }

// Skew returns the skew of the test hook (0 when unset) and the error of
// an unparsable value (then the skew is 0).
func Skew() (time.Duration, error) { return skew, skewErr }
