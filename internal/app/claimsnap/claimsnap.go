// Package claimsnap saves the verified claims of a run as a snapshot and
// compares a later run against it, so that a pipeline can ask "did anything
// change?" after a deploy. A snapshot is readable JSON meant to be committed:
// per token kind, the verified claims without the volatile ones, arrays
// sorted.
package claimsnap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// Volatile claims change on every run and are left out of snapshots. nbf is
// among them: it is the issue time again.
var Volatile = []string{"iat", "exp", "nbf", "auth_time", "jti", "nonce", "at_hash", "c_hash", "sid"}

// Snapshot is token kind (id_token, access_token, userinfo) -> claim -> value.
type Snapshot map[string]map[string]any

// Take returns the snapshot of r's verified tokens; unverified ones are left
// out, for their claims prove nothing.
func Take(r *report.Report) Snapshot {
	s := Snapshot{}
	for kind, t := range r.Tokens {
		if t == nil || !t.Verified || t.Claims == nil {
			continue
		}
		m := map[string]any{}
		for k, v := range t.Claims {
			if slices.Contains(Volatile, k) {
				continue
			}
			m[k] = normalize(v)
		}
		s[kind] = m
	}
	return s
}

// normalize round-trips v through JSON and sorts arrays, so that values
// compare alike whatever their Go type and order.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return string(b)
	}
	return sortArrays(out)
}

func sortArrays(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = sortArrays(x[i])
		}
		sort.SliceStable(x, func(i, j int) bool { return display(x[i]) < display(x[j]) })
		return x
	case map[string]any:
		for k := range x {
			x[k] = sortArrays(x[k])
		}
	}
	return v
}

// Marshal renders s as indented JSON with sorted keys and a final newline.
func (s Snapshot) Marshal() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // maps of JSON values always encode
	return buf.Bytes()
}

// Save writes s to path.
func (s Snapshot) Save(path string) error {
	if err := os.WriteFile(path, s.Marshal(), 0o644); err != nil {
		return failure.New(failure.Usage, "--save-claims", "%v", err)
	}
	return nil
}

// Load reads a snapshot; an unreadable or malformed file is a usage error.
func Load(path string) (Snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, failure.New(failure.Usage, "claims snapshot", "%v", err)
	}
	var s Snapshot
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&s); err != nil {
		return nil, failure.New(failure.Usage, "claims snapshot", "%s is not a claims snapshot (JSON object of token kinds): %v", path, err)
	}
	for kind, claims := range s {
		if claims == nil {
			return nil, failure.New(failure.Usage, "claims snapshot", "%s: %q is not an object of claims", path, kind)
		}
		for k, v := range claims {
			claims[k] = normalize(v)
		}
	}
	return s, nil
}

// Compare returns one failed check per difference between want and the
// verified claims of r: a token kind, claim or group (an element of an
// array claim) added, removed or changed. With no difference it returns a
// single passing check.
func Compare(want Snapshot, r *report.Report) []verify.Check {
	got := Take(r)
	var checks []verify.Check
	fail := func(kind, format string, args ...any) {
		checks = append(checks, verify.Check{Name: "claims like snapshot", OK: false, Source: kind, Detail: fmt.Sprintf(format, args...)})
	}
	for _, kind := range unionKeys(want, got) {
		w, inWant := want[kind]
		g, inGot := got[kind]
		switch {
		case !inGot:
			fail(kind, "%s removed: the snapshot has a verified %s, this run has none", kind, kind)
			continue
		case !inWant:
			fail(kind, "%s added: this run has a verified %s, the snapshot has none", kind, kind)
			continue
		}
		for _, claim := range unionKeys(w, g) {
			wv, inW := w[claim]
			gv, inG := g[claim]
			switch {
			case !inG:
				fail(kind, "%s: claim %q removed (was %s)", kind, claim, display(wv))
			case !inW:
				fail(kind, "%s: claim %q added (%s)", kind, claim, display(gv))
			case reflect.DeepEqual(wv, gv):
			default:
				wa, wok := wv.([]any)
				ga, gok := gv.([]any)
				if !wok || !gok {
					fail(kind, "%s: claim %q changed from %s to %s", kind, claim, display(wv), display(gv))
					continue
				}
				for _, e := range wa {
					if !containsValue(ga, e) {
						fail(kind, "%s: %s %s removed", kind, claim, display(e))
					}
				}
				for _, e := range ga {
					if !containsValue(wa, e) {
						fail(kind, "%s: %s %s added", kind, claim, display(e))
					}
				}
			}
		}
	}
	if len(checks) == 0 {
		kinds := make([]string, 0, len(got))
		for k := range got {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		checks = append(checks, verify.Check{Name: "claims like snapshot", OK: true, Source: strings.Join(kinds, ","), Detail: "no claim added, removed or changed"})
	}
	return checks
}

func containsValue(list []any, v any) bool {
	for _, e := range list {
		if reflect.DeepEqual(e, v) {
			return true
		}
	}
	return false
}

func unionKeys[V any](a, b map[string]V) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func display(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
