package verify

import (
	"errors"
	"strings"
	"sync"
)

// claimSet is a JWT claims set decoded in one pass by decodeClaims, under
// decodeObject's rules and with its errors: each top-level member's name,
// JSON type and place in the payload, and the value itself when it is a
// string or a number. Arrays and objects (groups, aud, nested claims) are
// decoded again, from their place, when something reads them, and the
// whole claims set as a map only for a caller that asks for one (Map):
// the checks of every token read registered claims only, and a stream of
// tokens must not pay for a map per token.
type claimSet struct {
	s       string // the payload; decoded strings are slices of it
	members []member
	// reg holds, for each registered claim of regIndex, 1 + its index in
	// members, or 0 when it is absent: the claim checks read a dozen of
	// them per token.
	reg  [numRegistered]int16
	once sync.Once
	m    map[string]any
}

// member is one top-level claim. kind is the JSON type: 's' string, 'n'
// number, 'b' true or false, 'z' null, 'a' array, 'o' object. str and num
// hold a string's or a number's value, boolean a boolean's; in a claimSet,
// start is where the value begins in the payload (an array or an object
// is decoded from there when read). Every token's claims set is an array
// of these: they hold nothing else.
type member struct {
	name string
	str  string
	num  float64
	// start fits in 32 bits (a token is at most maxTokenBytes), and with
	// the three bytes after it in one word: 48 bytes a member.
	start   int32
	kind    byte
	boolean bool
	// reg is the claim's regIndex, for a member of a claimSet.
	reg int8
}

// claims is what the claim checks read: a claimSet, or a map decoded
// elsewhere (a userinfo response) through mapClaims.
type claims interface {
	// get returns the member name, and whether it is there.
	get(name string) (*member, bool)
	// value returns the member's value as decodeObject would hold it.
	value(m *member) any
}

// smallObject is the number of members up to which decodeClaims finds a
// duplicate by comparing names rather than with a map.
const smallObject = 32

// decodeClaims decodes a claims set as decodeObject does — the same
// grammar, the same refusals with the same messages, in the same order —
// into a claimSet.
func decodeClaims(b []byte) (*claimSet, error) {
	cs := new(claimSet)
	if err := decodeClaimsInto(string(b), cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// decodeClaimsInto is decodeClaims into *cs, which must be the zero
// claimSet (one a parsed token holds, so that a token and its claims are
// one allocation).
func decodeClaimsInto(s string, cs *claimSet) error {
	d := decoder{s: s}
	d.space()
	if d.i >= len(s) || s[d.i] != '{' {
		return errors.New("is not a JSON object")
	}
	cs.s, cs.members = s, make([]member, 0, min(strings.Count(s, ":"), 64))
	if err := d.claimMembers(cs); err != nil {
		return err
	}
	d.space()
	if d.i != len(s) {
		return d.syntax()
	}
	return nil
}

// claimMembers is decoder.object at depth 0, recording members into cs;
// d.s[d.i] is '{'.
func (d *decoder) claimMembers(cs *claimSet) error {
	d.i++
	var seen map[string]struct{}
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return d.syntax()
		}
		k, err := d.key()
		if err != nil {
			return err
		}
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return d.syntax()
		}
		d.i++
		d.space()
		m := member{name: k, start: int32(d.i), reg: -1}
		if err := d.memberValue(&m); err != nil {
			return err
		}
		// As decodeObject does, a duplicate is found once its value is
		// read. A registered claim's earlier place is in reg; the others
		// are compared by name.
		r := regIndex(k)
		if r >= 0 {
			if cs.reg[r] != 0 {
				return &strictJSONError{"has a duplicate member " + quote(k)}
			}
		} else if len(cs.members) < smallObject {
			for i := range cs.members {
				if cs.members[i].name == k {
					return &strictJSONError{"has a duplicate member " + quote(k)}
				}
			}
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, 2*smallObject)
				for _, o := range cs.members {
					seen[o.name] = struct{}{}
				}
			}
			if _, dup := seen[k]; dup {
				return &strictJSONError{"has a duplicate member " + quote(k)}
			}
			seen[k] = struct{}{}
		}
		if r >= 0 {
			cs.reg[r] = int16(len(cs.members) + 1)
			m.reg = int8(r)
		}
		cs.members = append(cs.members, m)
		d.space()
		if d.i >= len(d.s) {
			return d.syntax()
		}
		switch d.s[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.syntax()
		}
	}
}

// memberValue reads a top-level member's value into m: strings and numbers
// kept, anything else validated as decoder.value(0) validates it.
func (d *decoder) memberValue(m *member) error {
	if d.i < len(d.s) {
		switch c := d.s[d.i]; {
		case c == '"':
			m.kind = 's'
			var err error
			m.str, err = d.str()
			return err
		case c == '-' || c >= '0' && c <= '9':
			m.kind = 'n'
			var err error
			m.num, err = d.number()
			return err
		case c == '{':
			m.kind = 'o'
		case c == '[':
			m.kind = 'a'
		case c == 't':
			m.kind, m.boolean = 'b', true
		case c == 'f':
			m.kind = 'b'
		case c == 'n':
			m.kind = 'z'
		}
	}
	d.lazy = m.kind == 'a' || m.kind == 'o'
	_, err := d.value(0)
	d.lazy = false
	return err
}

func (cs *claimSet) get(name string) (*member, bool) {
	if r := regIndex(name); r >= 0 {
		if i := cs.reg[r]; i > 0 {
			return &cs.members[i-1], true
		}
		return nil, false
	}
	for i := range cs.members {
		if cs.members[i].name == name {
			return &cs.members[i], true
		}
	}
	return nil, false
}

