package report

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"roachwatch/detectors"
)

// Chart is the geometry of one inline SVG chart. Charts are computed in
// Go and drawn by the html/template of the report, so every label taken
// from findings is escaped like the rest of the page. Every data mark
// carries data-series / data-day / data-key / data-value attributes.
type Chart struct {
	ID, Title, Desc string
	Width, Height   int
	Marks           []Mark
	Texts           []Text
	Lines           []Line
	Legend          []LegendItem
	Empty           string // shown instead of marks when there is no data
}

// Mark is one data rectangle.
type Mark struct {
	X, Y, W, H float64
	Fill       string
	Series     string
	Day, Key   string
	Value      int64
	Tip        string // tooltip (<title>)
}

// Text is one label.
type Text struct {
	X, Y   float64
	Anchor string // start, middle, end
	Class  string // axis, title, value, label
	Text   string
	Angle  int // rotation in degrees around (X, Y); 0 for none
}

// Line is an axis or grid line.
type Line struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

// LegendItem is a swatch and its text.
type LegendItem struct {
	X, Y  float64
	Fill  string
	Label string
}

// Okabe-Ito colours: distinguishable with the common colour-vision
// deficiencies. Every chart also labels its marks with text.
var sevColour = map[detectors.Severity]string{
	detectors.SeverityCritical: "#D55E00", // vermillion
	detectors.SeverityHigh:     "#E69F00", // orange
	detectors.SeverityMedium:   "#F0E442", // yellow
	detectors.SeverityLow:      "#56B4E9", // sky blue
	detectors.SeverityInfo:     "#999999", // grey
}

const (
	colTLS    = "#009E73" // bluish green
	colNonTLS = "#D55E00" // vermillion
	colOther  = "#999999"
	colBar    = "#0072B2" // blue
)

