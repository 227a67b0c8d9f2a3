package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// WriteHTML writes the result to w as one self-contained HTML page: the
// title, an inline SVG line chart of chart (none when chart is nil), then
// the whole table. The page loads nothing and runs no script; every value
// is escaped by html/template. The chart has one line (or, with kind=bar,
// one bar per category) per distinct value of chart.Series (in order of
// first appearance), the distinct values of chart.X as categories in row
// order, and chart.Y summed per (X, Series) on a scale that includes 0;
// NULL values of Y are skipped. The y axis has ticks at round numbers
// (steps of 1, 2 or 5 times a power of ten); both axes carry a title with
// the unit (chart.YUnit, else inferred from the column: *_min minutes, *_s
// seconds, *_bytes bytes, *_rate a share, an integer column a count; a DATE
// x axis is the day in the business time zone); every point or bar has an
// SVG <title>, which browsers show on hover: series, x and value with its
// unit. Write's "html" format is WriteHTML without a title or chart.
func (r *Result) WriteHTML(w io.Writer, title string, chart *Chart) error {
	bw := bufio.NewWriter(w)
	err := r.writeHTML(bw, title, chart)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}

// htmlPage is the data of pageTemplate.
type htmlPage struct {
	Title   string
	Chart   *svgChart
	Columns []htmlColumn
	Rows    [][]htmlCell
	Count   string
}

type htmlColumn struct {
	Name    string
	Numeric bool
}

type htmlCell struct {
	Text    string
	Null    bool
	Numeric bool
}

// svgChart is a chart laid out in SVG user units.
type svgChart struct {
	Width, Height          int
	Left, Right, Top, Base float64 // the plot area
	Caption                string
	XTitle, YTitle         string // axis titles, with units
	XTicks, YTicks         []svgTick
	Lines                  []svgLine
	Bars                   []svgBar
}

type svgTick struct {
	Pos   float64 // x for XTicks, y for YTicks
	Label string
}

type svgLine struct {
	Name   string
	Color  string
	Points string // the polyline's points attribute; "" for a bar chart
	Dots   []svgPoint
}

// svgPoint is one data point; Title is its hover text (an SVG <title>).
type svgPoint struct {
	X, Y  float64
	Title string
}

// svgBar is one bar of a bar chart.
type svgBar struct {
	X, Y, W, H float64
	Color      string
	Title      string
}

// palette colours the chart's lines, cycling.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

func (r *Result) writeHTML(w io.Writer, title string, chart *Chart) error {
	if title == "" {
		title = "calletl report"
	}
	p, err := r.page(title, chart)
	if err != nil {
		return err
	}
	return pageTemplate.Execute(w, p)
}

// page lays out the result as the data of the page templates.
func (r *Result) page(title string, chart *Chart) (htmlPage, error) {
	p := htmlPage{Title: title}
	if chart != nil {
		c, err := r.layoutChart(chart)
		if err != nil {
			return p, err
		}
		p.Chart = c
	}
	for i, c := range r.Columns {
		p.Columns = append(p.Columns, htmlColumn{Name: c, Numeric: numeric(r.typeOf(i))})
	}
	for _, row := range r.Rows {
		cells := make([]htmlCell, len(r.Columns))
		for i := range r.Columns {
			var v any
			if i < len(row) {
				v = row[i]
			}
			s, ok := text(v, r.typeOf(i))
			if !ok {
				s = "NULL"
			}
			cells[i] = htmlCell{Text: s, Null: !ok, Numeric: numeric(r.typeOf(i))}
		}
		p.Rows = append(p.Rows, cells)
	}
	p.Count = fmt.Sprintf("%d rows", len(r.Rows))
	if len(r.Rows) == 1 {
		p.Count = "1 row"
	}
	return p, nil
}

// column returns the index of the column called name.
func (r *Result) column(role, name string) (int, error) {
	i := slices.Index(r.Columns, name)
	if i < 0 {
		return 0, fmt.Errorf("chart %s column %q is not in the result", role, name)
	}
	return i, nil
}

// chartNumber converts a Y value; ok is false for NULL and non-numbers.
func chartNumber(v any) (f float64, ok bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case *big.Int:
		if x == nil {
			return 0, false
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	case duckdb.Decimal:
		f, err := strconv.ParseFloat(decimalString(x), 64)
		return f, err == nil
	}
	return 0, false
}

