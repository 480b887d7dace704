package elasticsearch

import (
	"fmt"
	"strings"
	"time"

	"github.com/gale-stream/gale/sinks"
)

// NoTime is what the date part of an index pattern reads for a record
// without a timestamp ("logs-{2006.01.02}" -> "logs-none").
const NoTime = "none"

// IndexPattern is an index name with at most one date part: a Go time
// layout in braces, "logs-{2006.01.02}".
type IndexPattern struct {
	prefix, layout, suffix string
}

// ParseIndex parses and checks an index pattern: the names it makes must
// be valid index names (lowercase, no \ / * ? " < > | , # : or space, not
// starting with - _ +, at most 255 bytes).
func ParseIndex(s string) (IndexPattern, error) {
	var p IndexPattern
	if s == "" {
		return p, fmt.Errorf("index is required: %w", sinks.ErrConfig)
	}
	open := strings.IndexByte(s, '{')
	if open < 0 {
		if strings.IndexByte(s, '}') >= 0 {
			return p, fmt.Errorf("index %q: a '}' without '{': %w", s, sinks.ErrConfig)
		}
		p.prefix = s
	} else {
		n := strings.IndexByte(s[open:], '}')
		if n < 0 {
			return p, fmt.Errorf("index %q: a '{' without '}': %w", s, sinks.ErrConfig)
		}
		p.prefix, p.layout, p.suffix = s[:open], s[open+1:open+n], s[open+n+1:]
		if p.layout == "" {
			return p, fmt.Errorf("index %q: an empty date pattern {}: %w", s, sinks.ErrConfig)
		}
		if strings.ContainsAny(p.layout, "{") || strings.ContainsAny(p.suffix, "{}") {
			return p, fmt.Errorf("index %q: at most one date pattern in braces: %w", s, sinks.ErrConfig)
		}
		a := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		b := time.Date(2027, 11, 28, 22, 58, 59, 0, time.UTC)
		if a.Format(p.layout) == b.Format(p.layout) {
			return p, fmt.Errorf("index %q: {%s} is not a Go time layout (it reads the same for every date; write e.g. {2006.01.02}): %w",
				s, p.layout, sinks.ErrConfig)
		}
	}
	samples := []time.Time{{}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2027, 11, 28, 22, 58, 59, 999999999, time.UTC)}
	for _, t := range samples {
		if err := checkIndexName(p.Name(t)); err != nil {
			return p, fmt.Errorf("index %q: %w: %w", s, err, sinks.ErrConfig)
		}
	}
	return p, nil
}

// Dated reports whether the pattern has a date part.
func (p IndexPattern) Dated() bool { return p.layout != "" }

// Name returns the index of a record with timestamp t (zero: none).
func (p IndexPattern) Name(t time.Time) string {
	if p.layout == "" {
		return p.prefix
	}
	part := NoTime
	if !t.IsZero() {
		part = t.UTC().Format(p.layout)
	}
	return p.prefix + part + p.suffix
}

// Wildcard returns the pattern's indices as an index expression: the date
// part replaced by "*" ("logs-{2006.01.02}" -> "logs-*").
func (p IndexPattern) Wildcard() string {
	if p.layout == "" {
		return p.prefix
	}
	return p.prefix + "*" + p.suffix
}

// String returns the pattern as written.
func (p IndexPattern) String() string {
	if p.layout == "" {
		return p.prefix
	}
	return p.prefix + "{" + p.layout + "}" + p.suffix
}

// checkIndexName applies Elasticsearch's rules for index names.
func checkIndexName(n string) error {
	switch {
	case n == "":
		return fmt.Errorf("empty index name")
	case n == "." || n == "..":
		return fmt.Errorf("index name %q is reserved", n)
	case len(n) > 255:
		return fmt.Errorf("index name %q is longer than 255 bytes", n)
	case strings.ToLower(n) != n:
		return fmt.Errorf("index name %q must be lowercase", n)
	case strings.ContainsAny(n, "\\/*?\"<>| ,#:"):
		return fmt.Errorf("index name %q holds one of \\ / * ? \" < > | , # : or a space", n)
	case strings.ContainsAny(n[:1], "-_+"):
		return fmt.Errorf("index name %q must not start with -, _ or +", n)
	}
	return nil
}
