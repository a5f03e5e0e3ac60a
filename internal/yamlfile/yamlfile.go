// Package yamlfile reads the YAML files a user gives claimcheck (suite and
// configuration files) into a node tree, with the limits and the strictness
// both need: a cap on the file's size, read so that a larger file is never
// read whole; a cap on the length of every list and mapping; and no key
// twice in a mapping, at any depth. (Decoded into a yaml.Node, a mapping
// keeps both; the parsers, reading keys in order, would take the last, and a
// second issuer: once sent a run to another host.) A file is one YAML
// document: yaml.Unmarshal reads the first and drops the rest unseen.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/claimcheck/claimcheck/failure"
)

// MaxSize is the largest file accepted, in bytes. A suite of a thousand
// cases as the README writes them is about 300 KiB; the node tree of 1 MiB
// of the densest YAML (a flow list of one-character items) takes about
// 120 MB, which is as far as a file on disk should move claimcheck's
// memory.
const MaxSize = 1 << 20

// MaxItems is the most elements a list, or keys a mapping, may hold, outside
// the lists a Format names as long. No setting of claimcheck needs more
// groups, scopes or claims than that, and yaml.v3 checks a mapping's keys
// for duplicates in quadratic time when it decodes one into a Go value.
// The command line holds its list flags and CLAIMCHECK_* variables to the
// same limit, so that a list is bounded however it is given.
const MaxItems = 1000

// Format describes a kind of file for Parse.
type Format struct {
	// Kind names the file in messages: "suite file".
	Kind string
	// Long are the field paths (as messages write them, e.g. "cases") of
	// the lists that may hold more than MaxItems elements; the file's size
	// is their limit.
	Long []string
}

// Read reads the file at path, refusing one larger than MaxSize without
// reading more than MaxSize+1 bytes of it (it may be a device or a pipe
// that never ends).
func Read(path string, f Format) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, failure.New(failure.Usage, f.Kind, "%w", err)
	}
	defer file.Close()
	if st, err := file.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxSize {
		return nil, tooLarge(path, f)
	}
	b, err := io.ReadAll(io.LimitReader(file, MaxSize+1))
	if err != nil {
		return nil, failure.New(failure.Usage, f.Kind, "%w", err)
	}
	if len(b) > MaxSize {
		return nil, tooLarge(path, f)
	}
	return b, nil
}

func tooLarge(path string, f Format) error {
	return failure.New(failure.Usage, path, "larger than %d bytes (1 MiB), the limit of a %s", MaxSize, f.Kind)
}

// Parse parses data, the contents of the file path, into a YAML document
// node and checks it against the limits and for duplicate keys. Every
// problem is a one-line failure.Usage error naming the file and the line.
// A document with no content has no Content.
//
// The file must hold one document. A "---" before it and a "..." after it
// are allowed; a "---" after it starts a second document, which is refused
// with the line of that "---" even when nothing follows it, as yaml.v3
// reports an empty document there too.
func Parse(path string, data []byte, f Format) (*yaml.Node, error) {
	// Before parsing: the node tree is a hundred times larger than its text.
	if len(data) > MaxSize {
		return nil, tooLarge(path, f)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, failure.New(failure.Usage, path, "not YAML: %s", oneLine(err.Error()))
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, failure.New(failure.Usage, fmt.Sprintf("%s:%d", path, next.Line), "a second YAML document starts here; a %s holds one document", f.Kind)
	case !errors.Is(err, io.EOF):
		return nil, failure.New(failure.Usage, path, "not YAML: %s", oneLine(err.Error()))
	}
	c := checker{path: path, long: f.Long}
	for _, n := range doc.Content {
		if err := c.check(n, ""); err != nil {
			return nil, err
		}
	}
	return &doc, nil
}

type checker struct {
	path string
	long []string
}

func (c *checker) errorf(n *yaml.Node, field, format string, args ...any) error {
	where := fmt.Sprintf("%s:%d", c.path, n.Line)
	if field != "" {
		where += ": " + field
	}
	return failure.New(failure.Usage, where, format, args...)
}

// check walks n and what it holds. An alias is not followed: what it names
// is checked where it is defined, and following one could loop (&a [*a]).
// The YAML parser bounds the depth (10,000), and with it the recursion.
func (c *checker) check(n *yaml.Node, field string) error {
	switch n.Kind {
	case yaml.SequenceNode:
		if len(n.Content) > MaxItems && !slices.Contains(c.long, field) {
			return c.errorf(n, field, "a list of %d items, more than the limit of %d", len(n.Content), MaxItems)
		}
		for i, e := range n.Content {
			if err := c.check(e, fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		if keys := len(n.Content) / 2; keys > MaxItems {
			return c.errorf(n, field, "a mapping of %d keys, more than the limit of %d", keys, MaxItems)
		}
		first := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name, ok := keyName(k)
			if !ok {
				// Neither file has a use for one, and which two are the
				// same is anyone's guess.
				return c.errorf(k, field, "a key must be a single value, not a list or mapping")
			}
			sub := name
			if field != "" {
				sub = field + "." + name
			}
			if line, dup := first[name]; dup {
				return c.errorf(k, sub, "duplicate key %q (first at line %d)", name, line)
			}
			first[name] = k.Line
			if err := c.check(v, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// keyName is a mapping key as the parsers read it: a scalar's value, also
// through an alias. Keys "1" and 1 are the same name there, so they are
// duplicates here too. A list or mapping has no name.
func keyName(k *yaml.Node) (string, bool) {
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode {
		return "", false
	}
	return k.Value, true
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r", " "), "\n", " ")
}