// numRegistered is the number of claims regIndex knows.
const numRegistered = 16

// registeredKinds holds, by regIndex, the JSON type a registered claim
// must have: 's' a string, 'd' a NumericDate, 'a' the audience (a string
// or an array); '-' any.
const registeredKinds = "ssaddds" + "ssssd" + "----"

// registeredTypesOK reports whether every registered claim present has
// its type (checkClaimTypes, in one pass over the members; only when one
// does not is the claim it names looked for again, in the order of the
// checks, for the message).
func (cs *claimSet) registeredTypesOK() bool {
	for i := range cs.members {
		m := &cs.members[i]
		if m.reg < 0 || m.kind == 'z' {
			continue
		}
		switch registeredKinds[m.reg] {
		case 's':
			if m.kind != 's' {
				return false
			}
		case 'd':
			if m.kind != 'n' || m.num < -1e15 || m.num > 1e15 {
				return false
			}
		case 'a':
			if m.kind == 'a' {
				var buf [4]string
				if _, ok := cs.strings(m, buf[:0]); !ok {
					return false
				}
			} else if m.kind != 's' {
				return false
			}
		}
	}
	return true
}

// regIndex numbers the claims the checks of every token read, or is -1.
func regIndex(name string) int {
	switch name {
	case "iss":
		return 0
	case "sub":
		return 1
	case "aud":
		return 2
	case "exp":
		return 3
	case "nbf":
		return 4
	case "iat":
		return 5
	case "jti":
		return 6
	case "azp":
		return 7
	case "nonce":
		return 8
	case "at_hash":
		return 9
	case "c_hash":
		return 10
	case "auth_time":
		return 11
	case "scope":
		return 12
	case "scp":
		return 13
	case "_claim_names":
		return 14
	case "_claim_sources":
		return 15
	}
	return -1
}

func (cs *claimSet) value(m *member) any {
	switch m.kind {
	case 's':
		return m.str
	case 'n':
		return m.num
	case 'b':
		return m.boolean
	case 'z':
		return nil
	}
	// Validated when the claims set was decoded: this cannot fail.
	d := decoder{s: cs.s, i: int(m.start)}
	v, _ := d.value(0)
	return v
}

// stringArray reports whether the array member m holds only strings.
func (cs *claimSet) stringArray(m *member) bool {
	return cs.eachString(m, func(string) bool { return true })
}

// arrayHas reports whether the array member m, of strings, holds s.
func (cs *claimSet) arrayHas(m *member, s string) bool {
	found := false
	cs.eachString(m, func(e string) bool {
		found = e == s
		return !found
	})
	return found
}

// strings appends to out the elements of the array member m when they
// are all strings, each a slice of the payload unless it holds escapes;
// ok is false for any other array. An empty array gives an empty, non-nil
// slice.
func (cs *claimSet) strings(m *member, out []string) ([]string, bool) {
	if out == nil {
		out = []string{}
	}
	if !cs.eachString(m, func(e string) bool {
		out = append(out, e)
		return true
	}) {
		return nil, false
	}
	return out, true
}

// eachString calls f with the elements of the array member m in order,
// while f returns true, and reports false when it meets an element that is
// not a string (f has then seen the strings before it).
func (cs *claimSet) eachString(m *member, f func(string) bool) bool {
	// Validated when the claims set was decoded: only the shape matters.
	d := decoder{s: cs.s, i: int(m.start) + 1}
	d.space()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		return true
	}
	for {
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return false
		}
		e, err := d.str()
		if err != nil {
			return false
		}
		if !f(e) {
			return true
		}
		d.space()
		if d.i >= len(d.s) {
			return false
		}
		switch d.s[d.i] {
		case ',':
			d.i++
		case ']':
			return true
		default:
			return false
		}
	}
}

// lookup is LookupClaim on the claims set, decoding only the top-level
// member ref names.
func (cs *claimSet) lookup(ref string) (any, bool) {
	name := ref
	if strings.HasPrefix(ref, "/") {
		name, _, _ = strings.Cut(ref[1:], "/")
		name = unescapePointer(name)
	}
	m, ok := cs.get(name)
	if !ok {
		return nil, false
	}
	v := cs.value(m)
	if name == ref {
		return v, true
	}
	// A JSON Pointer walks on from that member, as LookupClaim does.
	return LookupClaim(map[string]any{name: v}, ref)
}

// Map returns the claims set as decodeObject decodes it, built on first
// use and then shared: do not modify it.
func (cs *claimSet) Map() map[string]any {
	cs.once.Do(func() {
		// Validated when the claims set was decoded: this cannot fail.
		d := decoder{s: cs.s}
		d.space()
		cs.m, _ = d.object(0)
	})
	return cs.m
}

// mapClaims reads a decoded map as claims.
type mapClaims map[string]any

func (c mapClaims) get(name string) (*member, bool) {
	v, has := c[name]
	if !has {
		return nil, false
	}
	m := &member{name: name}
	switch x := v.(type) {
	case nil:
		m.kind = 'z'
	case string:
		m.kind, m.str = 's', x
	case float64:
		m.kind, m.num = 'n', x
	case bool:
		m.kind, m.boolean = 'b', x
	case []any:
		m.kind = 'a'
	default:
		m.kind = 'o'
	}
	return m, true
}

func (c mapClaims) value(m *member) any { return c[m.name] }
