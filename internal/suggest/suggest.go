// Package suggest finds the known name closest to a mistyped one, for
// the "did you mean" of error messages (topology's JSON, Flux's YAML).
package suggest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Closest returns the entry of known closest to name by edit distance
// (ignoring case), or "" when none is close.
func Closest(name string, known []string) string {
	if len(name) > 128 || len(known) > 1000 {
		return ""
	}
	lname := strings.ToLower(name)
	best, bestD := "", -1
	for _, k := range known {
		if len(k) > 128 {
			continue
		}
		d := editDistance(lname, strings.ToLower(k))
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	n := utf8.RuneCountInString(name)
	limit := 1 + n/4
	// a suggestion must keep part of what was typed: "x" -> "b" is noise
	if bestD < 0 || bestD > limit || bestD >= n || best == name {
		return ""
	}
	return best
}

// DidYouMean returns ` (did you mean "x"?)` or "".
func DidYouMean(name string, known []string) string {
	if s := Closest(name, known); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
