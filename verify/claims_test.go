package verify

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// claimsCases are claims sets, good and bad, that decodeClaims must read as
// decodeObject does.
var claimsCases = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":"x","a":"y"}`, `{"a":1,"b":{"a":1},"a":2}`,
	`{"a":[1,"x",true,false,null,[],{}]}`, `{"a":"\u00e9","b":"\ud800"}`, `{"a":1e400}`, `{"a":[1e400]}`,
	`{"a":01}`, `{"a":-0}`, `{"a":1,}`, "{\"a\":\"\xff\"}", "{\"a\":[\"\xff\"]}", `{"a":"\q"}`, `{"a":["\q"]}`,
	`{"a":` + strings.Repeat(`[`, 63) + strings.Repeat(`]`, 63) + `}`,
	`{"a":` + strings.Repeat(`[`, 64) + strings.Repeat(`]`, 64) + `}`,
	`{"a":` + strings.Repeat(`{"b":`, 64) + `1` + strings.Repeat(`}`, 64) + `}`,
	`{"x":{"b":1,"b":2}}`, `{"x":[{"b":1,"b":2}]}`, `{"a":tru}`, `{"a":nul}`, `{"a":}`, `{"a"}`, `{"a":1 "b":2}`,
	`{"a":1}x`, `[1]`, `"s"`, ``, `{`, `{"a":"`, `{"a":[1,`, `{"a":{"b":1}`, "{\"a\":\"\x01\"}",
	`{"Iss":"a","iss":"b"}`, `{"a":1,"\u0061":2}`, `{"iss":"i","aud":["c","d"],"exp":1.5e9,"groups":{"IT":{"o":1}}}`,
	`{"a":null,"b":true,"c":false,"d":-1.25E-3}`,
	`{` + manyMembers(40, false) + `}`, `{` + manyMembers(40, true) + `}`,
	`{` + manyMembers(40, false) + `,"iss":"x","sub":"y"}`, `{` + manyMembers(40, false) + `,"iss":"x","iss":"y"}`,
	`{"iss":"a","sub":"b","aud":"c","exp":1,"nbf":2,"iat":3,"jti":"j","azp":"z","nonce":"n","at_hash":"h","c_hash":"c",` +
		`"auth_time":4,"scope":"s","scp":["x"],"_claim_names":{},"_claim_sources":{}}`,
	`{"iss":"a","sub":"b","iss":"c"}`, `{"nonce":null,"aud":[],"exp":true}`,
}

// manyMembers writes n members m0..m(n-1), the last repeating m3 when dup.
func manyMembers(n int, dup bool) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		name := i
		if dup && i == n-1 {
			name = 3
		}
		fmt.Fprintf(&b, `"m%d":%d`, name, i)
	}
	return b.String()
}

// TestDecodeClaimsMatchesDecodeObject: one pass into a claimSet refuses
// what decodeObject refuses, with the same message, and its map is
// decodeObject's.
func TestDecodeClaimsMatchesDecodeObject(t *testing.T) {
	for _, in := range claimsCases {
		sameDecoding(t, []byte(in))
	}
}

func sameDecoding(t *testing.T, in []byte) {
	t.Helper()
	want, werr := decodeObject(in)
	cs, gerr := decodeClaims(in)
	if fmt.Sprint(werr) != fmt.Sprint(gerr) || (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: decodeObject error %v, decodeClaims error %v", in, werr, gerr)
	}
	if werr != nil {
		_, ws := werr.(*strictJSONError)
		_, gs := gerr.(*strictJSONError)
		if ws != gs {
			t.Fatalf("%q: strictness of %v and %v differ", in, werr, gerr)
		}
		return
	}
	if got := cs.Map(); !reflect.DeepEqual(want, got) {
		t.Fatalf("%q: decodeObject %v, claimSet map %v", in, want, got)
	}
	for name, v := range want {
		m, ok := cs.get(name)
		if !ok || !reflect.DeepEqual(cs.value(m), v) {
			t.Fatalf("%q: member %q is %v (%v), want %v", in, name, cs.value(m), ok, v)
		}
		mm, _ := mapClaims(want).get(name)
		if mm.kind != m.kind {
			t.Fatalf("%q: member %q kind %c from the claimSet, %c from the map", in, name, m.kind, mm.kind)
		}
	}
	if len(cs.members) != len(want) {
		t.Fatalf("%q: %d members, want %d", in, len(cs.members), len(want))
	}
}

