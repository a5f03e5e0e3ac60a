package stream

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

// FuzzReadLines fuzzes how a token stream is cut into lines: every
// non-blank line comes out once, in order, numbered by its line in the
// input, trimmed; blank lines are skipped but counted; a line is marked
// oversize (and its text dropped) only when it is longer than
// MaxToken, and always when it is more than 2 bytes longer (a blank
// line that long, too: its text is not kept to tell).
func FuzzReadLines(f *testing.F) {
	for _, s := range []string{
		"a.b.c\n\nd.e.f\r\n  g.h.i  \n",
		"no newline at the end",
		"\n\n\n",
		"",
		" \t\r\n\v\f\n",
		strings.Repeat("x", MaxToken) + "\n" + "after\n",
		strings.Repeat("y", MaxToken+3) + "\nafter",
		"a\x00b\nc\xffd\n",
		strings.Repeat(" ", MaxToken+1) + "\nx\n",
		strings.Repeat(" ", MaxToken+2) + "\nx\n",
		strings.Repeat(" ", MaxToken+3) + "\nx\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []inLine
		err := readLines(context.Background(), bytes.NewReader(data), func(j *streamJob) bool {
			got = append(got, j.lines...)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		// The reference: split on \n, number from 1, skip the blank ones.
		var want []inLine
		lines := bytes.Split(data, []byte("\n"))
		if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1] // the final newline ends the last line
		}
		// A blank line of MaxToken+1 or +2 bytes may come out as
		// either (skipped, or oversize): the reader decides by its buffer.
		ambiguous := func(l []byte) bool {
			return len(bytes.TrimSpace(l)) == 0 && len(l) > MaxToken && len(l) <= MaxToken+2
		}
		for i, l := range lines {
			if trimmed := bytes.TrimSpace(l); !ambiguous(l) && (len(trimmed) > 0 || len(l) > MaxToken) {
				want = append(want, inLine{index: i + 1, raw: string(trimmed)})
			}
		}
		got = slices.DeleteFunc(got, func(g inLine) bool { return ambiguous(lines[g.index-1]) })
		if len(got) != len(want) {
			t.Fatalf("%d lines, want %d: %+v", len(got), len(want), got)
		}
		for i, g := range got {
			w, l := want[i], lines[want[i].index-1]
			switch {
			case g.index != w.index:
				t.Fatalf("line %d numbered %d, want %d", i, g.index, w.index)
			case g.oversize && len(l) <= MaxToken:
				t.Fatalf("line %d of %d bytes marked oversize", w.index, len(l))
			case !g.oversize && len(l) > MaxToken+2:
				t.Fatalf("line %d of %d bytes not marked oversize", w.index, len(l))
			case g.oversize && g.raw != "":
				t.Fatalf("oversize line %d kept its text", w.index)
			case !g.oversize && g.raw != w.raw:
				t.Fatalf("line %d read as %q, want %q", w.index, g.raw, w.raw)
			}
		}
	})
}
