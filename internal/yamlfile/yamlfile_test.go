package yamlfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

var testFormat = Format{Kind: "test file", Long: []string{"cases"}}

// list is a flow list of n one-letter items.
func list(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("a,", n), ",") + "]" }

// mapping is a flow mapping of n distinct keys.
func mapping(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("k" + strconv.Itoa(i) + ": 1")
	}
	b.WriteString("}")
	return b.String()
}

// padded is body followed by a comment that makes it size bytes long.
func padded(body string, size int) string {
	return body + "#" + strings.Repeat("x", size-len(body)-2) + "\n"
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // "" when the file is accepted
	}{
		{"a list at the limit", "groups: " + list(MaxItems) + "\n", ""},
		{"a list over the limit", "groups: " + list(MaxItems+1) + "\n", "f.yaml:1: groups: a list of 1001 items, more than the limit of 1000"},
		{"a nested list over the limit", "cases:\n  - name: a\n    claims:\n      - equals: " + list(MaxItems+1) + "\n", "f.yaml:4: cases[0].claims[0].equals: a list of 1001 items"},
		{"a block list over the limit", "groups:\n" + strings.Repeat("  - a\n", MaxItems+1), "f.yaml:2: groups: a list of 1001 items"},
		{"a long list where it may be long", "cases: " + list(MaxItems+1) + "\n", ""},
		{"a long list of the same name elsewhere", "defaults:\n  cases: " + list(MaxItems+1) + "\n", "defaults.cases: a list of 1001 items"},
		{"a mapping at the limit", "m: " + mapping(MaxItems) + "\n", ""},
		{"a mapping over the limit", "m: " + mapping(MaxItems+1) + "\n", "f.yaml:1: m: a mapping of 1001 keys, more than the limit of 1000"},
		{"a mapping over the limit in a long list", "cases:\n  - " + mapping(MaxItems+1) + "\n", "f.yaml:2: cases[0]: a mapping of 1001 keys"},
		{"a file at the size limit", padded("a: 1\n", MaxSize), ""},
		// Refused for its size before the parser sees that it is not YAML.
		{"a file over the size limit", padded("a: [\n", MaxSize+1), "f.yaml: larger than 1048576 bytes (1 MiB), the limit of a test file"},
		{"not YAML", "a: [\n", "f.yaml: not YAML: yaml: line 1:"},
		{"a recursive alias", "a: &x [*x]\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse("f.yaml", []byte(tt.body), testFormat)
			if tt.want == "" {
				if err != nil || doc == nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to contain %q", err, tt.want)
			}
			if failure.ClassOf(err) != failure.Usage || strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("not a one-line usage error: %q", err)
			}
		})
	}
}

// TestParseAliasBomb: aliases are not expanded in the node tree, so a
// "billion laughs" document is parsed in the time and memory of its text.
// (yaml.v3 refuses one when it is decoded into Go values: "excessive
// aliasing"; the parsers' tests cover that.)
func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " [")
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + strconv.Itoa(i-1))
		}
		b.WriteString("]\n")
	}
	start := time.Now()
	if _, err := Parse("f.yaml", []byte(b.String()), testFormat); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(padded("a: 1\n", size)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	at, over := write("at.yaml", MaxSize), write("over.yaml", MaxSize+1)
	if b, err := Read(at, testFormat); err != nil || len(b) != MaxSize {
		t.Errorf("at the limit: %d bytes, %v", len(b), err)
	}
	tests := []struct{ name, path, want string }{
		{"over the limit", over, over + ": larger than 1048576 bytes (1 MiB), the limit of a test file"},
		{"missing", filepath.Join(dir, "none.yaml"), "test file: open " + filepath.Join(dir, "none.yaml")},
		// Not a regular file: its size is unknown until read, and it is
		// read no further than the limit.
		{"endless", "/dev/zero", "/dev/zero: larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.path, testFormat)
			if err == nil || !strings.Contains(err.Error(), tt.want) || failure.ClassOf(err) != failure.Usage {
				t.Fatalf("err %v, want a usage error with %q", err, tt.want)
			}
		})
	}
}

