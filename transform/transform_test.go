package transform

import (
	"errors"
	"testing"

	"github.com/calletl/calletl/model"
)

func TestPhone(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"79161234567", "79161234567"},
		{"89161234567", "79161234567"},
		{"+7 (916) 123-45-67", "79161234567"},
		{"9161234567", "79161234567"},
		{"4951234567", "74951234567"},
		{"81049301234567", "49301234567"},
		{"0012", "0012"},
		{"101", "101"},
		{"", ""},
		{"anonymous", ""},
		{"883140584982783", "883140584982783"},
		{"12345678901234567890123456789012345", ""},
	}
	for _, tt := range tests {
		if got := Phone(tt.raw); got != tt.want {
			t.Errorf("Phone(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		in   string
		want model.Money
	}{
		{"2.48", 24800},
		{"0", 0},
		{"12.5", 125000},
		{"0,91", 9100},
		{"273,50", 2735000},
		{"3.41", 34100},
		{"-0.0001", -1},
		{"+1", 10000},
		{"1e2", 1000000},
		{"25e-3", 250},
		{"0.00005", 1},
		{"0.00004999", 0},
		{"-0.00005", -1},
		{"99999999999999.9999", 999999999999999999},
		{"1.", 10000},
		{".5", 5000},
	}
	for _, tt := range tests {
		got, err := Money(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Money(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "abc", "1.2.3", "1,2,3", "--1", "1e", "1e9999", "100000000000000", "99999999999999999999999", "NaN", "."} {
		if _, err := Money(in); !errors.Is(err, ErrMoney) {
			t.Errorf("Money(%q): err = %v, want ErrMoney", in, err)
		}
	}
}

func FuzzMoney(f *testing.F) {
	for _, s := range []string{"2.48", "0,91", "-1e-3", "99999999999999.9999", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Money(s)
		if err != nil {
			return
		}
		if m > 999_999_999_999_999_999 || m < -999_999_999_999_999_999 {
			t.Fatalf("Money(%q) = %d out of DECIMAL(18,4)", s, m)
		}
	})
}

func TestCauseLabel(t *testing.T) {
	if got := CauseLabel(16); got != "normal clearing" {
		t.Errorf("16 → %q", got)
	}
	for _, c := range []int{-1, 0, 4, 128, 1000} {
		if got := CauseLabel(c); got != "" {
			t.Errorf("%d → %q, want empty", c, got)
		}
	}
}

func TestGroupedMoney(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want model.Money
		ok   bool
	}{
		{" 1 234,50 ", 12345000, true},
		{"12\u00a0345.5", 123455000, true},
		{"1\u202f000", 10000000, true},
		{"2.48", 24800, true},
		{"", 0, false},
		{"1 2x", 0, false},
	} {
		got, err := GroupedMoney(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("GroupedMoney(%q) = %d, %v; want %d (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
