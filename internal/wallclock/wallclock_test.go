package wallclock

import (
	"strings"
	"testing"
	"time"
)

func TestParseSkew(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"", 0, false},
		{"1h", time.Hour, false},
		{"-1h30m", -90 * time.Minute, false},
		{"an hour", 0, true},
	} {
		got, err := parseSkew(tc.in)
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("parseSkew(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

// TestNow_KeepsTheMonotonicClock: the difference of two readings is
// measured by the monotonic clock whatever the skew.
func TestNow_KeepsTheMonotonicClock(t *testing.T) {
	old := skew
	defer func() { skew = old }()
	skew = time.Hour
	a := Now()
	if d := a.Sub(time.Now()); d < 59*time.Minute || d > time.Hour {
		t.Errorf("skewed by %v, want 1h", d)
	}
	if !strings.Contains(a.String(), " m=") {
		t.Error("the reading lost its monotonic clock")
	}
}
