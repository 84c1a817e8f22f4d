package netsim

import (
	"strings"
	"testing"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"off", 0},
		{"Unlimited", 0},
		{"2mbit", 250_000},
		{"2Mbit/s", 250_000},
		{"256kbit", 32_000},
		{"1.5mbit", 187_500},
		{"1gbit", 125_000_000},
		{"8bit", 1},
		{"125000", 125_000},
		{"500B", 500},
		{"500KB", 500_000},
		{"500kB/s", 500_000},
		{"1MB", 1_000_000},
		{"1MiB", 1 << 20},
		{"64KiB", 64 << 10},
		{" 1GiB ", 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if err != nil {
				t.Fatalf("ParseRate(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseRate(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRateErrors(t *testing.T) {
	tests := []struct {
		in, want string // want is a substring of the error
	}{
		{"500k", "ambiguous"},
		{"2mbps", "ambiguous"},
		{"8Mb", "ambiguous"},
		{"1kb", "ambiguous"},
		{"3furlongs", "unknown unit"},
		{"", "not a number"},
		{"-1mbit", "not a number"},
		{"1.2.3mbit", "bad number"},
		{"1bit", "below one byte"},
		{"99999999999gbit", "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseRate(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseRate(%q) error = %v, want one containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0", 0, false},
		{"1500", 1500, false},
		{"64KiB", 64 << 10, false},
		{"100KB", 100_000, false},
		{"1MiB", 1 << 20, false},
		{"1mbit", 0, true}, // a size is never in bits
		{"64k", 0, true},
		{"-1", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFormatRateRoundTrip(t *testing.T) {
	for _, r := range []int64{0, 1, 125, 32_000, 250_000, 187_500, 1 << 20, 125_000_000, 123_456_789} {
		s := FormatRate(r)
		got, err := ParseRate(s)
		if err != nil || got != r {
			t.Errorf("ParseRate(FormatRate(%d) = %q) = %d, %v; want %d", r, s, got, err, r)
		}
	}
	if got, want := FormatRate(250_000), "2mbit"; got != want {
		t.Errorf("FormatRate(250000) = %q, want %q", got, want)
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"2mbit", "1.5Mbit/s", "500KB", "64KiB", "off", "500k", "1e9", ".5gbit"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseRate(s)
		if err != nil {
			return
		}
		if v < 0 {
			t.Fatalf("ParseRate(%q) = %d, want >= 0", s, v)
		}
		if v < 1<<50 { // float64 formatting is exact below 2^53
			if back, err := ParseRate(FormatRate(v)); err != nil || back != v {
				t.Fatalf("ParseRate(FormatRate(%d) = %q) = %d, %v", v, FormatRate(v), back, err)
			}
		}
	})
}
