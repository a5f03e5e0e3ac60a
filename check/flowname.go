package check

import (
	"slices"
	"strings"
)

// flowOf names the flow of a normalized response type: code, implicit or
// hybrid.
func flowOf(rt string) string {
	words := strings.Fields(rt)
	switch {
	case len(words) == 1 && words[0] == "code":
		return "code"
	case slices.Contains(words, "code"):
		return "hybrid"
	}
	return "implicit"
}
