// Package suggest finds the name someone most likely meant: a misspelt
// field of a suite file, a setting of the configuration file, a claim.
package suggest

import "unicode"

// Distance is the edit distance between a and b, by runes, with letters
// compared regardless of case: insertions, deletions, substitutions and
// transpositions of two adjacent runes ("tset" for "test") count one each
// (the optimal string alignment distance).
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	same := func(x, y rune) bool { return x == y || unicode.ToLower(x) == unicode.ToLower(y) }
	// Three rows: two before the current one, for transpositions.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if same(ra[i-1], rb[j-1]) {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && same(ra[i-1], rb[j-2]) && same(ra[i-2], rb[j-1]) {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Hint is "; did you mean PREFIX+NAME?" for the candidate Closest finds,
// or "" when none is near: the tail of an "unknown …" message.
func Hint(word string, candidates []string, prefix string) string {
	if m, ok := Closest(word, candidates); ok {
		return "; did you mean " + prefix + m + "?"
	}
	return ""
}

// Closest returns the candidate nearest to word, when one is near enough
// to be what was meant: at most one edit away for a word of up to four
// runes, two for longer ones. Of equally near candidates the first wins.
func Closest(word string, candidates []string) (string, bool) {
	limit := 1
	if len([]rune(word)) > 4 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := Distance(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best, best != ""
}