// plot is the drawing area inside a chart's margins.
type plot struct{ left, top, width, height float64 }

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v int64) int64 {
	if v <= 1 {
		return 1
	}
	p := int64(math.Pow(10, math.Floor(math.Log10(float64(v)))))
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// yAxis draws the value axis with ticks and a title.
func yAxis(c *Chart, p plot, maxV int64, title string) {
	c.Lines = append(c.Lines, Line{p.left, p.top, p.left, p.top + p.height, "axis"},
		Line{p.left, p.top + p.height, p.left + p.width, p.top + p.height, "axis"})
	step := max(niceMax(maxV)/5, 1)
	for v := int64(0); v <= maxV; v += step {
		y := p.top + p.height - float64(v)/float64(maxV)*p.height
		c.Lines = append(c.Lines, Line{p.left, y, p.left + p.width, y, "grid"})
		c.Texts = append(c.Texts, Text{X: p.left - 6, Y: y + 4, Anchor: "end", Class: "axis", Text: itoa(v)})
	}
	c.Texts = append(c.Texts, Text{X: 14, Y: p.top + p.height/2, Anchor: "middle", Class: "axis-title", Text: title, Angle: -90})
}

// stackedDays draws one stacked bar per day. series[i] names the value
// vals(day)[i] and colours[i] its fill.
func stackedDays(c *Chart, top float64, dayNames []string, series, labels, colours []string, vals func(i int) []int64, yTitle string) {
	p := plot{left: 56, top: top, width: float64(c.Width) - 76, height: float64(c.Height) - 90 - top}
	var maxV int64
	for i := range dayNames {
		var t int64
		for _, v := range vals(i) {
			t += v
		}
		maxV = max(maxV, t)
	}
	maxV = niceMax(maxV)
	yAxis(c, p, maxV, yTitle)
	slot := p.width / float64(max(len(dayNames), 1))
	bw := math.Min(slot*0.6, 60)
	for i, d := range dayNames {
		x := p.left + slot*float64(i) + (slot-bw)/2
		y := p.top + p.height
		var total int64
		for j, v := range vals(i) {
			if v == 0 {
				continue
			}
			total += v
			h := math.Max(float64(v)/float64(maxV)*p.height, 2) // never invisible
			y -= h
			c.Marks = append(c.Marks, Mark{X: x, Y: y, W: bw, H: h, Fill: colours[j], Series: series[j], Day: d, Value: v,
				Tip: fmt.Sprintf("%s, %s: %d", d, labels[j], v)})
			if h >= 14 {
				c.Texts = append(c.Texts, Text{X: x + bw/2, Y: y + h/2 + 4, Anchor: "middle", Class: "value", Text: itoa(v)})
			}
		}
		if total > 0 {
			c.Texts = append(c.Texts, Text{X: x + bw/2, Y: y - 4, Anchor: "middle", Class: "total", Text: itoa(total)})
		}
		c.Texts = append(c.Texts, Text{X: x + bw/2, Y: p.top + p.height + 14, Anchor: "end", Class: "axis", Text: d[5:], Angle: -45})
	}
	c.Texts = append(c.Texts, Text{X: p.left + p.width/2, Y: float64(c.Height) - 34, Anchor: "middle", Class: "axis-title", Text: "Day (UTC)"})
	legend(c, labels, colours, float64(c.Height)-18)
}

// legend lays the swatches out in one row at y.
func legend(c *Chart, labels, colours []string, y float64) {
	x := 56.0
	for i, l := range labels {
		c.Legend = append(c.Legend, LegendItem{X: x, Y: y - 10, Fill: colours[i], Label: l})
		x += 22 + float64(utf8.RuneCountInString(l))*7.5 + 18
	}
}

// findingsChart is "findings per day by severity".
func findingsChart(r *Report) Chart {
	c := Chart{ID: "chart-findings-per-day", Title: "Findings per day by severity",
		Desc: "Stacked bars: number of findings first seen on each UTC day, one segment per severity.", Width: 760, Height: 320}
	var series, colours []string
	for _, s := range severities {
		series = append(series, s.String())
		colours = append(colours, sevColour[s])
	}
	dayNames := make([]string, len(r.FindingsByDay))
	for i, d := range r.FindingsByDay {
		dayNames[i] = d.Day
	}
	if r.Summary.Findings == 0 {
		c.Empty = "No findings in this period."
	}
	stackedDays(&c, 40, dayNames, series, series, colours, func(i int) []int64 {
		out := make([]int64, len(severities))
		for j, s := range severities {
			out[j] = r.FindingsByDay[i].Counts.Get(s)
		}
		return out
	}, "Findings")
	return c
}

// sessionsChart is "TLS vs non-TLS sessions over time".
func sessionsChart(r *Report) Chart {
	c := Chart{ID: "chart-sessions", Title: "SQL sessions per day: TLS vs non-TLS",
		Desc: "Stacked bars: client authentications per UTC day by transport (hostssl, hostnossl, other).", Width: 760, Height: 320}
	if r.TLS.From != "events" {
		c.Empty = "No session data: pass --events to chart sessions by transport."
		return c
	}
	days := r.TLS.Daily
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = d.Day
	}
	stackedDays(&c, 60, names, []string{"tls", "non_tls", "other"}, []string{"TLS (hostssl)", "non-TLS (hostnossl)", "other"},
		[]string{colTLS, colNonTLS, colOther}, func(i int) []int64 {
			return []int64{days[i].TLS, days[i].NonTLS, days[i].Other}
		}, "Sessions")
	// Non-TLS sessions are few next to TLS ones: name them above each
	// bar, over its total.
	top := map[string]float64{}
	for _, m := range c.Marks {
		if t, ok := top[m.Day]; !ok || m.Y < t {
			top[m.Day] = m.Y
		}
	}
	for _, m := range c.Marks {
		if m.Series == "non_tls" {
			c.Texts = append(c.Texts, Text{X: m.X + m.W/2, Y: top[m.Day] - 20, Anchor: "middle", Class: "alert", Text: itoa(m.Value) + " non-TLS"})
		}
	}
	return c
}

