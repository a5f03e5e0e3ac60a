package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// JUnit XML as the schema CI systems read it (the Jenkins/Surefire
// dialect): one testsuite, one testcase per check.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Errors  int          `xml:"errors,attr"`
	Time    string       `xml:"time,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Fails     int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
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
	doc := junitSuites{Name: "claimcheck"}
	var total time.Duration
	for _, s := range suites {
		js := junitSuite{Name: s.Name, Time: seconds(s.Duration), Timestamp: started.UTC().Format("2006-01-02T15:04:05")}
		for _, c := range s.Report.Checks {
			jc := junitCase{Name: checkName(c), ClassName: s.Name, Time: "0"}
			if !c.OK {
				jc.Failure = &junitProblem{Message: c.Detail, Type: "expectation", Text: c.Detail}
				js.Fails++
			}
			js.Cases = append(js.Cases, jc)
		}
		if e := s.Report.Error; e != nil {
			js.Cases = append(js.Cases, junitCase{Name: "run", ClassName: s.Name, Time: seconds(s.Duration),
				Error: &junitProblem{Message: e.Message, Type: string(e.Class), Text: fmt.Sprintf("%s (exit %d): %s", e.Class, e.Class.ExitCode(), e.Message)}})
			js.Errors++
		}
		js.Tests = len(js.Cases)
		doc.Suites = append(doc.Suites, js)
		doc.Tests += js.Tests
		doc.Fails += js.Fails
		doc.Errors += js.Errors
		total += s.Duration
	}
	doc.Time = seconds(total)
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

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