// layoutChart sums Y per (X, Series) and lays the lines (or bars) out.
func (r *Result) layoutChart(c *Chart) (*svgChart, error) {
	xi, err := r.column("x", c.X)
	if err != nil {
		return nil, err
	}
	yi, err := r.column("y", c.Y)
	if err != nil {
		return nil, err
	}
	si := -1
	if c.Series != "" {
		if si, err = r.column("series", c.Series); err != nil {
			return nil, err
		}
	}
	label := func(row []any, i int) string {
		s, ok := text(row[i], r.typeOf(i))
		if !ok {
			return "NULL"
		}
		return s
	}
	type key struct{ x, s string }
	var xs, series []string
	xIndex := map[string]int{}
	sums := map[key]float64{}
	present := map[key]bool{}
	for _, row := range r.Rows {
		x := label(row, xi)
		if _, ok := xIndex[x]; !ok {
			xIndex[x] = len(xs)
			xs = append(xs, x)
		}
		s := c.Y
		if si >= 0 {
			s = label(row, si)
		}
		if !slices.Contains(series, s) {
			series = append(series, s)
		}
		if row[yi] == nil {
			continue
		}
		f, ok := chartNumber(row[yi])
		if !ok {
			return nil, fmt.Errorf("chart y column %q: %T is not a number", c.Y, row[yi])
		}
		sums[key{x, s}] += f
		present[key{x, s}] = true
	}
	lo, hi := 0.0, 0.0
	for _, v := range sums {
		lo, hi = min(lo, v), max(hi, v)
	}
	ticks := niceTicks(lo, hi, 5)
	lo, hi = ticks[0], ticks[len(ticks)-1]
	decimals := tickDecimals(ticks)
	unit := c.YUnit
	if unit == "" {
		unit = inferUnit(c.Y, r.typeOf(yi))
	}

	g := &svgChart{Width: 1120, Height: 400, Left: 90, Right: 940, Top: 20, Base: 320}
	g.Caption = c.Y + " by " + c.X
	if c.Series != "" {
		g.Caption += " and " + c.Series
	}
	g.XTitle = c.X
	if r.typeOf(xi) == "DATE" {
		g.XTitle += " (day, business time zone)"
	}
	g.YTitle = c.Y
	if unit != "" {
		g.YTitle += " (" + unit + ")"
	}
	bar := c.Kind == "bar"
	band := (g.Right - g.Left) / float64(max(len(xs), 1))
	xPos := func(i int) float64 {
		switch {
		case bar:
			return g.Left + band*(float64(i)+0.5)
		case len(xs) <= 1:
			return (g.Left + g.Right) / 2
		}
		return g.Left + float64(i)*(g.Right-g.Left)/float64(len(xs)-1)
	}
	yPos := func(v float64) float64 { return g.Base - (v-lo)/(hi-lo)*(g.Base-g.Top) }
	step := max(1, (len(xs)+7)/8) // at most about 8 labels
	for i := 0; i < len(xs); i += step {
		g.XTicks = append(g.XTicks, svgTick{Pos: xPos(i), Label: xs[i]})
	}
	for _, v := range ticks {
		g.YTicks = append(g.YTicks, svgTick{Pos: yPos(v), Label: formatTick(v, decimals)})
	}
	valueUnit := unit // in a point's title: "6 calls", "300 minutes"
	if unit == "count" {
		valueUnit = c.Y
	}
	title := func(s, x string, v float64) string {
		t := x + ": " + formatValue(v)
		if valueUnit != "" {
			t += " " + valueUnit
		}
		if c.Series != "" {
			t = s + ", " + t
		}
		return t
	}
	barW := band * 0.8 / float64(max(len(series), 1))
	for n, s := range series {
		l := svgLine{Name: s, Color: palette[n%len(palette)]}
		var pts []byte
		for i, x := range xs {
			k := key{x, s}
			if !present[k] {
				continue
			}
			if bar {
				y0, y1 := yPos(max(lo, 0)), yPos(sums[k])
				g.Bars = append(g.Bars, svgBar{
					X: xPos(i) - band*0.4 + float64(n)*barW, Y: min(y0, y1), W: barW, H: math.Abs(y1 - y0),
					Color: l.Color, Title: title(s, x, sums[k]),
				})
				continue
			}
			p := svgPoint{X: xPos(i), Y: yPos(sums[k]), Title: title(s, x, sums[k])}
			l.Dots = append(l.Dots, p)
			pts = fmt.Appendf(pts, "%.1f,%.1f ", p.X, p.Y)
		}
		l.Points = string(pts)
		g.Lines = append(g.Lines, l)
	}
	return g, nil
}

// niceTicks returns the y axis ticks for values within [lo, hi]: at most
// about target+1 round numbers, a step of 1, 2 or 5 times a power of ten,
// from a multiple of the step at or below lo to one at or above hi. An
// empty range becomes [lo, lo+1].
func niceTicks(lo, hi float64, target int) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(target)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw*(1-1e-9) {
			step = m * mag
			break
		}
	}
	first := math.Floor(lo/step+1e-9) * step
	last := math.Ceil(hi/step-1e-9) * step
	var ticks []float64
	for i := 0; ; i++ {
		v := first + float64(i)*step
		if math.Abs(v) < step*1e-9 {
			v = 0 // no "-0"
		}
		ticks = append(ticks, v)
		if v >= last-step*1e-9 {
			return ticks
		}
	}
}

