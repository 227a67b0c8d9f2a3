package report

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/queries"
)

const svgNS = `xmlns="http://www.w3.org/2000/svg"`

// dailySummaryHTML renders daily_summary over sampleLake with its chart.
func dailySummaryHTML(t *testing.T) (string, *Result) {
	t.Helper()
	lake := t.TempDir()
	sampleLake(t, lake)
	e := openEngine(t, lake, "Europe/Moscow")
	r, err := Find(queries.FS(), "daily_summary")
	if err != nil {
		t.Fatal(err)
	}
	if r.Chart == nil || *r.Chart != (Chart{X: "date", Y: "calls", Series: "direction"}) {
		t.Fatalf("daily_summary chart = %+v", r.Chart)
	}
	res := query(t, e, r, nil)
	var b bytes.Buffer
	if err := res.WriteHTML(&b, r.Title, r.Chart); err != nil {
		t.Fatal(err)
	}
	return b.String(), res
}

func TestHTMLDailySummary(t *testing.T) {
	page, res := dailySummaryHTML(t)
	if !strings.Contains(page, "<svg") {
		t.Fatal("no <svg in the page")
	}
	directions := []string{"incoming", "missed", "outgoing", "forwarded"}
	if n := strings.Count(page, "<polyline"); n != len(directions) {
		t.Errorf("%d polylines, want %d (one per direction)", n, len(directions))
	}
	for _, d := range directions {
		if !strings.Contains(page, ">"+d+"</text>") {
			t.Errorf("no legend entry for %s", d)
		}
	}
	for _, row := range cells(res) {
		for _, c := range row {
			if !strings.Contains(page, ">"+c+"</td>") {
				t.Errorf("table cell %q missing", c)
			}
		}
	}
	for _, c := range res.Columns {
		if !strings.Contains(page, "<th>"+c+"</th>") {
			t.Errorf("column %q missing", c)
		}
	}
	if !strings.Contains(page, "Calls per day, source and direction.") {
		t.Error("no title")
	}
	rest := strings.Replace(page, svgNS, "", 1)
	if strings.Contains(rest, "http://") || strings.Contains(rest, "https://") {
		t.Error("page refers to an external URL")
	}
	if strings.Contains(page, "<script") {
		t.Error("page has a script")
	}
}

func TestHTMLEscapes(t *testing.T) {
	res := &Result{
		Columns: []string{"name<b>", "n"},
		Types:   []string{"VARCHAR", "DECIMAL(18,2)"},
		Rows: [][]any{
			{"<script>alert(1)</script>", decimal(150, 2)},
			{"x&y", nil},
		},
	}
	var b bytes.Buffer
	if err := res.WriteHTML(&b, `<script>t</script>`, &Chart{X: "name<b>", Y: "n"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "<b>", "x&y"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "x&amp;y", "1.50", ">NULL</td>", "<polyline"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHTMLWithoutChart(t *testing.T) {
	res := &Result{Columns: []string{"a"}, Types: []string{"BIGINT"}, Rows: [][]any{{int64(42)}}}
	for _, write := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return res.Write(b, "html") },
		func(b *bytes.Buffer) error { return res.WriteHTML(b, "T", nil) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		if strings.Contains(page, "<svg") || !strings.Contains(page, `<td class="num">42</td>`) || !strings.Contains(page, "1 row") {
			t.Errorf("page without chart:\n%s", page)
		}
	}
}

func TestHTMLChartErrors(t *testing.T) {
	res := &Result{Columns: []string{"d", "s"}, Types: []string{"VARCHAR", "VARCHAR"}, Rows: [][]any{{"a", "b"}}}
	for _, c := range []*Chart{{X: "nope", Y: "s"}, {X: "d", Y: "s"}, {X: "d", Y: "s", Series: "zz"}} {
		if err := res.WriteHTML(&bytes.Buffer{}, "", c); err == nil {
			t.Errorf("chart %+v: no error", c)
		}
	}
}

func TestChartHeader(t *testing.T) {
	r, err := parseReport("x.sql", "-- x: T\n-- chart: x=day y=n\n-- param: a DATE = NULL\nSELECT 1")
	if err != nil || r.Chart == nil || *r.Chart != (Chart{X: "day", Y: "n"}) || len(r.Params) != 1 {
		t.Fatalf("parse = %+v, %v", r, err)
	}
	r, err = Find(queries.FS(), "cost_reconciliation")
	if err != nil || r.Chart == nil || *r.Chart != (Chart{X: "date", Y: "cost", Series: "account", YUnit: "account currency"}) {
		t.Errorf("cost_reconciliation chart = %+v, %v", r.Chart, err)
	}
	for _, line := range []string{
		"-- chart:",
		"-- chart: x=a",
		"-- chart: y=a",
		"-- chart: x=a y=b z=c",
		"-- chart: x=a y=b x=c",
		"-- chart: x=a y",
		"-- chart: x= y=b",
	} {
		_, err := parseReport("x.sql", "-- x: T\n"+line+"\nSELECT 1")
		var he *HeaderError
		if !errors.As(err, &he) || he.Line != 2 {
			t.Errorf("%q: error %v, want a *HeaderError on line 2", line, err)
		}
	}
	_, err = parseReport("x.sql", "-- x: T\n-- chart: x=a y=b\n-- chart: x=a y=b\nSELECT 1")
	var he *HeaderError
	if !errors.As(err, &he) || he.Line != 3 {
		t.Errorf("duplicate chart: error %v", err)
	}
}

func TestHTMLScreenshot(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("chromium not installed: make test-browser installs it")
	}
	page, _ := dailySummaryHTML(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "page.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--screenshot="+shot, "--window-size=1200,900", "file://"+file)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	fi, err := os.Stat(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out)
	}
	if fi.Size() <= 10<<10 {
		t.Errorf("screenshot is %d bytes, want > 10 KB", fi.Size())
	}
}
