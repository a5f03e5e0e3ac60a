package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// JUnitDoc is a JUnit XML document in the dialect CI systems read (the
// Jenkins/Surefire schema). WriteJUnit fills one from reports; the suite
// runner fills one from its cases.
type JUnitDoc struct {
	XMLName xml.Name         `xml:"testsuites"`
	Name    string           `xml:"name,attr"`
	Tests   int              `xml:"tests,attr"`
	Fails   int              `xml:"failures,attr"`
	Errors  int              `xml:"errors,attr"`
	Time    string           `xml:"time,attr"`
	Suites  []JUnitTestSuite `xml:"testsuite"`
}

// JUnitTestSuite is a <testsuite>.
type JUnitTestSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Fails     int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []JUnitCase `xml:"testcase"`
}

// JUnitCase is a <testcase>: passed, or with a failure (an unmet
// expectation) or an error (anything else).
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitProblem `xml:"failure,omitempty"`
	Error     *JUnitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitProblem is a <failure> or an <error>.
type JUnitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnitSuite names a report in a JUnit file.
type JUnitSuite struct {
	Name     string
	Report   *Report
	Duration time.Duration
}

// WriteJUnit writes suites as one JUnit XML document. A check is a test
// case; a run that ended in an error gets a test case "run" carrying it.
func WriteJUnit(w io.Writer, suites []JUnitSuite, started time.Time) error {
	doc := JUnitDoc{Name: "claimcheck"}
	var total time.Duration
	for _, s := range suites {
		js := JUnitTestSuite{Name: s.Name, Time: Seconds(s.Duration), Timestamp: started.UTC().Format("2006-01-02T15:04:05")}
		for _, c := range s.Report.Checks {
			jc := JUnitCase{Name: checkName(c), ClassName: s.Name, Time: "0"}
			if !c.OK {
				jc.Failure = &JUnitProblem{Message: c.Detail, Type: "expectation", Text: c.Detail}
				js.Fails++
			}
			js.Cases = append(js.Cases, jc)
		}
		if e := s.Report.Error; e != nil {
			js.Cases = append(js.Cases, JUnitCase{Name: "run", ClassName: s.Name, Time: Seconds(s.Duration),
				Error: &JUnitProblem{Message: e.Message, Type: string(e.Class), Text: fmt.Sprintf("%s (exit %d): %s", e.Class, e.Class.ExitCode(), e.Message)}})
			js.Errors++
		}
		js.Tests = len(js.Cases)
		doc.Suites = append(doc.Suites, js)
		doc.Tests += js.Tests
		doc.Fails += js.Fails
		doc.Errors += js.Errors
		total += s.Duration
	}
	doc.Time = Seconds(total)
	return doc.Write(w)
}

// Write writes the document with its XML header.
func (doc *JUnitDoc) Write(w io.Writer) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Seconds formats a duration as JUnit's time attribute.
func Seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
