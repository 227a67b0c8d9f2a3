package voicebox

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/model"
)

var fuzzRows = []string{
	`{"id":2000100017,"campaignId":10017,"campaignName":"Опрос NPS","direction":"Исходящая","callerNumber":"74951234567","calledNumber":"89161234567","startTime":"2026-11-20T10:00:00+03:00","endTime":"2026-11-20T10:00:37+03:00","duration":37,"status":"ANSWERED","cost":"1,20","currency":"RUB"}`,
	`{"call_id":"c","start_time":1763622000000,"durationMs":"1500","amount":1e2,"campaign":{"id":1}}`,
	`{"date":"20.11.2026 08:05:09","billsec":"01:05","price":"1 234,5","callerNumber":{"number":7}}`,
	`{"startTime":"31.11.2026 25:61"}`,
	`[1]`, `null`, `{"id":{"x":[1,2]},"startTime":0}`,
}

// FuzzLiftRow: never panics; a row lifted without error has an id, a
// start in a plausible year, a known direction and non-negative durations,
// and keeps its bytes.
func FuzzLiftRow(f *testing.F) {
	for _, r := range fuzzRows {
		f.Add([]byte(r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := LiftRow(b, Moscow)
		if !bytes.Equal(r.Raw, b) {
			t.Fatal("Raw is not the input")
		}
		if err != nil {
			return
		}
		if r.ID == "" || r.Start.IsZero() || r.Start.Year() < minYear || r.Start.Year() >= maxYear ||
			(r.Direction != model.Incoming && r.Direction != model.Autocall) || r.Currency == "" {
			t.Fatalf("inconsistent row %+v", r)
		}
		if r.DurationS.Valid && r.DurationS.V < 0 || r.TalkS.Valid && r.TalkS.V < 0 {
			t.Fatal("negative duration")
		}
		c, d := Map(&MapContext{Customer: "1", Business: Moscow}, &r)
		if c.Date != d.Date || c.CallID != d.CallID || d.Raw != string(b) {
			t.Fatalf("mapping %+v %+v", c, d)
		}
	})
}

// FuzzParseContentRange: never panics; what parses is consistent and
// prints back to an equivalent header.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"numbers 0-99/1234", "numbers 100-199/*", "numbers */0", "bytes 1-1/2", "numbers 9-0/10", "x */*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cr, err := ParseContentRange(s)
		if err != nil {
			if !strings.Contains(err.Error(), "Content-Range") {
				t.Fatalf("error %q does not name the header", err)
			}
			return
		}
		if cr.HasRange && (cr.First < 0 || cr.Last < cr.First || cr.Total >= 0 && cr.Last >= cr.Total) || cr.Total < -1 ||
			!cr.HasRange && cr.Total < 0 {
			t.Fatalf("inconsistent %+v from %q", cr, s)
		}
		total := "*"
		if cr.Total >= 0 {
			total = strconv.Itoa(cr.Total)
		}
		rng := "*"
		if cr.HasRange {
			rng = strconv.Itoa(cr.First) + "-" + strconv.Itoa(cr.Last)
		}
		again, err := ParseContentRange(cr.Unit + " " + rng + "/" + total)
		if err != nil || again != cr {
			t.Fatalf("%+v does not round-trip: %+v %v", cr, again, err)
		}
	})
}

// FuzzDecodeList: never panics; an error quotes at most the body's start,
// and every element of a decoded list is valid JSON.
func FuzzDecodeList(f *testing.F) {
	for _, s := range []string{`[{"id":1}]`, `{"data":[1,2]}`, `{"data":{"items":[]}}`, `null`, `<html>`, `{"a":1}`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := DecodeList(b)
		if err != nil {
			if len(err.Error()) > 1000 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		for _, r := range rows {
			if len(bytes.TrimSpace(r)) == 0 {
				t.Fatal("empty element")
			}
		}
	})
}

// FuzzParseTime: never panics; a parsed time is UTC in a plausible year.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-20T10:00:00+03:00", "2026-11-20 10:00:00", "20.11.2026 10:00:00", "1763622000", "1763622000123", "0x1p40", "-0", "1e12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s, Moscow)
		if err != nil {
			return
		}
		if tm.Location() != time.UTC || tm.Year() < minYear || tm.Year() >= maxYear {
			t.Fatalf("%q → %v", s, tm)
		}
	})
}

// FuzzLiftBalance: never panics; a balance read has an upper-case currency
// and its raw text parses to the same amount.
func FuzzLiftBalance(f *testing.F) {
	for _, s := range []string{`{"balance": 123.45, "currency":"RUB"}`, `"0,91"`, `{"data":{"amount":"1 000,5"}}`, `7`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, raw, cur, err := LiftBalance(b)
		if err != nil {
			return
		}
		if cur == "" || cur != strings.ToUpper(cur) {
			t.Fatalf("currency %q", cur)
		}
		if again, err := parseMoney(raw); err != nil || again != m {
			t.Fatalf("raw %q → %v %v, balance %v", raw, again, err, m)
		}
	})
}
