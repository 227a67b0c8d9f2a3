package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/calletl/calletl/queries"
)

// TestServeBrowser drives the etl serve page in a real headless chromium
// (make test-browser installs it): pick a report in the catalogue, change
// the dates in the form, run it, and download its CSV and XLSX files,
// which must hold what etl report gives for those dates.
func TestServeBrowser(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("chromium not installed: make test-browser installs it")
	}
	srv, e, _ := newServeTest(t)
	r, err := Find(queries.FS(), "daily_summary")
	if err != nil {
		t.Fatal(err)
	}
	res := query(t, e, r, map[string]string{"from": "2026-11-21", "to": "2026-11-21"})
	var wantCSV bytes.Buffer
	if err := res.Write(&wantCSV, "csv"); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	downloads := filepath.Join(dir, "downloads")
	// A guard against a browser that never answers, not a speed assertion.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.UserDataDir(filepath.Join(dir, "profile")), chromedp.Flag("disable-gpu", true))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	err = chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior:      browser.SetDownloadBehaviorBehaviorAllowAndName,
				DownloadPath:  downloads,
				EventsEnabled: new(true),
			})
			return err
		}),
		chromedp.Click(chromedp.CSS(`nav a[href="/?report=daily_summary"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="from"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name="from"]`), "2026-11-21"),
		chromedp.SetValue(chromedp.CSS(`input[name="to"]`), "2026-11-21"),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The report's page already shows its result for the default dates:
	// wait for the page the form loads, not for the one it replaces.
	if _, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(`button[type="submit"]`))); err != nil {
		t.Fatalf("submitting the form: %v", err)
	}
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`p.downloads`))); err != nil {
		t.Fatal(err)
	}
	location, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if count := text(`p.count`); count != "1 row" || !strings.Contains(location, "from=2026-11-21") || !strings.Contains(location, "to=2026-11-21") {
		t.Errorf("after changing the dates: %q at %s, want 1 row", count, location)
	}
	if title := text(`figcaption`); title != "calls by date and direction" {
		t.Errorf("chart caption %q", title)
	}
	download := func(link string) []byte {
		t.Helper()
		progress := chromedp.Events(bctx, browser.DownloadProgress)
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(link))); err != nil {
			t.Fatal(err)
		}
		for ev, err := range progress {
			if err != nil {
				t.Fatalf("%s: %v", link, err)
			}
			if ev.State == browser.DownloadProgressStateCompleted {
				b, err := os.ReadFile(filepath.Join(downloads, ev.GUID))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
		t.Fatalf("%s: no download completed", link)
		return nil
	}
	if got := download(`p.downloads a[href^="/download/daily_summary.csv"]`); string(got) != wantCSV.String() {
		t.Errorf("downloaded CSV:\n%s\nwant\n%s", got, wantCSV.String())
	}
	got := download(`p.downloads a[href^="/download/daily_summary.xlsx"]`)
	f, err := excelize.OpenReader(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("downloaded XLSX: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("daily_summary")
	if err != nil || len(rows) != 2 || rows[1][0] != "2026-11-21" {
		t.Errorf("downloaded XLSX rows %q, %v; want the header and 2026-11-21's row", rows, err)
	}
}