// TestClaimSetLookup: a claim reference reads the same value from a
// claimSet as LookupClaim from the map.
func TestClaimSetLookup(t *testing.T) {
	in := `{"groups":["IT"],"cognito:groups":"a","realm_access":{"roles":["r1","r2"]},"a/b":{"c~d":[0,{"e":true}]},"":1,"n":null}`
	cs, err := decodeClaims([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	m := cs.Map()
	for _, ref := range []string{
		"groups", "cognito:groups", "missing", "n", "", "/", "/realm_access/roles", "/realm_access/roles/1",
		"/realm_access/missing", "/a~1b/c~0d/1/e", "/a~1b/c~0d/2", "/groups/0", "/groups/01", "/missing/x", "realm_access",
	} {
		gv, gok := cs.lookup(ref)
		wv, wok := LookupClaim(m, ref)
		if gok != wok || !reflect.DeepEqual(gv, wv) {
			t.Errorf("%q: claimSet %v (%v), map %v (%v)", ref, gv, gok, wv, wok)
		}
	}
}

// TestEvaluatorMatchesEvaluate: a token's Source, read in place, gives the
// checks a map of its claims gives, failures and their diagnoses included,
// and an Explain function sees the claims.
func TestEvaluatorMatchesEvaluate(t *testing.T) {
	payloads := []string{
		`{"groups":["IT","Everyone"]}`, `{"groups":["IT"]}`, `{}`, `{"groups":"IT"}`, `{"groups":{"IT":{}}}`,
		`{"groups":[1,"IT"]}`, `{"groups":[true]}`, `{"groups":null}`, `{"roles":["IT"]}`,
		`{"realm_access":{"roles":["IT","Admins"]}}`, `{"groups":["Admins","IT","Everyone"]}`,
		`{"groups":[]}`, `{"groups":[ "IT" , "IT","\u0045veryone" ]}`, `{"groups":["IT",["Everyone"]]}`,
		`{"groups":["\u0049T","Admins"]}`, `{"groups":["Everyone","IT"],"x":1}`,
	}
	var explained []string
	explain := func(g string, s []Source) string {
		explained = append(explained, fmt.Sprint(g, s[0].Claims))
		return "explained"
	}
	exps := []Expectations{
		{ExpectGroups: []string{"IT", "Everyone"}},
		{ExpectGroups: []string{" IT", "IT", ""}, ForbidGroups: []string{"Admins"}, ExactGroups: true},
		{ForbidGroups: []string{"Admins"}, GroupsClaim: "/realm_access/roles"},
		{ExpectGroups: []string{"IT"}, GroupsClaim: "roles", Explain: explain},
		{ExpectGroups: []string{"IT"}, GroupsFrom: []string{SourceAccessToken}},
		{},
	}
	for _, p := range payloads {
		cs, err := decodeClaims([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		tok := &Token{claims: cs}
		for i, e := range exps {
			explained = nil
			want := e.Evaluate([]Source{{Name: SourceIDToken, Claims: tok.Claims(), Verified: true}})
			wantExplained := explained
			explained = nil
			dst := []Check{{Name: "first"}}
			got := e.Evaluator().AppendChecks(dst, []Source{tok.Source(SourceIDToken)})
			if !reflect.DeepEqual(got[1:], []Check(want)) && !(len(want) == 0 && len(got) == 1) {
				t.Errorf("%s, expectations %d:\n got %+v\nwant %+v", p, i, got[1:], want)
			}
			if got[0].Name != "first" {
				t.Errorf("%s: AppendChecks overwrote the caller's checks", p)
			}
			if !reflect.DeepEqual(explained, wantExplained) {
				t.Errorf("%s: Explain saw %v, want %v", p, explained, wantExplained)
			}
		}
	}
}

// FuzzDecodeClaims holds decodeClaims to decodeObject: the same errors, the
// same claims.
func FuzzDecodeClaims(f *testing.F) {
	for _, s := range claimsCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameDecoding(t, data)
	})
}

// TestRegisteredKinds holds the one-pass type check of a claims set to the
// lists checkRegisteredTypes walks: each registered claim must have the
// type those lists give it, and a claims set breaking any of them must
// fail the one pass (and so be checked in order, for the message).
func TestRegisteredKinds(t *testing.T) {
	if len(registeredKinds) != numRegistered {
		t.Fatalf("registeredKinds has %d entries for %d registered claims", len(registeredKinds), numRegistered)
	}
	want := map[string]byte{"aud": 'a'}
	for _, n := range stringClaims {
		want[n] = 's'
	}
	for _, n := range dateClaims {
		want[n] = 'd'
	}
	for _, n := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "azp", "nonce", "at_hash", "c_hash",
		"auth_time", "scope", "scp", "_claim_names", "_claim_sources"} {
		r := regIndex(n)
		if r < 0 {
			t.Fatalf("%s: not registered", n)
		}
		k, ok := want[n]
		if !ok {
			k = '-'
		}
		if registeredKinds[r] != k {
			t.Errorf("%s: registeredKinds %c, want %c", n, registeredKinds[r], k)
		}
		bad := map[byte]string{'s': `1`, 'd': `"soon"`, 'a': `[1]`}[k]
		if bad == "" {
			continue
		}
		cs, err := decodeClaims([]byte(`{"` + n + `":` + bad + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if cs.registeredTypesOK() {
			t.Errorf("%s: %s passes the one-pass type check", n, bad)
		}
		if err := checkClaimTypes(cs); err == nil {
			t.Errorf("%s: %s passes checkClaimTypes", n, bad)
		}
	}
	for _, ok := range []string{`{"iss":"a","sub":"b","aud":"c","exp":1,"iat":2,"nonce":null,"scope":["x"]}`, `{"exp":-1e15,"nbf":1e15}`} {
		cs, err := decodeClaims([]byte(ok))
		if err != nil || !cs.registeredTypesOK() {
			t.Errorf("%s: one-pass type check fails (%v)", ok, err)
		}
	}
	cs, _ := decodeClaims([]byte(`{"exp":1e16}`))
	if cs.registeredTypesOK() {
		t.Error("exp 1e16 passes the one-pass type check")
	}
}
