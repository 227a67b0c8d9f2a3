package report

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/calletl/calletl/queries"
)

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 7, []float64{0, 2, 4, 6, 8}},
		{0, 10, []float64{0, 2, 4, 6, 8, 10}},
		{0, 13, []float64{0, 5, 10, 15}},
		{0, 1, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0, 0, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0, 4.0001, []float64{0, 1, 2, 3, 4, 5}},
		{0, 2480, []float64{0, 500, 1000, 1500, 2000, 2500}},
		{-3, 9, []float64{-5, 0, 5, 10}},
		{-3, 7, []float64{-4, -2, 0, 2, 4, 6, 8}},
		{0, 0.0333, []float64{0, 0.01, 0.02, 0.03, 0.04}},
		{0, 123456, []float64{0, 50000, 100000, 150000}},
	} {
		got := niceTicks(tc.lo, tc.hi, 5)
		for i := range got { // compare at a precision the labels show
			got[i] = float64(int64(got[i]*1e6+0.5*sign(got[i]))) / 1e6
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("niceTicks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    float64
		dec  int
		want string
	}{{1500, 0, "1,500"}, {150000, 0, "150,000"}, {0.25, 2, "0.25"}, {-2000, 0, "-2,000"}, {0, 0, "0"}, {999, 0, "999"}} {
		if got := formatTick(tc.v, tc.dec); got != tc.want {
			t.Errorf("formatTick(%v, %d) = %q, want %q", tc.v, tc.dec, got, tc.want)
		}
	}
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// TestChartReadable: round y ticks, axis titles with units, and a hover
// title on every point, for a line chart (daily_summary) and a bar chart.
func TestChartReadable(t *testing.T) {
	page, res := dailySummaryHTML(t)
	svg := page[strings.Index(page, "<svg"):strings.Index(page, "</svg>")]
	// Every point is a circle with a title: one per (date, direction) row.
	titles := regexp.MustCompile(`<circle [^>]*><title>([^<]*)</title></circle>`).FindAllStringSubmatch(svg, -1)
	points := map[string]bool{}
	for _, row := range cells(res) {
		points[row[0]+" "+row[2]] = true // date, direction
	}
	if len(titles) != len(points) || strings.Count(svg, "<circle") != len(titles) {
		t.Errorf("%d titled points (%d circles), want %d", len(titles), strings.Count(svg, "<circle"), len(points))
	}
	if !strings.Contains(svg, "<title>outgoing, 2026-11-20: 6 calls</title>") {
		t.Errorf("no title for the 6 outgoing calls of 2026-11-20:\n%q", titles)
	}
	for _, want := range []string{">date (day, business time zone)</text>", ">calls (count)</text>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("no axis title %q", want)
		}
	}
	ticks := regexp.MustCompile(`text-anchor="end">([^<]*)</text>`).FindAllStringSubmatch(svg, -1)
	var labels []string
	for _, m := range ticks {
		labels = append(labels, m[1])
	}
	if want := []string{"0", "2", "4", "6"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("y ticks %q, want %q", labels, want)
	}

	bars := &Result{Columns: []string{"employee", "talk_min"}, Types: []string{"VARCHAR", "DECIMAL(18,2)"},
		Rows: [][]any{{"Anna", decimal(1250, 2)}, {"Boris", decimal(30000, 2)}, {"Vera", nil}}}
	var b bytes.Buffer
	if err := bars.WriteHTML(&b, "t", &Chart{X: "employee", Y: "talk_min", Kind: "bar"}); err != nil {
		t.Fatal(err)
	}
	bp := b.String()
	if n := strings.Count(bp, `"><title>`); n != 2 || strings.Contains(bp, "<polyline") {
		t.Errorf("bar chart: %d titled bars, want 2 and no line", n)
	}
	for _, want := range []string{"<title>Boris: 300 minutes</title>", ">talk_min (minutes)</text>", ">employee</text>", ">100</text>", ">300</text>"} {
		if !strings.Contains(bp, want) {
			t.Errorf("bar chart lacks %q", want)
		}
	}
}

// TestHTMLGolden pins the whole daily_summary page; regenerate with -update
// after a deliberate change and look at the page (make test-browser takes
// a screenshot).
func TestHTMLGolden(t *testing.T) {
	page, _ := dailySummaryHTML(t)
	golden(t, "daily_summary.html", []byte(page))
}

// TestShippedCharts: the reports that declare a chart, with their units.
func TestShippedCharts(t *testing.T) {
	want := map[string]Chart{
		"daily_summary":       {X: "date", Y: "calls", Series: "direction"},
		"cost_reconciliation": {X: "date", Y: "cost", Series: "account", YUnit: "account currency"},
		"missed_calls":        {X: "date", Y: "missed", Series: "mcn_number"},
		"agent_activity":      {X: "employee", Y: "calls", Kind: "bar"},
		"autocall_results":    {X: "date", Y: "success", YUnit: "successful calls"},
	}
	cat, err := Catalogue(queries.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cat {
		w, ok := want[r.Name]
		switch {
		case !ok && r.Chart != nil:
			t.Errorf("%s: unexpected chart %+v", r.Name, *r.Chart)
		case ok && (r.Chart == nil || *r.Chart != w):
			t.Errorf("%s: chart %+v, want %+v", r.Name, r.Chart, w)
		}
	}
}
