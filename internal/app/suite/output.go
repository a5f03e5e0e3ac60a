package suite

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/report"
)

// WriteText writes the summary table: one row per case, then the totals.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tRESULT\tTIME\tDETAIL")
	for _, c := range r.Cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", oneLine(c.Name), c.resultWord(), c.duration.Round(time.Millisecond), c.detail())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var sel []string
	if r.Shard != "" {
		sel = append(sel, "shard "+r.Shard)
	}
	if r.Run != "" {
		sel = append(sel, "matching "+strconv.Quote(r.Run))
	}
	which := ""
	if len(sel) > 0 {
		which = " (" + strings.Join(sel, ", ") + ")"
	}
	fmt.Fprintf(w, "\n%d cases%s: %d passed, %d failed, %d errored in %s", r.Total, which, r.Passed, r.Failed, r.Errored, r.Duration.Round(time.Millisecond))
	if r.Worst != "" {
		fmt.Fprintf(w, "; worst: %s (exit %d)", r.Worst, r.ExitCode)
	}
	fmt.Fprintln(w)
	for _, is := range r.Issuers {
		fmt.Fprintf(w, "%s: %d requests", is.Issuer, is.Requests)
		if is.Retried429 > 0 {
			fmt.Fprintf(w, ", %d sent again after 429 Too Many Requests", is.Retried429)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func (c *CaseResult) resultWord() string {
	switch {
	case c.OK:
		return "pass"
	case c.Class == failure.Expectation:
		return "FAIL"
	}
	return "ERROR " + string(c.Class)
}

// detail is the first thing that went wrong, on one line.
func (c *CaseResult) detail() string {
	if c.Report == nil {
		return ""
	}
	if e := c.Report.Error; e != nil {
		return clip(oneLine(e.Message), 160)
	}
	var failed []string
	for _, ch := range c.Report.Checks {
		if !ch.OK {
			failed = append(failed, ch.Name+": "+ch.Detail)
		}
	}
	if len(failed) == 0 {
		return fmt.Sprintf("%d checks passed", len(c.Report.Checks))
	}
	s := failed[0]
	if len(failed) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(failed)-1)
	}
	return clip(oneLine(s), 160)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// WriteJSON writes the result as one JSON object.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteJUnit writes one testcase per case: a failed expectation is a
// <failure> listing every failed check, any other class an <error>.
func (r *Result) WriteJUnit(w io.Writer) error {
	name := "claimcheck " + r.File
	if r.Shard != "" {
		name += " shard " + r.Shard
	}
	if r.Run != "" {
		name += " matching " + strconv.Quote(r.Run)
	}
	s := report.JUnitTestSuite{
		Name: name, Tests: r.Total, Fails: r.Failed, Errors: r.Errored,
		Time: report.Seconds(r.Duration), Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
	}
	for _, c := range r.Cases {
		jc := report.JUnitCase{Name: xmlSafe(c.Name), ClassName: xmlSafe("claimcheck." + r.File), Time: report.Seconds(c.duration)}
		var lines []string
		if c.Report != nil {
			for _, ch := range c.Report.Checks {
				mark := "ok  "
				if !ch.OK {
					mark = "FAIL"
				}
				line := fmt.Sprintf("%s %s", mark, ch.Name)
				if ch.Source != "" {
					line += " [" + ch.Source + "]"
				}
				if ch.Detail != "" {
					line += ": " + ch.Detail
				}
				lines = append(lines, xmlSafe(oneLine(line)))
			}
			for _, n := range c.Report.Notes {
				lines = append(lines, xmlSafe("note: "+oneLine(n)))
			}
		}
		switch {
		case c.OK:
			jc.SystemOut = strings.Join(lines, "\n")
		case c.Class == failure.Expectation:
			failed := 0
			for _, ch := range c.Report.Checks {
				if !ch.OK {
					failed++
				}
			}
			jc.Failure = &report.JUnitProblem{Message: fmt.Sprintf("%d check(s) failed", failed), Type: string(c.Class), Text: strings.Join(lines, "\n")}
		default:
			msg := ""
			if c.Report != nil && c.Report.Error != nil {
				msg = xmlSafe(oneLine(c.Report.Error.Message))
			}
			jc.Error = &report.JUnitProblem{Message: msg, Type: string(c.Class), Text: strings.Join(append(lines, msg), "\n")}
		}
		s.Cases = append(s.Cases, jc)
	}
	doc := report.JUnitDoc{Name: "claimcheck", Tests: s.Tests, Fails: s.Fails, Errors: s.Errors, Time: s.Time, Suites: []report.JUnitTestSuite{s}}
	return doc.Write(w)
}

// xmlSafe drops the characters XML 1.0 cannot carry at all (encoding/xml
// escapes the rest but would write these as U+FFFD or fail).
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, s)
}