// principalsChart is "top principals by sensitive column access".
func principalsChart(r *Report) Chart {
	n := len(r.Principals)
	c := Chart{ID: "chart-principals", Title: "Top principals by sensitive column access",
		Desc: "Horizontal bars: occurrences of findings naming sensitive columns, per user.", Width: 760, Height: 90 + 28*max(n, 1)}
	if n == 0 {
		c.Empty = "No finding names a sensitive column in this period."
		return c
	}
	p := plot{left: 200, top: 30, width: 480, height: float64(28 * n)}
	maxV := niceMax(r.Principals[0].Occurrences)
	c.Lines = append(c.Lines, Line{p.left, p.top, p.left, p.top + p.height, "axis"},
		Line{p.left, p.top + p.height, p.left + p.width, p.top + p.height, "axis"})
	for i, pr := range r.Principals {
		y := p.top + float64(i)*28 + 4
		w := math.Max(float64(pr.Occurrences)/float64(maxV)*p.width, 2)
		c.Marks = append(c.Marks, Mark{X: p.left, Y: y, W: w, H: 20, Fill: colBar, Series: "sensitive_access", Key: pr.User,
			Value: pr.Occurrences, Tip: fmt.Sprintf("%s: %d occurrences", pr.User, pr.Occurrences)})
		c.Texts = append(c.Texts, Text{X: p.left - 6, Y: y + 14, Anchor: "end", Class: "label", Text: clip(pr.User, 26)},
			Text{X: p.left + w + 6, Y: y + 14, Anchor: "start", Class: "value-out", Text: itoa(pr.Occurrences)})
	}
	c.Texts = append(c.Texts, Text{X: p.left + p.width/2, Y: p.top + p.height + 30, Anchor: "middle", Class: "axis-title",
		Text: "Occurrences (0 to " + itoa(maxV) + ")"},
		Text{X: p.left - 6, Y: p.top - 10, Anchor: "end", Class: "axis-title", Text: "User"})
	legend(&c, []string{"sensitive column accesses"}, []string{colBar}, float64(c.Height)-12)
	return c
}

// matrixChart is the rule x severity heatmap.
func matrixChart(r *Report) Chart {
	n := len(r.Matrix)
	c := Chart{ID: "chart-matrix", Title: "Rules × severity",
		Desc:  "Heatmap: findings per rule (rows) and severity (columns); darker is more, and every cell shows its count.",
		Width: 760, Height: 132 + 26*max(n, 1)}
	if n == 0 {
		c.Empty = "The rule catalog is empty."
		return c
	}
	left, top, cw := 150.0, 72.0, 110.0
	var maxV int64
	for _, m := range r.Matrix {
		for _, s := range severities {
			maxV = max(maxV, m.Counts.Get(s))
		}
	}
	for j, s := range severities {
		c.Texts = append(c.Texts, Text{X: left + cw*float64(j) + cw/2, Y: top - 8, Anchor: "middle", Class: "axis", Text: s.String()})
	}
	for i, m := range r.Matrix {
		y := top + float64(i)*26
		c.Texts = append(c.Texts, Text{X: left - 8, Y: y + 17, Anchor: "end", Class: "label", Text: m.RuleID})
		for j, s := range severities {
			v := m.Counts.Get(s)
			fill, cls := heat(v, maxV)
			c.Marks = append(c.Marks, Mark{X: left + cw*float64(j) + 1, Y: y + 1, W: cw - 2, H: 24, Fill: fill, Series: s.String(),
				Key: m.RuleID, Value: v, Tip: fmt.Sprintf("%s, %s: %d", m.RuleID, s, v)})
			c.Texts = append(c.Texts, Text{X: left + cw*float64(j) + cw/2, Y: y + 17, Anchor: "middle", Class: cls, Text: itoa(v)})
		}
	}
	c.Texts = append(c.Texts, Text{X: left + cw*2.5, Y: top - 30, Anchor: "middle", Class: "axis-title", Text: "Severity"},
		Text{X: left - 8, Y: top - 30, Anchor: "end", Class: "axis-title", Text: "Rule"})
	legend(&c, []string{"0", "few", "most"}, []string{heatScale[0], heatScale[2], heatScale[len(heatScale)-1]}, float64(c.Height)-12)
	return c
}

// heatScale is a sequential blue scale (light to dark), readable for
// colour-blind viewers and in greyscale.
var heatScale = []string{"#F7FBFF", "#C6DBEF", "#6BAED6", "#2171B5", "#08306B"}

// heat picks the fill of a count and the text class that contrasts.
func heat(v, maxV int64) (fill, textClass string) {
	if v == 0 || maxV == 0 {
		return heatScale[0], "cell"
	}
	i := 1 + int(float64(v)/float64(maxV)*float64(len(heatScale)-2)+0.5)
	i = min(i, len(heatScale)-1)
	if i >= 3 {
		return heatScale[i], "cell-dark"
	}
	return heatScale[i], "cell"
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