func TestParseDuplicateKeys(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // "" when the file is accepted
	}{
		{"top level", "issuer: https://a.example\nclient_id: c\nissuer: https://b.example\n", `f.yaml:3: issuer: duplicate key "issuer" (first at line 1)`},
		{"nested", "defaults:\n  issuer: a\n  client_id: c\n  issuer: b\n", `f.yaml:4: defaults.issuer: duplicate key "issuer" (first at line 2)`},
		{"in a list's mapping", "cases:\n  - name: a\n  - name: b\n    user: x\n    name: c\n", `f.yaml:5: cases[1].name: duplicate key "name" (first at line 3)`},
		{"deep in a value", "cases:\n  - claims:\n      - equals: {a: {b: 1, c: 2, b: 3}}\n", `f.yaml:3: cases[0].claims[0].equals.a.b: duplicate key "b" (first at line 3)`},
		{"quoted and plain", "issuer: a\n\"issuer\": b\n", `f.yaml:2: issuer: duplicate key "issuer" (first at line 1)`},
		{"number and string", "m:\n  1: a\n  '1': b\n", `f.yaml:3: m.1: duplicate key "1" (first at line 2)`},
		{"through an alias", "m:\n  &k issuer: a\n  *k : b\n", `f.yaml:3: m.issuer: duplicate key "issuer" (first at line 2)`},
		{"without values", "a:\nb:\na:\n", `f.yaml:3: a: duplicate key "a" (first at line 1)`},
		{"merge keys", "x: &x {a: 1}\ny:\n  <<: *x\n  <<: *x\n", `f.yaml:4: y.<<: duplicate key "<<" (first at line 3)`},
		{"the same key in two mappings", "a: {x: 1}\nb: {x: 1}\n", ""},
		{"the same mapping in two list items", "cases:\n  - name: a\n  - name: a\n", ""},
		{"a list as a key", "m:\n  ? [a]\n  : 1\n", "f.yaml:2: m: a key must be a single value, not a list or mapping"},
		{"a mapping as a key through an alias", "a: &m {x: 1}\nb:\n  *m : 1\n", "f.yaml:3: b: a key must be a single value, not a list or mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParse(t, tt.body, tt.want) })
	}
}

// TestParseDocuments: a file is one YAML document. yaml.Unmarshal reads
// the first and drops the rest without a word, so a second issuer: after
// "---" was silently ignored.
func TestParseDocuments(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // "" when the file is accepted
	}{
		{"one document", "issuer: a\n", ""},
		{"a leading ---", "---\nissuer: a\n", ""},
		{"a leading --- after a comment", "# suite\n---\nissuer: a\n", ""},
		{"a trailing ...", "issuer: a\n...\n", ""},
		{"--- and ...", "---\nissuer: a\n...\n", ""},
		{"only comments", "# nothing\n", ""},
		{"a second document", "issuer: a\n---\nissuer: b\n", "f.yaml:2: a second YAML document starts here; a test file holds one document"},
		{"a second document after ...", "issuer: a\n...\n---\nissuer: b\n", "f.yaml:3: a second YAML document starts here; a test file holds one document"},
		{"a second document after a leading ---", "---\nissuer: a\nclient_id: c\n---\nissuer: b\n", "f.yaml:4: a second YAML document starts here; a test file holds one document"},
		// yaml.v3 reports an empty document after a trailing "---": it is
		// refused like any other, which keeps the rule one sentence long.
		{"an empty second document", "issuer: a\n---\n", "f.yaml:2: a second YAML document starts here; a test file holds one document"},
		{"a second document of a comment", "issuer: a\n---\n# b\n", "f.yaml:2: a second YAML document starts here; a test file holds one document"},
		{"a third document", "issuer: a\n---\n---\n", "f.yaml:2: a second YAML document starts here; a test file holds one document"},
		{"a second document that is not YAML", "issuer: a\n---\nb: [\n", "f.yaml: not YAML: yaml: line 3: did not find expected node content"},
		{"text after ...", "issuer: a\n...\nissuer: b\n", "f.yaml: not YAML: yaml: line 2: did not find expected <document start>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParse(t, tt.body, tt.want) })
	}
}

// checkParse parses body as f.yaml: accepted when want is "", else
// refused as a usage error with the message want.
func checkParse(t *testing.T, body, want string) {
	t.Helper()
	_, err := Parse("f.yaml", []byte(body), testFormat)
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	if err == nil || err.Error() != want {
		t.Fatalf("err %v, want %q", err, want)
	}
	if failure.ClassOf(err) != failure.Usage {
		t.Errorf("class %q, want usage", failure.ClassOf(err))
	}
}

// FuzzParse: no panic; a refused file is a one-line usage error; and a
// file Parse accepts has no key twice in a mapping as yaml.v3 itself sees
// it when it decodes the file into Go values ("already defined").
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"issuer: a\nissuer: b\n", "a: {b: 1, b: 2}\n", "- {a: 1}\n- {a: 1}\n", "&k a: 1\n*k : 2\n",
		"x: &x {a: 1}\ny:\n  <<: *x\n  a: 2\n", "a: &x [*x]\n", "? [a]\n: 1\n", "cases: [1, 2, 3]\n", "",
		"---\na: 1\n...\n", "a: 1\n---\nb: 2\n", "a: 1\n---\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse("f.yaml", data, testFormat)
		if err != nil {
			if failure.ClassOf(err) != failure.Usage || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("not a one-line usage error: %q", err)
			}
			return
		}
		for _, n := range doc.Content {
			var v any
			if err := n.Decode(&v); err != nil && strings.Contains(err.Error(), "already defined") {
				t.Fatalf("accepted a duplicate key: %v", err)
			}
		}
	})
}