// tickDecimals returns the decimals the tick labels need: none for a step
// of 1 or more, one for 0.5, two for 0.05 or 0.02, ….
func tickDecimals(ticks []float64) int {
	if len(ticks) < 2 {
		return 0
	}
	step := ticks[1] - ticks[0]
	return max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
}

// formatTick formats a tick label with thousands separators: 12,500.
func formatTick(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// formatValue formats a point's value for its hover title: at most four
// decimals, no trailing zeros.
func formatValue(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64)
}

// inferUnit names the unit of a chart's y column from its name and type:
// *_min minutes, *_s seconds, *_bytes bytes, *_rate a share of 1, an
// integer column a count of what it names, anything else none.
func inferUnit(column, typ string) string {
	switch {
	case strings.HasSuffix(column, "_min"):
		return "minutes"
	case strings.HasSuffix(column, "_s"):
		return "seconds"
	case strings.HasSuffix(column, "_bytes"):
		return "bytes"
	case strings.HasSuffix(column, "_rate"):
		return "share, 0 to 1"
	}
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT":
		return "count"
	}
	return ""
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"f":   func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"add": func(a, b float64) float64 { return a + b },
	"mid": func(a, b float64) float64 { return (a + b) / 2 },
	"legendY": func(i int) float64 {
		return float64(20 + 18*i)
	},
}).Parse(`{{define "style"}}body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; }
svg { display: block; margin: 1em 0; max-width: 100%; height: auto; }
svg text { font-size: 12px; fill: #333; }
svg text.axis { font-size: 13px; font-weight: 600; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.null { color: #999; font-style: italic; }
tr:nth-child(even) td { background: #fafafa; }
.count { color: #666; }
{{end}}{{define "chart"}}<figure>
<svg xmlns="http://www.w3.org/2000/svg" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Caption}}">
<title>{{.Caption}}</title>
{{$c := .}}{{range .YTicks}}<line x1="{{f $c.Left}}" y1="{{f .Pos}}" x2="{{f $c.Right}}" y2="{{f .Pos}}" stroke="#e4e4e4"/>
<text x="{{f (add $c.Left -6)}}" y="{{f (add .Pos 4)}}" text-anchor="end">{{.Label}}</text>
{{end}}<line x1="{{f .Left}}" y1="{{f .Base}}" x2="{{f .Right}}" y2="{{f .Base}}" stroke="#444"/>
<line x1="{{f .Left}}" y1="{{f .Top}}" x2="{{f .Left}}" y2="{{f .Base}}" stroke="#444"/>
{{range .XTicks}}<line x1="{{f .Pos}}" y1="{{f $c.Base}}" x2="{{f .Pos}}" y2="{{f (add $c.Base 5)}}" stroke="#444"/>
<text x="{{f .Pos}}" y="{{f (add $c.Base 20)}}" text-anchor="middle">{{.Label}}</text>
{{end}}<text class="axis" x="{{f (mid $c.Left $c.Right)}}" y="{{f (add $c.Base 48)}}" text-anchor="middle">{{.XTitle}}</text>
<text class="axis" x="{{f 16.0}}" y="{{f (mid $c.Top $c.Base)}}" text-anchor="middle" transform="rotate(-90 {{f 16.0}} {{f (mid $c.Top $c.Base)}})">{{.YTitle}}</text>
{{range .Bars}}<rect x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}" fill="{{.Color}}"><title>{{.Title}}</title></rect>
{{end}}{{range .Lines}}{{if .Points}}<polyline fill="none" stroke="{{.Color}}" stroke-width="2" points="{{.Points}}"/>
{{end}}{{$color := .Color}}{{range .Dots}}<circle cx="{{f .X}}" cy="{{f .Y}}" r="4" fill="{{$color}}"><title>{{.Title}}</title></circle>
{{end}}{{end}}{{range $i, $l := .Lines}}<rect x="{{f (add $c.Right 20)}}" y="{{f (add (legendY $i) -10)}}" width="12" height="12" fill="{{$l.Color}}"/>
<text x="{{f (add $c.Right 38)}}" y="{{f (legendY $i)}}">{{$l.Name}}</text>
{{end}}</svg>
<figcaption>{{.Caption}}</figcaption>
</figure>
{{end}}{{define "table"}}<table>
<thead><tr>{{range .Columns}}<th>{{.Name}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td{{if .Null}} class="null"{{else if .Numeric}} class="num"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
<p class="count">{{.Count}}</p>
{{end}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
{{template "style"}}</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{with .Chart}}{{template "chart" .}}{{end}}{{template "table" .}}</body>
</html>
`))
