package report

import (
	_ "embed"
	"html/template"
	"io"
	"strconv"
	"strings"

	"roachwatch/detectors"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed once; html/template escapes every value by
// context, SVG text and attributes included.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"ts":     ts,
	"pct":    pct,
	"yesno":  yesNo,
	"status": statusText,
	"join":   func(s []string) string { return strings.Join(s, ", ") },
	"joinsc": func(s []string) string { return strings.Join(s, "; ") },
	"f":      func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"add":    func(a, b float64) float64 { return a + b },
	"div":    func(a, b int) int { return a / b },
	"plural": func(n int, noun string) string { return plural(int64(n), noun) },
}).Parse(htmlSource))

// htmlPage is what the template sees.
type htmlPage struct {
	R       *Report
	Sev     []sevKPI
	SevList []detectors.Severity
	Charts  struct{ Findings, Sessions, Principals, Matrix Chart }
	Shares  []shareTable
}

// sevKPI is one severity tile of the executive summary.
type sevKPI struct {
	Name, Colour, Delta string
	Current, Previous   int64
}

// shareTable is one "without TLS by ..." table.
type shareTable struct {
	Title string
	Rows  []ShareRow
}

// Count returns c's count of severity s (for the template).
func (htmlPage) Count(c SeverityCounts, s detectors.Severity) int64 { return c.Get(s) }

// Group returns the report's finding group id (for the template).
func (r *Report) Group(id string) FindingGroup { return r.group(id) }

// WriteHTML renders r as one self-contained HTML page: inline CSS, inline
// SVG charts, no script, no external resource. It prints readably
// (@media print) and every chart has a title, a description, axis labels,
// a legend and text labels so colour is never the only cue.
func WriteHTML(w io.Writer, r *Report) error {
	p := htmlPage{R: r, SevList: severities}
	for _, s := range severities {
		c, prev := r.Summary.Current.Get(s), r.Summary.PreviousPeriod.Get(s)
		p.Sev = append(p.Sev, sevKPI{Name: s.String(), Colour: sevColour[s], Current: c, Previous: prev, Delta: delta(c - prev)})
	}
	p.Charts.Findings = findingsChart(r)
	p.Charts.Sessions = sessionsChart(r)
	p.Charts.Principals = principalsChart(r)
	p.Charts.Matrix = matrixChart(r)
	p.Shares = []shareTable{{"user", r.TLS.ByUser}, {"application", r.TLS.ByApplication}, {"client network (/24)", r.TLS.ByNetwork}}
	return htmlTemplate.Execute(w, p)
}
