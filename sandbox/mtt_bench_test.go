package sandbox

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// mttPager pages one (customer, type, day) the way the extractor does:
// ascending, 1000 rows, the next page from the last row's connect_time.
type mttPager struct {
	customer, typ string
	from, to      string
	done          bool
	rows          int
}

var connectTimeKey = []byte(`"customer_local_time":"`)

// next fetches one page; it returns the rows in it.
func (p *mttPager) next(b testing.TB, m *MTT) int {
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"getServiceHistoryByCustomer","params":`+
		`{"type":%q,"customer_name":%q,"date_from":%q,"date_to":%q,"record_count":1000,"order":"asc"}}`,
		p.typ, p.customer, p.from, p.to)
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
	out := w.Body.Bytes()
	if bytes.Contains(out, []byte(`"error"`)) {
		p.done = true
		return 0
	}
	n := bytes.Count(out, connectTimeKey)
	last := bytes.LastIndex(out, connectTimeKey)
	next := string(out[last+len(connectTimeKey) : last+len(connectTimeKey)+19])
	if n < 1000 {
		p.done = true
	} else if next == p.from {
		b.Fatalf("more than 1000 rows in the second %s", next)
	}
	p.from = next
	p.rows += n
	return n
}

// pageStreams pages every stream to its end, `workers` streams at a time,
// round-robin; it returns the pages and rows fetched.
func pageStreams(tb testing.TB, m *MTT, customers []string, day time.Time, workers int) (pages, rows int) {
	from, to := day.Format(mttTimeLayout), day.Add(24*time.Hour-time.Second).Format(mttTimeLayout)
	var queue []*mttPager
	for _, c := range customers {
		for _, typ := range mttTypes() {
			queue = append(queue, &mttPager{customer: c, typ: typ, from: from, to: to})
		}
	}
	active := []*mttPager{}
	for len(queue) > 0 || len(active) > 0 {
		for len(active) < workers && len(queue) > 0 {
			active, queue = append(active, queue[0]), queue[1:]
		}
		kept := active[:0]
		for _, p := range active {
			rows += p.next(tb, m)
			pages++
			if !p.done {
				kept = append(kept, p)
			}
		}
		active = kept
	}
	return pages, rows
}

// benchPaging pages every stream to its end, `workers` streams at a time,
// round-robin, and reports pages/s and rows/s.
func benchPaging(b *testing.B, cfg MTTConfig, workers int) {
	day := cfg.From.UTC().Truncate(24 * time.Hour)
	pages, rows := 0, 0
	for b.Loop() {
		p, r := pageStreams(b, NewMTT(cfg), cfg.Customers, day, workers)
		pages, rows = pages+p, rows+r
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(pages)/sec, "pages/s")
	b.ReportMetric(float64(rows)/sec, "rows/s")
	b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
}

// BenchmarkMTTHistoryPaging pages getServiceHistoryByCustomer through the
// emulator's handler: one customer with ~50k calls per type per day (one
// stream at a time, then all 4 types at once), one customer with ~400k per
// type per day with 4 streams (a day larger than the cache), and 200
// customers × 4 types × 1 day with 4 streams.
func BenchmarkMTTHistoryPaging(b *testing.B) {
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	many := make([]string, 200)
	for i := range many {
		many[i] = fmt.Sprintf("1100%05d", i)
	}
	cases := []struct {
		name      string
		customers []string
		perDay    int
		workers   int
	}{
		{"1cust-50k-1stream", []string{"110011256"}, 50_000, 1},
		{"1cust-50k-4streams", []string{"110011256"}, 50_000, 4},
		{"1cust-400k-4streams", []string{"110011256"}, 400_000, 4},
		{"200cust-2750-4streams", many, 2750, 4},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			benchPaging(b, MTTConfig{Seed: 1, Customers: c.customers, From: day, To: day, CallsPerDay: c.perDay}, c.workers)
		})
	}
}

// TestMTTLargeDaysGeneratedOnce: paging 4 types of a day at once, each day
// larger than the cache's bound in calls, generates each day once (it used
// to regenerate a whole day for every page), and serves every row.
func TestMTTLargeDaysGeneratedOnce(t *testing.T) {
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	cfg := MTTConfig{Seed: 3, Customers: []string{"110011256"}, From: day, To: day, CallsPerDay: 6000, BadRowsPerDay: 5}
	m := NewMTT(cfg)
	m.cacheCalls = 4000
	_, rows := pageStreams(t, m, cfg.Customers, day, 4)
	if got := m.builds.Load(); got != 4 {
		t.Errorf("generated %d days for 4 days of traffic", got)
	}
	// Pages overlap by the last second's rows; every truth row is served.
	if truth := len(NewMTT(cfg).Truth()); rows < truth {
		t.Errorf("served %d rows (with overlaps), truth has %d", rows, truth)
	}
}
