package suite

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// evaluate checks cc against the verified tokens of r: with a token named,
// against that one only; otherwise it passes when any verified token (or
// verified userinfo) satisfies it.
func (cc ClaimCheck) evaluate(r *report.Report) verify.Check {
	name := fmt.Sprintf("claim %s %s %s", cc.Claim, cc.Op, display(cc.Value))
	kinds := []string{cc.Token}
	if cc.Token == "" {
		kinds = kinds[:0]
		for k, t := range r.Tokens {
			if t != nil && t.Verified {
				kinds = append(kinds, k)
			}
		}
		sort.Strings(kinds)
	}
	var seen []string
	for _, k := range kinds {
		t := r.Tokens[k]
		if t == nil || !t.Verified {
			continue
		}
		v, ok := verify.LookupClaim(t.Claims, cc.Claim)
		if !ok {
			continue
		}
		if cc.holds(v) {
			return verify.Check{Name: name, OK: true, Source: k, Detail: fmt.Sprintf("%s is %s", cc.Claim, display(v))}
		}
		seen = append(seen, fmt.Sprintf("%s in %s", display(v), k))
	}
	where := "any verified token"
	if cc.Token != "" {
		where = "a verified " + cc.Token
		if t := r.Tokens[cc.Token]; t == nil || !t.Verified {
			// Not "missing from it": there is nothing to look in (the
			// report's notes say why, when it was not asked).
			return verify.Check{Name: name, OK: false, Source: cc.Token, Detail: fmt.Sprintf("no verified %s in this run", cc.Token)}
		}
	}
	if len(seen) == 0 {
		return verify.Check{Name: name, OK: false, Source: cc.Token, Detail: fmt.Sprintf("%s is missing from %s", cc.Claim, where)}
	}
	return verify.Check{Name: name, OK: false, Source: cc.Token, Detail: fmt.Sprintf("%s is %s", cc.Claim, strings.Join(seen, ", "))}
}

func (cc ClaimCheck) holds(v any) bool {
	switch cc.Op {
	case "equals":
		return sameJSON(v, cc.Value)
	case "contains":
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if sameJSON(e, cc.Value) {
					return true
				}
			}
		case string:
			// scope and similar: a space-separated list.
			want, ok := cc.Value.(string)
			return ok && (x == want || containsWord(x, want))
		}
		return false
	case "matches":
		switch x := v.(type) {
		case string:
			return cc.re.MatchString(x)
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok && cc.re.MatchString(s) {
					return true
				}
			}
		}
	}
	return false
}

func containsWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// sameJSON compares two values as JSON values: 1 and 1.0 are equal, and a
// YAML map equals a JSON object with the same members.
func sameJSON(a, b any) bool {
	na, nb := jsonValue(a), jsonValue(b)
	return reflect.DeepEqual(na, nb)
}

func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

func display(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}
