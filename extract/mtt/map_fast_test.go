package mtt

import (
	"testing"
	"time"

	"github.com/calletl/calletl/model"
)

// parseTime accepts and rejects exactly what time.ParseInLocation does,
// with the same instant, in UTC and in a zone with DST gaps and overlaps.
func TestParseTimeMatchesParseInLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	for _, loc := range []*time.Location{time.UTC, ny} {
		for _, s := range []string{
			"2026-10-01 00:00:05", "2026-12-31 23:59:59", "2024-02-29 12:00:00", "0000-01-01 00:00:00",
			"2023-02-29 12:00:00", "2023-02-30 25:61:61", "2024-13-45 99:00:00", "0000-00-00 00:00:00",
			"2026-04-31 10:00:00", "2026-10-01 24:00:00", "2026-10-01 23:60:00", "2026-10-01 23:59:60",
			"2026-03-08 02:30:00", "2026-11-01 01:30:00", // New York: in the spring gap, in the autumn overlap
			"2026-10-01 00:00:05.5", "2026-10-01T00:00:05", "2026-10-01 0:00:05", "2026-1-01 00:00:05",
			"2026-10-01 00:00:0x", "+026-10-01 00:00:05", "2026-10-01 00:00:05 ", "", "abc",
		} {
			want, wantErr := time.ParseInLocation(timeLayout, s, loc)
			got, err := parseTime(s, loc)
			if (err != nil) != (wantErr != nil) || err != nil && err.Error() != wantErr.Error() || !got.Equal(want) || got.Location() != want.Location() {
				t.Errorf("%s %q: got %v, %v; want %v, %v", loc, s, got, err, want, wantErr)
			}
		}
	}
}

// businessDay is model.Day for every row, across day boundaries and back.
func TestBusinessDayMatchesModelDay(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Skip(err)
	}
	mc := &MapContext{Business: msk}
	start := time.Date(2026, 10, 1, 18, 0, 0, 0, time.UTC)
	for _, step := range []time.Duration{37 * time.Minute, -53 * time.Minute, 20*time.Hour + 59*time.Minute, time.Second} {
		for i := range 200 {
			at := start.Add(time.Duration(i) * step)
			if got, want := mc.businessDay(at), model.Day(at, msk); got != want {
				t.Fatalf("%v: %s, want %s", at, got, want)
			}
		}
	}
}
